"""Carers, children and what the interview accepts (issue 9 items 5, 19, 20, 22), without a terminal.

Expected wordings and values are written by hand."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imnm.cli.screen import check_save_path
from imnm.errors import InputError, RecordError
from imnm.render.screen import render_text
from imnm.screen.answers import parse_answers
from imnm.screen.interview import Back, Confirm, interview, parse_reply
from imnm.screen.screener import load_screener, screen

S = load_screener()
Q = S.questions_by_id
T = S.texts
YOU = re.compile(r"\byou\b|\byour\b", re.I)


def test_a_carer_is_asked_about_the_person_and_a_childs_carer_about_your_child() -> None:
    for q in S.questions:
        if q.id == "answering_for":
            continue
        assert not YOU.search(q.wording(child=False, carer=True)), q.id
        child = q.wording(child=True, carer=True)
        assert not YOU.search(child.replace("your child", "")), q.id
    assert "your child" in Q["trouble_climbing_stairs"].wording(child=True, carer=True)
    assert "the person" in Q["short_of_breath"].wording(child=False, carer=True)
    assert (
        Q["trouble_getting_up_after_fall"].wording(child=True, carer=False)
        == "Is it hard for you to get up from the floor?"
    )


def test_adult_exposure_questions_are_adapted_for_a_child() -> None:
    assert "health food" in Q["red_yeast_rice"].wording(child=True, carer=True)
    assert "your child" in Q["statin"].wording(child=True, carer=True)


WEAK = {"trouble_climbing_stairs": True, "trouble_rising_from_chair": True}


def test_a_child_is_pointed_to_paediatric_specialists() -> None:
    child = screen(parse_answers({"answering_for": "someone_else", "age": 9, **WEAK}))
    names = {sp["id"] for sp in child.as_dict(S)["specialists"]}
    assert {"paediatric_rheumatology", "paediatric_neuromuscular"} <= names
    assert not {"rheumatology", "neuromuscular_neurology"} & names
    text = render_text(child, S)
    assert "paediatric rheumatologist" in text and "paediatric neuromuscular clinic" in text
    adult = screen(parse_answers({"age": 50, **WEAK}))
    assert {sp["id"] for sp in adult.as_dict(S)["specialists"]} >= {"rheumatology", "neuromuscular_neurology"}
    assert "paediatric" not in render_text(adult, S)


def test_urgent_advice_is_the_first_line_and_lower_reasons_are_not_advice() -> None:
    res = screen(parse_answers({**WEAK, "short_of_breath": True, "trouble_swallowing": True}))
    assert res.level == "urgent"
    lines = render_text(res, S).splitlines()
    assert lines[0].startswith("URGENT: Get medical care today")
    text = "\n".join(lines)
    assert "A doctor should check this soon" not in text  # the 'soon' reason's advice
    assert "It is hard for you to swallow. This disease" not in text
    assert "Other answers that matter:" in text and "trouble swallowing: yes" in text


def test_a_carer_gets_a_note_on_who_you_means() -> None:
    res = screen(parse_answers({"answering_for": "someone_else", **WEAK}))
    assert T["carer_note"] in render_text(res, S)
    assert res.as_dict(S)["answered_by"] == "someone_else"


@pytest.mark.parametrize(
    ("reply", "value"),
    [
        ("y", True),
        ("Yes", True),
        (" YEAH ", True),
        ("yep", True),
        ("n", False),
        ("No", False),
        ("nope", False),
        ("?", None),
        ("", None),
        ("Don't know", None),
        ("don’t know", None),
        ("dk", None),
        ("dont know", None),
        ("Not sure", None),
    ],
)
def test_typed_forms_of_yes_no_and_dont_know(reply: str, value: bool | None) -> None:
    assert parse_reply(Q["dark_urine"], reply, T) is value


def test_a_wrong_reply_says_what_is_accepted() -> None:
    with pytest.raises(ValueError) as info:
        parse_reply(Q["dark_urine"], "perhaps", T)
    assert "y" in str(info.value) and "?" in str(info.value)
    with pytest.raises(Back):
        parse_reply(Q["dark_urine"], " Back ", T)


@pytest.mark.parametrize(
    ("reply", "value", "confirm"),
    [
        ("15000", 15000.0, False),
        ("15000 U/L", 15000.0, False),
        ("15000u/l", 15000.0, False),
        ("9.000", 9000.0, True),
        ("9,000", 9000.0, True),
        ("9 000", 9000.0, True),
        ("1.234.567", None, None),  # out of range (max 1 000 000 U/L)
        ("7.5", 7.5, False),
    ],
)
def test_numbers_are_read_back_when_a_separator_is_ambiguous(
    reply: str, value: float | None, confirm: bool | None
) -> None:
    if value is None:
        with pytest.raises(ValueError):
            parse_reply(Q["ck_value"], reply, T)
        return
    got = parse_reply(Q["ck_value"], reply, T)
    if confirm:
        assert isinstance(got, Confirm) and got.if_yes == value and f"{value:g}" in got.prompt
    else:
        assert got == value


def test_another_unit_is_not_silently_taken() -> None:
    with pytest.raises(ValueError) as info:
        parse_reply(Q["ck_value"], "250 ukat/L", T)
    assert "U/L" in str(info.value)
    assert parse_reply(Q["age"], "58 years", T) == 58.0


def test_statin_names_and_yes_ask_whether_it_is_taken_now() -> None:
    for reply in ("atorvastatin", "Rosuvastatin", "yes"):
        got = parse_reply(Q["statin"], reply, T)
        assert isinstance(got, Confirm) and (got.if_yes, got.if_no) == ("current", "past")
    assert parse_reply(Q["statin"], "no", T) == "never"
    with pytest.raises(ValueError):
        parse_reply(Q["red_yeast_rice"], "atorvastatin", T)


def test_back_recomputes_the_skip_logic() -> None:
    replies = iter(["1", "40", "y", "back", "n", "n", "n", "n"] + [""] * 40)
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        return next(replies)

    answers, asked = interview(read, lambda _: None)
    # stairs was changed from yes to no, so "both sides" and "how fast" are not asked any more
    assert answers.trouble_climbing_stairs is False
    assert "weakness_both_sides" not in asked and "onset" not in asked
    assert asked[:6] == (
        "answering_for",
        "age",
        "trouble_climbing_stairs",
        "trouble_rising_from_chair",
        "trouble_lifting_arms_overhead",
        "trouble_getting_up_after_fall",
    )


def test_many_wrong_answers_never_end_the_interview() -> None:
    replies = iter(["x"] * 12 + ["1"] + [""] * 40)
    said: list[str] = []
    answers, _ = interview(lambda _: next(replies), said.append)
    assert answers.answering_for == "self" and sum("Please type one of" in s for s in said) == 12


def test_save_path_checks(tmp_path: Path) -> None:
    assert check_save_path(tmp_path / "a.yaml", overwrite=False) == tmp_path / "a.yaml"
    for bad, needle in (
        (tmp_path, "is a folder"),
        (tmp_path / "nope" / "a.yaml", "does not exist"),
        (tmp_path / "a.json", "not a .yaml"),
    ):
        with pytest.raises(InputError) as info:
            check_save_path(bad, overwrite=False)
        assert needle in info.value.problems[0].message and info.value.problems[0].path == "--save"
    (tmp_path / "b.yaml").write_text("age: 3\n")
    with pytest.raises(InputError):
        check_save_path(tmp_path / "b.yaml", overwrite=False)
    assert check_save_path(tmp_path / "b.yaml", overwrite=True)


def test_statin_yes_in_an_answers_file_lists_the_allowed_answers() -> None:
    with pytest.raises(RecordError) as info:
        parse_answers({"statin": True})  # `statin: yes` in YAML
    (p,) = info.value.problems
    assert "yes is not an answer to this question" in p.message
    assert "current, past, never or dont_know" in (p.fix or "")
