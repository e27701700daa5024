"""`imnm db|users|teams|tokens|patients|audit` against a store file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imnm.cli.main import app
from tests.conftest import DATA, EXAMPLES

PW = "operator password 1\n"


def run(*args: str, input: str | None = None) -> tuple[int, str]:
    r = CliRunner().invoke(app, list(args), input=input)
    return r.exit_code, r.output


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_store_commands_end_to_end(url: str, tmp_path: Path) -> None:
    db = ("--database", url)
    code, out = run("db", "current", *db)
    assert code == 2 and "run imnm db upgrade" in out
    code, out = run("users", "list", *db)
    assert code == 2 and "imnm db upgrade" in out  # every store command refuses an old schema
    assert run("db", "upgrade", *db)[0] == 0
    code, out = run("db", "current", "--json", *db)
    assert code == 0 and json.loads(out)["up_to_date"] is True
    # no default accounts; passwords from stdin or the terminal only, never too short
    code, out = run("users", "create-admin", "root", *db, input="")
    assert code == 2 and "--password-stdin" in out
    code, out = run("users", "create-admin", "root", "--password-stdin", *db, input="short\n")
    assert code == 2 and "at least 12" in out
    assert run("users", "create-admin", "root", "--password-stdin", *db, input=PW)[0] == 0
    assert run("teams", "add", "neuro", *db)[0] == 0
    code, out = run(
        "users", "add", "ann", "--role", "clinician", "--team", "nuero", "--password-stdin", *db, input=PW
    )
    assert code == 2 and "no team 'nuero'" in out
    code, out = run(
        "users", "add", "ann", "--role", "surgeon", "--team", "neuro", "--password-stdin", *db, input=PW
    )
    assert code == 2 and "'surgeon' is not a role" in out
    assert (
        run(
            "users", "add", "ann", "--role", "clinician", "--team", "neuro", "--password-stdin", *db, input=PW
        )[0]
        == 0
    )
    code, out = run("users", "list", "--json", *db)
    assert {u["username"]: u["roles"] for u in json.loads(out)["users"]} == {
        "ann": ["clinician"],
        "root": ["admin"],
    }
    # tokens: shown once, listed without the secret, revoked
    code, out = run("tokens", "create", "--user", "ann", "--scope", "read", "--name", "etl", "--json", *db)
    token = json.loads(out)
    assert code == 0 and token["token"].startswith("imnm_")
    code, out = run("tokens", "list", "--json", *db)
    assert token["token"] not in out and json.loads(out)["tokens"][0]["active"] is True
    assert run("tokens", "revoke", str(token["id"]), *db)[0] == 0
    assert json.loads(run("tokens", "list", "--json", *db)[1])["tokens"][0]["active"] is False
    # patients: an invalid file stores nothing; valid ones round-trip through export
    code, out = run(
        "patients",
        "import",
        str(EXAMPLES / "anti-hmgcr.yaml"),
        str(DATA / "invalid-four-problems.yaml"),
        "--team",
        "neuro",
        *db,
    )
    assert code == 2 and "4 problem(s)" in out
    assert json.loads(run("patients", "list", "--json", *db)[1])["total"] == 0
    code, out = run(
        "patients", "import", *map(str, sorted(EXAMPLES.glob("*.yaml"))), "--team", "neuro", "--json", *db
    )
    imported = json.loads(out)["imported"]
    assert code == 0 and len(imported) == len(list(EXAMPLES.glob("*.yaml")))
    first = imported[0]
    target = tmp_path / "exported.yaml"
    assert run("patients", "export", first["id"], "-o", str(target), *db)[0] == 0
    assert run("validate", str(target))[0] == 0
    from imnm.record.load import load_record
    from imnm.store.patients import canonical

    assert canonical(load_record(target)) == canonical(load_record(first["file"]))
    assert run("patients", "export", "nope", *db)[0] == 2
    code, out = run("audit", "--patient", first["id"], "--json", *db)
    assert [e["action"] for e in json.loads(out)["events"]] == ["patient.create", "patient.export"]
    code, out = run("audit", "--patient", "nope", "--json", *db)
    assert [(e["action"], e["outcome"]) for e in json.loads(out)["events"]] == [("patient.export", "denied")]
    code, out = run("audit", "verify", *db)
    assert code == 0 and "intact" in out
    assert run("users", "disable", "ann", *db)[0] == 0
    assert run("audit", "--since", "not-a-date", *db)[0] == 2


def test_environment_settings_are_checked() -> None:
    from imnm.errors import InputError
    from imnm.store.config import ServerSettings

    s = ServerSettings.from_env({"IMNM_SESSION_IDLE_MINUTES": "15", "IMNM_DATABASE_URL": "sqlite:///x.db"})
    assert s.session_idle_minutes == 15 and s.database_url == "sqlite:///x.db" and s.secret_key is None
    with pytest.raises(InputError) as e:
        ServerSettings.from_env({"IMNM_SESSION_IDLE_MINUTES": "soon", "IMNM_COOKIE_SECURE": "maybe"})
    assert {p.path for p in e.value.problems} == {"IMNM_SESSION_IDLE_MINUTES", "IMNM_COOKIE_SECURE"}


def test_secret_key_is_generated_once_per_database(url: str) -> None:
    from imnm.store.db import Database

    db = Database(url)
    db.upgrade()
    first = db.secret()
    assert len(first) >= 48 and Database(url).secret() == first
