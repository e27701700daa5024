"""Clinician forms: a new patient (by form or by uploading a record or FHIR file), and a form for every
section of the record. Saving goes through the records service (`imnm.store.patients.create` /
`update` with the revision the form was opened on, so a change made meanwhile is a conflict, never a
silent overwrite); problems come from the record model with the wording of `imnm validate`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response

from imnm.api.auth import Ctx, need
from imnm.errors import InputError, Problem
from imnm.store.principal import Perm
from imnm.web import forms
from imnm.web.common import read_form, text
from imnm.web.templating import render

router = APIRouter(include_in_schema=False)
UPLOAD_SUFFIXES = (".yaml", ".yml", ".json", ".ndjson")


def _teams(ctx: Ctx) -> list[str]:
    from sqlalchemy import select

    from imnm.store.models import Team

    with ctx.reader() as s:
        rows = s.execute(
            select(Team.name).where(Team.id.in_(sorted(ctx.principal.team_ids) or [-1]))
        ).scalars()
        return sorted(rows)


def _new_page(
    request: Request,
    ctx: Ctx,
    bound: list[forms.Bound],
    *,
    problems: list[Problem] | None = None,
    upload_problems: list[Problem] | None = None,
    team: str = "",
    reason: str = "",
    status: int = 200,
) -> Response:
    return render(
        request,
        "patients/new.html",
        {
            "title": "New patient",
            "bound": bound,
            "problems": problems or [],
            "upload_problems": upload_problems or [],
            "teams": _teams(ctx),
            "team": team,
            "reason": reason,
        },
        status=status,
    )


@router.get("/patients/new")
def new_form(request: Request, ctx: Annotated[Ctx, Depends(need(Perm.PATIENT_WRITE))]) -> Response:
    section = forms.sections()["patient"]
    return _new_page(request, ctx, forms.bind(section.fields, {}))


def _create(ctx: Ctx, record: Any, team: str | None, reason: str) -> str:
    from imnm.store import patients as store

    with ctx.session() as s:
        p, _rev = store.create(
            s, ctx.principal, record, team=team or None, reason=reason or "created on the web"
        )
        assert ctx.trail is not None
        ctx.trail.patient_id, ctx.trail.revision = p.id, 1
        ctx.record(s, 303)
    return str(p.id)


@router.post("/patients/new")
async def create(
    request: Request, ctx: Annotated[Ctx, Depends(need(Perm.PATIENT_WRITE, audit="patient.create"))]
) -> Response:
    from imnm import services
    from imnm.store.users import ConflictError

    form = await read_form(request)
    section = forms.sections()["patient"]
    doc, bound = forms.read(section.fields, form)
    team, reason = text(form, "team", 100), text(form, "reason", 2000)
    try:
        record = services.parse_patient(doc)
        pid = _create(ctx, record, team, reason)
    except InputError as exc:
        problems = list(exc.problems)
        team_problems = [p for p in problems if p.path == "team"]
        loose = forms.attach(bound, [p for p in problems if p.path != "team"], "")
        return _new_page(
            request, ctx, bound, problems=loose + team_problems, team=team, reason=reason, status=422
        )
    except ConflictError as exc:
        return _new_page(
            request,
            ctx,
            bound,
            problems=[Problem("id", str(exc), exc.extra.get("fix"))],
            team=team,
            reason=reason,
            status=409,
        )
    return RedirectResponse(f"/patients/{pid}?saved=created", status_code=303)


@router.post("/patients/upload")
async def upload(
    request: Request, ctx: Annotated[Ctx, Depends(need(Perm.PATIENT_WRITE, audit="patient.create"))]
) -> Response:

    form = await read_form(request, files=1)
    try:
        return await _upload(request, ctx, form)
    finally:
        await form.close()


async def _upload(request: Request, ctx: Ctx, form: FormData) -> Response:
    from imnm import services
    from imnm.store.users import ConflictError

    file = form.get("file")
    team, reason = text(form, "team", 100), text(form, "reason", 2000)
    section = forms.sections()["patient"]
    bound = forms.bind(section.fields, {})
    if not isinstance(file, UploadFile) or not file.filename:
        problems = [
            Problem("file", "no file was chosen", "choose a record (.yaml, .json) or a FHIR bundle (.json)")
        ]
        return _new_page(request, ctx, bound, upload_problems=problems, team=team, reason=reason, status=422)
    name = Path(file.filename).name[:200]
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        problems = [
            Problem(
                "file",
                f"{name!r} is not a record file",
                "upload a .yaml, .yml or .json record, or a FHIR .json bundle",
                name,
            )
        ]
        return _new_page(request, ctx, bound, upload_problems=problems, team=team, reason=reason, status=422)
    data = await file.read()
    try:
        with tempfile.TemporaryDirectory(prefix="imnm-upload-") as tmp:
            path = Path(tmp) / f"upload{suffix}"
            path.write_bytes(data)
            try:
                record = services.load_patient(path)
            except InputError as exc:
                raise InputError(
                    [Problem(p.path, p.message, p.fix, p.value, name) for p in exc.problems], what=name
                ) from None
        pid = _create(ctx, record, team, reason or f"uploaded {name}")
    except InputError as exc:
        return _new_page(
            request, ctx, bound, upload_problems=list(exc.problems), team=team, reason=reason, status=422
        )
    except ConflictError as exc:
        return _new_page(
            request,
            ctx,
            bound,
            upload_problems=[Problem("id", str(exc), exc.extra.get("fix"))],
            team=team,
            reason=reason,
            status=409,
        )
    return RedirectResponse(f"/patients/{pid}?saved=created", status_code=303)


# ---------------------------------------------------------------- editing a section


def _section(name: str) -> forms.Section:
    found = forms.sections().get(name)
    if found is None:
        from imnm.store.users import NotFoundError

        raise NotFoundError(f"the record has no section {name!r}")
    return found


def _current(ctx: Ctx, patient_id: str) -> tuple[dict[str, Any], int, str | None]:
    from imnm.store import patients as store

    with ctx.reader() as s:
        p = store.visible(s, ctx.principal, patient_id)
        rev = store.revision(s, p)
        doc = store.document_of(rev)
    if ctx.trail is not None:
        ctx.trail.revision = rev.number
    return doc, rev.number, p.record_id


def _section_doc(section: forms.Section, doc: dict[str, Any], item: int | None) -> Any:
    if section.kind == "patient":
        return {f.name: doc.get(f.name) for f in section.fields}
    value = doc.get(section.id)
    if section.kind == "list":
        items = value or []
        return items[item] if item is not None and 0 <= item < len(items) else {}
    return value or {}


def _edit_page(
    request: Request,
    patient_id: str,
    record_id: str | None,
    section: forms.Section,
    doc: dict[str, Any],
    base: int,
    *,
    item: int | None,
    bound: list[forms.Bound] | None = None,
    problems: list[Problem] | None = None,
    reason: str = "",
    status: int = 200,
) -> Response:
    items = doc.get(section.id) if section.kind == "list" else None
    if bound is None:
        bound = forms.bind(section.fields, _section_doc(section, doc, item), shape=section.id == "visits")
    return render(
        request,
        "patients/edit.html",
        {
            "title": f"{section.title}: {record_id}",
            "pid": patient_id,
            "record_id": record_id,
            "section": section,
            "sections": list(forms.sections().values()),
            "bound": bound,
            "groups": _groups(bound),
            "problems": problems or [],
            "base": base,
            "item": item,
            "items": items,
            "item_rows": _item_rows(section, items or []),
            "reason": reason,
        },
        status=status,
    )


def _groups(bound: list[forms.Bound]) -> list[tuple[str | None, list[forms.Bound]]]:
    out: list[tuple[str | None, list[forms.Bound]]] = []
    for b in bound:
        if out and out[-1][0] == b.f.group:
            out[-1][1].append(b)
        else:
            out.append((b.f.group, [b]))
    return out


def _item_rows(section: forms.Section, items: list[Any]) -> list[str]:
    """One line per list item, for the list above the form."""
    out = []
    for it in items:
        flat = forms.flatten(it)
        parts = [
            f"{k}: {v}" for k, v in flat.items() if k != "ref" and not k.startswith(("mmt8.grades", "haq."))
        ]
        if any(k.startswith("mmt8.grades") for k in flat):
            parts.append("MMT-8 grades")
        if any(k.startswith("haq.") for k in flat):
            parts.append("HAQ items")
        out.append(", ".join(parts))
    return out


@router.get("/patients/{patient_id}/edit/{section}")
def edit_form(
    request: Request,
    patient_id: str,
    section: str,
    ctx: Annotated[Ctx, Depends(need(Perm.PATIENT_WRITE, audit="patient.edit_form"))],
    item: Annotated[int | None, Query(ge=0, le=100_000)] = None,
) -> Response:
    sec = _section(section)
    doc, base, record_id = _current(ctx, patient_id)
    if sec.kind == "list" and item is not None and item >= len(doc.get(sec.id) or []):
        from imnm.store.users import NotFoundError

        raise NotFoundError(f"{sec.title} has no item {item + 1}")
    return _edit_page(request, patient_id, record_id, sec, doc, base, item=item)


def _operations(
    section: forms.Section, value: dict[str, Any], action: str, item: int | None, doc: dict[str, Any]
) -> tuple[list[dict[str, Any]], str]:
    """The partial-update operations for this form, and the record path its fields live under."""
    from imnm.store.ops import BLOCKS, FIELDS, LIST_SECTIONS

    if section.kind == "patient":
        return [{"op": "set_field", "value": {"name": n, "value": value.get(n)}} for n in FIELDS], ""
    if section.kind == "fields":
        return [{"op": "set_section", "value": {"name": section.id, "value": value}}], f"{section.id}."
    if section.kind == "block":
        op = next(k for k, v in BLOCKS.items() if v == section.id)
        return [{"op": op, "value": value or None}], f"{section.id}."
    items = doc.get(section.id) or []
    if action == "remove" and item is not None:
        return [
            {"op": "remove_item", "value": {"section": section.id, "index": item}}
        ], f"{section.id}[{item}]."
    if action == "none_recorded":
        return [{"op": "set_section", "value": {"name": section.id, "value": []}}], f"{section.id}."
    if action == "list_unknown":
        return [{"op": "set_section", "value": {"name": section.id, "value": None}}], f"{section.id}."
    if item is not None:
        return [
            {"op": "replace_item", "value": {"section": section.id, "index": item, "value": value}}
        ], f"{section.id}[{item}]."
    op = next(k for k, v in LIST_SECTIONS.items() if v == section.id)
    return [{"op": op, "value": value}], f"{section.id}[{len(items)}]."


def _reason(section: forms.Section, action: str, item: int | None) -> str:
    if action == "remove":
        return f"{section.title}: removed item {(item or 0) + 1} (entered in error)"
    if action == "none_recorded":
        return f"{section.title}: recorded as none"
    if action == "list_unknown":
        return f"{section.title}: back to unknown"
    if section.kind == "list":
        return f"{section.title}: " + (
            "corrected item " + str((item or 0) + 1) if item is not None else "added an item"
        )
    return f"{section.title}: edited"


@router.post("/patients/{patient_id}/edit/{section}")
async def save(
    request: Request,
    patient_id: str,
    section: str,
    ctx: Annotated[Ctx, Depends(need(Perm.PATIENT_WRITE, audit="patient.update"))],
) -> Response:
    from imnm.store import patients as store
    from imnm.store.ops import UpdateError, parse_patch

    sec = _section(section)
    form: FormData = await read_form(request)
    action = text(form, "action", 20) or "save"
    item_text = text(form, "item", 10)
    item = int(item_text) if item_text.isdigit() else None
    base_text = text(form, "base", 10)
    reason = text(form, "reason", 2000) or _reason(sec, action, item)
    value, bound = forms.read(sec.fields, form)
    doc, current, record_id = _current(ctx, patient_id)
    if not base_text.isdigit():
        raise InputError(
            [Problem("base", "the form does not say which revision it was opened on", "open the form again")],
            what="form",
        )
    base = int(base_text)
    ops, prefix = _operations(sec, value, action, item, doc)
    try:
        body = parse_patch({"reason": reason, "operations": ops})
        with ctx.session() as s:
            p = store.visible(s, ctx.principal, patient_id)
            rev = store.update(s, ctx.principal, p, base=base, body=body)
            assert ctx.trail is not None
            ctx.trail.revision = rev.number
            ctx.trail.detail = f"{sec.id} {action}"
            ctx.record(s, 303)
    except UpdateError as exc:
        shown = [
            Problem(path, p.message, p.fix, p.value)
            for p, path in zip(exc.problems, exc.record_paths, strict=True)
        ]
        loose = forms.attach(bound, shown, prefix)
        return _edit_page(
            request,
            patient_id,
            record_id,
            sec,
            doc,
            current,
            item=item,
            bound=bound,
            problems=loose,
            reason=text(form, "reason", 2000),
            status=422,
        )
    except InputError as exc:
        return _edit_page(
            request,
            patient_id,
            record_id,
            sec,
            doc,
            current,
            item=item,
            bound=bound,
            problems=list(exc.problems),
            reason=text(form, "reason", 2000),
            status=422,
        )
    anchor = f"#section-{sec.id}"
    return RedirectResponse(f"/patients/{patient_id}?saved={sec.id}{anchor}", status_code=303)
