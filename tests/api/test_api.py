"""The API's contract: responses equal the CLI's --json, problem+json errors, CSRF, sessions, tokens."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from imnm.cli.main import app as cli
from tests.api.conftest import PASSWORD, World, login
from tests.conftest import AS_OF, EXAMPLES

P = "/api/v1"
RECORDS = sorted(EXAMPLES.glob("*.yaml"))


def cli_json(*args: str) -> Any:
    r = CliRunner().invoke(cli, [*args, "--json"])
    assert r.exit_code in (0, 2), r.output
    return json.loads(r.output)


def yaml(path: Path) -> dict[str, Any]:
    return {"content": path.read_bytes(), "headers": {"content-type": "application/yaml"}}


def post(w: World, who: str, url: str, **kw: Any) -> Any:
    headers = {**w.headers[who], **kw.pop("headers", {})}
    return w.clients[who].post(url, headers=headers, **kw)


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.stem)
def test_compute_routes_answer_exactly_the_cli_json(shared_world: World, path: Path) -> None:
    w, day = shared_world, AS_OF.isoformat()
    checks = [
        (f"{P}/validate", ["validate", str(path)]),
        (f"{P}/assess?as_of={day}", ["assess", str(path), "--as-of", day]),
        (
            f"{P}/assess?as_of={day}&category_basis=probability&choice=cancer_screening=all_imnm",
            [
                "assess",
                str(path),
                "--as-of",
                day,
                "--category-basis",
                "probability",
                "--choice",
                "cancer_screening=all_imnm",
            ],
        ),
        (f"{P}/activity", ["activity", str(path)]),
        (f"{P}/trials/match?as_of={day}", ["trials", str(path), "--as-of", day]),
    ]
    for url, args in checks:
        r = post(w, "clinician", url, **yaml(path))
        expected = cli_json(*args)
        if args[0] == "validate":
            expected["files"][0]["file"] = None
        assert r.status_code == 200, r.text
        assert r.json() == expected, url
    r = post(w, "clinician", f"{P}/response", **yaml(path))
    out = CliRunner().invoke(cli, ["response", str(path), "--json"])
    if out.exit_code == 0:
        assert r.status_code == 200 and r.json() == json.loads(out.output)
    else:  # fewer than two visits: the same problem, as problem+json
        assert r.status_code == 422
        assert r.json()["problems"] == json.loads(out.output)["problems"]


def test_screen_equals_the_cli(shared_world: World) -> None:
    f = EXAMPLES / "screener" / "answers.yaml"
    r = post(shared_world, "clinician", f"{P}/screen?urgent_flags=within_weeks", **yaml(f))
    assert r.status_code == 200
    assert r.json() == cli_json("screen", str(f), "--urgent-flags", "within_weeks")


def test_invalid_record_gets_the_problems_of_imnm_validate(shared_world: World) -> None:
    bad = Path(__file__).resolve().parents[1] / "data" / "invalid-four-problems.yaml"
    r = post(shared_world, "clinician", f"{P}/assess", **yaml(bad))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    expected = cli_json("validate", str(bad))["files"][0]["problems"]
    for p in expected:
        p["file"] = None
    assert body["problems"] == expected and len(expected) == 4
    assert body["type"] == "urn:imnm:problem:invalid-input" and body["status"] == 422


@pytest.mark.parametrize(
    ("content", "ctype", "status", "path"),
    [
        (b'{"id": "x", ', "application/json", 422, "line 1, column 13"),
        (b'{"id": "x", "age_at_onset": NaN}', "application/json", 422, "age_at_onset"),
        (b"id: [unclosed", "application/yaml", 422, None),
        (b"id: x", "text/plain", 415, None),
        (b"<record/>", "application/xml", 415, None),
        (b"", "application/json", 422, ""),
        (b"\xff\xfe", "application/json", 422, ""),
        (b"[" * 5000 + b"]" * 5000, "application/json", 422, ""),
    ],
)
def test_bad_bodies_are_4xx_problems_never_500(
    shared_world: World, content: bytes, ctype: str, status: int, path: str | None
) -> None:
    r = post(shared_world, "clinician", f"{P}/assess", content=content, headers={"content-type": ctype})
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    if path is not None:
        assert r.json()["problems"][0]["path"] == path


def test_body_too_large_is_413(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from imnm.api.app import create_app
    from imnm.store.config import ServerSettings
    from imnm.store.db import Database

    url = f"sqlite:///{tmp_path / 'x.db'}"
    Database(url).upgrade()
    c = TestClient(create_app(ServerSettings(database_url=url, max_body_bytes=1000)))
    r = c.post(
        f"{P}/assess", content=b'{"id": "' + b"x" * 2000 + b'"}', headers={"content-type": "application/json"}
    )
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"


def test_bad_query_options_name_the_parameter(shared_world: World) -> None:
    body = yaml(EXAMPLES / "anti-hmgcr.yaml")
    r = post(shared_world, "clinician", f"{P}/assess?as_of=2026-13-01&choice=nonsense", **body)
    assert r.status_code == 422
    assert [p["path"] for p in r.json()["problems"]] == ["as_of"]
    r = post(shared_world, "clinician", f"{P}/assess?choice=nonsense", **body)
    assert [p["path"] for p in r.json()["problems"]] == ["choice"]
    r = post(shared_world, "clinician", f"{P}/activity?kendall_trace=lots", **body)
    assert r.status_code == 422 and r.json()["problems"][0]["path"] == "kendall_trace"
    r = post(shared_world, "clinician", f"{P}/trials/match?trial=NCT00000000", **body)
    assert r.status_code == 422 and r.json()["problems"][0]["path"] == "trial"
    r = shared_world.clients["clinician"].get(f"{P}/patients?limit=0")
    assert r.status_code == 422 and r.json()["problems"][0]["path"] == "limit"


def test_stored_patient_views_equal_the_cli_on_the_exported_record(world: World, tmp_path: Path) -> None:
    """Create → PATCH (a new CK) → every computed view equals the CLI on the updated record file."""
    c, h = world.clients["clinician"], world.headers["clinician"]
    r = c.post(
        f"{P}/patients?team=neuro",
        headers={**h, "content-type": "application/yaml"},
        content=(EXAMPLES / "anti-srp-grades-haq.yaml").read_bytes(),
    )
    assert r.status_code == 201 and r.headers["etag"] == '"1"'
    pid = r.json()["id"]
    assert r.headers["location"] == f"{P}/patients/{pid}"
    ck = {"test": "ck", "value": 950, "unit": "U/L", "uln": 200, "date": "2025-06-01"}
    r = c.patch(
        f"{P}/patients/{pid}",
        headers={**h, "If-Match": '"1"'},
        json={"reason": "follow-up CK", "operations": [{"op": "add_lab", "value": ck}]},
    )
    assert r.status_code == 200 and r.headers["etag"] == '"2"'
    doc = c.get(f"{P}/patients/{pid}").json()["record"]
    f = tmp_path / "updated.json"
    f.write_text(json.dumps(doc))
    day = AS_OF.isoformat()
    for url, args in [
        (f"/assessment?as_of={day}", ["assess", str(f), "--as-of", day]),
        ("/activity", ["activity", str(f)]),
        ("/response", ["response", str(f)]),
        (f"/trials?as_of={day}", ["trials", str(f), "--as-of", day]),
    ]:
        r = c.get(f"{P}/patients/{pid}{url}")
        assert r.status_code == 200 and r.headers["etag"] == '"2"'
        assert r.json() == cli_json(*args), url
    old = c.get(f"{P}/patients/{pid}/assessment?as_of={day}&revision=1").json()
    assert old != c.get(f"{P}/patients/{pid}/assessment?as_of={day}").json()
    assert c.get(f"{P}/patients/{pid}?revision=1").json()["record"] != doc
    changes = c.get(f"{P}/patients/{pid}/diff?from=1&to=2").json()["changes"]
    assert [x["change"] for x in changes] == ["added"] and changes[0]["new"]["value"] == 950
    revs = c.get(f"{P}/patients/{pid}/revisions").json()["revisions"]
    assert [(x["number"], x["by"], x["reason"]) for x in revs] == [
        (1, "clinician", "created"),
        (2, "clinician", "follow-up CK"),
    ]
    assert c.get(f"{P}/patients/{pid}?revision=9").status_code == 404


def test_two_clients_same_revision_one_conflict(world: World) -> None:
    c1, h1 = world.clients["clinician"], world.headers["clinician"]
    c2, h2 = login(world.app, "clinician")
    url = f"{P}/patients/{world.patient}"
    op = {
        "op": "add_lab",
        "value": {"test": "ck", "value": 300, "unit": "U/L", "uln": 200, "date": "2025-01-02"},
    }
    r1 = c1.patch(url, headers={**h1, "If-Match": '"1"'}, json={"reason": "a", "operations": [op]})
    r2 = c2.patch(url, headers={**h2, "If-Match": '"1"'}, json={"reason": "b", "operations": [op]})
    assert (r1.status_code, r2.status_code) == (200, 409)
    assert r2.json()["current_revision"] == 2 and r2.headers["etag"] == '"2"'
    assert c1.patch(url, headers=h1, json={"reason": "a", "operations": [op]}).status_code == 428
    r3 = c2.patch(
        url, headers={**h2, "If-Match": r2.headers["etag"]}, json={"reason": "b", "operations": [op]}
    )
    assert r3.status_code == 200 and r3.headers["etag"] == '"3"'


def test_update_problems_point_into_the_request(world: World) -> None:
    c, h = world.clients["clinician"], world.headers["clinician"]
    r = c.patch(
        f"{P}/patients/{world.patient}",
        headers={**h, "If-Match": '"1"'},
        json={
            "reason": "x",
            "operations": [
                {"op": "add_lab", "value": {"test": "ck", "value": 300, "unit": "mg", "uln": 200}}
            ],
        },
    )
    assert r.status_code == 422
    (p,) = r.json()["problems"]
    assert (p["path"], p["record_path"], p["value"]) == ("operations[0].value.unit", "labs[5].unit", "mg")
    assert p["message"] == "'mg' is not a unit for CK"
    r = c.patch(f"{P}/patients/{world.patient}", headers={**h, "If-Match": '"1"'}, json={"operations": []})
    assert r.status_code == 422 and {q["path"] for q in r.json()["problems"]} == {"reason", "operations"}


def test_cookie_writes_need_the_csrf_header_tokens_do_not(world: World) -> None:
    c = world.clients["clinician"]
    url = f"{P}/patients/{world.patient}/reviews"
    body = {"trial": "NCT05523167", "criterion": "inc-1", "met": True}
    r = c.post(url, json=body)
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    assert c.post(url, json=body, headers={"x-csrftoken": "forged"}).status_code == 403
    assert c.post(url, json=body, headers=world.headers["clinician"]).status_code == 201
    from fastapi.testclient import TestClient

    t = TestClient(world.app)
    assert t.post(url, json=body, headers=world.headers["token_write"]).status_code == 201


def test_session_cookie_flags_rotation_logout(world: World) -> None:
    from fastapi.testclient import TestClient

    c = TestClient(world.app)
    r = c.post(f"{P}/auth/login", json={"username": "coordinator", "password": PASSWORD})
    cookie = next(
        v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("imnm_session=")
    )
    flags = {f.strip().lower() for f in cookie.split(";")}
    assert {"httponly", "samesite=lax", "path=/"} <= flags and "secure" not in flags  # plain HTTP here
    csrf_cookie = next(
        v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("csrftoken=")
    )
    assert "httponly" not in csrf_cookie.lower()  # scripts (htmx) read it to send X-CSRFToken
    first = c.cookies["imnm_session"]
    csrf = {"x-csrftoken": c.cookies["csrftoken"]}
    r = c.post(f"{P}/auth/login", json={"username": "coordinator", "password": PASSWORD}, headers=csrf)
    second = c.cookies["imnm_session"]
    assert r.status_code == 200 and second != first
    stale = TestClient(world.app, cookies={"imnm_session": first})
    assert stale.get(f"{P}/auth/me").status_code == 401  # the old session ended at the new login
    assert c.get(f"{P}/auth/me").json()["username"] == "coordinator"
    assert c.post(f"{P}/auth/logout", headers=csrf).status_code == 204
    assert TestClient(world.app, cookies={"imnm_session": second}).get(f"{P}/auth/me").status_code == 401
    assert (
        c.post(f"{P}/auth/login", json={"username": "coordinator", "password": "wrong password"}).status_code
        == 401
    )


def test_secure_cookie_behind_https(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from imnm.api.app import create_app
    from imnm.store import users
    from imnm.store.config import ServerSettings
    from imnm.store.db import Database

    url = f"sqlite:///{tmp_path / 's.db'}"
    db = Database(url)
    db.upgrade()
    with db.session() as s:
        users.create_user(s, "ann", PASSWORD, roles=["auditor"])
    c = TestClient(create_app(ServerSettings(database_url=url)), base_url="https://testserver")
    r = c.post(f"{P}/auth/login", json={"username": "ann", "password": PASSWORD})
    cookie = next(
        v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("imnm_session=")
    )
    assert "secure" in {f.strip().lower() for f in cookie.split(";")}


def test_login_throttled_with_retry_after(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from imnm.api.app import create_app
    from imnm.store.config import ServerSettings
    from imnm.store.db import Database

    url = f"sqlite:///{tmp_path / 't.db'}"
    Database(url).upgrade()
    c = TestClient(create_app(ServerSettings(database_url=url, login_max_failures_account=2)))
    for _ in range(2):
        assert (
            c.post(f"{P}/auth/login", json={"username": "eve", "password": "guess guess 1"}).status_code
            == 401
        )
    r = c.post(f"{P}/auth/login", json={"username": "eve", "password": "guess guess 1"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_token_shown_once_stored_hashed_and_revocable(world: World) -> None:
    from fastapi.testclient import TestClient
    from sqlalchemy import text

    c, h = world.clients["clinician"], world.headers["clinician"]
    r = c.post(f"{P}/tokens", headers=h, json={"name": "etl", "scope": "read", "expires_in_days": 7})
    assert r.status_code == 201
    secret, tid = r.json()["token"], r.json()["id"]
    listed = c.get(f"{P}/tokens").json()["tokens"]
    assert secret not in json.dumps(listed) and any(t["id"] == tid for t in listed)
    with world.db.session() as s:
        assert secret not in json.dumps(
            [list(x) for x in s.execute(text("SELECT * FROM api_tokens")).all()], default=str
        )
    t = TestClient(world.app)
    auth = {"authorization": f"Bearer {secret}"}
    assert t.get(f"{P}/patients/{world.patient}", headers=auth).status_code == 200
    assert (
        t.patch(f"{P}/patients/{world.patient}", headers={**auth, "If-Match": '"1"'}, json={}).status_code
        == 403
    )
    assert c.delete(f"{P}/tokens/{tid}", headers=h).status_code == 204
    assert t.get(f"{P}/patients/{world.patient}", headers=auth).status_code == 401
    assert t.get(f"{P}/patients", headers={"authorization": "Basic abc"}).status_code == 401


def test_erasure_two_steps_over_http(world: World) -> None:
    a, ha = world.clients["admin"], world.headers["admin"]
    url = f"{P}/patients/{world.patient}/erasure"
    r = a.post(url, headers=ha, json={"reason": "patient's request"})
    assert r.status_code == 202
    token = r.json()["token"]
    assert a.post(url + "/confirm", headers=ha, json={"token": "nope"}).status_code == 422
    assert a.post(url + "/confirm", headers=ha, json={"token": token}).status_code == 200
    assert world.clients["clinician"].get(f"{P}/patients/{world.patient}").status_code == 404
    assert a.post(url + "/confirm", headers=ha, json={"token": token}).status_code == 422
    au = world.clients["auditor"].get(f"{P}/audit?patient={world.patient}").json()["events"]
    steps = [(e["action"], e["status"]) for e in au if e["action"].startswith("patient.eras")]
    assert steps == [
        ("patient.erasure_request", 202),
        ("patient.erase", 422),
        ("patient.erase", 200),
        ("patient.erase", 422),
    ]
    assert world.clients["auditor"].get(f"{P}/audit/verify").json()["ok"] is True


def test_openapi_and_docs(shared_world: World) -> None:
    c = shared_world.clients["anonymous"]
    spec = c.get("/openapi.json").json()
    assert {"Record", "PatchBody", "ReviewIn"} <= set(spec["components"]["schemas"])
    patch = spec["paths"][f"{P}/patients/{{patient_id}}"]["patch"]
    assert patch["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PatchBody"
    }
    ops = spec["components"]["schemas"]["PatchBody"]["properties"]["operations"]
    assert "discriminator" in json.dumps(ops)
    assert c.get("/docs").status_code == 200
    r = c.get(f"{P}/nope")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = c.get(f"{P}/health")
    assert (
        r.headers["x-content-type-options"] == "nosniff"
        and "frame-ancestors 'none'" in r.headers["content-security-policy"]
    )


def test_no_patient_data_in_application_logs(world: World, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    c, h = world.clients["clinician"], world.headers["clinician"]
    c.get(f"{P}/patients?q=example-anti-hmgcr")
    c.get(f"{P}/patients/{world.patient}/assessment")
    c.patch(
        f"{P}/patients/{world.patient}",
        headers={**h, "If-Match": '"1"'},
        json={
            "reason": "x",
            "operations": [{"op": "add_lab", "value": {"test": "ck", "value": 31337, "unit": "mg"}}],
        },
    )
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore", "asyncio"))]
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in server)
    assert "imnm.access GET /api/v1/patients/{patient_id}/assessment 200" in text
    for secret in ("example-anti-hmgcr", world.patient, "31337", "HMGCR"):
        assert secret not in text


def test_the_api_on_postgresql(pg_cluster, pg_template) -> None:  # type: ignore[no-untyped-def]
    """The same app on a real PostgreSQL: create, review, stale write, computed view, audit chain."""

    from imnm.api.app import create_app
    from imnm.store import users
    from imnm.store.config import ServerSettings
    from imnm.store.db import Database

    url = pg_cluster.create_database(template=pg_template)
    db = Database(url)
    with db.session() as s:
        users.create_team(s, "neuro")
        users.create_user(s, "pat", PASSWORD, roles=["clinician"], teams=["neuro"])
        users.create_user(s, "aud", PASSWORD, roles=["auditor"])
    app = create_app(ServerSettings(database_url=url), db=db)
    c, h = login(app, "pat")
    r = c.post(
        f"{P}/patients",
        headers={**h, "content-type": "application/yaml"},
        content=(EXAMPLES / "anti-hmgcr.yaml").read_bytes(),
    )
    assert r.status_code == 201
    pid = r.json()["id"]
    day = AS_OF.isoformat()
    before = c.get(f"{P}/patients/{pid}/trials?as_of={day}&trial=NCT05523167").json()
    for crit in ("inc-1", "inc-6"):
        r = c.post(
            f"{P}/patients/{pid}/reviews",
            headers=h,
            json={"trial": "NCT05523167", "criterion": crit, "met": True},
        )
        assert r.status_code == 201
    after = c.get(f"{P}/patients/{pid}/trials?as_of={day}&trial=NCT05523167").json()
    assert before != after  # the stored reviews reach the matcher
    op = {"op": "set_finding", "value": {"name": "dysphagia", "value": True}}
    assert (
        c.patch(
            f"{P}/patients/{pid}", headers={**h, "If-Match": '"1"'}, json={"reason": "a", "operations": [op]}
        ).status_code
        == 200
    )
    assert (
        c.patch(
            f"{P}/patients/{pid}", headers={**h, "If-Match": '"1"'}, json={"reason": "b", "operations": [op]}
        ).status_code
        == 409
    )
    assert c.get(f"{P}/patients/{pid}/assessment?as_of={day}").status_code == 200
    a, _ = login(app, "aud")
    assert a.get(f"{P}/audit/verify").json()["ok"] is True
    events = a.get(f"{P}/audit?patient={pid}").json()["events"]
    assert [e["action"] for e in events] == [
        "patient.create",
        "patient.trials",
        "review.create",
        "review.create",
        "patient.trials",
        "patient.update",
        "patient.update",
        "patient.assessment",
    ]
    db.dispose()
