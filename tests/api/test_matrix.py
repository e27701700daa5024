"""Every route × every role (and anonymous, scoped tokens and a revoked token): the expected status,
and exactly one audit event for each request to a route that touches patient data or security.

A route without a row here fails `test_every_route_has_a_row`: add one when you add a route."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import PASSWORD, World, login
from tests.conftest import EXAMPLES

KINDS = (
    "anonymous",
    "clinician",
    "coordinator",
    "auditor",
    "admin",
    "other",  # a clinician of another team
    "token_compute",  # the clinician's compute-only token
    "token_read",  # the clinician's read token
    "token_revoked",
)
P = "/api/v1"


def row(
    default: int,
    *,
    anonymous: int = 401,
    token_revoked: int = 401,
    **overrides: int,
) -> dict[str, int]:
    out = dict.fromkeys(KINDS, default)
    out.update(anonymous=anonymous, token_revoked=token_revoked, **overrides)
    return out


COMPUTE = row(200, auditor=403, admin=403)
CATALOG = row(200)
PUBLIC = row(200, anonymous=200, token_revoked=200)
READ = row(200, auditor=403, admin=403, other=404, token_compute=403)
LIST = row(200, auditor=403, admin=403, token_compute=403)
WRITE = row(200, coordinator=403, auditor=403, admin=403, other=404, token_compute=403, token_read=403)
CREATE = row(201, coordinator=403, auditor=403, admin=403, token_compute=403, token_read=403)
REVIEW = row(201, auditor=403, admin=403, other=404, token_compute=403, token_read=403)
ADMIN = row(403, admin=200)
AUDITOR = row(403, auditor=200)
SELF_READ = row(200, token_compute=403)
SELF = row(200, token_compute=403, token_read=403)


def record_json(record_id: str | None = None) -> dict[str, Any]:
    from imnm.record.load import load_record
    from imnm.store.patients import canonical

    doc = canonical(load_record(EXAMPLES / "anti-hmgcr.yaml"))
    if record_id:
        doc["id"] = record_id
    return doc


def fhir_json() -> dict[str, Any]:
    from imnm.adapters.fhir.write import record_to_bundle
    from imnm.record.load import load_record

    return record_to_bundle(load_record(EXAMPLES / "anti-hmgcr.yaml"))


def yaml_body(path: str) -> dict[str, Any]:
    return {"content": (EXAMPLES / path).read_bytes(), "headers": {"content-type": "application/yaml"}}


def user_of(kind: str) -> str:
    return "clinician" if kind.startswith("token") or kind == "anonymous" else kind


def _current(w: World) -> int:
    from imnm.store.models import Patient

    with w.db.session() as s:
        return s.get(Patient, w.patient).current_revision  # type: ignore[union-attr]


def _tmp_user(w: World) -> str:
    from imnm.store import users

    name = f"tmp{w.fresh()}"
    with w.db.session() as s:
        users.create_user(s, name, PASSWORD, roles=["clinician"], teams=["neuro"])
    return name


def _token_of(w: World, kind: str) -> int:
    from imnm.store import users

    with w.db.session() as s:
        return users.create_token(s, users.user_by_name(s, user_of(kind)), name="x", scope="read", days=1)[
            0
        ].id


def _erasure(w: World) -> tuple[str, str]:
    from imnm.record.load import parse_record
    from imnm.store import patients, users
    from imnm.store.principal import operator

    with w.db.session() as s:
        p, _ = patients.create(
            s,
            users.principal_for(s, users.user_by_name(s, "clinician")),
            parse_record(record_json(f"erase-{w.fresh()}")),
            team="neuro",
            reason="to erase",
        )
        _, token = patients.request_erasure(s, operator("test"), p.id, "test")
    return p.id, token


def _login(w: World, kind: str) -> dict[str, Any]:
    if kind == "anonymous":
        return {"json": {"username": "clinician", "password": "wrong password!!"}}
    if kind.startswith("token"):
        from fastapi.testclient import TestClient

        return {"json": {"username": "clinician", "password": PASSWORD}, "client": TestClient(w.app)}
    return {"json": {"username": kind, "password": PASSWORD}}


def _logout(w: World, kind: str) -> dict[str, Any]:
    if kind in ("anonymous",) or kind.startswith("token"):
        return {}
    client, headers = login(w.app, kind)
    return {"client": client, "headers": headers}


pid = "{patient_id}"
MATRIX: dict[tuple[str, str], tuple[dict[str, int], Any, Any]] = {
    # (method, path): (expected status by kind, audited? (or events per kind: f(world, kind)), request builder)
    ("GET", f"{P}/health"): (PUBLIC, False, lambda w, k: {}),
    ("GET", "/openapi.json"): (PUBLIC, False, lambda w, k: {}),
    ("GET", "/docs"): (PUBLIC, False, lambda w, k: {}),
    ("GET", "/docs/oauth2-redirect"): (PUBLIC, False, lambda w, k: {}),
    ("POST", f"{P}/validate"): (COMPUTE, False, lambda w, k: yaml_body("anti-hmgcr.yaml")),
    ("POST", f"{P}/screen"): (COMPUTE, False, lambda w, k: yaml_body("screener/answers.yaml")),
    ("POST", f"{P}/assess"): (COMPUTE, False, lambda w, k: {"json": record_json()}),
    ("POST", f"{P}/activity"): (COMPUTE, False, lambda w, k: {"json": record_json()}),
    ("POST", f"{P}/response"): (COMPUTE, False, lambda w, k: {"json": record_json()}),
    ("POST", f"{P}/trials/match"): (COMPUTE, False, lambda w, k: {"json": record_json()}),
    ("POST", f"{P}/fhir/import"): (COMPUTE, False, lambda w, k: {"json": fhir_json()}),
    ("GET", f"{P}/patients/{pid}/fhir"): (READ, True, lambda w, k: {"query": "?what=assessment"}),
    ("GET", f"{P}/patients/{pid}/report.pdf"): (
        READ,
        True,
        lambda w, k: {"query": "?for=patient&as_of=2026-11-25"},
    ),
    ("GET", f"{P}/patients/{pid}/report.html"): (READ, True, lambda w, k: {"query": "?as_of=2026-11-25"}),
    ("GET", f"{P}/trials"): (CATALOG, False, lambda w, k: {}),
    ("GET", f"{P}/trials/{{trial_id}}"): (CATALOG, False, lambda w, k: {"path": {"trial_id": "NCT04025632"}}),
    ("GET", f"{P}/patients"): (LIST, True, lambda w, k: {}),
    ("POST", f"{P}/patients"): (CREATE, True, lambda w, k: {"json": record_json(f"new-{w.fresh()}")}),
    ("GET", f"{P}/patients/{pid}"): (READ, True, lambda w, k: {}),
    ("PATCH", f"{P}/patients/{pid}"): (
        WRITE,
        True,
        lambda w, k: {
            "json": {
                "reason": "matrix",
                "operations": [{"op": "set_finding", "value": {"name": "fever", "value": False}}],
            },
            "headers": {"If-Match": f'"{_current(w)}"'},
        },
    ),
    ("GET", f"{P}/patients/{pid}/revisions"): (READ, True, lambda w, k: {}),
    ("GET", f"{P}/patients/{pid}/diff"): (READ, True, lambda w, k: {"query": "?from=1"}),
    ("GET", f"{P}/patients/{pid}/assessment"): (READ, True, lambda w, k: {}),
    ("GET", f"{P}/patients/{pid}/activity"): (READ, True, lambda w, k: {}),
    ("GET", f"{P}/patients/{pid}/response"): (READ, True, lambda w, k: {}),
    ("GET", f"{P}/patients/{pid}/trials"): (READ, True, lambda w, k: {"query": "?trial=NCT05523167"}),
    ("GET", f"{P}/patients/{pid}/reviews"): (READ, True, lambda w, k: {}),
    ("POST", f"{P}/patients/{pid}/reviews"): (
        REVIEW,
        True,
        lambda w, k: {"json": {"trial": "NCT05523167", "criterion": "inc-1", "met": True, "note": "matrix"}},
    ),
    ("POST", f"{P}/patients/{pid}/erasure"): (
        row(403, admin=202),
        True,
        lambda w, k: {"path": {"patient_id": _erasure(w)[0]}, "json": {"reason": "matrix"}},
    ),
    ("POST", f"{P}/patients/{pid}/erasure/confirm"): (
        ADMIN,
        True,
        lambda w, k: (lambda e: {"path": {"patient_id": e[0]}, "json": {"token": e[1]}})(_erasure(w)),
    ),
    ("POST", f"{P}/auth/login"): (row(200, anonymous=401, token_revoked=200), True, _login),
    ("POST", f"{P}/auth/logout"): (row(204, token_compute=403, token_read=403), True, _logout),
    ("GET", f"{P}/auth/me"): (SELF_READ, False, lambda w, k: {}),
    ("GET", f"{P}/users"): (ADMIN, False, lambda w, k: {}),
    ("POST", f"{P}/users"): (
        row(403, admin=201),
        True,
        lambda w, k: {
            "json": {
                "username": f"new{w.fresh()}",
                "password": PASSWORD,
                "roles": ["coordinator"],
                "teams": ["neuro"],
            }
        },
    ),
    ("GET", f"{P}/users/{{username}}"): (ADMIN, False, lambda w, k: {"path": {"username": "clinician"}}),
    ("PATCH", f"{P}/users/{{username}}"): (
        ADMIN,
        True,
        lambda w, k: {"path": {"username": _tmp_user(w)}, "json": {"roles": ["coordinator"]}},
    ),
    ("POST", f"{P}/users/{{username}}/disable"): (
        ADMIN,
        True,
        lambda w, k: {"path": {"username": _tmp_user(w)}},
    ),
    ("GET", f"{P}/teams"): (ADMIN, False, lambda w, k: {}),
    ("POST", f"{P}/teams"): (row(403, admin=201), True, lambda w, k: {"json": {"name": f"team {w.fresh()}"}}),
    ("GET", f"{P}/tokens"): (SELF, False, lambda w, k: {}),
    ("POST", f"{P}/tokens"): (
        row(201, token_compute=403, token_read=403),
        True,
        lambda w, k: {"json": {"name": "matrix", "scope": "compute", "expires_in_days": 1}},
    ),
    ("DELETE", f"{P}/tokens/{{token_id}}"): (
        row(204, token_compute=403, token_read=403),
        True,
        lambda w, k: {"path": {"token_id": str(_token_of(w, k))}},
    ),
    ("GET", f"{P}/audit"): (AUDITOR, True, lambda w, k: {"query": "?limit=5"}),
    ("GET", f"{P}/audit/verify"): (AUDITOR, True, lambda w, k: {}),
}


from tests.web.matrix import WEB_MATRIX  # noqa: E402 - the web pages' rows (imnm.web)

MATRIX.update(WEB_MATRIX)


def app_routes(app: Any) -> set[tuple[str, str]]:
    """Every (method, path) the app serves: the plain routes in app.routes and every API route
    (FastAPI includes routers lazily, so those are read from the OpenAPI document it generates)."""
    out = set()

    def walk(routes: Any, prefix: str = "") -> None:
        for r in routes:
            inner = getattr(r, "original_router", None)  # a router included lazily (the web pages too)
            if inner is not None:
                walk(
                    inner.routes, prefix + (getattr(getattr(r, "include_context", None), "prefix", "") or "")
                )
            for m in getattr(r, "methods", None) or ():
                if m != "HEAD":
                    out.add((m, prefix + r.path))

    walk(app.routes)
    for path, ops in app.openapi()["paths"].items():
        out |= {(m.upper(), path) for m in ops}
    return out


def test_every_route_has_a_row(shared_world: World) -> None:
    routes = app_routes(shared_world.app)
    missing = routes - set(MATRIX)
    assert not missing, f"routes without a row in the role × route matrix: {sorted(missing)}"
    assert not set(MATRIX) - routes, f"rows for routes that do not exist: {sorted(set(MATRIX) - routes)}"


def test_every_patient_route_is_audited() -> None:
    for (_, path), (_, audited, _) in MATRIX.items():
        if path.startswith(f"{P}/patients"):
            assert audited, path


def _request(w: World, kind: str, method: str, path: str, spec: dict[str, Any]) -> Any:
    url = path
    for k, v in (spec.get("path") or {}).items():
        url = url.replace("{" + k + "}", v)
    url = url.replace("{patient_id}", w.patient)
    url += spec.get("query", "")
    client = spec.get("client") or w.clients[kind]
    own = {} if spec.get("headers_replace") else w.headers[kind]
    headers = {**own, **(spec.get("headers") or {})}
    kwargs: dict[str, Any] = {"follow_redirects": False}
    for key in ("data", "files"):  # web forms
        if key in spec:
            kwargs[key] = spec[key]
    if "json" in spec:
        kwargs["content"] = json.dumps(spec["json"]).encode()
        headers.setdefault("content-type", "application/json")
    if "content" in spec:
        kwargs["content"] = spec["content"]
    return client.request(method, url, headers=headers, **kwargs)


@pytest.mark.parametrize("key", sorted(MATRIX), ids=lambda k: f"{k[0]} {k[1]}")
def test_route_matrix(shared_world: World, key: tuple[str, str]) -> None:
    w = shared_world
    expected, audited, build = MATRIX[key]
    method, path = key
    got: dict[str, int] = {}
    events: dict[str, int] = {}
    expected_events: dict[str, int] = {}
    for kind in KINDS:
        spec = build(w, kind)
        expected_events[kind] = audited(w, kind) if callable(audited) else (1 if audited else 0)
        before = w.events()
        r = _request(w, kind, method, path, spec)
        events[kind] = w.events() - before
        got[kind] = r.status_code
        if r.status_code >= 400 and path.startswith(P):
            assert r.headers["content-type"].startswith("application/problem+json"), (kind, r.text)
            assert r.json()["status"] == r.status_code
        elif r.status_code >= 400:  # a web page: the error is a page
            assert r.headers["content-type"].startswith("text/html"), (kind, r.text)
    assert got == expected
    assert events == expected_events, "audit events per request"


def test_audit_events_name_who_what_and_outcome(shared_world: World) -> None:
    from imnm.store import audit

    w = shared_world
    before = w.events()
    w.clients["other"].get(f"{P}/patients/{w.patient}")
    w.clients["coordinator"].patch(
        f"{P}/patients/{w.patient}", headers={**w.headers["coordinator"], "If-Match": '"1"'}, json={}
    )
    w.clients["clinician"].get(f"{P}/patients/{w.patient}/assessment")
    with w.db.session() as s:
        rows = audit.query(s, after_id=before)
    got = [(r.actor, r.roles, r.action, r.patient_id, r.route, r.client, r.outcome, r.status) for r in rows]
    assert got == [
        (
            "other",
            "clinician",
            "patient.read",
            w.patient,
            f"GET {P}/patients/{{patient_id}}",
            "testclient",
            "denied",
            404,
        ),
        (
            "coordinator",
            "coordinator",
            "patient.update",
            w.patient,
            f"PATCH {P}/patients/{{patient_id}}",
            "testclient",
            "denied",
            403,
        ),
        (
            "clinician",
            "clinician",
            "patient.assessment",
            w.patient,
            f"GET {P}/patients/{{patient_id}}/assessment",
            "testclient",
            "allowed",
            200,
        ),
    ]
    assert rows[2].revision == _current(w)
