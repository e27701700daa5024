"""Exhaustive truth tables of the Kleene connectives, against an independent definition.

Independent definition: order NOT_MET < UNKNOWN < MET; conjunction is the minimum,
disjunction the maximum, negation reverses the order (Kleene's strong logic). "At least n"
is met when n values are MET, not met when fewer than n are MET-or-UNKNOWN.
"""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from imnm.core import rules as r
from imnm.core.evaluate import evaluate
from imnm.core.facts import DictFacts, Registry
from imnm.core.truth import Truth, and_, at_least, not_, or_

T = list(Truth)
RANK = {Truth.NOT_MET: 0, Truth.UNKNOWN: 1, Truth.MET: 2}


def ref_and(xs: tuple[Truth, ...]) -> Truth:
    return min(xs, key=RANK.__getitem__) if xs else Truth.MET


def ref_or(xs: tuple[Truth, ...]) -> Truth:
    return max(xs, key=RANK.__getitem__) if xs else Truth.NOT_MET


def ref_at_least(n: int, xs: tuple[Truth, ...]) -> Truth:
    # at least n of xs = OR over every n-subset of the AND of that subset
    if n == 0:
        return Truth.MET
    subsets = itertools.combinations(xs, n)
    return ref_or(tuple(ref_and(s) for s in subsets))


def test_not_table() -> None:
    assert [not_(x) for x in T] == [Truth.NOT_MET, Truth.MET, Truth.UNKNOWN]


@pytest.mark.parametrize("arity", [0, 1, 2, 3, 4])
def test_and_or_tables_exhaustive(arity: int) -> None:
    for xs in itertools.product(T, repeat=arity):
        assert and_(xs) is ref_and(xs), xs
        assert or_(xs) is ref_or(xs), xs


def test_binary_tables_spelled_out() -> None:
    M, N, U = Truth.MET, Truth.NOT_MET, Truth.UNKNOWN
    table_and = {(M, M): M, (M, U): U, (M, N): N, (U, U): U, (U, N): N, (N, N): N}
    table_or = {(M, M): M, (M, U): M, (M, N): M, (U, U): U, (U, N): U, (N, N): N}
    for (a, b), want in table_and.items():
        assert and_([a, b]) is want and and_([b, a]) is want
    for (a, b), want in table_or.items():
        assert or_([a, b]) is want and or_([b, a]) is want


@pytest.mark.parametrize("arity", [1, 2, 3, 4])
def test_at_least_exhaustive(arity: int) -> None:
    for n in range(arity + 1):
        for xs in itertools.product(T, repeat=arity):
            assert at_least(n, xs) is ref_at_least(n, xs), (n, xs)


def test_de_morgan_exhaustive() -> None:
    for a, b in itertools.product(T, repeat=2):
        assert not_(and_([a, b])) is or_([not_(a), not_(b)])
        assert not_(or_([a, b])) is and_([not_(a), not_(b)])


def _const(t: Truth) -> dict[str, str]:
    return {"const": t.value}


@pytest.mark.parametrize("arity", [1, 2, 3])
def test_rule_nodes_follow_the_tables(arity: int) -> None:
    """The engine's all / any / not / at_least nodes give the same tables."""
    reg, facts, day = Registry(), DictFacts({}), date(2026, 1, 1)
    for xs in itertools.product(T, repeat=arity):
        kids = [_const(x) for x in xs]
        assert evaluate(r.parse_rule({"all": kids}), facts, as_of=day, registry=reg).truth is ref_and(xs)
        assert evaluate(r.parse_rule({"any": kids}), facts, as_of=day, registry=reg).truth is ref_or(xs)
        for n in range(arity + 1):
            node = r.parse_rule({"at_least": {"n": n, "of": kids}})
            assert evaluate(node, facts, as_of=day, registry=reg).truth is ref_at_least(n, xs)
    for x in T:
        node = r.parse_rule({"not": _const(x)})
        assert evaluate(node, facts, as_of=day, registry=reg).truth is not_(x)
