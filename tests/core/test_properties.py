"""Property tests of the rule engine (Kleene monotonicity and completeness).

1. Filling in unknown facts with any values never changes a MET or NOT_MET result
   (at any node of the tree, not just the root).
2. With every fact known (and dated inside every window), no node is UNKNOWN.
3. On real records: forgetting facts (turning them unknown) can only turn results UNKNOWN.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from imnm.core import rules as r
from imnm.core.evaluate import Outcome, evaluate
from imnm.core.facts import DictFacts, FactSpec, Interval, NumRange, Observation, OneOf, Registry
from imnm.core.truth import Truth

AS_OF = date(2026, 1, 15)

REG = Registry()
for name in ("b1", "b2", "b3"):
    REG.register(FactSpec(name, "bool", name, f"ask {name}", "history"))
REG.register(FactSpec("n1", "number", "n1", "ask n1", "ck", unit="U/L", dated=True))
REG.register(FactSpec("e1", "enum", "e1", "ask e1", "history", values=("a", "b", "c")))
REG.register(FactSpec("ev1", "event", "ev1", "ask ev1", "history", dated=True))
REG.register(FactSpec("r1", "number", "score", "ask r1", "history"))  # a derived, range-valued fact
FACTS = ("b1", "b2", "b3", "n1", "e1", "ev1", "r1")

days_back = st.integers(min_value=0, max_value=400)


def obs_for(name: str, *, recent: bool = False) -> st.SearchStrategy[tuple[Observation, ...]]:
    when = st.integers(0, 10) if recent else days_back
    if name.startswith("b"):
        return st.booleans().map(lambda v: (Observation(v),))
    if name == "n1":
        one = st.builds(
            lambda v, d: Observation(float(v), AS_OF - timedelta(days=d)), st.integers(0, 20000), when
        )
        return st.lists(one, min_size=1, max_size=4).map(tuple)
    if name == "e1":
        return st.sampled_from(["a", "b", "c"]).map(lambda v: (Observation(v),))
    if name == "r1":
        return st.integers(0, 100).map(lambda v: (Observation(v / 10),))
    # events: complete dates when recent (fully known), otherwise possibly open ends
    start = when.map(lambda d: AS_OF - timedelta(days=d + 5))
    if recent:
        iv = st.builds(lambda s, ln: Interval(s, s + timedelta(days=ln)), start, st.integers(0, 5))
    else:
        iv = st.builds(Interval, st.none() | start, st.none() | start, st.booleans())
    return st.lists(iv.map(lambda i: Observation(i, i.start)), max_size=3).map(tuple)


def windows(long: bool) -> st.SearchStrategy[dict[str, Any] | None]:
    before = st.sampled_from(["30d", "12w", "6mo", "1y"] if long else ["7d", "30d", "6mo", "1y"])
    return st.none() | before.map(lambda b: {"before": b})


def leaf(full: bool) -> st.SearchStrategy[dict[str, Any]]:
    consts = ["met", "not_met"] if full else ["met", "not_met", "unknown"]
    return st.one_of(
        st.sampled_from(["b1", "b2", "b3"]).map(lambda f: {"is_true": f}),
        st.builds(
            lambda op, v, unit, sel, w: {
                "compare": {
                    "fact": "n1",
                    "op": op,
                    "value": v,
                    "unit": unit,
                    "select": sel,
                    **({"window": w} if w else {}),
                }
            },
            st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
            st.integers(0, 20000).map(float),
            st.sampled_from(["U/L", "ukat/L"]),
            st.sampled_from(["latest", "earliest", "max", "min", "any", "all"]),
            windows(full),
        ),
        st.builds(
            lambda op, v: {"compare": {"fact": "e1", "op": op, "value": v}},
            st.sampled_from(["==", "!="]),
            st.sampled_from(["a", "b", "c"]),
        ),
        st.builds(
            lambda op, v: {"compare": {"fact": "e1", "op": op, "value": v}},
            st.sampled_from(["in", "not_in"]),
            st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3),
        ),
        st.builds(lambda w: {"event": {"fact": "ev1", **({"window": w} if w else {})}}, windows(full)),
        st.builds(
            lambda op, v: {"compare": {"fact": "r1", "op": op, "value": v / 10}},
            st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
            st.integers(0, 100),
        ),
        st.sampled_from(consts).map(lambda c: {"const": c}),
    )


def trees(full: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(
        leaf(full),
        lambda kids: st.one_of(
            st.lists(kids, min_size=1, max_size=4).map(lambda k: {"all": k}),
            st.lists(kids, min_size=1, max_size=4).map(lambda k: {"any": k}),
            kids.map(lambda k: {"not": k}),
            st.lists(kids, min_size=1, max_size=4).flatmap(
                lambda k: st.integers(0, len(k)).map(lambda n: {"at_least": {"n": n, "of": k}})
            ),
        ),
        max_leaves=12,
    )


@st.composite
def partial_and_completion(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    full = {f: draw(obs_for(f)) for f in FACTS}
    known = draw(st.sets(st.sampled_from(FACTS)))
    partial = {f: (full[f] if f in known else None) for f in FACTS}
    if "r1" not in known and draw(st.booleans()):  # partly known: a range that holds the true value
        v = full["r1"][0].value
        lo, hi = v - draw(st.integers(0, 30)) / 10, v + draw(st.integers(0, 30)) / 10
        partial["r1"] = (Observation(NumRange(lo, hi), needs=("b1",)),)
    if "e1" not in known and draw(st.booleans()):  # partly known: a set of codes that holds the true one
        others = draw(st.sets(st.sampled_from(["a", "b", "c"]), min_size=1))
        codes = frozenset({full["e1"][0].value, *others})
        if len(codes) > 1:
            partial["e1"] = (Observation(OneOf(codes), needs=("b2",)),)
    return partial, full


@st.composite
def partial_coverage(draw: st.DrawFn) -> DictFacts:
    """Events known only over some periods: absence counts as "no" only inside them."""
    partial, _full = draw(partial_and_completion())
    starts = draw(st.lists(st.integers(0, 400), max_size=3))
    periods = tuple(sorted((AS_OF - timedelta(days=d + 30), AS_OF - timedelta(days=d)) for d in starts))
    return DictFacts(partial, {"ev1": periods})


def pairs(a: Outcome, b: Outcome) -> list[tuple[Outcome, Outcome]]:
    out = [(a, b)]
    for x, y in zip(a.children, b.children, strict=True):
        out.extend(pairs(x, y))
    return out


@given(trees(), partial_and_completion())
def test_filling_unknowns_never_changes_a_settled_result(
    tree: dict[str, Any], facts: tuple[dict, dict]
) -> None:
    partial, full = facts
    node = r.parse_rule(tree)
    before = evaluate(node, DictFacts(partial), as_of=AS_OF, registry=REG)
    after = evaluate(node, DictFacts(full), as_of=AS_OF, registry=REG)
    for x, y in pairs(before, after):
        if x.truth is not Truth.UNKNOWN:
            assert y.truth is x.truth, (x.text, x.truth, y.truth)
        else:
            assert x.missing, f"an unknown result must name what is missing: {x.text}"


@given(trees(full=True), st.fixed_dictionaries({f: obs_for(f, recent=True) for f in FACTS}))
def test_with_every_fact_known_nothing_is_unknown(tree: dict[str, Any], full: dict[str, Any]) -> None:
    # "known" for events means a list is recorded (possibly empty); every date is inside every window
    node = r.parse_rule(tree)
    out = evaluate(node, DictFacts(full), as_of=AS_OF, registry=REG)
    assert all(o.truth is not Truth.UNKNOWN for o in out.walk())


# ----------------------------------------------------------------- on real records

RECORD_RULES = [
    {"compare": {"fact": "lab.ck.fold", "op": ">", "value": 10, "unit": "xULN", "select": "max"}},
    {"compare": {"fact": "lab.ck", "op": ">", "value": 1000, "unit": "U/L", "window": {"before": "3y"}}},
    {
        "all": [
            {"is_true": "findings.proximal_weakness_upper"},
            {"is_true": "findings.proximal_weakness_lower"},
        ]
    },
    {"compare": {"fact": "antibody.HMGCR", "op": "==", "value": "positive"}},
    {
        "any": [
            {"compare": {"fact": "antibody.SRP", "op": "==", "value": "positive"}},
            {"compare": {"fact": "biopsy.necrotic_fibers", "op": "in", "value": ["scattered", "prominent"]}},
        ]
    },
    {"event": {"fact": "exposure.statin", "window": {"before": "3y"}}},
    {"not": {"event": {"fact": "medication.rituximab", "window": {"before": "6mo"}}}},
    {"compare": {"fact": "age_at_onset", "op": ">=", "value": 40, "unit": "years"}},
    {
        "at_least": {
            "n": 2,
            "of": [
                {"is_true": "findings.dysphagia"},
                {"is_true": "findings.myalgia"},
                {"is_true": "emg.spontaneous_activity"},
            ],
        }
    },
]

FORGETTABLE = [
    "sex",
    "birth_date",
    "symptom_onset",
    "findings",
    "exposures",
    "labs",
    "antibodies",
    "emg",
    "mri",
    "biopsy",
    "medications",
    "visits",
]


@given(st.sets(st.sampled_from(FORGETTABLE)), st.integers(0, 2**31))
def test_forgetting_record_facts_only_makes_results_unknown(forget: set[str], seed: int) -> None:
    from imnm.facts import REGISTRY, RecordFacts
    from imnm.record.load import parse_record
    from imnm.synthetic import synthetic_record

    data = synthetic_record(random.Random(seed))
    reduced = {k: v for k, v in data.items() if k not in forget}
    day = date(2026, 11, 25)
    full_facts = RecordFacts(parse_record(data), as_of=day)
    part_facts = RecordFacts(parse_record(reduced), as_of=day)
    for tree in RECORD_RULES:
        node = r.parse_rule(tree)
        a = evaluate(node, part_facts, as_of=day, registry=REGISTRY)
        b = evaluate(node, full_facts, as_of=day, registry=REGISTRY)
        if a.truth is not Truth.UNKNOWN:
            assert a.truth is b.truth, tree


# ----------------------------------------------------------------- one evaluator, several modes


@given(trees(), partial_coverage())
def test_every_mode_equals_the_explained_evaluation(tree: dict[str, Any], source: DictFacts) -> None:
    """Lean (truth + missing), truth-only and shared are policies around the same leaf and junction
    functions: on random trees over every node kind (const, windows, ranges, code sets, partly covered
    event lists) they give the explained outcome's answers."""
    from imnm.core.evaluate import Plan, Run

    node = r.parse_rule(tree)
    full = evaluate(node, source, as_of=AS_OF, registry=REG)
    plan = Plan(REG)
    t, missing = Run(source, AS_OF, REG, plan).assess(node)
    assert t is full.truth and missing == full.missing
    quick, needs_facts = Run(source, AS_OF, REG, plan).truth(node)
    assert quick is full.truth
    assert needs_facts == any(m.fact != "manual_review" for m in full.missing)
    shared = Run(source, AS_OF, REG, plan)
    assert shared.outcome(node, shared=True).as_dict() == full.as_dict()
    assert shared.outcome(node, shared=True).as_dict() == full.as_dict()  # from the memo


# ----------------------------------------------------------------- value expressions (sum, case)


def _items(n: int) -> st.SearchStrategy[list[Truth]]:
    return st.lists(st.sampled_from(list(Truth)), min_size=n, max_size=n)


def _const(t: Truth) -> dict[str, str]:
    return {"const": t.value}


@given(
    st.lists(st.integers(0, 40), min_size=1, max_size=6).flatmap(
        lambda pts: st.tuples(st.just(pts), _items(len(pts)), st.integers(0, len(pts)))
    )
)
def test_sum_range_is_the_extremes_over_every_completion(case: tuple[list[int], list[Truth], int]) -> None:
    """A sum's [lo, hi] equals the smallest and largest total over every way the unknown items could
    turn out (computed by brute force here), with the first `k` items mutually exclusive."""
    import itertools

    from hypothesis import assume

    from imnm.core.evaluate import Run

    points, truths, k = case
    group = list(range(min(k, len(points)))) if k > 1 else []
    assume(sum(truths[i] is Truth.MET for i in group) <= 1)  # exclusive items: at most one is present
    terms: list[dict[str, Any]] = []
    if group:
        terms.append({"one_of": [{"points": points[i] / 10, "when": _const(truths[i])} for i in group]})
    terms += [
        {"points": points[i] / 10, "when": _const(truths[i])} for i in range(len(points)) if i not in group
    ]
    expr = r.parse_value({"sum": {"terms": terms, "decimals": 1}})
    got = Run(DictFacts({}), AS_OF, REG).value(expr)
    unknown = [i for i, t in enumerate(truths) if t is Truth.UNKNOWN]
    totals = []
    for bits in itertools.product([False, True], repeat=len(unknown)):
        present = {i for i, t in enumerate(truths) if t is Truth.MET} | {
            i for i, b in zip(unknown, bits, strict=True) if b
        }
        if group and len(present & set(group)) > 1:
            continue  # exclusive items: at most one of the group is present
        total = sum(points[i] for i in present)
        totals.append(total)
    assert got.lo == min(totals) / 10 and got.hi == max(totals) / 10


@given(
    st.lists(
        st.tuples(st.sampled_from(list(Truth)), st.sampled_from(["a", "b", "c"])), min_size=1, max_size=4
    ),
    st.sampled_from(["a", "b", "c", None]),
)
def test_ordered_case_gives_exactly_the_values_some_completion_gives(
    branches: list[tuple[Truth, str]], otherwise: str | None
) -> None:
    import itertools

    from imnm.core.evaluate import Run

    expr = r.parse_value(
        {
            "case": {
                "branches": [{"when": _const(t), "then": {"value": v}} for t, v in branches],
                "else": {"value": otherwise},
            }
        }
    )
    got = Run(DictFacts({}), AS_OF, REG).value(expr)
    unknown = [i for i, (t, _v) in enumerate(branches) if t is Truth.UNKNOWN]
    possible: set[str | None] = set()
    for bits in itertools.product([False, True], repeat=len(unknown)):
        settled = {i: b for i, b in zip(unknown, bits, strict=True)}
        value: str | None = otherwise
        for i, (t, v) in enumerate(branches):
            if t is Truth.MET or settled.get(i):
                value = v
                break
        possible.add(value)
    assert got.codes == frozenset(possible)


@given(trees(), partial_coverage())
def test_complete_coverage_only_settles_results(tree: dict[str, Any], source: DictFacts) -> None:
    """Learning that an event list is complete at all times never unsettles a result."""
    node = r.parse_rule(tree)
    partly = evaluate(node, source, as_of=AS_OF, registry=REG)
    complete = evaluate(node, DictFacts(source.data), as_of=AS_OF, registry=REG)
    for x, y in pairs(partly, complete):
        if x.truth is not Truth.UNKNOWN:
            assert y.truth is x.truth, (x.text, x.truth, y.truth)
