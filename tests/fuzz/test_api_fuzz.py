"""Fuzzing the records service in process (FastAPI TestClient over the real app on a real SQLite store):
request bodies, query strings, path parameters and headers of every route, and CDS Hooks requests.

Properties: tests/fuzz/harness.py (`api_failure`): 2xx or 4xx, never 5xx; a 4xx is problem+json that names
its place; a 422 lists problems with paths; JSON bodies are strict JSON; 2 s / 500 MB per request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import seeds
from tests.fuzz.harness import check_api, fuzz_settings
from tests.fuzz.mutate import NASTY_DATES, NASTY_STRINGS, Encoded, files

P = "/api/v1"
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from imnm.api.app import create_app
    from imnm.cds.service import CdsConfig
    from imnm.store.config import ServerSettings
    from tests.api.conftest import make_world

    w = make_world(tmp_path_factory.mktemp("fuzz-api"))
    cds = CdsConfig(public_base_url="http://testserver", require_jwt=False, fhir_timeout=0.5)
    w.cds = TestClient(create_app(ServerSettings(database_url=str(w.db.engine.url)), db=w.db, cds=cds))
    yield w
    w.db.dispose()


def _current(w: Any) -> int:
    from imnm.store.models import Patient

    with w.db.session() as s:
        return int(s.get(Patient, w.patient).current_revision)


# route -> (seeds, principal, yaml allowed)
BODY_ROUTES: dict[tuple[str, str], tuple[str, str, bool]] = {
    ("POST", f"{P}/validate"): ("records", "token_compute", True),
    ("POST", f"{P}/assess"): ("records_or_fhir", "token_compute", True),
    ("POST", f"{P}/activity"): ("records", "token_compute", True),
    ("POST", f"{P}/response"): ("records", "token_compute", True),
    ("POST", f"{P}/trials/match"): ("records_or_fhir", "token_compute", True),
    ("POST", f"{P}/screen"): ("answers", "token_compute", True),
    ("POST", f"{P}/fhir/import"): ("fhir", "token_compute", False),
    ("POST", f"{P}/patients"): ("records_or_fhir", "clinician", True),
    ("PATCH", f"{P}/patients/{{patient_id}}"): ("patch", "clinician", False),
    ("POST", f"{P}/patients/{{patient_id}}/reviews"): ("review", "coordinator", False),
    ("POST", f"{P}/auth/login"): ("login", "anonymous", False),
    ("POST", f"{P}/users"): ("user", "admin", False),
    ("PATCH", f"{P}/users/{{username}}"): ("user_patch", "admin", False),
    ("POST", f"{P}/teams"): ("team", "admin", False),
    ("POST", f"{P}/tokens"): ("token", "clinician", False),
    ("POST", f"{P}/patients/{{patient_id}}/erasure"): ("erasure", "admin", False),
    ("POST", f"{P}/patients/{{patient_id}}/erasure/confirm"): ("confirm", "admin", False),
}


@cache
def _seeds(name: str) -> tuple[Any, ...]:
    if name == "records":
        return seeds.records()
    if name == "records_or_fhir":
        return seeds.records() + seeds.fhir_bundles()[:6]
    if name == "fhir":
        return seeds.fhir_bundles()
    if name == "answers":
        return seeds.answers()
    if name == "patch":
        return seeds.PATCHES
    return seeds.API_BODIES[name]


@st.composite
def bodies(draw: st.DrawFn) -> tuple[tuple[str, str], Encoded, str]:
    route = draw(st.sampled_from(sorted(BODY_ROUTES)))
    name, _, yaml_ok = BODY_ROUTES[route]
    f = draw(files(_seeds(name), json_only=not yaml_ok or draw(st.booleans())))
    if f.ext == ".json" or not yaml_ok:
        ctype = "application/fhir+json" if name == "fhir" and draw(st.booleans()) else "application/json"
    else:
        ctype = "application/yaml"
    if draw(st.integers(0, 9)) == 0:
        ctype = draw(
            st.sampled_from(
                [
                    "",
                    "text/plain",
                    "application/x-www-form-urlencoded",
                    "multipart/form-data; boundary=x",
                    "application/json; charset=latin-1",
                    "application/xml",
                    "application/yaml",
                    "application/json;;",
                    "*/*",
                    "application/json\x7f",
                ]
            )
        )
    return route, f, ctype


def _url(w: Any, path: str, *, patient: str | None = None, username: str = "clinician") -> str:
    return path.replace("{patient_id}", patient or w.patient).replace("{username}", username)


def _victim(w: Any) -> str:
    """A patient of its own for erasure requests (so the world's patient stays)."""
    from imnm.record.load import parse_record
    from imnm.store import patients, users

    if not getattr(w, "victim", None):
        doc = {**seeds.records()[0], "id": "fuzz-erasure-victim"}
        with w.db.session() as s:
            clin = users.principal_for(s, users.user_by_name(s, "clinician"))
            p, _ = patients.create(s, clin, parse_record(doc), team="neuro", reason="fuzz victim")
            w.victim = p.id
    return str(w.victim)


@fuzz_settings("api_body")
@given(case=bodies(), if_match=st.sampled_from(["current", "current", "stale", "garbage", "none"]))
def test_request_bodies(world: Any, case: tuple[tuple[str, str], Encoded, str], if_match: str) -> None:
    (method, path), f, ctype = case
    _name, who, _ = BODY_ROUTES[(method, path)]
    w = world
    headers = dict(w.headers[who])
    if ctype:
        headers["content-type"] = ctype
    patient = _victim(w) if "erasure" in path else None
    if method == "PATCH" and "patients" in path:
        headers["If-Match"] = {
            "current": f'"{_current(w)}"',
            "stale": '"1"',
            "garbage": 'W/"x" , *',
            "none": "",
        }[if_match]
        if not headers["If-Match"]:
            del headers["If-Match"]
    url = _url(w, path, patient=patient)
    client = w.clients[who]
    check_api(
        "api_body",
        lambda: client.request(method, url, content=f.content, headers=headers),
        shown=f"{method} {url} [{ctype}] {f.show()}",
        blob=f.content,
    )


# ------------------------------------------------------------------ query strings, path parameters, headers


def _operations(app: Any) -> list[tuple[str, str, list[dict[str, Any]]]]:
    out = []
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            out.append((method.upper(), path, op.get("parameters", [])))
    return sorted(out, key=lambda x: (x[1], x[0]))


QUERY_VALUES = st.one_of(
    st.sampled_from(NASTY_DATES),
    st.sampled_from(NASTY_STRINGS),
    st.sampled_from(
        [
            "2026-11-25",
            "30d",
            "strict",
            "lenient",
            "probability",
            "none",
            "flat_200",
            "highest_possible",
            "within_weeks",
            "category_basis=probability",
            "x=y",
            "=",
            "1",
            "0",
            "-1",
            "200",
            "201",
            "999999999999999999999",
            "true",
            "NCT05523167",
            "%00",
            "%ff%fe",
            "a" * 3000,
        ]
    ),
    st.text(max_size=20),
)
PRINCIPALS = st.sampled_from(
    [
        "best",
        "best",
        "best",
        "anonymous",
        "token_revoked",
        "other",
        "coordinator",
        "token_read",
    ]
)


def _best(path: str, method: str) -> str:
    if path.startswith((f"{P}/users", f"{P}/teams")) or "erasure" in path:
        return "admin"
    if path.startswith(f"{P}/audit"):
        return "auditor"
    if path.startswith((f"{P}/patients", f"{P}/tokens", f"{P}/auth")):
        return "clinician"
    return "token_compute" if method == "POST" else "token_read"


def _valid_body(method: str, path: str) -> tuple[bytes | None, str | None]:
    route = BODY_ROUTES.get((method, path))
    if route is None:
        return None, None
    seed = _seeds(route[0])[0]
    return json.dumps(seed).encode(), "application/json"


@st.composite
def queries(draw: st.DrawFn, ops: list[tuple[str, str, list[dict[str, Any]]]]) -> dict[str, Any]:
    method, path, params = draw(st.sampled_from(ops))
    query: list[tuple[str, str]] = []
    path_values: dict[str, str] = {}
    for p in params:
        if p.get("in") == "path":
            if draw(st.integers(0, 2)) == 0:
                path_values[p["name"]] = draw(QUERY_VALUES)
        elif p.get("in") == "query" and draw(st.booleans()):
            for _ in range(draw(st.integers(1, 2))):
                query.append((p["name"], draw(QUERY_VALUES)))
    if draw(st.integers(0, 5)) == 0:
        query.append(
            (draw(st.sampled_from(["x", "as-of", "AS_OF", "", "choice", "trial[]"])), draw(QUERY_VALUES))
        )
    header = draw(
        st.sampled_from(
            ["", "", "", "auth_garbage", "cookie_garbage", "if_match_garbage", "accept", "host", "forwarded"]
        )
    )
    return {
        "method": method,
        "path": path,
        "query": query,
        "path_values": path_values,
        "who": draw(PRINCIPALS),
        "header": header,
        "header_value": draw(st.sampled_from(NASTY_STRINGS[:40])),
    }


def _latin1(text: str) -> str:
    return (
        text.encode("latin-1", "replace")
        .decode("latin-1")
        .replace("\r", "")
        .replace("\n", "")
        .replace("\x00", "")
    )


@fuzz_settings("api_query")
@given(data=st.data())
def test_query_strings_path_parameters_and_headers(world: Any, data: st.DataObject) -> None:
    w = world
    ops = getattr(w, "ops", None) or _operations(w.app)
    w.ops = ops
    q = data.draw(queries(ops))
    method, path = q["method"], q["path"]
    who = _best(path, method) if q["who"] == "best" else q["who"]
    url = path
    defaults = {
        "patient_id": w.patient,
        "trial_id": "NCT05523167",
        "username": "clinician",
        "token_id": "1",
    }
    for name in [n for n in defaults if "{" + n + "}" in url]:
        value = q["path_values"].get(name, defaults[name])
        url = url.replace("{" + name + "}", quote(value, safe=""))
    qs = "&".join(f"{quote(k, safe='')}={quote(v, safe='', errors='surrogatepass')}" for k, v in q["query"])
    full = url + ("?" + qs if qs else "")
    headers = dict(w.headers[who])
    body, ctype = _valid_body(method, path)
    if ctype:
        headers["content-type"] = ctype
    if method == "PATCH" and "patients" in path:
        headers["If-Match"] = f'"{_current(w)}"'
    v = _latin1(q["header_value"])
    extra = {
        "auth_garbage": ("authorization", "Bearer " + v),
        "cookie_garbage": ("cookie", f"imnm_session={v}; csrftoken={v}"),
        "if_match_garbage": ("if-match", v),
        "accept": ("accept", v or "*/*"),
        "host": ("host", v or "x"),
        "forwarded": ("x-forwarded-proto", v),
    }.get(q["header"])
    if extra:  # as bytes: httpx would refuse to encode a non-ASCII str (found by make fuzz: a test bug)
        headers[extra[0]] = extra[1].encode("latin-1")  # type: ignore[assignment]
    client = w.clients[who]
    if method in ("DELETE",) and path.endswith("{token_id}") and "token_id" not in q["path_values"]:
        full = full.replace("/tokens/1", "/tokens/999999")  # never revoke the world's own tokens
    if (method, path) == ("POST", f"{P}/auth/logout"):
        return  # would end the world's sessions; covered by tests/security
    if "erasure" in path and "patient_id" not in q["path_values"]:
        full = full.replace(w.patient, _victim(w))
    check_api(
        "api_query",
        lambda: client.request(method, full, content=body, headers=headers),
        shown=f"{who}: {method} {full} {extra or ''}",
    )


# ------------------------------------------------------------------ CDS Hooks


@cache
def _hook_seeds(service: str) -> tuple[Any, ...]:
    return tuple(b for s, b in seeds.cds_requests() if s == service)


@st.composite
def hook_requests(draw: st.DrawFn) -> tuple[str, Encoded, str]:
    service = draw(st.sampled_from(sorted({s for s, _ in seeds.cds_requests()})))
    f = draw(files(_hook_seeds(service), json_only=True, max_ops=3))
    auth = draw(
        st.sampled_from(["", "", "Bearer " + "e30." * 3, "Bearer x.y.z", "Basic Zm9vOmJhcg==", "Bearer"])
    )
    return service, f, auth


@fuzz_settings("cds_hook")
@given(case=hook_requests(), discovery=st.integers(0, 19))
def test_cds_hook_requests(world: Any, case: tuple[str, Encoded, str], discovery: int) -> None:
    service, f, auth = case
    client = world.cds
    if discovery == 0:
        check_api("cds_hook", lambda: client.get("/cds-services"), shown="GET /cds-services")
        return
    headers = {"content-type": "application/json"}
    if auth:
        headers["authorization"] = auth
    url = f"/cds-services/{service}"
    check_api(
        "cds_hook",
        lambda: client.post(url, content=f.content, headers=headers),
        shown=f"POST {url} {f.show()}",
        blob=f.content,
    )
