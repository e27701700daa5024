"""Evaluate a rule tree against a patient's facts, in Kleene three-valued logic.

`evaluate(rule, facts, as_of=..., registry=...)` returns an `Outcome` for every node: its
truth, the evidence used (fact, value, date, where it came from, any assumption) and, when it
is unknown, the missing facts with the test or question that supplies each. Nothing here reads
the clock: `as_of` is the date the rule is evaluated at.

`imnm.core.fast` compiles the same trees for truth-and-missing-only evaluation (used to check
one patient against a whole trial catalog); it shares this module's helpers.

`check(rule, registry)` lists every way a rule does not fit the fact vocabulary (unknown fact,
wrong unit, operator that does not fit the fact's kind, window on an undated fact), so rule
files fail at load time, not at evaluation time.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from imnm.core import rules as r
from imnm.core.facts import FactSource, FactSpec, Interval, NumRange, Observation, Registry
from imnm.core.quantities import rule_unit_factor
from imnm.core.truth import Truth, and_, at_least, not_, or_
from imnm.errors import Problem, RuleError


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
    """Move a date by a duration (`90d`, `12w`, `6mo`, `1y`); months/years are calendar units."""
    m = r.DURATION.match(duration.strip())
    if not m:
        raise ValueError(f"bad duration {duration!r}")
    n, unit = int(m.group(1)) * sign, m.group(2)
    if unit == "d":
        return day + timedelta(days=n)
    if unit == "w":
        return day + timedelta(weeks=n)
    months = n if unit == "mo" else 12 * n
    y, mo = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, mo + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


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
                from imnm.record.types import parse_iso_date

                for v in values:
                    try:
                        parse_iso_date(v)
                    except Exception:
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


def require_valid(node: r.Expr, registry: Registry, *, path: str = "rule", file: str | None = None) -> None:
    problems = check(node, registry, path=path)
    if problems:
        if file:
            problems = [Problem(p.path, p.message, p.fix, p.value, file) for p in problems]
        raise RuleError(problems, what=file or "rule")


# ---------------------------------------------------------------- evaluation


@dataclass
class _Ctx:
    facts: FactSource
    as_of: date
    registry: Registry


def evaluate(node: r.Expr, facts: FactSource, *, as_of: date, registry: Registry) -> Outcome:
    """Evaluate a rule tree in three-valued logic at the date `as_of`."""
    return _eval(node, _Ctx(facts, as_of, registry))


def combine(node: r.All | r.AnyOf | r.Not | r.AtLeast, truths: list[Truth]) -> Truth:
    """The Kleene connective of a junction node over its children's truths."""
    if isinstance(node, r.All):
        return and_(truths)
    if isinstance(node, r.AnyOf):
        return or_(truths)
    if isinstance(node, r.Not):
        return not_(truths[0])
    return at_least(node.at_least.n, truths)


def _eval(node: r.Expr, ctx: _Ctx) -> Outcome:
    if isinstance(node, r.All | r.AnyOf | r.Not | r.AtLeast):
        kids = tuple(_eval(c, ctx) for c in r.children(node))
        truth = combine(node, [k.truth for k in kids])
        missing: tuple[Missing, ...] = ()
        if truth is Truth.UNKNOWN:
            missing = dedupe_missing([m for k in kids if k.truth is Truth.UNKNOWN for m in k.missing])
        return Outcome(truth, node, None, (), missing, kids, registry=ctx.registry)
    if isinstance(node, r.Const):
        truth = Truth(node.const)
        missing = ()
        if truth is Truth.UNKNOWN:  # a placeholder still names what settles it: a person's review
            missing = (
                Missing(
                    "manual_review", "manual review", node.label or "review by a clinician", "manual_review"
                ),
            )
        return Outcome(truth, node, None, (), missing, registry=ctx.registry)
    if isinstance(node, r.IsTrue):
        return _compare(node, _is_true(node.is_true), ctx)
    if isinstance(node, r.CompareNode):
        return _compare(node, node.compare, ctx)
    if isinstance(node, r.Event):
        return _event(node, ctx)
    raise TypeError(node)  # pragma: no cover


@functools.lru_cache(maxsize=4096)
def _is_true(fact: str) -> r.Compare:
    """`is_true: fact` is `compare: {fact, op: ==, value: true}` (built once per fact)."""
    return r.Compare(fact=fact, op="==", value=True)


def _spec(name: str, ctx: _Ctx) -> FactSpec:
    spec = ctx.registry.get(name)
    if spec is None:
        raise RuleError(
            [Problem("rule", f"unknown fact {name!r}", "check the rule with imnm.core.evaluate.check")]
        )
    return spec


def _missing(spec: FactSpec, detail: str | None = None) -> Missing:
    return Missing(spec.name, spec.label, spec.ask, spec.test, detail)


def _missing_for(
    spec: FactSpec, ctx: _Ctx, detail: str | None = None, needs: tuple[str, ...] = ()
) -> tuple[Missing, ...]:
    """What settles an unknown fact: for derived facts, the underlying facts' tests (recursively)."""
    out: list[Missing] = []
    seen: set[str] = {spec.name}

    def expand(names: tuple[str, ...], why: str) -> None:
        for n in names:
            if n in seen:
                continue
            seen.add(n)
            sub = ctx.registry.get(n)
            if sub is None:
                continue
            deeper = _source_needs(ctx, n) if ctx.facts.get(n) is None else ()
            if deeper:
                expand(deeper, why)
            else:
                out.append(Missing(sub.name, sub.label, sub.ask, sub.test, why))

    names = needs or _source_needs(ctx, spec.name)
    if names:
        expand(names, f"to settle {spec.label}")
    return dedupe_missing(out) if out else (_missing(spec, detail),)


def _source_needs(ctx: _Ctx, name: str) -> tuple[str, ...]:
    fn = getattr(ctx.facts, "needs", None)
    return tuple(fn(name)) if fn is not None else ()


def _anchor(window: r.Window, ctx: _Ctx) -> tuple[date | None, Missing | None]:
    if window.anchor == "as_of":
        return ctx.as_of, None
    spec = _spec(window.anchor, ctx)
    obs = ctx.facts.get(window.anchor)
    if not obs or not isinstance(obs[-1].value, date):
        return None, _missing(spec, "needed as the anchor of a time window")
    return obs[-1].value, None


def _evidence(spec: FactSpec, o: Observation) -> Evidence:
    v = o.value
    if isinstance(v, NumRange):
        unit = f" {spec.unit}" if spec.unit else ""
        text = f"{v.lo:g}{unit}" if v.lo == v.hi else f"between {v.lo:g} and {v.hi:g}{unit}"
    elif isinstance(v, Interval):
        start = v.start.isoformat() if v.start else "?"
        stop = "ongoing" if v.ongoing else (v.stop.isoformat() if v.stop else "?")
        text = f"{start} to {stop}"
    else:
        text = _fmt_value(v, spec.unit if spec.kind == "number" else None)
    return Evidence(spec.name, spec.label, text, o.date, o.source, o.note)


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


def _compare(node: r.Expr, c: r.Compare, ctx: _Ctx) -> Outcome:
    spec = _spec(c.fact, ctx)
    text = None
    reg = ctx.registry
    obs = ctx.facts.get(c.fact)
    if obs is None:
        return Outcome(Truth.UNKNOWN, node, text, (), _missing_for(spec, ctx), registry=reg)
    detail = None
    if c.window is not None:
        anchor, miss = _anchor(c.window, ctx)
        if anchor is None:
            assert miss is not None
            return Outcome(Truth.UNKNOWN, node, text, (), (miss,), registry=reg)
        lo, hi = window_bounds(c.window, anchor)
        obs = tuple(o for o in obs if o.date is not None and lo <= o.date <= hi)
        detail = f"a result dated {lo.isoformat()} to {hi.isoformat()}"
    else:
        obs = known_by(obs, ctx.as_of)
        detail = f"a result dated on or before {ctx.as_of.isoformat()}"
    if not obs:
        return Outcome(
            Truth.UNKNOWN, node, text, (), (_missing(spec, detail or "no value recorded"),), registry=reg
        )
    truth, used = select_and_test(c, obs, _target(c, spec))
    if c.select == "any" and truth is Truth.MET:
        used = used[:1]
    missing: tuple[Missing, ...] = ()
    if truth is Truth.UNKNOWN:
        needs = tuple(n for o in used for n in o.needs)
        missing = _missing_for(spec, ctx, "the value is only known to lie in a range", needs)
    return Outcome(truth, node, text, tuple(_evidence(spec, o) for o in used), missing, registry=reg)


def select_and_test(
    c: r.Compare, obs: tuple[Observation, ...], want: object
) -> tuple[Truth, list[Observation]]:
    """Apply a comparison's `select` to the observations in its window: the truth and the
    observations it rests on (shared by this engine and `imnm.core.fast`)."""
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
    return Observation(NumRange(agg(los), agg(his)), None, ", ".join(o.source for o in obs), None, needs)


def _test3(op: str, have: object, want: object) -> bool | None:
    """Compare a value with a rule's value; a `NumRange` may leave the answer unknown (None)."""
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


def _event(node: r.Event, ctx: _Ctx) -> Outcome:
    e = node.event
    spec = _spec(e.fact, ctx)
    text = None
    reg = ctx.registry
    obs = ctx.facts.get(e.fact)
    if obs is None:
        return Outcome(Truth.UNKNOWN, node, text, (), _missing_for(spec, ctx), registry=reg)
    if e.window is None:
        obs = known_by(obs, ctx.as_of)
        if obs:
            return Outcome(Truth.MET, node, text, (_evidence(spec, obs[0]),), registry=reg)
        return Outcome(
            Truth.NOT_MET,
            node,
            text,
            (Evidence(spec.name, spec.label, "none recorded", None, ""),),
            registry=reg,
        )
    anchor, miss = _anchor(e.window, ctx)
    if anchor is None:
        assert miss is not None
        return Outcome(Truth.UNKNOWN, node, text, (), (miss,), registry=reg)
    lo, hi = window_bounds(e.window, anchor)
    maybe: list[Observation] = []
    for o in obs:
        iv = o.value
        if not isinstance(iv, Interval):
            iv = Interval(o.date, o.date)
        verdict = _overlap(iv, lo, hi, ctx.as_of)
        if verdict is True:
            return Outcome(Truth.MET, node, text, (_evidence(spec, o),), registry=reg)
        if verdict is None:
            maybe.append(o)
    if maybe:
        return Outcome(
            Truth.UNKNOWN,
            node,
            text,
            tuple(_evidence(spec, o) for o in maybe),
            (
                _missing(
                    spec,
                    f"start and stop dates, to tell whether it falls {lo.isoformat()} to {hi.isoformat()}",
                ),
            ),
            registry=reg,
        )
    shown = tuple(_evidence(spec, o) for o in obs) or (
        Evidence(spec.name, spec.label, "none recorded", None, ""),
    )
    return Outcome(Truth.NOT_MET, node, text, shown, registry=reg)


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
