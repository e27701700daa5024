"""`imnm activity` (every visit's core set measures and their trend) and `imnm response` (the TIS).

Registered on the main app by `register(app)`. Heavy imports stay inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from imnm.cli.common import JsonOpt, console, handle_errors, print_json, table
from imnm.errors import InputError, Problem

RecordArg = Annotated[Path, typer.Argument(help="A record file (.yaml, .yml or .json).", metavar="FILE")]
WindowOpt = typer.Option(
    None,
    "--window-days",
    metavar="N",
    help="Use a muscle-enzyme result up to N days from a visit when none is on the visit date "
    "(default 7; 0 = same day only; ⚠️ choice enzyme_visit_window_days). The offset is always reported.",
)
TraceOpt = typer.Option(
    None,
    "--kendall-trace",
    metavar="VALUE",
    help="Numeric value of Kendall 'T' (trace): zero (default), half, one or not_computable "
    "(⚠️ choice kendall_trace_value; not stated in a source).",
)
EnzymeOpt = typer.Option(
    None,
    "--enzyme",
    metavar="TEST",
    help="Follow this enzyme (ck, aldolase, ast, alt, ldh) instead of the most abnormal one at baseline "
    "by fold over ULN (choice enzyme_most_abnormal_by).",
)


def _settings(
    *,
    method: str | None = None,
    trace: str | None = None,
    window: int | None = None,
    enzyme: str | None = None,
    population: str = "auto",
    missing: str | None = None,
    worsening_clause: bool = False,
) -> Any:
    from imnm.cli.common import settings_from

    if window is not None and window < 0:
        raise InputError(
            [Problem("--window-days", f"{window} is negative", "use 0 or more days", value=window)],
            what="command line",
        )
    return settings_from(
        percent_change_method=method,
        kendall_trace_value=trace,
        enzyme_window_days=window,
        enzyme=enzyme,
        population=population,
        zero_or_missing_baseline=missing,
        imacs_doi_worsening_clause="enabled" if worsening_clause else None,
    )


def _date(option: str, value: str | None) -> Any:
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(
            [Problem(option, f"{value!r} is not an ISO date", "write YYYY-MM-DD", value=value)],
            what="command line",
        ) from None


def activity(
    file: RecordArg,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            metavar="OUT.png|OUT.svg",
            help="Draw CK (× ULN, log scale) and MMT-8 over time to a PNG or SVG file (needs matplotlib: pip install 'imnm[plot]').",
        ),
    ] = None,
    window_days: int | None = WindowOpt,
    kendall_trace: str | None = TraceOpt,
    enzyme: str | None = EnzymeOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Show every visit's IMACS core set measures (MMT-8, HAQ-DI, global activity, muscle enzyme) and their trend."""
    from imnm import services

    rec = services.load_patient(file)
    result = services.activity(
        rec, settings=_settings(trace=kendall_trace, window=window_days, enzyme=enzyme)
    )
    visits = list(result.visits)
    if plot is not None:
        from imnm.activity.plot import plot_activity

        plot_activity(result.facts, visits, plot, title=rec.id)
    if as_json:
        data = result.as_dict()
        if plot is not None:
            data["plot"] = str(plot)
        print_json(data)
        return
    from imnm.render.activity import activity as render

    spec, lines = render(result, plot=str(plot) if plot is not None else None)
    _print(spec, lines)


def _print(spec: Any, lines: list[tuple[str, str]]) -> None:
    from imnm.cli.common import print_lines

    if spec is not None:
        t = table(*spec.headers, title=spec.title)
        for row in spec.rows:
            t.add_row(*row)
        console().print(t)
    print_lines(lines)


def response(
    file: RecordArg,
    from_: Annotated[
        str | None, typer.Option("--from", metavar="DATE", help="Baseline visit date (default: first visit).")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", metavar="DATE", help="Follow-up visit date (default: last visit).")
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(
            "--method",
            metavar="NAME",
            help="How percent change is computed (⚠️ choice percent_change_method): range_normalised_relative_enzyme "
            "(default, clinical.md §3.3) or range_normalised_relative_enzyme_fold.",
        ),
    ] = None,
    population: Annotated[
        str,
        typer.Option(
            "--population",
            metavar="WHO",
            help="auto (juvenile when onset was before 18; default), adult or juvenile thresholds.",
        ),
    ] = "auto",
    missing: Annotated[
        str | None,
        typer.Option(
            "--missing",
            metavar="RULE",
            help="Missing measures: design_rule (default: TIS range, no single TIS or category) or "
            "missing_as_zero_points (score 0, report the minimum). ⚠️ choice zero_or_missing_baseline.",
        ),
    ] = None,
    doi_worsening_clause: Annotated[
        bool,
        typer.Option(
            "--doi-worsening-clause",
            help="Also apply the unverified (⚠️) IMACS DOI clause: no more than 2 measures worse by ≥ 25 %, MMT not one of them.",
        ),
    ] = False,
    window_days: int | None = WindowOpt,
    kendall_trace: str | None = TraceOpt,
    enzyme: str | None = EnzymeOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Report the 2016 ACR/EULAR Total Improvement Score (TIS) between two visits, with the IMACS definition of improvement."""
    from imnm import services

    rec = services.load_patient(file)
    settings = _settings(
        method=method,
        trace=kendall_trace,
        window=window_days,
        enzyme=enzyme,
        population=population,
        missing=missing,
        worsening_clause=doi_worsening_clause,
    )
    res = services.response(rec, start=_date("--from", from_), end=_date("--to", to), settings=settings)
    if as_json:
        print_json(res.as_dict())
        return
    from imnm.render.activity import response as render

    spec, lines = render(res)
    _print(spec, lines)


def register(app: typer.Typer) -> None:
    """Add `activity` and `response` to the main command."""
    app.command("activity")(handle_errors()(activity))
    app.command("response")(handle_errors()(response))
