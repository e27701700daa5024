"""The diagnostic work-up use case (`imnm assess`, `POST /api/v1/assess`, the assessment page)."""

from __future__ import annotations

from datetime import date

from imnm.services.patients import Patient, facts_of, overrides
from imnm.settings import Settings, default_settings
from imnm.workup.assess import Assessment


def assess(patient: Patient, *, as_of: date, settings: Settings | None = None) -> Assessment:
    """Interpretation, ENMC 224, EULAR/ACR 2017, mimics, safety work-up and next tests for one patient."""
    from dataclasses import replace

    from imnm.workup.assess import assess as run

    result = run(facts_of(patient, as_of=as_of, settings=settings or default_settings()))
    notes = overrides(patient)
    return replace(result, overrides=notes) if notes else result
