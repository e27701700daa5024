"""One evaluation per distinct rule node within an assessment.

The work-up's rule sets share many conditions (the ENMC clinical requirement appears in every
subtype; biopsy findings appear in items, patterns and mimics). Rule trees read from workup.yaml
are *interned* (structurally equal sub-trees become one object), and `SharedEval` evaluates each
node once per record, composing and/all/any/not/at_least exactly as `imnm.core.evaluate` does.
"""

from __future__ import annotations

from datetime import date

from imnm.core import rules as r
from imnm.core.evaluate import Evidence, Missing, Outcome, dedupe_missing, describe, evaluate
from imnm.core.facts import FactSource, Registry
from imnm.core.truth import Truth, and_, at_least, not_, or_

_INTERN: dict[str, r.Expr] = {}


def intern(node: r.Expr) -> r.Expr:
    """The canonical object for a rule tree (equal trees → the same object, recursively)."""
    key = type(node).__name__ + node.model_dump_json(by_alias=True)
    hit = _INTERN.get(key)
    if hit is not None:
        return hit
    if isinstance(node, r.All):
        node = node.model_copy(update={"all": [intern(c) for c in node.all]})
    elif isinstance(node, r.AnyOf):
        node = node.model_copy(update={"any": [intern(c) for c in node.any]})
    elif isinstance(node, r.Not):
        node = node.model_copy(update={"not_": intern(node.not_)})
    elif isinstance(node, r.AtLeast):
        spec = node.at_least.model_copy(update={"of": [intern(c) for c in node.at_least.of]})
        node = node.model_copy(update={"at_least": spec})
    else:
        node = _fast_leaf(node)
    _INTERN[key] = node
    return node


def _fast_leaf(node: r.Expr) -> r.Expr:
    """A leaf that evaluates without building models: `is_true X` becomes the equivalent
    `compare X == true`, and the generated text is stored as the label (same wording)."""
    from imnm.facts import REGISTRY

    label = node.label or describe(node, REGISTRY)
    if isinstance(node, r.IsTrue):
        return r.CompareNode(compare=r.Compare(fact=node.is_true, op="==", value=True), label=label)
    return node.model_copy(update={"label": label})


class SharedEval:
    """Evaluate rule nodes against one record's facts, each distinct node once."""

    __slots__ = ("as_of", "facts", "memo", "registry")

    def __init__(self, facts: FactSource, *, as_of: date, registry: Registry) -> None:
        self.facts = facts
        self.as_of = as_of
        self.registry = registry
        self.memo: dict[int, Outcome] = {}

    def __call__(self, node: r.Expr) -> Outcome:
        key = id(node)
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        kind = _COMBINATORS.get(type(node))
        if kind is None:
            out = self._known_flag(node) or evaluate(
                node, self.facts, as_of=self.as_of, registry=self.registry
            )
        else:
            kids = tuple(map(self, r.children(node)))
            truths = [k.truth for k in kids]
            if kind == 0:
                truth = and_(truths)
            elif kind == 1:
                truth = or_(truths)
            elif kind == 2:
                truth = not_(truths[0])
            else:
                assert isinstance(node, r.AtLeast)
                truth = at_least(node.at_least.n, truths)
            missing: tuple[Missing, ...] = ()
            if truth is Truth.UNKNOWN:
                missing = dedupe_missing([m for k in kids if k.truth is Truth.UNKNOWN for m in k.missing])
            text = node.label or describe(node, self.registry)
            out = Outcome(truth, node, text, (), missing, kids)
        self.memo[key] = out
        return out

    def _known_flag(self, node: r.Expr) -> Outcome | None:
        """Fast path for the most common leaves — a true/false or coded finding tested for
        (in)equality or membership, with one observation or none — giving exactly the engine's
        outcome (tests check this against `imnm.core.evaluate`); anything else → None."""
        if type(node) is not r.CompareNode:
            return None
        c = node.compare
        if c.window is not None or c.select not in ("latest", "any") or c.op not in _EQ_OPS:
            return None
        spec = self.registry.get(c.fact)
        if spec is None or spec.kind not in ("bool", "enum"):
            return None
        obs = self.facts.get(c.fact)
        text = node.label or describe(node, self.registry)
        if obs is None:
            if spec.needs is not None:
                return None  # a derived fact: the engine expands what settles it
            return Outcome(
                Truth.UNKNOWN, node, text, (), (Missing(spec.name, spec.label, spec.ask, spec.test),)
            )
        if len(obs) != 1:
            return None
        o = obs[0]
        v = o.value
        if type(v) is bool:
            shown = "true" if v else "false"
        elif type(v) is str:
            shown = v
        else:
            return None
        want = c.value
        if c.op == "==":
            hit = v == want
        elif c.op == "!=":
            hit = v != want
        elif c.op == "in":
            hit = v in want  # type: ignore[operator]
        else:
            hit = v not in want  # type: ignore[operator]
        ev = Evidence(spec.name, spec.label, shown, o.date, o.source, o.note)
        return Outcome(Truth.MET if hit else Truth.NOT_MET, node, text, (ev,))


_EQ_OPS = frozenset(("==", "!=", "in", "not_in"))
_COMBINATORS: dict[type, int] = {r.All: 0, r.AnyOf: 1, r.Not: 2, r.AtLeast: 3}
