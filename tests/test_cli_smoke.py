"""Every command once as a real subprocess, as a user runs it (the rest of the CLI tests run in process).

A new command without a smoke case here fails `test_every_command_has_a_smoke_case`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA, EXAMPLES, ROOT

IMNM = [sys.executable, "-m", "imnm.cli.main"]
HMGCR = str(EXAMPLES / "anti-hmgcr.yaml")
RULE = "compare: {fact: lab.ck.fold, op: '>', value: 10, unit: xULN, select: max}\n"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*IMNM, *args], capture_output=True, text=True, cwd=ROOT, timeout=120, input=stdin)


# Commands that run until stopped: their real-process test lives elsewhere.
LONG_RUNNING = {"serve": "tests/api/test_http.py runs `imnm serve` as a real process on a free port"}


def store(tmp: Path) -> str:
    """A migrated store with a team and a user, for the records service commands."""
    url = f"sqlite:///{tmp / 'smoke.db'}"
    if not (tmp / "smoke.db").exists():
        from imnm.store import users
        from imnm.store.db import Database

        db = Database(url)
        db.upgrade()
        with db.session() as s:
            users.create_team(s, "smoke")
            users.create_user(s, "smoke", "smoke test password", roles=["clinician"], teams=["smoke"])
        db.dispose()
    return url


def cases(tmp: Path) -> dict[str, list[str]]:
    (tmp / "rule.yaml").write_text(RULE, encoding="utf-8")
    db = ["--database", store(tmp), "--json"]
    return {
        "db": ["db", "current", *db],
        "users": ["users", "list", *db],
        "teams": ["teams", "list", *db],
        "tokens": ["tokens", "create", "--user", "smoke", "--scope", "read", "--name", "smoke", *db],
        "patients": ["patients", "import", HMGCR, "--team", "smoke", *db],
        "audit": ["audit", "verify", *db],
        "validate": ["validate", HMGCR, "--json"],
        "schema": ["schema", "record"],
        "facts": ["facts", HMGCR, "--json", "--as-of", "2026-11-25"],
        "rule": ["rule", str(tmp / "rule.yaml"), HMGCR, "--json", "--as-of", "2026-11-25"],
        "screen": ["screen", str(EXAMPLES / "screener" / "answers.yaml"), "--json"],
        "assess": ["assess", HMGCR, "--json", "--as-of", "2026-11-25"],
        "activity": ["activity", HMGCR, "--json"],
        "response": ["response", HMGCR, "--json"],
        "trials": ["trials", HMGCR, "--json", "--as-of", "2026-11-25"],
        "fhir": ["fhir", "export", "record", HMGCR],
        "report": ["report", HMGCR, "-o", str(tmp / "report.html"), "--json", "--as-of", "2026-11-25"],
        "cohort": ["cohort", "synth", "--persons", "20", "--out", str(tmp / "omop"), "--json"],
    }


def test_every_command_has_a_smoke_case(tmp_path: Path) -> None:
    from imnm.cli.main import app

    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    names |= {g.name or "" for g in app.registered_groups}
    missing = sorted(n for n in names if n and n not in cases(tmp_path) and n not in LONG_RUNNING)
    assert not missing, f"commands without a smoke case in tests/test_cli_smoke.py: {missing}"


@pytest.mark.parametrize(
    "name",
    [
        "validate",
        "schema",
        "facts",
        "rule",
        "screen",
        "assess",
        "activity",
        "response",
        "trials",
        "fhir",
        "db",
        "users",
        "teams",
        "tokens",
        "patients",
        "audit",
        "report",
        "cohort",
    ],
)
def test_command_runs_as_a_real_process(name: str, tmp_path: Path) -> None:
    p = run(*cases(tmp_path)[name])
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    json.loads(p.stdout)  # every smoke case prints JSON


def test_bad_input_exits_2_without_a_traceback() -> None:
    p = run("validate", str(DATA / "invalid-four-problems.yaml"))
    assert p.returncode == 2 and "Traceback" not in p.stderr and "labs[1].unit" in p.stderr
