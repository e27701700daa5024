"""The one place where the API calls the clinical code: thin calls to `imnm.services`.

Each function returns `result.as_dict()`, exactly the document the matching CLI command prints with
`--json`. Options arrive as query parameters named as the CLI flags (`as_of`, `default_uln`,
`skin_biopsy_rule`, `kendall_trace`, ..., and `choice=SETTING=OPTION` for any setting) and become
one `imnm.settings.Settings`, whose problems are reported at the query parameter that caused them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from imnm.errors import InputError, Problem


def settings(values: Mapping[str, object], choice: Iterable[str] = (), *, names: Mapping[str, str]) -> Any:
    """Settings from query values (`names`: query parameter → setting) and `choice=SETTING=OPTION`."""
    from imnm.settings import Settings

    by_setting = {names.get(k, k): v for k, v in values.items() if v is not None}
    from_choice: set[str] = set()
    problems: list[Problem] = []
    for item in choice:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            problems.append(
                Problem(
                    "choice",
                    f"{item!r} is not SETTING=OPTION",
                    "e.g. choice=category_basis=probability",
                    item,
                )
            )
            continue
        by_setting[key.strip()] = value.strip()
        from_choice.add(key.strip())
    if problems:
        raise InputError(problems, what="query")
    try:
        return Settings.parse(by_setting)
    except InputError as exc:
        back = {v: k for k, v in names.items()}
        raise InputError(
            [
                Problem(
                    "choice" if p.path in from_choice else back.get(p.path, p.path), p.message, p.fix, p.value
                )
                for p in exc.problems
            ],
            what="query",
        ) from None


def validate(data: object) -> dict[str, Any]:
    """As `imnm validate --json` for one document (`file` is null)."""
    from imnm import services
    from imnm.record.checks import override_notes

    try:
        rec = services.parse_patient(data)
        item: dict[str, Any] = {
            "file": None,
            "ok": True,
            "id": rec.id,
            "problems": [],
            "overrides": override_notes(rec),
        }
    except InputError as exc:
        item = {"file": None, "ok": False, "problems": [p.as_dict() for p in exc.problems]}
    return {"ok": item["ok"], "files": [item]}


def record(data: object) -> Any:
    from imnm import services

    return services.parse_patient(data)


def screen(data: object, *, settings: Any) -> dict[str, Any]:
    from imnm import services
    from imnm.screen.answers import parse_answers

    return services.screen(parse_answers(data), settings=settings).as_dict()


def assess(record: Any, *, as_of: date, settings: Any) -> dict[str, Any]:
    from imnm import services

    return services.assess(record, as_of=as_of, settings=settings).as_dict()


def activity(record: Any, *, settings: Any) -> dict[str, Any]:
    from imnm import services

    return services.activity(record, settings=settings).as_dict()


def response(record: Any, *, start: date | None, end: date | None, settings: Any) -> dict[str, Any]:
    from imnm import services

    return services.response(record, start=start, end=end, settings=settings).as_dict()


def match_trials(
    record: Any, *, as_of: date, settings: Any, trial: Iterable[str] = (), reviews: Iterable[Any] = ()
) -> dict[str, Any]:
    from imnm import services

    try:
        result = services.match_trials(
            record, as_of=as_of, settings=settings, trial_ids=list(trial) or None, reviews=reviews
        )
    except InputError as exc:
        raise InputError(
            [
                Problem(
                    p.path.replace("--trial", "trial"),
                    p.message,
                    p.fix.replace("`imnm trials list`", "GET /api/v1/trials") if p.fix else None,
                    p.value,
                )
                for p in exc.problems
            ],
            what="query",
        ) from None
    return result.as_dict()


def list_trials() -> dict[str, Any]:
    from imnm import services

    return services.list_trials().as_dict()


def trial(trial_id: str) -> dict[str, Any] | None:
    """One catalog entry as stored (criteria verbatim with their rules, source, assumptions)."""
    from imnm import services

    try:
        t = services.get_trial(trial_id)
    except InputError:
        return None
    return t.model_dump(mode="json", exclude_none=True)


def check_review(trial_id: str, criterion: str) -> None:
    """A review must name a trial of the catalog and one of its criteria. A review of an encoded
    criterion settles it where the record cannot, and is a conflict where the record says the opposite
    (issue 16; `imnm.trials.evaluate`)."""
    from difflib import get_close_matches

    from imnm import services

    trials = {t.trial.id: t.trial for t in services.list_trials().trials}
    found = trials.get(trial_id)
    if found is None:
        close = get_close_matches(trial_id, list(trials), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise InputError(
            [
                Problem(
                    "trial", f"{trial_id!r} is not in the catalog", hint + "see GET /api/v1/trials", trial_id
                )
            ],
            what="review",
        )
    crits = {c.id: c for c in found.all_criteria()}
    if criterion not in crits:
        manual = [k for k, v in crits.items() if v.manual_review]
        raise InputError(
            [
                Problem(
                    "criterion",
                    f"{criterion!r} is not a criterion of {trial_id}",
                    f"criteria of {trial_id}: {', '.join(crits)} (manual review: {', '.join(manual) or 'none'})",
                    criterion,
                )
            ],
            what="review",
        )


def reviews(rows: Iterable[Any]) -> list[Any]:
    """Stored reviews (the latest per criterion) as the matcher takes them."""
    from imnm.store.patients import latest_reviews
    from imnm.trials.evaluate import Review

    return [
        Review(r.trial_id, r.criterion_id, r.met, r.actor, r.created_at.date())
        for r in latest_reviews(list(rows)).values()
    ]


def as_of_view(record: Any, as_of: date | None) -> Any:
    if as_of is None:
        return record
    from imnm.record.asof import as_of_view as view

    return view(record, as_of)
