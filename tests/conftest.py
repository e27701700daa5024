"""Shared fixtures. All patient data here is synthetic."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DATA = Path(__file__).resolve().parent / "data"
AS_OF = date(2026, 11, 25)

settings.register_profile("ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="session")
def example_record():  # type: ignore[no-untyped-def]
    from imnm.record.load import load_record

    return load_record(EXAMPLES / "anti-hmgcr.yaml")


# ----------------------------------------------------------------- the command line, in process


class CliResult:
    """What a run of `imnm` gave: exit code, standard output and standard error."""

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def run_cli(*args: str, stdin: str | None = None) -> CliResult:
    """Run `imnm ARGS...` in this process (typer's runner): fast, same exit codes and output streams as
    the installed command. `tests/test_cli_smoke.py` runs each command once as a real subprocess."""
    from typer.testing import CliRunner

    from imnm.cli.main import app

    result = CliRunner().invoke(app, list(args), input=stdin, prog_name="imnm")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a bug the command did not turn into a message: show the traceback
    return CliResult(result.exit_code, result.stdout, result.stderr)


# -- the records service's real parts (tests/servers.py) -----------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes():  # type: ignore[no-untyped-def]
    """Argon2id with minimal cost in this process, so that creating and logging in users is fast.

    Production uses pwdlib's recommended parameters (checked in tests/store/test_store.py); servers
    started as separate processes by the tests use them too."""
    from imnm.store import users

    try:
        from pwdlib import PasswordHash
        from pwdlib.hashers.argon2 import Argon2Hasher
    except ImportError:  # the [server] extra is not installed
        yield
        return
    real = users._hasher
    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    users._hasher = lambda: cheap  # type: ignore[assignment]
    yield
    users._hasher = real


@pytest.fixture(scope="session")
def pg_cluster():  # type: ignore[no-untyped-def]
    """A throwaway PostgreSQL cluster for the whole run (started on first use, stopped by PID)."""
    from tests.servers import start_cluster

    cluster = start_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_cluster):  # type: ignore[no-untyped-def]
    """A migrated database to copy (CREATE DATABASE ... TEMPLATE) for each test."""
    from imnm.store.db import Database

    url = pg_cluster.create_database()
    db = Database(url)
    db.upgrade()
    db.dispose()
    return url.rsplit("/", 1)[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):  # type: ignore[no-untyped-def]
    """A migrated, empty store on SQLite (a file) and on PostgreSQL (a fresh database)."""
    if request.param == "sqlite":
        from imnm.store.db import Database

        url = f"sqlite:///{tmp_path / 'store.db'}"
        db = Database(url)
        db.upgrade()
        db.dispose()
        return url
    cluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(template=request.getfixturevalue("pg_template"))
