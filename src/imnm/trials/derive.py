"""Derived facts that trial criteria need: medication starts and changes, the current steroid dose.

- `medication.<class>.start`: the day each course of a medicine class started (a point event), for
  "first cycle administered less than 90 days prior to Baseline".
- `medication.<class>.change`: the days a course started or stopped (point events), for "no change in
  corticosteroid dose for at least 30 days prior to Baseline". A dose change is recorded as one course
  stopping and the next starting, so both ends count as a change.
- `medication.glucocorticoid.dose`: today's total glucocorticoid dose in mg/day of prednisone or
  prednisolone, for "oral GC daily dose > 15 mg at screening".
- `medication.<class>.weeks_on`: weeks of continuous current use (courses that follow each other
  without a gap of more than a day), for "type stable ≥12 weeks".
- Current doses of the background immunosuppressants one trial limits drug by drug (NCT07103746):
  methotrexate mg/week; mycophenolate mofetil, mycophenolic acid and any mycophenolate mg/day;
  azathioprine, tacrolimus and ciclosporin mg/kg/day, from a prescribed mg/kg/day dose or from the
  mg/day dose and the body weight (no weight: unknown, and the weight is asked for).
- `months_since_onset_weakness_or_ck`: months since the earlier of the first objective weakness and
  the CK rise ("onset of objective weakness and/or CK rise within 1 year"), a range when either is
  only bounded (see `_onset`).
- `visit.mmt13_loss_percent`: the loss on manual muscle testing of 13 muscle groups, as a percent of
  the scale's maximum.

A course whose start (or stop) date is not recorded gives an event of unknown date, so a window over
it stays unknown rather than being read as "no change". All read the `medication.<class>` facts only.
"""

from __future__ import annotations

from datetime import date, timedelta

from imnm.core.facts import Interval, NumRange, Obs, Observation, scalar
from imnm.derive import Context, Derivation, FactView
from imnm.derive.common import MONTH_DAYS
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
    since: list[str] = []
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
        since.append(f"{course_name(o)} {float(dose):g} mg/day since {iv.start.isoformat()}")
    # a dose is shown with the date it started, never as if measured on the evaluation date
    note = "; ".join(since) if since else "no glucocorticoid course current on the evaluation date"
    return scalar(total, source=", ".join(used) or "medications (none current)", note=note)


def _current(iv: Interval, as_of: date) -> bool:
    assert iv.start is not None
    return iv.start <= as_of and (iv.stop is None or iv.stop >= as_of)


def _weeks_on(cls: str):  # type: ignore[no-untyped-def]
    def compute(facts: FactView, ctx: Context) -> Obs:
        courses = facts.get(f"medication.{cls}")
        if courses is None:
            return None
        spans: list[tuple[date, date]] = []
        for o in courses:
            iv = o.value
            assert isinstance(iv, Interval)
            if iv.start is None:
                return None  # cannot tell when this course ran
            if iv.start > ctx.as_of:
                continue
            spans.append((iv.start, iv.stop if iv.stop is not None else ctx.as_of))
        current = [s for s in spans if s[1] >= ctx.as_of]
        if not current:
            return scalar(0.0, source=f"medication.{cls} (none current)", when=ctx.as_of)
        begin = min(s[0] for s in current)
        extended = True
        while extended:  # earlier courses that end at most a day before the run begins extend it
            extended = False
            for start, stop in spans:
                if start < begin and stop >= begin - timedelta(days=1):
                    begin, extended = start, True
        weeks = round((ctx.as_of - begin).days / 7, 1)
        return scalar(weeks, source=f"medication.{cls} (since {begin.isoformat()})", when=ctx.as_of)

    return compute


# (fact, class, unit): the current dose of one drug, in the unit its trial limit uses
DOSE_FACTS: tuple[tuple[str, str, str], ...] = (
    ("medication.methotrexate.dose_mg_per_week", "methotrexate", "mg/week"),
    ("medication.mycophenolate_mofetil.dose_mg_per_day", "mycophenolate_mofetil", "mg/day"),
    ("medication.mycophenolic_acid.dose_mg_per_day", "mycophenolic_acid", "mg/day"),
    ("medication.mycophenolate.dose_mg_per_day", "mycophenolate", "mg/day"),
    ("medication.azathioprine.dose_mg_per_kg_per_day", "azathioprine", "mg/kg/day"),
    ("medication.tacrolimus.dose_mg_per_kg_per_day", "tacrolimus", "mg/kg/day"),
    ("medication.ciclosporin.dose_mg_per_kg_per_day", "ciclosporin", "mg/kg/day"),
)


def _number_attr(o: Observation, name: str) -> float | None:
    v = o.attr(name)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _weight(facts: FactView) -> float | None:
    obs = facts.get("weight_kg")
    return obs[0].value if obs and isinstance(obs[0].value, float) else None


def _course_dose(o: Observation, unit: str, weight: float | None) -> tuple[float | None, bool]:
    """One course's dose in `unit` and whether it needed (and lacked) the body weight."""
    per_day = _number_attr(o, "dose_mg_per_day")
    per_week = _number_attr(o, "dose_mg_per_week")
    if per_day is None and per_week is not None:
        per_day = per_week / 7
    if unit == "mg/week":
        return (per_week if per_week is not None else (per_day * 7 if per_day is not None else None)), False
    if unit == "mg/day":
        return per_day, False
    per_kg = _number_attr(o, "dose_mg_per_kg_per_day")
    if per_kg is not None:
        return per_kg, False
    if per_day is None:
        return None, False
    if weight is None:
        return None, True
    return per_day / weight, False


def _current_dose(cls: str, unit: str):  # type: ignore[no-untyped-def]
    def compute(facts: FactView, ctx: Context) -> Obs:
        courses = facts.get(f"medication.{cls}")
        if courses is None:
            return None
        weight = _weight(facts)
        total, used, by_weight = 0.0, [], False
        for o in courses:
            iv = o.value
            assert isinstance(iv, Interval)
            if iv.start is None:
                return None  # cannot tell whether it is current
            if not _current(iv, ctx.as_of):
                continue
            dose, _needs_weight = _course_dose(o, unit, weight)
            if dose is None:
                return None
            total += dose
            used.append(o.source)
            by_weight = by_weight or (
                unit == "mg/kg/day" and _number_attr(o, "dose_mg_per_kg_per_day") is None
            )
        note = f"from the mg/day dose and body weight {weight:g} kg" if by_weight and weight else None
        return scalar(
            round(total, 3),
            source=", ".join(used) or f"medication.{cls} (none current)",
            when=ctx.as_of,
            note=note,
        )

    return compute


def _dose_needs(cls: str, unit: str):  # type: ignore[no-untyped-def]
    def needs(facts: FactView, ctx: Context) -> tuple[str, ...]:
        if unit != "mg/kg/day" or _weight(facts) is not None:
            return ()
        for o in facts.get(f"medication.{cls}") or ():
            iv = o.value
            current = isinstance(iv, Interval) and iv.start is not None and _current(iv, ctx.as_of)
            if current and _course_dose(o, unit, None)[1]:
                return ("weight_kg",)
        return ()

    return needs


MAX_MONTHS = 1440.0
"""Upper bound of a time since onset when nothing else bounds it (120 years; a documented limit)."""


def _months(since: date, as_of: date) -> float:
    return round((as_of - since).days / MONTH_DAYS, 1)


def _fold_bounds(o: Observation) -> tuple[float, float] | None:
    v = o.value
    if isinstance(v, float):
        return v, v
    if isinstance(v, NumRange):
        return v.lo, v.hi
    return None


def _onset(facts: FactView, ctx: Context) -> Obs:
    """Months since the earlier of the first objective weakness and the CK rise.

    - Weakness: `weakness_onset` gives a point. Without it, weakness that is (or may be) present may
      have begun at any time since birth; a record saying there is no proximal weakness leaves the CK.
    - CK: the rise happened after the last CK certainly at or below its ULN and by the first CK
      certainly above it (a fold that is a range over default ULNs counts only when certain); with no
      normal CK before, it may go back to birth. No CK result, or only uncertain ones: unknown.
    The earlier onset is the larger time since, so the result is [max of the lows, max of the highs].
    """
    as_of = ctx.as_of
    born_obs = facts.get("birth_date")
    born = born_obs[0].value if born_obs and isinstance(born_obs[0].value, date) else None
    ceiling = _months(born, as_of) if born else MAX_MONTHS
    parts: list[tuple[float, float]] = []
    sources: list[str] = []
    w = facts.get("weakness_onset")
    if w and isinstance(w[0].value, date):
        m = _months(w[0].value, as_of)
        parts.append((m, m))
        sources.append("weakness_onset")
    else:
        flags = [facts.get(f"findings.proximal_weakness_{s}") for s in ("upper", "lower")]
        absent = all(f is not None and f[0].value is False for f in flags)
        if not absent:
            parts.append((0.0, ceiling))
    folds = [o for o in facts.get("lab.ck.fold") or () if o.date is not None and o.date <= as_of]
    if not folds:
        return None
    dated = sorted(folds, key=lambda o: o.date or as_of)
    high = [o for o in dated if (b := _fold_bounds(o)) is not None and b[0] > 1]
    if high:
        first = high[0]
        assert first.date is not None
        normal_before = [
            o for o in dated if o.date and o.date < first.date and (b := _fold_bounds(o)) and b[1] <= 1
        ]
        hi = _months(normal_before[-1].date, as_of) if normal_before and normal_before[-1].date else ceiling
        parts.append((_months(first.date, as_of), hi))
        sources.append(f"first CK above ULN {first.date.isoformat()} [{first.source}]")
    elif any((b := _fold_bounds(o)) is None or b[1] > 1 for o in dated):
        return None  # a CK that may be above its ULN: whether and when it rose is unknown
    if not parts:
        return None
    lo, hi = max(p[0] for p in parts), max(p[1] for p in parts)
    value: float | NumRange = lo if lo == hi else NumRange(lo, hi)
    note = None if lo == hi else "a range: the onset is known only within bounds"
    return (Observation(value, as_of, ", ".join(sources) or "lab.ck", note),)


def _onset_needs(facts: FactView, ctx: Context) -> tuple[str, ...]:
    """The date of the first weakness when it is missing; else the fact's own question (earlier CKs)."""
    if facts.get("weakness_onset") is None:
        return ("weakness_onset",)
    return ()


def _mmt13_loss(facts: FactView, ctx: Context) -> Obs:
    visits = facts.get("visit.mmt13")
    if visits is None:
        return None
    out = []
    for o in visits:
        total, maximum = getattr(o.value, "total", None), getattr(o.value, "maximum", None)
        if not isinstance(total, int | float) or not isinstance(maximum, int | float) or maximum <= 0:
            continue
        loss = round(100 * (maximum - total) / maximum, 1)
        out.append(Observation(loss, o.date, o.source, f"{total:g} of {maximum:g}", ref=o.ref))
    return tuple(out) or None


def _start(cls: str):  # type: ignore[no-untyped-def]
    return lambda facts, ctx: _points(facts, cls, stops=False)


def _change(cls: str):  # type: ignore[no-untyped-def]
    return lambda facts, ctx: _points(facts, cls, stops=True)


def derivations() -> tuple[Derivation, ...]:
    out: list[Derivation] = []
    for cls in medication_classes():
        out.append(Derivation(f"medication.{cls}.start", _start(cls), (f"medication.{cls}",)))
        out.append(Derivation(f"medication.{cls}.change", _change(cls), (f"medication.{cls}",)))
        out.append(Derivation(f"medication.{cls}.weeks_on", _weeks_on(cls), (f"medication.{cls}",)))
    out.append(Derivation("medication.glucocorticoid.dose", _gc_dose, ("medication.glucocorticoid",)))
    for fact, cls, unit in DOSE_FACTS:
        inputs = (f"medication.{cls}", *(("weight_kg",) if unit == "mg/kg/day" else ()))
        out.append(Derivation(fact, _current_dose(cls, unit), inputs, _dose_needs(cls, unit)))
    out.append(
        Derivation(
            "months_since_onset_weakness_or_ck",
            _onset,
            ("weakness_onset", "lab.ck.fold", "birth_date", "findings.proximal_weakness_upper"),
            _onset_needs,
        )
    )
    out.append(Derivation("visit.mmt13_loss_percent", _mmt13_loss, ("visit.mmt13",)))
    return tuple(out)
