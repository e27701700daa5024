"""Every knowledge table carries its source and verification mark; ⚠️/❗ choices are documented."""

from __future__ import annotations

import pytest

from imnm import knowledge
from imnm.errors import KnowledgeError

TABLES = knowledge.available()


def test_the_issue_tables_exist() -> None:
    for needed in ("eular_acr_2017", "tis_2016", "ck", "labs", "antibodies", "tests"):
        assert needed in TABLES


@pytest.mark.parametrize("table_id", TABLES)
def test_every_table_has_a_source_and_mark(table_id: str) -> None:
    data = knowledge.load(table_id)  # refuses a table without provenance
    src = data["source"]
    assert src["citation"].strip()
    assert src.get("doi") or src.get("urls")
    assert src["mark"] in knowledge.MARKS


@pytest.mark.parametrize("table_id", TABLES)
def test_every_choice_has_options_and_a_default(table_id: str) -> None:
    for choice in knowledge.load(table_id).get("choices") or []:
        assert choice["mark"] in knowledge.MARKS, choice["id"]
        assert choice["default"] in choice["options"], choice["id"]
        assert choice.get("why_default"), choice["id"]


def test_a_table_without_a_source_is_refused() -> None:
    problems = knowledge.check_provenance("x", {"id": "x", "items": []})
    assert problems and problems[0].path == "source"
    problems = knowledge.check_provenance("x", {"id": "x", "source": {"citation": "A", "mark": "ok"}})
    assert {p.path for p in problems} == {"source", "source.mark"}


def test_loading_an_unknown_table_is_a_clear_error() -> None:
    with pytest.raises(KnowledgeError):
        knowledge.load("no_such_table")


def test_eular_weights_match_the_fact_sheet() -> None:
    """Spot-check against clinical.md §1.2 (typed in independently here)."""
    items = {i["id"]: i for i in knowledge.load("eular_acr_2017")["items"]}
    expected = {  # id: (no biopsy, biopsy)
        "age_onset_18_to_40": (1.3, 1.5),
        "age_onset_40_plus": (2.1, 2.2),
        "proximal_weakness_upper": (0.7, 0.7),
        "proximal_weakness_lower": (0.8, 0.5),
        "neck_flexors_weaker_than_extensors": (1.9, 1.6),
        "legs_proximal_weaker_than_distal": (0.9, 1.2),
        "heliotrope_rash": (3.1, 3.2),
        "gottron_papules": (2.1, 2.7),
        "gottron_sign": (3.3, 3.7),
        "dysphagia": (0.7, 0.6),
        "anti_jo1": (3.9, 3.8),
        "elevated_muscle_enzymes": (1.3, 1.4),
        "endomysial_infiltrate_surrounding_not_invading": (None, 1.7),
        "perimysial_or_perivascular_infiltrate": (None, 1.2),
        "perifascicular_atrophy": (None, 1.9),
        "rimmed_vacuoles": (None, 3.1),
    }
    assert set(items) == set(expected)
    for k, (nb, b) in expected.items():
        assert (items[k]["weight_no_biopsy"], items[k]["weight_biopsy"]) == (nb, b), k


def test_tis_points_sum_to_100() -> None:
    measures = knowledge.load("tis_2016")["measures"]
    top = [max(b["points"] for b in m["bands"]) for m in measures]
    assert sum(top) == 100
