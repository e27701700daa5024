"""The answers file: exactly yes / no (YAML 1.1 booleans) / dont_know; clear errors for anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from imnm.errors import RecordError
from imnm.io.yaml import load_yaml_text
from imnm.screen.answers import QUESTION_IDS, Answers, dump_answers, load_answers, parse_answers
from tests.conftest import EXAMPLES

ISSUE_SHAPE = """\
age: 58
trouble_climbing_stairs: yes
trouble_rising_from_chair: yes
trouble_lifting_arms_overhead: yes
trouble_getting_up_after_fall: dont_know
weakness_both_sides: yes
onset: weeks                 # days | weeks | months | years | dont_know
trouble_swallowing: no
short_of_breath: no
chronic_dry_cough: no
statin: current              # current | past | never | dont_know
known_high_ck: dont_know
"""


def problems(data: object) -> list[tuple[str, str, str]]:
    with pytest.raises(RecordError) as exc:
        parse_answers(data, file="a.yaml")
    return [(p.path, p.message, p.fix or "") for p in exc.value.problems]


def test_the_issue_shape_loads_as_written() -> None:
    a = parse_answers(load_yaml_text(ISSUE_SHAPE))
    assert a.age == 58.0
    assert a.trouble_climbing_stairs is True and a.trouble_swallowing is False
    assert a.trouble_getting_up_after_fall is None  # dont_know
    assert a.onset == "weeks" and a.statin == "current" and a.known_high_ck is None
    assert a.muscle_pain is None  # unanswered = don't know


def test_example_file_loads() -> None:
    a = load_answers(EXAMPLES / "screener" / "answers.yaml")
    assert a.weakness_both_sides is True


def test_null_and_empty_mean_dont_know() -> None:
    assert parse_answers(None) == Answers()
    assert parse_answers({"dark_urine": None, "age": "dont_know", "onset": None}) == Answers()


@pytest.mark.parametrize("value", ["maybe", 1, 0, "sometimes", [], {"a": 1}])
def test_anything_else_for_a_yes_no_question_names_the_question_value_and_answers(value: object) -> None:
    [(path, message, fix)] = problems({"trouble_climbing_stairs": value})
    assert path == "trouble_climbing_stairs"
    assert repr(value) in message and "Is it hard to climb stairs?" in message
    assert "yes, no or dont_know" in fix


def test_quoted_yes_is_refused_with_a_fix() -> None:
    [(path, message, fix)] = problems({"short_of_breath": "yes"})
    assert path == "short_of_breath" and "written as text" in message and "without quotes" in fix
    [(_, _, fix)] = problems({"short_of_breath": "don't know"})
    assert "dont_know" in fix


def test_numbers_are_strict_and_in_range() -> None:
    found = problems({"age": "58", "ck_value": -5, "onset": "quickly", "statin": True})
    by_path = {p: (m, f) for p, m, f in found}
    assert "not a number" in by_path["age"][0] and "no quotes" in by_path["age"][1]
    assert "out of range" in by_path["ck_value"][0]
    assert "days, weeks, months, years or dont_know" in by_path["onset"][1]
    assert "current, past, never or dont_know" in by_path["statin"][1]
    assert problems({"age": True})[0][0] == "age"
    assert problems({"age": 130})[0][1].startswith("130 is out of range")


def test_unknown_question_gets_a_did_you_mean() -> None:
    [(path, message, fix)] = problems({"statn": "current"})
    assert path == "statn" and "unknown field" in message and "statin" in fix


def test_not_a_mapping() -> None:
    [(path, message, _)] = problems(["yes"])
    assert path == "" and "mapping" in message


def test_every_problem_is_reported_at_once() -> None:
    assert len(problems({"age": "x", "dark_urine": "x", "onset": "x"})) == 3


def test_dump_round_trips(tmp_path: Path) -> None:
    a = parse_answers(
        load_yaml_text(ISSUE_SHAPE) | {"known_high_ck": True, "ck_value": 4500, "muscle_pain": False}
    )
    f = tmp_path / "saved.yaml"
    f.write_text(dump_answers(a))
    assert load_answers(f) == a
    asked = ("age", "onset", "trouble_getting_up_after_fall")
    text = dump_answers(a, asked=asked)
    assert "trouble_getting_up_after_fall: dont_know" in text and "statin" not in text
    assert set(load_yaml_text(text)) == set(asked)


def test_question_ids_are_the_model_fields() -> None:
    assert (
        QUESTION_IDS[:2] == ("answering_for", "age")
        and "ck_value" in QUESTION_IDS
        and len(QUESTION_IDS) == 21
    )


def test_a_high_ck_value_without_known_high_ck_is_refused() -> None:
    [(path, message, fix)] = problems({"ck_value": 5000, "known_high_ck": False})
    assert path == "" and "5000 U/L is high" in message and "known_high_ck: yes" in fix
    assert problems({"ck_value": 5000})  # don't know is not yes either
    assert parse_answers({"ck_value": 150, "known_high_ck": False}).ck_value == 150.0
    assert parse_answers({"ck_value": 5000, "known_high_ck": True}).ck_value == 5000.0
