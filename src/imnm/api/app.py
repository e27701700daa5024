"""`create_app(settings)`: the records service as a FastAPI application.

Routers (under `/api/v1`): compute (stateless), catalog, patients (stored, audited), auth,
admin (users, teams), tokens, audit. OpenAPI at `/openapi.json`, docs at `/docs`.
To add a router: write `imnm/api/routers/NAME.py` with `router = APIRouter(...)`, protect every
route with `Depends(need(Perm.X[, audit="thing.action"]))`, add it to `ROUTERS` below, and give
each new route a row in `tests/api/test_matrix.py` (the test fails for a route without one).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from imnm.store.config import ServerSettings
from imnm.store.db import Database

API_PREFIX = "/api/v1"
ROUTERS = ("compute", "patients", "fhir", "reports", "auth", "admin", "tokens", "audit")
log = logging.getLogger("imnm.api")


def _body_schemas() -> dict[str, Any]:
    from imnm.api.routers.admin import TeamIn, UserIn, UserPatch
    from imnm.api.routers.auth import LoginIn
    from imnm.api.routers.patients import ConfirmIn, ErasureIn, ReviewIn
    from imnm.api.routers.tokens import TokenIn
    from imnm.record.model import Record
    from imnm.screen.answers import Answers
    from imnm.store.ops import PatchBody

    out: dict[str, Any] = {}
    for model in (
        Record,
        Answers,
        PatchBody,
        ReviewIn,
        ErasureIn,
        ConfirmIn,
        LoginIn,
        UserIn,
        UserPatch,
        TeamIn,
        TokenIn,
    ):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out


def create_app(
    settings: ServerSettings | None = None,
    *,
    db: Database | None = None,
    cds: Any | None = None,
    cds_feedback: Any | None = None,
) -> FastAPI:
    """The application. Refuses (`SchemaError`) a database whose schema is not at head.

    `cds`: an `imnm.cds.service.CdsConfig` to serve CDS Hooks at /cds-services, audited in the store."""
    import importlib

    from imnm.api import problems
    from imnm.api.auth import SESSION_COOKIE
    from imnm.api.middleware import (
        AuditMiddleware,
        BodyLimitMiddleware,
        HeadersAndLogMiddleware,
        ProblemCSRFMiddleware,
    )
    from imnm.version import __version__

    settings = settings or ServerSettings.from_env()
    database = db or Database(settings.database_url)
    if settings.check_schema:
        database.check_schema()
    secret = settings.secret_key or database.secret()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _warm_up()
        yield
        if db is None:
            database.dispose()

    app = FastAPI(
        title="IMNM Navigator records service",
        version=__version__,
        description=(
            "Decision support for immune-mediated necrotizing myopathy, not a diagnosis: the treating "
            "clinician decides. Errors are application/problem+json (RFC 9457) with the same problems "
            "(path, message, fix, value) as `imnm validate`. Authenticate with the session cookie from "
            "POST /api/v1/auth/login (writes then need the X-CSRFToken header) or Authorization: Bearer <token>."
        ),
        openapi_url="/openapi.json",
        docs_url=None,  # served by imnm.api.docs (vendored Swagger UI, no inline script)
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.db = database
    app.state.settings = settings
    for name in ROUTERS:
        module = importlib.import_module(f"imnm.api.routers.{name}")
        app.include_router(module.router, prefix=API_PREFIX)

    if cds is not None:
        from imnm.api import cds as cds_mount

        cds_mount.include(app, database, cds, feedback=cds_feedback)

    @app.get(f"{API_PREFIX}/health", tags=["service"], summary="Liveness and schema version (no login)")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "schema": database.current_revision()}

    from imnm.api import docs

    docs.include(app)
    problems.install(app)
    from imnm.web.app import include as include_web  # the pages (after the API's error handlers)

    include_web(app)
    # Middleware: the last added is the outermost.
    app.add_middleware(AuditMiddleware)
    app.add_middleware(
        ProblemCSRFMiddleware,
        secret=secret,
        sensitive_cookies={SESSION_COOKIE},
        cookie_secure=settings.cookie_secure == "always",
        auto_secure=settings.cookie_secure == "auto",
        required=("/login",),  # the web login form is checked even without a session
    )
    app.add_middleware(
        BodyLimitMiddleware,
        limit=settings.max_body_bytes,
        larger={"/cds-services": 20_000_000} if cds else {},
    )
    app.add_middleware(HeadersAndLogMiddleware)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        comps = schema.setdefault("components", {}).setdefault("schemas", {})
        for k, v in _body_schemas().items():
            comps.setdefault(k, v)
        schema["components"]["securitySchemes"] = {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "an API token (imnm tokens create)",
            },
            "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
        }
        schema["security"] = [{"bearer": []}, {"session": []}]
        _problem_responses(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; for bad input, `problems` as in imnm validate --json",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "message"],
                "properties": {
                    "file": {"type": ["string", "null"]},
                    "path": {"type": "string"},
                    "message": {"type": "string"},
                    "fix": {"type": ["string", "null"]},
                    "value": {},
                    "record_path": {"type": ["string", "null"]},
                },
            },
        },
    },
}


def _problem_responses(schema: dict[str, Any]) -> None:
    """Every operation answers errors as application/problem+json (the Problem schema): documented as
    4XX (with 422 for bad input in place of FastAPI's own validation-error shape) and 5XX."""
    schema["components"]["schemas"]["Problem"] = PROBLEM_SCHEMA
    schema["components"]["schemas"].pop("HTTPValidationError", None)
    schema["components"]["schemas"].pop("ValidationError", None)
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            responses = op.setdefault("responses", {})
            for code, response in list(responses.items()):
                if code.startswith(("4", "5")):
                    response["content"] = problem
                    response.setdefault("description", "A problem")
            responses["422"] = {
                "description": "Invalid input: every problem with its path",
                "content": problem,
            }
            responses.setdefault(
                "4XX",
                {"description": "A problem (401, 403, 404, 409, 413, 415, 428, 429)", "content": problem},
            )


def _warm_up() -> None:
    """Load the knowledge tables and the trial catalog before the first request, then move every
    object alive so far out of the garbage collector's way (`gc.freeze`): a full collection over the
    loaded catalogs would otherwise pause a request now and then (the p99)."""
    import gc

    from imnm.screen.screener import load_screener
    from imnm.services.trials import catalog_trials
    from imnm.settings import default_settings

    default_settings()
    catalog_trials()
    load_screener()
    gc.collect()
    gc.freeze()


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory imnm.api.app:app_from_env` (what `imnm serve` runs)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from imnm.api.cds import config_from_env

    return create_app(ServerSettings.from_env(), cds=config_from_env())
