"""The catalog files: schema, provenance, every registry bullet accounted for, clear load errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from imnm.core.facts import Registry
from imnm.errors import InputError
from imnm.facts import REGISTRY
from imnm.trials.load import catalog, parse_trial, shipped_files

# trials.md §1.1 (summary table) and §1.11 (negative controls), plus NCT06298019 (§1.7) and the
# Lim 2020 pilot (no registry id)
EXPECTED = {
    "NCT04025632": "imnm_only",
    "NCT05523167": "includes_imnm",
    "NCT05979441": "rollover",
    "NCT05379634": "includes_imnm",
    "NCT06599697": "imnm_only",
    "NCT06152172": "includes_imnm",
    "NCT06154252": "includes_imnm",
    "NCT00106184": "not_imnm",
    "NCT06686524": "includes_imnm",
    "LIM2020-IVIG": "includes_imnm",
    "NCT07160205": "includes_imnm",
    "NCT05895786": "excludes_imnm",
    "NCT06455449": "excludes_imnm",
    "NCT04999020": "not_imnm",
    "NCT07391605": "not_imnm",
    "NCT05669014": "not_imnm",
    "NCT05650567": "not_imnm",
    "NCT05833711": "not_imnm",
    "NCT06298019": "not_imnm",
    # issue 16: the trials of trials-2026.md
    "NCT07103746": "imnm_only",
    "NCT06665256": "unclear",
    "NCT06569472": "includes_imnm",
    "NCT05832034": "includes_imnm",
}


def test_catalog_holds_every_listed_trial() -> None:
    assert {t.id: t.imnm for t in catalog()} == EXPECTED
    assert len(shipped_files()) == len(EXPECTED)


@pytest.mark.parametrize("trial", catalog(), ids=lambda t: t.id)
def test_provenance_and_truncation_are_stated(trial: Any) -> None:
    src = trial.source
    assert src.registry_urls and src.version
    assert src.reference.startswith(("trials.md §", "trials-2026.md"))  # issue 16 adds trials-2026.md
    if src.completeness != "complete":
        assert src.truncated
        # a trial whose posted text is cut off keeps at least one open manual-review item
        assert any(c.manual_review or c.truncated for c in trial.all_criteria())
    for c in trial.all_criteria():
        assert c.text.strip()
        assert (c.rule is None) == c.manual_review


def test_counts_of_registry_bullets() -> None:
    """Each bullet of the verbatim text in trials.md has one criterion (merged bullets split)."""
    by_id = {t.id: t for t in catalog()}
    z = by_id["NCT04025632"]
    assert (len(z.inclusion), len(z.exclusion)) == (7, 6)  # 6 + structured age; 6
    might = by_id["NCT06599697"]
    assert (len(might.inclusion), len(might.exclusion)) == (8, 12)  # 8; 11 + "list may continue"
    plus = by_id["NCT05979441"]
    assert (len(plus.inclusion), len(plus.exclusion)) == (4, 5)  # 3 + age; 4 bullets, one merged pair split
    reset = by_id["NCT06154252"]
    assert [(len(c.inclusion), len(c.exclusion)) for c in reset.cohorts] == [(5, 8), (4, 1)]


GOOD: dict[str, Any] = {
    "id": "NCT00000001",
    "title": "t",
    "status": "RECRUITING",
    "imnm": "includes_imnm",
    "source": {
        "registry_urls": ["https://clinicaltrials.gov/study/NCT00000001"],
        "version": "2026-01-01",
        "mark": "✅",
        "reference": "trials.md §1",
        "completeness": "complete",
    },
    "inclusion": [
        {
            "id": "inc-1",
            "text": "Age ≥ 18",
            "rule": {"compare": {"fact": "age", "op": ">=", "value": 18, "unit": "years"}},
        }
    ],
}


def _problems(data: Any, registry: Registry = REGISTRY) -> list[str]:
    with pytest.raises(InputError) as err:
        parse_trial(data, file="NCT00000001.yaml", registry=registry)
    return [str(p) for p in err.value.problems]


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    d = copy.deepcopy(GOOD)
    node: Any = d
    for k in path[:-1]:
        node = node[k]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return d


def test_good_file_loads() -> None:
    assert parse_trial(GOOD, file="NCT00000001.yaml").id == "NCT00000001"


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["inclusion", 0, "rule"], None, "a criterion needs a rule or manual_review: true"),
        (["inclusion", 0, "manual_review"], True, "both a rule and manual_review"),
        (["source", "completeness"], "partial", "`truncated` does not say what is missing"),
        (["source", "mark"], "ok", "source.mark"),
        (["source", "registry_urls"], ["clinicaltrials.gov"], "is not a URL"),
        (
            ["inclusion", 0, "rule", "compare", "fact"],
            "lab.cK",
            "unknown fact 'lab.cK'; did you mean 'lab.ck'?",
        ),
        (["inclusion", 0, "rule", "compare", "unit"], "kg", "'kg' is not a unit for age"),
        (["status"], "OPEN", "status"),
        (["id"], "NCT00000002", "differs from the file name"),
    ],
)
def test_bad_file_names_the_problem(path: list[Any], value: Any, expected: str) -> None:
    problems = _problems(_with(path, value))
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("NCT00000001.yaml: ") for p in problems)


def test_manual_review_needs_a_reason() -> None:
    d = _with(["inclusion", 0], {"id": "inc-1", "text": "Consent", "manual_review": True})
    assert any("needs a reason" in p for p in _problems(d))


def test_a_missing_contract_fact_becomes_manual_review() -> None:
    """Without the work-up module's facts, 'clinical diagnosis of IMNM' is left to a person."""
    small = Registry()
    for spec in REGISTRY.specs():
        if not spec.name.startswith("enmc."):
            small.register(spec)
    d = _with(
        ["inclusion", 0],
        {"id": "inc-1", "text": "Clinical diagnosis of IMNM", "rule": {"is_true": "enmc.imnm"}},
    )
    trial = parse_trial(d, file="NCT00000001.yaml", registry=small)
    crit = trial.inclusion[0]
    assert crit.manual_review and crit.rule is None
    assert crit.reason == "needs enmc.imnm (not yet available)"


def test_every_trial_of_the_research_index_is_in_the_catalog() -> None:
    """trials/imnm_trials_index.json (the machine-readable index of trials.md §1) is fully covered,
    with the same phases, sponsor status and age limits where the index has them."""
    import json
    from pathlib import Path

    index = json.loads(
        (Path(__file__).resolve().parent.parent / "data" / "trials" / "imnm_trials_index.json").read_text()
    )
    by_id = {t.id: t for t in catalog()}
    for entry in index["trials"]:
        trial = by_id[entry["nct_id"]]
        if entry["phases"]:
            assert trial.phases == entry["phases"], trial.id
        if entry["max_age"]:
            assert trial.maximum_age == entry["max_age"], trial.id
        if entry["sex"]:
            assert trial.sex == entry["sex"], trial.id
