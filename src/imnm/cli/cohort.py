"""`imnm cohort`: screen a whole OMOP CDM 5.4 registry in SQL (trials, case finding), one person's
record, and synthetic OMOP data. Heavy libraries (duckdb, sqlglot, pyarrow, pyspark) load inside the
commands, so `imnm --help` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from imnm.cli.common import (
    DISCLAIMER,
    AsOfOpt,
    JsonOpt,
    console,
    err_console,
    handle_errors,
    parse_as_of,
    print_json,
)

app = typer.Typer(
    name="cohort",
    help="Registry screening on OMOP CDM 5.4: every person against every trial (three-valued SQL), "
    "case finding, one person as a record, synthetic OMOP data.\n\n" + DISCLAIMER,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

OmopArg = Annotated[
    str,
    typer.Argument(
        help="OMOP database: a folder (or .zip) of CSV/Parquet tables in either case of names, a .duckdb file, "
        "or postgresql://user@host:port/db?schema=cdm",
        metavar="OMOP",
    ),
]
EngineOpt = typer.Option(
    "duckdb", "--engine", help="duckdb (default), postgres (for a PostgreSQL URL) or spark (local)."
)
OutOpt = typer.Option("--out", "-o", help="Write one row per result to .parquet, .csv or .jsonl (streamed).")
MemOpt = typer.Option("--memory-limit", help="DuckDB memory limit, e.g. 6GB (default: DuckDB's).")


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="cohort")


class _Bar:
    """A rich progress bar on stderr for long runs (quiet with --json or when not a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.progress: Any = None
        self.task: Any = None
        self.what = ""

    def __enter__(self) -> _Bar:
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>5.1f}%"),
                TimeElapsedColumn(),
                console=err_console(),
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("starting", total=1.0)
        return self

    def __call__(self, what: str, frac: float | None) -> None:
        if self.progress is None:
            return
        self.progress.update(self.task, description=what, completed=frac if frac is not None else 0.0)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


@app.command("screen")
@handle_errors()
def screen_cmd(
    omop: OmopArg,
    trial: Annotated[
        list[str] | None, typer.Option("--trial", metavar="ID", help="Only these trial ids (repeatable).")
    ] = None,
    as_of: str | None = AsOfOpt,
    engine: str = EngineOpt,
    out: Annotated[Path | None, OutOpt] = None,
    coverage: Annotated[
        str,
        typer.Option(
            "--coverage",
            help="When is an unrecorded medicine 'not taken'? observation_periods (default: only inside OBSERVATION_PERIOD) "
            "or complete (always; the record format's default, for comparison).",
        ),
    ] = "observation_periods",
    python_fallback: Annotated[
        str,
        typer.Option(
            "--python-fallback",
            help="Facts not yet compiled (ENMC 224, EULAR/ACR): run Python only where the verdict depends on them "
            "(verdict, default) or wherever they are open (all).",
        ),
    ] = "verdict",
    screening_window: Annotated[
        str, typer.Option("--screening-window", help="How recent 'at screening' is (⚠️ choice).")
    ] = "30d",
    memory_limit: Annotated[str | None, MemOpt] = None,
    as_json: bool = JsonOpt,
) -> None:
    """Screen every person against every trial: one row per person × trial (verdict, failed criteria,
    missing facts → tests) and a summary (counts by verdict, the tests most often missing, the persons
    closest to eligible)."""
    from imnm.services.cohort import screen

    day = parse_as_of(as_of)
    with _Bar(not as_json and err_console().is_terminal) as bar:
        res = screen(
            omop,
            as_of=day,
            engine=engine,
            trials=trial,
            out=out,
            coverage=coverage,
            fallback=python_fallback,
            screening_window=screening_window,
            memory_limit=memory_limit,
            progress=bar,
        )
    if as_json:
        print_json(res.as_dict())
        return
    _print_screen(res)


def _print_screen(res: Any) -> None:
    from rich.table import Table

    c = console()
    c.print(
        f"[bold]Registry screening[/] — {res.source}, {res.persons:,} persons, as of {res.as_of.isoformat()} ({res.engine})"
    )
    t = Table(show_header=True, header_style="bold", box=None)
    for col in ("trial", "acronym", "cohort", "eligible", "needs info", "review only", "ineligible"):
        t.add_column(col, justify="left" if col in ("trial", "acronym", "cohort") else "right", no_wrap=True)
    for row in res.trials:
        t.add_row(
            row["trial"],
            row.get("acronym") or "",
            row["cohort"] or "",
            f"{row['eligible']:,}",
            f"{row['needs_information']:,}",
            f"{row['manual_review_only']:,}",
            f"{row['ineligible']:,}",
        )
    c.print(t)
    if res.top_missing_tests:
        c.print("\n[bold]Tests most often missing[/] (person × trial rows that need information):")
        for m in res.top_missing_tests:
            c.print(
                f"  {m['test']:<24} {m['person_trials']:>9,} rows, ~{m['persons_approx']:>8,} persons",
                markup=False,
            )
    if res.closest:
        c.print("\n[bold]Closest to eligible[/]:")
        for p in res.closest:
            need = ", ".join(p["tests"]) or ("manual review only" if p["n_review"] else "nothing")
            c.print(
                f"  person {p['person_id']:<10} {p['trial']}{'/' + p['cohort'] if p['cohort'] else ''}: {p['verdict']}; needs {need}",
                markup=False,
            )
    py = res.python
    c.print(
        f"\nPython work-up ({', '.join(py['facts']) or 'none'}): {py['persons_needing_python']:,} persons, "
        f"{py['python_evaluations']:,} evaluations; deferred cells: {py['deferred_cells']:,}",
        markup=False,
    )
    dq = res.data_quality
    c.print(
        f"Data quality: {dq['lab_rows']:,} lab rows, {dq['lab_no_usable_unit']:,} without a usable unit (not values), "
        f"{dq['lab_no_range_high']:,} without a usable range_high (CK: × ULN as a range over the documented limits), {dq['matched_by_source_value']:,} matched by source value; "
        f"{dq['persons_without_birth_date']:,} persons without a full birth date",
        markup=False,
    )
    fb = res.concepts.get("fallbacks") or {}
    if fb:
        listed = sorted(k for k, v in fb.items() if "listed" in v)
        named = sorted(k for k, v in fb.items() if "name" in v)
        c.print(
            f"Concept sets (vocabulary: {res.concepts['vocabulary']}): {len(listed)} used the listed concept ids "
            f"(code not in this CONCEPT table), {len(named)} matched drug names (no hierarchy): "
            + ", ".join(named)
            + "; details with --json",
            markup=False,
        )
    if res.out:
        c.print(f"Results: {res.rows:,} rows → {res.out}", markup=False)
    c.print(f"\n{DISCLAIMER}", markup=False)


@app.command("cases")
@handle_errors()
def cases_cmd(
    omop: OmopArg,
    as_of: str | None = AsOfOpt,
    engine: str = EngineOpt,
    out: Annotated[Path | None, OutOpt] = None,
    ck_fold: Annotated[
        str | None,
        typer.Option(
            "--ck-fold", help="N: CK ≥ N × ULN on ≥ 2 dates (⚠️ choice ck_fold_n: 1.5, 3, 5, 10; default 3)."
        ),
    ] = None,
    washout_weeks: Annotated[
        str | None,
        typer.Option("--washout-weeks", help="Weeks after a statin stop (⚠️ choice: 8 or 12; default 8)."),
    ] = None,
    memory_limit: Annotated[str | None, MemOpt] = None,
    as_json: bool = JsonOpt,
) -> None:
    """Case finding: persistent CK elevation with a weakness/myopathy code or a high CK after a statin was
    stopped, no myositis diagnosis and no anti-HMGCR / anti-SRP test on file. Each hit with its evidence
    and the tests to order (knowledge/data/case_finding.yaml)."""
    from imnm.services.cohort import cases

    day = parse_as_of(as_of)
    with _Bar(not as_json and err_console().is_terminal) as bar:
        res = cases(
            omop,
            as_of=day,
            engine=engine,
            out=out,
            n=ck_fold,
            weeks=washout_weeks,
            memory_limit=memory_limit,
            progress=bar,
        )
    if as_json:
        print_json(res.as_dict())
        return
    c = console()
    c.print(f"[bold]Case finding[/] — {res.source}, {res.persons:,} persons, as of {res.as_of.isoformat()}")
    c.print(
        f"CK ≥ {res.settings['ck_fold_n']} × ULN on ≥ 2 dates, washout {res.settings['statin_washout_weeks']} weeks: "
        f"{res.hits:,} hits; {res.possible:,} possible (open: no CK or a single CK date), "
        f"of which {res.possible_high_ck:,} already have one CK ≥ N × ULN (a repeat CK settles it)",
        markup=False,
    )
    for h in res.top:
        c.print(
            f"  person {h['person_id']}: CK up to {h['ck_max_fold']} × ULN ({h['ck_max_ref']}), {h['ck_dates_at_n']} dates ≥ N "
            f"{h['ck_first']}..{h['ck_last']}; symptom code {h['symptom_onset'] or '-'}; statin stopped {h['statin_last_stop'] or '-'}"
            f" → order {', '.join(res.tests_to_order)}",
            markup=False,
        )
    if res.out:
        c.print(f"Results → {res.out}", markup=False)
    c.print(f"\n{res.as_dict()['disclaimer']}", markup=False)


@app.command("record")
@handle_errors()
def record_cmd(
    omop: OmopArg,
    person_id: Annotated[int, typer.Argument(help="PERSON.person_id", metavar="PERSON_ID")],
    as_of: str | None = AsOfOpt,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the record to this file (.yaml or .json).")
    ] = None,
    engine: str = EngineOpt,
    as_json: bool = JsonOpt,
) -> None:
    """One person as a record document (YAML), with each item's source row in `ref` and the observation
    periods as `coverage`, so every other command (facts, assess, trials) runs on them."""
    import json

    import yaml

    from imnm.services.cohort import person_record

    doc = person_record(omop, person_id, as_of=parse_as_of(as_of), engine=engine)
    text = (
        json.dumps(doc, indent=2) + "\n"
        if as_json or (output and output.suffix == ".json")
        else yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    )
    if output:
        output.write_text(text, encoding="utf-8")
        if not as_json:
            console().print(f"Record of person {person_id} → {output}", markup=False)
        else:
            print_json({"ok": True, "file": str(output), "record": doc})
        return
    import sys

    sys.stdout.write(text)


@app.command("synth")
@handle_errors()
def synth_cmd(
    persons: Annotated[int, typer.Option("--persons", "-n", min=1, help="How many persons.")] = 1000,
    out: Annotated[Path, typer.Option("--out", help="Folder for the tables.")] = Path("omop-synth"),
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 42,
    fmt: Annotated[str, typer.Option("--format", help="parquet (default) or csv.")] = "parquet",
    as_json: bool = JsonOpt,
) -> None:
    """A seeded synthetic OMOP CDM 5.4 set with IMNM (anti-HMGCR, anti-SRP, seronegative), statin myopathy,
    polymyositis, dystrophy and healthy timelines. All data synthetic."""
    import time

    from imnm.adapters.omop.synth import generate

    t0 = time.perf_counter()
    with _Bar(not as_json and err_console().is_terminal) as bar:
        counts = generate(out, persons=persons, seed=seed, fmt=fmt, progress=bar)
    secs = round(time.perf_counter() - t0, 3)
    if as_json:
        print_json(
            {"ok": True, "out": str(out), "seed": seed, "format": fmt, "rows": counts, "seconds": secs}
        )
        return
    c = console()
    c.print(f"Synthetic OMOP ({persons:,} persons, seed {seed}) → {out} in {secs} s", markup=False)
    for k, v in counts.items():
        c.print(f"  {k:<22} {v:>12,} rows", markup=False)
