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
    DISCLAIMER,
    AsOfOpt,
    DefaultUlnOpt,
    JsonOpt,
    console,
    handle_errors,
    parse_as_of,
    print_json,
    settings_from,
)

TRIALS_NOTE = (
    "Trial matching is decision support: the trial team decides eligibility at screening, and "
    "registry text may have changed since it was copied."
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
    default_uln: str = DefaultUlnOpt,
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
    from imnm.facts import REGISTRY, RecordFacts
    from imnm.record.load import load_record
    from imnm.trials.checklist import checklist
    from imnm.trials.evaluate import evaluate_catalog
    from imnm.trials.load import catalog

    if path is not None:
        from imnm.errors import InputError, Problem

        raise InputError(
            [Problem("PATH", "a second file is only used with `import`", "give one record file", str(path))],
            what="command line",
        )
    rec = load_record(Path(what))
    day = parse_as_of(as_of)
    from imnm.trials.load import check_window

    window = check_window(screening_window)
    items = list(catalog(window))
    if trial:
        known = {t.id for t in items}
        unknown = [t for t in trial if t not in known]
        if unknown:
            from imnm.errors import InputError, Problem

            raise InputError(
                [
                    Problem("--trial", f"{u!r} is not in the catalog", "see `imnm trials list`", u)
                    for u in unknown
                ],
                what="command line",
            )
        items = [t for t in items if t.id in trial]
    review_map = _load_reviews(reviews) if reviews else {}
    facts = RecordFacts(rec, as_of=day, settings=settings_from(default_uln))
    results = evaluate_catalog(items, facts, as_of=day, registry=REGISTRY, reviews=review_map)
    if as_json:
        payload = []
        for r in results:
            d = r.as_dict()
            d["checklist"] = [i.as_dict() for i in checklist(r.trial, rec, r.cohort, as_of=day)]
            payload.append(d)
        print_json(
            {
                "id": rec.id,
                "as_of": day.isoformat(),
                "settings": dict(facts.context.settings.describe(), screening_window=window),
                "counts": _counts(results),
                "trials": payload,
                "disclaimer": f"{DISCLAIMER} {TRIALS_NOTE}",
            }
        )
        return
    _print_text(rec, day, results, all_criteria, window)


def _counts(results: list[Any]) -> dict[str, int]:
    out = {"eligible": 0, "needs_information": 0, "ineligible": 0}
    for r in results:
        out[r.verdict] += 1
    return out


_SYMBOL = {"eligible": "✔", "needs_information": "?", "ineligible": "✘"}
_CRIT = {"ok": "✔", "failed": "✘", "missing": "?", "review": "👁"}


def _print_text(rec: Any, day: Any, results: list[Any], all_criteria: bool, window: str) -> None:
    from imnm.trials.checklist import checklist

    c = console()
    counts = _counts(results)
    c.print(
        f"Trials for {rec.id} as of {day.isoformat()}: {counts['eligible']} eligible, "
        f"{counts['needs_information']} need information, {counts['ineligible']} ineligible",
        markup=False,
    )
    c.print(
        f"Results 'at screening' are the latest within {window} before {day.isoformat()} "
        "(⚠️ assumed window; change it with --screening-window).",
        markup=False,
    )
    for r in results:
        t = r.trial
        name = f"{t.id}{f' {t.acronym}' if t.acronym else ''}"
        if r.cohort:
            name += f" [{r.cohort.label}]"
        status = t.status.replace("_", " ").lower() + (" (open)" if t.recruiting else "")
        verdict = r.verdict.replace("_", " ") + (" (only manual review left)" if r.pending else "")
        c.print(f"\n{_SYMBOL[r.verdict]} {name}: {verdict}. Status: {status}.", markup=False)
        c.print(f"  {t.title}", markup=False)
        if t.source.completeness != "complete" or t.draft:
            c.print(
                f"  Registry text {t.source.completeness} {t.source.mark}: {t.source.truncated or 'draft import'}",
                markup=False,
            )
        for f in r.failed:
            c.print(f"  ✘ {f.kind} {f.criterion.id}: {f.criterion.text}", markup=False)
            for e in f.outcome.all_evidence() if f.outcome else []:
                c.print(f"      · {e}", markup=False)
            for a in f.criterion.assumptions:
                c.print(f"      assumes: {a}", markup=False)
        if r.missing:
            c.print("  Still needed:", markup=False)
            for ask, (details, crits) in _group_missing(r.missing).items():
                why = f" — {'; '.join(details)}" if details else ""
                c.print(f"    ? {ask}{why}  (for {', '.join(crits)})", markup=False)
        if r.manual_review:
            c.print("  For a clinician to review:", markup=False)
            for m in r.manual_review:
                c.print(f"    👁 {m.criterion.id}: {_short(m.criterion.text)} — {m.review}", markup=False)
        if all_criteria:
            c.print("  All criteria:", markup=False)
            for cr in r.criteria:
                c.print(
                    f"    {_CRIT[cr.effect]} {cr.kind} {cr.criterion.id}: {_short(cr.criterion.text)}",
                    markup=False,
                )
        if r.verdict != "ineligible":
            used = [
                *t.assumptions,
                *(a for cr in r.criteria if cr.effect == "ok" for a in cr.criterion.assumptions),
            ]
            flagged = [a for a in dict.fromkeys(used) if a.startswith("⚠️")]
            if flagged:
                c.print("  This result depends on documented assumptions:", markup=False)
                for a in flagged:
                    c.print(f"    {a}", markup=False)
        items = checklist(t, rec, r.cohort, as_of=day)
        if items:
            shown = "; ".join(
                f"{i.label}: {'yes' + (f' ({i.date.isoformat()})' if i.date else '') if i.have else 'no'}"
                for i in items
            )
            c.print(f"  Baseline checklist: {shown}", markup=False)
    c.print(f"\n{DISCLAIMER} {TRIALS_NOTE}", markup=False)


def _group_missing(items: Any) -> dict[str, tuple[list[str], list[str]]]:
    """Missing facts grouped by the question or test that supplies them (one line each)."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for m in items:
        details, crits = out.setdefault(m.ask, ([], []))
        if m.detail and not m.detail.startswith("to settle") and m.detail not in details:
            details.append(m.detail)
        crits.extend(c for c in m.criteria if c not in crits)
    return out


def _short(text: str, n: int = 90) -> str:
    one = " ".join(text.split())
    return one if len(one) <= n else one[: n - 1] + "…"


def _load_reviews(path: Path) -> dict[tuple[str, str], Any]:
    from datetime import date

    from imnm.errors import InputError, Problem
    from imnm.io.yaml import read_document
    from imnm.trials.evaluate import Review

    data = read_document(path)
    rows = data.get("reviews") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise InputError(
            [
                Problem(
                    "reviews",
                    "expected a list under `reviews`",
                    "write reviews: [{trial, criterion, met}]",
                    file=str(path),
                )
            ],
            what=str(path),
        )
    out: dict[tuple[str, str], Review] = {}
    problems: list[Problem] = []
    for i, row in enumerate(rows):
        where = f"reviews[{i}]"
        if (
            not isinstance(row, dict)
            or not isinstance(row.get("trial"), str)
            or not isinstance(row.get("criterion"), str)
        ):
            problems.append(Problem(where, "needs trial and criterion ids", file=str(path), value=row))
            continue
        if not isinstance(row.get("met"), bool):
            problems.append(
                Problem(f"{where}.met", "must be true or false", file=str(path), value=row.get("met"))
            )
            continue
        on = None
        if row.get("date") is not None:
            try:
                on = date.fromisoformat(str(row["date"]))
            except ValueError:
                problems.append(
                    Problem(f"{where}.date", "not an ISO date", "write YYYY-MM-DD", row["date"], str(path))
                )
                continue
        out[(row["trial"], row["criterion"])] = Review(
            row["trial"], row["criterion"], row["met"], row.get("by"), on
        )
    if problems:
        raise InputError(problems, what=str(path))
    return out


def _list(as_json: bool) -> None:
    from imnm.trials.load import catalog

    rows = []
    for t in catalog():
        crits = t.all_criteria()
        rows.append(
            {
                "id": t.id,
                "acronym": t.acronym,
                "title": t.title,
                "status": t.status,
                "recruiting": t.recruiting,
                "imnm": t.imnm,
                "phases": t.phases,
                "cohorts": [c.id for c in t.cohorts],
                "criteria": len(crits),
                "encoded": sum(1 for c in crits if c.rule is not None),
                "manual_review": sum(1 for c in crits if c.manual_review),
                "completeness": t.source.completeness,
                "mark": t.source.mark,
            }
        )
    if as_json:
        print_json({"trials": rows})
        return
    from rich.table import Table

    table = Table("trial", "status", "IMNM", "criteria (encoded/review)", "text")
    for r in rows:
        table.add_row(
            f"{r['id']} {r['acronym'] or ''}".strip(),
            str(r["status"]),
            str(r["imnm"]),
            f"{r['criteria']} ({r['encoded']}/{r['manual_review']})",
            f"{r['completeness']} {r['mark']}",
        )
    console().print(table)


def _import(path: Path | None, out: Path | None, as_of: str | None, as_json: bool) -> None:
    from imnm.errors import InputError, Problem
    from imnm.io.yaml import read_document
    from imnm.trials.ctgov import draft_from_study, summary
    from imnm.trials.load import parse_trial

    if path is None:
        raise InputError(
            [Problem("STUDY", "no study file given", "imnm trials import STUDY.json")], what="command line"
        )
    data = read_document(path)
    if not isinstance(data, dict) or "protocolSection" not in data:
        raise InputError(
            [
                Problem(
                    "protocolSection",
                    "not a ClinicalTrials.gov API v2 study record",
                    "save GET https://clinicaltrials.gov/api/v2/studies/{nctId} as JSON",
                    file=str(path),
                )
            ],
            what=str(path),
        )
    day = parse_as_of(as_of)
    draft = draft_from_study(data, file=path.name, imported_on=day.isoformat())
    parse_trial(draft, file=str(out or path))  # the draft must load like any catalog file
    info = summary(draft)
    target = out or path.with_name(f"{draft['id']}.draft.yaml")
    import yaml

    header = (
        f"# Draft written by `imnm trials import` from {path.name}: {info['encoded']} of "
        f"{info['criteria']} criteria encoded, {info['manual_review']} need manual review.\n"
        "# Check every rule against the registry text before adding it to the catalog.\n"
    )
    target.write_text(
        header + yaml.safe_dump(draft, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8"
    )
    info["written"] = str(target)
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
        c.print(f"  cohorts: {', '.join(info['cohorts'])}", markup=False)
    c.print(f"  recognizers used: {', '.join(info['patterns']) or 'none'}", markup=False)
    c.print(f"  draft written to {target}", markup=False)
