"""A rule tree as indented lines of text (how a criterion is encoded), for the web pages and reports.

The wording of each node is the evaluator's own (`imnm.core.evaluate.describe`: the node's label, or
"highest CK > 1000 U/L (within 30 days before the evaluation date)"), so what a coordinator reads is
what the explanation of a result says.
"""

from __future__ import annotations

from imnm.core import rules as r
from imnm.core.evaluate import describe


def rule_lines(node: r.Expr, registry: object | None = None) -> list[tuple[int, str]]:
    """(depth, text) for every node of the tree, depth-first."""
    from imnm.vocabulary import REGISTRY

    reg = registry if registry is not None else REGISTRY
    out: list[tuple[int, str]] = []

    def walk(n: r.Expr, depth: int) -> None:
        out.append((depth, describe(n, reg)))  # type: ignore[arg-type]
        for c in r.children(n):
            walk(c, depth + 1)

    walk(node, 0)
    return out


def rule_yaml(node: r.Expr) -> str:
    """The rule as written in the catalog file (YAML)."""
    import yaml

    data = node.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100).strip()
