"""Screener scenarios: every level and every trigger, with the expected level typed in from the
rules' sources (seed 'Who Should Seek Diagnostic Testing', trials.md §5, clinical.md §6) and the
documented urgency choices in screener.yaml — not computed with the code under test."""

from __future__ import annotations

from typing import Any

import pytest

from imnm.screen.answers import parse_answers
from imnm.screen.screener import ScreenResult, load_screener, screen

ALL_NO: dict[str, Any] = {
    "age": 50,
    "trouble_climbing_stairs": False,
    "trouble_rising_from_chair": False,
    "trouble_lifting_arms_overhead": False,
    "trouble_getting_up_after_fall": False,
    "weakness_both_sides": False,
    "onset": "dont_know",
    "trouble_swallowing": False,
    "choking": False,
    "short_of_breath": False,
    "chronic_dry_cough": False,
    "muscle_pain": False,
    "dark_urine": False,
    "rash_eyelids_or_knuckles": False,
    "statin": "never",
    "red_yeast_rice": "never",
    "oyster_mushrooms": "never",
    "known_high_ck": False,
    "family_history_muscle_disease": False,
}
WEAK = {"trouble_climbing_stairs": True, "trouble_rising_from_chair": True}


def answered(**changes: Any) -> dict[str, Any]:
    """A fully answered adult with nothing wrong, changed as given."""
    return {**ALL_NO, **changes}


def run(data: dict[str, Any], **kw: str) -> ScreenResult:
    return screen(parse_answers(data), **kw)


def reason_ids(res: ScreenResult) -> set[str]:
    return {r.id for r in res.reasons}


# (name, answers, expected level, triggers that must be among the reasons)
SCENARIOS: list[tuple[str, dict[str, Any], str, set[str]]] = [
    (
        "weakness with shortness of breath",
        answered(**WEAK, short_of_breath=True),
        "urgent",
        {"weakness_with_breathing_trouble", "short_of_breath", "weakness"},
    ),
    (
        "swallowing trouble with choking, no weakness",
        answered(trouble_swallowing=True, choking=True),
        "urgent",
        {"swallowing_with_choking", "trouble_swallowing"},
    ),
    (
        "weakness that came on over days",
        answered(**WEAK, weakness_both_sides=True, onset="days"),
        "urgent",
        {"weakness_over_days"},
    ),
    (
        "dark urine with muscle pain",
        answered(dark_urine=True, muscle_pain=True),
        "urgent",
        {"dark_urine_with_muscle_trouble", "dark_urine", "muscle_pain"},
    ),
    (
        "dark urine with weakness",
        answered(dark_urine=True, trouble_lifting_arms_overhead=True),
        "urgent",
        {"dark_urine_with_muscle_trouble"},
    ),
    (
        "typical: both sides over months",
        answered(**WEAK, weakness_both_sides=True, onset="months"),
        "soon",
        {"typical_pattern", "weakness"},
    ),
    (
        "typical: both sides over weeks, only trouble after a fall",
        answered(trouble_getting_up_after_fall=True, weakness_both_sides=True, onset="weeks"),
        "soon",
        {"typical_pattern", "weakness"},
    ),
    (
        "weakness on one side over weeks",
        answered(**WEAK, weakness_both_sides=False, onset="weeks"),
        "soon",
        {"weakness"},
    ),
    ("weakness over years", answered(**WEAK, weakness_both_sides=True, onset="years"), "soon", {"weakness"}),
    (
        "weakness on a past statin",
        answered(**WEAK, weakness_both_sides=True, onset="months", statin="past"),
        "soon",
        {"weakness_with_statin", "typical_pattern"},
    ),
    (
        "weakness with red yeast rice",
        answered(**WEAK, weakness_both_sides=True, onset="months", red_yeast_rice="current"),
        "soon",
        {"weakness_with_natural_statin"},
    ),
    (
        "weakness with oyster mushrooms",
        answered(
            trouble_climbing_stairs=True, weakness_both_sides=True, onset="weeks", oyster_mushrooms="past"
        ),
        "soon",
        {"weakness_with_natural_statin"},
    ),
    (
        "swallowing trouble without choking",
        answered(trouble_swallowing=True, choking=False),
        "soon",
        {"trouble_swallowing"},
    ),
    ("shortness of breath alone", answered(short_of_breath=True), "soon", {"short_of_breath"}),
    (
        "CK 4000 U/L found by chance",
        answered(known_high_ck=True, ck_value=4000),
        "soon",
        {"ck_over_1000", "high_ck"},
    ),
    ("CK 1001 U/L (just over 1000)", answered(known_high_ck=True, ck_value=1001), "soon", {"ck_over_1000"}),
    ("dark urine alone", answered(dark_urine=True), "soon", {"dark_urine"}),
    (
        "high CK 400 U/L by chance, no weakness",
        answered(known_high_ck=True, ck_value=400),
        "routine",
        {"high_ck"},
    ),
    (
        "CK exactly 1000 U/L is not over 1000",
        answered(known_high_ck=True, ck_value=1000),
        "routine",
        {"high_ck"},
    ),
    (
        "muscle pain on a statin, no weakness",
        answered(muscle_pain=True, statin="current"),
        "routine",
        {"muscle_pain_on_statin", "muscle_pain"},
    ),
    ("muscle pain alone", answered(muscle_pain=True), "routine", {"muscle_pain"}),
    ("chronic dry cough alone", answered(chronic_dry_cough=True), "routine", {"chronic_dry_cough"}),
    ("rash on eyelids or knuckles alone", answered(rash_eyelids_or_knuckles=True), "routine", {"rash"}),
    ("everything no", answered(), "none", set()),
    ("statin alone, no symptoms", answered(statin="current"), "none", set()),
]


@pytest.mark.parametrize(("name", "data", "level", "must"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_scenario(name: str, data: dict[str, Any], level: str, must: set[str]) -> None:
    res = run(data)
    assert res.level == level, (name, res.level, reason_ids(res))
    assert must <= reason_ids(res), (name, reason_ids(res))
    assert not res.floored
    if level == "none":
        assert not res.reasons and not res.unanswered and res.possible_level is None
        d = res.as_dict()
        assert d["tests_to_expect"] == [] and d["specialists"] == []


def test_the_scenarios_cover_every_trigger_and_every_level() -> None:
    s = load_screener()
    covered = set().union(*(must for *_, must in SCENARIOS))
    assert {t.id for t in s.triggers} <= covered
    assert {lvl for _, _, lvl, _ in SCENARIOS} == {"urgent", "soon", "routine", "none"}


def test_issue_example_answers_file_shape() -> None:
    """The answers shape from the issue: soon (typical pattern on a statin); dark urine could raise it."""
    res = run(
        {
            "age": 58,
            "trouble_climbing_stairs": True,
            "trouble_rising_from_chair": True,
            "trouble_lifting_arms_overhead": True,
            "trouble_getting_up_after_fall": "dont_know",
            "weakness_both_sides": True,
            "onset": "weeks",
            "trouble_swallowing": False,
            "short_of_breath": False,
            "chronic_dry_cough": False,
            "statin": "current",
            "known_high_ck": "dont_know",
        }
    )
    assert res.level == "soon"
    assert {"typical_pattern", "weakness", "weakness_with_statin"} <= reason_ids(res)
    assert res.possible_level == "urgent"  # dark urine with weakness is still open
    assert ("dark_urine", "urgent") in res.unanswered
    assert "choking" not in dict(res.unanswered)  # swallowing is no: choking no longer matters
    assert "never_stop_medicine" in {n.id for n in res.notes}
    typical = next(r for r in res.reasons if r.id == "typical_pattern")
    assert dict(typical.answers) == {
        "trouble_climbing_stairs": "yes",
        "trouble_rising_from_chair": "yes",
        "trouble_lifting_arms_overhead": "yes",
        "weakness_both_sides": "yes",
        "onset": "over weeks",
    }


def test_all_dont_know_is_never_none() -> None:
    res = run({})
    assert res.level == "routine" and res.floored
    assert res.possible_level == "urgent"
    assert "unknown_answers" in reason_ids(res)
    open_questions = dict(res.unanswered)
    for q in ("trouble_climbing_stairs", "short_of_breath", "trouble_swallowing", "choking", "onset"):
        assert open_questions[q] == "urgent"
    assert open_questions["weakness_both_sides"] == "soon"
    assert open_questions["chronic_dry_cough"] == "routine"
    assert "age" not in open_questions and "family_history_muscle_disease" not in open_questions
    d = res.as_dict()
    assert d["tests_to_expect"] and d["specialists"]  # told to see a doctor and what to expect
    every_dont_know = {q: "dont_know" for q in ALL_NO}
    assert run(every_dont_know).level == "routine"


def test_all_dont_know_with_the_cautious_policy_is_urgent() -> None:
    res = run({}, unknown_policy="highest_possible")
    assert res.level == "urgent" and res.floored and res.possible_level is None


def test_one_dont_know_that_matters_keeps_the_level_above_none() -> None:
    res = run(answered(dark_urine="dont_know"))
    assert res.level == "routine" and res.floored
    assert res.possible_level == "soon"
    assert res.unanswered == (("dark_urine", "soon"),)


def test_dont_know_that_does_not_matter_gives_none() -> None:
    res = run(answered(age="dont_know", family_history_muscle_disease="dont_know"))
    assert res.level == "none" and not res.unanswered


def test_weakness_with_unknown_tempo_names_the_tempo_question() -> None:
    res = run(answered(**WEAK, weakness_both_sides=True, onset="dont_know"))
    assert res.level == "soon" and not res.floored
    assert dict(res.unanswered)["onset"] == "urgent"
    assert res.possible_level == "urgent"


def test_high_ck_with_unknown_value_names_the_value_question() -> None:
    res = run(answered(known_high_ck=True))
    assert res.level == "routine"
    assert res.unanswered == (("ck_value", "soon"),)


def test_child_whose_weakness_came_on_over_months_gets_the_dystrophy_note() -> None:
    res = run(answered(age=9, trouble_getting_up_after_fall=True, weakness_both_sides=True, onset="months"))
    assert res.level == "soon" and res.child
    notes = {n.id: n.text for n in res.notes}
    assert "muscular dystrophy" in notes["child"]
    reason = next(r for r in res.reasons if r.id == "weakness")
    assert (
        reason.as_dict(load_screener(), res.child)["answers"][0]["label"]
        == "trouble getting up from the floor"
    )


def test_adult_and_child_without_weakness_get_no_dystrophy_note() -> None:
    assert "child" not in {n.id for n in run(answered(**WEAK, onset="months", age=45)).notes}
    assert "child" not in {n.id for n in run(answered(age=9)).notes}


def test_age_note_is_always_shown_and_slow_onset_note_for_years() -> None:
    assert "age" in {n.id for n in run(answered()).notes}
    assert "emergency" in {n.id for n in run({}).notes}
    assert "slow_onset" in {n.id for n in run(answered(**WEAK, onset="years")).notes}


def test_statin_and_natural_statin_notes_never_say_stop() -> None:
    res = run(answered(muscle_pain=True, statin="current", red_yeast_rice="past"))
    notes = {n.id: n.text for n in res.notes}
    assert notes["never_stop_medicine"].startswith("Never stop a medicine")
    assert "natural_statin" in notes
    s = load_screener()
    texts = (
        [t.reason for t in s.triggers] + [n.text for n in s.notes] + [lv.advice for lv in s.levels.values()]
    )
    for text in texts:
        lowered = text.lower()
        assert (
            "stop taking" not in lowered and "stop your" not in lowered and "stop the statin" not in lowered
        )


def test_family_history_and_rash_notes() -> None:
    notes = {
        n.id for n in run(answered(family_history_muscle_disease=True, rash_eyelids_or_knuckles=True)).notes
    }
    assert {"family_history", "rash"} <= notes


def test_urgent_flags_choice_counts_them_as_soon() -> None:
    data = answered(**WEAK, short_of_breath=True)
    assert run(data).level == "urgent"
    res = run(data, urgent_flags="within_weeks")
    assert res.level == "soon"
    assert next(r for r in res.reasons if r.id == "weakness_with_breathing_trouble").level == "soon"


def test_a_bad_choice_is_a_clear_error() -> None:
    from imnm.errors import InputError

    with pytest.raises(InputError) as exc:
        run({}, unknown_policy="maybe")
    assert exc.value.problems[0].path == "unknown-policy"
    assert "at_least_routine" in (exc.value.problems[0].fix or "")
