"""The screener's answers: a strict model of what a person (or a carer, or a nurse) answered.

The answers file is YAML or JSON. PyYAML reads YAML 1.1, so `yes` / `no` arrive as booleans
`true` / `false`, and `dont_know` arrives as text. Exactly these are accepted for a yes/no
question; an omitted question, or `null`, is *unanswered*, which counts as "don't know". Anything
else is an error that names the question, the value and the allowed answers. Ages and CK values
are plain numbers (no quotes, no units); the CK value is in U/L.

Inside the model, "don't know" is `None`: a don't-know is never read as "no".
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from imnm.errors import Problem, RecordError
from imnm.types import fail

DONT_KNOW = "dont_know"

Onset = Literal["days", "weeks", "months", "years"]
Exposure = Literal["current", "past", "never"]
AnsweringFor = Literal["self", "someone_else"]
ONSET_VALUES: tuple[str, ...] = ("days", "weeks", "months", "years")
EXPOSURE_VALUES: tuple[str, ...] = ("current", "past", "never")
ANSWERING_FOR_VALUES: tuple[str, ...] = ("self", "someone_else")
CK_CLEARLY_HIGH = 1000.0  # U/L; above any reported upper reference limit (clinical.md §5.1)


def _yes_no(value: object) -> bool | None:
    if value is None or value == DONT_KNOW:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("yes", "no", "true", "false", "y", "n"):
        fail(
            f"{value!r} is written as text",
            "write yes or no without quotes (true or false in JSON), or dont_know",
        )
    if isinstance(value, str) and value.strip().lower().replace("'", "").replace(" ", "_") in (
        "dont_know",
        "don_t_know",
        "dontknow",
        "unknown",
        "dont-know",
    ):
        fail(f"{value!r} is not an allowed answer", "write dont_know (or leave the question out)")
    fail(f"{value!r} is not an allowed answer", "use yes, no or dont_know")


def _number(lo: float, hi: float, unit: str) -> Any:
    def check(value: object) -> float | None:
        if value is None or value == DONT_KNOW:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            fail(
                f"{value!r} is not a number",
                f"write a plain number in {unit} (no quotes, no unit), or dont_know",
            )
        if not lo <= value <= hi:
            fail(f"{value!r} is out of range: it must be {lo:g} to {hi:g} {unit}", "check the number")
        return float(value)

    return check


def _one_of(values: tuple[str, ...]) -> Any:
    def check(value: object) -> str | None:
        if value is None or value == DONT_KNOW:
            return None
        if isinstance(value, str) and value in values:
            return value
        allowed = f"the allowed answers are {', '.join(values)} or dont_know"
        if isinstance(value, bool):  # YAML reads yes / no as true / false
            fail(f"{'yes' if value else 'no'} is not an answer to this question", allowed)
        fail(f"{value!r} is not an allowed answer", allowed)

    return check


YesNo = Annotated[bool | None, BeforeValidator(_yes_no)]
"""yes (true) / no (false) / don't know (None)."""

Age = Annotated[float | None, BeforeValidator(_number(0, 120, "years"))]
CkValue = Annotated[float | None, BeforeValidator(_number(0, 1_000_000, "U/L"))]
OnsetAnswer = Annotated[Onset | None, BeforeValidator(_one_of(ONSET_VALUES))]
ExposureAnswer = Annotated[Exposure | None, BeforeValidator(_one_of(EXPOSURE_VALUES))]
AnsweringForAnswer = Annotated[AnsweringFor | None, BeforeValidator(_one_of(ANSWERING_FOR_VALUES))]


class Answers(BaseModel):
    """One person's screener answers. Every field is optional: omitted or null = don't know."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    answering_for: AnsweringForAnswer = None  # self, or someone_else (a parent or carer answering)
    age: Age = None
    trouble_climbing_stairs: YesNo = None
    trouble_rising_from_chair: YesNo = None
    trouble_lifting_arms_overhead: YesNo = None
    trouble_getting_up_after_fall: YesNo = None
    weakness_both_sides: YesNo = None
    onset: OnsetAnswer = None
    trouble_swallowing: YesNo = None
    choking: YesNo = None
    short_of_breath: YesNo = None
    chronic_dry_cough: YesNo = None
    muscle_pain: YesNo = None
    dark_urine: YesNo = None
    rash_eyelids_or_knuckles: YesNo = None
    statin: ExposureAnswer = None
    red_yeast_rice: ExposureAnswer = None
    oyster_mushrooms: ExposureAnswer = None
    known_high_ck: YesNo = None
    ck_value: CkValue = None  # U/L
    family_history_muscle_disease: YesNo = None

    @model_validator(mode="after")
    def _ck_value_fits_known_high_ck(self) -> Answers:
        # A CK above 1000 U/L is high by any lab's limit; with known_high_ck not "yes" the rules
        # would otherwise ignore the number, so the contradiction is refused, not resolved silently.
        if self.ck_value is not None and self.ck_value > CK_CLEARLY_HIGH and self.known_high_ck is not True:
            fail(
                f"ck_value {self.ck_value:g} U/L is high, but known_high_ck is "
                f"{answer_text(self.known_high_ck)}",
                "answer known_high_ck: yes (or check the CK number and its unit, U/L)",
            )
        return self

    def value(self, question: str) -> bool | float | str | None:
        """The answer to one question (None = don't know)."""
        v: bool | float | str | None = getattr(self, question)
        return v


QUESTION_IDS: tuple[str, ...] = tuple(Answers.model_fields)


def parse_answers(data: object, *, file: str | None = None) -> Answers:
    """Validate plain data (parsed YAML/JSON) as `Answers`; raise `RecordError` listing every problem."""
    from imnm.types import problems_from

    what = file or "answers"
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RecordError(
            [
                Problem(
                    "",
                    f"answers must be a mapping of question: answer, got {type(data).__name__}",
                    "write one 'question_id: answer' per line, e.g. trouble_climbing_stairs: yes",
                    file=file,
                )
            ],
            what=what,
        )
    try:
        return Answers.model_validate(data)
    except ValidationError as exc:
        problems = problems_from(exc, Answers, file=file)
        raise RecordError([_with_question(p) for p in problems], what=what) from None


def _with_question(p: Problem) -> Problem:
    """Add the question's wording to a problem about one answer."""
    from imnm.screen.screener import load_screener

    q = load_screener().questions_by_id.get(p.path)
    if q is None:
        return p
    return Problem(p.path, f"{p.message} (question: {q.text!r})", p.fix, p.value, p.file)


def load_answers(path: str | Path) -> Answers:
    """Read and validate an answers file (.yaml, .yml or .json)."""
    from imnm.io.yaml import read_document

    return parse_answers(read_document(path), file=str(path))


def answer_text(value: bool | float | str | None) -> str:
    """How an answer is written in an answers file: yes, no, dont_know, a number or a value."""
    if value is None:
        return DONT_KNOW
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return value


def dump_answers(answers: Answers, *, asked: tuple[str, ...] | None = None) -> str:
    """The answers as a YAML answers file. `asked` limits it to the questions that were asked;
    questions left out stay "don't know" when the file is read back."""
    lines = [
        "# IMNM Navigator screener answers (imnm screen FILE). Omitted questions count as dont_know.",
    ]
    for qid in QUESTION_IDS:
        if asked is not None and qid not in asked:
            continue
        lines.append(f"{qid}: {answer_text(answers.value(qid))}")
    return "\n".join(lines) + "\n"
