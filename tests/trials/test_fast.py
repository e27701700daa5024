"""Every evaluation mode agrees with the explained one on every catalog rule (real records)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from imnm.core.evaluate import Plan, Run, evaluate
from imnm.facts import REGISTRY, RecordFacts
from imnm.record.load import parse_record
from imnm.synthetic import synthetic_records
from imnm.trials.load import catalog
from tests.trials.patients import dm_patient, imnm_patient

RULES = [c.rule for t in catalog() for c in t.all_criteria() if c.rule is not None]
RECORDS = [parse_record(r) for r in synthetic_records(60, seed=7)] + [
    parse_record(imnm_patient()),
    parse_record(dm_patient()),
]
PLAN = Plan(REGISTRY)


@given(
    st.integers(min_value=0, max_value=len(RECORDS) - 1),
    st.dates(min_value=date(2023, 1, 1), max_value=date(2028, 12, 31)),
)
def test_lean_and_truth_modes_equal_the_explained_one(i: int, as_of: date) -> None:
    facts = RecordFacts(RECORDS[i], as_of=as_of)
    lean = Run(facts, as_of, REGISTRY, PLAN)
    quick = Run(facts, as_of, REGISTRY, PLAN)
    for rule in RULES:
        full = evaluate(rule, facts, as_of=as_of, registry=REGISTRY)
        t, missing = lean.assess(rule)
        assert t is full.truth
        assert missing == full.missing
        q, needs_facts = quick.truth(rule)
        assert q is full.truth
        assert needs_facts == any(m.fact != "manual_review" for m in full.missing)


def test_every_record_and_day_across_a_year() -> None:
    """Deterministic sweep: windows open and close as the evaluation date moves."""
    for rec in RECORDS[:10]:
        for k in range(0, 365, 30):
            day = date(2026, 1, 1) + timedelta(days=k)
            facts = RecordFacts(rec, as_of=day)
            run = Run(facts, day, REGISTRY, PLAN)
            for rule in RULES:
                assert run.truth(rule)[0] is evaluate(rule, facts, as_of=day, registry=REGISTRY).truth
