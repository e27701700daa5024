"""The clinician's and coordinator's patient pages: the list with badges, the record, the assessment,
disease activity with the TIS between two visits, the revision history, and the ranked trials.

Every page reads the patient through the records service (team checks, audit) and computes with the
same services as `GET /api/v1/patients/{id}/assessment|activity|response|trials`; the sections reuse
the report partials (`imnm.reports.views`, `imnm/reports/templates`), so the wording is the report's
and the CLI's.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from imnm.api.auth import Ctx, need
from imnm.errors import InputError, Problem
from imnm.store.principal import Perm
from imnm.web.common import Loaded, audit_shown, choice_fields, day, load, settings_from
from imnm.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
READ = Perm.PATIENT_READ


def _report_links(patient_id: str, revision: int, current: int) -> list[tuple[str, str]]:
    """The printable reports of this revision (the API's report routes, issue 15): the clinician's
    work-up report and the patient's plain-language summary, as PDF."""
    rev = f"&revision={revision}" if revision != current else ""
    base = f"/api/v1/patients/{patient_id}/report.pdf"
    return [
        ("Work-up report (PDF)", f"{base}?for=clinician{rev}"),
        ("Summary for the patient (PDF)", f"{base}?for=patient{rev}"),
    ]


def _header(request: Request, ctx: Ctx, loaded: Loaded, tab: str, **extra: Any) -> dict[str, Any]:
    s = loaded.summary
    return {
        "pid": s["id"],
        "record_id": s["record_id"],
        "team": s["team"],
        "revision": loaded.revision,
        "current": loaded.current,
        "revision_info": s["revision_info"],
        "tab": tab,
        "can_edit": ctx.principal.can(Perm.PATIENT_WRITE),
        "report_links": _report_links(str(s["id"]), loaded.revision, loaded.current),
        **extra,
    }


# ---------------------------------------------------------------- list


@router.get("/patients")
def patient_list(
    request: Request,
    ctx: Annotated[Ctx, Depends(need(READ, audit="patient.list"))],
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    from imnm import services
    from imnm.services.batch import assess_summary, trials_summary
    from imnm.store import patients as store

    today = date.today()
    with ctx.reader() as s:
        rows, total = store.search(
            s, ctx.principal, q=q or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        loaded = []
        for p in rows:
            record, number = store.record_for(s, ctx.principal, p.id)
            loaded.append((store.summary(s, p), record, number, store.reviews_of(s, p.id)))
    items = []
    from imnm.api import compute

    for summary, record, number, reviews in loaded:
        item: dict[str, Any] = {**summary, "revision": number, "problems": []}
        try:
            item["assess"] = assess_summary(services.assess(record, as_of=today))
            item["trials"] = trials_summary(
                services.match_trials(record, as_of=today, reviews=compute.reviews(reviews))
            )
        except InputError as exc:
            item["problems"] = list(exc.problems)
        items.append(item)
    audit_shown(ctx, "patient.summary", [(i["id"], i["revision"]) for i in items], "patient list badges")
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    return render(
        request,
        "patients/list.html",
        {
            "title": "Patients",
            "items": items,
            "total": total,
            "q": q or "",
            "page": page,
            "pages": pages,
            "as_of": today.isoformat(),
            "can_create": ctx.principal.can(Perm.PATIENT_WRITE),
        },
        fragment="patients/_list_table.html",
    )


@router.get("/ehr/patients/{record_id}")
def from_the_ehr(
    record_id: str,
    ctx: Annotated[Ctx, Depends(need(READ, audit="patient.lookup"))],
    then: Annotated[Literal["assessment", "trials"], Query()] = "assessment",
) -> Response:
    """Where a CDS Hooks card's link lands: the EHR knows its own patient id, which is the record id of a
    patient imported from it. Exactly one such patient of your teams → its assessment; otherwise the
    patient list searched for that id (nothing about other teams' patients is revealed)."""
    from urllib.parse import quote

    from starlette.responses import RedirectResponse

    from imnm.store import patients as store

    with ctx.reader() as s:
        rows, _ = store.search(s, ctx.principal, q=record_id, limit=50)
        exact = [p for p in rows if p.record_id == record_id]
    if len(exact) == 1:
        assert ctx.trail is not None
        ctx.trail.patient_id = exact[0].id
        return RedirectResponse(f"/patients/{quote(exact[0].id, safe='')}/{then}", status_code=303)
    return RedirectResponse(f"/patients?q={quote(record_id, safe='')}", status_code=303)


# ---------------------------------------------------------------- the record


@router.get("/patients/{patient_id}")
def record_page(
    request: Request,
    patient_id: str,
    ctx: Annotated[Ctx, Depends(need(READ, audit="patient.read"))],
    revision: Annotated[int | None, Query(ge=1)] = None,
    saved: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    from imnm.store import patients as store
    from imnm.web import forms

    loaded = load(ctx, patient_id, revision)
    doc = store.canonical(loaded.record)
    sections = []
    for sec in forms.sections().values():
        if sec.kind == "patient":
            value: Any = {f.name: doc.get(f.name) for f in sec.fields}
        else:
            value = doc.get(sec.id)
        sections.append({"s": sec, "value": value, "rows": _section_rows(sec, value)})
    return render(
        request,
        "patients/record.html",
        {
            "title": f"Record {loaded.summary['record_id']}",
            **_header(request, ctx, loaded, "record"),
            "sections": sections,
            "saved": saved,
            "overrides": doc.get("overrides") or [],
            "coverage": doc.get("coverage"),
        },
    )


def _section_rows(sec: Any, value: Any) -> list[list[tuple[str, str]]] | None:
    """What the record says in a section, as (label, value) rows; None when it is unknown."""
    from imnm.web import forms

    if value is None or value == {}:
        return None
    labels = {f.name: f.label for f in sec.fields}
    items = value if isinstance(value, list) else [value]
    out = []
    for it in items:
        flat = forms.flatten(it)
        row = []
        for k, v in flat.items():
            if k == "ref":
                continue
            shown = "yes" if v is True else "no" if v is False else str(v)
            row.append((labels.get(k, k.replace("_", " ")), shown))
        out.append(row)
    return out


# ---------------------------------------------------------------- assessment


def _query_settings(request: Request, names: tuple[str, ...]) -> tuple[Any, dict[str, str]]:
    chosen = {n: request.query_params.get(n) or "" for n in names}
    return settings_from({k: v for k, v in chosen.items() if v}), {k: v for k, v in chosen.items() if v}


ASSESS_SETTINGS = ("default_uln",)


@router.get("/patients/{patient_id}/assessment")
def assessment_page(
    request: Request,
    patient_id: str,
    ctx: Annotated[Ctx, Depends(need(READ, audit="patient.assessment"))],
    as_of: Annotated[str | None, Query(max_length=20)] = None,
    revision: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    from imnm import services
    from imnm.reports import views as rv
    from imnm.settings import WORKUP_CHOICES

    names = ("default_uln", *WORKUP_CHOICES)
    loaded = load(ctx, patient_id, revision)
    settings, chosen = _query_settings(request, names)
    when = day(as_of)
    a = services.assess(loaded.record, as_of=when, settings=settings)
    d = a.as_dict()
    context = {
        "title": f"Assessment {loaded.summary['record_id']}",
        **_header(request, ctx, loaded, "assessment"),
        "as_of": when.isoformat(),
        "a": d,
        "summary": rv.summary_view(a),
        "interpretation": rv.interpretation_view(a),
        "enmc": rv.enmc_view(a),
        "eular": rv.eular_view(a),
        "mimics": rv.mimics_view(a),
        "safety": rv.safety_view(a),
        "next_tests": rv.next_tests_view(a),
        "choices": rv.choices_view(a.settings),
        "choice_fields": choice_fields(a.settings, names),
        "chosen": chosen,
        "sources": a.sources,
        "notice": rv.notice_view(),
    }
    return render(request, "patients/assessment.html", context, fragment="patients/_assessment_body.html")


# ---------------------------------------------------------------- activity and TIS


@router.get("/patients/{patient_id}/activity")
def activity_page(
    request: Request,
    patient_id: str,
    ctx: Annotated[Ctx, Depends(need(READ, audit="patient.activity"))],
    revision: Annotated[int | None, Query(ge=1)] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=20)] = None,
    to: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    from imnm import services
    from imnm.reports import views as rv
    from imnm.settings import ACTIVITY_CHOICES

    names = (*ACTIVITY_CHOICES, "mmt8_scale_conversion")
    loaded = load(ctx, patient_id, revision)
    settings, chosen = _query_settings(request, names)
    result = services.activity(loaded.record, settings=settings)
    dates = [v.date.isoformat() for v in result.visits]
    start = from_ or (dates[0] if dates else None)
    end = to or (dates[-1] if dates else None)
    response = None
    tis_problems: list[Problem] = []
    if len(dates) >= 2 and start and end:
        try:
            if start == end:
                raise InputError(
                    [Problem("to", "the two visits are the same", "pick a later follow-up visit", end)],
                    what="TIS",
                )
            response = services.response(
                loaded.record, start=day(start, "from"), end=day(end, "to"), settings=settings
            )
        except InputError as exc:
            tis_problems = list(exc.problems)
    activity = rv.activity_view(result, response, title=str(loaded.summary["record_id"]))
    return render(
        request,
        "patients/activity.html",
        {
            "title": f"Disease activity {loaded.summary['record_id']}",
            **_header(request, ctx, loaded, "activity"),
            "activity": activity,
            "dates": dates,
            "start": start,
            "end": end,
            "tis_problems": tis_problems,
            "choice_fields": choice_fields(settings, names),
            "chosen": chosen,
            "choices_used": settings.choices_used(names),
            "notice": rv.notice_view(),
        },
        fragment="patients/_tis.html",
    )


# ---------------------------------------------------------------- revisions


@router.get("/patients/{patient_id}/history")
def history_page(
    request: Request,
    patient_id: str,
    ctx: Annotated[Ctx, Depends(need(READ, audit="patient.revisions"))],
    from_: Annotated[int | None, Query(alias="from", ge=1)] = None,
    to: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    from sqlalchemy import select

    from imnm.store import patients as store
    from imnm.store.models import Revision

    with ctx.reader() as s:
        p = store.visible(s, ctx.principal, patient_id)
        revs = list(
            s.execute(select(Revision).where(Revision.patient_id == p.id).order_by(Revision.number)).scalars()
        )
        current = p.current_revision
        b_no = to or current
        a_no = from_ or max(1, b_no - 1)
        a = store.revision(s, p, a_no)
        b = store.revision(s, p, b_no)
        changes = store.diff(store.document_of(a), store.document_of(b))
        summary = store.summary(s, p)
    assert ctx.trail is not None
    ctx.trail.revision = b.number
    ctx.trail.detail = f"history, diff {a.number}..{b.number}"
    rows = [store.revision_dict(r) for r in reversed(revs)]
    return render(
        request,
        "patients/history.html",
        {
            "title": f"Revisions {summary['record_id']}",
            "pid": summary["id"],
            "record_id": summary["record_id"],
            "team": summary["team"],
            "revision": current,
            "current": current,
            "revision_info": rows[0] if rows else {},
            "tab": "history",
            "can_edit": ctx.principal.can(Perm.PATIENT_WRITE),
            "report_links": [],
            "rows": rows,
            "a": store.revision_dict(a),
            "b": store.revision_dict(b),
            "changes": [_change_view(c) for c in changes],
        },
    )


def _change_view(c: dict[str, Any]) -> dict[str, Any]:
    import json

    def show(v: Any) -> str:
        return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)

    return {
        "change": c["change"],
        "path": c["path"],
        "old": show(c["old"]) if "old" in c else None,
        "new": show(c["new"]) if "new" in c else None,
    }


# ---------------------------------------------------------------- trials for one patient


@router.get("/patients/{patient_id}/trials")
def patient_trials(
    request: Request,
    patient_id: str,
    ctx: Annotated[Ctx, Depends(need(READ, audit="patient.trials"))],
    as_of: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    from imnm import services
    from imnm.api import compute
    from imnm.render.trials import group_missing
    from imnm.reports.views import notice_view, status_text
    from imnm.store import patients as store

    loaded = load(ctx, patient_id)
    with ctx.reader() as s:
        reviews = store.reviews_of(s, patient_id)
    when = day(as_of)
    match = services.match_trials(loaded.record, as_of=when, reviews=compute.reviews(reviews))
    rows = []
    for v in match.verdicts:
        r = v.result
        t = r.trial
        rows.append(
            {
                "id": t.id,
                "name": f"{t.id}{f' {t.acronym}' if t.acronym else ''}"
                + (f" [{r.cohort.label}]" if r.cohort else ""),
                "title": t.title,
                "verdict": r.verdict,
                "pending": r.pending,
                "group": r.group,
                "status": status_text(t),
                "failed": [
                    f"{f.kind} {f.criterion.id}: {' '.join(f.criterion.text.split())}" for f in r.failed
                ],
                "missing": [
                    (ask, "; ".join(details), crits)
                    for ask, (details, crits) in group_missing(r.missing).items()
                ],
                "review": [
                    f"{c.criterion.id}: {' '.join(c.criterion.text.split())}" for c in r.manual_review
                ],
                "checklist": [(i.label, i.shown()) for i in v.checklist],
            }
        )
    return render(
        request,
        "patients/trials.html",
        {
            "title": f"Trials {loaded.summary['record_id']}",
            **_header(request, ctx, loaded, "trials"),
            "as_of": when.isoformat(),
            "rows": rows,
            "counts": match.counts(),
            "window": match.settings.screening_window,
            "notice": notice_view(),
        },
    )
