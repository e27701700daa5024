"""Per-engine touches on a sqlglot tree before it is generated (the rest is sqlglot's own transpiler).

- PostgreSQL has no ARG_MAX: `ARG_MAX(v, STRUCT(k1, k2)) FILTER (WHERE c)` becomes
  `(ARRAY_AGG(v ORDER BY k1 DESC, k2 DESC) FILTER (WHERE c))[1]` (ARG_MIN: ascending).
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp


def prepare(tree: Any, dialect: str) -> Any:
    if dialect != "postgres":
        return tree
    return tree.copy().transform(_pg_argmax)


def _pg_argmax(node: exp.Expression) -> exp.Expression:
    inner = node.this if isinstance(node, exp.Filter) else node
    if not isinstance(inner, exp.ArgMax | exp.ArgMin):
        return node
    desc = isinstance(inner, exp.ArgMax)
    key = inner.expression
    keys = (
        [e.expression if isinstance(e, exp.PropertyEQ) else e for e in key.expressions]
        if isinstance(key, exp.Struct)
        else [key]
    )
    order = exp.Order(
        this=inner.this.copy(),
        expressions=[exp.Ordered(this=k.copy(), desc=desc, nulls_first=not desc) for k in keys],
    )
    agg: exp.Expression = exp.ArrayAgg(this=order)
    if isinstance(node, exp.Filter):
        agg = exp.Filter(this=agg, expression=node.expression.copy())
    return exp.Bracket(
        this=exp.Paren(this=agg), expressions=[exp.Literal.number(0)]
    )  # sqlglot indexes from 0 and adds 1 for PostgreSQL
