"""Real HTTP: `imnm serve` (uvicorn) in its own process on a free loopback port, driven with httpx.

Includes issue 11's "done when": scripts/api_walkthrough.py, HTTP only, against the server."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from imnm.cli.main import app as cli
from tests.conftest import EXAMPLES, ROOT
from tests.servers import Server

ADMIN_PW = "walkthrough admin pw"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'serve.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").create_database()  # empty: `imnm db upgrade` below
    r = CliRunner().invoke(cli, ["db", "upgrade", "--database", url])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        cli, ["users", "create-admin", "root", "--password-stdin", "--database", url], input=ADMIN_PW + "\n"
    )
    assert r.exit_code == 0, r.output
    return url


def test_serve_refuses_an_out_of_date_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    r = subprocess.run(
        [sys.executable, "-m", "imnm.cli.main", "serve", "--database", url, "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "imnm db upgrade --database" in r.stdout + r.stderr


def test_done_when_walkthrough_over_http(database: str, tmp_path: Path) -> None:
    server = Server(database, log_dir=tmp_path)
    try:
        out = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "api_walkthrough.py"), server.url, "--admin", "root"],
            input=ADMIN_PW + "\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr + server.output()
        result = json.loads(out.stdout)
        r = httpx.get(server.url + "/openapi.json")
        assert r.status_code == 200 and "/api/v1/patients/{patient_id}" in r.json()["paths"]
        assert httpx.get(server.url + "/docs").status_code == 200
    finally:
        server.stop()
    assert "example-anti-hmgcr" not in server.output()  # no patient data in the server's log
    pid = result["patient"]
    assert (result["coordinator_patch"], result["other_team_read"]) == (403, 404)
    updated = tmp_path / "updated.json"
    updated.write_text(json.dumps(result["record"]))
    cli_out = CliRunner().invoke(cli, ["assess", str(updated), "--json", "--as-of", "2026-11-25"])
    assert result["assessment"] == json.loads(cli_out.output)
    assert result["record"]["labs"][-1]["value"] == 12000
    steps = [(e["actor"], e["action"], e["patient"], e["outcome"], e["status"]) for e in result["audit"]]
    import getpass

    expected = [
        (f"cli:{getpass.getuser()}", "user.create", None, "allowed", None),  # imnm users create-admin
        ("root", "team.create", None, "allowed", 201),
        ("root", "team.create", None, "allowed", 201),
        ("root", "user.create", None, "allowed", 201),
        ("root", "user.create", None, "allowed", 201),
        ("root", "user.create", None, "allowed", 201),
        ("root", "user.create", None, "allowed", 201),
        ("clin", "patient.create", pid, "allowed", 201),
        ("clin", "patient.update", pid, "allowed", 200),
        ("clin", "patient.read", pid, "allowed", 200),
        ("clin", "patient.assessment", pid, "allowed", 200),
        ("coord", "patient.update", pid, "denied", 403),
        ("other", "patient.read", pid, "denied", 404),
    ]
    without_logins = [s for s in steps if s[1] != "auth.login"]
    assert without_logins[: len(expected)] == expected
    assert [s[0] for s in steps if s[1] == "auth.login"] == ["root", "clin", "coord", "other", "audit"]
    assert all(e["client"] == "127.0.0.1" for e in result["audit"] if not e["route"].startswith("cli:"))
    # the chain verifies, and fails once a row is edited directly in the database
    verify = CliRunner().invoke(cli, ["audit", "verify", "--database", database])
    assert verify.exit_code == 0, verify.output
    listed = CliRunner().invoke(cli, ["audit", "--patient", pid, "--json", "--database", database])
    assert [e["action"] for e in json.loads(listed.output)["events"]][:2] == [
        "patient.create",
        "patient.update",
    ]
    tamper = (
        "UPDATE audit_events SET outcome = 'allowed' WHERE action = 'patient.update' AND outcome = 'denied'"
    )
    if database.startswith("sqlite"):
        conn = sqlite3.connect(database.removeprefix("sqlite:///"))
        conn.execute("DROP TRIGGER audit_events_no_update")
        conn.execute(tamper)
        conn.commit()
        conn.close()
    else:
        import psycopg

        with psycopg.connect(database.replace("+psycopg", ""), autocommit=True) as pg:
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                pg.execute(tamper)
            pg.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
            pg.execute(tamper)
    broken = CliRunner().invoke(cli, ["audit", "verify", "--database", database])
    assert broken.exit_code == 1 and "edited" in broken.output


def test_concurrent_clients_on_two_workers(database: str, tmp_path: Path) -> None:
    """Two worker processes, many clients writing on the same revision: exactly one wins per revision."""
    from concurrent.futures import ThreadPoolExecutor

    server = Server(database, workers=2, log_dir=tmp_path)
    try:
        c = httpx.Client(base_url=server.url, timeout=30, limits=httpx.Limits(max_connections=8))
        c.post("/api/v1/auth/login", json={"username": "root", "password": ADMIN_PW}).raise_for_status()
        h = {"x-csrftoken": c.cookies["csrftoken"]}
        c.post("/api/v1/teams", json={"name": "neuro"}, headers=h).raise_for_status()
        c.patch(
            "/api/v1/users/root", json={"roles": ["admin", "clinician"], "teams": ["neuro"]}, headers=h
        ).raise_for_status()
        r = c.post(
            "/api/v1/patients",
            content=(EXAMPLES / "anti-hmgcr.yaml").read_bytes(),
            headers={**h, "content-type": "application/yaml"},
        )
        pid = r.json()["id"]

        def write(i: int) -> int:
            op = {"op": "add_lab", "value": {"test": "ck", "value": 1000 + i, "unit": "U/L", "uln": 200}}
            return c.patch(
                f"/api/v1/patients/{pid}",
                headers={**h, "If-Match": '"1"'},
                json={"reason": f"writer {i}", "operations": [op]},
            ).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(write, range(16)))
        assert sorted(codes) == [200] + [409] * 15
        revs = c.get(f"/api/v1/patients/{pid}/revisions").json()["revisions"]
        assert [x["number"] for x in revs] == [1, 2]
        c.close()
    finally:
        server.stop()
