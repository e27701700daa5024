"""Disease activity use cases: every visit's core set measures (`activity`) and the TIS (`response`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from imnm.activity.measures import FollowedEnzyme, Options, Response, VisitMeasures
from imnm.derive import PatientFacts
from imnm.services.patients import Patient, facts_of
from imnm.settings import Settings, default_settings

ALL_TIME = date(9999, 12, 31)
"""The evaluation date of activity and response when none is given: every visit counts."""


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
    facts: PatientFacts

    def as_dict(self) -> dict[str, object]:
        from imnm.activity.measures import activity_dict

        return activity_dict(self.patient_id, list(self.visits), self.enzyme, self.options)


def activity(patient: Patient, *, settings: Settings | None = None, as_of: date = ALL_TIME) -> Activity:
    """Every visit's IMACS core set measures and their trend."""
    from imnm.activity.measures import followed_enzyme, visit_measures

    s = settings or default_settings()
    facts = facts_of(patient, as_of=as_of, settings=s)
    o = options_from(s).resolved()
    visits = visit_measures(facts, o)
    return Activity(patient.id, tuple(visits), followed_enzyme(visits[0] if visits else None, o), o, facts)


def response(
    patient: Patient,
    *,
    start: date | None = None,
    end: date | None = None,
    settings: Settings | None = None,
    as_of: date = ALL_TIME,
) -> Response:
    """The 2016 ACR/EULAR Total Improvement Score between two visits (default first and last)."""
    from imnm.activity.measures import response as compute

    s = settings or default_settings()
    facts = facts_of(patient, as_of=as_of, settings=s)
    return compute(facts, patient_id=patient.id, start=start, end=end, options=options_from(s))
