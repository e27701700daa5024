"""Invariants of the verdicts over seeded synthetic records (every catalog trial and cohort)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from imnm.facts import REGISTRY, RecordFacts
from imnm.record.load import parse_record
from imnm.synthetic import synthetic_records
from imnm.trials.evaluate import evaluate_catalog
from imnm.trials.load import catalog
from tests.trials.patients import review_all

RECORDS = [parse_record(r) for r in synthetic_records(80, seed=11)]
CATALOG = catalog()


@given(
    st.integers(min_value=0, max_value=len(RECORDS) - 1),
    st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
)
def test_verdicts_follow_from_the_criteria(i: int, as_of: date) -> None:
    results = evaluate_catalog(CATALOG, RecordFacts(RECORDS[i], as_of=as_of), as_of=as_of, registry=REGISTRY)
    assert len(results) == sum(max(1, len(t.cohorts)) for t in CATALOG)
    keys = [r.rank_key() for r in results]
    assert keys == sorted(keys)  # open first, enterable before ineligible, fit, completeness, fewest tests
    for r in results:
        if r.verdict != "ineligible":  # the ranking's cheap test count agrees with the listed tests
            assert r.burden()[0] == len([t for t in r.tests if t != "manual_review"])
        effects = [c.effect for c in r.criteria]
        assert (r.verdict == "ineligible") == ("failed" in effects)
        if r.verdict == "needs_information":
            assert r.missing or r.manual_review
            assert (r.pending == "manual_review") == (not r.missing)
        if r.verdict == "eligible":
            assert not r.missing and not r.manual_review
        # a criterion left to a person never counts as met
        for c in r.criteria:
            if c.criterion.manual_review:
                assert c.effect == "review" and c.status == "manual_review"
        if any(c.criterion.manual_review for c in r.criteria):
            assert r.verdict != "eligible"


@given(st.integers(min_value=0, max_value=len(RECORDS) - 1))
def test_favourable_reviews_never_create_a_failure(i: int) -> None:
    """Answering manual items in the patient's favour can only remove open items, not add failures."""
    day = date(2026, 11, 25)
    reviews = {k: v for t in CATALOG for k, v in review_all(t.id, record=RECORDS[i], as_of=day).items()}
    plain = evaluate_catalog(CATALOG, RecordFacts(RECORDS[i], as_of=day), as_of=day, registry=REGISTRY)
    reviewed = evaluate_catalog(
        CATALOG, RecordFacts(RECORDS[i], as_of=day), as_of=day, registry=REGISTRY, reviews=reviews
    )
    before = {r.key: r for r in plain}
    for r in reviewed:
        b = before[r.key]
        assert {c.criterion.id for c in r.failed} == {c.criterion.id for c in b.failed}
        assert {m.fact for m in r.missing} == {m.fact for m in b.missing}
        assert not r.manual_review or r.verdict != "eligible"


def test_the_cheap_review_check_agrees_with_the_review_text() -> None:
    """Ranking counts manual-review items with `has_review()` (no missing-fact lists); it must agree with
    `review` for every criterion of every trial, on every bundled example and the synthetic records."""
    from imnm import services
    from imnm.record.load import load_record, parse_record
    from imnm.synthetic import synthetic_records
    from tests.conftest import AS_OF, EXAMPLES

    patients = [load_record(p) for p in sorted(EXAMPLES.glob("*.yaml"))]
    patients += [parse_record(r) for r in synthetic_records(40, seed=7)]
    checked = 0
    for p in patients:
        for r in services.match_trials(p, as_of=AS_OF).results:
            for c in r.criteria:
                assert c.has_review() == (c.review is not None), (r.key, c.criterion.id)
                checked += 1
    assert checked > 1000
