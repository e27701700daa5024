"""One evaluation per distinct rule node within an assessment.

The work-up's rule sets share many conditions (the ENMC clinical requirement appears in every
subtype; biopsy findings appear in items, patterns and mimics). Rule trees read from workup.yaml
are *interned* (structurally equal sub-trees become one object), and `SharedEval` asks the one
evaluator (`imnm.core.evaluate.Run`) for each node's explained outcome in its shared mode: each
distinct node once per record.
"""

from __future__ import annotations

from datetime import date

from imnm.core import rules as r
from imnm.core.evaluate import Outcome, Run
from imnm.core.facts import FactSource, Registry

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
    _INTERN[key] = node
    return node


class SharedEval:
    """Evaluate rule nodes on one run (one patient's facts at one date), each distinct node once."""

    __slots__ = ("run",)

    def __init__(self, run: Run) -> None:
        self.run = run

    @property
    def registry(self) -> Registry:
        return self.run.registry

    @property
    def facts(self) -> FactSource:
        return self.run.facts

    @property
    def as_of(self) -> date:
        return self.run.as_of

    def __call__(self, node: r.Expr) -> Outcome:
        return self.run.outcome(node, shared=True)
