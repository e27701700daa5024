"""Disease activity use cases: every visit's core set measures (`activity`) and the TIS (`response`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from imnm.activity.measures import FollowedEnzyme, Options, Response, VisitMeasures
from imnm.settings import Settings, default_settings


def options_from(settings: Settings) -> Options:
    """The activity options (⚠️ choices of tis_2016.yaml and core_set.yaml) from the settings."""
    return Options(
        settings.percent_change_method,
        settings.kendall_trace_value,  # type: ignore[arg-type]
        settings.enzyme_window_days,
        settings.enzyme,
        settings.population,  # type: ignore[arg-type]
        settings.zero_or_missing_baseline,  # type: ignore[arg-type]
        settings.imacs_doi_worsening_clause == "enabled",
    )


@dataclass(frozen=True)
class Activity:
    """Every visit's measures, the enzyme followed and the trend."""

    patient_id: str
    visits: tuple[VisitMeasures, ...]
    enzyme: FollowedEnzyme
    options: Options
    record: Any

    def as_dict(self) -> dict[str, object]:
        from imnm.activity.measures import activity_dict

        return activity_dict(self.record, list(self.visits), self.enzyme, self.options)


def activity(record: Any, *, settings: Settings | None = None) -> Activity:
    from imnm.activity.measures import followed_enzyme, visit_measures

    o = options_from(settings or default_settings()).resolved()
    visits = visit_measures(record, o)
    return Activity(record.id, tuple(visits), followed_enzyme(visits[0] if visits else None, o), o, record)


def response(
    record: Any, *, start: date | None = None, end: date | None = None, settings: Settings | None = None
) -> Response:
    """The 2016 ACR/EULAR Total Improvement Score between two visits (default first and last)."""
    from imnm.activity.measures import response as compute

    return compute(record, start=start, end=end, options=options_from(settings or default_settings()))
