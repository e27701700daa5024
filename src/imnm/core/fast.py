"""Lean evaluation of a rule tree: truth and missing facts with the same semantics as
`imnm.core.evaluate`, without building evidence, text or the outcome tree.

It is the same rule definition, compiled once into closures: a second rendering of the rule
language (like the SQL compiler will be), not a second rule language. It reuses the engine's
own comparison, window and missing-fact helpers; a property test (`tests/trials/test_fast.py`)
checks it against `evaluate` on every catalog rule, so a change in one that is not mirrored in
the other fails the suite.

Checking one patient against the whole catalog evaluates a few hundred rule nodes, and a
verdict needs only each criterion's truth and, when it is unknown, the facts still missing.
`assess` returns exactly those two (the full engine's `Outcome.truth` and `Outcome.missing`);
the trial evaluator asks the full engine for evidence and the explanation only when a person
asks to see them. A property test checks `assess` against `imnm.core.evaluate.evaluate` on
synthetic records for every rule in the catalog.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from imnm.core import rules as r
from imnm.core.evaluate import (
    Missing,
    _Ctx,
    _missing,
    _missing_for,
    _overlap,
    _target,
    combine,
    dedupe_missing,
    known_by,
    select_and_test,
    window_bounds,
)
from imnm.core.facts import FactSource, Interval, Observation, Registry
from imnm.core.truth import Truth, at_least, not_

Result = tuple[Truth, tuple[Missing, ...]]
_NONE: tuple[Missing, ...] = ()


class CachedNeeds:
    """A fact source that remembers `needs(name)` answers (derived facts recompute them)."""

    __slots__ = ("_needs", "source")

    def __init__(self, source: FactSource) -> None:
        self.source = source
        self._needs: dict[str, tuple[str, ...]] = {}

    def get(self, name: str) -> tuple[Observation, ...] | None:
        return self.source.get(name)

    def needs(self, name: str) -> tuple[str, ...]:
        try:
            return self._needs[name]
        except KeyError:
            fn = getattr(self.source, "needs", None)
            out = tuple(fn(name)) if fn is not None else ()
            self._needs[name] = out
            return out


class Pass:
    """One patient's facts at one date, with leaf results remembered across criteria and trials
    (many trials repeat the same leaf, e.g. age ≥ 18 or a positive anti-HMGCR)."""

    __slots__ = ("ctx", "leaf_results", "leaves")

    def __init__(self, facts: FactSource, as_of: date, registry: Registry) -> None:
        self.ctx = _Ctx(facts, as_of, registry)
        self.leaves: dict[str, tuple[Truth, bool]] = {}
        self.leaf_results: dict[str, Result] = {}


TruthFn = Callable[[Pass], tuple[Truth, bool]]


def truth(node: r.Expr, p: Pass) -> tuple[Truth, bool]:
    """(truth, whether an unknown result depends on a missing fact rather than only on
    `const: unknown` placeholders for a clinician's judgement). No text, no missing list.

    The rule is compiled once into nested closures (remembered per rule node)."""
    fn = _memo("compiled", node, lambda: _compile(node, p.ctx.registry))
    return fn(p)  # type: ignore[operator,no-any-return]


_MET_F = (Truth.MET, False)
_NOT_F = (Truth.NOT_MET, False)
_UNK_T = (Truth.UNKNOWN, True)
_UNK_F = (Truth.UNKNOWN, False)


def _compile(node: r.Expr, registry: Registry) -> TruthFn:
    if isinstance(node, r.Const):
        out = {"met": _MET_F, "not_met": _NOT_F, "unknown": _UNK_F}[node.const]
        return lambda p: out
    if isinstance(node, r.All | r.AnyOf | r.AtLeast):
        kids = [_compile(c, registry) for c in r.children(node)]
        if isinstance(node, r.All):
            stop, other = Truth.NOT_MET, Truth.MET
        elif isinstance(node, r.AnyOf):
            stop, other = Truth.MET, Truth.NOT_MET
        else:
            n = node.at_least.n

            def at_least_fn(p: Pass) -> tuple[Truth, bool]:
                res = [k(p) for k in kids]
                t = at_least(n, [x[0] for x in res])
                if t is not Truth.UNKNOWN:
                    return t, False
                return t, any(x[1] for x in res if x[0] is Truth.UNKNOWN)

            return at_least_fn

        def junction(p: Pass) -> tuple[Truth, bool]:
            unknown = False
            facts = False
            for k in kids:
                t, f = k(p)
                if t is stop:
                    return (t, False)
                if t is Truth.UNKNOWN:
                    unknown = True
                    facts = facts or f
            return (Truth.UNKNOWN, facts) if unknown else (other, False)

        return junction
    if isinstance(node, r.Not):
        kid = _compile(node.not_, registry)

        def negate(p: Pass) -> tuple[Truth, bool]:
            t, f = kid(p)
            return (not_(t), f)

        return negate
    key = node.model_dump_json(exclude={"label"})
    if isinstance(node, r.IsTrue):
        c: r.Compare | None = _is_true(node)
    elif isinstance(node, r.CompareNode):
        c = node.compare
    else:
        c = None
    event = node.event if isinstance(node, r.Event) else None

    def leaf(p: Pass) -> tuple[Truth, bool]:
        hit = p.leaves.get(key)
        if hit is not None:
            return hit
        if c is not None:
            t = _compare(c, p.ctx, False)[0]
        else:
            assert event is not None
            t = _event(event, p.ctx, False)[0]
        out = _UNK_T if t is Truth.UNKNOWN else (t, False)
        p.leaves[key] = out
        return out

    return leaf


def _assess_leaf(node: r.Expr, ctx: _Ctx, *, want_missing: bool = True) -> Result:
    if isinstance(node, r.IsTrue):
        return _compare(_is_true(node), ctx, want_missing)
    if isinstance(node, r.CompareNode):
        return _compare(node.compare, ctx, want_missing)
    if isinstance(node, r.Event):
        return _event(node.event, ctx, want_missing)
    raise TypeError(node)  # pragma: no cover


def assess(node: r.Expr, facts: FactSource, *, as_of: date, registry: Registry) -> Result:
    """(truth, missing) of a rule tree at `as_of`, equal to the full engine's outcome."""
    return assess_in(node, Pass(facts, as_of, registry))


def assess_in(node: r.Expr, p: Pass) -> Result:
    """`assess` within one patient's pass (leaf results shared across criteria and trials)."""
    return _assess(node, p)


def _assess(node: r.Expr, p: Pass) -> Result:
    if isinstance(node, r.All | r.AnyOf | r.Not | r.AtLeast):
        kids = [_assess(c, p) for c in r.children(node)]
        t = combine(node, [k[0] for k in kids])
        if t is not Truth.UNKNOWN:
            return t, _NONE
        return t, dedupe_missing([m for k in kids if k[0] is Truth.UNKNOWN for m in k[1]])
    if isinstance(node, r.Const):
        t = Truth(node.const)
        if t is Truth.UNKNOWN:
            label = node.label or "review by a clinician"
            return t, (Missing("manual_review", "manual review", label, "manual_review"),)
        return t, _NONE
    key = _memo("key", node, lambda: node.model_dump_json(exclude={"label"}))
    assert isinstance(key, str)
    hit = p.leaf_results.get(key)
    if hit is None:
        known = p.leaves.get(key)
        if known is not None and known[0] is not Truth.UNKNOWN:
            hit = (known[0], _NONE)  # settled in the truth pass: nothing is missing
        else:
            hit = _assess_leaf(node, p.ctx)
        p.leaf_results[key] = hit
    return hit


_MEMO: dict[tuple[str, int], tuple[object, object]] = {}


def _memo(table: str, key_obj: object, make: Callable[[], object]) -> object:
    """A value derived from an immutable rule node, remembered per node (and kept alive with it)."""
    hit = _MEMO.get((table, id(key_obj)))
    if hit is not None and hit[0] is key_obj:
        return hit[1]
    value = make()
    if len(_MEMO) > 100_000:
        _MEMO.clear()
    _MEMO[(table, id(key_obj))] = (key_obj, value)
    return value


def _is_true(node: r.IsTrue) -> r.Compare:
    out = _memo("is_true", node, lambda: r.Compare(fact=node.is_true, op="==", value=True))
    assert isinstance(out, r.Compare)
    return out


_BOUNDS: dict[tuple[int, date], tuple[r.Window, tuple[date, date]]] = {}


def _bounds(window: r.Window, anchor: date) -> tuple[date, date]:
    key = (id(window), anchor)
    hit = _BOUNDS.get(key)
    if hit is not None and hit[0] is window:
        return hit[1]
    bounds = window_bounds(window, anchor)
    if len(_BOUNDS) > 100_000:
        _BOUNDS.clear()
    _BOUNDS[key] = (window, bounds)
    return bounds


def _anchor(window: r.Window, ctx: _Ctx) -> tuple[date | None, tuple[Missing, ...]]:
    if window.anchor == "as_of":
        return ctx.as_of, _NONE
    obs = ctx.facts.get(window.anchor)
    if not obs or not isinstance(obs[-1].value, date):
        return None, (_missing(ctx.registry[window.anchor], "needed as the anchor of a time window"),)
    return obs[-1].value, _NONE


def _compare(c: r.Compare, ctx: _Ctx, want_missing: bool = True) -> Result:
    spec = ctx.registry[c.fact]
    obs = ctx.facts.get(c.fact)
    if obs is None:
        return Truth.UNKNOWN, _missing_for(spec, ctx) if want_missing else _NONE
    detail = None
    if c.window is not None:
        anchor, miss = _anchor(c.window, ctx)
        if anchor is None:
            return Truth.UNKNOWN, miss
        lo, hi = _bounds(c.window, anchor)
        obs = tuple(o for o in obs if o.date is not None and lo <= o.date <= hi)
        detail = f"a result dated {lo.isoformat()} to {hi.isoformat()}"
    else:
        obs = known_by(obs, ctx.as_of)
        detail = f"a result dated on or before {ctx.as_of.isoformat()}"
    if not obs:
        return Truth.UNKNOWN, (_missing(spec, detail or "no value recorded"),)
    want = _memo("want", c, lambda: _target(c, spec))
    t, used = select_and_test(c, obs, want)
    if t is not Truth.UNKNOWN:
        return t, _NONE
    if not want_missing:
        return t, _NONE
    needs = tuple(n for o in used for n in o.needs)
    return t, _missing_for(spec, ctx, "the value is only known to lie in a range", needs)


def _event(e: r.EventSpec, ctx: _Ctx, want_missing: bool = True) -> Result:
    spec = ctx.registry[e.fact]
    obs = ctx.facts.get(e.fact)
    if obs is None:
        return Truth.UNKNOWN, _missing_for(spec, ctx) if want_missing else _NONE
    if e.window is None:
        return (Truth.MET if known_by(obs, ctx.as_of) else Truth.NOT_MET), _NONE
    anchor, miss = _anchor(e.window, ctx)
    if anchor is None:
        return Truth.UNKNOWN, miss
    lo, hi = _bounds(e.window, anchor)
    maybe = False
    for o in obs:
        iv = o.value if isinstance(o.value, Interval) else Interval(o.date, o.date)
        verdict = _overlap(iv, lo, hi, ctx.as_of)
        if verdict is True:
            return Truth.MET, _NONE
        if verdict is None:
            maybe = True
    if maybe:
        detail = f"start and stop dates, to tell whether it falls {lo.isoformat()} to {hi.isoformat()}"
        return Truth.UNKNOWN, (_missing(spec, detail),)
    return Truth.NOT_MET, _NONE
