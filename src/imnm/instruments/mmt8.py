"""MMT-8: per-muscle Kendall 0–10 grades and totals with their scale (clinical.md §4.1).

Unilateral MMT-8 is 0–80 (8 groups, one side; the side tested is kept). Bilateral is 0–150
(neck flexors once + 7 paired groups on both sides; ⚠️ derived maximum). A given total keeps its
scale (/80, /150, /160); no conversion between scales is defined, except that bilateral
per-muscle grades contain a complete unilateral /80 of either side.

Kendall "T" (trace) has no verified numeric value (⚠️, choice `kendall_trace_value` in
`knowledge/data/core_set.yaml`): it is counted as the chosen value and every result that used a
T grade says so. Groups not graded make the total a range (each missing group 0–10).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from imnm import knowledge
from imnm.instruments.core_set import AXIAL, GROUPS, Mmt8, Mmt8Grades, SidePair
from imnm.types import fail

Side = Literal["right", "left", "bilateral"]
TraceOption = Literal["zero", "half", "one", "not_computable"]
TRACE_OPTIONS: tuple[str, ...] = ("zero", "half", "one", "not_computable")


@cache
def _table() -> dict[str, object]:
    data: dict[str, object] = knowledge.load("core_set")["mmt8"]
    return data


@cache
def proximal_groups() -> tuple[str, ...]:
    """Proximal limb groups, from the knowledge table."""
    groups = _table()["groups"]
    assert isinstance(groups, list)
    return tuple(str(g["id"]) for g in groups if g["proximal"])


@cache
def scale_grades() -> dict[int, int]:
    """How many 0–10 grades each MMT-8 scale sums (core_set.yaml `scale_grades`)."""
    found = _table()["scale_grades"]
    assert isinstance(found, dict)
    return {int(k): int(v) for k, v in found.items()}


def default_trace() -> TraceOption:
    value = knowledge.choice_default("core_set", "kendall_trace_value")
    assert value in TRACE_OPTIONS
    return value  # type: ignore[return-value]


Grade = float | str | None


def _value(grade: Grade, trace: TraceOption) -> tuple[float, float, bool]:
    """(low, high, used_trace) for one grade; an ungraded group is 0–10."""
    if grade is None:
        return 0.0, 10.0, False
    if grade == "T":
        v = {"zero": (0.0, 0.0), "half": (0.5, 0.5), "one": (1.0, 1.0), "not_computable": (0.0, 1.0)}[trace]
        return v[0], v[1], True
    assert isinstance(grade, float)
    return grade, grade, False


def side_grades(grades: Mmt8Grades, side: Literal["right", "left"], tested: Side) -> dict[str, Grade]:
    """The grades of one side, for unilateral grades or one side of bilateral grades."""
    out: dict[str, Grade] = {}
    for g in GROUPS:
        v = getattr(grades, g)
        if isinstance(v, SidePair):
            out[g] = getattr(v, side)
        elif tested == "bilateral" and g != AXIAL:
            out[g] = None
        else:
            out[g] = v
    return out


def _flat(grades: Mmt8Grades, tested: Side) -> list[tuple[str, Grade]]:
    """Every graded slot: 8 for a unilateral test, 15 for a bilateral test."""
    if tested != "bilateral":
        return [(g, getattr(grades, g)) for g in GROUPS]
    out: list[tuple[str, Grade]] = []
    for g in GROUPS:
        v = getattr(grades, g)
        if g == AXIAL:
            out.append((g, v if not isinstance(v, SidePair) else None))
        else:
            pair = v if isinstance(v, SidePair) else SidePair()
            out.extend([(f"{g}.right", pair.right), (f"{g}.left", pair.left)])
    return out


@dataclass(frozen=True, slots=True)
class Mmt8Score:
    """An MMT-8 total on a scale: exact (`lo == hi`) or a range when groups are ungraded."""

    lo: float
    hi: float
    scale: int
    side: str | None
    source: str  # "given total" | "per-muscle grades" | "right side of bilateral grades" ...
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> float | None:
        return self.lo if self.lo == self.hi else None


def _score(slots: list[tuple[str, Grade]], trace: TraceOption) -> tuple[float, float, list[str]]:
    lo = hi = 0.0
    missing: list[str] = []
    trace_used: list[str] = []
    for name, grade in slots:
        a, b, t = _value(grade, trace)
        lo, hi = lo + a, hi + b
        if grade is None:
            missing.append(name)
        if t:
            trace_used.append(name)
    notes = []
    if missing:
        notes.append(f"not graded: {', '.join(missing)} (each counted as 0-10)")
    if trace_used:
        notes.append(
            f"Kendall T (trace) in {', '.join(trace_used)} counted as "
            + (
                "0-1 (not computable)"
                if trace == "not_computable"
                else {"zero": "0", "half": "0.5", "one": "1"}[trace]
            )
            + " (⚠️ choice kendall_trace_value)"
        )
    return lo, hi, notes


def score_grades(grades: Mmt8Grades, tested: Side, trace: TraceOption | None = None) -> Mmt8Score:
    """Total of per-muscle grades on the scale of the test: /80 unilateral, /150 bilateral (⚠️)."""
    trace = trace or default_trace()
    lo, hi, notes = _score(_flat(grades, tested), trace)
    if tested == "bilateral":
        return Mmt8Score(lo, hi, 150, tested, "per-muscle grades (bilateral)", tuple(notes))
    return Mmt8Score(lo, hi, 80, tested, f"per-muscle grades ({tested} side)", tuple(notes))


def unilateral_from_bilateral(
    grades: Mmt8Grades, side: Literal["right", "left"] = "right", trace: TraceOption | None = None
) -> Mmt8Score:
    """The /80 unilateral MMT-8 contained in bilateral grades (neck flexors + one side)."""
    trace = trace or default_trace()
    slots = list(side_grades(grades, side, "bilateral").items())
    lo, hi, notes = _score(slots, trace)
    return Mmt8Score(lo, hi, 80, side, f"{side} side of bilateral grades", tuple(notes))


def scores(m: Mmt8, trace: TraceOption | None = None) -> list[Mmt8Score]:
    """Every MMT-8 total a visit supplies, one per scale (a given total wins on its scale)."""
    out: list[Mmt8Score] = []
    if m.total is not None and m.scale is not None:
        out.append(Mmt8Score(m.total, m.total, m.scale, m.side, "given total"))
    if m.grades is not None and m.side is not None:
        computed = score_grades(m.grades, m.side, trace)
        if not any(s.scale == computed.scale for s in out):
            out.append(computed)
        if m.side == "bilateral" and not any(s.scale == 80 for s in out):
            out.append(unilateral_from_bilateral(m.grades, "right", trace))
    return out


def score_on(m: Mmt8, scale: int, trace: TraceOption | None = None) -> Mmt8Score | None:
    return next((s for s in scores(m, trace) if s.scale == scale), None)


def primary_score(m: Mmt8, trace: TraceOption | None = None) -> Mmt8Score | None:
    """The visit's own MMT-8: the given total, else the total of the grades on their own scale."""
    found = scores(m, trace)
    return found[0] if found else None


def min_proximal(m: Mmt8, trace: TraceOption | None = None) -> tuple[float, float, tuple[str, ...]] | None:
    """Lowest grade among the proximal limb groups (both sides when bilateral), as (lo, hi, notes).

    `lo < hi` when a proximal group is ungraded (the true lowest is then 0..lowest given) or a
    T grade is not computable. None without per-muscle grades.
    """
    if m.grades is None or m.side is None:
        return None
    trace = trace or default_trace()
    slots = [(n, g) for n, g in _flat(m.grades, m.side) if n.split(".")[0] in proximal_groups()]
    lows, highs, notes = [], [], []
    for name, grade in slots:
        if grade is None:
            lows.append(0.0)
            notes.append(f"{name} not graded")
            continue
        a, b, t = _value(grade, trace)
        lows.append(a)
        highs.append(b)
        if t:
            notes.append(f"{name} graded T (⚠️ choice kendall_trace_value: {trace})")
    if not highs:
        return None
    return min(lows), min(highs), tuple(notes)


def validate(m: Mmt8) -> None:
    """Check an `Mmt8` block: total vs scale, side vs grade shape, total vs grades (raises `fail`)."""
    if m.grades is None:
        if m.total is None or m.scale is None:
            fail(
                "an MMT-8 needs a total with its scale, or per-muscle grades",
                "write {total: 58, scale: 80} or {side: right, grades: {neck_flexors: 8, ...}}",
            )
        assert m.total is not None and m.scale is not None
        if m.total > m.scale:
            fail(f"total {m.total:g} is above the scale maximum {m.scale}", "check the total and its scale")
        if m.side is not None and (m.side == "bilateral") != (m.scale != 80):
            fail(
                f"side {m.side!r} does not fit scale {m.scale}",
                "unilateral (right/left) MMT-8 is /80; bilateral is /150 or /160",
            )
        return
    if m.side is None:
        fail("per-muscle grades need the side tested", "add side: right, left or bilateral")
    assert m.side is not None
    for g in GROUPS:
        v = getattr(m.grades, g)
        if v is None:
            continue
        if m.side != "bilateral" and isinstance(v, SidePair):
            fail(
                f"{g} has right/left grades but side is {m.side!r}",
                "give one grade per group for a unilateral test, or set side: bilateral",
            )
        if m.side == "bilateral" and g == AXIAL and isinstance(v, SidePair):
            fail("neck flexors are axial and graded once", "write neck_flexors: 8 (one grade)")
        if m.side == "bilateral" and g != AXIAL and not isinstance(v, SidePair):
            fail(
                f"{g} needs a grade for each side in a bilateral test",
                f"write {g}: {{right: 7, left: 8}}, or set side: right or left",
            )
    if all(getattr(m.grades, g) is None for g in GROUPS):
        fail("grades are empty", "grade at least one muscle group, or give the total")
    own = 150 if m.side == "bilateral" else 80
    if m.scale is not None and m.scale != own:
        fail(
            f"scale {m.scale} does not fit {m.side} grades (their scale is /{own})",
            f"write scale: {own} or leave the scale out",
        )
    if m.total is not None:
        # the widest reading of the grades: a T anywhere between 0 and 1, ungraded groups 0-10
        s = score_grades(m.grades, m.side, "not_computable")
        if not s.lo - 1e-9 <= m.total <= s.hi + 1e-9:
            shown = f"{s.lo:g}" if s.lo == s.hi else f"{s.lo:g}-{s.hi:g}"
            fail(
                f"total {m.total:g} disagrees with the per-muscle grades (they add up to {shown}/{own})",
                "correct the total or the grades, or leave the total out",
            )
