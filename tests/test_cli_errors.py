"""Exit codes of the error handler: 2 for input problems, 1 for unexpected failures, no traceback."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from imnm.cli.common import handle_errors
from imnm.errors import InputError, Problem

app = typer.Typer()


@app.command()
@handle_errors()
def boom(kind: str, as_json: bool = typer.Option(False, "--json")) -> None:
    if kind == "input":
        raise InputError([Problem("labs[0].unit", "'mg' is not a unit for CK", "use U/L or ukat/L", "mg")])
    raise RuntimeError("something broke")


def test_input_error_exits_2_with_the_problem() -> None:
    result = CliRunner().invoke(app, ["input"])
    assert result.exit_code == 2
    assert "labs[0].unit: 'mg' is not a unit for CK; use U/L or ukat/L" in result.output


def test_unexpected_failure_exits_1_without_traceback() -> None:
    result = CliRunner().invoke(app, ["other"])
    assert result.exit_code == 1
    assert "unexpected failure: RuntimeError: something broke" in result.output
    assert "Traceback" not in result.output


def test_unexpected_failure_as_json() -> None:
    result = CliRunner().invoke(app, ["other", "--json"])
    assert result.exit_code == 1
    assert '"error": "unexpected"' in result.output
