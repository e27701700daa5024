"""Facts: the vocabulary rules are written in, and the values a patient has for them.

A *fact* is a named thing a rule can test (`lab.ck.fold`, `antibody.HMGCR`, `findings.dysphagia`).
Its `FactSpec` says what kind of value it holds, its unit, whether its observations carry dates
(so time windows apply), and — the point of the whole design — which test or question would supply
it when it is unknown. Specs are data (the vocabulary table, `imnm.vocabulary`); nothing here knows
where a patient's values come from.

A `FactSource` answers `get(name)` with a tuple of `Observation`s, or `None` when the fact is
**unknown** (not recorded). An empty tuple means "recorded: none" and only makes sense for event
facts (a medication list that is present but has no rituximab in it). A source may also say over
which periods such a list is complete (`coverage(name)`): absence counts as "no" only inside them.

An `Observation` keeps what was received next to the value in canonical units: the raw value, unit
and reference limits as reported (`Raw`), and where it came from (`Ref`: adapter, resource or row id,
path in the source document), so evidence can show "7 µkat/L as reported, 420 U/L, lab ULN
3.3 µkat/L, labs[4]" or "Observation/abc123" without parsing strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from difflib import get_close_matches
from typing import Literal, Protocol

FactKind = Literal["bool", "number", "enum", "text", "date", "event", "structured"]
FACT_KINDS: tuple[str, ...] = ("bool", "number", "enum", "text", "date", "event", "structured")


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
        if not self.lo <= self.hi:
            raise ValueError(f"empty range [{self.lo}, {self.hi}]")


@dataclass(frozen=True, slots=True)
class OneOf:
    """A coded value known only to be one of several (e.g. a category whose score is a range).

    `category == definite` is met when the set is {definite}, not met when definite is not in it,
    and unknown otherwise; `in [...]` is met when every possible value is in the list.
    """

    values: frozenset[str]

    def __post_init__(self) -> None:
        if len(self.values) < 2:
            raise ValueError("OneOf needs at least two possible values; use the value itself")

    def sorted(self) -> list[str]:
        return sorted(self.values)


class Structured(Protocol):
    """An instrument's item data (MMT-8 grades, HAQ items): read by derivations, never compared."""

    def model_dump(self) -> dict[str, object]: ...


FactValue = bool | float | str | date | Interval | NumRange | OneOf | Structured


@dataclass(frozen=True, slots=True)
class Raw:
    """A value as the source reported it, before conversion: value, unit, reference limits, text."""

    value: object = None
    unit: str | None = None
    low: float | None = None  # lower reference limit, in `unit`
    high: float | None = None  # upper reference limit (ULN), in `unit`
    text: str | None = None  # e.g. a medication name as written

    def describe(self) -> str:
        parts = []
        if self.value is not None:
            v = f"{self.value:g}" if isinstance(self.value, float) else str(self.value)
            parts.append(f"{v} {self.unit}".strip() if self.unit else v)
        if self.high is not None:
            parts.append(f"ULN {self.high:g}{f' {self.unit}' if self.unit else ''}")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Ref:
    """Where an observation came from: the adapter, the source system's id, the path in the document."""

    adapter: str
    id: str | None = None
    path: str | None = None
    row: str | None = None  # the row or block the value came from (e.g. visits[2]), to join facts of one row

    def __str__(self) -> str:
        if self.id and self.path:
            return f"{self.path} ({self.id})"
        return self.id or self.path or self.adapter


@dataclass(frozen=True, slots=True)
class Observation:
    """One value of a fact, with its date, where it came from and any assumption made.

    `source` is the short place shown in evidence (a path such as `labs[4]`, or a derivation's name);
    `raw` and `ref` keep what was received; `attrs` carries named attributes the adapter bound with
    the value (an antibody's method and band, a medication's dose); `needs` names the facts that would
    narrow a partly known value (a `NumRange` or `OneOf`).
    """

    value: FactValue
    date: date | None = None
    source: str = ""
    note: str | None = None
    needs: tuple[str, ...] = ()
    raw: Raw | None = None
    ref: Ref | None = None
    attrs: tuple[tuple[str, object], ...] = ()

    def attr(self, name: str, default: object = None) -> object:
        for k, v in self.attrs:
            if k == name:
                return v
        return default


Obs = tuple[Observation, ...] | None
"""What a fact source answers: observations, or None for unknown."""

Period = tuple[date, date]


@dataclass(frozen=True, slots=True)
class FactSpec:
    """A fact's definition (a row of the vocabulary table): kind, unit, values, and what supplies it."""

    name: str
    kind: FactKind
    label: str
    ask: str
    test: str
    unit: str | None = None
    values: tuple[str, ...] | None = None
    dated: bool = False
    description: str = ""
    derived: bool = False
    done: tuple[str, str, str] | None = None
    """(fact, test, ask): when `fact` is recorded true, what supplies this fact was already done (a
    biopsy on file), so an unknown is asked of that result (`ask`, test `test`), never repeated."""


class FactSource(Protocol):
    """Anything that can answer "what do we know about fact X?".

    A source may also offer `needs(name) -> tuple[str, ...]` (for a derived fact that is unknown, the
    underlying facts whose tests would settle it) and `coverage(name) -> tuple[Period, ...] | None`
    (for an event fact, the periods over which its list is complete; None = at all times).
    """

    def get(self, name: str) -> Obs: ...


class Registry:
    """The set of facts rules may refer to (built from the vocabulary table)."""

    __slots__ = ("_specs",)

    def __init__(self, specs: Iterable[FactSpec] = ()) -> None:
        self._specs: dict[str, FactSpec] = {}
        for s in specs:
            self.register(s)

    def register(self, spec: FactSpec) -> FactSpec:
        if spec.name in self._specs:
            raise ValueError(f"fact {spec.name!r} is already registered")
        self._specs[spec.name] = spec
        return spec

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __getitem__(self, name: str) -> FactSpec:
        return self._specs[name]

    def __len__(self) -> int:
        return len(self._specs)

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

    data: Mapping[str, Obs]
    periods: Mapping[str, tuple[Period, ...]] | None = None

    def get(self, name: str) -> Obs:
        return self.data.get(name)

    def coverage(self, name: str) -> tuple[Period, ...] | None:
        return None if self.periods is None else self.periods.get(name)


def scalar(
    value: FactValue | None, *, source: str = "", when: date | None = None, note: str | None = None
) -> Obs:
    """One observation, or unknown when `value` is None."""
    if value is None:
        return None
    return (Observation(value, when, source, note),)


def covered(lo: date, hi: date, periods: tuple[Period, ...] | None) -> bool:
    """Is [lo, hi] inside the union of the periods? (None = complete at all times.)"""
    if periods is None:
        return True
    day = lo
    for start, end in sorted(periods):
        if start > day:
            return False
        if end >= day:
            if end >= hi:
                return True
            day = date.fromordinal(end.toordinal() + 1)
    return False


def source_order(source: str) -> tuple[object, ...]:
    """A sort key that keeps list items in document order (`labs[10]` after `labs[9]`)."""
    import re

    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", source))
