"""Derived facts for disease activity (registered on import; listed in `imnm.facts.DERIVED_MODULES`).

- `visit.mmt8_min_proximal_grade`: lowest Kendall 0–10 grade among the proximal limb groups
  (deltoid, biceps, gluteus maximus, gluteus medius, quadriceps; both sides when bilateral) at
  each visit with per-muscle grades. A range (0..lowest given) when a proximal group is ungraded.
- `visit.muscle_enzyme_fold`: at each visit, the most abnormal muscle enzyme (CK, aldolase, AST,
  ALT, LDH) as a fold over its ULN, from labs of the visit's date or the nearest within the
  default window (7 days, ⚠️ choice `enzyme_visit_window_days`); the note names the enzyme and date.

The base facts `visit.mmt8_80/150/160` and `visit.haq_di` (in `imnm.record.facts`) include totals
computed from per-muscle grades and the HAQ-DI computed from item answers.
"""

from __future__ import annotations

from imnm.activity import enzymes, mmt8
from imnm.core.facts import FactSpec, NumRange, Observation
from imnm.record.facts import REGISTRY, Context, Obs
from imnm.record.model import Record


def _min_proximal(rec: Record, ctx: Context) -> Obs:
    if not rec.visits:
        return None
    out = []
    for i, v in enumerate(rec.visits):
        if v.mmt8 is None:
            continue
        found = mmt8.min_proximal(v.mmt8)
        if found is None:
            continue
        lo, hi, notes = found
        value = lo if lo == hi else NumRange(lo, hi)
        out.append(Observation(value, v.date, f"visits[{i}].mmt8.grades", "; ".join(notes) or None))
    return tuple(out) or None


def _enzyme_fold(rec: Record, ctx: Context) -> Obs:
    if not rec.visits or not rec.labs:
        return None
    window = enzymes.default_window_days()
    out = []
    for i, v in enumerate(rec.visits):
        found = enzymes.at_visit(rec.labs, v.date, window)
        with_uln = {t: r for t, r in found.items() if r.fold is not None}
        top, _ = enzymes.most_abnormal(with_uln)
        if top is None or top.fold is None:
            continue
        out.append(
            Observation(
                round(top.fold, 3),
                v.date,
                f"{top.source} (visits[{i}])",
                f"{top.where()}; {top.given}, ULN {top.uln:g} {top.unit}",
            )
        )
    return tuple(out) or None


REGISTRY.register(
    FactSpec(
        "visit.mmt8_min_proximal_grade",
        "number",
        "lowest proximal muscle grade (Kendall 0-10) at an MMT-8 visit",
        "MMT-8 manual muscle testing with per-muscle grades (assessment)",
        "mmt8",
        dated=True,
        resolve=_min_proximal,
        description="Lowest of deltoid, biceps, gluteus maximus, gluteus medius and quadriceps "
        "(both sides when bilateral); a range when a proximal group was not graded",
    )
)
REGISTRY.register(
    FactSpec(
        "visit.muscle_enzyme_fold",
        "number",
        "most abnormal muscle enzyme × ULN at a visit",
        "muscle enzymes (blood tests: CK, aldolase, AST, ALT, LDH) with the lab's upper limits, "
        "on the visit date",
        "ck",
        unit="xULN",
        dated=True,
        resolve=_enzyme_fold,
        description="Highest fold over ULN among CK, aldolase, AST, ALT and LDH from labs of the "
        "visit's date or the nearest within 7 days (⚠️ choice enzyme_visit_window_days)",
    )
)
