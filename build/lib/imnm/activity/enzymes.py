"""Muscle enzymes for a visit: labs of the same date, else the nearest within a window (reported).

The TIS enzyme measure is the most abnormal one at baseline among CK, aldolase, AST, ALT and
LDH, compared by fold over each result's ULN (⚠️ choice `enzyme_most_abnormal_by` in
`tis_2016.yaml`), then that enzyme is followed over time. Values are converted to U/L with the
factors in `labs.yaml` (1 µkat/L = 60 U/L). The window is the ⚠️ design choice
`enzyme_visit_window_days` in `core_set.yaml` (default 7 days).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from imnm import knowledge
from imnm.core.quantities import fold_over_uln, to_canonical
from imnm.record.model import Lab
from imnm.record.vocabulary import lab_canonical_unit, lab_label, lab_unit_factor

ENZYMES: tuple[str, ...] = ("ck", "aldolase", "ast", "alt", "ldh")


def default_window_days() -> int:
    for c in knowledge.load("core_set")["choices"]:
        if c["id"] == "enzyme_visit_window_days":
            return 0 if c["default"] == "same_day" else int(c["default_window_days"])
    raise AssertionError("core_set.yaml lacks the enzyme_visit_window_days choice")


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


def _result(lab: Lab, index: int, day: date) -> EnzymeResult:
    assert lab.date is not None
    factor = lab_unit_factor(lab.test, lab.unit) or 1.0
    return EnzymeResult(
        lab.test,
        to_canonical(lab.value, factor),
        lab_canonical_unit(lab.test),
        None if lab.uln is None else to_canonical(lab.uln, factor),
        lab.date,
        (lab.date - day).days,
        f"labs[{index}]",
        f"{lab.value:g} {lab.unit}",
    )


def nearest(labs: Sequence[Lab] | None, test: str, day: date, window_days: int) -> EnzymeResult | None:
    """The result of `test` on `day`, else the nearest within `window_days` (earlier wins a tie)."""
    best: tuple[int, int, int] | None = None
    found: EnzymeResult | None = None
    for i, lab in enumerate(labs or ()):
        if lab.test != test or lab.date is None:
            continue
        off = (lab.date - day).days
        if abs(off) > window_days:
            continue
        key = (abs(off), 1 if off > 0 else 0, i)
        if best is None or key < best:
            best, found = key, _result(lab, i, day)
    return found


def at_visit(labs: Sequence[Lab] | None, day: date, window_days: int) -> dict[str, EnzymeResult]:
    """Every muscle enzyme matched to a visit date."""
    out: dict[str, EnzymeResult] = {}
    for t in ENZYMES:
        r = nearest(labs, t, day, window_days)
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
