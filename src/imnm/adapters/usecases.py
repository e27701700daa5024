"""The one place where the FHIR export and the CDS Hooks service call the clinical use cases.

Today these call the current public functions (`imnm.workup.assess.assess`,
`imnm.trials.evaluate.evaluate_catalog`, as `imnm assess` / `imnm trials` do); when `imnm.services` lands
(issue 10) each body becomes one call to `imnm.services.assess` / `imnm.services.match_trials` (same
results, `as_dict()` equal to the CLI's `--json`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from imnm.record.model import Record


def assess(record: Record, *, as_of: date) -> Any:
    """The diagnostic work-up (`Assessment`; `.as_dict()` is `imnm assess --json`)."""
    from imnm.workup.assess import assess as _assess
    from imnm.workup.settings import WorkupSettings

    return _assess(record, as_of=as_of, settings=WorkupSettings())


def match_trials(record: Record, *, as_of: date, screening_window: str = "30d") -> list[Any]:
    """Trial verdicts over the whole catalog, ranked (each `.as_dict()` as in `imnm trials --json`)."""
    from imnm.facts import REGISTRY, RecordFacts
    from imnm.trials.evaluate import evaluate_catalog
    from imnm.trials.load import catalog, check_window

    items = list(catalog(check_window(screening_window)))
    facts = RecordFacts(record, as_of=as_of)
    return list(evaluate_catalog(items, facts, as_of=as_of, registry=REGISTRY, reviews={}))


def trials_dict(
    record: Record, *, as_of: date, screening_window: str = "30d", explain: bool = True
) -> list[dict[str, Any]]:
    """`match_trials` as plain data (without the per-trial baseline checklist)."""
    results = match_trials(record, as_of=as_of, screening_window=screening_window)
    return [r.as_dict(explain=explain) for r in results]


def response(record: Record) -> Any | None:
    """The TIS between the first and last visit, or None when the record has fewer than two visits."""
    from imnm.activity.measures import response as _response
    from imnm.errors import InputError

    try:
        return _response(record)
    except InputError:
        return None
