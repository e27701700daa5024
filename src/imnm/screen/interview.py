"""The interview: ask the screener's questions one at a time, skipping ones that no longer matter.

I/O is passed in (`read` returns one line, `write` shows text), so the flow is tested with
scripted answers and, end to end, through a pseudo-terminal (tests/screen/test_interview_pty.py).

What a person can type (case and spaces do not matter):

- yes / no: `y`, `yes`, `yeah`, `yep`, `n`, `no`, `nope`, and for "don't know" an empty line, `?`,
  `dk`, `don't know`, `dont know`, `not sure`. Anything else is answered with what is accepted,
  and the question is asked again, as often as needed (wrong answers never end the interview).
- `back` goes to the previous question (its answer is cleared; which questions follow is worked
  out again from the answers).
- numbers: `58`, `7.5`, `15000 U/L` (the question's own unit is dropped). A number written with
  a separator that could mean thousands or decimals (`9.000`, `9,000`, `9,5`, `9 000`) is read
  back ("Did you mean 9000?") and only used after a yes; it is never read silently as 9.
- choices: the number shown, or the words (`weeks`, `over weeks`). The statin question also takes
  `yes` (then: now or in the past?) or a statin's name, such as `atorvastatin` (any statin in
  `knowledge/data/medications.yaml`), followed by the same question.

Ctrl-C raises `Interrupted` with the answers so far, so the caller can offer to save them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from imnm.errors import InputError, Problem
from imnm.screen.answers import DONT_KNOW, Answers, parse_answers
from imnm.screen.screener import CHILD_AGE, Question, Screener, load_screener, should_ask

_DONT_KNOW = {
    "",
    "?",
    "d",
    "dk",
    "idk",
    "dont know",
    "don't know",
    "do not know",
    "dont_know",
    "not sure",
    "unsure",
    "unknown",
    "no idea",
}
_YES = {"y", "yes", "yeah", "yep", "yup", "yea", "ye", "true"}
_NO = {"n", "no", "nope", "nah", "false"}
_BACK_WORDS = {"back", "go back", "previous", "prev"}
_UNITS = {"U/L": r"(?:i?u\s*/\s*l)", "years": r"(?:years?\s*old|years?|yrs?|y)"}


class Back(Exception):
    """The person typed `back`."""


class Interrupted(Exception):
    """Ctrl-C during the interview: the answers so far, and the ids of the questions they answer."""

    def __init__(self, answers: Answers, asked: tuple[str, ...], at: str) -> None:
        super().__init__(f"interrupted at {at}")
        self.answers = answers
        self.asked = asked
        self.at = at


@dataclass(frozen=True)
class Confirm:
    """A reply that needs a yes or no before it is used ("Did you mean 9000?")."""

    prompt: str
    if_yes: bool | float | str | None
    if_no: bool | float | str | None = None  # None: ask the question again
    again: str = ""  # shown before asking again


def _norm(reply: str) -> str:
    text = reply.strip().lower().replace("’", "'").replace("‘", "'")
    return re.sub(r"\s+", " ", text).rstrip(".!")


def yes_no(reply: str) -> bool | None:
    """True / False / None (don't know); ValueError when it is none of them."""
    text = _norm(reply)
    if text in _DONT_KNOW:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(text)


@cache
def statin_names() -> frozenset[str]:
    """Drug names that mean "a statin" (knowledge/data/medications.yaml, class statin)."""
    from imnm import knowledge

    names = knowledge.load("medications")["classes"]["statin"]["names"]
    return frozenset(str(n).lower() for n in names if str(n).lower() != "statin")


def _hint(q: Question, texts: dict[str, str]) -> str:
    if q.kind == "yes_no":
        return texts["hint_yes_no"]
    if q.kind == "number":
        return texts["hint_number"]
    opts = " / ".join(f"{i}={q.value_text.get(v, v)}" for i, v in enumerate(q.values, start=1))
    return f"[{opts} {texts['hint_choice_end']}"


def _number(q: Question, text: str, texts: dict[str, str]) -> float | Confirm:
    unit = _UNITS.get(q.unit or "")
    if unit:
        text = re.sub(r"\s*" + unit + r"$", "", text, flags=re.I)
    if re.search(r"[a-zµ%/]", text, re.I):
        raise ValueError(
            f"{texts['retry_unit']} ({q.unit})" if q.unit and q.unit != "years" else texts["retry_number_all"]
        )
    t = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", t) and not re.fullmatch(r"\d{1,3}\.\d{3}", t):
        return _in_range(q, float(t), texts)
    grouped = re.fullmatch(r"\d{1,3}(?:([.,  ])\d{3})+", t)
    if grouped and len({c for c in t if not c.isdigit()}) == 1:
        value = float(re.sub(r"\D", "", t))
    elif re.fullmatch(r"\d+,\d+", t):
        value = float(t.replace(",", "."))
    else:
        raise ValueError(texts["retry_number_all"])
    _in_range(q, value, texts)
    shown = f"{value:.10g}"
    return Confirm(
        f"{texts['confirm_number'].replace('this number', shown)}",
        value,
        None,
        texts["retry_number_all"],
    )


def _in_range(q: Question, value: float, texts: dict[str, str]) -> float:
    if (q.lo is not None and value < q.lo) or (q.hi is not None and value > q.hi):
        raise ValueError(texts["retry_range"])
    return value


def parse_reply(
    q: Question, reply: str, texts: dict[str, str], *, carer: bool = False
) -> bool | float | str | Confirm | None:
    """One typed reply as an answer value (None = don't know) or a `Confirm`.

    Raises `Back` for `back`, and `ValueError` (with what is accepted) when the reply does not fit."""
    text = _norm(reply)
    if text in _BACK_WORDS:
        raise Back
    if text in _DONT_KNOW:
        return None
    if q.kind == "yes_no":
        try:
            return yes_no(text)
        except ValueError:
            raise ValueError(texts["retry_yes_no_all"]) from None
    if q.kind == "number":
        return _number(q, text, texts)
    for i, v in enumerate(q.values, start=1):
        if text in (str(i), v, v.replace("_", " "), q.value_text.get(v, v).lower()):
            return v
    if q.id == "answering_for":
        if re.fullmatch(r"(?:for )?(?:me|myself|self)", text):
            return "self"
        if re.search(
            r"someone|other|carer|parent|child|son|daughter|mother|father|wife|husband|partner", text
        ):
            return "someone_else"
    if set(q.values) == {"current", "past", "never"}:
        now = texts["statin_now" if carer else "statin_now_self"]
        if text in _NO:
            return "never"
        if text in _YES or (q.id == "statin" and text in statin_names()):
            return Confirm(now, "current", "past", texts["retry_choice_all"])
    raise ValueError(texts["retry_choice_all"])


def next_question(s: Screener, answers: Answers, start: int = 0) -> int | None:
    """The index of the next question the interview asks, from `start` on, given the answers so far
    (questions that no longer matter are skipped); None when there is none left.

    The one place of the skip logic: the command-line interview and the web screener both use it."""
    for i in range(start, len(s.questions)):
        if should_ask(s.questions[i], answers, s):
            return i
    return None


def questions_left(s: Screener, answers: Answers, start: int) -> int:
    """How many questions from `start` on would be asked with the answers so far (an estimate for a
    progress indicator: later answers can skip more)."""
    return sum(1 for q in s.questions[start:] if should_ask(q, answers, s))


def _prompt(q: Question, s: Screener, child: bool, carer: bool) -> str:
    lines = [q.wording(child, carer)]
    if q.examples:
        lines.append(f"  {s.texts['statin_examples']} {', '.join(q.examples)}.")
    lines.append(_hint(q, s.texts) + " ")
    return "\n".join(lines)


def interview(
    read: Callable[[str], str],
    write: Callable[[str], None],
    *,
    screener: Screener | None = None,
) -> tuple[Answers, tuple[str, ...]]:
    """Ask every question that still matters; return the answers and the ids of the questions asked.

    `read(prompt)` returns the reply (raising EOFError when input ends, KeyboardInterrupt on Ctrl-C).
    """
    s = screener or load_screener()
    questions = s.questions
    data: dict[str, object] = {}
    history: list[int] = []  # indices of the questions answered, in order
    write(s.texts["interview_intro"] + " " + s.texts["hint_back"])
    i = 0

    def asked() -> tuple[str, ...]:
        return tuple(questions[j].id for j in history)

    while True:
        current = parse_answers(data)
        found = next_question(s, current, i)
        if found is None:
            break
        i = found
        q = questions[i]
        child = current.age is not None and current.age < CHILD_AGE
        carer = current.answering_for == "someone_else"
        try:
            value = _ask(q, s, read, write, child=child, carer=carer)
        except KeyboardInterrupt:
            raise Interrupted(parse_answers(data), asked(), q.id) from None
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
        except Back:
            if not history:
                write(f"  {s.texts['first_question']}")
                continue
            i = history.pop()
            data.pop(questions[i].id, None)
            continue
        data[q.id] = DONT_KNOW if value is None else value
        history.append(i)
        i += 1
    return parse_answers(data), asked()


def _ask(
    q: Question,
    s: Screener,
    read: Callable[[str], str],
    write: Callable[[str], None],
    *,
    child: bool,
    carer: bool,
) -> bool | float | str | None:
    """Ask one question until the reply fits (raises Back, EOFError or KeyboardInterrupt)."""
    prompt = _prompt(q, s, child, carer)
    while True:
        reply = read(prompt)
        try:
            parsed = parse_reply(q, reply, s.texts, carer=carer)
        except ValueError as exc:
            write(f"  {exc} {s.texts['hint_back']}")
            continue
        if not isinstance(parsed, Confirm):
            return parsed
        answer = read(parsed.prompt + " ")
        try:
            sure = yes_no(answer)
        except ValueError:
            sure = None
        if sure is True:
            return parsed.if_yes
        if sure is False and parsed.if_no is not None:
            return parsed.if_no
        write(f"  {parsed.again}")
