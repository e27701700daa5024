"""Who should seek testing: evaluate screener answers against the rules in `screener.yaml`.

The rules are data (`knowledge/data/screener.yaml`): each trigger is a rule tree over `answer.*`
facts with a level (urgent, soon, routine) and a plain reason. They are evaluated with the
foundation's three-valued engine; a "don't know" answer is UNKNOWN, never "no".

How the level is chosen:

1. The level is the highest level with a trigger that is MET.
2. A level above it whose trigger is UNKNOWN is *possible*: `possible_level` names the highest
   such level and `unanswered_that_matter` lists the questions whose answers could raise the
   level (the missing facts of those UNKNOWN triggers).
3. When no trigger is met but some trigger is UNKNOWN, the level is not `none` (unknown is
   never no). The ⚠️ choice `unknown_policy` decides it: `at_least_routine` (default) or
   `highest_possible`.

Pure: no I/O beyond reading the packaged knowledge table, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from imnm.core import rules as r
from imnm.core.evaluate import Evidence, Outcome, Plan, Run, check
from imnm.core.facts import FactSpec, Observation, Registry
from imnm.core.truth import Truth, or_
from imnm.errors import KnowledgeError, Problem
from imnm.screen.answers import (
    ANSWERING_FOR_VALUES,
    EXPOSURE_VALUES,
    ONSET_VALUES,
    QUESTION_IDS,
    Answers,
    answer_text,
)

TABLE = "screener"
FILE = f"knowledge/data/{TABLE}.yaml"
FACT_PREFIX = "answer."
# Screener rules never use time windows; the engine still wants a date, so a fixed one is passed.
_NO_DATE = date(2000, 1, 1)
CHILD_AGE = 18.0


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    kind: str  # yes_no | number | choice
    text: str
    label: str
    source: str
    text_child: str | None = None
    label_child: str | None = None
    text_carer: str | None = None
    text_self_child: str | None = None
    examples: tuple[str, ...] = ()
    unit: str | None = None
    lo: float | None = None
    hi: float | None = None
    values: tuple[str, ...] = ()
    value_text: dict[str, str] = field(default_factory=dict)
    ask_if: r.Expr | None = None
    ask_if_unknown: bool = True

    @property
    def fact(self) -> str:
        return FACT_PREFIX + self.id

    def wording(self, child: bool, carer: bool = False) -> str:
        """The question as asked: to the person ("you"), to a carer ("the person"), to a child's
        parent or carer ("your child"), or to a child answering for themselves."""
        if carer and child:
            return self.text_child or self.text_carer or self.text
        if carer:
            return self.text_carer or self.text
        if child:
            return self.text_self_child or self.text
        return self.text

    def short(self, child: bool) -> str:
        return self.label_child if child and self.label_child else self.label

    def show(self, value: bool | float | str | None) -> str:
        """An answer as the person would read it."""
        if value is None:
            return "don't know"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float):
            return f"{value:g}" + (f" {self.unit}" if self.unit and self.unit != "years" else "")
        return self.value_text.get(value, value)


@dataclass(frozen=True, slots=True)
class Level:
    id: str
    rank: int
    title: str
    advice: str


@dataclass(frozen=True, slots=True)
class Trigger:
    id: str
    level: str
    rule: r.Expr
    reason: str
    source: str
    mark: str | None = None
    choice: str | None = None


@dataclass(frozen=True, slots=True)
class Note:
    id: str
    text: str
    source: str
    when: r.Expr | None = None


@dataclass(frozen=True, slots=True)
class Screener:
    """The screener's knowledge: questions, levels, triggers, notes, tests, specialists, texts."""

    questions: tuple[Question, ...]
    levels: dict[str, Level]
    triggers: tuple[Trigger, ...]
    notes: tuple[Note, ...]
    tests: tuple[dict[str, str], ...]
    specialists: tuple[dict[str, str], ...]  # each with "for": adult | child | all
    texts: dict[str, str]
    defaults: dict[str, str]
    options: dict[str, tuple[str, ...]]
    registry: Registry
    plan: Plan = field(init=False, repr=False, compare=False)
    """The screener's rules compiled once (kept with the rules, shared by every screening)."""

    _by_id: dict[str, Question] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "plan", Plan(self.registry))
        object.__setattr__(self, "_by_id", {q.id: q for q in self.questions})

    @property
    def questions_by_id(self) -> dict[str, Question]:
        return dict(self._by_id)

    def specialists_for(self, child: bool) -> list[dict[str, str]]:
        """The specialists to name: paediatric ones for a child (under 18), adult ones otherwise."""
        want = "child" if child else "adult"
        return [
            {k: v for k, v in sp.items() if k != "for"}
            for sp in self.specialists
            if sp["for"] in (want, "all")
        ]

    def rank(self, level: str) -> int:
        return self.levels[level].rank

    def level_at(self, rank: int) -> str:
        return next(lv.id for lv in self.levels.values() if lv.rank == rank)


class AnswersFacts:
    """A `FactSource` over `Answers`: `answer.<question>` is the answer, or unknown for don't know."""

    def __init__(self, answers: Answers) -> None:
        self.answers = answers
        self._facts: dict[str, tuple[Observation, ...]] = {}
        for qid in QUESTION_IDS:
            value = answers.value(qid)
            if value is not None:
                self._facts[FACT_PREFIX + qid] = (Observation(value, None, f"answers.{qid}"),)

    def get(self, name: str) -> tuple[Observation, ...] | None:
        return self._facts.get(name)


# ---------------------------------------------------------------- loading


def _registry(questions: list[Question]) -> Registry:
    reg = Registry()
    for q in questions:
        if q.kind == "yes_no":
            kind, values, unit = "bool", None, None
        elif q.kind == "number":
            kind, values, unit = "number", None, q.unit
        else:
            kind, values, unit = "enum", q.values, None
        reg.register(
            FactSpec(
                name=q.fact,
                kind=kind,  # type: ignore[arg-type]
                label=q.label,
                ask=q.text,
                test="history",
                unit=unit,
                values=values,
                description=q.source,
            )
        )
    return reg


def _rule(data: object, where: str, problems: list[Problem]) -> r.Expr | None:
    from pydantic import ValidationError

    from imnm.types import problems_from

    try:
        return r.parse_rule(data)
    except ValidationError as exc:
        for p in problems_from(exc, r.Rule):
            problems.append(Problem(f"{where}.{p.path}", p.message, p.fix, p.value, FILE))
        return None


def _no_windows(node: r.Expr) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, r.Event) or (isinstance(n, r.CompareNode) and n.compare.window is not None):
            return False
        stack.extend(r.children(n))
    return True


@cache
def load_screener() -> Screener:
    """Read and check `screener.yaml` (cached). Every problem is reported at once."""
    from imnm import knowledge

    return build_screener(knowledge.load(TABLE), knowledge.load("tests")["tests"])


def build_screener(data: dict[str, Any], tests_rows: list[dict[str, Any]]) -> Screener:
    """Check the screener table's data and build the `Screener` (raises `KnowledgeError`)."""
    tests_table = {t["id"]: t for t in tests_rows}
    problems: list[Problem] = []

    questions: list[Question] = []
    for i, q in enumerate(data.get("questions") or []):
        where = f"questions[{i}]"
        ask_if = _rule(q["ask_if"], where + ".ask_if", problems) if "ask_if" in q else None
        questions.append(
            Question(
                id=q["id"],
                kind=q["kind"],
                text=q["text"],
                label=q["label"],
                source=q.get("source", ""),
                text_child=q.get("text_child"),
                label_child=q.get("label_child"),
                text_carer=q.get("text_carer"),
                text_self_child=q.get("text_self_child"),
                examples=tuple(q.get("examples") or ()),
                unit=q.get("unit"),
                lo=q.get("min"),
                hi=q.get("max"),
                values=tuple(q.get("values") or ()),
                value_text=dict(q.get("value_text") or {}),
                ask_if=ask_if,
                ask_if_unknown=bool(q.get("ask_if_unknown", True)),
            )
        )
    ids = [q.id for q in questions]
    if tuple(ids) != QUESTION_IDS:
        problems.append(
            Problem(
                "questions",
                f"the questions {ids} differ from the Answers model {list(QUESTION_IDS)}",
                "keep screener.yaml and imnm/screen/answers.py in the same order",
                file=FILE,
            )
        )
    expected_values = {
        "answering_for": ANSWERING_FOR_VALUES,
        "onset": ONSET_VALUES,
        **dict.fromkeys(("statin", "red_yeast_rice", "oyster_mushrooms"), EXPOSURE_VALUES),
    }
    for q in questions:
        if q.id in expected_values and q.values != expected_values[q.id]:
            problems.append(
                Problem(f"questions.{q.id}.values", f"must be {list(expected_values[q.id])}", file=FILE)
            )
    registry = _registry(questions)

    levels = {lv["id"]: Level(lv["id"], int(lv["rank"]), lv["title"], lv["advice"]) for lv in data["levels"]}
    if set(levels) != {"urgent", "soon", "routine", "none"}:
        problems.append(Problem("levels", "levels must be urgent, soon, routine and none", file=FILE))

    triggers: list[Trigger] = []
    for i, t in enumerate(data.get("triggers") or []):
        where = f"triggers[{i}]"
        node = _rule(t["rule"], where + ".rule", problems)
        if t["level"] not in levels or t["level"] == "none":
            problems.append(Problem(where + ".level", f"{t['level']!r} is not a trigger level", file=FILE))
        if node is not None:
            triggers.append(
                Trigger(t["id"], t["level"], node, t["reason"], t["source"], t.get("mark"), t.get("choice"))
            )
    notes: list[Note] = []
    for i, n in enumerate(data.get("notes") or []):
        when = _rule(n["when"], f"notes[{i}].when", problems) if "when" in n else None
        notes.append(Note(n["id"], n["text"], n["source"], when))

    # every rule must fit the answer vocabulary and use no time windows
    checked: list[tuple[str, r.Expr]] = [(f"triggers.{t.id}.rule", t.rule) for t in triggers]
    checked += [(f"notes.{n.id}.when", n.when) for n in notes if n.when is not None]
    for q in questions:
        if q.ask_if is not None:
            checked.append((f"questions.{q.id}.ask_if", q.ask_if))
            later = {x.fact for x in questions[ids.index(q.id) :]}
            if r.facts_used(q.ask_if) & later:
                problems.append(
                    Problem(f"questions.{q.id}.ask_if", "ask_if may only use earlier questions", file=FILE)
                )
    for where, node in checked:
        problems.extend(
            Problem(p.path, p.message, p.fix, p.value, FILE) for p in check(node, registry, path=where)
        )
        if not _no_windows(node):
            problems.append(Problem(where, "screener rules cannot use dates or time windows", file=FILE))

    tests: list[dict[str, str]] = []
    for tid in data["tests_to_expect"]["tests"]:
        row = tests_table.get(tid)
        if row is None:
            problems.append(Problem("tests_to_expect.tests", f"{tid!r} is not in tests.yaml", file=FILE))
            continue
        tests.append({"id": tid, "name": row["plain_name"], "description": row["plain_description"]})

    choices = {c["id"]: c for c in data.get("choices") or []}
    defaults = {cid: str(c["default"]) for cid, c in choices.items()}
    options = {cid: tuple(c["options"]) for cid, c in choices.items()}
    for t in triggers:
        if t.choice is not None and t.choice not in choices:
            problems.append(Problem(f"triggers.{t.id}.choice", f"no choice {t.choice!r}", file=FILE))
    if problems:
        raise KnowledgeError(problems, what=f"knowledge table {TABLE}")
    return Screener(
        questions=tuple(questions),
        levels=levels,
        triggers=tuple(triggers),
        notes=tuple(notes),
        tests=tuple(tests),
        specialists=tuple(
            {
                "id": s["id"],
                "name": s["name"],
                "term": s.get("term") or s["name"],
                "text": s["text"],
                "for": str(s.get("for", "all")),
            }
            for s in data.get("specialists") or []
        ),
        texts={k: str(v) for k, v in data["texts"].items()},
        defaults=defaults,
        options=options,
        registry=registry,
    )


# ---------------------------------------------------------------- evaluation


@dataclass(frozen=True, slots=True)
class Reason:
    level: str
    id: str
    text: str
    answers: tuple[tuple[str, str], ...]  # (question id, answer as shown)
    mark: str | None = None

    def as_dict(self, screener: Screener, child: bool) -> dict[str, Any]:
        qs = screener.questions_by_id
        return {
            "level": self.level,
            "id": self.id,
            "text": self.text,
            "mark": self.mark,
            "answers": [
                {"question": qid, "label": qs[qid].short(child), "answer": shown}
                for qid, shown in self.answers
            ],
        }


@dataclass(frozen=True, slots=True)
class ScreenResult:
    """The screener's result: one level, why, what to do, and what is still open."""

    level: str
    possible_level: str | None
    reasons: tuple[Reason, ...]
    unanswered: tuple[tuple[str, str], ...]  # (question id, the highest level its answer could give)
    notes: tuple[Note, ...]
    child: bool
    answers: Answers
    unknown_policy: str
    urgent_flags: str
    floored: bool  # the level comes from unknown answers (unknown_policy), not from a met trigger
    outcomes: tuple[tuple[Trigger, Outcome], ...] = field(repr=False, default=())

    @property
    def carer(self) -> bool:
        """The answers were given by someone else (a parent or carer)."""
        return self.answers.answering_for == "someone_else"

    def as_dict(self, screener: Screener | None = None) -> dict[str, Any]:
        s = screener or load_screener()
        qs = s.questions_by_id
        show = self.level != "none"
        lv = s.levels[self.level]
        return {
            "level": self.level,
            "title": lv.title,
            "advice": lv.advice,
            "possible_level": self.possible_level,
            "reasons": [x.as_dict(s, self.child) for x in self.reasons],
            "tests_to_expect": [dict(t) for t in s.tests] if show else [],
            "specialists": s.specialists_for(self.child) if show else [],
            "notes": [{"id": n.id, "text": n.text} for n in self.notes],
            "unanswered_that_matter": [
                {"question": qid, "text": qs[qid].wording(self.child, self.carer), "could_raise_to": lvl}
                for qid, lvl in self.unanswered
            ],
            "answers": {qid: answer_text(self.answers.value(qid)) for qid in QUESTION_IDS},
            "answered_by": "someone_else" if self.carer else ("self" if self.answers.answering_for else None),
            "choices": {
                "unknown_policy": self.unknown_policy,
                "urgent_flags": self.urgent_flags,
                "level_from_unknown_answers": self.floored,
            },
            "triggers": [
                {
                    "id": t.id,
                    "level": t.level,
                    "truth": o.truth.value,
                    "missing": sorted({m.fact for m in o.missing}),
                    "source": t.source,
                    "mark": t.mark,
                    "choice": t.choice,
                }
                for t, o in self.outcomes
            ],
            "disclaimer": s.texts["disclaimer"],
            "source": f"knowledge/data/{TABLE}.yaml",
        }


def _met_evidence(o: Outcome) -> list[Evidence]:
    """The evidence along the branches that made a MET node met."""
    if o.truth is not Truth.MET:
        return []
    if not o.children:
        return list(o.evidence)
    out: list[Evidence] = []
    for c in o.children:
        out.extend(_met_evidence(c))
    return out


def _choice(s: Screener, cid: str, value: str | None) -> str:
    chosen = value or s.defaults[cid]
    if chosen not in s.options[cid]:
        from imnm.errors import InputError

        raise InputError(
            [
                Problem(
                    cid.replace("_", "-"),
                    f"{chosen!r} is not an option",
                    f"use one of {', '.join(s.options[cid])} (see {FILE})",
                    value=chosen,
                )
            ],
            what="screener settings",
        )
    return chosen


def screen(
    answers: Answers,
    *,
    unknown_policy: str | None = None,
    urgent_flags: str | None = None,
    screener: Screener | None = None,
) -> ScreenResult:
    """Evaluate answers: the level, the reasons, the notes and the questions that still matter."""
    s = screener or load_screener()
    policy = _choice(s, "unknown_policy", unknown_policy)
    flags = _choice(s, "urgent_flags", urgent_flags)
    facts = AnswersFacts(answers)
    child = answers.age is not None and answers.age < CHILD_AGE

    def effective(t: Trigger) -> str:
        if t.choice == "urgent_flags" and flags == "within_weeks" and t.level == "urgent":
            return "soon"
        return t.level

    run = Run(facts, _NO_DATE, s.registry, s.plan)  # one run: leaves shared by triggers and notes
    outcomes = [(t, run.outcome(t.rule)) for t in s.triggers]
    by_rank: dict[int, list[Truth]] = {}
    for t, o in outcomes:
        by_rank.setdefault(s.rank(effective(t)), []).append(o.truth)
    level_truth = {rank: or_(truths) for rank, truths in by_rank.items()}
    met_rank = max((rk for rk, tr in level_truth.items() if tr is Truth.MET), default=0)
    open_ranks = [rk for rk, tr in level_truth.items() if tr is Truth.UNKNOWN and rk > met_rank]
    top_open = max(open_ranks, default=0)

    rank = met_rank
    floored = False
    if met_rank == 0 and top_open > 0:
        floored = True
        rank = top_open if policy == "highest_possible" else s.rank("routine")
    possible = s.level_at(top_open) if top_open > rank else None

    # the questions whose answers could raise the level: missing facts of open triggers above it
    raise_to: dict[str, int] = {}
    for t, o in outcomes:
        rk = s.rank(effective(t))
        if o.truth is Truth.UNKNOWN and rk > met_rank:
            for m in o.missing:
                qid = m.fact[len(FACT_PREFIX) :]
                raise_to[qid] = max(raise_to.get(qid, 0), rk)
    unanswered = tuple((qid, s.level_at(raise_to[qid])) for qid in QUESTION_IDS if qid in raise_to)

    qs = s.questions_by_id
    reasons: list[Reason] = []
    for t, o in sorted(
        ((t, o) for t, o in outcomes if o.truth is Truth.MET), key=lambda to: -s.rank(effective(to[0]))
    ):
        seen: dict[str, str] = {}
        for e in _met_evidence(o):
            qid = e.fact[len(FACT_PREFIX) :]
            seen.setdefault(qid, qs[qid].show(answers.value(qid)))
        reasons.append(Reason(effective(t), t.id, t.reason, tuple(seen.items()), t.mark))
    if floored:
        reasons.append(
            Reason(
                s.level_at(rank),
                "unknown_answers",
                s.texts["unknown_reason"],
                (),  # the open questions are listed in `unanswered`
                "⚠️",
            )
        )

    notes = tuple(n for n in s.notes if n.when is None or run.truth(n.when)[0] is Truth.MET)
    return ScreenResult(
        level=s.level_at(rank),
        possible_level=possible,
        reasons=tuple(reasons),
        unanswered=unanswered,
        notes=notes,
        child=child,
        answers=answers,
        unknown_policy=policy,
        urgent_flags=flags,
        floored=floored,
        outcomes=tuple(outcomes),
    )


def should_ask(question: Question, answers: Answers, screener: Screener | None = None) -> bool:
    """Whether the interview asks this question, given the answers so far (skips ones that no longer matter)."""
    if question.ask_if is None:
        return True
    s = screener or load_screener()
    truth = Run(AnswersFacts(answers), _NO_DATE, s.registry, s.plan).truth(question.ask_if)[0]
    if truth is Truth.MET:
        return True
    return truth is Truth.UNKNOWN and question.ask_if_unknown
