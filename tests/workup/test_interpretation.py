"""Test interpretation, mimics, choices and the biopsy-unknown version range."""

from __future__ import annotations

from typing import Any

from imnm.record.load import parse_record
from imnm.services import assess
from imnm.workup.assess import Assessment
from imnm.workup.settings import WorkupSettings
from tests.conftest import AS_OF
from tests.workup import records as R


def run(data: dict[str, Any], **choices: str) -> Assessment:
    return assess(parse_record(data), as_of=AS_OF, settings=WorkupSettings(**choices))


def test_ck_fold_band_and_trend_on_the_example(example_record: Any) -> None:
    ck = assess(example_record, as_of=AS_OF).as_dict()["interpretation"]["ck"]
    # 7000/200 = 35, 8000/200 = 40, 35 µkat/L / 3.3 = 10.6 × ULN
    assert [r["fold"] for r in ck["results"]] == [35.0, 40.0, 10.6]
    assert ck["results"][2]["u_per_l"] == 2100.0  # 35 µkat/L × 60
    assert ck["peak_fold"] == 40.0 and ck["results"][1]["band"] == "over_15x"
    assert ck["results"][2]["band"] == "over_10x"
    assert ck["trend"]["overall"] == "falling"
    assert [s["direction"] for s in ck["trend"]["steps"]] == ["stable", "falling"]  # +14 % is within ±20 %
    assert "10–100" in ck["context"]


def test_ck_without_uln_has_a_fold_range_and_is_flagged() -> None:
    rec = R.n3()
    rec["labs"] = [{"test": "ck", "value": 4000, "unit": "U/L"}]
    a = run(rec).as_dict()
    row = a["interpretation"]["ck"]["results"][0]
    assert row["fold"] is None
    # 4000 U/L over the documented adult ULNs 810 and 135 U/L (ck.yaml): 4.94 to 29.63 × ULN
    assert (row["fold_min"], row["fold_max"]) == (round(4000 / 810, 2), round(4000 / 135, 2))
    assert any(f["id"] == "ck_without_uln" for f in a["flags"])
    # above every documented ULN, so "CK above ULN" is met and the subtype is decided
    assert a["enmc"]["classification"] == "antibody_negative_imnm"
    assert run(rec, default_uln="none").enmc.classification == "unknown"
    assert run(rec, default_uln="flat_200").enmc.classification == "antibody_negative_imnm"


def test_antibody_strengths() -> None:
    rec = R.n2()
    rec["antibodies"] = [
        {"target": "HMGCR", "result": "positive", "method": "ELISA", "value": 25, "unit": "units"},
        {"target": "SRP", "result": "positive", "method": "line_blot", "band": "strong"},
        {"target": "Jo-1", "result": "negative", "method": "line_blot"},
    ]
    ab = run(rec).as_dict()["interpretation"]["antibodies"]
    by = {r["target"]: r for r in ab["results"]}
    assert by["HMGCR"]["strength"] == "weak"  # 20–39 units
    assert by["SRP"]["strength"] == "strong" and by["SRP"]["counts_as_confirmed"] is True
    assert ab["targets"]["HMGCR"]["status"] == "positive"


def test_positive_below_the_elisa_cutoff_is_flagged() -> None:
    rec = R.n2()
    rec["antibodies"] = [{"target": "HMGCR", "result": "positive", "method": "ELISA", "value": 12}]
    a = run(rec).as_dict()
    assert any(f["id"] == "antibody_value_conflict" for f in a["flags"])


def test_emg_mri_and_biopsy_patterns() -> None:
    rec = R.e6()
    rec["emg"] = {"pattern": "myopathic", "spontaneous_activity": True}
    rec["mri"] = {"edema": True, "fatty_replacement": True}
    a = run(rec).as_dict()
    it = a["interpretation"]
    assert "does not tell IMNM from polymyositis" in it["emg"]["does_not_tell"]
    assert it["mri"]["lasting_damage"] is True
    assert any(f["id"] == "fatty_replacement" for f in a["flags"])
    assert "ibm_features" in it["biopsy"]["pattern"]
    assert any(f["id"] == "biopsy_ibm_features" for f in a["flags"])


def test_hypothyroid_and_statin_mimics() -> None:
    rec = R.n3()
    rec["labs"] = [*rec["labs"], {"test": "tsh", "value": 90, "unit": "mIU/L", "uln": 4.5}]
    rec["exposures"] = {"statin": {"status": "past", "start": "2020-01-01", "stop": "2026-06-01"}}
    rec["history"] = {"improved_after_statin_stop": True}
    mimics = {m["id"]: m for m in run(rec).mimics}
    assert mimics["hypothyroid_myopathy"]["verdict"] == "points_to_mimic"
    assert mimics["statin_toxic_myopathy"]["verdict"] == "points_to_mimic"
    rec["exposures"] = {"statin": "never"}
    assert {m["id"]: m for m in run(rec).mimics}["statin_toxic_myopathy"]["verdict"] == "not_applicable"


def test_young_onset_family_history_points_to_dystrophy() -> None:
    rec = R.n3()
    rec["age_at_onset"] = 19
    rec["history"] = {"family_history_muscle_disease": True}
    a = run(rec).as_dict()
    dys = next(m for m in a["mimics"] if m["id"] == "muscular_dystrophy")
    assert dys["verdict"] == "points_to_mimic"
    assert "genetic_testing" in {t["test"] for t in a["next_tests"]}


def test_unknown_biopsy_status_covers_both_versions() -> None:
    rec = R.e1()
    del rec["biopsy"]
    u = run(rec).as_dict()["eular_acr"]
    assert u["version"] == "no_biopsy" and u["biopsy_status"] == "unknown" and u["version_note"]
    assert u["score"] == 6.8  # E1, no-biopsy column
    assert u["score_min"] == 6.4  # E2b: biopsy column, no biopsy item
    assert u["score_max"] == 14.3  # 6.4 + 1.7 + 1.2 + 1.9 + 3.1
    assert (u["category_min"], u["category_max"]) == ("not_iim", "definite")
    assert u["classified_as_iim"] == "unknown"


def test_presentation_choices() -> None:
    u = run(R.e3(), probability_constants="hide").as_dict()["eular_acr"]
    assert u["probability"] is None and u["score"] == 10.1
    u = run(R.e3(), subgroup_tree_use="disabled").as_dict()["eular_acr"]
    assert u["classified_as_iim"] is True and u["subgroup"] is None
    u = run(R.e7(), classification_minimum="possible_50").as_dict()["eular_acr"]
    assert u["classified_as_iim"] is True  # possible (P ≥ 50 %) accepted as the minimum


def test_second_method_not_offered_when_chosen() -> None:
    tests = {t["test"] for t in run(R.n2(), antibody_second_method_offered="never").next_tests}
    assert "antibody_second_method" not in tests
    assert "antibody_second_method" in {t["test"] for t in run(R.n2()).next_tests}
