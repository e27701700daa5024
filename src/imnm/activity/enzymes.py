"""Muscle enzymes for a visit: labs of the same date, else the nearest within a window (reported).

The TIS enzyme measure is the most abnormal one at baseline among CK, aldolase, AST, ALT and
LDH, compared by fold over each result's ULN (⚠️ choice `enzyme_most_abnormal_by` in
`tis_2016.yaml`), then that enzyme is followed over time. Values are read from the `lab.<test>`
facts, already in the canonical unit (U/L); the raw value and the lab's ULN come with them. The
window is the ⚠️ design choice `enzyme_visit_window_days` in `core_set.yaml` (default 7 days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from imnm.core.facts import FactSource, Observation
from imnm.core.quantities import fold_over_uln
from imnm.knowledge.lookups import lab_canonical_unit, lab_label, lab_unit_factor

ENZYMES: tuple[str, ...] = ("ck", "aldolase", "ast", "alt", "ldh")


@dataclass(frozen=True, slots=True)
class EnzymeResult:
    """One enzyme result matched to a visit, in the canonical unit (U/L)."""

    test: str
    value: float
    unit: str
    uln: float | None
    lab_date: date
    offset_days: int  # lab date minus visit date
    source: str  # e.g. labs[3]
    given: str  # the value as written, e.g. "35 ukat/L"

    @property
    def fold(self) -> float | None:
        return None if self.uln is None else fold_over_uln(self.value, self.uln)

    @property
    def label(self) -> str:
        return "CK" if self.test == "ck" else lab_label(self.test).split(" (")[-1].rstrip(")")

    def where(self) -> str:
        """e.g. 'CK from 2024-04-09, 1 day before the visit'."""
        d = abs(self.offset_days)
        when = (
            "same day as the visit"
            if d == 0
            else f"{d} day{'s' if d != 1 else ''} {'before' if self.offset_days < 0 else 'after'} the visit"
        )
        return f"{self.label} from {self.lab_date.isoformat()}, {when}"


def result(test: str, o: Observation, day: date) -> EnzymeResult:
    """An enzyme observation (`lab.<test>`) as a result matched to a visit on `day`."""
    assert o.date is not None and isinstance(o.value, float)
    raw = o.raw
    uln = None
    given = f"{o.value:g} {lab_canonical_unit(test)}"
    if raw is not None and isinstance(raw.value, int | float):
        given = f"{raw.value:g} {raw.unit}" if raw.unit else f"{raw.value:g}"
        if raw.high is not None:
            factor = lab_unit_factor(test, raw.unit or "") or 1.0
            uln = raw.high * factor
    return EnzymeResult(
        test, o.value, lab_canonical_unit(test), uln, o.date, (o.date - day).days, o.source, given
    )


def nearest(facts: FactSource, test: str, day: date, window_days: int) -> EnzymeResult | None:
    """The result of `test` on `day`, else the nearest within `window_days` (earlier wins a tie)."""
    best: tuple[int, int, int] | None = None
    found: EnzymeResult | None = None
    for i, o in enumerate(facts.get(f"lab.{test}") or ()):
        if o.date is None:
            continue
        off = (o.date - day).days
        if abs(off) > window_days:
            continue
        key = (abs(off), 1 if off > 0 else 0, i)
        if best is None or key < best:
            best, found = key, result(test, o, day)
    return found


def at_visit(facts: FactSource, day: date, window_days: int) -> dict[str, EnzymeResult]:
    """Every muscle enzyme matched to a visit date."""
    out: dict[str, EnzymeResult] = {}
    for t in ENZYMES:
        r = nearest(facts, t, day, window_days)
        if r is not None:
            out[t] = r
    return out


def most_abnormal(found: dict[str, EnzymeResult]) -> tuple[EnzymeResult | None, str]:
    """The enzyme with the highest fold over its ULN, and how it was chosen."""
    with_uln = [r for r in found.values() if r.fold is not None]
    if with_uln:
        top = max(with_uln, key=lambda r: (r.fold or 0.0, -ENZYMES.index(r.test)))
        others = [r for r in found.values() if r.fold is None]
        note = f"most abnormal by fold over ULN ({top.fold:.3g} × ULN; ⚠️ choice enzyme_most_abnormal_by)"
        if others:
            note += f"; not compared (no ULN): {', '.join(r.label for r in others)}"
        return top, note
    if len(found) == 1:
        only = next(iter(found.values()))
        return only, "the only muscle enzyme measured; its ULN is not given, so how abnormal it is is unknown"
    if found:
        return None, (
            f"cannot choose among {', '.join(r.label for r in found.values())}: "
            "no ULN given; add each result's uln"
        )
    return None, "no muscle enzyme (CK, aldolase, AST, ALT, LDH) measured near this visit"
