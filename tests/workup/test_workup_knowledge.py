"""workup.yaml repeats numbers from the source tables: they must agree, and every rule must fit
the fact vocabulary (checked at load time)."""

from __future__ import annotations

from imnm import knowledge
from imnm.workup import rules as wr


def test_every_workup_rule_fits_the_vocabulary() -> None:
    paths = wr.all_rule_paths()
    assert len(paths) > 40
    for p in paths:
        wr.rule_from(p)  # raises RuleError listing every problem


def test_every_eular_item_has_a_rule_and_the_age_bounds_match() -> None:
    items = {i["id"]: i for i in knowledge.load("eular_acr_2017")["items"]}
    rules = wr.table()["eular_acr_items"]
    assert set(rules) == set(items)
    young = rules["age_onset_18_to_40"]["all"]
    assert young[0]["compare"]["value"] == items["age_onset_18_to_40"]["age_min_years"]
    assert young[1]["compare"]["value"] == items["age_onset_18_to_40"]["age_max_years_exclusive"]
    assert rules["age_onset_40_plus"]["compare"]["value"] == items["age_onset_40_plus"]["age_min_years"]


def test_enzyme_item_uses_exactly_the_published_enzymes() -> None:
    enzymes = knowledge.load("eular_acr_2017")["items"][11]["enzymes"]
    assert enzymes == ["CK", "LDH", "AST", "ALT"]
    for option in ("most_abnormal_during_course", "current_value"):
        facts = [
            c["compare"]["fact"]
            for c in wr.table()["eular_acr_items"]["elevated_muscle_enzymes"]["by_choice"][option]["any"]
        ]
        assert facts == [f"lab.{e.lower()}.fold" for e in enzymes]


def test_mimic_thresholds_match_mimics_yaml() -> None:
    ibm = next(m for m in knowledge.load("mimics")["mimics"] if m["id"] == "inclusion_body_myositis")[
        "numeric"
    ]
    feats = wr.table()["mimic_features"]["inclusion_body_myositis"]["for"]
    assert feats[0]["rule"]["compare"]["value"] == ibm["onset_age_years_above"]
    assert feats[1]["rule"]["compare"]["value"] == ibm["duration_months_above"]
    assert feats[3]["rule"]["compare"]["value"] == ibm["ck_fold_max_inclusive"]


def test_subgroup_tree_terms_all_have_rules() -> None:
    tree = knowledge.load("eular_acr_2017")["subgroup_tree"]
    items = {i["id"] for i in knowledge.load("eular_acr_2017")["items"]}
    terms = set(wr.table()["eular_acr_tree_terms"])

    def names(test: object) -> list[str]:
        if isinstance(test, str):
            return [test]
        if isinstance(test, dict):
            return [n for k in ("any_of", "all_of") for t in test.get(k, []) for n in names(t)]
        return []

    for node in tree["nodes"]:
        for n in names(node["test"]):
            assert n in items or n in terms, n
