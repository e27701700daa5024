"""Schemathesis (pinned in the dev extra) against the records service's own /openapi.json, in process on a
real SQLite store: every operation for every role (and anonymous and a revoked token), then stateful runs that
follow the document's OpenAPI links (create a patient, then read it, patch it with its ETag, read its
assessment, revisions and trials, review a criterion).

Checks: no 5xx; every status is documented; the content type and the body match the document (errors are
application/problem+json with the Problem schema); documented response headers are sent.
`IMNM_SCHEMATHESIS_EXAMPLES` raises the cases per operation and role (default 8; `make fuzz` sets more).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import World, make_world

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
ROLES = (
    "clinician",
    "coordinator",
    "auditor",
    "admin",
    "other",
    "token_compute",
    "token_read",
    "token_write",
    "token_revoked",
    "anonymous",
)
EXAMPLES = int(os.environ.get("IMNM_SCHEMATHESIS_EXAMPLES", "8"))
STATEFUL_EXAMPLES = int(os.environ.get("IMNM_SCHEMATHESIS_STATEFUL", "16"))
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:Generating overly large repr")


def _world() -> World:
    """The world the operations run against, built when the module is collected (schemathesis generates one
    test per operation from the document, so the app must exist then); removed after the module."""
    from fastapi.testclient import TestClient

    w = make_world(Path(tempfile.mkdtemp(prefix="imnm-schemathesis-")))
    w.clients["token_write"] = TestClient(w.app)
    return w


WORLD = _world()


def _config(*phases: str) -> Any:
    config = schemathesis.Config.from_dict({})
    config.projects.default.phases.update(phases=list(phases))
    return config


COVERAGE = os.environ.get("IMNM_SCHEMATHESIS_COVERAGE", "")
schema = schemathesis.openapi.from_asgi(
    "/openapi.json",
    WORLD.app,
    config=_config("examples", "fuzzing", "stateful", *(["coverage"] if COVERAGE else [])),
)


@pytest.fixture(scope="module")
def st_world() -> Iterator[World]:
    yield WORLD
    WORLD.db.dispose()
    shutil.rmtree(Path(str(WORLD.db.engine.url.database)).parent, ignore_errors=True)


@pytest.fixture(scope="module")
def api_schema(st_world: World) -> Any:
    return schema


def credentials(w: World, role: str) -> dict[str, Any]:
    """Headers and cookies of a role (a session's cookies and CSRF header, or a bearer token)."""
    client = w.clients.get(role)
    cookies = dict(client.cookies) if client is not None else {}
    return {"headers": dict(w.headers[role]), "cookies": cookies}


@pytest.mark.parametrize("role", ROLES)
@schema.exclude(path="/api/v1/auth/logout").parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_for_every_role(case: Any, role: str, st_world: World) -> None:
    """(Logging out is left to tests/security and the matrix: it would end the session the other cases use.)"""
    creds = credentials(st_world, role)
    headers = {**creds["headers"], **(case.headers or {})}
    response = case.call(headers=headers, cookies=creds["cookies"])
    case.validate_response(response, checks=CHECKS)


@pytest.fixture
def stateful(api_schema: Any, st_world: World) -> Any:
    machine = api_schema.as_state_machine()
    creds = credentials(st_world, "clinician")

    class AsClinician(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {**creds["headers"], **(case.headers or {})}, "cookies": creds["cookies"]}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    return AsClinician


def test_stateful_links_create_then_read_patch_and_compute(stateful: Any, st_world: World) -> None:
    before = _patients(st_world)
    stateful.run(
        settings=settings(
            # not scaled by make fuzz: a long stateful run over the shared store meets hypothesis's
            # FlakyStrategyDefinition (the rules' preconditions depend on what earlier runs stored)
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    # the links were followed: patients were created and then read or changed through them
    assert _patients(st_world) > before


def test_the_document_links_a_new_patient_to_what_can_be_done_with_it(api_schema: Any) -> None:
    raw = api_schema.raw_schema
    links = raw["paths"]["/api/v1/patients"]["post"]["responses"]["201"]["links"]
    assert {"read", "update", "assessment", "revisions", "trials", "review"} <= set(links)
    assert links["update"]["parameters"]["header.If-Match"] == "$response.header.ETag"


def _patients(w: World) -> int:
    from sqlalchemy import func, select

    from imnm.store.models import Patient

    with w.db.session() as s:
        return int(s.execute(select(func.count()).select_from(Patient)).scalar_one())
