"""The one place where the API calls the clinical code.

Every function takes a validated record (or answers) and plain options, and returns exactly the
document the CLI prints with `--json`. No clinical logic lives here.

⚠️ Temporary: the services layer (`imnm.services`, issue 10) has not landed yet, so these call the
current library functions and assemble the same documents the CLI commands assemble. When it
lands, each body becomes one call: `services.assess(record, ...).as_dict()` and so on.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from imnm.errors import InputError, Problem


def _cli_path(p: Problem) -> Problem:
    """`--as-of` (a CLI flag) → `as_of` (the query parameter of the same name)."""
    if p.path.startswith("--"):
        return Problem(p.path[2:].replace("-", "_"), p.message, p.fix, p.value, p.file)
    return p


def as_query_errors(exc: InputError) -> InputError:
    return InputError([_cli_path(p) for p in exc.problems], what=exc.what)


def validate(data: object) -> dict[str, Any]:
    from imnm.record.load import parse_record

    try:
        rec = parse_record(data)
        item: dict[str, Any] = {"file": None, "ok": True, "id": rec.id, "problems": []}
    except InputError as exc:
        item = {"file": None, "ok": False, "problems": [p.as_dict() for p in exc.problems]}
    return {"ok": item["ok"], "files": [item]}


def screen(data: object, *, unknown_policy: str | None, urgent_flags: str | None) -> dict[str, Any]:
    from imnm.screen.answers import parse_answers
    from imnm.screen.screener import load_screener
    from imnm.screen.screener import screen as run

    screener = load_screener()
    answers = parse_answers(data)
    result = run(answers, unknown_policy=unknown_policy, urgent_flags=urgent_flags, screener=screener)
    return result.as_dict(screener)


ASSESS_OPTIONS = (
    ("skin_biopsy_rule", "skin_or_biopsy_rule"),
    ("category_basis", "category_basis"),
    ("classification_minimum", "classification_minimum"),
    ("enzymes_value", "enzymes_value"),
    ("antibody_confirmation", "antibody_confirmation"),
    ("biopsy_seropositive", "biopsy_required_seropositive"),
    ("both_antibodies", "both_antibodies_positive"),
    ("cancer_screening", "cancer_screening"),
)


def assess(
    record: Any, *, as_of: date, default_uln: str, options: dict[str, str | None], choice: list[str]
) -> dict[str, Any]:
    from imnm.cli.common import settings_from
    from imnm.workup.assess import assess as run
    from imnm.workup.settings import WorkupSettings, setting_names

    values: dict[str, str] = {"default_uln": settings_from(default_uln).default_uln}
    for flag, name in ASSESS_OPTIONS:
        if options.get(flag) is not None:
            values[name] = options[flag]  # type: ignore[assignment]
    problems = []
    for item in choice:
        key, sep, value = item.partition("=")
        if not sep or key not in setting_names() or key == "default_uln":
            problems.append(
                Problem(
                    "choice",
                    f"{item!r} is not SETTING=OPTION with a known setting",
                    f"settings: {', '.join(n for n in setting_names() if n != 'default_uln')}",
                    value=item,
                )
            )
            continue
        values[key] = value
    if problems:
        raise InputError(problems, what="query")
    settings = WorkupSettings(**values)
    return run(record, as_of=as_of, settings=settings).as_dict()


def activity(
    record: Any, *, window_days: int | None, kendall_trace: str | None, enzyme: str | None
) -> dict[str, Any]:
    from imnm.activity.measures import activity_dict, followed_enzyme, visit_measures
    from imnm.cli.activity import _options

    o = _options(trace=kendall_trace, window=window_days, enzyme=enzyme).resolved()
    visits = visit_measures(record, o)
    chosen = followed_enzyme(visits[0] if visits else None, o)
    return activity_dict(record, visits, chosen, o)


def response(
    record: Any,
    *,
    start: date | None,
    end: date | None,
    method: str | None,
    population: str,
    missing: str | None,
    doi_worsening_clause: bool,
    window_days: int | None,
    kendall_trace: str | None,
    enzyme: str | None,
) -> dict[str, Any]:
    from imnm.activity.measures import response as run
    from imnm.cli.activity import _options

    o = _options(
        method=method,
        trace=kendall_trace,
        window=window_days,
        enzyme=enzyme,
        population=population,
        missing=missing,
        worsening_clause=doi_worsening_clause,
    )
    return run(record, start=start, end=end, options=o).as_dict()


def match_trials(
    record: Any,
    *,
    as_of: date,
    default_uln: str,
    trial: list[str],
    screening_window: str,
    reviews: dict[tuple[str, str], Any] | None = None,
) -> dict[str, Any]:
    from imnm.cli.common import DISCLAIMER, settings_from
    from imnm.cli.trials import TRIALS_NOTE, _counts
    from imnm.facts import REGISTRY, RecordFacts
    from imnm.trials.checklist import checklist
    from imnm.trials.evaluate import evaluate_catalog
    from imnm.trials.load import catalog, check_window

    window = check_window(screening_window)
    items = list(catalog(window))
    if trial:
        known = {t.id for t in items}
        unknown = [t for t in trial if t not in known]
        if unknown:
            raise InputError(
                [
                    Problem("trial", f"{u!r} is not in the catalog", "see GET /api/v1/trials", u)
                    for u in unknown
                ],
                what="query",
            )
        items = [t for t in items if t.id in trial]
    facts = RecordFacts(record, as_of=as_of, settings=settings_from(default_uln))
    results = evaluate_catalog(items, facts, as_of=as_of, registry=REGISTRY, reviews=reviews or {})
    payload = []
    for r in results:
        d = r.as_dict()
        d["checklist"] = [i.as_dict() for i in checklist(r.trial, record, r.cohort, as_of=as_of)]
        payload.append(d)
    return {
        "id": record.id,
        "as_of": as_of.isoformat(),
        "settings": dict(facts.context.settings.describe(), screening_window=window),
        "counts": _counts(results),
        "trials": payload,
        "disclaimer": f"{DISCLAIMER} {TRIALS_NOTE}",
    }


def list_trials() -> dict[str, Any]:
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
    return {"trials": rows}


def trial(trial_id: str) -> dict[str, Any] | None:
    """One catalog entry as stored (criteria verbatim with their rules, source, assumptions)."""
    from imnm.trials.load import catalog

    for t in catalog():
        if t.id == trial_id:
            return t.model_dump(mode="json", exclude_none=True)
    return None


def as_of_view(record: Any, as_of: date | None) -> Any:
    if as_of is None:
        return record
    from imnm.record.asof import as_of_view as view

    return view(record, as_of)
