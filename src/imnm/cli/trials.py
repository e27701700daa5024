"""`imnm trials`: which clinical trials fit a patient, what is still missing, and registry import.

    imnm trials RECORD [--json] [--as-of DATE] [--trial NCT...] [--reviews FILE] [--all-criteria]
    imnm trials import STUDY.json [--out FILE] [--json]
    imnm trials list [--json]

Heavy modules are imported inside the command so `imnm --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from imnm.cli.common import (
    AsOfOpt,
    DefaultUlnOpt,
    JsonOpt,
    console,
    handle_errors,
    parse_as_of,
    print_json,
    print_lines,
    settings_from,
)


def register(app: typer.Typer) -> None:
    """Add the `trials` command to the main app."""
    app.command(name="trials")(trials)


@handle_errors()
def trials(
    what: Annotated[
        str,
        typer.Argument(
            help="A record file to check, or `import` (then STUDY.json), `list` or `schema`.",
            metavar="FILE|import|list|schema",
        ),
    ],
    path: Annotated[
        Path | None,
        typer.Argument(help="With `import`: a ClinicalTrials.gov API v2 study JSON.", metavar="STUDY.json"),
    ] = None,
    as_of: str | None = AsOfOpt,
    default_uln: str | None = DefaultUlnOpt,
    trial: Annotated[
        list[str] | None, typer.Option("--trial", metavar="ID", help="Only these trial ids (repeatable).")
    ] = None,
    reviews: Annotated[
        Path | None,
        typer.Option(
            "--reviews",
            metavar="FILE",
            help="YAML/JSON with a clinician's answers to manual-review criteria: "
            "{reviews: [{trial, criterion, met: true|false, by, date}]}.",
        ),
    ] = None,
    all_criteria: bool = typer.Option(
        False, "--all-criteria", help="Show every criterion, not only open ones."
    ),
    screening_window: str = typer.Option(
        "30d",
        "--screening-window",
        metavar="DURATION",
        help="⚠️ How far back a result counts as taken 'at screening' (no registry states it): "
        "30d (default), 4w, 2mo ...",
    ),
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="FILE", help="With `import`: where to write the draft YAML."),
    ] = None,
    as_json: bool = JsonOpt,
) -> None:
    """Check a record against the IMNM trial catalog: eligible, ineligible or needs_information.

    For each trial (and cohort) it lists the criteria that failed, the tests or facts still
    needed, the criteria left for manual review, and a baseline checklist with the dates of what
    the patient already has. Trials are ranked: eligible first, then fewest missing tests.

    `imnm trials import STUDY.json` turns a ClinicalTrials.gov API v2 record into a draft catalog
    file and prints how many criteria were encoded and how many need review.
    `imnm trials list` lists the catalog; `imnm trials schema` prints the JSON Schema of a catalog file.
    """
    if what == "import":
        _import(path, out, as_of, as_json)
        return
    if what == "list":
        _list(as_json)
        return
    if what == "schema":
        import json

        from imnm.trials.model import Trial

        print(json.dumps(Trial.model_json_schema(), indent=2, ensure_ascii=False))
        return
    from imnm import services
    from imnm.errors import InputError, Problem

    if path is not None:
        raise InputError(
            [Problem("PATH", "a second file is only used with `import`", "give one record file", str(path))],
            what="command line",
        )
    settings = settings_from(default_uln, screening_window=screening_window)
    rec = services.load_patient(Path(what))
    day = parse_as_of(as_of)
    review_list = _load_reviews(reviews) if reviews else ()
    match = services.match_trials(rec, as_of=day, settings=settings, trial_ids=trial, reviews=review_list)
    if as_json:
        print_json(match.as_dict())
        return
    from imnm.render.trials import render

    print_lines(render(match, all_criteria=all_criteria))


def _load_reviews(path: Path) -> tuple[Any, ...]:
    from imnm.io.yaml import read_document
    from imnm.services import parse_reviews

    return parse_reviews(read_document(path), file=str(path))


def _list(as_json: bool) -> None:
    from imnm.render.trials import render_list
    from imnm.services import list_trials

    listing = list_trials()
    if as_json:
        print_json(listing.as_dict())
        return
    from imnm.cli.common import table

    t = table("trial", "status", "IMNM", "criteria (encoded/review)", "text")
    for row in render_list(listing):
        t.add_row(*row)
    console().print(t)


def _import(path: Path | None, out: Path | None, as_of: str | None, as_json: bool) -> None:
    from imnm.errors import InputError, Problem
    from imnm.io.yaml import read_document
    from imnm.services import import_study

    if path is None:
        raise InputError(
            [Problem("STUDY", "no study file given", "imnm trials import STUDY.json")], what="command line"
        )
    imported = import_study(read_document(path), file=str(path), imported_on=parse_as_of(as_of))
    target = out or path.with_name(f"{imported.draft['id']}.draft.yaml")
    target.write_text(imported.yaml(path.name), encoding="utf-8")
    info = dict(imported.as_dict(), written=str(target))
    if as_json:
        print_json(info)
        return
    c = console()
    c.print(
        f"✔ {info['id']}: {info['criteria']} criteria ({info['structured']} from structured fields); "
        f"{info['encoded']} encoded, {info['manual_review']} need manual review",
        markup=False,
    )
    if info["cohorts"]:
        c.print(f"  cohorts: {', '.join(info['cohorts'])}", markup=False)  # type: ignore[arg-type]
    c.print(f"  recognizers used: {', '.join(info['patterns']) or 'none'}", markup=False)  # type: ignore[arg-type]
    c.print(f"  draft written to {target}", markup=False)
