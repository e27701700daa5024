"""Derived facts: computed from facts (never from a source document), registered explicitly.

Two kinds of derivation:

- `Derivation`: a Python function over a `FactView` (the patient's facts, base and derived) and the
  context (evaluation date, settings). Used where a rule cannot say it (HAQ-DI scoring, MMT-8 totals,
  antibody confirmation by method).
- `RuleDerivation`: a **value expression** of the rule language (`sum`, `case`, `logistic`, ...)
  built from the knowledge tables for the settings in force. Scores, categories and subtypes are
  defined this way, so the same definition is evaluated in Python and compiled to SQL.

`PatientFacts(base, derivations, as_of=..., settings=...)` is the one `FactSource` features read:
base facts from an adapter, derived facts computed on first use and cached. Each feature exports its
derivations (`imnm.workup.derive.DERIVATIONS`, ...); the composition root (`imnm.facts`) lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from imnm.core import rules as r
from imnm.core.evaluate import Missing, Plan, Run
from imnm.core.facts import FactSource, Obs, Observation, Period, Registry
from imnm.core.truth import Truth
from imnm.settings import Settings


class FactView(Protocol):
    """What a derivation may read: facts by name (base or derived), nothing else."""

    def get(self, name: str) -> Obs: ...


@dataclass(frozen=True, slots=True)
class Context:
    """What a derivation needs besides the facts: the evaluation date and the settings."""

    as_of: date
    settings: Settings


Compute = Callable[[FactView, Context], Obs]
Needs = Callable[[FactView, Context], tuple[str, ...]]


@dataclass(frozen=True)
class Derivation:
    """A derived fact computed in Python from other facts."""

    fact: str
    compute: Compute
    inputs: tuple[str, ...] = ()  # the facts it reads (for documentation and SQL planning)
    needs: Needs | tuple[str, ...] = ()  # what settles it when unknown (empty: the fact's own `ask`)

    def needs_of(self, facts: FactView, ctx: Context) -> tuple[str, ...]:
        if callable(self.needs):
            return self.needs(facts, ctx)
        return self.needs


def _no_note(facts: FactView, settings: Settings) -> str | None:
    return None


@dataclass(frozen=True)
class RuleDerivation:
    """A derived fact defined in the rule language (per settings): a value expression for numbers and
    codes (scores, categories, subtypes), or a rule tree for a true/false fact."""

    fact: str
    definition: Callable[[Settings], r.ValueExpr | r.Expr]
    source: str | Callable[[FactView], str] = ""  # shown as the observation's source, e.g. "EULAR/ACR 2017"
    note: Callable[[FactView, Settings], str | None] = field(default=_no_note)


AnyDerivation = Derivation | RuleDerivation
_MISS = object()


class Derivations:
    """The registered derivations (one per derived fact), checked against the vocabulary."""

    __slots__ = ("_by_fact", "_definitions", "plan")

    def __init__(self, items: Iterable[AnyDerivation], registry: Registry) -> None:
        self.plan = Plan(registry)  # the rule-defined facts' trees, compiled once for every patient
        self._by_fact: dict[str, AnyDerivation] = {}
        self._definitions: dict[tuple[str, Settings], r.ValueExpr | r.Expr] = {}
        for d in items:
            spec = registry.get(d.fact)
            if spec is None:
                raise ValueError(f"derivation for {d.fact!r}, which the vocabulary does not define")
            if not spec.derived:
                raise ValueError(f"{d.fact!r} is a base fact in the vocabulary (mark it derived)")
            if d.fact in self._by_fact:
                raise ValueError(f"two derivations for {d.fact!r}")
            self._by_fact[d.fact] = d
        missing = sorted(s.name for s in registry.specs() if s.derived and s.name not in self._by_fact)
        if missing:
            raise ValueError(f"derived facts without a derivation: {missing}")

    def get(self, name: str) -> AnyDerivation | None:
        return self._by_fact.get(name)

    @property
    def by_fact(self) -> Mapping[str, AnyDerivation]:
        """Derivations by fact name (read-only view for the fact sources' hot path)."""
        return self._by_fact

    def __contains__(self, name: object) -> bool:
        return name in self._by_fact

    def items(self) -> Iterable[AnyDerivation]:
        return self._by_fact.values()

    def definition(self, d: RuleDerivation, settings: Settings) -> r.ValueExpr | r.Expr:
        key = (d.fact, settings)
        hit = self._definitions.get(key)
        if hit is None:
            hit = self._definitions[key] = d.definition(settings)
        return hit


class PatientFacts:
    """Base facts from an adapter plus derived facts, for one patient at one date."""

    __slots__ = (
        "_by_fact",
        "_cache",
        "_needs",
        "base",
        "context",
        "derivations",
        "memo",
        "patient_id",
        "registry",
        "run",
    )

    def __init__(
        self,
        base: FactSource,
        derivations: Derivations,
        *,
        as_of: date,
        settings: Settings,
        registry: Registry,
        plan: Plan | None = None,
        patient_id: str = "",
    ) -> None:
        self.base = base
        self.patient_id = patient_id
        self.memo: dict[str, object] = {}  # per-patient results of features (e.g. the work-up core)
        self.derivations = derivations
        self._by_fact = derivations.by_fact
        self.context = Context(as_of, settings)
        self.registry = registry
        self._cache: dict[str, Obs] = {}
        self._needs: dict[str, tuple[str, ...]] = {}
        self.run = Run(self, as_of, registry, plan if plan is not None else derivations.plan)

    @property
    def settings(self) -> Settings:
        return self.context.settings

    def get(self, name: str) -> Obs:
        out = self._cache.get(name, _MISS)
        if out is not _MISS:
            return out  # type: ignore[return-value]
        d = self._by_fact.get(name)
        if d is None:
            out = self.base.get(name)
        elif isinstance(d, Derivation):
            out = d.compute(self, self.context)
        else:
            out = self._rule_value(d)
        self._cache[name] = out
        return out

    def _rule_value(self, d: RuleDerivation) -> Obs:
        expr = self.derivations.definition(d, self.context.settings)
        note = d.note(self, self.context.settings)
        source = d.source(self) if callable(d.source) else (d.source or d.fact)
        if not isinstance(expr, r.VALUE_TYPES):
            t = self.run.truth(expr)[0]  # type: ignore[arg-type]
            if t is Truth.UNKNOWN:
                return None
            return (Observation(t is Truth.MET, None, source, note),)
        value = self.run.value(expr, want_missing=False).observation_value()  # type: ignore[arg-type]
        if value is None:
            return None
        # a partly known value (a range, a set of codes): what would narrow it is `needs(fact)`, worked
        # out only when someone asks (a verdict does not need it)
        return (Observation(value, None, source, note),)

    def _rule_needs(self, d: RuleDerivation) -> tuple[str, ...]:
        expr = self.derivations.definition(d, self.context.settings)
        if not isinstance(expr, r.VALUE_TYPES):
            return missing_facts(self.run.assess(expr)[1])  # type: ignore[arg-type]
        return missing_facts(self.run.value(expr).missing)  # type: ignore[arg-type]

    def needs(self, name: str) -> tuple[str, ...]:
        """For an unknown derived fact: the facts that would settle it."""
        try:
            return self._needs[name]
        except KeyError:
            pass
        d = self.derivations.get(name)
        if d is None:
            fn = getattr(self.base, "needs", None)
            out = tuple(fn(name)) if fn is not None else ()
        elif isinstance(d, Derivation):
            out = d.needs_of(self, self.context)
        else:
            out = self._rule_needs(d)
        self._needs[name] = out
        return out

    def coverage(self, name: str) -> tuple[Period, ...] | None:
        """The periods over which an event fact's list is complete (None: at all times).

        A derived fact inherits its inputs' coverage: it is complete where any input that holds a
        list (not unknown) is complete — `medication.glucocorticoid.start` where the medication list
        is, `exposure.statin` where the exposure history or the medication list is."""
        d = self.derivations.get(name)
        if d is None:
            fn = getattr(self.base, "coverage", None)
            return fn(name) if fn is not None else None
        if not isinstance(d, Derivation) or not d.inputs:
            return None
        periods: list[Period] = []
        for i in d.inputs:
            if self.get(i) is None:
                continue  # an unknown input says nothing about completeness
            cov = self.coverage(i)
            if cov is None:
                return None
            periods.extend(cov)
        return tuple(periods)


def complete_on(facts: FactView, name: str, day: date) -> bool:
    """Is the fact's list complete on this day (so that no entry means none)? Sources without
    completeness periods are complete at all times."""
    from imnm.core.facts import covered

    fn = getattr(facts, "coverage", None)
    return covered(day, day, fn(name) if fn is not None else None)


def missing_facts(missing: Iterable[Missing]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.fact for m in missing))
