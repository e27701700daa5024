"""Derived facts of disease activity, computed from the visit and lab facts.

- `visit.mmt8_80/150/160`: each visit's MMT-8 total on that scale: a given total, else the total of
  per-muscle grades (a range when groups are ungraded); bilateral grades also give the /80 of the
  right side. When the record has no total on a scale at all, each visit's total on another scale
  stands in as a range (⚠️ choice `mmt8_scale_conversion`: the grades the scales do not share each
  lie in 0–10); with the choice `none` the scale stays absent.
- `visit.haq_di`: the given HAQ-DI, else the index computed from the item answers.
- `visit.mmt8_min_proximal_grade`: lowest Kendall 0–10 grade among the proximal limb groups
  (deltoid, biceps, gluteus maximus, gluteus medius, quadriceps; both sides when bilateral) at each
  visit with per-muscle grades. A range (0..lowest given) when a proximal group is ungraded.
- `visit.muscle_enzyme_fold`: at each visit, the most abnormal muscle enzyme (CK, aldolase, AST,
  ALT, LDH) as a fold over its ULN, from labs of the visit's date or the nearest within the window
  (⚠️ choice `enzyme_visit_window_days`, setting `enzyme_window_days`); the note names the enzyme and date.
"""

from __future__ import annotations

from datetime import date

from imnm.activity import enzymes
from imnm.core.facts import NumRange, Obs, Observation
from imnm.derive import Context, Derivation, FactView
from imnm.instruments import haq as haqmod
from imnm.instruments import mmt8
from imnm.instruments.core_set import HaqItems, Mmt8


def _trace(ctx: Context) -> mmt8.TraceOption:
    return ctx.settings.kendall_trace_value  # type: ignore[return-value]


def _mmt(scale: int):  # type: ignore[no-untyped-def]
    def compute(facts: FactView, ctx: Context) -> Obs:
        out, converted = [], []
        for o in facts.get("visit.mmt8") or ():
            if not isinstance(o.value, Mmt8):
                continue
            s = mmt8.score_on(o.value, scale, _trace(ctx))
            if s is None:
                c = _converted(o.value, scale, ctx)
                if c is not None:
                    converted.append(Observation(c[0], o.date, o.source, c[1], ref=o.ref))
                continue
            value = s.lo if s.lo == s.hi else NumRange(s.lo, s.hi)
            note = None if s.source == "given total" else "; ".join((s.source, *s.notes))
            out.append(Observation(value, o.date, o.source, note, ref=o.ref))
        # Converted ranges only stand in when the record has no total on this scale at all: a total
        # measured on the scale is never outranked by a later, wider conversion.
        return tuple(out or converted) or None

    return compute


def _converted(m: Mmt8, scale: int, ctx: Context) -> tuple[float | NumRange, str] | None:
    """The visit's own MMT-8 (a given total or the total of its grades) as a range on another scale
    (⚠️ choice mmt8_scale_conversion): the grades one scale adds or drops each lie in 0–10."""
    if ctx.settings.mmt8_scale_conversion != "derived_ranges":
        return None
    own = mmt8.primary_score(m, _trace(ctx))
    grades = mmt8.scale_grades()
    if own is None or scale not in grades or own.scale not in grades or own.scale == scale:
        return None
    diff = grades[scale] - grades[own.scale]
    if diff > 0:
        lo, hi = own.lo, min(float(scale), own.hi + 10 * diff)
    else:
        lo, hi = max(0.0, own.lo + 10 * diff), min(float(scale), own.hi)
    shown = f"{own.lo:g}" if own.lo == own.hi else f"{own.lo:g}–{own.hi:g}"
    note = (
        f"converted from {shown}/{own.scale}: /{scale} sums {grades[scale]} grades, /{own.scale} sums "
        f"{grades[own.scale]}; the {abs(diff)} not on both lie in 0–10 each (⚠️ choice mmt8_scale_conversion)"
    )
    return (lo if lo == hi else NumRange(lo, hi)), note


def _haq_di(facts: FactView, ctx: Context) -> Obs:
    given = facts.get("visit.haq_di.given") or ()
    rows = {o.ref.row if o.ref else o.source for o in given}
    out = list(given)
    for o in facts.get("visit.haq") or ():
        row = o.ref.row if o.ref else o.source
        if row in rows or not isinstance(o.value, HaqItems):
            continue
        s = haqmod.score(o.value)
        if s.value is not None:
            out.append(Observation(s.value, o.date, o.source, "computed from the HAQ items", ref=o.ref))
    out.sort(key=lambda o: o.date or date.min)
    return tuple(out) or None


def _min_proximal(facts: FactView, ctx: Context) -> Obs:
    out = []
    for o in facts.get("visit.mmt8") or ():
        if not isinstance(o.value, Mmt8):
            continue
        found = mmt8.min_proximal(o.value, _trace(ctx))
        if found is None:
            continue
        lo, hi, notes = found
        value = lo if lo == hi else NumRange(lo, hi)
        out.append(Observation(value, o.date, f"{o.source}.grades", "; ".join(notes) or None, ref=o.ref))
    return tuple(out) or None


def _enzyme_fold(facts: FactView, ctx: Context) -> Obs:
    visits = facts.get("visit.date")
    if not visits:
        return None
    window = ctx.settings.enzyme_window_days
    out = []
    for v in visits:
        if v.date is None:
            continue
        found = enzymes.at_visit(facts, v.date, window)
        with_uln = {t: r for t, r in found.items() if r.fold is not None}
        top, _ = enzymes.most_abnormal(with_uln)
        if top is None or top.fold is None or top.uln is None:
            continue
        row = v.ref.row if v.ref and v.ref.row else v.source
        out.append(
            Observation(
                round(top.fold, 3),
                v.date,
                f"{top.source} ({row})",
                f"{top.where()}; {top.given}, ULN {top.uln:g} {top.unit}",
            )
        )
    return tuple(out) or None


DERIVATIONS: tuple[Derivation, ...] = (
    *(Derivation(f"visit.mmt8_{s}", _mmt(s), ("visit.mmt8",)) for s in (80, 150, 160)),
    Derivation("visit.haq_di", _haq_di, ("visit.haq_di.given", "visit.haq")),
    Derivation("visit.mmt8_min_proximal_grade", _min_proximal, ("visit.mmt8",)),
    Derivation(
        "visit.muscle_enzyme_fold", _enzyme_fold, ("visit.date", *(f"lab.{t}" for t in enzymes.ENZYMES))
    ),
)
