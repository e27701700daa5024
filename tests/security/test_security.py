"""Security checks over every route of the app (the API, the web pages, CDS Hooks), in process on a real
SQLite store. What tests/api, tests/web and tests/store already check is not repeated here:

| check | where |
|---|---|
| role × route matrix of the API and the web pages (a route without a row fails) | tests/api/test_matrix.py, tests/web/matrix.py |
| ... and of CDS Hooks (every caller kind; a CDS route without a row fails) | here |
| CSRF: header rule, form field, multipart, login form | tests/web/test_csrf.py, tests/api/test_api.py |
| CSRF on **every** cookie-authenticated write route | here |
| session cookie flags, rotation at login, logout, Secure behind HTTPS | tests/api/test_api.py |
| session fixation (a planted session cookie never becomes the victim's session) | here |
| login throttling (per account and address, Retry-After) | tests/store, tests/api/test_api.py, here (the web form) |
| token and session expiry and revocation over HTTP | tests/store (store level), tests/api (revocation), here (expiry) |
| security headers on every route's answer, errors included | here |
| upload size 413 and content types 415 (API and web) | tests/api/test_api.py (API), here (web) |
| no path traversal in any parameter or option that names a file | here |
| no patient data in logs after a scripted session | tests/api/test_api.py (API log records), tests/security/test_logs.py (a real server) |
| templates auto-escape | here |
| SQL with bound parameters only (quotes and semicolons in every text field) | here |
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import PASSWORD, World, login, make_world
from tests.api.test_matrix import KINDS, MATRIX, _request, app_routes, record_json
from tests.conftest import EXAMPLES

P = "/api/v1"
WRITES = ("POST", "PATCH", "PUT", "DELETE")


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = make_world(tmp_path_factory.mktemp("security"))
    yield world
    world.db.dispose()


# ------------------------------------------------------------------ CDS Hooks in the role × route matrix


@pytest.fixture(scope="module")
def cds_app(w: World) -> Any:
    from imnm.api.app import create_app
    from imnm.cds.security import TrustedClient
    from imnm.cds.service import CdsConfig
    from imnm.store.config import ServerSettings
    from tests.cds.conftest import ISS, Ehr

    ehr = Ehr()
    app = create_app(
        ServerSettings(database_url=str(w.db.engine.url)),
        db=w.db,
        cds=CdsConfig(public_base_url="http://testserver", clients=[TrustedClient(iss=ISS, jwks=ehr.jwks)]),
    )
    app.state.test_ehr = ehr
    return app


CDS_KINDS = (
    "anonymous",
    "ehr",
    "ehr_expired",
    "ehr_wrong_audience",
    "ehr_unknown_key",
    "session",
    "api_token",
)
CDS_MATRIX: dict[tuple[str, str], dict[str, int]] = {
    # discovery is public (CDS Hooks 2.0); calls and feedback need the EHR's JWT, nothing else
    ("GET", "/cds-services"): dict.fromkeys(CDS_KINDS, 200),
    ("POST", "/cds-services/{service_id}"): {**dict.fromkeys(CDS_KINDS, 401), "ehr": 200},
    ("POST", "/cds-services/{service_id}/feedback"): {**dict.fromkeys(CDS_KINDS, 401), "ehr": 200},
}


def test_every_cds_route_has_a_row(cds_app: Any) -> None:
    cds_routes = app_routes(cds_app) - set(MATRIX)
    assert cds_routes == set(CDS_MATRIX), f"CDS routes without a row: {sorted(cds_routes - set(CDS_MATRIX))}"


def _cds_auth(app: Any, w: World, kind: str, url: str) -> tuple[Any, dict[str, str]]:
    ehr = app.state.test_ehr
    if kind == "ehr":
        return TestClient(app), {"authorization": f"Bearer {ehr.token(url)}"}
    if kind == "ehr_expired":
        return TestClient(app), {"authorization": f"Bearer {ehr.token(url, exp=1, iat=0)}"}
    if kind == "ehr_wrong_audience":
        return TestClient(app), {"authorization": f"Bearer {ehr.token('http://elsewhere.invalid/cds')}"}
    if kind == "ehr_unknown_key":
        from tests.cds.conftest import Ehr

        return TestClient(app), {"authorization": f"Bearer {Ehr().token(url)}"}
    if kind == "session":
        c, headers = login(app, "clinician")
        return c, headers
    if kind == "api_token":
        return TestClient(app), dict(w.headers["token_write"])
    return TestClient(app), {}


@pytest.mark.parametrize("key", sorted(CDS_MATRIX), ids=lambda k: f"{k[0]} {k[1]}")
def test_cds_route_matrix(cds_app: Any, w: World, key: tuple[str, str]) -> None:
    from imnm.adapters.fhir.write import record_to_bundle
    from imnm.record.load import load_record
    from tests.cds.test_service import PV, hook_body, prefetch_of

    method, path = key
    url = path.replace("{service_id}", PV)
    pid, pre = prefetch_of(record_to_bundle(load_record(EXAMPLES / "anti-hmgcr.yaml")))
    bodies = {
        f"/cds-services/{PV}": hook_body("patient-view", pid, pre),
        f"/cds-services/{PV}/feedback": {
            "feedback": [
                {
                    "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
                    "outcome": "overridden",
                    "overrideReason": {"reason": {"code": "not-relevant", "system": "http://example.org"}},
                    "outcomeTimestamp": "2026-11-25T10:00:00Z",
                }
            ]
        },
    }
    got, said = {}, {}
    for kind in CDS_KINDS:
        client, headers = _cds_auth(cds_app, w, kind, f"http://testserver{url}")
        r = client.request(method, url, json=bodies.get(url), headers=headers)
        got[kind], said[kind] = r.status_code, r.text[:300]
        _check_headers(r, f"{method} {url} as {kind}")
    assert got == CDS_MATRIX[key], said.get("ehr")


# ------------------------------------------------------------------ CSRF on every cookie-authenticated write


def _allowed_kind(expected: dict[str, int]) -> str | None:
    """A logged-in (cookie) kind the route lets through."""
    return next((k for k in ("clinician", "admin", "coordinator", "auditor") if expected[k] < 400), None)


COOKIE_WRITES = sorted(
    k for k in MATRIX if k[0] in WRITES and k not in {("POST", f"{P}/auth/login"), ("POST", "/login")}
)


@pytest.mark.parametrize("key", COOKIE_WRITES, ids=lambda k: f"{k[0]} {k[1]}")
def test_every_cookie_authenticated_write_needs_the_csrf_token(w: World, key: tuple[str, str]) -> None:
    expected, _, build = MATRIX[key]
    kind = _allowed_kind(expected)
    assert kind is not None, f"no logged-in role may call {key}: give it a CSRF case by hand"
    spec = build(w, kind)
    client = spec.get("client") or w.clients[kind]
    method, path = key
    headers = {k: v for k, v in (spec.get("headers") or {}).items() if k.lower() != "x-csrftoken"}
    url = path
    for k, v in (spec.get("path") or {}).items():
        url = url.replace("{" + k + "}", v)
    url = url.replace("{patient_id}", w.patient) + spec.get("query", "")
    kwargs: dict[str, Any] = {"follow_redirects": False}
    for part in ("data", "files", "content"):
        if part in spec:
            kwargs[part] = spec[part]
    if "json" in spec:
        kwargs["content"] = json.dumps(spec["json"]).encode()
        headers.setdefault("content-type", "application/json")
    assert "imnm_session" in client.cookies, "the request must carry a session cookie"
    before = w.events()
    for forged in (None, "forged-token"):
        h = headers if forged is None else {**headers, "x-csrftoken": forged}
        r = client.request(method, url, headers=h, **kwargs)
        assert r.status_code == 403, (key, forged, r.status_code, r.text[:300])
    assert w.events() == before, (
        "a refused forged write must not reach the route (nothing audited, nothing done)"
    )
    # the same request with the token goes through (the refusal was the token's)
    good = dict(spec["headers"]) if spec.get("client") else {**headers, **w.headers[kind]}
    r = client.request(method, url, headers=good, **kwargs)
    assert r.status_code == expected[kind], (key, r.status_code, r.text[:300])
    if spec.get("client") is None and key[1].endswith("logout"):
        w.clients[kind], w.headers[kind] = login(w.app, kind)


# ------------------------------------------------------------------ session fixation, expiry, throttling


def test_a_planted_session_cookie_never_becomes_the_victims_session(w: World) -> None:
    """An attacker's own valid session (or a made-up value) planted in the victim's browser: logging in
    (API or web form) issues a new session; the planted one never becomes the victim's."""
    attacker, _ = login(w.app, "coordinator")
    planted = attacker.cookies["imnm_session"]
    for how in ("api", "web"):
        for value in (planted, "made-up-session-value"):
            victim = TestClient(w.app, cookies={"imnm_session": value})
            if how == "api":
                r = victim.post(f"{P}/auth/login", json={"username": "clinician", "password": PASSWORD})
                if (
                    r.status_code == 403
                ):  # the planted session's CSRF rule: the victim's page sends the header
                    csrf = {"x-csrftoken": victim.cookies.get("csrftoken") or ""}
                    r = victim.post(
                        f"{P}/auth/login", json={"username": "clinician", "password": PASSWORD}, headers=csrf
                    )
                if r.status_code == 403:  # refused under the planted session: it cannot become the victim's
                    me = TestClient(w.app, cookies={"imnm_session": value}).get(f"{P}/auth/me")
                    assert me.status_code == 401 or me.json()["username"] == "coordinator"
                    continue
                assert r.status_code == 200, r.text
            else:
                html = victim.get("/login").text
                token = re.search(r'name="csrftoken" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
                r = victim.post(
                    "/login",
                    data={"username": "clinician", "password": PASSWORD, "next": "/", "csrftoken": token},
                    follow_redirects=False,
                )
                assert r.status_code == 303, r.text[:300]
            new = _set_cookie(r, "imnm_session")
            assert new and new != value, (how, "the login kept the planted session")
            who = TestClient(w.app, cookies={"imnm_session": value}).get(f"{P}/auth/me")
            assert who.status_code == 401 or who.json()["username"] == "coordinator", (how, who.text)
            me = TestClient(w.app, cookies={"imnm_session": new}).get(f"{P}/auth/me")
            assert me.json()["username"] == "clinician"


def _set_cookie(r: Any, name: str) -> str | None:
    for k, v in r.headers.multi_items():
        if k == "set-cookie" and v.startswith(name + "="):
            return str(v.split(";")[0].split("=", 1)[1])
    return None


def test_an_expired_session_and_an_expired_token_are_refused_over_http(w: World) -> None:
    from sqlalchemy import update

    from imnm.store import users
    from imnm.store.models import ApiToken, LoginSession
    from imnm.store.users import utcnow

    c, _ = login(w.app, "clinician")
    assert c.get(f"{P}/patients/{w.patient}").status_code == 200
    with w.db.session() as s:
        u = users.user_by_name(s, "clinician")
        row, secret = users.create_token(s, u, name="short", scope="read", days=1)
        tid = row.id
    t = TestClient(w.app)
    auth = {"authorization": f"Bearer {secret}"}
    assert t.get(f"{P}/patients/{w.patient}", headers=auth).status_code == 200
    past = utcnow() - timedelta(seconds=1)
    with w.db.session() as s:
        s.execute(update(ApiToken).where(ApiToken.id == tid).values(expires_at=past))
        s.execute(
            update(LoginSession)
            .where(
                LoginSession.user_id == users.user_by_name(s, "clinician").id, LoginSession.ended_at.is_(None)
            )
            .values(expires_at=past)
        )
    assert t.get(f"{P}/patients/{w.patient}", headers=auth).status_code == 401
    assert c.get(f"{P}/patients/{w.patient}").status_code == 401
    page = c.get(f"/patients/{w.patient}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    # the world's own sessions were logged in again for the other tests
    for kind in ("clinician",):
        w.clients[kind], w.headers[kind] = login(w.app, kind)


def test_the_web_login_form_is_throttled_too(tmp_path: Path) -> None:
    from imnm.api.app import create_app
    from imnm.store.config import ServerSettings
    from imnm.store.db import Database

    url = f"sqlite:///{tmp_path / 't.db'}"
    Database(url).upgrade()
    c = TestClient(create_app(ServerSettings(database_url=url, login_max_failures_account=2)))
    statuses = []
    for _ in range(3):
        token = re.search(r'name="csrftoken" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
        r = c.post(
            "/login", data={"username": "eve", "password": "guess guess 1", "next": "/", "csrftoken": token}
        )
        statuses.append(r.status_code)
    assert statuses == [401, 401, 429]
    assert r.headers["content-type"].startswith("text/html") and int(r.headers["retry-after"]) > 0


# ------------------------------------------------------------------ security headers on every answer


def _check_headers(r: Any, what: str) -> None:
    h = r.headers
    csp = h.get("content-security-policy", "")
    assert csp, f"{what}: no Content-Security-Policy"
    directives = {d.split()[0]: d.split()[1:] for d in (x.strip() for x in csp.split(";")) if d}
    assert directives.get("frame-ancestors") == ["'none'"], (what, csp)
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts is not None and not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:"} & set(scripts), (
        what,
        csp,
    )
    if h.get("content-type", "").startswith("text/html"):
        assert scripts in (["'self'"], ["'none'"]), (what, csp)  # our own files, or none at all
    else:
        assert directives.get("default-src") == ["'none'"], (what, csp)
    assert h.get("x-content-type-options") == "nosniff", what
    assert h.get("referrer-policy") == "no-referrer", what
    assert h.get("x-frame-options") == "DENY", what
    assert "strict-transport-security" not in h, f"{what}: HSTS over plain HTTP"


@pytest.mark.parametrize("key", sorted(MATRIX), ids=lambda k: f"{k[0]} {k[1]}")
def test_every_route_answers_with_the_security_headers(w: World, key: tuple[str, str]) -> None:
    """For every kind of caller (so denials, redirects and errors are covered as well as answers)."""
    _, _, build = MATRIX[key]
    for kind in ("anonymous", "clinician", "auditor", "token_read"):
        r = _request(w, kind, key[0], key[1], build(w, kind))
        _check_headers(r, f"{key} as {kind} ({r.status_code})")
        if r.status_code == 200 and r.headers.get("content-type", "").startswith(
            ("text/html", "application/json")
        ):
            assert r.headers.get("cache-control") == "no-store", key  # no copies of patient data


@pytest.mark.parametrize(
    "path",
    [
        "/static/htmx.min.js",
        "/static/app.css",
        "/docs/static/swagger-ui-bundle.js",
        "/docs/static/init.js",
        "/nope",
        f"{P}/nope",
        "/static/nope.js",
    ],
)
def test_static_files_and_unknown_paths_have_the_headers(w: World, path: str) -> None:
    _check_headers(w.clients["anonymous"].get(path), path)


def test_https_adds_strict_transport_security(w: World) -> None:
    r = TestClient(w.app, base_url="https://testserver").get(f"{P}/health")
    assert r.headers["strict-transport-security"].startswith("max-age=")


# ------------------------------------------------------------------ uploads: 413 and 415 on the web


def test_a_web_upload_too_large_is_a_413_page(w: World) -> None:
    from imnm.store.config import ServerSettings

    limit = ServerSettings(database_url="sqlite://").max_body_bytes
    body = b"id: big\n" + b"# " + b"x" * (limit + 10) + b"\n"
    r = w.clients["clinician"].post(
        "/patients/upload",
        files={"file": ("record.yaml", body, "application/yaml")},
        headers=w.headers["clinician"],
    )
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
    assert "too large" in r.text and f"{limit:,}" in r.text
    _check_headers(r, "413 page")


@pytest.mark.parametrize(
    ("name", "ctype"),
    [("record.png", "image/png"), ("record.exe", "application/octet-stream"), ("record.yaml", "image/png")],
)
def test_a_web_upload_of_another_kind_of_file_is_refused(w: World, name: str, ctype: str) -> None:
    r = w.clients["clinician"].post(
        "/patients/upload",
        files={"file": (name, b"\x89PNG\r\n\x1a\n", ctype)},
        headers=w.headers["clinician"],
    )
    assert r.status_code in (415, 422) and r.headers["content-type"].startswith("text/html"), r.status_code
    assert "upload a .yaml" in r.text or "not a record file" in r.text or "cannot" in r.text


@pytest.mark.parametrize(
    "ctype", ["application/xml", "text/csv", "image/png", "multipart/form-data; boundary=x"]
)
def test_api_bodies_of_another_media_type_are_415(w: World, ctype: str) -> None:
    r = w.clients["token_compute"].post(
        f"{P}/assess", content=b"<x/>", headers={**w.headers["token_compute"], "content-type": ctype}
    )
    assert r.status_code == 415 and r.headers["content-type"] == "application/problem+json"


# ------------------------------------------------------------------ path traversal

TRAVERSALS = (
    "../../../../../../etc/passwd",
    "..%2f..%2f..%2f..%2fetc%2fpasswd",
    "%2e%2e%2f%2e%2e%2fpyproject.toml",
    "....//....//etc/passwd",
    "..\\..\\..\\etc\\passwd",
    "/etc/passwd",
    "%00../../etc/passwd",
)
LEAKS = ("root:x:0:0", "[project]", "[build-system]", "import ", "def ")


def _param_routes() -> list[tuple[str, str]]:
    return sorted(k for k in MATRIX if "{" in k[1] and k[0] == "GET")


@pytest.mark.parametrize("key", _param_routes(), ids=lambda k: f"{k[0]} {k[1]}")
def test_no_path_parameter_reads_a_file_outside_the_app(w: World, key: tuple[str, str]) -> None:
    method, path = key
    for bad in TRAVERSALS:
        url = re.sub(r"\{[^}]+\}", lambda _m, bad=bad: bad, path)
        for kind in ("clinician", "admin"):
            r = w.clients[kind].request(method, url, headers=w.headers[kind], follow_redirects=False)
            assert r.status_code in (303, 400, 403, 404, 405, 422), (url, kind, r.status_code)
            assert not any(s in r.text for s in LEAKS), (url, r.text[:300])


@pytest.mark.parametrize("prefix", ["/static/", "/docs/static/"])
def test_static_files_stay_in_their_folder(w: World, prefix: str) -> None:
    for bad in (*TRAVERSALS, "../app.py", "..%2fapp.py", "../../store/db.py", "%2e%2e/docs.py"):
        r = w.clients["anonymous"].get(prefix + bad)
        assert r.status_code in (400, 404), (prefix + bad, r.status_code)
        assert not any(s in r.text for s in LEAKS), prefix + bad


def test_query_parameters_that_name_things_do_not_name_files(w: World) -> None:
    c, h = w.clients["clinician"], w.headers["clinician"]
    for bad in TRAVERSALS:
        for url in (
            f"{P}/patients/{w.patient}/trials?trial={bad}",
            f"{P}/patients/{w.patient}/fhir?what={bad}",
            f"{P}/patients/{w.patient}/report.pdf?for={bad}",
            f"{P}/trials?status={bad}",
            f"/patients/{w.patient}/edit/{bad}",
            f"/login?next={bad}",
        ):
            r = c.get(url, headers=h, follow_redirects=False)
            assert r.status_code < 500 and not any(s in r.text for s in LEAKS), (url, r.status_code)


def test_the_login_form_never_redirects_off_site(w: World) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        c = TestClient(w.app)
        token = re.search(r'name="csrftoken" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
        r = c.post(
            "/login",
            data={"username": "clinician", "password": PASSWORD, "next": target, "csrftoken": token},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"].startswith("/"), target
        assert not r.headers["location"].startswith(("//", "/\\")), (target, r.headers["location"])
    w.clients["clinician"], w.headers["clinician"] = login(w.app, "clinician")


def test_an_omop_zip_cannot_write_outside_its_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Zip slip: entries named ../../x.csv are unpacked by their base name into the cache folder only."""
    from imnm.adapters.omop import source

    monkeypatch.setenv("IMNM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(source, "cache_dir", lambda: tmp_path / "cache")
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("../../../escaped.csv", "person_id\n1\n")
        f.writestr("/abs/person.csv", "person_id\n1\n")
    out = source.unpack_zip(z)
    assert out.is_relative_to(tmp_path / "cache")
    assert not (tmp_path / "escaped.csv").exists() and not list(tmp_path.parent.glob("escaped.csv"))
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "escaped.csv",
        "person.csv",
    ]


def test_catalog_trial_ids_cannot_name_a_path() -> None:
    """A trial's id names its file when the catalog is updated (`{id}.yaml`): ids are plain names."""
    from pydantic import ValidationError

    from imnm.trials.model import Trial

    for bad in ("../../etc/x", "a/b", "..", "x\\y", ".hidden"):
        with pytest.raises(ValidationError):
            Trial.model_validate({"id": bad})


def test_cli_output_options_refuse_to_overwrite_and_name_the_file(tmp_path: Path) -> None:
    """The CLI's file options write only where they are told and never over an existing file unasked."""
    from tests.conftest import run_cli

    target = tmp_path / "report.pdf"
    target.write_bytes(b"keep me")
    p = run_cli("report", str(EXAMPLES / "anti-hmgcr.yaml"), "-o", str(target), "--json")
    assert p.returncode == 2 and target.read_bytes() == b"keep me"
    assert str(target) in p.stdout + p.stderr


# ------------------------------------------------------------------ templates auto-escape

XSS = '<script>alert("x")</script>'
XSS_ATTR = '" onmouseover="alert(1)'


def _hostile_record(record_id: str) -> dict[str, Any]:
    doc = record_json(record_id)
    doc["medications"] = [
        *(doc.get("medications") or []),
        {"name": XSS, "start": "2025-01-01", "dose": XSS_ATTR, "route": "<img src=x onerror=alert(1)>"},
    ]
    doc.setdefault("biopsy", {})["site"] = XSS
    doc["vaccinations"] = [{"name": XSS, "date": "2025-02-01"}]
    doc["labs"] = [
        *doc["labs"],
        {"test": "ck", "value": 900, "unit": "U/L", "uln": 200, "date": "2025-03-01"},
    ]
    return doc


def test_free_text_with_script_renders_inert_in_every_page_and_report(w: World) -> None:
    c, h = w.clients["clinician"], w.headers["clinician"]
    r = c.post(f"{P}/patients?team=neuro", json=_hostile_record(f"xss-{w.fresh()}"), headers=h)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    r = c.post(
        f"{P}/patients/{pid}/reviews",
        json={"trial": "NCT05523167", "criterion": "inc-1", "met": True, "note": XSS},
        headers=h,
    )
    assert r.status_code == 201, r.text
    pages = [
        f"/patients/{pid}",
        f"/patients/{pid}/assessment?as_of=2026-11-25",
        f"/patients/{pid}/activity",
        f"/patients/{pid}/history",
        f"/patients/{pid}/trials?as_of=2026-11-25",
        f"/patients/{pid}/edit/medications",
        f"/patients/{pid}/edit/biopsy",
        f"/patients/{pid}/edit/vaccinations",
        "/patients?q=xss",
        f"{P}/patients/{pid}/report.html?as_of=2026-11-25",
        f"{P}/patients/{pid}/report.html?as_of=2026-11-25&for=patient",
    ]
    for page in pages:
        r = c.get(page, headers=h)
        assert r.status_code == 200, (page, r.status_code)
        html = r.text
        assert "<script>alert" not in html and "<img src=x" not in html, page
        assert 'onmouseover="alert' not in html, page
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert all("src=" in s for s in scripts), (page, scripts)  # only our own script files
    shown = c.get(f"/patients/{pid}/edit/medications", headers=h).text
    assert "&lt;script&gt;alert(" in shown  # the text is there, escaped


# ------------------------------------------------------------------ SQL: bound parameters only

SQLISH = ("O'Brien", "x'; DROP TABLE patients; --", 'a"b;c', "1; DELETE FROM audit_events", "\\'; --", "%_*")


def test_quotes_and_semicolons_in_every_text_field_round_trip(w: World) -> None:
    from sqlalchemy import inspect, text

    c, h = w.clients["clinician"], w.headers["clinician"]
    a, ha = w.clients["admin"], w.headers["admin"]
    with w.db.session() as s:
        tables_before = set(inspect(s.get_bind()).get_table_names())
        audit_before = s.execute(text("SELECT COUNT(*) FROM audit_events")).scalar_one()
    for i, value in enumerate(SQLISH):
        rid = f"sql-{i}-{w.fresh()}"
        doc = record_json(rid)
        doc["medications"] = [{"name": value, "start": "2025-01-01", "dose": value, "route": value}]
        doc.setdefault("biopsy", {})["site"] = value
        doc["vaccinations"] = [{"name": value, "date": "2025-02-01"}]
        r = c.post(f"{P}/patients?team=neuro&reason={value}", json=doc, headers=h)
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        got = c.get(f"{P}/patients/{pid}", headers=h).json()["record"]
        assert got["medications"][0] == {"name": value, "start": "2025-01-01", "dose": value, "route": value}
        assert got["biopsy"]["site"] == value and got["vaccinations"][0]["name"] == value
        r = c.patch(
            f"{P}/patients/{pid}",
            json={
                "reason": value,
                "operations": [{"op": "set_finding", "value": {"name": "fever", "value": False}}],
            },
            headers={**h, "If-Match": '"1"'},
        )
        assert r.status_code == 200, r.text
        revs = c.get(f"{P}/patients/{pid}/revisions", headers=h).json()
        assert [x["reason"] for x in revs["revisions"]][-1] == value, "the reason is stored as given"
        r = c.post(
            f"{P}/patients/{pid}/reviews",
            json={"trial": "NCT05523167", "criterion": "inc-1", "met": True, "note": value},
            headers=h,
        )
        assert (
            r.status_code == 201
            and c.get(f"{P}/patients/{pid}/reviews", headers=h).json()["reviews"][0]["note"] == value
        )
        # searches with the value: found by what it is, nothing else
        found = c.get(f"{P}/patients", params={"q": value}, headers=h).json()
        assert found["total"] == 0 or all(value in p["record_id"] or value in p["id"] for p in found["items"])
        assert c.get(f"{P}/patients", params={"q": rid}, headers=h).json()["total"] == 1
        # names of teams and users, and the audit log's filters
        team = f"team {value} {i}"
        r = a.post(f"{P}/teams", json={"name": team}, headers=ha)
        if r.status_code == 201:
            assert team in json.dumps(a.get(f"{P}/teams", headers=ha).json())
        else:  # team names are plain words: refused by name, never an SQL error
            assert r.status_code == 422 and r.json()["problems"][0]["path"] == "name", r.text
        r = w.clients["auditor"].get(
            f"{P}/audit", params={"actor": value, "patient": value}, headers=w.headers["auditor"]
        )
        assert r.status_code in (200, 422) and (r.status_code == 422 or r.json()["events"] == [])
    r = c.get(f"/patients?q={SQLISH[1]}", headers=h)
    assert r.status_code == 200
    with w.db.session() as s:
        assert set(inspect(s.get_bind()).get_table_names()) == tables_before
        assert s.execute(text("SELECT COUNT(*) FROM audit_events")).scalar_one() > audit_before
    assert w.clients["auditor"].get(f"{P}/audit/verify", headers=w.headers["auditor"]).json()["ok"] is True


def test_store_and_omop_sql_is_written_with_bound_parameters() -> None:
    """No SQL text in src is assembled from request values: every execute() with f-string SQL interpolates
    only identifiers the code chose (table, column, view names), and values go as parameters. A reviewed
    list: a new f-string execute must be looked at and added here."""
    src = Path(__file__).resolve().parents[2] / "src" / "imnm"
    found = set()
    for f in src.rglob("*.py"):
        for m in re.finditer(r'execute(?:_driver_sql)?\(\s*f"', f.read_text(encoding="utf-8")):
            found.add(f.relative_to(src).as_posix())
            del m
    reviewed = {
        "adapters/omop/source.py",  # table / view names from COLUMNS and the folder's files (quoted paths)
        "adapters/omop/concepts.py",  # relation names from Source.tables
        "adapters/omop/staging.py",
        "services/cohort.py",
        "sqlcompile/run.py",
        "adapters/omop/synth.py",  # generated tables; the output path quoted (quotes doubled)
        "store/migrations/versions/0001_initial.py",  # fixed table names
    }
    assert found <= reviewed, (
        f"SQL built with f-strings outside the reviewed files: {sorted(found - reviewed)}"
    )


def test_record_ids_kinds_and_roles_are_all_covered() -> None:
    assert set(KINDS) >= {"anonymous", "clinician", "coordinator", "auditor", "admin", "other"}
