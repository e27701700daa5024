"""Helpers the page routers share: reading a visible patient, auditing the patients a page shows,
the evaluation date and per-view choices from the query, and form reading."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request

from imnm.api.auth import Ctx
from imnm.errors import InputError, Problem

MAX_FORM_FIELDS = 2000


def public(audit: str | None = None) -> Any:
    """A dependency for the public pages (the screener): anyone may use them, and credentials that are
    not valid (an ended session, a revoked token) are ignored instead of sending the person to the
    login page. With `audit` the request writes one audit event, as `need(..., audit=...)` does."""
    from imnm.api.auth import start_trail
    from imnm.api.problems import ApiError
    from imnm.store.principal import Principal

    async def dependency(request: Request) -> Ctx:
        trail = start_trail(request, audit) if audit else None
        try:
            from imnm.api.auth import resolve

            principal = resolve(request)
        except ApiError:
            principal = None
        if trail is not None:
            trail.principal = principal
        return Ctx(
            request=request,
            db=request.app.state.db,
            settings=request.app.state.settings,
            principal=principal or Principal(user_id=None, username="anonymous", roles=frozenset()),
            trail=trail,
        )

    dependency.__name__ = f"public_{audit or 'page'}".replace(".", "_")
    return dependency


@dataclass(frozen=True)
class Loaded:
    """A visible patient's record at one revision, with what the page header shows."""

    record: Any
    revision: int
    current: int
    summary: dict[str, Any]


def load(ctx: Ctx, patient_id: str, revision: int | None = None) -> Loaded:
    """The patient's record (404 outside one's teams); the audit event names the revision."""
    from imnm.store import patients as store

    with ctx.reader() as s:
        p = store.visible(s, ctx.principal, patient_id)
        record, number = store.record_for(s, ctx.principal, patient_id, revision)
        rev = store.revision(s, p, number)
        summary = {**store.summary(s, p, rev), "revision_info": store.revision_dict(rev)}
    if ctx.trail is not None:
        ctx.trail.revision = number
    return Loaded(record, number, int(summary["revision"]), summary)


def audit_shown(ctx: Ctx, action: str, shown: Iterable[tuple[str, int | None]], detail: str | None) -> None:
    """One audit event per patient whose data a page shows (a list, a candidate list, a CSV file), besides
    the request's own event, so that `imnm audit --patient P` finds every page that showed P."""
    from imnm.store import audit

    rows = list(shown)
    if not rows:
        return
    trail = ctx.trail
    with ctx.db.writer() as conn:
        for pid, revision in rows:
            audit.append(
                conn,
                audit.Event(
                    action=action,
                    principal=ctx.principal,
                    patient_id=pid,
                    revision=revision,
                    route=trail.route if trail else None,
                    client=trail.client if trail else None,
                    status=200,
                    detail=detail,
                ),
            )


def day(value: str | None, name: str = "as_of") -> date:
    """A date from the query (today when empty); a bad date is an error naming the parameter."""
    from imnm.store.patients import parse_day

    return parse_day(value or None, name)


def settings_from(values: dict[str, str | None], *, names: dict[str, str] | None = None) -> Any:
    """One `Settings` from the page's choice fields (empty = the documented default)."""
    from imnm.api import compute

    return compute.settings({k: v for k, v in values.items() if v}, names=names or {})


def choice_fields(settings: Any, names: tuple[str, ...]) -> list[dict[str, Any]]:
    """The choices a view depends on, each with its options, for the "choices" form."""
    from imnm.settings import choice_meta

    out = []
    for c in settings.choices_used(names):
        meta = choice_meta(c["table"], c["choice"])
        out.append(
            {
                **c,
                "question": meta.get("question"),
                "default_value": meta["default"],
                "options": [(k, v) for k, v in meta["options"].items()],
            }
        )
    return out


async def read_form(request: Request, *, files: int = 0) -> FormData:
    try:
        return await request.form(max_files=files, max_fields=MAX_FORM_FIELDS)
    except Exception as exc:  # malformed multipart or too many fields: a clear 422, never a 500
        raise InputError(
            [Problem("", f"the form could not be read ({type(exc).__name__})", "send the form again")],
            what="form",
        ) from None


def text(form: FormData, name: str, limit: int = 4000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""
