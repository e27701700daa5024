"""Autoantibody results read with their method, value and strength (knowledge: antibodies.yaml).

For anti-HMGCR and anti-SRP the work-up needs more than "positive": a weak line-blot band alone is
*unconfirmed* (enmc_224 choice `antibody_confirmation`) and asks for a second method
(antibodies.yaml choice `confirmatory_methods`). `target_status` gives, per target, the status
(`positive`, `unconfirmed`, `borderline`, `negative`, or None when not tested) and the
three-valued "confirmed positive" used by the ENMC rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from imnm import knowledge
from imnm.core.facts import FactSource, Observation
from imnm.workup.results import AntibodyResult
from imnm.workup.settings import WorkupSettings

_CONFIRMING = {
    "ip_and_iif": ("immunoprecipitation", "IIF"),
    "ip_only": ("immunoprecipitation",),
    "any_other_method": ("immunoprecipitation", "IIF"),
}


@dataclass(frozen=True, slots=True)
class Reading:
    """One antibody result as the work-up reads it."""

    source: str  # where the result is, e.g. antibodies[2] or Observation/abc
    target: str
    result: str
    method: str | None
    value: float | None
    unit: str | None
    band: str | None
    date: date | None
    strength: str | None  # negative | weak | moderate | strong | borderline | None
    strength_basis: str
    reliable: bool  # a positive that counts without a second method
    confirmatory: bool  # done by a confirmatory (second) method
    notes: tuple[str, ...]

    def as_dict(self) -> AntibodyResult:
        return {
            "source": self.source,
            "target": self.target,
            "result": self.result,
            "method": self.method,
            "value": self.value,
            "unit": self.unit,
            "band": self.band,
            "date": self.date.isoformat() if self.date else None,
            "strength": self.strength,
            "strength_basis": self.strength_basis,
            "counts_as_confirmed": self.reliable if self.result == "positive" else None,
            "confirmatory_method": self.confirmatory,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class TargetStatus:
    target: str
    status: str | None  # positive | unconfirmed | borderline | negative | None (not tested)
    positive: bool | None  # confirmed positive (True), negative (False), undecided (None)
    readings: tuple[Reading, ...]
    notes: tuple[str, ...]

    @property
    def needs_second_method(self) -> bool:
        return self.status in ("unconfirmed", "borderline")


@cache
def _elisa_grades() -> tuple[float, list[dict[str, Any]], str]:
    for assay in knowledge.load("antibodies")["hmgcr_assays"]:
        if assay["id"] == "elisa_inova_type":
            return float(assay["negative_below"]), list(assay["grades"]), str(assay["cutoff_source"])
    raise KeyError("elisa_inova_type")  # pragma: no cover


@cache
def _cutoffs() -> dict[str, float]:
    """Negative cut-off per anti-HMGCR immunoassay method (ELISA, CLIA)."""
    out: dict[str, float] = {}
    for assay in knowledge.load("antibodies")["hmgcr_assays"]:
        if assay.get("negative_below") is not None:
            out.setdefault(str(assay["method"]), float(assay["negative_below"]))
    return out


@cache
def _quantitative_methods() -> frozenset[str]:
    return frozenset(m["id"] for m in knowledge.load("antibodies")["methods"] if m.get("quantitative"))


@dataclass(frozen=True, slots=True)
class _Result:
    """An antibody observation's parts (the `antibody.<target>` fact with its bound attributes)."""

    target: str
    result: str
    method: str | None
    value: float | None
    unit: str | None
    band: str | None
    date: date | None
    source: str


def _result(target: str, o: Observation) -> _Result:
    def text(name: str) -> str | None:
        v = o.attr(name)
        return v if isinstance(v, str) else None

    v = o.attr("value")
    return _Result(
        target,
        str(o.value),
        text("method"),
        float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None,
        text("unit"),
        text("band"),
        o.date,
        o.source,
    )


def _strength(a: _Result) -> tuple[str | None, str, list[str]]:
    notes: list[str] = []
    if a.result == "borderline":
        return "borderline", "reported borderline", notes
    if a.result == "negative":
        if a.target == "HMGCR" and a.value is not None and a.method in _cutoffs():
            cut = _cutoffs()[a.method]
            if a.value >= cut:
                notes.append(
                    f"reported negative but the value {a.value:g} is at or above the cut-off {cut:g}"
                )
        return "negative", "reported negative", notes
    # positive
    if a.method == "line_blot":
        if a.band is None:
            notes.append("line-blot band intensity not given")
        return a.band, "line-blot band intensity" if a.band else "not given", notes
    if a.target == "HMGCR" and a.method == "ELISA" and a.value is not None:
        cut, grades, src = _elisa_grades()
        if a.value < cut:
            notes.append(
                f"reported positive but the value {a.value:g} is below the ELISA cut-off {cut:g} {src}"
            )
            return "negative", f"anti-HMGCR ELISA cut-off < {cut:g} units {src}", notes
        for g in grades:
            lo, hi = g["min"], g["max_exclusive"]
            if (lo is None or a.value >= lo) and (hi is None or a.value < hi):
                return str(g["id"]), f"anti-HMGCR ELISA grading: {g['text']} {g['source']}", notes
    if a.target == "HMGCR" and a.method == "CLIA" and a.value is not None:
        clia = _cutoffs().get("CLIA")
        if clia is not None and a.value < clia:
            notes.append(f"reported positive but the value {a.value:g} is below the CLIA cut-off {clia:g}")
    return None, "no strength grading for this method", notes


def readings(facts: FactSource, target: str, settings: WorkupSettings) -> tuple[Reading, ...]:
    obs = facts.get(f"antibody.{target}")
    if not obs:
        return ()
    confirming = _CONFIRMING[settings.confirmatory_methods]
    out = []
    rows = [(i, _result(target, o)) for i, o in enumerate(obs)]
    positive_methods = {a.method for _, a in rows if a.result == "positive" and a.method}
    for _i, a in rows:
        strength, basis, notes = _strength(a)
        confirmatory = a.method in confirming
        reliable = False
        if a.result == "positive":
            if settings.antibody_confirmation == "accept" or confirmatory:
                reliable = True
            elif a.method == "line_blot":
                reliable = a.band in ("moderate", "strong")
                if not reliable:
                    notes.append(
                        "a weak or ungraded line-blot band alone is unconfirmed (needs a second method)"
                    )
            elif a.method in _quantitative_methods():
                reliable = strength != "negative"
            else:  # method not given or 'other'
                reliable = settings.unknown_antibody_method == "accept_as_reported"
                notes.append(
                    "method not recorded; "
                    + ("accepted as reported" if reliable else "treated as unconfirmed")
                    + " (workup choice unknown_antibody_method)"
                )
            if (
                not reliable
                and settings.confirmatory_methods == "any_other_method"
                and len(positive_methods - {a.method}) > 0
            ):
                reliable = True
                notes.append("confirmed by a positive result with another method")
        out.append(
            Reading(
                a.source,
                a.target,
                a.result,
                a.method,
                a.value,
                a.unit,
                a.band,
                a.date,
                strength,
                basis,
                reliable,
                confirmatory,
                tuple(notes),
            )
        )
    return tuple(out)


def target_status(facts: FactSource, target: str, settings: WorkupSettings) -> TargetStatus:
    """The status of one target, from the `antibody.<target>` fact."""
    rs = readings(facts, target, settings)
    if not rs:
        return TargetStatus(target, None, None, rs, ())
    notes: list[str] = []
    pos = [r for r in rs if r.result == "positive"]
    neg = [r for r in rs if r.result == "negative"]
    border = [r for r in rs if r.result == "borderline"]
    confirmed = [r for r in pos if r.reliable]
    if confirmed:
        if neg:
            notes.append("conflicting results: a negative result by another test is also recorded; review")
        return TargetStatus(target, "positive", True, rs, tuple(notes))
    confirming_negative = [r for r in neg if r.confirmatory]
    if (pos or border) and confirming_negative:
        notes.append("an unconfirmed or borderline result was not confirmed by a second method (negative)")
        return TargetStatus(target, "negative", False, rs, tuple(notes))
    if pos:
        if neg:
            notes.append("a negative result by a non-confirmatory method is also recorded")
        return TargetStatus(target, "unconfirmed", None, rs, tuple(notes))
    if border:
        return TargetStatus(target, "borderline", None, rs, tuple(notes))
    return TargetStatus(target, "negative", False, rs, tuple(notes))
