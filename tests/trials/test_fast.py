"""The lean evaluator (`imnm.core.fast`) agrees with the foundation engine on every catalog rule."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from imnm.core.evaluate import evaluate
from imnm.core.fast import Pass, assess, truth
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


@given(
    st.integers(min_value=0, max_value=len(RECORDS) - 1),
    st.dates(min_value=date(2023, 1, 1), max_value=date(2028, 12, 31)),
)
def test_assess_and_truth_equal_the_engine(i: int, as_of: date) -> None:
    facts = RecordFacts(RECORDS[i], as_of=as_of)
    run = Pass(facts, as_of, REGISTRY)
    for rule in RULES:
        full = evaluate(rule, facts, as_of=as_of, registry=REGISTRY)
        t, missing = assess(rule, facts, as_of=as_of, registry=REGISTRY)
        assert t is full.truth
        assert missing == full.missing
        quick, needs_facts = truth(rule, run)
        assert quick is full.truth
        assert needs_facts == any(m.fact != "manual_review" for m in full.missing)


def test_every_record_and_day_across_a_year() -> None:
    """Deterministic sweep: windows open and close as the evaluation date moves."""
    for rec in RECORDS[:10]:
        for k in range(0, 365, 30):
            day = date(2026, 1, 1) + timedelta(days=k)
            facts = RecordFacts(rec, as_of=day)
            run = Pass(facts, day, REGISTRY)
            for rule in RULES:
                assert truth(rule, run)[0] is evaluate(rule, facts, as_of=day, registry=REGISTRY).truth
