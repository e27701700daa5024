"""Patients as the services see them: anything that can bind base facts at a date.

A validated `Record` (YAML/JSON, the store, FHIR and OMOP imports) is one; any other adapter can be
passed as a `PatientSource` (an `id` and `base_facts(as_of=..., settings=...)`), e.g. a table of rows
bound through its own binding table. The services add the derived facts (`imnm.facts`).
"""

from __future__ import annotations

from datetime import date
from typing import Protocol, runtime_checkable

from imnm.core.evaluate import Plan
from imnm.core.facts import FactSource
from imnm.derive import PatientFacts
from imnm.record.model import Record
from imnm.settings import Settings


@runtime_checkable
class PatientSource(Protocol):
    """An adapter's patient: an identifier and its base facts at a date."""

    @property
    def id(self) -> str: ...

    def base_facts(self, *, as_of: date, settings: Settings) -> FactSource: ...


Patient = Record | PatientSource


def facts_of(patient: Patient, *, as_of: date, settings: Settings, plan: Plan | None = None) -> PatientFacts:
    """The patient's facts (base and derived) at `as_of`."""
    from imnm.facts import patient_facts

    if isinstance(patient, Record):
        from imnm.record.adapter import record_facts

        check_dates(patient, as_of)
        base: FactSource = record_facts(patient, as_of=as_of, settings=settings)
    else:
        base = patient.base_facts(as_of=as_of, settings=settings)
    return patient_facts(base, as_of=as_of, settings=settings, patient_id=patient.id, plan=plan)


def check_dates(record: Record, as_of: date) -> None:
    """Birth, symptom onset and diagnosis must not lie after the evaluation date (an `InputError`)."""
    from imnm.errors import InputError
    from imnm.record.checks import check_as_of

    problems = check_as_of(record, as_of)
    if problems:
        raise InputError(problems, what=f"record {record.id} as of {as_of.isoformat()}")


def overrides(patient: Patient) -> tuple[str, ...]:
    """The record's accepted implausible values, each with its reason (outputs name them)."""
    if isinstance(patient, Record):
        from imnm.record.checks import override_notes

        return tuple(override_notes(patient))
    return ()
