"""Printable reports of a stored patient (issue 15): `GET /api/v1/patients/{id}/report.pdf` (and `.html`).

The same call as `imnm report` (`imnm.reports.build`), on the stored record (current revision or
`?revision=N`), with the record revision in the report's header. Reading a report is reading patient
data: each request writes one audit event (`patient.report`, with the kind and format in its detail),
refusals included. The PDF is laid out in a worker thread (WeasyPrint takes about a second), so the
event loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from imnm.api import compute
from imnm.api.auth import Ctx, need
from imnm.api.routers.options import ASSESS_NAMES, Choice, _day
from imnm.store import patients as store
from imnm.store.principal import Perm

router = APIRouter(tags=["reports"])
MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


async def _report(
    fmt: Literal["pdf", "html"],
    patient_id: str,
    ctx: Ctx,
    kind: str,
    as_of: str | None,
    paper: str,
    share: list[str] | None,
    revision: int | None,
    default_uln: str | None,
    choice: list[str] | None,
) -> Response:
    from datetime import date

    from starlette.concurrency import run_in_threadpool

    from imnm import reports
    from imnm.errors import InputError, Problem
    from imnm.reports.patient import SHARE_OPTIONS

    bad = [
        Problem("share", f"{s!r} is not something to share", f"use {', '.join(SHARE_OPTIONS)}", value=s)
        for s in share or ()
        if s not in SHARE_OPTIONS
    ]
    if share and kind != "patient":
        bad.append(Problem("share", "only the patient summary has share", "add for=patient", value=share[0]))
    if bad:
        raise InputError(bad, what="query")
    day = _day(as_of, "as_of") or date.today()
    settings = compute.settings({"default_uln": default_uln}, choice or (), names=ASSESS_NAMES)
    with ctx.reader() as s:
        record, number = store.record_for(s, ctx.principal, patient_id, revision)
    assert ctx.trail is not None
    ctx.trail.revision = number
    ctx.trail.detail = f"report {kind} {fmt}"

    def make() -> bytes:
        built = reports.build(
            record,
            kind=kind,
            as_of=day,
            settings=settings,
            paper=paper,
            revision=f"stored revision {number}",
            share=tuple(share) if share else None,
        )
        return built.as_bytes(fmt)

    data: Any = await run_in_threadpool(make)
    return Response(
        content=data,
        media_type=MEDIA[fmt],
        headers={
            "ETag": f'"{number}"',
            "Content-Disposition": f'{"attachment" if fmt == "pdf" else "inline"}; filename="imnm-{kind}-report.{fmt}"',
        },
    )


Kind = Annotated[
    Literal["clinician", "patient"],
    Query(alias="for", description="clinician (the work-up report) or patient (the plain-language summary)"),
]
AsOf = Annotated[str | None, Query(description="Evaluate as of this date (YYYY-MM-DD); default today")]
PaperQ = Annotated[Literal["a4", "letter"], Query(description="paper size")]
Share = Annotated[
    list[str] | None,
    Query(description="patient summary: results, diagnosis, trials (repeatable; default results)"),
]
Rev = Annotated[int | None, Query(ge=1, description="report on this revision (default: current)")]
Uln = Annotated[
    str | None, Query(description="documented_range (default), none, by_sex_common_lab, flat_200")
]
PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "the PDF"}
}
HTML_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "the HTML"}
}


@router.get(
    "/patients/{patient_id}/report.pdf",
    summary="The clinician's work-up report or the patient's summary as PDF (as imnm report -o FILE.pdf)",
    response_class=Response,
    responses=PDF_RESPONSE,
)
async def patient_report_pdf(
    patient_id: str,
    ctx: Annotated[Ctx, Depends(need(Perm.PATIENT_READ, audit="patient.report"))],
    kind: Kind = "clinician",
    as_of: AsOf = None,
    paper: PaperQ = "a4",
    share: Share = None,
    revision: Rev = None,
    default_uln: Uln = None,
    choice: Choice = None,
) -> Response:
    return await _report("pdf", patient_id, ctx, kind, as_of, paper, share, revision, default_uln, choice)


@router.get(
    "/patients/{patient_id}/report.html",
    summary="The same report as one self-contained HTML page",
    response_class=Response,
    responses=HTML_RESPONSE,
)
async def patient_report_html(
    patient_id: str,
    ctx: Annotated[Ctx, Depends(need(Perm.PATIENT_READ, audit="patient.report"))],
    kind: Kind = "clinician",
    as_of: AsOf = None,
    paper: PaperQ = "a4",
    share: Share = None,
    revision: Rev = None,
    default_uln: Uln = None,
    choice: Choice = None,
) -> Response:
    return await _report("html", patient_id, ctx, kind, as_of, paper, share, revision, default_uln, choice)
