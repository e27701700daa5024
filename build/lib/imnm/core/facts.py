"""Facts: the vocabulary rules are written in, and the values a patient has for them.

A *fact* is a named thing a rule can test (`lab.ck.fold`, `antibody.HMGCR`,
`findings.dysphagia`). Its `FactSpec` says what kind of value it holds, its unit, whether its
observations carry dates (so time windows apply), and — the point of the whole design —
which test or question would supply it when it is unknown.

A `FactSource` answers `get(name)` with a tuple of `Observation`s, or `None` when the fact is
**unknown** (not recorded). An empty tuple means "recorded: none" and only makes sense for
event facts (a medication list that is present but has no rituximab in it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from difflib import get_close_matches
from typing import Any, Literal, Protocol

FactKind = Literal["bool", "number", "enum", "text", "date", "event"]


@dataclass(frozen=True, slots=True)
class Interval:
    """When an exposure or medication happened; `None` ends are unknown, `ongoing` = no stop yet."""

    start: date | None
    stop: date | None
    ongoing: bool = False


@dataclass(frozen=True, slots=True)
class NumRange:
    """A number known only to lie in [lo, hi], e.g. a score whose items are partly unknown.

    Comparisons against a range are three-valued: `score >= 5.5` is met when `lo >= 5.5`,
    not met when `hi < 5.5`, and unknown otherwise. Learning more facts may only narrow it.
    """

    lo: float
    hi: float

    def __post_init__(self) -> None:
        if self.lo > self.hi:
            raise ValueError(f"empty range [{self.lo}, {self.hi}]")


FactValue = bool | float | str | date | Interval | NumRange


@dataclass(frozen=True, slots=True)
class Observation:
    """One value of a fact, with its date, source location and any assumption made."""

    value: FactValue
    date: date | None = None
    source: str = ""
    note: str | None = None
    needs: tuple[str, ...] = ()  # facts that would narrow a partly known value (a NumRange)


@dataclass(frozen=True, slots=True)
class FactSpec:
    """A fact's definition: kind, unit, allowed values, and the test that supplies it."""

    name: str
    kind: FactKind
    label: str
    ask: str
    test: str
    unit: str | None = None
    values: tuple[str, ...] | None = None
    dated: bool = False
    description: str = ""
    # resolve(record, context) -> observations or None; set by adapters, never by rules.
    resolve: Callable[[Any, Any], tuple[Observation, ...] | None] | None = field(
        default=None, compare=False, repr=False
    )
    # needs(record, context) -> the facts that would settle this (derived) fact when it is unknown
    needs: Callable[[Any, Any], tuple[str, ...]] | None = field(default=None, compare=False, repr=False)


class FactSource(Protocol):
    """Anything that can answer "what do we know about fact X?".

    A source may also offer `needs(name) -> tuple[str, ...]`: for a derived fact that is
    unknown, the underlying facts whose tests would settle it (the engine names those tests).
    """

    def get(self, name: str) -> tuple[Observation, ...] | None: ...


class Registry:
    """The set of facts rules may refer to. Modules add their derived facts with `register`."""

    def __init__(self) -> None:
        self._specs: dict[str, FactSpec] = {}

    def register(self, spec: FactSpec) -> FactSpec:
        if spec.name in self._specs:
            raise ValueError(f"fact {spec.name!r} is already registered")
        self._specs[spec.name] = spec
        return spec

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __getitem__(self, name: str) -> FactSpec:
        return self._specs[name]

    def get(self, name: str) -> FactSpec | None:
        return self._specs.get(name)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def specs(self) -> Iterable[FactSpec]:
        return self._specs.values()

    def suggest(self, name: str) -> str | None:
        close = get_close_matches(name, list(self._specs), n=1, cutoff=0.6)
        return close[0] if close else None


@dataclass
class DictFacts:
    """A `FactSource` over a plain mapping (tests, SQL rows, other adapters)."""

    data: Mapping[str, tuple[Observation, ...] | None]

    def get(self, name: str) -> tuple[Observation, ...] | None:
        return self.data.get(name)


def scalar(
    value: FactValue | None, *, source: str = "", when: date | None = None, note: str | None = None
) -> tuple[Observation, ...] | None:
    """One observation, or unknown when `value` is None."""
    if value is None:
        return None
    return (Observation(value, when, source, note),)
