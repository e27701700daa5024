"""MMT-8 per-muscle grades and HAQ-DI items in the record (clinical.md §4.1, §4.2).

Expected values are typed in from clinical.md, not computed with the code under test.
"""

from __future__ import annotations

from typing import Any

import pytest

from imnm.errors import RecordError
from imnm.instruments import haq, mmt8
from imnm.instruments.core_set import Mmt8
from imnm.record.load import parse_record

GROUPS = [
    "neck_flexors",
    "deltoid",
    "biceps",
    "wrist_extensors",
    "gluteus_maximus",
    "gluteus_medius",
    "quadriceps",
    "ankle_dorsiflexors",
]


def _visit(**kw: Any) -> dict[str, Any]:
    return {"id": "t", "visits": [{"date": "2024-01-01", **kw}]}


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(RecordError) as exc:
        parse_record(data)
    return [f"{p.path}: {p.message}; {p.fix}" for p in exc.value.problems]


def test_groups_match_the_knowledge_table() -> None:
    from imnm import knowledge

    table = [g["id"] for g in knowledge.load("core_set")["mmt8"]["groups"]]
    assert table == GROUPS == list(mmt8.GROUPS)
    assert list(Mmt8.model_fields["grades"].annotation.__args__[0].model_fields) == GROUPS  # type: ignore[union-attr]
    assert set(mmt8.proximal_groups()) == {
        "deltoid",
        "biceps",
        "gluteus_maximus",
        "gluteus_medius",
        "quadriceps",
    }


def test_clinical_md_example_61_of_80() -> None:
    """§4.1: right-side grades 6, 7, 9, 10, 5, 6, 8, 10 → MMT-8 = 61/80."""
    grades = dict(zip(GROUPS, [6, 7, 9, 10, 5, 6, 8, 10], strict=True))
    rec = parse_record(_visit(mmt8={"side": "right", "grades": grades}))
    m = rec.visits[0].mmt8  # type: ignore[index]
    assert m is not None and m.side == "right"
    s = mmt8.primary_score(m)
    assert s is not None and (s.total, s.scale) == (61, 80)
    # a given total that agrees is accepted; one that disagrees is refused
    parse_record(_visit(mmt8={"side": "right", "grades": grades, "total": 61, "scale": 80}))
    msgs = _problems(_visit(mmt8={"side": "right", "grades": grades, "total": 60}))
    assert any("total 60 disagrees with the per-muscle grades (they add up to 61/80)" in m for m in msgs)


def test_the_example_total_loads_as_before(example_record: Any) -> None:
    m = example_record.visits[0].mmt8
    assert (m.total, m.scale, m.grades) == (58, 80, None)


@pytest.mark.parametrize(
    ("mmt", "needle"),
    [
        ({"side": "right", "grades": {"deltiod": 8}}, "unknown field 'deltiod'; did you mean 'deltoid'?"),
        ({"side": "right", "grades": {"deltoid": 11}}, "out of range: a Kendall grade is 0 to 10"),
        ({"side": "right", "grades": {"deltoid": "8"}}, "'8' is not a Kendall grade"),
        ({"side": "right", "grades": {"deltoid": True}}, "True is not a Kendall grade"),
        ({"grades": {"deltoid": 8}}, "per-muscle grades need the side tested"),
        ({"side": "right", "grades": {"deltoid": {"right": 8, "left": 7}}}, "has right/left grades"),
        ({"side": "bilateral", "grades": {"deltoid": 8}}, "needs a grade for each side"),
        ({"side": "bilateral", "grades": {"neck_flexors": {"right": 8}}}, "axial and graded once"),
        ({"side": "right", "grades": {"deltoid": 8}, "scale": 150}, "scale 150 does not fit right grades"),
        ({"total": 58}, "needs a total with its scale"),
        ({"total": 90, "scale": 80}, "above the scale maximum 80"),
        ({"total": 70, "scale": 80, "side": "bilateral"}, "does not fit scale 80"),
        ({"side": "bilateral", "grades": {"deltoid": {"right": 8, "top": 7}}}, "unknown side(s) 'top'"),
    ],
)
def test_bad_mmt8_is_refused_with_a_fix(mmt: dict[str, Any], needle: str) -> None:
    msgs = _problems(_visit(mmt8=mmt))
    assert any(needle in m and m.startswith("visits[0].mmt8") for m in msgs), msgs


def test_bilateral_grades_total_150_and_contain_a_right_side_80() -> None:
    grades: dict[str, Any] = {"neck_flexors": 8}
    for g in GROUPS[1:]:
        grades[g] = {"right": 9, "left": 10}
    m = parse_record(_visit(mmt8={"side": "bilateral", "grades": grades})).visits[0].mmt8  # type: ignore[index]
    assert m is not None
    by_scale = {s.scale: s for s in mmt8.scores(m)}
    assert by_scale[150].total == 8 + 7 * 19  # 141
    assert by_scale[80].total == 8 + 7 * 9  # 71, the right side
    assert 160 not in by_scale  # no conversion is defined to /160


def test_ungraded_groups_give_a_range_and_kendall_t_is_a_choice() -> None:
    grades = {"neck_flexors": 8, "deltoid": "T", "biceps": 9}
    m = parse_record(_visit(mmt8={"side": "left", "grades": grades})).visits[0].mmt8  # type: ignore[index]
    assert m is not None
    s = mmt8.score_grades(m.grades, "left", "zero")  # type: ignore[arg-type]
    assert (s.lo, s.hi) == (17, 17 + 5 * 10)
    assert any("Kendall T" in n for n in s.notes) and any("not graded" in n for n in s.notes)
    assert mmt8.score_grades(m.grades, "left", "one").lo == 18  # type: ignore[arg-type]
    assert mmt8.default_trace() == "zero"
    lo, hi, notes = mmt8.min_proximal(m, "half")  # type: ignore[misc]
    assert (lo, hi) == (0, 0.5) and notes  # three proximal groups ungraded → 0 .. 0.5


def test_haq_di_worked_example_1_29() -> None:
    """§4.2: highest items 1 (dressing, button hook → 2), 2, 0, 1 (cane → 2), 1, 2, 0, activities
    unanswered → (2+2+0+2+1+2+0)/7 = 1.29."""
    items = {
        "dressing": {"items": [1, 0], "aids": True},
        "arising": {"items": [2, 1]},
        "eating": {"items": [0, 0, 0]},
        "walking": {"items": [1, 1], "aids": True},
        "hygiene": {"items": [1, 0, 1]},
        "reach": {"items": [2, 2]},
        "grip": {"items": [0, 0, 0]},
    }
    rec = parse_record(_visit(haq=items))
    s = haq.score(rec.visits[0].haq)  # type: ignore[arg-type,index]
    assert s.answered == 7
    assert s.value is not None and round(s.value, 2) == 1.29
    assert s.categories == {
        "dressing": 2,
        "arising": 2,
        "eating": 0,
        "walking": 2,
        "hygiene": 1,
        "reach": 2,
        "grip": 0,
    }
    parse_record(_visit(haq=items, haq_di=1.29))  # agrees (2 decimals)
    msgs = _problems(_visit(haq=items, haq_di=1.5))
    assert any("haq_di 1.5 disagrees with the HAQ items (index 1.286)" in m for m in msgs)


def test_haq_help_raises_and_three_stays() -> None:
    s = haq.score(
        haq.HaqItems.model_validate(
            {c: {"items": [3], "help": True} for c in haq.CATEGORIES[:5]}
            | {"reach": {"items": [0], "help": True}}
        )
    )
    assert s.categories["dressing"] == 3 and s.categories["reach"] == 2
    assert s.value is not None and abs(s.value - (5 * 3 + 2) / 6) < 1e-12


def test_haq_needs_six_categories_and_valid_items() -> None:
    s = haq.score(haq.HaqItems.model_validate({c: {"items": [1]} for c in haq.CATEGORIES[:5]}))
    assert s.value is None and s.answered == 5 and any("at least 6" in n for n in s.notes)
    msgs = _problems(_visit(haq={"dressing": {"items": [4]}}))
    assert any("4 is not a HAQ item answer" in m for m in msgs)
    msgs = _problems(_visit(haq={"dresing": {"items": [1]}}))
    assert any("did you mean 'dressing'" in m for m in msgs)
    msgs = _problems(_visit(haq={"dressing": {"items": []}}))
    assert msgs


def test_derived_facts_from_grades_items_and_labs() -> None:
    from imnm.facts import RecordFacts
    from tests.conftest import AS_OF

    grades = dict(zip(GROUPS, [6, 7, 9, 10, 5, 6, 8, 10], strict=True))
    rec = parse_record(
        {
            "id": "t",
            "labs": [
                {"test": "ck", "value": 4000, "unit": "U/L", "uln": 200, "date": "2024-01-02"},
                {"test": "aldolase", "value": 38, "unit": "U/L", "uln": 7.6, "date": "2024-01-01"},
                {"test": "ck", "value": 600, "unit": "U/L", "uln": 200, "date": "2024-03-20"},
            ],
            "visits": [
                {
                    "date": "2024-01-01",
                    "mmt8": {"side": "right", "grades": grades},
                    "haq": {c: {"items": [1]} for c in haq.CATEGORIES},
                },
                {"date": "2024-04-01", "mmt8": {"total": 140, "scale": 150}, "haq_di": 0.5},
            ],
        }
    )
    from imnm.core.facts import NumRange
    from imnm.settings import Settings

    none = RecordFacts(rec, as_of=AS_OF, settings=Settings.parse({"mmt8_scale_conversion": "none"}))
    assert [o.value for o in none.get("visit.mmt8_80") or ()] == [61]
    assert [o.value for o in none.get("visit.mmt8_150") or ()] == [140]
    assert none.get("visit.mmt8_160") is None
    # Default ⚠️ derived_ranges: /80 = 8 grades, /150 = 15, /160 = 16, each 0–10. A scale with a
    # total of its own is not converted; /160 has none, so right side 61/80 → /160 adds 8 grades
    # (61..141) and 140/150 adds 1 (140..150).
    f = RecordFacts(rec, as_of=AS_OF)
    assert [o.value for o in f.get("visit.mmt8_80") or ()] == [61]
    assert [o.value for o in f.get("visit.mmt8_150") or ()] == [140]
    assert [o.value for o in f.get("visit.mmt8_160") or ()] == [NumRange(61, 141), NumRange(140, 150)]
    assert all("mmt8_scale_conversion" in (o.note or "") for o in f.get("visit.mmt8_160") or ())
    assert [(o.value, str(o.date)) for o in f.get("visit.haq_di") or ()] == [
        (1.0, "2024-01-01"),
        (0.5, "2024-04-01"),
    ]
    assert [o.value for o in f.get("visit.mmt8_min_proximal_grade") or ()] == [5]
    enz = f.get("visit.muscle_enzyme_fold") or ()
    assert [o.value for o in enz] == [
        20
    ]  # CK 4000/200 beats aldolase 38/7.6 = 5; CK 12 days off the 2nd visit
    assert enz[0].note and "CK from 2024-01-02, 1 day after the visit" in enz[0].note
