"""Derived facts every capability shares: age, onset, durations, body-mass index, the muscle-enzyme
fold, and one statin (red yeast rice, oyster mushroom) exposure fact.

**Exposure** (issue 9 item 1): `exposure.statin` is the union of what the exposure history says
(`exposures.statin`) and every statin in the medication list (`medication.statin`, by drug class),
with dates, so the work-up, the screener-facing notes and the trial criteria all read the same
answer. It is unknown only when neither source says anything; a medication list without a statin
does not by itself mean "never took a statin" (past statins are often not listed).
`exposure.red_yeast_rice` does the same with the `red_yeast_rice` medication class.
"""

from __future__ import annotations

from datetime import date

from imnm.core.facts import Interval, Obs, Observation, scalar
from imnm.derive import Context, Derivation, FactView

MONTH_DAYS = 365.25 / 12
ENZYMES = ("ck", "aldolase", "ast", "alt", "ldh")
EXPOSURES = {"statin": "statin", "red_yeast_rice": "red_yeast_rice", "oyster_mushrooms": None}
"""Exposure → the medication class that also records it (None: the exposure history only)."""


def completed_years(born: date, on: date) -> int:
    """Age in completed years on a date (the usual clinical age)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _date(facts: FactView, name: str) -> date | None:
    obs = facts.get(name)
    if obs and isinstance(obs[0].value, date):
        return obs[0].value
    return None


def _number(facts: FactView, name: str) -> float | None:
    obs = facts.get(name)
    if obs and isinstance(obs[0].value, float):
        return obs[0].value
    return None


def _age(facts: FactView, ctx: Context) -> Obs:
    born = _date(facts, "birth_date")
    if born is None:
        return None
    return scalar(float(completed_years(born, ctx.as_of)), source="birth_date")


def _age_at_onset(facts: FactView, ctx: Context) -> Obs:
    born, onset = _date(facts, "birth_date"), _date(facts, "symptom_onset")
    if born and onset:
        return scalar(float(completed_years(born, onset)), source="birth_date, symptom_onset")
    return scalar(_number(facts, "age_at_onset.given"), source="age_at_onset")


def _months_since(fact: str, source: str):  # type: ignore[no-untyped-def]
    def compute(facts: FactView, ctx: Context) -> Obs:
        start = _date(facts, fact)
        if start is None:
            return None
        return scalar(round((ctx.as_of - start).days / MONTH_DAYS, 1), source=source)

    return compute


def _bmi(facts: FactView, ctx: Context) -> Obs:
    w, h = _number(facts, "weight_kg"), _number(facts, "height_cm")
    if w is None or h is None:
        return None
    return scalar(round(w / (h / 100) ** 2, 1), source="weight_kg, height_cm")


def _enzyme_fold(facts: FactView, ctx: Context) -> Obs:
    from imnm.knowledge.lookups import lab_label

    out: list[Observation] = []
    for t in ENZYMES:
        for o in facts.get(f"lab.{t}.fold") or ():
            note = lab_label(t) + (f"; {o.note}" if o.note else "")
            out.append(Observation(o.value, o.date, o.source, note, o.needs, o.raw, o.ref, o.attrs))
    return tuple(out) or None


def _exposure(name: str, med_class: str | None):  # type: ignore[no-untyped-def]
    def compute(facts: FactView, ctx: Context) -> Obs:
        reported = facts.get(f"exposures.{name}")
        meds = facts.get(f"medication.{med_class}") if med_class else None
        if reported is None and not meds:
            return None
        return (*(reported or ()), *(meds or ()))

    return compute


def _exposure_status(name: str):  # type: ignore[no-untyped-def]
    def compute(facts: FactView, ctx: Context) -> Obs:
        obs = facts.get(f"exposure.{name}")
        if obs is None:
            return None
        if not obs:
            return scalar("never", source=f"exposures.{name}.status")
        current = [o for o in obs if isinstance(o.value, Interval) and _current(o.value, ctx.as_of)]
        pick = current or list(obs)
        status = "current" if current else "past"
        return (Observation(status, None, ", ".join(dict.fromkeys(o.source for o in pick)), None),)

    return compute


def _current(iv: Interval, as_of: date) -> bool:
    if iv.start is not None and iv.start > as_of:
        return False
    if iv.stop is not None:
        return iv.stop >= as_of
    return iv.ongoing


DERIVATIONS: tuple[Derivation, ...] = (
    Derivation("age", _age, ("birth_date",)),
    Derivation("age_at_onset", _age_at_onset, ("birth_date", "symptom_onset", "age_at_onset.given")),
    Derivation(
        "disease_duration_months", _months_since("symptom_onset", "symptom_onset"), ("symptom_onset",)
    ),
    Derivation(
        "months_since_diagnosis", _months_since("diagnosis_date", "diagnosis_date"), ("diagnosis_date",)
    ),
    Derivation("bmi", _bmi, ("weight_kg", "height_cm")),
    Derivation("lab.muscle_enzyme.fold", _enzyme_fold, tuple(f"lab.{t}.fold" for t in ENZYMES)),
    *(
        Derivation(
            f"exposure.{name}",
            _exposure(name, cls),
            (f"exposures.{name}", *((f"medication.{cls}",) if cls else ())),
        )
        for name, cls in EXPOSURES.items()
    ),
    *(
        Derivation(f"exposure.{name}.status", _exposure_status(name), (f"exposure.{name}",))
        for name in EXPOSURES
    ),
)

__all__ = ["DERIVATIONS", "completed_years"]
