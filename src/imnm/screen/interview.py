"""The interview: ask the screener's questions one at a time, skipping ones that no longer matter.

I/O is passed in (`read` returns one line, `write` shows text), so the flow is tested with
scripted answers. Input: `y` / `n` for yes/no, a number or a listed choice, and an empty line
(or `?`) for "don't know". A reply that does not fit is explained and the question asked again.
"""

from __future__ import annotations

from collections.abc import Callable

from imnm.errors import InputError, Problem
from imnm.screen.answers import DONT_KNOW, Answers, parse_answers
from imnm.screen.screener import Question, Screener, load_screener, should_ask

_DONT_KNOW_REPLIES = {"", "?", "d", "dk", "dont know", "don't know", "dont_know", "not sure", "unknown"}
_YES = {"y", "yes"}
_NO = {"n", "no"}
MAX_TRIES = 5


def _hint(q: Question, texts: dict[str, str]) -> str:
    if q.kind == "yes_no":
        return texts["hint_yes_no"]
    if q.kind == "number":
        return texts["hint_number"]
    opts = " / ".join(f"{i}={q.value_text.get(v, v)}" for i, v in enumerate(q.values, start=1))
    return f"[{opts} {texts['hint_choice_end']}"


def parse_reply(q: Question, reply: str, texts: dict[str, str]) -> bool | float | str | None:
    """One typed reply as an answer value (None = don't know); ValueError when it does not fit."""
    text = reply.strip().lower()
    if text in _DONT_KNOW_REPLIES:
        return None
    if q.kind == "yes_no":
        if text in _YES:
            return True
        if text in _NO:
            return False
        raise ValueError(texts["retry_yes_no"])
    if q.kind == "number":
        try:
            value = float(text.replace(",", ""))
        except ValueError:
            raise ValueError(texts["retry_number"]) from None
        if (q.lo is not None and value < q.lo) or (q.hi is not None and value > q.hi):
            raise ValueError(texts["retry_range"])
        return value
    for i, v in enumerate(q.values, start=1):
        if text in (str(i), v, q.value_text.get(v, v).lower()):
            return v
    raise ValueError(texts["retry_choice"])


def interview(
    read: Callable[[str], str],
    write: Callable[[str], None],
    *,
    screener: Screener | None = None,
) -> tuple[Answers, tuple[str, ...]]:
    """Ask every question that still matters; return the answers and the ids of the questions asked.

    `read(prompt)` returns the reply (raising EOFError when input ends).
    """
    s = screener or load_screener()
    data: dict[str, object] = {}
    asked: list[str] = []
    write(s.texts["interview_intro"])
    for q in s.questions:
        current = parse_answers(data)
        if not should_ask(q, current, s):
            continue
        child = current.age is not None and current.age < 18
        for _ in range(MAX_TRIES):
            try:
                reply = read(f"{q.wording(child)} {_hint(q, s.texts)} ")
            except EOFError:
                raise InputError(
                    [
                        Problem(
                            q.id,
                            "the input ended before this question was answered",
                            "answer every question, or give an answers file: imnm screen answers.yaml",
                        )
                    ],
                    what="interview",
                ) from None
            try:
                value = parse_reply(q, reply, s.texts)
            except ValueError as exc:
                write(f"  {exc}")
                continue
            data[q.id] = DONT_KNOW if value is None else value
            asked.append(q.id)
            break
        else:
            raise InputError(
                [Problem(q.id, f"no usable answer after {MAX_TRIES} tries", _hint(q, s.texts))],
                what="interview",
            )
    return parse_answers(data), tuple(asked)
