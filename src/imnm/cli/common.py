"""Shared plumbing for commands: output in text or JSON, error handling and exit codes.

Exit codes: 0 success, 2 invalid input (every problem listed), 1 unexpected failure.
Heavy libraries are imported inside functions so `imnm --help` starts fast.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer

from imnm.errors import ImnmError, InputError, Problem

P = ParamSpec("P")
R = TypeVar("R")

EXIT_OK, EXIT_FAILURE, EXIT_INVALID = 0, 1, 2

DISCLAIMER = (
    "Decision support, not a diagnosis. Classification criteria are research tools; "
    "the treating clinician decides."
)

JsonOpt = typer.Option(False, "--json", help="Print machine-readable JSON instead of text.")


def console() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def err_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=_default) + "\n")


def _default(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def report_problems(problems: list[Problem], *, as_json: bool, what: str = "input") -> None:
    if as_json:
        print_json({"ok": False, "error": "invalid_input", "problems": [p.as_dict() for p in problems]})
        return
    c = err_console()
    c.print(f"[bold red]✘ {len(problems)} problem(s) in {what}[/]")
    for p in problems:
        c.print("  • " + str(p), markup=False)


def fail_invalid(problems: list[Problem], *, as_json: bool, what: str = "input") -> NoReturn:
    report_problems(problems, as_json=as_json, what=what)
    raise typer.Exit(EXIT_INVALID)


def handle_errors(as_json_param: str = "as_json") -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn our errors into clear messages and exit codes; never show a traceback for bad input."""

    def deco(fn: Callable[P, R]) -> Callable[P, R]:
        @wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            as_json = bool(kwargs.get(as_json_param, False))
            try:
                return fn(*args, **kwargs)
            except (typer.Exit, typer.Abort, SystemExit, KeyboardInterrupt):
                raise
            except InputError as exc:
                fail_invalid(exc.problems, as_json=as_json, what=exc.what)
            except ImnmError as exc:
                err_console().print(f"error: {exc}", markup=False)
                raise typer.Exit(EXIT_INVALID) from None
            except Exception as exc:
                if os.environ.get("IMNM_DEBUG"):
                    raise
                msg = f"unexpected failure: {type(exc).__name__}: {exc}"
                if as_json:
                    print_json({"ok": False, "error": "unexpected", "message": msg})
                else:
                    err_console().print(
                        msg + "\n(this is a bug; rerun with IMNM_DEBUG=1 for the traceback and report it)",
                        markup=False,
                    )
                raise typer.Exit(EXIT_FAILURE) from None

        return wrapper

    return deco


def parse_as_of(value: str | None) -> date:
    """`--as-of` (ISO date) or today. The clock is read here, at the edge, never in the core."""
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(
            [Problem("--as-of", f"{value!r} is not an ISO date", "write YYYY-MM-DD", value=value)],
            what="command line",
        ) from None


AsOfOpt = typer.Option(
    None,
    "--as-of",
    metavar="DATE",
    help="Evaluate as of this date (YYYY-MM-DD). Default: today.",
)
DefaultUlnOpt = typer.Option(
    "none",
    "--default-uln",
    metavar="POLICY",
    help="When a CK result has no ULN: none (fold stays unknown; default), by_sex_common_lab "
    "(women 170, men 190 U/L) or flat_200. See knowledge/data/ck.yaml.",
)


def settings_from(
    default_uln: str | None = None, *, choices: list[str] | None = None, **options: object
) -> Any:
    """Settings from command-line options (`--default-uln`, `--choice NAME=OPTION`, and named options
    such as `screening_window=...`); every problem names the flag, the value and the fix."""
    from imnm.settings import Settings

    values: dict[str, object] = {k: v for k, v in options.items() if v is not None}
    if default_uln is not None:
        values["default_uln"] = default_uln
    problems: list[Problem] = []
    for item in choices or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            problems.append(
                Problem(
                    "--choice",
                    f"{item!r} is not SETTING=OPTION",
                    "e.g. --choice category_basis=probability",
                    item,
                )
            )
            continue
        values[key.strip()] = value.strip()
    if problems:
        raise InputError(problems, what="command line")
    try:
        return Settings.parse(values)
    except InputError as exc:
        raise InputError(
            [Problem(_flag(p.path), p.message, p.fix, p.value) for p in exc.problems], what="command line"
        ) from None


_FLAGS = {
    "default_uln": "--default-uln",
    "screening_window": "--screening-window",
    "unknown_policy": "--unknown-policy",
    "urgent_flags": "--urgent-flags",
    "percent_change_method": "--method",
    "kendall_trace_value": "--kendall-trace",
    "enzyme_window_days": "--window-days",
    "enzyme": "--enzyme",
    "population": "--population",
    "zero_or_missing_baseline": "--missing",
    "skin_or_biopsy_rule": "--skin-biopsy-rule",
    "category_basis": "--category-basis",
}


def _flag(setting: str) -> str:
    return _FLAGS.get(setting, f"--choice {setting}")


_STYLES = {
    "h1": "bold underline",
    "h2": "bold cyan",
    "text": "",
    "dim": "dim",
    "warn": "yellow",
    "urgent": "bold red",
}


def print_lines(lines: list[tuple[str, str]]) -> None:
    """Print renderer-neutral lines (`imnm.render`) with styles."""
    c = console()
    for i, (style, text) in enumerate(lines):
        if style in ("h1", "h2") and i:
            c.print()
        c.print(text, style=_STYLES.get(style) or None, markup=False)
