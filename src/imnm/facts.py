"""The fact layer put together: the vocabulary, every feature's derivations, and the one fact source.

This is the composition root of the fact layer (features never import it): `REGISTRY` is the whole
vocabulary (`imnm.vocabulary`), `derivations()` lists every registered derivation (common, work-up,
activity, trials), and `patient_facts(base, ...)` puts an adapter's base facts and the derivations
together. `RecordFacts(record, as_of=...)` does that for the YAML/JSON record adapter.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from imnm.core.evaluate import Plan
from imnm.core.facts import FactSource
from imnm.derive import Context, Derivations, PatientFacts
from imnm.settings import Settings, default_settings
from imnm.vocabulary import REGISTRY

__all__ = ["REGISTRY", "Context", "PatientFacts", "RecordFacts", "derivations", "patient_facts"]


@cache
def derivations() -> Derivations:
    """Every derivation, checked against the vocabulary (each derived fact has exactly one)."""
    from imnm.activity.derive import DERIVATIONS as ACTIVITY
    from imnm.derive.common import DERIVATIONS as COMMON
    from imnm.trials.derive import derivations as trials
    from imnm.workup.derive import derivations as workup

    return Derivations((*COMMON, *workup(), *ACTIVITY, *trials()), REGISTRY)


def patient_facts(
    base: FactSource,
    *,
    as_of: date,
    settings: Settings | None = None,
    patient_id: str = "",
    plan: Plan | None = None,
) -> PatientFacts:
    """An adapter's base facts plus every derived fact, for one patient at one date."""
    return PatientFacts(
        base,
        derivations(),
        as_of=as_of,
        settings=settings or default_settings(),
        registry=REGISTRY,
        plan=plan,
        patient_id=patient_id,
    )


def RecordFacts(
    record: object, *, as_of: date, settings: Settings | None = None, plan: Plan | None = None
) -> PatientFacts:
    """The facts of a validated record (the YAML/JSON adapter) at `as_of`."""
    from imnm.record.adapter import record_facts
    from imnm.record.model import Record

    assert isinstance(record, Record)
    s = settings or default_settings()
    base = record_facts(record, as_of=as_of, settings=s)
    return patient_facts(base, as_of=as_of, settings=s, patient_id=record.id, plan=plan)
