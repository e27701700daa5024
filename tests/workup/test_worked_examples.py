"""Worked examples E1–E8 (clinical.md §1.8) and N1–N3 (§2.2) as tests.

Expected numbers are typed in from the fact sheet (score, P %, category, skin-or-biopsy rule,
subgroup, ENMC result); they are not computed with the code under test.
"""

from __future__ import annotations

from typing import Any

import pytest

from imnm.record.load import parse_record
from imnm.services import assess
from imnm.workup.assess import Assessment
from imnm.workup.settings import WorkupSettings
from tests.conftest import AS_OF
from tests.workup import records as R


def run(data: dict[str, Any], **choices: str) -> Assessment:
    return assess(parse_record(data), as_of=AS_OF, settings=WorkupSettings(**choices))


# id, record, items present, score, P %, category, rule, subgroup
EULAR_EXAMPLES = [
    (
        "E1",
        R.e1,
        {"age_onset_40_plus", "proximal_weakness_upper", "proximal_weakness_lower",
         "neck_flexors_weaker_than_extensors", "elevated_muscle_enzymes"},
        "no_biopsy", 6.8, 81.3, "probable", "not_met", None,
    ),
    (
        "E2",
        lambda: R.e2(True),
        {"age_onset_40_plus", "proximal_weakness_upper", "proximal_weakness_lower",
         "neck_flexors_weaker_than_extensors", "elevated_muscle_enzymes", "perimysial_or_perivascular_infiltrate"},
        "biopsy", 7.6, 75.2, "probable", "met", "PM",
    ),
    (
        "E2b",
        lambda: R.e2(False),
        {"age_onset_40_plus", "proximal_weakness_upper", "proximal_weakness_lower",
         "neck_flexors_weaker_than_extensors", "elevated_muscle_enzymes"},
        "biopsy", 6.4, 47.8, "not_iim", "not_met", None,
    ),
    (
        "E3",
        R.e3,
        {"age_onset_40_plus", "heliotrope_rash", "gottron_papules", "proximal_weakness_upper",
         "proximal_weakness_lower", "elevated_muscle_enzymes"},
        "no_biopsy", 10.1, 99.2, "definite", "met", "DM",
    ),
    ("E4", R.e4, {"age_onset_18_to_40", "heliotrope_rash", "gottron_sign"}, "no_biopsy", 7.7, 91.4, "definite", "met", "ADM"),
    (
        "E5",
        R.e5,
        {"heliotrope_rash", "gottron_papules", "proximal_weakness_upper", "proximal_weakness_lower",
         "elevated_muscle_enzymes"},
        "no_biopsy", 8.0, 93.5, "definite", "met", "JDM",
    ),
    (
        "E6",
        R.e6,
        {"age_onset_40_plus", "proximal_weakness_lower", "dysphagia", "elevated_muscle_enzymes",
         "endomysial_infiltrate_surrounding_not_invading", "rimmed_vacuoles"},
        "biopsy", 9.5, 95.3, "definite", "met", "IBM",
    ),
    ("E7", R.e7, {"age_onset_40_plus", "gottron_sign"}, "no_biopsy", 5.4, 51.7, "possible", "met", None),
    (
        "E8",
        R.e8,
        {"age_onset_18_to_40", "gottron_papules", "proximal_weakness_lower", "elevated_muscle_enzymes"},
        "no_biopsy", 5.5, 54.2, "probable", "met", "DM",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "make", "present", "version", "score", "pct", "category", "rule", "subgroup"),
    EULAR_EXAMPLES,
    ids=[e[0] for e in EULAR_EXAMPLES],
)
def test_eular_acr_worked_example(
    name: str,
    make: Any,
    present: set[str],
    version: str,
    score: float,
    pct: float,
    category: str,
    rule: str,
    subgroup: str | None,
) -> None:
    u = run(make()).as_dict()["eular_acr"]
    assert u["version"] == version
    assert {i["id"] for i in u["items"] if i["status"] == "present"} == present
    assert not [i for i in u["items"] if i["status"] == "unknown" and i["scored"]], "every item is recorded"
    assert u["score"] == u["score_min"] == u["score_max"] == score
    assert u["probability"] == pytest.approx(pct, abs=0.05)
    assert u["category"] == u["category_min"] == u["category_max"] == category
    assert u["skin_or_biopsy_rule"]["truth"] == rule
    classified = category in ("probable", "definite") and rule == "met"
    assert u["classified_as_iim"] is classified
    assert u["subgroup"] == subgroup


def test_e1_is_not_classifiable_without_a_biopsy_and_asks_for_one() -> None:
    a = run(R.e1()).as_dict()
    assert a["eular_acr"]["classified_as_iim"] is False
    assert any(f["id"] == "eular_not_classifiable" for f in a["flags"])
    biopsy = [t for t in a["next_tests"] if t["test"] == "muscle_biopsy"]
    assert biopsy and "EULAR/ACR classification" in biopsy[0]["could_change"]
    # 6.8 (probable) without a biopsy; with one and no scored biopsy item 6.4 (not IIM, E2b)
    assert "EULAR/ACR category" in biopsy[0]["could_change"]


def test_e3_biopsy_cannot_change_the_eular_acr_category() -> None:
    """E3 scores 10.1 without biopsy; in the biopsy column its items give 2.2 + 3.2 + 2.7 + 0.7 + 0.5
    + 1.4 = 10.7 ≥ 8.7, definite whatever the biopsy shows."""
    tests = {t["test"]: t for t in run(R.e3()).next_tests}
    assert "EULAR/ACR category" not in tests.get("muscle_biopsy", {"could_change": []})["could_change"]


def test_e2b_passes_with_the_lenient_reading_but_stays_not_iim() -> None:
    u = run(R.e2(False), skin_or_biopsy_rule="lenient").as_dict()["eular_acr"]
    assert u["skin_or_biopsy_rule"]["truth"] == "met"  # a biopsy was performed
    assert u["category"] == "not_iim" and u["classified_as_iim"] is False


def test_e8_score_and_probability_categories_disagree_and_it_is_logged() -> None:
    by_score = run(R.e8()).as_dict()
    d = by_score["eular_acr"]["category_disagreements"]
    assert (
        d and d[0]["score"] == 5.5 and d[0]["by_score"] == "probable" and d[0]["by_probability"] == "possible"
    )
    assert any(f["id"] == "eular_category_disagreement" for f in by_score["flags"])
    by_p = run(R.e8(), category_basis="probability").as_dict()["eular_acr"]
    assert by_p["category"] == "possible"
    assert by_p["classified_as_iim"] is False and by_p["subgroup"] is None  # "DM if probable accepted"


@pytest.mark.parametrize(
    ("score_tenths", "by_score", "by_probability"),
    [(52, "not_iim", "not_iim"), (53, "possible", "not_iim"), (54, "possible", "possible"),
     (55, "probable", "possible"), (74, "probable", "probable"), (75, "definite", "probable")],
)  # fmt: skip
def test_no_biopsy_boundary_table(score_tenths: int, by_score: str, by_probability: str) -> None:
    """clinical.md §1.3 boundary table (no biopsy, c = 5.33)."""
    from imnm.workup.eular_acr import category_of

    assert category_of(score_tenths, "no_biopsy", "score") == by_score
    assert category_of(score_tenths, "no_biopsy", "probability") == by_probability


@pytest.mark.parametrize(
    ("score_tenths", "category"),
    [(64, "not_iim"), (65, "possible"), (67, "probable"), (86, "probable"), (87, "definite")],
)
def test_biopsy_boundary_table(score_tenths: int, category: str) -> None:
    from imnm.workup.eular_acr import category_of

    assert category_of(score_tenths, "biopsy", "score") == category
    assert category_of(score_tenths, "biopsy", "probability") == category


def test_float_sum_is_rounded_before_comparing() -> None:
    """clinical.md §1.3: round the sum to one decimal before comparing. 1.3 + 0.7 + 0.9 + 3.3 + 1.3
    is 7.499999… in floating point but scores 7.5: definite by the published cut-off (≥ 7.5), and
    probable by probability (89.75 %), which is one of the logged disagreements."""
    total = 0.0
    for w in (1.3, 0.7, 0.9, 3.3, 1.3):
        total += w
    assert total < 7.5  # the float trap
    rec = R.record(
        "float", 30, ["proximal_weakness_upper", "legs_proximal_weaker_than_distal", "gottron_sign"]
    )
    u = run(rec).as_dict()["eular_acr"]
    assert u["score"] == 7.5 and u["category"] == "definite"
    assert u["category_disagreements"][0]["by_probability"] == "probable"


# ------------------------------------------------------------------ ENMC 224


def test_n1_anti_hmgcr_myopathy_without_biopsy() -> None:
    a = run(R.e1()).as_dict()
    e = a["enmc"]
    assert e["classification"] == "anti_hmgcr_myopathy" and e["status"] == "met"
    assert "not required" in (e["biopsy_note"] or "").lower() or "not required" in e["biopsy_note"]
    ck = a["interpretation"]["ck"]
    assert ck["peak_fold"] == 35.0  # 7000 / 200
    hmgcr = next(r for r in a["interpretation"]["antibodies"]["results"] if r["target"] == "HMGCR")
    assert hmgcr["strength"] == "strong"  # ELISA 180 units ≥ 60
    assert any(f["id"] == "cancer_screening" for f in a["flags"])
    assert a["statin"]["status"] == "past"


def test_n1_with_biopsy_required_is_undecided() -> None:
    e = run(R.e1(), biopsy_required_seropositive="required").as_dict()["enmc"]
    assert e["classification"] == "unknown"
    assert "muscle_biopsy" in {m["test"] for m in e["missing"]}


def test_n2_unconfirmed_anti_srp_asks_for_a_second_method_or_a_biopsy() -> None:
    a = run(R.n2()).as_dict()
    e = a["enmc"]
    assert e["classification"] == "unknown" and e["subtype"] is None
    assert e["status"] == "unconfirmed_anti_srp"
    assert {"antibody_second_method", "muscle_biopsy"} <= {m["test"] for m in e["missing"]}
    srp = a["interpretation"]["antibodies"]["targets"]["SRP"]
    assert srp["status"] == "unconfirmed" and srp["confirmed_positive"] is None
    tests = {t["test"]: t for t in a["next_tests"]}
    for t in ("antibody_second_method", "muscle_biopsy"):
        assert "ENMC 224 subtype" in tests[t]["could_change"]
    # blood tests before the biopsy
    ranks = {t["test"]: t["rank"] for t in a["next_tests"]}
    assert ranks["antibody_second_method"] < ranks["muscle_biopsy"]
    # safety work-up: anti-SRP → lungs and heart; dysphagia → swallowing
    assert {"pulmonary_function", "ecg", "echocardiogram", "swallow_assessment"} <= set(tests)


def test_n2_confirmed_by_a_second_method() -> None:
    rec = R.n2()
    rec["antibodies"] = [
        *rec["antibodies"],
        {"target": "SRP", "result": "positive", "method": "immunoprecipitation"},
        {"target": "HMGCR", "result": "negative", "method": "ELISA", "value": 2, "unit": "units"},
    ]
    assert run(rec).enmc.classification == "anti_srp_myopathy"


def test_n2_confirmed_by_a_compatible_biopsy() -> None:
    rec = R.n2()
    rec["antibodies"] = [*rec["antibodies"], {"target": "HMGCR", "result": "negative", "method": "ELISA"}]
    rec["biopsy"] = {"performed": True, "necrotic_fibers": "prominent", "inflammation": "sparse"}
    assert run(rec).enmc.classification == "anti_srp_myopathy"


def test_n2_accepting_any_positive() -> None:
    rec = R.n2()
    rec["antibodies"] = [*rec["antibodies"], {"target": "HMGCR", "result": "negative", "method": "ELISA"}]
    assert run(rec).enmc.classification == "unknown"
    assert run(rec, antibody_confirmation="accept").enmc.classification == "anti_srp_myopathy"


def test_n3_antibody_negative_imnm_flags_cancer_screening() -> None:
    a = run(R.n3()).as_dict()
    assert a["enmc"]["classification"] == "antibody_negative_imnm"
    assert any(f["id"] == "cancer_screening" for f in a["flags"])
    screening = next(w for w in a["workup"] if w["id"] == "cancer_screening")
    assert (
        screening["status"] == "recommended" and len(screening["evidence"]) == 3
    )  # conflicting studies shown


def test_n3_without_biopsy_needs_one() -> None:
    rec = R.n3()
    rec["biopsy"] = {"performed": False}
    a = run(rec).as_dict()
    assert a["enmc"]["classification"] == "unknown" and a["enmc"]["status"] == "needs_biopsy"
    assert [
        t for t in a["next_tests"] if t["test"] == "muscle_biopsy" and "ENMC 224 subtype" in t["could_change"]
    ]


def test_n3_biopsy_not_compatible_is_not_met() -> None:
    rec = R.n3()
    rec["biopsy"] = {"performed": True, "necrotic_fibers": "none", "inflammation": "prominent"}
    assert run(rec).enmc.classification == "not_met"


def test_both_antibodies_positive_is_flagged_for_review() -> None:
    rec = R.e1()
    rec["antibodies"] = [*rec["antibodies"], {"target": "SRP", "result": "positive", "method": "IIF"}]
    a = run(rec).as_dict()
    assert a["enmc"]["classification"] == "unknown" and a["enmc"]["status"] == "both_antibodies_positive"
    assert a["enmc"]["imnm"] is True
    assert any(f["id"] == "enmc_review" for f in a["flags"])
    assert run(rec, both_antibodies_positive="hmgcr_first").enmc.classification == "anti_hmgcr_myopathy"


def test_clinical_requirement_not_met() -> None:
    rec = R.e1()
    rec["labs"] = R.NORMAL_ENZYMES
    assert run(rec).enmc.classification == "not_met"
