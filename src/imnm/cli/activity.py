"""`imnm activity` (every visit's core set measures and their trend) and `imnm response` (the TIS).

Registered on the main app by `register(app)`. Heavy imports stay inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from imnm.cli.common import DISCLAIMER, JsonOpt, console, handle_errors, print_json, table
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


def _num(x: float | None, digits: int = 2) -> str:
    if x is None:
        return "—"
    return f"{round(x, digits):g}"


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
    from imnm.activity.measures import trends

    rec = services.load_patient(file)
    result = services.activity(
        rec, settings=_settings(trace=kendall_trace, window=window_days, enzyme=enzyme)
    )
    visits, chosen = list(result.visits), result.enzyme
    if plot is not None:
        from imnm.activity.plot import plot_activity

        plot_activity(result.facts, visits, plot, title=rec.id)
    if as_json:
        data = result.as_dict()
        if plot is not None:
            data["plot"] = str(plot)
        print_json(data)
        return

    c = console()
    if not visits:
        c.print(
            f"{rec.id}: no visits recorded (add visits with MMT-8, HAQ-DI and global activity).", markup=False
        )
        return
    t = table(
        "date",
        "MMT-8",
        "min prox",
        "PhGA",
        "PtGA",
        "EMA",
        "HAQ-DI",
        "enzyme × ULN",
        title=f"{rec.id}: disease activity by visit",
    )
    offsets: list[str] = []
    for v in visits:
        if v.mmt is None:
            mmt = "—"
        else:
            s = v.mmt
            mmt = (
                (f"{s.total:g}" if s.total is not None else f"{s.lo:g}-{s.hi:g}")
                + f"/{s.scale}"
                + (f" {s.side[0].upper()}" if s.side else "")
                + ("" if s.source == "given total" else "*")
            )
        prox = (
            "—"
            if v.min_proximal is None
            else (
                f"{v.min_proximal[0]:g}"
                if v.min_proximal[0] == v.min_proximal[1]
                else f"{v.min_proximal[0]:g}-{v.min_proximal[1]:g}"
            )
        )
        haq = "—" if v.haq is None else f"{v.haq:.2f}" + ("" if v.haq_source == "given" else "*")
        r = v.enzymes.get(chosen.test or "")
        if r is None:
            enzyme_text = "—"
        else:
            enzyme_text = f"{r.label} " + (
                f"{r.fold:.3g}" if r.fold is not None else f"{r.value:g} {r.unit} (no ULN)"
            )
            if r.offset_days:
                enzyme_text += "†"
                offsets.append(f"{v.date}: {r.where()}")
        t.add_row(
            v.date.isoformat(),
            mmt,
            prox,
            _num(v.physician_global),
            _num(v.patient_global),
            _num(v.extramuscular_global),
            haq,
            enzyme_text,
        )
    c.print(t)
    c.print(
        "MMT-8: Kendall 0-10 total, side R/L/B(ilateral); min prox: lowest proximal grade; PhGA / PtGA / EMA: "
        "physician, patient and extramuscular global activity (0-10 cm); HAQ-DI 0-3; "
        "* computed from per-muscle grades or HAQ items; † lab not on the visit date:",
        markup=False,
    )
    for line in offsets:
        c.print(f"  † {line}", markup=False)
    c.print(f"Muscle enzyme followed: {chosen.test or 'none'} — {chosen.why}", markup=False)
    tr = trends(visits, chosen)
    if tr:
        c.print("Trend (first → last recorded):", markup=False)
        for x in tr:
            c.print(
                f"  • {x.measure}: {x.first:.3g} → {x.last:.3g}{(' ' + x.unit) if x.unit else ''} "
                f"({x.first_date} → {x.last_date}): {x.direction}",
                markup=False,
            )
    if plot is not None:
        c.print(f"Plot written to {plot}", markup=False)
    c.print(DISCLAIMER, markup=False)


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
    data = res.as_dict()
    if as_json:
        print_json(data)
        return

    c = console()
    t = table(
        "measure",
        "baseline",
        "follow-up",
        "% change",
        "band",
        "points",
        title=f"{rec.id}: Total Improvement Score, {res.baseline.date} → {res.followup.date}",
    )
    for m in res.result.measures.values():
        t.add_row(
            m.label,
            _num(m.baseline, 3),
            _num(m.followup, 3),
            "—" if m.percent_change is None else f"{m.percent_change:.1f} %",
            m.band or "missing",
            ("—" if m.points is None else f"{m.points:g}") + f" / {m.max_points:g}",
        )
    c.print(t)
    r = res.result
    if r.tis is not None:
        c.print(f"TIS {r.tis:g} / 100", markup=False)
    else:
        c.print(
            f"TIS not determined: between {r.tis_min:g} and {r.tis_max:g} (measures missing)", markup=False
        )
    if r.category is not None:
        c.print(f"Improvement: {r.category}", markup=False)
    else:
        c.print(f"Improvement: between {r.category_min} and {r.category_max}", markup=False)
    c.print(f"Population: {res.population_basis}", markup=False)
    for p, th in data["thresholds"].items():
        c.print(
            f"  {p} thresholds: minimal ≥ {th['minimal']:g}, moderate ≥ {th['moderate']:g}, major ≥ {th['major']:g}",
            markup=False,
        )
    c.print(f"Percent change method (⚠️): {r.method} — {data['method_description']}", markup=False)
    c.print(
        f"{r.doi.text}: {r.doi.truth.value.replace('_', ' ')}"
        + (f" (improved ≥ 20 %: {', '.join(r.doi.improved)})" if r.doi.improved else ""),
        markup=False,
    )
    for m in r.measures.values():
        for n in m.notes:
            c.print(f"  • {m.label}: {n}", markup=False)
    for n in data["notes"]:
        c.print(f"Note: {n}", markup=False)
    c.print(f"Source: {data['source']}", markup=False)
    c.print(DISCLAIMER, markup=False)


def register(app: typer.Typer) -> None:
    """Add `activity` and `response` to the main command."""
    app.command("activity")(handle_errors()(activity))
    app.command("response")(handle_errors()(response))
