"""Stateless compute routes (nothing is stored): validate, screen, assess, activity, response,
trial matching, and the trial catalog. Responses are the CLI's `--json` documents."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from imnm.api import compute
from imnm.api.auth import Ctx, need
from imnm.api.body import body_doc, record_body
from imnm.api.problems import ApiError
from imnm.api.responses import json_response
from imnm.api.routers.options import (
    ActivityOptions,
    AssessOptions,
    ResponseOptions,
    ScreenOptions,
    TrialsOptions,
    on_loop,
)
from imnm.store.principal import Perm

router = APIRouter(tags=["compute"])
Compute = Annotated[Ctx, Depends(need(Perm.COMPUTE))]
Catalog = Annotated[Ctx, Depends(need(Perm.CATALOG))]
Body = Annotated[Any, Depends(record_body)]
RECORD = body_doc("Record", yaml_ok=True, description="A patient record (the format of `imnm schema`)")


def _record(data: Any) -> Any:
    return compute.record(data)


@router.post("/validate", openapi_extra=RECORD, summary="Validate a record (as imnm validate --json)")
async def validate(ctx: Compute, data: Body) -> Response:
    return json_response(compute.validate(data))


@router.post(
    "/screen",
    openapi_extra=body_doc("Answers", yaml_ok=True, description="Screener answers (question: answer)"),
    summary="Patient screener (as imnm screen --json)",
)
async def screen(
    ctx: Compute, data: Body, o: Annotated[ScreenOptions, Depends(on_loop(ScreenOptions))]
) -> Response:
    return json_response(o.run(data))


@router.post("/assess", openapi_extra=RECORD, summary="Diagnostic work-up (as imnm assess --json)")
async def assess(
    ctx: Compute, data: Body, o: Annotated[AssessOptions, Depends(on_loop(AssessOptions))]
) -> Response:
    return json_response(o.run(_record(data)))


@router.post("/activity", openapi_extra=RECORD, summary="Disease activity by visit (as imnm activity --json)")
async def activity(
    ctx: Compute, data: Body, o: Annotated[ActivityOptions, Depends(on_loop(ActivityOptions))]
) -> Response:
    return json_response(o.run(_record(data)))


@router.post("/response", openapi_extra=RECORD, summary="Total Improvement Score (as imnm response --json)")
async def response(
    ctx: Compute, data: Body, o: Annotated[ResponseOptions, Depends(on_loop(ResponseOptions))]
) -> Response:
    return json_response(o.run(_record(data)))


@router.post("/trials/match", openapi_extra=RECORD, summary="Trial matching (as imnm trials FILE --json)")
async def match(
    ctx: Compute, data: Body, o: Annotated[TrialsOptions, Depends(on_loop(TrialsOptions))]
) -> Response:
    return json_response(o.run(_record(data)))


@router.get("/trials", tags=["catalog"], summary="The trial catalog (as imnm trials list --json)")
async def trials(ctx: Catalog) -> Response:
    return json_response(compute.list_trials())


@router.get("/trials/{trial_id}", tags=["catalog"], summary="One catalog entry with its criteria verbatim")
async def trial(trial_id: str, ctx: Catalog) -> dict[str, Any]:
    out = compute.trial(trial_id)
    if out is None:
        raise ApiError(404, f"{trial_id!r} is not in the catalog; see GET /api/v1/trials")
    return out
