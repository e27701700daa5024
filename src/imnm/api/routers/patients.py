"""Stored patients: create, search, read any revision, partial updates with If-Match, revisions,
diff, computed views (assessment, activity, response, trials), reviews, and two-step erasure.

Every route here writes exactly one audit event (see `imnm.api.auth`)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from imnm.api import compute
from imnm.api.auth import Ctx, need
from imnm.api.body import body_doc, model_body, record_body
from imnm.api.problems import MAX_INT, ApiError
from imnm.api.responses import json_response
from imnm.api.routers.options import ActivityOptions, AssessOptions, ResponseOptions, TrialsOptions, on_loop
from imnm.store import patients as store
from imnm.store.ops import PatchBody
from imnm.store.principal import Perm

router = APIRouter(tags=["patients"])


def _ctx(perm: Perm, action: str) -> Any:
    return Depends(need(perm, audit=action))


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class ReviewIn(_Strict):
    """A clinician's or coordinator's answer to a manual-review trial criterion."""

    trial: str = Field(min_length=1, max_length=100)
    criterion: str = Field(min_length=1, max_length=100)
    met: bool
    note: str | None = Field(None, max_length=4000)


class ErasureIn(_Strict):
    reason: str = Field(min_length=1, max_length=2000)


class ConfirmIn(_Strict):
    token: str = Field(min_length=1, max_length=200)


def etag(n: int) -> dict[str, str]:
    return {"ETag": f'"{n}"'}


_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


def parse_if_match(value: str | None) -> int:
    if value is None:
        raise ApiError(
            428,
            "a write must name the revision it is based on: send If-Match with the ETag of the revision "
            'you read (e.g. If-Match: "3")',
        )
    m = _IF_MATCH.match(value)
    if not m:
        raise ApiError(
            428,
            f'If-Match {value!r} does not name a revision; send the ETag of the revision you read, e.g. "3"',
        )
    return int(m.group(1))


def if_match(value: Annotated[str | None, Header(alias="If-Match")] = None) -> int:
    return parse_if_match(value)


def _ref(path: str, method: str) -> str:
    """An OpenAPI operationRef (a JSON pointer into `paths`)."""
    return "#/paths/" + f"/api/v1{path}".replace("~", "~0").replace("/", "~1") + f"/{method}"


_ID = {"patient_id": "$response.body#/id"}
# OpenAPI links (what a client, and schemathesis's stateful tests, may do next with a patient's id and ETag)
PATIENT_LINKS = {
    "read": {"operationRef": _ref("/patients/{patient_id}", "get"), "parameters": _ID},
    "update": {
        "operationRef": _ref("/patients/{patient_id}", "patch"),
        "parameters": {**_ID, "header.If-Match": "$response.header.ETag"},
    },
    "revisions": {"operationRef": _ref("/patients/{patient_id}/revisions", "get"), "parameters": _ID},
    "assessment": {"operationRef": _ref("/patients/{patient_id}/assessment", "get"), "parameters": _ID},
    "trials": {"operationRef": _ref("/patients/{patient_id}/trials", "get"), "parameters": _ID},
    "review": {"operationRef": _ref("/patients/{patient_id}/reviews", "post"), "parameters": _ID},
}


@router.get("/patients", summary="Search the patients of your teams (by record id or patient id, team)")
def list_patients(
    ctx: Annotated[Ctx, _ctx(Perm.PATIENT_READ, "patient.list")],
    q: Annotated[
        str | None, Query(max_length=200, description="part of the record id, or a patient id")
    ] = None,
    team: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> dict[str, Any]:
    with ctx.reader() as s:
        rows, total = store.search(s, ctx.principal, q=q, team=team, limit=limit, offset=offset)
        items = [store.summary(s, p) for p in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.post(
    "/patients",
    status_code=201,
    openapi_extra=body_doc(
        "Record",
        yaml_ok=True,
        description="The patient's record (JSON or YAML), or a FHIR R4 Bundle mapped to one (see POST "
        "/api/v1/fhir/import). Query: team (needed when you belong to several), reason.",
    ),
    summary="Store a new patient (revision 1 = this record)",
    responses={201: {"description": "Stored (ETag: the revision)", "links": PATIENT_LINKS}},
)
def create_patient(
    ctx: Annotated[Ctx, _ctx(Perm.PATIENT_WRITE, "patient.create")],
    data: Annotated[Any, Depends(record_body)],
    response: Response,
    team: Annotated[str | None, Query(max_length=100)] = None,
    reason: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    from imnm import services

    record = services.parse_patient(data)
    with ctx.session() as s:
        p, rev = store.create(s, ctx.principal, record, team=team, reason=reason or "created")
        assert ctx.trail is not None
        ctx.trail.patient_id, ctx.trail.revision = p.id, 1
        out = {**store.summary(s, p, rev), "revision_info": store.revision_dict(rev)}
        ctx.record(s, 201)
    response.headers.update(etag(1))
    response.headers["Location"] = f"/api/v1/patients/{p.id}"
    return out


@router.get("/patients/{patient_id}", summary="A patient's record (current revision, or ?revision=N)")
def read_patient(
    patient_id: str,
    ctx: Annotated[Ctx, _ctx(Perm.PATIENT_READ, "patient.read")],
    response: Response,
    revision: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
) -> dict[str, Any]:
    with ctx.reader() as s:
        p = store.visible(s, ctx.principal, patient_id)
        rev = store.revision(s, p, revision)
        assert ctx.trail is not None
        ctx.trail.revision = rev.number
        out = {
            **store.summary(s, p, rev),
            "revision_info": store.revision_dict(rev),
            "record": store.document_of(rev),
        }
        out["revision_shown"] = rev.number
    response.headers.update(etag(rev.number))
    return out


@router.patch(
    "/patients/{patient_id}",
    openapi_extra=body_doc(
        "PatchBody", description="Operations applied in order to the revision named by If-Match"
    ),
    summary="Partial update (If-Match required): a new revision, validated like imnm validate",
    responses={
        200: {"description": "The new revision (ETag)", "links": PATIENT_LINKS},
        409: {"description": "stale If-Match: the current revision is in the ETag and the body"},
        428: {},
    },
)
def update_patient(
    patient_id: str,
    ctx: Annotated[Ctx, _ctx(Perm.PATIENT_WRITE, "patient.update")],
    response: Response,
    base: Annotated[int, Depends(if_match)],
    body: Annotated[PatchBody, Depends(model_body(PatchBody))],
) -> dict[str, Any]:
    with ctx.session() as s:
        p = store.visible(s, ctx.principal, patient_id)
        assert ctx.trail is not None
        ctx.trail.revision = p.current_revision
        rev = store.update(s, ctx.principal, p, base=base, body=body)
        ctx.trail.revision = rev.number
        out = {**store.summary(s, p, rev), "revision_info": store.revision_dict(rev)}
        ctx.record(s)
    response.headers.update(etag(rev.number))
    return out


@router.get("/patients/{patient_id}/revisions", summary="Every revision: number, when, who, why, operations")
def list_revisions(
    patient_id: str, ctx: Annotated[Ctx, _ctx(Perm.PATIENT_READ, "patient.revisions")]
) -> dict[str, Any]:
    from sqlalchemy import select

    from imnm.store.models import Revision

    with ctx.reader() as s:
        p = store.visible(s, ctx.principal, patient_id)
        rows = s.execute(
            select(Revision).where(Revision.patient_id == p.id).order_by(Revision.number)
        ).scalars()
        out = {"id": p.id, "current": p.current_revision, "revisions": [store.revision_dict(r) for r in rows]}
        assert ctx.trail is not None
        ctx.trail.revision = p.current_revision
    return out


@router.get("/patients/{patient_id}/diff", summary="What changed between two revisions")
def diff(
    patient_id: str,
    ctx: Annotated[Ctx, _ctx(Perm.PATIENT_READ, "patient.diff")],
    from_: Annotated[int, Query(alias="from", ge=1, le=MAX_INT)],
    to: Annotated[int | None, Query(ge=1, le=MAX_INT, description="default: the current revision")] = None,
) -> dict[str, Any]:
    with ctx.reader() as s:
        p = store.visible(s, ctx.principal, patient_id)
        a = store.revision(s, p, from_)
        b = store.revision(s, p, to)
        assert ctx.trail is not None
        ctx.trail.revision = b.number
        ctx.trail.detail = f"diff {a.number}..{b.number}"
        out = {
            "id": p.id,
            "from": store.revision_dict(a),
            "to": store.revision_dict(b),
            "changes": store.diff(store.document_of(a), store.document_of(b)),
        }
    return out


def _load(
    ctx: Ctx, patient_id: str, revision: int | None, response: Response, *, reviews: bool = False
) -> tuple[Any, Any]:
    with ctx.reader() as s:
        record, number = store.record_for(s, ctx.principal, patient_id, revision)
        rows = store.reviews_of(s, patient_id) if reviews else []
    assert ctx.trail is not None
    ctx.trail.revision = number
    response.headers.update(etag(number))
    return record, rows


Rev = Annotated[
    int | None, Query(ge=1, le=MAX_INT, description="compute on this revision (default: current)")
]


@router.get(
    "/patients/{patient_id}/assessment",
    summary="Diagnostic work-up of the stored record (as imnm assess --json)",
)
async def assessment(
    patient_id: str,
    ctx: Annotated[Ctx, _ctx(Perm.PATIENT_READ, "patient.assessment")],
    response: Response,
    o: Annotated[AssessOptions, Depends(on_loop(AssessOptions))],
    revision: Rev = None,
) -> Response:
    record, _ = _load(ctx, patient_id, revision, response)
    return json_response(o.run(record), headers=dict(response.headers))


AsOf = Annotated[str | None, Query(description="use only what was dated on or before this day (YYYY-MM-DD)")]


@router.get("/patients/{patient_id}/activity", summary="Disease activity by visit (as imnm activity --json)")
async def patient_activity(
    patient_id: str,
    ctx: Annotated[Ctx, _ctx(Perm.PATIENT_READ, "patient.activity")],
    response: Response,
    o: Annotated[ActivityOptions, Depends(on_loop(ActivityOptions))],
    revision: Rev = None,
    as_of: AsOf = None,
) -> Response:
    record, _ = _load(ctx, patient_id, revision, response)
    out = o.run(compute.as_of_view(record, None if as_of is None else store.parse_day(as_of)))
    return json_response(out, headers=dict(response.headers))


@router.get("/patients/{patient_id}/response", summary="Total Improvement Score (as imnm response --json)")
async def patient_response(
    patient_id: str,
    ctx: Annotated[Ctx, _ctx(Perm.PATIENT_READ, "patient.response")],
    response: Response,
    o: Annotated[ResponseOptions, Depends(on_loop(ResponseOptions))],
    revision: Rev = None,
    as_of: AsOf = None,
) -> Response:
    record, _ = _load(ctx, patient_id, revision, response)
    out = o.run(compute.as_of_view(record, None if as_of is None else store.parse_day(as_of)))
    return json_response(out, headers=dict(response.headers))


@router.get(
    "/patients/{patient_id}/trials", summary="Trial matching with the stored reviews (as imnm trials --json)"
)
async def patient_trials(
    patient_id: str,
    ctx: Annotated[Ctx, _ctx(Perm.PATIENT_READ, "patient.trials")],
    response: Response,
    o: Annotated[TrialsOptions, Depends(on_loop(TrialsOptions))],
    revision: Rev = None,
) -> Response:
    record, rows = _load(ctx, patient_id, revision, response, reviews=True)
    return json_response(o.run(record, compute.reviews(rows)), headers=dict(response.headers))


@router.get(
    "/patients/{patient_id}/reviews", summary="Reviews of manual-review trial criteria (all, oldest first)"
)
def list_reviews(
    patient_id: str, ctx: Annotated[Ctx, _ctx(Perm.PATIENT_READ, "review.list")]
) -> dict[str, Any]:
    with ctx.reader() as s:
        p = store.visible(s, ctx.principal, patient_id)
        out = {"id": p.id, "reviews": [store.review_dict(r) for r in store.reviews(s, p)]}
    return out


@router.post(
    "/patients/{patient_id}/reviews",
    status_code=201,
    openapi_extra=body_doc("ReviewIn"),
    summary="Record a review of a manual-review criterion (clinician or coordinator); the latest counts",
)
def add_review(
    patient_id: str,
    ctx: Annotated[Ctx, _ctx(Perm.REVIEW_WRITE, "review.create")],
    body: Annotated[ReviewIn, Depends(model_body(ReviewIn))],
) -> dict[str, Any]:
    with ctx.session() as s:
        p = store.visible(s, ctx.principal, patient_id)
        compute.check_review(body.trial, body.criterion)
        r = store.add_review(
            s, ctx.principal, p, trial=body.trial, criterion=body.criterion, met=body.met, note=body.note
        )
        assert ctx.trail is not None
        ctx.trail.revision = p.current_revision
        ctx.trail.detail = f"{body.trial} {body.criterion}"
        out = store.review_dict(r)
        ctx.record(s, 201)
    return out


@router.post(
    "/patients/{patient_id}/erasure",
    status_code=202,
    openapi_extra=body_doc("ErasureIn"),
    summary="Erasure step 1 (admin): request it; the answer holds a confirmation token valid 15 minutes",
)
def request_erasure(
    patient_id: str,
    ctx: Annotated[Ctx, _ctx(Perm.ADMIN, "patient.erasure_request")],
    body: Annotated[ErasureIn, Depends(model_body(ErasureIn))],
) -> dict[str, Any]:
    with ctx.session() as s:
        row, token = store.request_erasure(s, ctx.principal, patient_id, body.reason)
        ctx.record(s, 202)
    return {
        "patient": patient_id,
        "token": token,
        "expires_at": row.expires_at.isoformat(),
        "confirm": f'POST /api/v1/patients/{patient_id}/erasure/confirm with {{"token": ...}}',
    }


@router.post(
    "/patients/{patient_id}/erasure/confirm",
    openapi_extra=body_doc("ConfirmIn"),
    summary="Erasure step 2 (admin): confirm with the token; revisions and reviews are deleted for good",
)
def confirm_erasure(
    patient_id: str,
    ctx: Annotated[Ctx, _ctx(Perm.ADMIN, "patient.erase")],
    body: Annotated[ConfirmIn, Depends(model_body(ConfirmIn))],
) -> dict[str, Any]:
    with ctx.session() as s:
        row = store.confirm_erasure(s, ctx.principal, patient_id, body.token)
        ctx.record(s)
    return {"patient": patient_id, "erased_at": row.confirmed_at.isoformat() if row.confirmed_at else None}
