"""Invariants of the screener over random answers (hypothesis), and checks of its knowledge table."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imnm import knowledge
from imnm.errors import KnowledgeError
from imnm.screen.answers import EXPOSURE_VALUES, ONSET_VALUES, QUESTION_IDS, parse_answers
from imnm.screen.interview import Confirm, parse_reply
from imnm.screen.screener import build_screener, load_screener, screen, should_ask
from tests.conftest import AS_OF

RANK = {"none": 0, "routine": 1, "soon": 2, "urgent": 3}
DK = "dont_know"


def _answer(qid: str) -> st.SearchStrategy[Any]:
    if qid == "age":
        return st.one_of(st.just(DK), st.integers(0, 120))
    if qid == "ck_value":
        return st.one_of(st.just(DK), st.sampled_from([150, 400, 1000, 1001, 8000]))
    if qid == "onset":
        return st.sampled_from([DK, *ONSET_VALUES])
    if qid in ("statin", "red_yeast_rice", "oyster_mushrooms"):
        return st.sampled_from([DK, *EXPOSURE_VALUES])
    if qid == "answering_for":
        return st.sampled_from([DK, "self", "someone_else"])
    return st.sampled_from([DK, True, False])


def _consistent(data: dict[str, Any]) -> dict[str, Any]:
    """Drop a CK value over 1000 U/L unless known_high_ck is yes (such answers are refused)."""
    ck = data.get("ck_value", DK)
    if ck != DK and ck > 1000 and data.get("known_high_ck") is not True:
        return {k: v for k, v in data.items() if k != "ck_value"}
    return data


answer_sets = st.fixed_dictionaries({}, optional={q: _answer(q) for q in QUESTION_IDS}).map(_consistent)


@st.composite
def answers_and_a_refinement(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """Answers, and the same answers with some don't-knows answered."""
    base = draw(answer_sets)
    refined = dict(base)
    for q in QUESTION_IDS:
        if base.get(q, DK) == DK and draw(st.booleans()):
            value = draw(_answer(q))
            if value != DK and _consistent({**refined, q: value}) == {**refined, q: value}:
                refined[q] = value
    return base, refined


@given(answer_sets)
def test_none_only_when_nothing_that_matters_is_unknown(data: dict[str, Any]) -> None:
    res = screen(parse_answers(data))
    if res.level == "none":
        assert not res.unanswered and res.possible_level is None
    if res.unanswered and not any(r.id != "unknown_answers" for r in res.reasons):
        assert res.level != "none"
    for qid, _ in res.unanswered:  # only don't-know questions are listed as open
        assert res.answers.value(qid) is None


@given(answers_and_a_refinement())
def test_answering_a_dont_know_stays_between_the_level_and_the_possible_level(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    base, refined = (screen(parse_answers(d)) for d in pair)
    ceiling = max(RANK[base.level], RANK[base.possible_level or "none"])
    assert RANK[refined.level] <= ceiling
    if not base.floored:  # a met trigger stays met when don't-knows are answered (Kleene monotone)
        assert RANK[refined.level] >= RANK[base.level]


@given(answer_sets)
def test_every_level_is_explained(data: dict[str, Any]) -> None:
    res = screen(parse_answers(data))
    if res.level != "none":
        assert any(r.level == res.level for r in res.reasons)
    d = res.as_dict()
    assert d["level"] in RANK and {"reasons", "tests_to_expect", "specialists", "notes"} <= set(d)


@given(answer_sets)
def test_skipped_questions_never_matter(data: dict[str, Any]) -> None:
    """A question the interview skips because its condition is NOT met is never an open question.

    (A question skipped because its condition is only unknown, like the CK number when the person
    does not know whether a CK was high, can still be listed: it is skipped as unanswerable.)
    """
    from imnm.core.evaluate import evaluate
    from imnm.core.truth import Truth
    from imnm.screen.screener import AnswersFacts

    s = load_screener()
    answers = parse_answers(data)
    res = screen(answers)
    for q in s.questions:
        if should_ask(q, answers, s):
            continue
        assert q.ask_if is not None
        truth = evaluate(q.ask_if, AnswersFacts(answers), as_of=AS_OF, registry=s.registry).truth
        if truth is Truth.NOT_MET:
            assert q.id not in dict(res.unanswered)
        else:
            assert truth is Truth.UNKNOWN and not q.ask_if_unknown


def test_parse_reply() -> None:
    q = load_screener().questions_by_id
    texts = load_screener().texts
    assert parse_reply(q["dark_urine"], " Y ", texts) is True
    assert parse_reply(q["dark_urine"], "no", texts) is False
    assert parse_reply(q["dark_urine"], "", texts) is None
    assert parse_reply(q["onset"], "3", texts) == "months"
    assert parse_reply(q["onset"], "years", texts) == "years"
    confirm = parse_reply(q["ck_value"], "12,500", texts)  # read back, never used unconfirmed
    assert isinstance(confirm, Confirm) and confirm.if_yes == 12500.0 and "12500" in confirm.prompt
    for qid, reply in (("dark_urine", "maybe"), ("onset", "9"), ("age", "old"), ("age", "200")):
        with pytest.raises(ValueError):
            parse_reply(q[qid], reply, texts)


# ---------------------------------------------------------------- the knowledge table


def test_every_trigger_and_note_has_a_source_and_urgent_ones_are_a_choice() -> None:
    s = load_screener()
    for t in s.triggers:
        assert t.source.strip(), t.id
        if t.level == "urgent":
            assert t.choice == "urgent_flags" and t.mark == "⚠️", t.id
    assert all(n.source.strip() for n in s.notes)
    assert all(q.source.strip() for q in s.questions)
    assert knowledge.load("screener")["source"]["mark"] in knowledge.MARKS
    assert [q.id for q in s.questions] == list(QUESTION_IDS)


def test_a_rule_that_does_not_fit_the_answers_is_refused() -> None:
    data = copy.deepcopy(knowledge.load("screener"))
    data["triggers"][0]["rule"] = {"is_true": "answer.short_of_breth"}
    data["notes"][2]["when"] = {"compare": {"fact": "answer.onset", "op": "==", "value": "hours"}}
    data["questions"][1]["ask_if"] = {"is_true": "answer.dark_urine"}  # a later question
    with pytest.raises(KnowledgeError) as exc:
        build_screener(data, knowledge.load("tests")["tests"])
    text = "\n".join(str(p) for p in exc.value.problems)
    assert "unknown fact 'answer.short_of_breth'" in text and "answer.short_of_breath" in text
    assert "hours" in text
    assert "ask_if may only use earlier questions" in text
