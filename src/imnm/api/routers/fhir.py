"""FHIR R4 in and out of the records service (issue 14).

- `POST /api/v1/fhir/import`: a FHIR R4 Bundle (collection, searchset, transaction, batch) or one resource
  → the record it maps to and the import report (every resource with its outcome and why). Nothing is
  stored; to store it, POST the same Bundle to `/api/v1/patients` (which accepts a Bundle as the record).
- `GET /api/v1/patients/{id}/fhir?what=record|assessment`: the stored record as a Bundle (record → FHIR →
  record keeps every fact), or the assessment as a Bundle of Observations `derivedFrom` the record's ones.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from imnm.api.auth import Ctx, need
from imnm.api.body import body_doc, record_body
from imnm.api.problems import MAX_INT
from imnm.api.responses import json_response
from imnm.api.routers.options import AssessOptions, on_loop
from imnm.store import patients as store
from imnm.store.principal import Perm

router = APIRouter(tags=["fhir"])
FHIR_BODY = body_doc(
    "FhirResource",
    description="A FHIR R4 Bundle (collection, searchset, transaction, batch) or a single resource, as JSON",
)
FHIR_BODY["requestBody"]["content"] = {"application/fhir+json": {"schema": {"type": "object"}}} | {
    "application/json": {"schema": {"type": "object"}}
}


@router.post(
    "/fhir/import", openapi_extra=FHIR_BODY, summary="Map a FHIR R4 Bundle to a record (nothing stored)"
)
async def fhir_import(
    ctx: Annotated[Ctx, Depends(need(Perm.COMPUTE))], data: Annotated[Any, Depends(record_body)]
) -> Response:
    from imnm.services.records import import_fhir
    from imnm.store.patients import canonical

    record, report = import_fhir(data, file="request body")
    return json_response({"record": canonical(record), "report": report.as_dict()})


@router.get(
    "/patients/{patient_id}/fhir", summary="The stored record (or its assessment) as a FHIR R4 Bundle"
)
async def patient_fhir(
    patient_id: str,
    ctx: Annotated[Ctx, Depends(need(Perm.PATIENT_READ, audit="patient.fhir_export"))],
    response: Response,
    o: Annotated[AssessOptions, Depends(on_loop(AssessOptions))],
    what: Annotated[Literal["record", "assessment"], Query()] = "record",
    revision: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
) -> Response:
    from imnm.adapters.fhir.assessment import assessment_bundle
    from imnm.adapters.fhir.write import record_to_bundle

    with ctx.reader() as s:
        record, number = store.record_for(s, ctx.principal, patient_id, revision)
    assert ctx.trail is not None
    ctx.trail.revision = number
    headers = {"ETag": f'"{number}"'}
    if what == "record":
        bundle = record_to_bundle(record)
    else:
        from imnm import services
        from imnm.errors import InputError

        try:
            tis: dict[str, Any] | None = services.response(record).as_dict()
        except InputError:
            tis = None  # fewer than two visits: no TIS to export
        bundle = assessment_bundle(record, assessment=o.run(record), response=tis)
    return json_response(bundle, headers=headers, media_type="application/fhir+json")
