"""`imnm trials`: which clinical trials fit a patient, what is still missing, and the catalog's upkeep.

    imnm trials RECORD [--json] [--as-of DATE] [--trial NCT...] [--reviews FILE] [--all-criteria]
    imnm trials import STUDY.json [--out FILE] [--json]
    imnm trials list [--json]
    imnm trials update [--registry-url URL] [--dry-run] [--trial NCT...]
    imnm trials search [--condition TERM ...] [--catalog DIR]
    imnm trials approve --trial NCT --criterion ID ... --by NAME

Every form takes `--catalog DIR` (repeatable) and `--catalog-only`. Only `update` and `search` use
the network. Heavy modules (httpx, ruamel.yaml) are imported inside the command so `imnm --help`
stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from imnm.cli.batch import CsvOpt, is_batch
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

TRIALS_COLUMNS = (
    ("eligible", "eligible"),
    ("needs_information", "need info"),
    ("ineligible", "ineligible"),
    ("best_open_trial", "best open trial"),
    ("best_open_verdict", "verdict"),
    ("best_open_tests", "tests it needs"),
)


def register(app: typer.Typer) -> None:
    """Add the `trials` command to the main app."""
    app.command(name="trials")(trials)


@handle_errors()
def trials(
    what: Annotated[
        str,
        typer.Argument(
            help="A record file to check, or `import` (then STUDY.json), `list`, `schema`, `update`, "
            "`search` or `approve`.",
            metavar="FILE|import|list|schema|update|search|approve",
        ),
    ],
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="With `import`: a ClinicalTrials.gov API v2 study JSON. Otherwise more record files "
            "(then one line per patient).",
            metavar="[STUDY.json | FILE...]",
        ),
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
    catalog: Annotated[
        list[Path] | None,
        typer.Option(
            "--catalog",
            metavar="DIR",
            help="A folder of catalog files (e.g. drafts) added to the shipped ones (repeatable); a file whose id "
            "is a shipped trial's replaces it. `update` writes refreshed copies of shipped trials to the first "
            "folder; `search` writes its drafts there.",
        ),
    ] = None,
    catalog_only: bool = typer.Option(
        False, "--catalog-only", help="Use only the --catalog folders, not the shipped catalog."
    ),
    registry_url: Annotated[
        str | None,
        typer.Option(
            "--registry-url",
            metavar="URL",
            help="With `update`/`search`: the ClinicalTrials.gov API v2 base URL (default "
            "https://clinicaltrials.gov/api/v2, or $IMNM_REGISTRY_URL).",
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", metavar="SECONDS", help="With `update`/`search`: per request (20)."),
    ] = None,
    retries: Annotated[
        int | None,
        typer.Option(
            "--retries", metavar="N", help="With `update`/`search`: retries after a timeout, 429 or 5xx (3)."
        ),
    ] = None,
    min_interval: Annotated[
        float | None,
        typer.Option(
            "--min-interval",
            metavar="SECONDS",
            help="With `update`/`search`: at least this long between requests (1.2, about 50 a minute).",
        ),
    ] = None,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="With `update`: report what would change, write nothing."
    ),
    condition: Annotated[
        list[str] | None,
        typer.Option(
            "--condition",
            metavar="TERM",
            help="With `search`: condition terms (repeatable; default: IMNM, necrotizing myopathy, anti-HMGCR, "
            "anti-SRP, and myositis where the criteria name IMNM).",
        ),
    ] = None,
    overwrite: bool = typer.Option(False, "--overwrite", help="With `search`: replace existing draft files."),
    criterion: Annotated[
        list[str] | None,
        typer.Option(
            "--criterion", metavar="ID", help="With `approve`: the criterion to approve (repeatable)."
        ),
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", metavar="NAME", help="With `approve`: who approves.")
    ] = None,
    note: Annotated[
        str | None, typer.Option("--note", metavar="TEXT", help="With `approve`: a remark.")
    ] = None,
    as_json: bool = JsonOpt,
    as_csv: bool = CsvOpt,
) -> None:
    """Check a record against the IMNM trial catalog: eligible, ineligible or needs_information.

    For each trial (and cohort) it lists the criteria that failed, the tests or facts still
    needed, the criteria left for manual review, and a baseline checklist with the dates of what
    the patient already has. Trials are ranked: eligible first, then fewest missing tests.

    Several record files or a folder: one line per patient (counts, eligible trials, the best-ranked
    open trial and the tests it needs) as a table, --json or --csv, with a progress bar on a terminal.

    `imnm trials import STUDY.json` turns a ClinicalTrials.gov API v2 record into a draft catalog
    file and prints how many criteria were encoded and how many need review.
    `imnm trials list` lists the catalog with each status's date and source, its age and freshness;
    `imnm trials schema` prints the JSON Schema of a catalog file.

    `imnm trials update` reads each trial's ClinicalTrials.gov record and updates status, dates, sites
    and contacts in place; where the eligibility text changed it prints the diff per criterion and
    marks the changed rules stale ("needs review: the registry text changed on DATE"). Exit 1 when
    some trials could not be checked (each is named; their files are left as they were).
    `imnm trials search` finds interventional IMNM studies not in the catalog and drafts entries.
    `imnm trials approve --trial ID --criterion ID --by NAME` re-approves a stale rule for the new text.
    """
    from imnm.services import CatalogChoice

    choice = CatalogChoice(tuple(catalog or ()), catalog_only)
    rest = list(paths or [])
    if what in ("update", "search"):
        _registry(
            what,
            choice,
            as_of,
            as_json,
            trial,
            registry_url,
            timeout,
            retries,
            min_interval,
            dry_run,
            condition,
            overwrite,
        )
        return
    if what == "approve":
        _approve(choice, trial, criterion, by, note, as_of, as_json)
        return
    if what == "import":
        if len(rest) > 1:
            from imnm.errors import InputError, Problem

            raise InputError(
                [Problem("STUDY", "import takes one study file", "import one study at a time", str(rest[1]))],
                what="command line",
            )
        _import(rest[0] if rest else None, out, as_of, as_json)
        return
    if what == "list":
        _list(choice, as_of, as_json)
        return
    if what == "schema":
        import json

        from imnm.trials.model import Trial

        print(json.dumps(Trial.model_json_schema(), indent=2, ensure_ascii=False))
        return
    from imnm import services

    settings = settings_from(default_uln, screening_window=screening_window)
    day = parse_as_of(as_of)
    review_list = _load_reviews(reviews) if reviews else ()
    files = [Path(what), *rest]
    if is_batch(files) or as_csv:
        from imnm.cli import batch
        from imnm.services.batch import trials_summary

        batch.run(
            files,
            lambda p: trials_summary(
                services.match_trials(
                    p, as_of=day, settings=settings, trial_ids=trial, reviews=review_list, catalog=choice
                )
            ),
            what="trials",
            columns=TRIALS_COLUMNS,
            as_json=as_json,
            as_csv=as_csv,
            extra={"as_of": day.isoformat()},
        )
        return
    rec = services.load_patient(files[0])
    match = services.match_trials(
        rec, as_of=day, settings=settings, trial_ids=trial, reviews=review_list, catalog=choice
    )
    if as_json:
        print_json(match.as_dict())
        return
    from imnm.render.trials import render

    print_lines(render(match, all_criteria=all_criteria))


def _load_reviews(path: Path) -> tuple[Any, ...]:
    from imnm.io.yaml import read_document
    from imnm.services import parse_reviews

    return parse_reviews(read_document(path), file=str(path))


def _list(choice: Any, as_of: str | None, as_json: bool) -> None:
    from imnm.render.trials import LIST_HEADERS, render_list
    from imnm.services import list_trials

    listing = list_trials(catalog=choice, today=parse_as_of(as_of))
    if as_json:
        print_json(listing.as_dict())
        return
    from imnm.cli.common import table

    t = table(*LIST_HEADERS, title=f"Trial catalog: {listing.catalog}")
    for row in render_list(listing):
        t.add_row(*row)
    console().print(t)


def _registry(
    what: str,
    choice: Any,
    as_of: str | None,
    as_json: bool,
    trial_ids: list[str] | None,
    url: str | None,
    timeout: float | None,
    retries: int | None,
    min_interval: float | None,
    dry_run: bool,
    conditions: list[str] | None,
    overwrite: bool,
) -> None:
    from imnm.services import search_registry, update_catalog
    from imnm.trials.registry import RegistryOptions

    options = RegistryOptions.from_cli(url, timeout=timeout, retries=retries, min_interval=min_interval)
    day = parse_as_of(as_of)
    if what == "update":
        from imnm.cli.batch import _progress
        from imnm.render.trials import render_update

        with _progress(2) as bar:  # shown on a terminal only (stderr); one request per trial
            task = bar.add_task("registry check", total=None)

            def tick(done: int, total: int, trial_id: str) -> None:
                bar.update(task, completed=done, total=total, description=f"registry check {trial_id}")

            result = update_catalog(
                choice, today=day, options=options, trial_ids=trial_ids, dry_run=dry_run, progress=tick
            )
        if as_json:
            print_json(result.as_dict())
        else:
            print_lines(render_update(result))
        if result.failed:
            raise typer.Exit(1)
        return
    from imnm.render.trials import render_search

    out_dir = choice.dirs[0] if choice.dirs else None
    found = search_registry(
        choice, today=day, options=options, conditions=conditions, out_dir=out_dir, overwrite=overwrite
    )
    if as_json:
        print_json(found.as_dict())
    else:
        print_lines(render_search(found))
    if found.errors:
        raise typer.Exit(1)


def _approve(
    choice: Any,
    trial_ids: list[str] | None,
    criteria: list[str] | None,
    by: str | None,
    note: str | None,
    as_of: str | None,
    as_json: bool,
) -> None:
    from imnm.errors import InputError, Problem
    from imnm.services import approve_criteria

    if not trial_ids or len(trial_ids) != 1:
        raise InputError(
            [Problem("--trial", "approve one trial at a time", "e.g. --trial NCT04025632 --criterion inc-4")],
            what="command line",
        )
    done = approve_criteria(
        choice,
        trial_id=trial_ids[0],
        criterion_ids=criteria or [],
        by=by or "",
        today=parse_as_of(as_of),
        note=note,
    )
    if as_json:
        print_json(done.as_dict())
        return
    c = console()
    for item in done.criteria:
        c.print(f"✔ {done.trial_id} {item['id']}: {item['action']}", markup=False)
    c.print(f"  written to {done.written}", markup=False)


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
