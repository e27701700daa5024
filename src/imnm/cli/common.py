"""Shared plumbing for commands: output in text or JSON, error handling and exit codes.

Exit codes: 0 success, 2 invalid input (every problem listed), 1 unexpected failure.
Heavy libraries are imported inside functions so `imnm --help` starts fast.
"""

from __future__ import annotations

import json
import math
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


# ------------------------------------------------------------------ terminal output
#
# Every command prints through `console()` / `err_console()` and builds tables with `table()`:
# - when the output is not a terminal (a pipe, a file), nothing is ever wrapped or cut;
# - in a terminal, table cells wrap, and a long number or fact name is folded, never cut with "…";
# - when the terminal's encoding cannot show a symbol (✔ ✘ 👁 × ≥ → … ⚠️), it is written in ASCII
#   (`ascii_text`), on stdout and stderr alike, for rich output, prompts and --help.

ASCII = {
    "✔": "OK",
    "✘": "X",
    "👁": "(review)",
    "×": "x",
    "≥": ">=",
    "≤": "<=",
    "≠": "!=",
    "→": "->",
    "←": "<-",
    "…": "...",
    "•": "*",
    "·": "-",
    "–": "-",
    "—": "-",
    "−": "-",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "≈": "~",
    "±": "+/-",
    "µ": "u",
    "μ": "u",
    "°": " deg",
    "⚠": "(!)",
    "❗": "(!!)",
    "✅": "(ok)",
    "☑": "(ok)",
    "🟡": "(partial)",
    "❌": "(x)",
    "\ufe0f": "",  # emoji presentation selector (⚠️, ☑️)
}
"""ASCII spellings of the symbols the output uses (for terminals that cannot show them)."""
_ERRORS = "imnm-ascii"
_PROBE = "✔✘👁×≥→…•⚠"


def ascii_text(text: str) -> str:
    """`text` with every non-ASCII character spelt in ASCII (symbols by `ASCII`, letters without accents)."""
    if text.isascii():
        return text
    import unicodedata

    out = []
    for ch in text:
        if ch.isascii():
            out.append(ch)
        elif ch in ASCII:
            out.append(ASCII[ch])
        else:
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(plain or "?")
    return "".join(out)


def _ascii_errors(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeEncodeError):
        raise err
    return ascii_text(err.object[err.start : err.end]), err.end


def _can_show(stream: object) -> bool:
    encoding = getattr(stream, "encoding", None)
    if not encoding:
        return True
    try:
        _PROBE.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def ascii_fallback() -> None:
    """Make stdout and stderr spell unencodable symbols in ASCII instead of failing (idempotent)."""
    import codecs

    try:
        codecs.lookup_error(_ERRORS)
    except LookupError:
        codecs.register_error(_ERRORS, _ascii_errors)
    for stream in (sys.stdout, sys.stderr):
        if not _can_show(stream) and getattr(stream, "errors", _ERRORS) != _ERRORS:
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors=_ERRORS)


def _console(stderr: bool, **kwargs: Any) -> Any:
    from rich.console import Console

    ascii_fallback()
    c = Console(stderr=stderr, highlight=False, soft_wrap=True, **kwargs)
    if not c.is_terminal and "width" not in kwargs:
        c.width = 100_000  # a pipe or a file: never wrap or cut anything
    return c


def console(**kwargs: Any) -> Any:
    """The console for results (stdout). Keyword arguments go to `rich.console.Console`."""
    return _console(False, **kwargs)


def err_console(**kwargs: Any) -> Any:
    """The console for prompts, progress and errors (stderr)."""
    return _console(True, **kwargs)


def table(*headers: str, **kwargs: Any) -> Any:
    """A rich `Table` whose cells wrap, and fold a long number or name, instead of cutting it with "…"."""
    from rich.table import Table

    t = Table(**kwargs)
    for h in headers:
        t.add_column(h, overflow="fold")
    return t


def print_json(data: object) -> None:
    """JSON on stdout: always valid (NaN and infinity as the strings "NaN", "Infinity", "-Infinity"),
    with non-ASCII characters escaped when the terminal cannot show them."""
    ascii_fallback()
    ascii_only = not _can_show(sys.stdout)
    try:
        text = json.dumps(data, indent=2, ensure_ascii=ascii_only, default=_default, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(data), indent=2, ensure_ascii=ascii_only, default=_default, allow_nan=False)
    sys.stdout.write(text + "\n")


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _default(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value"):
        return _finite(value.value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def report_problems(problems: list[Problem], *, as_json: bool, what: str = "input") -> None:
    if as_json:
        print_json({"ok": False, "error": "invalid_input", "problems": [p.as_dict() for p in problems]})
        return
    from rich.markup import escape

    c = err_console()
    c.print(f"[bold red]✘ {len(problems)} problem(s) in {escape(what)}[/]")
    # one print for all of them (rich takes about a millisecond a call: a 900-trial catalog has 900 problems)
    c.print("\n".join("  • " + str(p) for p in problems), markup=False, highlight=False)


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
    from imnm.types import FIRST_YEAR, LAST_YEAR

    if value is None:
        return date.today()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InputError(
            [Problem("--as-of", f"{value!r} is not an ISO date", "write YYYY-MM-DD", value=value)],
            what="command line",
        ) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InputError(
            [
                Problem(
                    "--as-of",
                    f"{value} is outside the years {FIRST_YEAR} to {LAST_YEAR}",
                    "check the year",
                    value=value,
                )
            ],
            what="command line",
        )
    return day


AsOfOpt = typer.Option(
    None,
    "--as-of",
    metavar="DATE",
    help="Evaluate as of this date (YYYY-MM-DD). Default: today.",
)
DefaultUlnOpt = typer.Option(
    None,
    "--default-uln",
    metavar="POLICY",
    help="When a CK result has no ULN (❗ choice ck.default_uln): documented_range (default: the fold is a "
    "range over the documented adult limits, 135-810 U/L), none (fold unknown), by_sex_common_lab "
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
