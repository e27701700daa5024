"""Derived facts that trial criteria need: medication starts and changes, the current steroid dose.

- `medication.<class>.start`: the day each course of a medicine class started (a point event), for
  "first cycle administered less than 90 days prior to Baseline".
- `medication.<class>.change`: the days a course started or stopped (point events), for "no change in
  corticosteroid dose for at least 30 days prior to Baseline". A dose change is recorded as one course
  stopping and the next starting, so both ends count as a change.
- `medication.glucocorticoid.dose`: today's total glucocorticoid dose in mg/day of prednisone or
  prednisolone, for "oral GC daily dose > 15 mg at screening".

A course whose start (or stop) date is not recorded gives an event of unknown date, so a window over
it stays unknown rather than being read as "no change". All read the `medication.<class>` facts only.
"""

from __future__ import annotations

from imnm.core.facts import Interval, Obs, Observation, scalar
from imnm.derive import Context, Derivation, FactView
from imnm.knowledge.lookups import medication_classes

# Prednisone-equivalent doses are a clinical conversion with no source in the project's
# knowledge files; only prednisone and prednisolone (1:1) are summed, anything else is unknown.
_PREDNISONE_LIKE = ("prednisone", "prednisolone")


def course_name(o: Observation) -> str:
    """The medication's name as written (kept by the adapter as raw text)."""
    if o.raw is not None and o.raw.text:
        return o.raw.text
    return o.note or ""


def _points(facts: FactView, cls: str, *, stops: bool) -> Obs:
    courses = facts.get(f"medication.{cls}")
    if courses is None:
        return None
    out: list[Observation] = []
    for o in courses:
        iv = o.value
        assert isinstance(iv, Interval)
        name = course_name(o)
        if iv.start is None:
            out.append(
                Observation(
                    Interval(None, None), None, o.source, f"{name}: start date not recorded", ref=o.ref
                )
            )
        else:
            out.append(
                Observation(Interval(iv.start, iv.start), iv.start, o.source, f"{name} started", ref=o.ref)
            )
        if stops and iv.stop is not None:
            out.append(
                Observation(Interval(iv.stop, iv.stop), iv.stop, o.source, f"{name} stopped", ref=o.ref)
            )
    return tuple(out)


def _gc_dose(facts: FactView, ctx: Context) -> Obs:
    courses = facts.get("medication.glucocorticoid")
    if courses is None:
        return None
    total = 0.0
    used: list[str] = []
    for o in courses:
        iv = o.value
        assert isinstance(iv, Interval)
        if iv.start is None or iv.start > ctx.as_of or (iv.stop is not None and iv.stop < ctx.as_of):
            if iv.start is None:
                return None  # cannot tell whether it is current
            continue
        dose = o.attr("dose_mg_per_day")
        if not isinstance(dose, int | float) or not course_name(o).strip().lower().startswith(
            _PREDNISONE_LIKE
        ):
            return None  # a current course without a prednisone dose: unknown total
        total += float(dose)
        used.append(o.source)
    return scalar(total, source=", ".join(used) or "medications (none current)", when=ctx.as_of)


def _start(cls: str):  # type: ignore[no-untyped-def]
    return lambda facts, ctx: _points(facts, cls, stops=False)


def _change(cls: str):  # type: ignore[no-untyped-def]
    return lambda facts, ctx: _points(facts, cls, stops=True)


def derivations() -> tuple[Derivation, ...]:
    out: list[Derivation] = []
    for cls in medication_classes():
        out.append(Derivation(f"medication.{cls}.start", _start(cls), (f"medication.{cls}",)))
        out.append(Derivation(f"medication.{cls}.change", _change(cls), (f"medication.{cls}",)))
    out.append(Derivation("medication.glucocorticoid.dose", _gc_dose, ("medication.glucocorticoid",)))
    return tuple(out)
