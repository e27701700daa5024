"""Derived facts that trial criteria need and the base vocabulary does not have.

- `medication.<class>.start`: the day each course of a medicine class started (a point event),
  for "first cycle administered less than 90 days prior to Baseline".
- `medication.<class>.change`: the days a course started or stopped (point events), for
  "no change in corticosteroid dose for at least 30 days prior to Baseline". A dose change is
  recorded as one course stopping and the next starting, so both ends count as a change.
- `medication.glucocorticoid.dose`: today's total glucocorticoid dose in mg/day of prednisone
  or prednisolone, for "oral GC daily dose > 15 mg at screening".
- `months_since_diagnosis`: for "disease duration < 36 months at screening".

A course whose start (or stop) date is not recorded gives an event of unknown date, so a
window over it stays unknown rather than being read as "no change".
"""

from __future__ import annotations

from imnm.core.facts import FactSpec, Interval, Observation, scalar
from imnm.record.facts import REGISTRY, Context, Obs, _med_classes, medication_matches
from imnm.record.model import Record

# Prednisone-equivalent doses are a clinical conversion with no source in the project's
# knowledge files; only prednisone and prednisolone (1:1) are summed, anything else is unknown.
_PREDNISONE_LIKE = ("prednisone", "prednisolone")


def _points(rec: Record, cls: str, *, stops: bool) -> Obs:
    if rec.medications is None:
        return None
    out: list[Observation] = []
    for i, m in enumerate(rec.medications):
        if not medication_matches(m.name, cls):
            continue
        src = f"medications[{i}]"
        if m.start is None:
            out.append(Observation(Interval(None, None), None, src, f"{m.name}: start date not recorded"))
        else:
            out.append(Observation(Interval(m.start, m.start), m.start, src, f"{m.name} started"))
        if stops and m.stop is not None:
            out.append(Observation(Interval(m.stop, m.stop), m.stop, src, f"{m.name} stopped"))
    return tuple(out)


for _cls, _info in _med_classes().items():

    def _start(rec: Record, ctx: Context, _c: str = _cls) -> Obs:
        return _points(rec, _c, stops=False)

    def _change(rec: Record, ctx: Context, _c: str = _cls) -> Obs:
        return _points(rec, _c, stops=True)

    REGISTRY.register(
        FactSpec(
            f"medication.{_cls}.start",
            "event",
            f"start of {_info['label']}",
            f"medication history: when {_info['label']} was started (question)",
            "history",
            dated=True,
            resolve=_start,
        )
    )
    REGISTRY.register(
        FactSpec(
            f"medication.{_cls}.change",
            "event",
            f"start, stop or dose change of {_info['label']}",
            f"medication history: dates {_info['label']} was started, stopped or changed in dose (question)",
            "history",
            dated=True,
            resolve=_change,
        )
    )


def _gc_dose(rec: Record, ctx: Context) -> Obs:
    if rec.medications is None:
        return None
    total = 0.0
    used: list[str] = []
    for i, m in enumerate(rec.medications):
        if not medication_matches(m.name, "glucocorticoid"):
            continue
        if m.start is None or m.start > ctx.as_of or (m.stop is not None and m.stop < ctx.as_of):
            if m.start is None:
                return None  # cannot tell whether it is current
            continue
        name = m.name.strip().lower()
        if m.dose_mg_per_day is None or not name.startswith(_PREDNISONE_LIKE):
            return None  # a current course without a prednisone dose: unknown total
        total += m.dose_mg_per_day
        used.append(f"medications[{i}]")
    return scalar(total, source=", ".join(used) or "medications (none current)", when=ctx.as_of)


REGISTRY.register(
    FactSpec(
        "medication.glucocorticoid.dose",
        "number",
        "current glucocorticoid dose (prednisone mg/day)",
        "medication list: current steroid name and daily dose (question)",
        "history",
        unit="mg/day",
        description="Sum of current prednisone/prednisolone doses; another current steroid leaves it unknown",
        resolve=_gc_dose,
    )
)


def _since_diagnosis(rec: Record, ctx: Context) -> Obs:
    if rec.diagnosis_date is None:
        return None
    months = (ctx.as_of - rec.diagnosis_date).days / (365.25 / 12)
    return scalar(round(months, 1), source="diagnosis_date")


REGISTRY.register(
    FactSpec(
        "months_since_diagnosis",
        "number",
        "time since diagnosis",
        "date of diagnosis (question)",
        "history",
        unit="months",
        resolve=_since_diagnosis,
    )
)
