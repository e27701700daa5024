"""Evaluate rule trees and value expressions against a patient's facts, in Kleene three-valued logic.

One evaluator. Rule trees are compiled once per rule set into a `Plan` (a tree of `CNode`s holding
each node's kind, children, comparison target in canonical units and a structural key). Over that
plan there is **one leaf function** (`leaf`: a comparison or event against the facts, giving truth,
the observations used and — when asked — what is missing) and **one junction step** (`combine`: the
Kleene connective of `all` / `any` / `not` / `at_least`). Everything else is a reporting and caching
policy around them, all on a `Run` (one patient's facts at one date):

| mode | returns | used by |
|---|---|---|
| `Run.outcome(node)` | `Outcome` tree: truth, evidence, missing facts, children, text | explanations, the work-up (`shared`: each distinct node once per run) |
| `Run.assess(node)` | (truth, missing facts) | trial criteria, missing-test lists |
| `Run.truth(node)` | (truth, whether an unknown rests on a missing fact) | verdicts across a whole catalog |
| `Run.value(expr)` | a `ValueResult` (a number range or a set of codes) with what is missing | rule-defined facts (scores, categories) |

Leaf results are shared by structurally equal leaves within a run, whatever the mode. Nothing here
reads the clock: `as_of` is the date rules are evaluated at. `check(rule, registry)` lists every way
a rule does not fit the fact vocabulary, so rule files fail at load time, not at evaluation time.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from imnm.core import rules as r
from imnm.core.facts import (
    FactSource,
    FactSpec,
    Interval,
    NumRange,
    Observation,
    OneOf,
    Period,
    Registry,
    covered,
)
from imnm.core.quantities import rule_unit_factor
from imnm.core.truth import Truth, and_, at_least, not_, or_
from imnm.errors import Problem, RuleError

MAX_SHIFT_DAYS = 200 * 366
"""The longest window any rule may span (documented limit: 200 years)."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """A value that a rule used: which fact, what value, from where, with what assumption."""

    fact: str
    label: str
    value: str
    date: date | None
    source: str
    note: str | None = None

    def __str__(self) -> str:
        when = f" on {self.date.isoformat()}" if self.date else ""
        src = f" [{self.source}]" if self.source else ""
        note = f" ({self.note})" if self.note else ""
        return f"{self.label} = {self.value}{when}{src}{note}"


@dataclass(frozen=True, slots=True)
class Missing:
    """A fact that would settle an unknown result, and the test or question that supplies it."""

    fact: str
    label: str
    ask: str
    test: str
    detail: str | None = None

    def __str__(self) -> str:
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.fact} ← {self.ask}{extra}"


REVIEW = Missing("manual_review", "manual review", "review by a clinician", "manual_review")


class Outcome:
    """The result of one node: truth, evidence, missing facts and the children's outcomes.

    `text` (the node's human wording) is rendered on first use: evaluating a whole catalog
    should not pay for sentences nobody reads.
    """

    __slots__ = ("_registry", "_text", "children", "evidence", "missing", "node", "truth")

    def __init__(
        self,
        truth: Truth,
        node: r.Expr,
        text: str | None = None,
        evidence: tuple[Evidence, ...] = (),
        missing: tuple[Missing, ...] = (),
        children: tuple[Outcome, ...] = (),
        *,
        registry: Registry | None = None,
    ) -> None:
        if text is None and registry is None:
            raise ValueError("an Outcome needs its text or the registry to render it")
        self.truth = truth
        self.node = node
        self._text = text
        self.evidence = evidence
        self.missing = missing
        self.children = children
        self._registry = registry

    @property
    def text(self) -> str:
        if self._text is None:
            assert self._registry is not None
            self._text = describe(self.node, self._registry)
        return self._text

    def __repr__(self) -> str:
        return f"Outcome({self.truth.value}, {self.text!r})"

    def all_evidence(self) -> list[Evidence]:
        out: list[Evidence] = []
        for o in self.walk():
            out.extend(o.evidence)
        return out

    def walk(self) -> Iterator[Outcome]:
        yield self
        for c in self.children:
            yield from c.walk()

    def explain(self, indent: int = 0) -> str:
        """A readable tree: one line per node with its status, evidence and missing facts."""
        pad = "  " * indent
        lines = [f"{pad}{self.truth.symbol} {self.text} → {self.truth.value}"]
        for e in self.evidence:
            lines.append(f"{pad}    · {e}")
        if not self.children:
            for m in self.missing:
                lines.append(f"{pad}    ? needs {m}")
        for c in self.children:
            lines.append(c.explain(indent + 1))
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        return {
            "truth": self.truth.value,
            "text": self.text,
            "evidence": [
                {
                    "fact": e.fact,
                    "value": e.value,
                    "date": e.date.isoformat() if e.date else None,
                    "source": e.source,
                    "note": e.note,
                }
                for e in self.evidence
            ],
            "missing": [missing_dict(m) for m in self.missing],
            "children": [c.as_dict() for c in self.children],
        }


def missing_dict(m: Missing) -> dict[str, object]:
    return {"fact": m.fact, "label": m.label, "ask": m.ask, "test": m.test, "detail": m.detail}


def dedupe_missing(items: Sequence[Missing]) -> tuple[Missing, ...]:
    seen: dict[tuple[str, str | None], Missing] = {}
    for m in items:
        seen.setdefault((m.fact, m.detail), m)
    return tuple(seen.values())


# ---------------------------------------------------------------- dates and windows


def shift(day: date, duration: str, sign: int) -> date:
    """Move a date by a duration (`90d`, `12w`, `6mo`, `1y`); months/years are calendar units.

    Dates beyond the calendar's range are clamped to `date.min` / `date.max`."""
    m = r.DURATION.match(duration.strip())
    if not m:
        raise ValueError(f"bad duration {duration!r}")
    n, unit = int(m.group(1)) * sign, m.group(2)
    try:
        if unit == "d":
            return day + timedelta(days=n)
        if unit == "w":
            return day + timedelta(weeks=n)
        months = n if unit == "mo" else 12 * n
        y, mo = divmod(day.month - 1 + months, 12)
        year, month = day.year + y, mo + 1
        return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
    except (OverflowError, ValueError):
        return date.max if sign > 0 else date.min


def known_by(obs: tuple[Observation, ...], as_of: date) -> tuple[Observation, ...]:
    """What was known on the evaluation date: undated observations and those dated on or before
    it. A rule without a window never sees results from after `as_of` (a rule that must look
    ahead says so with `window: {after: ...}`)."""
    return tuple(o for o in obs if o.date is None or o.date <= as_of)


def window_bounds(window: r.Window, anchor: date) -> tuple[date, date]:
    lo = shift(anchor, window.before, -1) if window.before else anchor
    hi = shift(anchor, window.after, +1) if window.after else anchor
    return lo, hi


# ---------------------------------------------------------------- text


def _fmt_value(value: object, unit: str | None = None) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = f"{value:g}"
    elif isinstance(value, list):
        text = "{" + ", ".join(_fmt_value(v) for v in value) + "}"
    else:
        text = str(value)
    return f"{text} {unit}" if unit else text


_OP_TEXT = {
    "<": "<",
    "<=": "≤",
    ">": ">",
    ">=": "≥",
    "==": "is",
    "!=": "is not",
    "in": "is one of",
    "not_in": "is none of",
}
_SELECT_TEXT = {
    "latest": "latest",
    "earliest": "first",
    "max": "highest",
    "min": "lowest",
    "any": "any",
    "all": "every",
}


def describe(node: r.Expr, registry: Registry) -> str:
    """Human-readable text for a node (its `label` when it has one)."""
    if node.label:
        return node.label
    if isinstance(node, r.All):
        return "all of the following"
    if isinstance(node, r.AnyOf):
        return "any of the following"
    if isinstance(node, r.Not):
        return f"not: {describe(node.not_, registry)}"
    if isinstance(node, r.AtLeast):
        return f"at least {node.at_least.n} of the following"
    if isinstance(node, r.IsTrue):
        return f"{_label(node.is_true, registry)} is present"
    if isinstance(node, r.CompareNode):
        c = node.compare
        spec = registry.get(c.fact)
        what = _label(c.fact, registry)
        if spec is not None and spec.dated:
            what = f"{_SELECT_TEXT[c.select]} {what}"
        text = f"{what} {_OP_TEXT[c.op]} {_fmt_value(c.value, c.unit)}"
        if c.window:
            text += f" ({c.window.describe()})"
        return text
    if isinstance(node, r.Event):
        text = _label(node.event.fact, registry)
        return f"{text} ({node.event.window.describe()})" if node.event.window else f"{text} (ever)"
    if isinstance(node, r.Const):
        return f"always {node.const}"
    raise TypeError(node)  # pragma: no cover


def _label(fact: str, registry: Registry) -> str:
    spec = registry.get(fact)
    return spec.label if spec else fact


# ---------------------------------------------------------------- checking


_KIND_OPS: dict[str, set[str]] = {
    "bool": {"==", "!="},
    "number": {"<", "<=", ">", ">=", "==", "!="},
    "enum": {"==", "!=", "in", "not_in"},
    "text": {"==", "!=", "in", "not_in"},
    "date": {"<", "<=", ">", ">=", "==", "!="},
    "event": set(),
    "structured": set(),
}


def check(node: r.Expr, registry: Registry, *, path: str = "rule") -> list[Problem]:
    """Every problem that keeps a rule from fitting the fact vocabulary (empty = fits)."""
    problems: list[Problem] = []

    def fact_spec(name: str, where: str) -> FactSpec | None:
        spec = registry.get(name)
        if spec is None:
            hint = registry.suggest(name)
            problems.append(
                Problem(
                    where,
                    f"unknown fact {name!r}",
                    f"did you mean {hint!r}?" if hint else "see `imnm facts --list`",
                    value=name,
                )
            )
        return spec

    def check_window(window: r.Window | None, spec: FactSpec, where: str) -> None:
        if window is None:
            return
        if not spec.dated:
            problems.append(
                Problem(where, f"{spec.name} has no dates, so a window cannot apply", "remove the window")
            )
        if window.before is None and window.after is None:
            problems.append(Problem(where, "a window needs before and/or after", "e.g. before: 90d"))
        if window.anchor != "as_of":
            anchor = fact_spec(window.anchor, where + ".anchor")
            if anchor is not None and anchor.kind != "date":
                problems.append(
                    Problem(
                        where + ".anchor", f"{window.anchor} is not a date fact", "use as_of or a date fact"
                    )
                )

    def visit(n: r.Expr, where: str) -> None:
        if isinstance(n, r.IsTrue):
            spec = fact_spec(n.is_true, where + ".is_true")
            if spec and spec.kind != "bool":
                problems.append(
                    Problem(
                        where + ".is_true",
                        f"{spec.name} is a {spec.kind} fact, not true/false",
                        "use compare",
                    )
                )
        elif isinstance(n, r.CompareNode):
            c = n.compare
            spec = fact_spec(c.fact, where + ".compare.fact")
            if spec is None:
                return
            if c.op not in _KIND_OPS[spec.kind]:
                problems.append(
                    Problem(
                        where + ".compare.op",
                        f"{c.op!r} does not apply to {spec.kind} fact {spec.name}",
                        f"use one of {sorted(_KIND_OPS[spec.kind]) or 'an event node'}",
                        value=c.op,
                    )
                )
            listy = c.op in ("in", "not_in")
            if listy != isinstance(c.value, list):
                problems.append(
                    Problem(
                        where + ".compare.value",
                        "in/not_in need a list; other operators a single value",
                        value=c.value,
                    )
                )
            values = c.value if isinstance(c.value, list) else [c.value]
            if spec.kind == "number":
                if any(isinstance(v, bool) or not isinstance(v, float | int) for v in values):
                    problems.append(
                        Problem(where + ".compare.value", f"{spec.name} needs a number", value=c.value)
                    )
                elif any(not math.isfinite(float(v)) for v in values if isinstance(v, int | float)):
                    problems.append(
                        Problem(
                            where + ".compare.value",
                            "a rule value must be a finite number",
                            value=str(c.value),
                        )
                    )
                if spec.unit and c.unit is None:
                    problems.append(
                        Problem(
                            where + ".compare.unit",
                            f"{spec.name} is measured in {spec.unit}",
                            f"write unit: {spec.unit}",
                        )
                    )
                elif c.unit is not None and rule_unit_factor(c.unit, spec.unit) is None:
                    problems.append(
                        Problem(
                            where + ".compare.unit",
                            f"{c.unit!r} is not a unit for {spec.name}",
                            f"use {spec.unit or 'no unit'}",
                            value=c.unit,
                        )
                    )
            elif c.unit is not None:
                problems.append(Problem(where + ".compare.unit", f"{spec.name} has no unit", "remove unit"))
            if spec.kind == "bool" and any(not isinstance(v, bool) for v in values):
                problems.append(
                    Problem(where + ".compare.value", f"{spec.name} needs true or false", value=c.value)
                )
            if spec.kind == "enum" and spec.values:
                bad = [v for v in values if v not in spec.values]
                if bad:
                    problems.append(
                        Problem(
                            where + ".compare.value",
                            f"{bad} not among {spec.name}'s values",
                            f"use {', '.join(spec.values)}",
                            value=c.value,
                        )
                    )
            if spec.kind == "date":
                for v in values:
                    if not isinstance(v, str) or not _iso_date(v):
                        problems.append(
                            Problem(
                                where + ".compare.value",
                                f"{v!r} is not an ISO date",
                                "write YYYY-MM-DD",
                                value=v,
                            )
                        )
            if c.select in ("max", "min") and spec.kind not in ("number", "date"):
                problems.append(Problem(where + ".compare.select", f"{c.select} needs a number or date fact"))
            check_window(c.window, spec, where + ".compare.window")
        elif isinstance(n, r.Event):
            spec = fact_spec(n.event.fact, where + ".event.fact")
            if spec is None:
                return
            if spec.kind != "event":
                problems.append(
                    Problem(
                        where + ".event.fact", f"{spec.name} is not an event fact", "use compare or is_true"
                    )
                )
            check_window(n.event.window, spec, where + ".event.window")
        elif isinstance(n, r.AtLeast):
            if n.at_least.n > len(n.at_least.of):
                problems.append(
                    Problem(
                        where + ".at_least.n",
                        f"n = {n.at_least.n} but only {len(n.at_least.of)} children",
                        "lower n or add children",
                    )
                )
            for i, kid in enumerate(n.at_least.of):
                visit(kid, f"{where}.at_least.of[{i}]")
            return
        key = "all" if isinstance(n, r.All) else "any" if isinstance(n, r.AnyOf) else None
        for i, kid in enumerate(r.children(n)):
            visit(kid, f"{where}.{key}[{i}]" if key else f"{where}.not")

    visit(node, path)
    return problems


def _iso_date(v: str) -> bool:
    import re

    if not re.match(r"^\d{4}-\d{2}-\d{2}$", v):
        return False
    try:
        date.fromisoformat(v)
    except ValueError:
        return False
    return True


def check_value(expr: r.ValueExpr, registry: Registry, *, path: str = "value") -> list[Problem]:
    """Every problem of a value expression: its rules (as `check`) and its `fact` references."""
    problems: list[Problem] = []
    for i, node in enumerate(r.value_rules(expr)):
        problems.extend(check(node, registry, path=f"{path}.rule[{i}]"))
    for name in sorted(r.value_facts(expr)):
        spec = registry.get(name)
        if spec is None and not any(p.value == name for p in problems):
            problems.append(Problem(path, f"unknown fact {name!r}", "see `imnm facts --list`", value=name))
    return problems


def require_valid(node: r.Expr, registry: Registry, *, path: str = "rule", file: str | None = None) -> None:
    problems = check(node, registry, path=path)
    if problems:
        if file:
            problems = [Problem(p.path, p.message, p.fix, p.value, file) for p in problems]
        raise RuleError(problems, what=file or "rule")


# ---------------------------------------------------------------- compiled plan

ALL, ANY, NOT, AT_LEAST, CONST, COMPARE, EVENT = range(7)
_NO_TESTS: frozenset[str] = frozenset()
_REVIEW_TESTS: frozenset[str] = frozenset({"manual_review"})
_JUNCTIONS = (ALL, ANY, NOT, AT_LEAST)


class CNode:
    """A rule node compiled for evaluation (see `Plan`)."""

    __slots__ = ("compare", "const", "event", "key", "kids", "kind", "n", "node", "spec", "target")

    def __init__(self, node: r.Expr, kind: int, kids: tuple[CNode, ...] = ()) -> None:
        self.node = node
        self.kind = kind
        self.kids = kids
        self.n = 0
        self.const = Truth.MET
        self.compare: r.Compare | None = None
        self.event: r.EventSpec | None = None
        self.key = ""
        self.target: object = None
        self.spec: FactSpec | None = None


class Plan:
    """Rule trees compiled once for a rule set (a trial catalog, the work-up's rules).

    Owned by whoever owns the rules (never module-global); nodes are kept alive with their
    compiled form, so identity keys cannot be reused while the plan exists.
    """

    __slots__ = ("_bounds", "_keys", "_nodes", "registry")

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._nodes: dict[int, tuple[r.Expr, CNode]] = {}
        self._keys: dict[str, str] = {}
        self._bounds: dict[tuple[int, date], tuple[r.Window, tuple[date, date]]] = {}

    def bounds(self, window: r.Window, anchor: date) -> tuple[date, date]:
        """A window's dates around an anchor (remembered: many patients share the evaluation date)."""
        key = (id(window), anchor)
        hit = self._bounds.get(key)
        if hit is not None and hit[0] is window:
            return hit[1]
        out = window_bounds(window, anchor)
        if len(self._bounds) > 50_000:
            self._bounds.clear()
        self._bounds[key] = (window, out)
        return out

    def __call__(self, node: r.Expr) -> CNode:
        hit = self._nodes.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        cn = self._compile(node)
        self._nodes[id(node)] = (node, cn)
        return cn

    def _compile(self, node: r.Expr) -> CNode:
        if isinstance(node, r.All):
            return CNode(node, ALL, tuple(self(c) for c in node.all))
        if isinstance(node, r.AnyOf):
            return CNode(node, ANY, tuple(self(c) for c in node.any))
        if isinstance(node, r.Not):
            return CNode(node, NOT, (self(node.not_),))
        if isinstance(node, r.AtLeast):
            cn = CNode(node, AT_LEAST, tuple(self(c) for c in node.at_least.of))
            cn.n = node.at_least.n
            return cn
        if isinstance(node, r.Const):
            cn = CNode(node, CONST)
            cn.const = Truth(node.const)
            return cn
        if isinstance(node, r.IsTrue | r.CompareNode):
            cn = CNode(node, COMPARE)
            c = (
                r.Compare(fact=node.is_true, op="==", value=True)
                if isinstance(node, r.IsTrue)
                else node.compare
            )
            cn.compare = c
            spec = self.registry.get(c.fact)
            cn.spec = spec
            cn.target = _target(c, spec) if spec is not None else c.value
            cn.key = self._key("c", c)
            return cn
        if isinstance(node, r.Event):
            cn = CNode(node, EVENT)
            cn.event = node.event
            cn.spec = self.registry.get(node.event.fact)
            cn.key = self._key("e", node.event)
            return cn
        raise TypeError(node)  # pragma: no cover

    def _key(self, prefix: str, spec: r.Compare | r.EventSpec) -> str:
        raw = prefix + spec.model_dump_json()
        return self._keys.setdefault(raw, raw)


def _target(c: r.Compare, spec: FactSpec) -> object:
    def one(v: r.Scalar) -> object:
        if spec.kind == "number" and not isinstance(v, bool) and isinstance(v, int | float):
            factor = rule_unit_factor(c.unit, spec.unit) if c.unit else 1.0
            return float(v) * (factor if factor is not None else 1.0)
        if spec.kind == "date" and isinstance(v, str):
            return date.fromisoformat(v)
        return v

    if isinstance(c.value, list):
        return [one(v) for v in c.value]
    return one(c.value)


# ---------------------------------------------------------------- the leaf function


class Leaf:
    """A leaf's result: truth, the observations it rests on, and (when asked) what is missing."""

    __slots__ = ("missing", "none_recorded", "truth", "used")

    def __init__(
        self,
        truth: Truth,
        used: tuple[Observation, ...] = (),
        missing: tuple[Missing, ...] | None = (),
        none_recorded: bool = False,
    ) -> None:
        self.truth = truth
        self.used = used
        self.missing = missing  # None: not computed yet (only ever for an unknown leaf)
        self.none_recorded = none_recorded


def leaf(cn: CNode, run: Run, want_missing: bool = True) -> Leaf:
    """The one leaf function: a comparison or event on the facts (memoised per run by structure)."""
    if cn.kind == CONST:
        if cn.const is Truth.UNKNOWN:
            label = cn.node.label or REVIEW.ask
            return Leaf(Truth.UNKNOWN, (), (Missing(REVIEW.fact, REVIEW.label, label, REVIEW.test),))
        return Leaf(cn.const)
    memo = run.leaves
    hit = memo.get(cn.key)
    if hit is not None and (hit.missing is not None or not want_missing):
        return hit
    out = _compare(cn, run, want_missing) if cn.kind == COMPARE else _event(cn, run, want_missing)
    memo[cn.key] = out
    return out


def _spec(name: str, run: Run) -> FactSpec:
    spec = run.registry.get(name)
    if spec is None:
        raise RuleError(
            [Problem("rule", f"unknown fact {name!r}", "check the rule with imnm.core.evaluate.check", name)]
        )
    return spec


def _missing(
    spec: FactSpec, run: Run, detail: str | None = None, within: tuple[date, date] | None = None
) -> Missing:
    test, ask = supplier(spec, run.facts, within)
    return Missing(spec.name, spec.label, ask, test, detail)


def supplier(spec: FactSpec, facts: FactSource, within: tuple[date, date] | None = None) -> tuple[str, str]:
    """(test, ask) that would supply an unknown fact: its own test, or, when the source it comes from
    is already on file (`spec.done`: a biopsy was done) — and, for a rule with a time window, dated
    within it — a question to that result."""
    if spec.done is not None:
        obs = facts.get(spec.done[0])
        if obs and obs[-1].value is True:
            day = obs[-1].date
            if within is None or (day is not None and within[0] <= day <= within[1]):
                return spec.done[1], spec.done[2]
    return spec.test, spec.ask


def _window_of(c: r.Compare, run: Run) -> tuple[date, date] | None:
    if c.window is None:
        return None
    anchor, _ = _anchor(c.window, run)
    return run.bounds(c.window, anchor) if anchor is not None else None


def missing_for(
    spec: FactSpec,
    run: Run,
    detail: str | None = None,
    needs: tuple[str, ...] = (),
    within: tuple[date, date] | None = None,
) -> tuple[Missing, ...]:
    """What settles an unknown fact: for derived facts, the underlying facts' tests (recursively)."""
    out: list[Missing] = []
    seen: set[str] = {spec.name}

    def expand(names: tuple[str, ...], why: str) -> None:
        for n in names:
            if n in seen:
                continue
            seen.add(n)
            sub = run.registry.get(n)
            if sub is None:
                continue
            deeper = run.needs(n) if run.facts.get(n) is None else ()
            if deeper:
                expand(deeper, why)
            else:
                test, ask = supplier(sub, run.facts, within)
                out.append(Missing(sub.name, sub.label, ask, test, why))

    names = needs or run.needs(spec.name)
    if names:
        expand(names, f"to settle {spec.label}")
    return dedupe_missing(out) if out else (_missing(spec, run, detail, within),)


def _anchor(window: r.Window, run: Run) -> tuple[date | None, tuple[Missing, ...]]:
    if window.anchor == "as_of":
        return run.as_of, ()
    spec = _spec(window.anchor, run)
    obs = run.facts.get(window.anchor)
    if not obs or not isinstance(obs[-1].value, date):
        return None, (_missing(spec, run, "needed as the anchor of a time window"),)
    return obs[-1].value, ()


def _compare(cn: CNode, run: Run, want_missing: bool) -> Leaf:
    c = cn.compare
    assert c is not None
    spec = cn.spec or _spec(c.fact, run)
    obs = run.facts.get(c.fact)
    if obs is None:
        return Leaf(
            Truth.UNKNOWN, (), missing_for(spec, run, within=_window_of(c, run)) if want_missing else None
        )
    window = c.window
    if window is not None:
        anchor, miss = _anchor(window, run)
        if anchor is None:
            return Leaf(Truth.UNKNOWN, (), miss)
        lo, hi = run.bounds(window, anchor)
        obs = tuple(o for o in obs if o.date is not None and lo <= o.date <= hi)
        if not obs:
            return Leaf(
                Truth.UNKNOWN,
                (),
                (_missing(spec, run, f"a result dated {lo.isoformat()} to {hi.isoformat()}", (lo, hi)),),
            )
    else:
        obs = run.known(c.fact, obs)
        if not obs:
            return Leaf(
                Truth.UNKNOWN,
                (),
                (_missing(spec, run, f"a result dated on or before {run.as_of.isoformat()}"),),
            )
    truth, used = select_and_test(c, obs, cn.target)
    if c.select == "any" and truth is Truth.MET:
        used = used[:1]
    if truth is not Truth.UNKNOWN:
        return Leaf(truth, tuple(used))
    if not want_missing:
        return Leaf(truth, tuple(used), None)
    needs = tuple(n for o in used for n in o.needs)
    return Leaf(
        truth, tuple(used), missing_for(spec, run, "the value is only known to lie in a range", needs)
    )


def select_and_test(
    c: r.Compare, obs: tuple[Observation, ...], want: object
) -> tuple[Truth, list[Observation]]:
    """Apply a comparison's `select` to the observations in its window: the truth and the
    observations it rests on."""
    if c.select in ("any", "all"):
        truths = [Truth.of(_test3(c.op, o.value, want)) for o in obs]
        truth = or_(truths) if c.select == "any" else and_(truths)
        return truth, [o for o, t in zip(obs, truths, strict=True) if t is truth] or list(obs)
    if c.select in ("latest", "earliest"):
        dated = [o for o in obs if o.date is not None]
        if dated:
            pick = (max if c.select == "latest" else min)(dated, key=lambda o: o.date or date.min)
        else:
            pick = obs[-1]
    else:
        pick = _extreme(obs, c.select == "max")
    return Truth.of(_test3(c.op, pick.value, want)), [pick]


def _extreme(obs: tuple[Observation, ...], highest: bool) -> Observation:
    """The highest (or lowest) observation; ranges combine into a range of the extreme."""
    if not any(isinstance(o.value, NumRange) for o in obs):
        return (max if highest else min)(obs, key=lambda o: o.value)  # type: ignore[arg-type,return-value]
    los = [o.value.lo if isinstance(o.value, NumRange) else float(o.value) for o in obs]  # type: ignore[arg-type]
    his = [o.value.hi if isinstance(o.value, NumRange) else float(o.value) for o in obs]  # type: ignore[arg-type]
    agg = max if highest else min
    needs = tuple(n for o in obs for n in o.needs)
    lo, hi = agg(los), agg(his)
    value: float | NumRange = lo if lo == hi else NumRange(lo, hi)
    return Observation(value, None, ", ".join(o.source for o in obs), None, needs)


def _test(op: str, have: object, want: object) -> bool:
    if op == "in":
        return have in want  # type: ignore[operator]
    if op == "not_in":
        return have not in want  # type: ignore[operator]
    if op == "==":
        return have == want
    if op == "!=":
        return have != want
    if op == "<":
        return bool(have < want)  # type: ignore[operator]
    if op == "<=":
        return bool(have <= want)  # type: ignore[operator]
    if op == ">":
        return bool(have > want)  # type: ignore[operator]
    return bool(have >= want)  # type: ignore[operator]


def _test3(op: str, have: object, want: object) -> bool | None:
    """Compare a value with a rule's value; a `NumRange` or `OneOf` may leave the answer unknown."""
    if isinstance(have, OneOf):
        vals = have.values
        if op in ("==", "!="):
            eq = None if want in vals else False
            return eq if op == "==" or eq is None else not eq
        if op in ("in", "not_in") and isinstance(want, list):
            inside = vals <= set(want)
            outside = vals.isdisjoint(want)
            hit = True if inside else False if outside else None
            return hit if op == "in" or hit is None else not hit
        return None
    if not isinstance(have, NumRange):
        return _test(op, have, want)
    if not isinstance(want, int | float):
        return None
    lo, hi, w = have.lo, have.hi, float(want)
    if op == ">":
        return True if lo > w else False if hi <= w else None
    if op == ">=":
        return True if lo >= w else False if hi < w else None
    if op == "<":
        return True if hi < w else False if lo >= w else None
    if op == "<=":
        return True if hi <= w else False if lo > w else None
    if op in ("==", "!="):
        eq = True if lo == hi == w else False if (w < lo or w > hi) else None
        return eq if op == "==" or eq is None else not eq
    return None


def _event(cn: CNode, run: Run, want_missing: bool) -> Leaf:
    e = cn.event
    assert e is not None
    spec = cn.spec or _spec(e.fact, run)
    obs = run.facts.get(e.fact)
    if obs is None:
        return Leaf(Truth.UNKNOWN, (), missing_for(spec, run) if want_missing else None)
    periods = run.coverage(e.fact)
    if e.window is None:
        obs = known_by(obs, run.as_of)
        if obs:
            return Leaf(Truth.MET, (obs[0],))
        if periods is not None:
            return Leaf(
                Truth.UNKNOWN,
                (),
                (_missing(spec, run, "a complete history (the record covers only part of the time)"),),
            )
        return Leaf(Truth.NOT_MET, (), (), none_recorded=True)
    anchor, miss = _anchor(e.window, run)
    if anchor is None:
        return Leaf(Truth.UNKNOWN, (), miss)
    lo, hi = run.bounds(e.window, anchor)
    maybe: list[Observation] = []
    for o in obs:
        iv = o.value if isinstance(o.value, Interval) else Interval(o.date, o.date)
        verdict = _overlap(iv, lo, hi, run.as_of)
        if verdict is True:
            return Leaf(Truth.MET, (o,))
        if verdict is None:
            maybe.append(o)
    if maybe:
        detail = f"start and stop dates, to tell whether it falls {lo.isoformat()} to {hi.isoformat()}"
        return Leaf(Truth.UNKNOWN, tuple(maybe), (_missing(spec, run, detail),))
    if not covered(lo, min(hi, run.as_of) if lo <= run.as_of else hi, periods):
        detail = (
            f"a complete record from {lo.isoformat()} to {hi.isoformat()} (the record covers only part of it)"
        )
        return Leaf(Truth.UNKNOWN, tuple(obs), (_missing(spec, run, detail),))
    return Leaf(Truth.NOT_MET, tuple(obs), (), none_recorded=not obs)


def _overlap(iv: Interval, lo: date, hi: date, as_of: date) -> bool | None:
    """Does the interval overlap [lo, hi]? None when its unknown ends leave it open."""
    start = iv.start
    stop = as_of if iv.ongoing and iv.stop is None else iv.stop
    if iv.ongoing and start is None and lo <= as_of <= hi:
        return True  # still ongoing today, and today is inside the window
    if (start is not None and start > hi) or (stop is not None and stop < lo):
        return False
    if start is not None and stop is not None:
        return True
    return None


# ---------------------------------------------------------------- the junction step


def combine(kind: int, n: int, truths: list[Truth]) -> Truth:
    """The one junction step: the Kleene connective of a junction node over its children's truths."""
    if kind == ALL:
        return and_(truths)
    if kind == ANY:
        return or_(truths)
    if kind == NOT:
        return not_(truths[0])
    return at_least(n, truths)


def junction_missing(kids: Sequence[tuple[Truth, tuple[Missing, ...]]]) -> tuple[Missing, ...]:
    """An unknown junction's missing facts: those of its unknown children."""
    return dedupe_missing([m for t, ms in kids if t is Truth.UNKNOWN for m in ms])


# ---------------------------------------------------------------- value expressions


@dataclass(frozen=True, slots=True)
class ValueResult:
    """The possible values of a value expression: a number range, or a set of codes (None = unknown)."""

    lo: float | None = None
    hi: float | None = None
    codes: frozenset[str | None] | None = None
    missing: tuple[Missing, ...] = ()

    @property
    def numeric(self) -> bool:
        return self.codes is None

    def hull(self, other: ValueResult) -> ValueResult:
        missing = dedupe_missing([*self.missing, *other.missing])
        if self.numeric and other.numeric:
            if self.lo is None or other.lo is None:
                return ValueResult(None, None, None, missing)
            assert self.hi is not None and other.hi is not None
            return ValueResult(min(self.lo, other.lo), max(self.hi, other.hi), None, missing)
        return ValueResult(codes=(self.codes or frozenset()) | (other.codes or frozenset()), missing=missing)

    def observation_value(self) -> float | str | NumRange | OneOf | None:
        """The value as a fact observation holds it (None: unknown)."""
        if self.numeric:
            if self.lo is None or self.hi is None:
                return None
            return self.lo if self.lo == self.hi else NumRange(self.lo, self.hi)
        codes = self.codes or frozenset()
        if None in codes or not codes:
            return None
        named = frozenset(c for c in codes if c is not None)
        return next(iter(named)) if len(named) == 1 else OneOf(named)


def _number(value: float | str | None) -> ValueResult:
    if value is None:
        return ValueResult(codes=frozenset({None}))
    if isinstance(value, str):
        return ValueResult(codes=frozenset({value}))
    return ValueResult(float(value), float(value))


# ---------------------------------------------------------------- a run: one patient, one date


class Run:
    """One patient's facts at one date, with the caches every evaluation mode shares."""

    __slots__ = (
        "_coverage",
        "_known",
        "_needs",
        "as_of",
        "facts",
        "junctions",
        "leaf_tests",
        "leaves",
        "outcomes",
        "plan",
        "registry",
    )

    def __init__(self, facts: FactSource, as_of: date, registry: Registry, plan: Plan | None = None) -> None:
        self.facts = facts
        self.as_of = as_of
        self.registry = registry
        self.plan = plan if plan is not None and plan.registry is registry else Plan(registry)
        self.leaves: dict[str, Leaf] = {}
        self.junctions: dict[
            int, tuple[Truth, bool]
        ] = {}  # truths of compiled junction nodes (keyed by the plan's nodes)
        self.leaf_tests: dict[str, frozenset[str]] = {}
        self.outcomes: dict[int, Outcome] = {}
        self._needs: dict[str, tuple[str, ...]] = {}
        self._coverage: dict[str, tuple[Period, ...] | None] = {}
        self._known: dict[str, tuple[Observation, ...]] = {}

    # -- source helpers (cached)

    def needs(self, name: str) -> tuple[str, ...]:
        try:
            return self._needs[name]
        except KeyError:
            fn = getattr(self.facts, "needs", None)
            out = tuple(fn(name)) if fn is not None else ()
            self._needs[name] = out
            return out

    def coverage(self, name: str) -> tuple[Period, ...] | None:
        try:
            return self._coverage[name]
        except KeyError:
            fn = getattr(self.facts, "coverage", None)
            out = fn(name) if fn is not None else None
            self._coverage[name] = out
            return out

    def bounds(self, window: r.Window, anchor: date) -> tuple[date, date]:
        return self.plan.bounds(window, anchor)

    def known(self, name: str, obs: tuple[Observation, ...]) -> tuple[Observation, ...]:
        """A fact's observations known on the evaluation date (remembered per fact)."""
        hit = self._known.get(name)
        if hit is None:
            day = self.as_of
            hit = obs if all(o.date is None or o.date <= day for o in obs) else known_by(obs, day)
            self._known[name] = hit
        return hit

    # -- modes

    def truth(self, node: r.Expr) -> tuple[Truth, bool]:
        """(truth, whether an unknown result rests on a missing fact rather than only on
        `const: unknown` placeholders for a clinician's judgement)."""
        return self._truth(self.plan(node))

    def _truth(self, cn: CNode) -> tuple[Truth, bool]:
        kind = cn.kind
        if kind == CONST:
            return cn.const, False
        if kind in (COMPARE, EVENT):
            found = self.leaves.get(cn.key)
            t = (found if found is not None else leaf(cn, self, False)).truth
            return t, t is Truth.UNKNOWN
        hit = self.junctions.get(id(cn))
        if hit is None:
            hit = self.junctions[id(cn)] = self._junction_truth(cn)
        return hit

    def _junction_truth(self, cn: CNode) -> tuple[Truth, bool]:
        kind = cn.kind
        if kind == NOT:
            t, f = self._truth(cn.kids[0])
            return not_(t), f
        if kind == AT_LEAST:
            res = [self._truth(k) for k in cn.kids]
            t = combine(kind, cn.n, [x[0] for x in res])
            return t, t is Truth.UNKNOWN and any(x[1] for x in res if x[0] is Truth.UNKNOWN)
        stop = Truth.NOT_MET if kind == ALL else Truth.MET
        unknown = facts = False
        for k in cn.kids:
            t, f = self._truth(k)
            if t is stop:
                return t, False
            if t is Truth.UNKNOWN:
                unknown = True
                facts = facts or f
        if unknown:
            return Truth.UNKNOWN, facts
        return (Truth.MET if kind == ALL else Truth.NOT_MET), False

    def tests(self, node: r.Expr) -> frozenset[str]:
        """The tests (ids in tests.yaml) of the facts still missing: `{m.test for m in assess(node)[1]}`,
        without building the missing-fact lists (for ranking)."""
        return self._tests(self.plan(node))

    def _tests(self, cn: CNode) -> frozenset[str]:
        if cn.kind in _JUNCTIONS:
            if self._truth(cn)[0] is not Truth.UNKNOWN:
                return _NO_TESTS
            out: set[str] = set()
            for k in cn.kids:
                if self._truth(k)[0] is Truth.UNKNOWN:
                    out |= self._tests(k)
            return frozenset(out)
        if cn.kind == CONST:
            return _REVIEW_TESTS if cn.const is Truth.UNKNOWN else _NO_TESTS
        hit = self.leaf_tests.get(cn.key)
        if hit is None:
            lf = leaf(cn, self, True)
            hit = frozenset(m.test for m in lf.missing or ()) if lf.truth is Truth.UNKNOWN else _NO_TESTS
            self.leaf_tests[cn.key] = hit
        return hit

    def assess(self, node: r.Expr) -> tuple[Truth, tuple[Missing, ...]]:
        """(truth, missing facts), equal to the outcome's `truth` and `missing`."""
        return self._assess(self.plan(node))

    def _assess(self, cn: CNode) -> tuple[Truth, tuple[Missing, ...]]:
        if cn.kind in _JUNCTIONS:
            t = self._truth(cn)[0]
            if t is not Truth.UNKNOWN:
                return t, ()  # a settled node has nothing missing: its children need not be visited
            kids = [self._assess(k) for k in cn.kids]
            t = combine(cn.kind, cn.n, [k[0] for k in kids])
            return t, (junction_missing(kids) if t is Truth.UNKNOWN else ())
        lf = leaf(cn, self, True)
        return lf.truth, (lf.missing or ()) if lf.truth is Truth.UNKNOWN else ()

    def outcome(self, node: r.Expr, *, shared: bool = False) -> Outcome:
        """The explained outcome tree; with `shared`, each distinct node is evaluated once per run."""
        return self._outcome(self.plan(node), shared)

    def _outcome(self, cn: CNode, shared: bool) -> Outcome:
        if shared:
            hit = self.outcomes.get(id(cn))
            if hit is not None:
                return hit
        reg = self.registry
        if cn.kind in _JUNCTIONS:
            kids = tuple(self._outcome(k, shared) for k in cn.kids)
            t = combine(cn.kind, cn.n, [k.truth for k in kids])
            missing = junction_missing([(k.truth, k.missing) for k in kids]) if t is Truth.UNKNOWN else ()
            out = Outcome(t, cn.node, None, (), missing, kids, registry=reg)
        else:
            lf = leaf(cn, self, True)
            evidence = self._evidence(cn, lf)
            missing = (lf.missing or ()) if lf.truth is Truth.UNKNOWN else ()
            out = Outcome(lf.truth, cn.node, None, evidence, missing, registry=reg)
        if shared:
            self.outcomes[id(cn)] = out
        return out

    def _evidence(self, cn: CNode, lf: Leaf) -> tuple[Evidence, ...]:
        if cn.kind == CONST:
            return ()
        fact = cn.compare.fact if cn.compare is not None else cn.event.fact  # type: ignore[union-attr]
        spec = self.registry[fact]
        if lf.none_recorded:
            return (Evidence(spec.name, spec.label, "none recorded", None, ""),)
        return tuple(evidence(spec, o) for o in lf.used)

    def value(self, expr: r.ValueExpr, *, want_missing: bool = True) -> ValueResult:
        """The possible values of a value expression (three-valued over its rules); without
        `want_missing`, what is missing is not worked out (the values are the same)."""
        if isinstance(expr, r.Value):
            return _number(expr.value)
        if isinstance(expr, r.FactValueNode):
            return self._fact_value(expr.fact, want_missing)
        if isinstance(expr, r.Sum):
            return self._sum(expr.sum, want_missing)
        if isinstance(expr, r.Logistic):
            inner = self.value(expr.logistic.of, want_missing=want_missing)
            if inner.lo is None or inner.hi is None:
                return inner
            f = _logistic(expr.logistic.constant, expr.logistic.scale)
            d = 9 if expr.logistic.decimals is None else expr.logistic.decimals
            return ValueResult(round(f(inner.lo), d), round(f(inner.hi), d), None, inner.missing)
        return self._case(expr.case, want_missing)

    def _when(self, node: r.Expr, want_missing: bool) -> tuple[Truth, tuple[Missing, ...]]:
        if want_missing:
            return self.assess(node)
        return self.truth(node)[0], ()

    def _fact_value(self, name: str, want_missing: bool) -> ValueResult:
        spec = _spec(name, self)
        obs = self.facts.get(name)

        def missing(detail: str | None = None, needs: tuple[str, ...] = ()) -> tuple[Missing, ...]:
            return missing_for(spec, self, detail, needs) if want_missing else ()

        if not obs:
            if spec.kind == "number":
                return ValueResult(None, None, None, missing())
            return ValueResult(codes=frozenset({None}), missing=missing())
        o = obs[-1]
        v = o.value
        if isinstance(v, NumRange):
            return ValueResult(
                v.lo, v.hi, None, missing("the value is only known to lie in a range", o.needs)
            )
        if isinstance(v, OneOf):
            return ValueResult(codes=frozenset(v.values), missing=missing(None, o.needs))
        if isinstance(v, bool):
            return ValueResult(codes=frozenset({"true" if v else "false"}))
        if isinstance(v, str):
            return ValueResult(codes=frozenset({v}))
        if isinstance(v, int | float):
            return ValueResult(float(v), float(v))
        return ValueResult(codes=frozenset({None}))

    def _sum(self, spec: r.SumSpec, want_missing: bool) -> ValueResult:
        lo = hi = 0.0
        missing: list[Missing] = []
        for term in spec.terms:
            items = term.one_of if isinstance(term, r.OneOfTerms) else [term]
            met: float | None = None
            open_max = 0.0
            for it in items:
                t, ms = self._when(it.when, want_missing)
                if t is Truth.MET:
                    met = it.points if met is None else max(met, it.points)
                elif t is Truth.UNKNOWN:
                    open_max = max(open_max, it.points)
                    missing.extend(ms)
            if met is not None:
                lo += met
                hi += met
            else:
                hi += open_max
        d = 9 if spec.decimals is None else spec.decimals
        return ValueResult(round(lo, d), round(hi, d), None, dedupe_missing(missing))

    def _case(self, spec: r.CaseSpec, want_missing: bool) -> ValueResult:
        """Ordered: the first met branch decides, an unknown one leaves its value and every later one
        possible. First-met: the first met branch decides even after unknown ones; with none met, every
        unknown branch's value and the else are possible."""
        possible: ValueResult | None = None
        for b in spec.branches:
            t, ms = self._when(b.when, want_missing)
            if t is Truth.NOT_MET:
                continue
            v = self.value(b.then, want_missing=want_missing)
            if t is Truth.MET:
                if spec.mode == "first_met":
                    return v
                return v if possible is None else possible.hull(v)
            v = ValueResult(v.lo, v.hi, v.codes, dedupe_missing([*v.missing, *ms]))
            possible = v if possible is None else possible.hull(v)
        v = self.value(spec.else_, want_missing=want_missing)
        return v if possible is None else possible.hull(v)


def _logistic(constant: float, scale: float):  # type: ignore[no-untyped-def]
    def f(x: float) -> float:
        return scale / (1.0 + math.exp(constant - x))

    return f


def evidence(spec: FactSpec, o: Observation) -> Evidence:
    """How an observation is shown as evidence (value with unit, date, source, note)."""
    v = o.value
    if isinstance(v, NumRange):
        unit = f" {spec.unit}" if spec.unit else ""
        text = f"{v.lo:g}{unit}" if v.lo == v.hi else f"between {v.lo:g} and {v.hi:g}{unit}"
    elif isinstance(v, OneOf):
        text = "one of " + ", ".join(v.sorted())
    elif isinstance(v, Interval):
        start = v.start.isoformat() if v.start else "?"
        stop = "ongoing" if v.ongoing else (v.stop.isoformat() if v.stop else "?")
        text = f"{start} to {stop}"
    else:
        text = _fmt_value(v, spec.unit if spec.kind == "number" else None)
    return Evidence(spec.name, spec.label, text, o.date, o.source, o.note)


# ---------------------------------------------------------------- entry points


def evaluate(node: r.Expr, facts: FactSource, *, as_of: date, registry: Registry) -> Outcome:
    """Evaluate a rule tree in three-valued logic at the date `as_of` (explained)."""
    return Run(facts, as_of, registry).outcome(node)


def assess(
    node: r.Expr, facts: FactSource, *, as_of: date, registry: Registry
) -> tuple[Truth, tuple[Missing, ...]]:
    """(truth, missing) of a rule tree at `as_of`, equal to the explained outcome's."""
    return Run(facts, as_of, registry).assess(node)
