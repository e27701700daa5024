"""The three-valued (Kleene) truth algebra every rule in IMNM Navigator returns.

A missing fact is never read as "no": a rule whose facts are unknown is `UNKNOWN`, and
the connectives below follow Kleene's strong three-valued logic (the same as SQL's
`AND`/`OR` over `NULL` and CQL's booleans).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Truth(enum.Enum):
    """Met / not met / unknown."""

    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, value: bool | None) -> Truth:
        """`True` → MET, `False` → NOT_MET, `None` → UNKNOWN."""
        if value is None:
            return cls.UNKNOWN
        return cls.MET if value else cls.NOT_MET

    def as_bool(self) -> bool | None:
        """The inverse of `Truth.of`."""
        if self is Truth.UNKNOWN:
            return None
        return self is Truth.MET

    @property
    def symbol(self) -> str:
        return {"met": "✔", "not_met": "✘", "unknown": "?"}[self.value]


def and_(xs: Iterable[Truth]) -> Truth:
    """Kleene conjunction: any NOT_MET wins, then UNKNOWN, else MET (empty → MET)."""
    seen_unknown = False
    for x in xs:
        if x is Truth.NOT_MET:
            return Truth.NOT_MET
        if x is Truth.UNKNOWN:
            seen_unknown = True
    return Truth.UNKNOWN if seen_unknown else Truth.MET


def or_(xs: Iterable[Truth]) -> Truth:
    """Kleene disjunction: any MET wins, then UNKNOWN, else NOT_MET (empty → NOT_MET)."""
    seen_unknown = False
    for x in xs:
        if x is Truth.MET:
            return Truth.MET
        if x is Truth.UNKNOWN:
            seen_unknown = True
    return Truth.UNKNOWN if seen_unknown else Truth.NOT_MET


def not_(x: Truth) -> Truth:
    """Kleene negation: UNKNOWN stays UNKNOWN."""
    if x is Truth.UNKNOWN:
        return Truth.UNKNOWN
    return Truth.NOT_MET if x is Truth.MET else Truth.MET


def at_least(n: int, xs: Iterable[Truth]) -> Truth:
    """At least `n` of `xs` are MET.

    MET when the MET count already reaches `n`; NOT_MET when even counting every
    UNKNOWN as MET it cannot; otherwise UNKNOWN.
    """
    met = unknown = 0
    for x in xs:
        if x is Truth.MET:
            met += 1
        elif x is Truth.UNKNOWN:
            unknown += 1
    if met >= n:
        return Truth.MET
    if met + unknown < n:
        return Truth.NOT_MET
    return Truth.UNKNOWN
