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
