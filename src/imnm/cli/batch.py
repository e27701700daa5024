"""Many patients at once for `imnm assess` and `imnm trials`: a progress bar on the terminal, then one
line per patient as a table, `--json` or `--csv`. A file that cannot be used gets its row with the
problems (and exit code 2 at the end); the other patients still run.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import typer

from imnm.cli.common import EXIT_INVALID, console, err_console, print_json, table

CsvOpt: Any = typer.Option(False, "--csv", help="With several records: one CSV row per patient on stdout.")


def is_batch(paths: Sequence[Path]) -> bool:
    """Several files, or a folder of records (a folder of FHIR .ndjson files is one patient)."""
    if len(paths) != 1:
        return True
    from imnm.services.batch import _is_bulk_export

    p = paths[0]
    return p.is_dir() and not _is_bulk_export(p)


def _progress(total: int) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    c = err_console()
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=c,
        transient=True,
        disable=not c.is_terminal or total < 2,
    )


def run(
    paths: Sequence[Path],
    evaluate: Callable[[Any], dict[str, Any]],
    *,
    what: str,
    columns: Sequence[tuple[str, str]],
    as_json: bool,
    as_csv: bool,
    extra: dict[str, Any] | None = None,
) -> None:
    """Evaluate every patient file and print the one-line summaries (`columns`: key → heading)."""
    from imnm.services import batch

    files = batch.patient_files(paths)
    rows = []
    with _progress(len(files)) as progress:
        task = progress.add_task(what, total=len(files))
        for row in batch.run(files, evaluate):
            rows.append(row)
            progress.advance(task)
    summary = batch.counts(rows)
    if as_json:
        print_json({**(extra or {}), "summary": summary, "patients": [r.as_dict() for r in rows]})
    elif as_csv:
        keys = ["file", "id", "status", *(k for k, _ in columns), "problems"]
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(keys)
        for r in rows:
            d = r.as_dict()
            d["problems"] = "; ".join(str(p) for p in r.problems)
            w.writerow([_cell(d.get(k)) for k in keys])
    else:
        t = table("file", "id", *(h for _, h in columns))
        for r in rows:
            d = r.as_dict()
            if r.ok:
                t.add_row(Path(r.file).name, str(r.patient_id), *(_cell(d.get(k)) or "—" for k, _ in columns))
            else:
                t.add_row(Path(r.file).name, "—", f"error: {len(r.problems)} problem(s), see below")
        c = console()
        c.print(t)
        c.print(
            f"{summary['patients']} patient(s): {summary['ok']} evaluated, {summary['errors']} with errors. "
            "Decision support, not a diagnosis; the treating clinician decides.",
            markup=False,
        )
    if summary["errors"]:
        if not as_json:
            e = err_console()
            for r in rows:
                if not r.ok:
                    e.print(f"{r.file}:", markup=False)
                    for p in r.problems:
                        e.print(f"  • {p}", markup=False)
        raise typer.Exit(EXIT_INVALID)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value)
