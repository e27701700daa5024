"""The CDS Hooks 2.0 service as a FastAPI `APIRouter` factory, with its dependencies passed in.

    router = cds_router(CdsConfig(public_base_url="https://imnm.example.org", clients=[TrustedClient(...)]),
                        feedback=SQLiteFeedbackSink(path), audit=store_audit_event)
    app.include_router(router)            # GET /cds-services, POST /cds-services/{id}, .../{id}/feedback

- Discovery lists `imnm-patient-view` (patient-view) and `imnm-statin-order` (order-select, order-sign)
  with prefetch templates (Patient, Observations by the mapped LOINC codes, Conditions, MedicationRequests).
- A hook call: JWT checked (`security.Verifier`, aud = `{public_base_url}/cds-services/{id}`), request
  validated against the specification model, facts from the prefetch; what is missing is fetched from
  `fhirServer` with the `fhirAuthorization` token (`fhirclient`); then the work-up and trial matching
  (`imnm.services`) and the cards (`cards`).
- `audit(event)` is called once per request (allowed or denied) with: time, action, service, hook,
  hookInstance, patient (the EHR's patient id), client (JWT iss), outcome, status, client address. It never
  receives clinical content. Feedback entries go to `feedback.store(...)`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from imnm.cds.security import AuthError, TrustedClient, Verifier

PATIENT_VIEW = "imnm-patient-view"
STATIN_ORDER = "imnm-statin-order"


class FeedbackSink(Protocol):
    def store(self, service_id: str, entries: list[dict[str, Any]], *, client: str | None) -> None: ...


class InMemoryFeedbackSink:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def store(self, service_id: str, entries: list[dict[str, Any]], *, client: str | None) -> None:
        with self._lock:
            for e in entries:
                self.rows.append({"service": service_id, "client": client, **e})


class SQLiteFeedbackSink:
    """Feedback in a SQLite table (append-only use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        with closing(sqlite3.connect(self.path)) as con, con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS cds_feedback (id INTEGER PRIMARY KEY, received TEXT NOT NULL, "
                "service TEXT NOT NULL, client TEXT, card TEXT NOT NULL, outcome TEXT NOT NULL, "
                "accepted TEXT, override_reason TEXT, outcome_timestamp TEXT NOT NULL)"
            )

    def store(self, service_id: str, entries: list[dict[str, Any]], *, client: str | None) -> None:
        import json

        now = datetime.now(UTC).isoformat()
        with closing(sqlite3.connect(self.path)) as con, con:
            con.executemany(
                "INSERT INTO cds_feedback (received, service, client, card, outcome, accepted, override_reason, "
                "outcome_timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        now,
                        service_id,
                        client,
                        e["card"],
                        e["outcome"],
                        json.dumps(e.get("acceptedSuggestions")),
                        json.dumps(e.get("overrideReason")),
                        e["outcomeTimestamp"],
                    )
                    for e in entries
                ],
            )


@dataclass
class CdsConfig:
    public_base_url: str  # the URL the EHR calls (JWT aud = {this}/cds-services/{id})
    clients: list[TrustedClient] = field(default_factory=list)
    app_base_url: str | None = None  # the web app, for "open the assessment" links
    require_jwt: bool = True
    fhir_timeout: float = 3.0
    today: Callable[[], date] = date.today
    replay: Any | None = None  # a security.ReplayCache shared by every process (default: this process only)


def _loinc_codes() -> str:
    from imnm.adapters.fhir import codes

    loinc = codes.system("loinc")
    all_codes = list(codes.lab_codes()) + list(codes.antibody_codes())
    return ",".join(f"{loinc}|{c}" for c in all_codes)


def discovery() -> dict[str, Any]:
    pid = "{{context.patientId}}"
    prefetch = {
        "patient": f"Patient/{pid}",
        "observations": f"Observation?patient={pid}&code={_loinc_codes()}",
        "conditions": f"Condition?patient={pid}",
        "medications": f"MedicationRequest?patient={pid}",
    }
    services = [
        {
            "hook": "patient-view",
            "id": PATIENT_VIEW,
            "title": "IMNM Navigator: necrotizing myopathy work-up and trials",
            "description": "Flags a likely immune-mediated necrotizing myopathy pattern (ENMC 224), the next tests "
            "and the clinical trials the patient may qualify for. Silent for charts without a myositis signal.",
            "prefetch": prefetch,
        },
        {
            "hook": "order-select",
            "id": STATIN_ORDER,
            "title": "IMNM Navigator: statin order in anti-HMGCR myopathy",
            "description": "Warns when a statin is ordered for a patient with anti-HMGCR myopathy or a positive "
            "anti-HMGCR antibody, and suggests removing the draft order.",
            "prefetch": {k: v for k, v in prefetch.items() if k != "medications"},
        },
        {
            "hook": "order-sign",
            "id": STATIN_ORDER,
            "title": "IMNM Navigator: statin order in anti-HMGCR myopathy",
            "description": "Warns when a statin is signed for a patient with anti-HMGCR myopathy or a positive "
            "anti-HMGCR antibody, and suggests removing the draft order.",
            "prefetch": {k: v for k, v in prefetch.items() if k != "medications"},
        },
    ]
    return {"services": services}


def prefetch_templates(service_id: str) -> dict[str, str]:
    for s in discovery()["services"]:
        if s["id"] == service_id:
            return dict(s.get("prefetch") or {})
    return {}


class HookError(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def resources_of(prefetch: dict[str, Any]) -> list[dict[str, Any]]:
    """Every resource of the prefetch values (Bundles unpacked; null values skipped)."""
    from imnm.adapters.fhir.read import resources_from_document

    out: list[dict[str, Any]] = []
    for value in prefetch.values():
        if isinstance(value, dict) and value.get("resourceType"):
            out.extend(resources_from_document(value))
    return out


def handle_hook(
    service_id: str, body: dict[str, Any], config: CdsConfig
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(response, audit details) for one hook call (body already authenticated)."""
    from pydantic import ValidationError

    from imnm import services
    from imnm.adapters.fhir import import_resources, record_from_result
    from imnm.cds import cards
    from imnm.cds.fhirclient import FetchError, FhirFetcher, render
    from imnm.cds.models import CdsRequest, CdsResponse
    from imnm.errors import InputError

    try:
        req = CdsRequest.model_validate(body)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(body)"
        raise HookError(400, "invalid CDS Hooks request", f"{loc}: {err['msg']}") from None
    allowed = {PATIENT_VIEW: ("patient-view",), STATIN_ORDER: ("order-select", "order-sign")}[service_id]
    if req.hook not in allowed:
        raise HookError(400, "wrong hook", f"{service_id} answers {' and '.join(allowed)}, not {req.hook!r}")
    patient_id = req.context.get("patientId")
    details = {"hook": req.hook, "hookInstance": req.hookInstance, "patient": patient_id}
    if not isinstance(patient_id, str) or not patient_id:
        raise HookError(400, "missing context.patientId", f"the {req.hook} hook needs context.patientId")
    prefetch = dict(req.prefetch or {})
    missing = [k for k in prefetch_templates(service_id) if prefetch.get(k) is None]
    if missing:
        if not req.fhirServer:
            raise HookError(
                412, "prefetch incomplete", f"prefetch lacks {', '.join(missing)} and no fhirServer was given"
            )
        fetcher = FhirFetcher(timeout=config.fhir_timeout)
        token = req.fhirAuthorization.access_token if req.fhirAuthorization else None
        for key in missing:
            query = render(prefetch_templates(service_id)[key], req.context)
            if query is None:
                continue
            try:
                prefetch[key] = fetcher.fetch(req.fhirServer, query, token)
            except FetchError as exc:
                raise HookError(412, "FHIR data not available", f"{key}: {exc}") from None
    try:
        resources = resources_of(prefetch)
        resources = [
            r for r in resources if r.get("resourceType") != "Patient" or r.get("id") in (None, patient_id)
        ]
        result = import_resources(resources, source=f"cds:{req.hookInstance}")
        result.document["id"] = patient_id
        record = record_from_result(result)
    except InputError as exc:
        raise HookError(412, "FHIR data not usable", "; ".join(str(p) for p in exc.problems[:3])) from None
    today = config.today()
    assessment = services.assess(record, as_of=today).as_dict()
    if service_id == PATIENT_VIEW:
        trials = [
            v.result.as_dict(explain=False) for v in services.match_trials(record, as_of=today).verdicts
        ]
        out = cards.patient_view_cards(
            record,
            assessment,
            trials,
            patient_id=patient_id,
            hook_instance=req.hookInstance,
            app_base=config.app_base_url,
        )
    else:
        draft = req.context.get("draftOrders") or {}
        orders = [e.get("resource") for e in (draft.get("entry") or []) if isinstance(e, dict)]
        out = cards.statin_order_cards(
            record, assessment, [o for o in orders if isinstance(o, dict)], hook_instance=req.hookInstance
        )
    response = CdsResponse.model_validate({"cards": out}).model_dump(mode="json", exclude_none=True)
    details["cards"] = len(out)
    return response, details


def cds_router(
    config: CdsConfig,
    *,
    feedback: FeedbackSink,
    audit: Callable[[dict[str, Any]], None],
) -> APIRouter:
    """A FastAPI APIRouter serving discovery, the two services and their feedback endpoints."""
    from imnm.cds.models import Feedback

    router = APIRouter(tags=["CDS Hooks"])
    verifier = Verifier(config.clients, replay=config.replay)
    base = config.public_base_url.rstrip("/")
    services = (PATIENT_VIEW, STATIN_ORDER)

    def problem(request: Request, status: int, title: str, detail: str) -> JSONResponse:
        body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
        return JSONResponse(
            body | {"instance": request.url.path},
            status_code=status,
            media_type="application/problem+json",
        )

    def event(
        request: Request, action: str, service: str | None, outcome: str, status: int, **extra: Any
    ) -> None:
        audit(
            {
                "time": datetime.now(UTC).isoformat(),
                "action": action,
                "service": service,
                "route": request.url.path,
                "client_address": request.client.host if request.client else None,
                "outcome": outcome,
                "status": status,
                **extra,
            }
        )

    def authenticate(request: Request, audience: list[str]) -> dict[str, Any] | None:
        if not config.require_jwt:
            return None
        return verifier.verify(request.headers.get("authorization"), audience=audience)

    async def body_json(request: Request) -> Any:
        """The JSON body, read with the refusals of every input (imnm.io.yaml: duplicate keys, NaN and
        infinity, lone surrogates, huge integers, deep nesting)."""
        from imnm.errors import InputError
        from imnm.io.yaml import load_json_text

        raw = await request.body()
        if len(raw) > 20_000_000:
            raise HookError(413, "body too large", "the request body is over 20 MB")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HookError(
                400, "invalid JSON", f"the request body is not UTF-8 (byte {exc.start})"
            ) from None
        if not text.strip():
            raise HookError(400, "invalid JSON", "the request body is empty")
        try:
            return load_json_text(text)
        except InputError as exc:
            first = exc.problems[0]
            where = f"{first.path}: " if first.path else ""
            raise HookError(
                400, "invalid JSON", f"the request body is not usable JSON: {where}{first.message}"
            ) from None

    @router.get("/cds-services", summary="CDS Hooks discovery")
    def get_discovery() -> dict[str, Any]:
        return discovery()

    @router.post("/cds-services/{service_id}", summary="Call a CDS service (hook)")
    async def call(service_id: str, request: Request) -> Any:
        if service_id not in services:
            return problem(
                request,
                404,
                "no such CDS service",
                f"{service_id!r} is not a service here; see /cds-services",
            )
        client = None
        try:
            claims = authenticate(request, [f"{base}/cds-services/{service_id}"])
            client = claims.get("iss") if claims else None
        except AuthError as exc:
            event(request, "cds.hook", service_id, "denied", 401, reason=str(exc))
            return problem(request, 401, "unauthorized", str(exc))
        started = time.perf_counter()
        details: dict[str, Any] = {}
        try:
            body = await body_json(request)
            if not isinstance(body, dict):
                raise HookError(400, "invalid CDS Hooks request", "the body must be a JSON object")
            details = {
                "hook": body.get("hook"),
                "hookInstance": body.get("hookInstance"),
                "patient": (body.get("context") or {}).get("patientId")
                if isinstance(body.get("context"), dict)
                else None,
            }
            import anyio

            response, details = await anyio.to_thread.run_sync(handle_hook, service_id, body, config)
        except HookError as exc:
            event(
                request,
                "cds.hook",
                service_id,
                "refused",
                exc.status,
                client=client,
                reason=exc.title,
                **details,
            )
            return problem(request, exc.status, exc.title, exc.detail)
        event(
            request,
            "cds.hook",
            service_id,
            "allowed",
            200,
            client=client,
            ms=round((time.perf_counter() - started) * 1000, 1),
            **details,
        )
        return response

    @router.post("/cds-services/{service_id}/feedback", summary="Feedback on cards")
    async def post_feedback(service_id: str, request: Request) -> Any:
        from pydantic import ValidationError

        if service_id not in services:
            return problem(request, 404, "no such CDS service", f"{service_id!r} is not a service here")
        try:
            claims = authenticate(
                request, [f"{base}/cds-services/{service_id}/feedback", f"{base}/cds-services/{service_id}"]
            )
        except AuthError as exc:
            event(request, "cds.feedback", service_id, "denied", 401, reason=str(exc))
            return problem(request, 401, "unauthorized", str(exc))
        client = claims.get("iss") if claims else None
        try:
            body = await body_json(request)
            fb = Feedback.model_validate(body)
        except HookError as exc:
            return problem(request, exc.status, exc.title, exc.detail)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            loc = ".".join(str(p) for p in err["loc"]) or "(body)"
            event(request, "cds.feedback", service_id, "refused", 400, client=client)
            return problem(request, 400, "invalid feedback", f"{loc}: {err['msg']}")
        entries = [e.model_dump(mode="json", exclude_none=True) for e in fb.feedback]
        feedback.store(service_id, entries, client=client)
        event(request, "cds.feedback", service_id, "allowed", 200, client=client, entries=len(entries))
        return {"stored": len(entries)}

    return router


def create_app(
    config: CdsConfig,
    *,
    feedback: FeedbackSink | None = None,
    audit: Callable[[dict[str, Any]], None] | None = None,
) -> Any:
    """A minimal FastAPI app with only the CDS router (tests, `imnm fhir serve-cds`, the bench)."""
    from fastapi import FastAPI

    app = FastAPI(title="IMNM Navigator CDS Hooks", docs_url=None, redoc_url=None)
    app.include_router(
        cds_router(config, feedback=feedback or InMemoryFeedbackSink(), audit=audit or (lambda e: None))
    )
    return app
