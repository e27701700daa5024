"""Evaluate a patient against trial criteria: eligible, ineligible or needs_information.

Each criterion's rule is evaluated in Kleene three-valued logic (same semantics as the
foundation engine, `imnm.core.evaluate`):

| criterion | met | not met | unknown |
|---|---|---|---|
| inclusion | ok | **failed** (ineligible) | missing (the tests that settle it) |
| exclusion | **failed** (ineligible) | ok | missing |

Criteria marked `manual_review` (and the parts of a rule written as `const: unknown`, which
stand for a clinician's judgement) are listed apart under `manual_review`; they never count
as met. Verdict per trial and cohort (shared criteria + the cohort's own):

- `ineligible`: at least one criterion failed (each is named);
- `needs_information`: nothing failed but something is unknown; `missing` lists the facts
  and the test or question that supplies each;
- `needs_information` with `missing: []` and `pending: "manual_review"`: every encoded
  criterion is settled in the patient's favour and only manual-review items are open;
- `eligible`: every criterion met and none open. A manual-review item counts as settled only
  when a clinician's recorded review says so (`Review`).

Ranking (what a coordinator looks for first): open trials (recruiting, then not yet recruiting, then
enrolling by invitation) before trials that are active but not recruiting, and closed trials
(completed, terminated, withdrawn, unknown) apart at the end, for reference; within each, trials the
patient may enter before ineligible ones; then how well the population fits (IMNM-only, then trials
that enrol IMNM, then rollovers, then broader ones); then how complete the catalog entry is; then the
fewest and least invasive tests still needed (worked out only to break a tie); then the fewest
manual-review items.

Pure: no I/O, no clock. One run (`imnm.core.evaluate.Run`: the patient's facts at one date) is
shared by every trial, so leaf results are shared across criteria and trials. Verdicts need only
each criterion's truth; missing-fact lists, evidence and explanations are built only when they are
asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Literal

from imnm.core.evaluate import Missing, Outcome, Plan, Run, missing_dict
from imnm.core.facts import FactSource, Registry
from imnm.core.truth import Truth
from imnm.trials.model import Cohort, Criterion, Trial

Verdict = Literal["eligible", "ineligible", "needs_information"]
Effect = Literal["ok", "failed", "missing", "review"]
Status = Literal["met", "not_met", "unknown", "manual_review"]
Kind = Literal["inclusion", "exclusion"]
VERDICT_ORDER = {"eligible": 0, "needs_information": 1, "ineligible": 2}
REVIEW_FACT = "manual_review"


@dataclass(frozen=True, slots=True)
class Review:
    """A clinician's answer to a manual-review criterion: is it true of the patient?"""

    trial: str
    criterion: str
    met: bool
    by: str | None = None
    on: date | None = None


class CriterionResult:
    """One criterion's status and effect; missing facts and the explanation are built lazily."""

    __slots__ = (
        "_assessed",
        "_outcome",
        "_pass",
        "cohort",
        "criterion",
        "effect",
        "kind",
        "reviewed",
        "status",
    )

    def __init__(
        self,
        criterion: Criterion,
        kind: Kind,
        cohort: str | None,
        status: Status,
        effect: Effect,
        *,
        run: Run | None = None,
        reviewed: Review | None = None,
    ) -> None:
        self.criterion = criterion
        self.kind = kind
        self.cohort = cohort
        self.status = status
        self.effect = effect
        self.reviewed = reviewed
        self._pass = run
        self._assessed: tuple[Missing, ...] | None = None
        self._outcome: Outcome | None = None

    def _all_missing(self) -> tuple[Missing, ...]:
        if self._assessed is None:
            rule = self.criterion.rule
            if rule is None or self._pass is None or (self.status != "unknown" and self.reviewed is None):
                self._assessed = ()
            else:
                self._assessed = self._pass.assess(rule)[1]
        return self._assessed

    def test_ids(self) -> frozenset[str]:
        """The tests of `missing` (without building the list)."""
        rule = self.criterion.rule
        if self.effect != "missing" or rule is None or self._pass is None:
            return frozenset()
        return self._pass.tests(rule)

    @property
    def missing(self) -> tuple[Missing, ...]:
        """Facts that would settle this criterion, each with its test (empty unless unknown)."""
        if self.effect != "missing":
            return ()
        return tuple(m for m in self._all_missing() if m.fact != REVIEW_FACT)

    @property
    def review(self) -> str | None:
        """What a person must judge: the manual-review reason or the rule's open judgements."""
        if self.criterion.rule is None:
            return self.criterion.reason
        labels = [m.ask for m in self._all_missing() if m.fact == REVIEW_FACT]
        return "; ".join(dict.fromkeys(labels)) or None

    @property
    def outcome(self) -> Outcome | None:
        """The full engine's outcome (evidence, explanation), computed when first asked for."""
        rule = self.criterion.rule
        if rule is None or self._pass is None:
            return None
        if self._outcome is None:
            self._outcome = self._pass.outcome(rule)
        return self._outcome

    def as_dict(self, *, explain: bool = True) -> dict[str, object]:
        c = self.criterion
        out: dict[str, object] = {
            "id": c.id,
            "kind": self.kind,
            "cohort": self.cohort,
            "text": c.text,
            "status": self.status,
            "effect": self.effect,
            "encoded": c.rule is not None,
            "missing": [missing_dict(m) for m in self.missing],
            "manual_review": self.review if self.effect in ("review", "missing") or self.reviewed else None,
            "assumptions": list(c.assumptions),
            "structured": c.structured,
            "truncated": c.truncated,
        }
        if self.reviewed is not None:
            out["reviewed"] = {
                "met": self.reviewed.met,
                "by": self.reviewed.by,
                "date": self.reviewed.on.isoformat() if self.reviewed.on else None,
            }
        outcome = self.outcome if explain else None
        if outcome is not None:
            out["evidence"] = [str(e) for e in outcome.all_evidence()]
            out["explanation"] = outcome.explain()
        return out


@dataclass(frozen=True, slots=True)
class MissingItem:
    """One fact still needed, the test or question that supplies it, and the criteria it settles."""

    fact: str
    label: str
    ask: str
    test: str
    criteria: tuple[str, ...]
    detail: str | None = None  # e.g. "a result dated 2026-10-26 to 2026-11-25"

    def as_dict(self) -> dict[str, object]:
        return {
            "fact": self.fact,
            "label": self.label,
            "ask": self.ask,
            "test": self.test,
            "detail": self.detail,
            "criteria": list(self.criteria),
        }


class TrialResult:
    """The verdict for one trial (or one cohort of it)."""

    __slots__ = ("_missing", "cohort", "criteria", "note", "pending", "trial", "verdict")

    def __init__(
        self,
        trial: Trial,
        cohort: Cohort | None,
        verdict: Verdict,
        criteria: tuple[CriterionResult, ...],
        pending: Literal["manual_review"] | None,
        note: str,
    ) -> None:
        self.trial = trial
        self.cohort = cohort
        self.verdict = verdict
        self.criteria = criteria
        self.pending = pending
        self.note = note
        self._missing: tuple[MissingItem, ...] | None = None

    @property
    def key(self) -> str:
        return f"{self.trial.id}/{self.cohort.id}" if self.cohort else self.trial.id

    @property
    def failed(self) -> tuple[CriterionResult, ...]:
        return tuple(c for c in self.criteria if c.effect == "failed")

    @property
    def missing(self) -> tuple[MissingItem, ...]:
        """Facts still needed (deduplicated), each naming the criteria it would settle."""
        if self._missing is None:
            found: dict[str, tuple[Missing, list[str]]] = {}
            for c in self.criteria:
                for m in c.missing:
                    entry = found.setdefault(m.fact, (m, []))
                    if c.criterion.id not in entry[1]:
                        entry[1].append(c.criterion.id)
            self._missing = tuple(
                MissingItem(m.fact, m.label, m.ask, m.test, tuple(ids), m.detail) for m, ids in found.values()
            )
        return self._missing

    @property
    def tests(self) -> tuple[str, ...]:
        """Distinct tests or questions (ids in knowledge/data/tests.yaml) still needed."""
        return tuple(dict.fromkeys(i.test for i in self.missing))

    @property
    def manual_review(self) -> tuple[CriterionResult, ...]:
        return tuple(
            c
            for c in self.criteria
            if c.effect == "review" or (c.effect == "missing" and c.review is not None)
        )

    @property
    def group(self) -> str:
        """open | not_open (active, suspended) | closed (listed apart, for reference)."""
        return status_group(self.trial.status)

    def rank_head(self) -> tuple[int, int, int, int, int]:
        """The ranking keys that need no missing-fact lists."""
        t = self.trial
        return (
            GROUP_ORDER[self.group],
            1 if self.verdict == "ineligible" else 0,
            STATUS_ORDER.get(t.status, 9),
            FIT_ORDER.get(t.imnm, 9),
            COMPLETENESS_ORDER[t.source.completeness] + (1 if t.draft else 0),
        )

    def burden(self) -> tuple[int, int, int]:
        """How much is still needed: number of tests, their total invasiveness, manual-review items
        (the same tests as `tests`, worked out without the missing-fact lists)."""
        if self.verdict == "ineligible":
            return (0, 0, 0)
        found: set[str] = set()
        for c in self.criteria:
            if c.effect == "missing":
                found |= c.test_ids()
        found.discard(REVIEW_FACT)
        return (len(found), sum(invasiveness(x) for x in found), len(self.manual_review))

    def rank_key(self) -> tuple[object, ...]:
        return (*self.rank_head(), *self.burden(), self.key)

    def as_dict(self, *, explain: bool = True) -> dict[str, object]:
        t = self.trial
        return {
            "id": t.id,
            "cohort": self.cohort.id if self.cohort else None,
            "cohort_label": self.cohort.label if self.cohort else None,
            "acronym": t.acronym,
            "title": t.title,
            "status": t.status,
            "recruiting": t.recruiting,
            "group": self.group,
            "imnm": t.imnm,
            "verdict": self.verdict,
            "pending": self.pending,
            "note": self.note,
            "failed": [{"id": c.criterion.id, "kind": c.kind, "text": c.criterion.text} for c in self.failed],
            "missing": [m.as_dict() for m in self.missing],
            "tests_needed": list(self.tests),
            "manual_review": [
                {"id": c.criterion.id, "kind": c.kind, "text": c.criterion.text, "reason": c.review}
                for c in self.manual_review
            ],
            "criteria": [c.as_dict(explain=explain) for c in self.criteria],
            "source": {
                "mark": t.source.mark,
                "version": t.source.version,
                "completeness": t.source.completeness,
                "truncated": t.source.truncated,
                "urls": t.source.registry_urls,
            },
            "assumptions": list(t.assumptions),
            "draft": t.draft,
        }


GROUP_ORDER = {"open": 0, "not_open": 1, "closed": 2}
STATUS_ORDER = {
    "RECRUITING": 0,
    "NOT_YET_RECRUITING": 1,
    "ENROLLING_BY_INVITATION": 2,
    "ACTIVE_NOT_RECRUITING": 3,
    "SUSPENDED": 4,
}
FIT_ORDER = {
    "imnm_only": 0,
    "includes_imnm": 1,
    "rollover": 2,
    "unreviewed": 3,
    "not_imnm": 4,
    "excludes_imnm": 5,
}
COMPLETENESS_ORDER = {"complete": 0, "partial": 1, "summary": 2}


def status_group(status: str) -> str:
    if status in ("RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION"):
        return "open"
    if status in ("ACTIVE_NOT_RECRUITING", "SUSPENDED"):
        return "not_open"
    return "closed"


@cache
def _invasiveness() -> dict[str, int]:
    from imnm import knowledge

    return {t["id"]: int(t["invasiveness"]) for t in knowledge.load("tests")["tests"]}


def invasiveness(test: str) -> int:
    """A test's invasiveness rank (tests.yaml); a question or an unlisted test counts 0."""
    return _invasiveness().get(test, 0)


def rank(results: list[TrialResult]) -> list[TrialResult]:
    """Trials in ranking order (see the module docstring). The cheap keys sort first; the tests still
    needed are worked out only for trials that tie on them."""
    heads = sorted(((r.rank_head(), r) for r in results), key=lambda hr: (hr[0], hr[1].key))
    out: list[TrialResult] = []
    i = 0
    while i < len(heads):
        j = i + 1
        while j < len(heads) and heads[j][0] == heads[i][0]:
            j += 1
        tie = [r for _h, r in heads[i:j]]
        if len(tie) > 1:
            tie.sort(key=lambda r: (*r.burden(), r.key))
        out.extend(tie)
        i = j
    return out


def _settle(truth_: Truth, kind: Kind) -> Effect:
    bad = Truth.NOT_MET if kind == "inclusion" else Truth.MET
    return "failed" if truth_ is bad else "ok"


def _status(t: Truth) -> Status:
    return "met" if t is Truth.MET else "not_met" if t is Truth.NOT_MET else "unknown"


def evaluate_criterion(
    crit: Criterion, kind: Kind, run: Run, *, cohort: str | None = None, review: Review | None = None
) -> CriterionResult:
    """One criterion's status and what it means for eligibility."""
    if crit.rule is None:
        if review is not None:
            t = Truth.MET if review.met else Truth.NOT_MET
            return CriterionResult(crit, kind, cohort, _status(t), _settle(t, kind), reviewed=review)
        return CriterionResult(crit, kind, cohort, "manual_review", "review")
    t, needs_facts = run.truth(crit.rule)
    if t is not Truth.UNKNOWN:
        return CriterionResult(crit, kind, cohort, _status(t), _settle(t, kind), run=run)
    if needs_facts:
        return CriterionResult(crit, kind, cohort, "unknown", "missing", run=run)
    if review is not None:
        r = Truth.MET if review.met else Truth.NOT_MET
        return CriterionResult(crit, kind, cohort, _status(r), _settle(r, kind), run=run, reviewed=review)
    return CriterionResult(crit, kind, cohort, "unknown", "review", run=run)


def evaluate_trial(
    trial: Trial, run: Run, *, reviews: Mapping[tuple[str, str], Review] | None = None
) -> list[TrialResult]:
    """One result per cohort (or one for a trial without cohorts)."""
    reviews = reviews or {}

    def run_all(
        inclusion: list[Criterion], exclusion: list[Criterion], cohort: str | None
    ) -> list[CriterionResult]:
        out = [
            evaluate_criterion(c, "inclusion", run, cohort=cohort, review=reviews.get((trial.id, c.id)))
            for c in inclusion
        ]
        out += [
            evaluate_criterion(c, "exclusion", run, cohort=cohort, review=reviews.get((trial.id, c.id)))
            for c in exclusion
        ]
        return out

    shared = run_all(trial.inclusion, trial.exclusion, None)
    if not trial.cohorts:
        return [_verdict(trial, None, shared)]
    return [
        _verdict(trial, cohort, (*shared, *run_all(cohort.inclusion, cohort.exclusion, cohort.id)))
        for cohort in trial.cohorts
    ]


def _verdict(trial: Trial, cohort: Cohort | None, crits: Sequence[CriterionResult]) -> TrialResult:
    failed = [c for c in crits if c.effect == "failed"]
    unknown = sum(1 for c in crits if c.effect == "missing")
    review = sum(1 for c in crits if c.effect == "review")
    pending: Literal["manual_review"] | None = None
    if failed:
        verdict: Verdict = "ineligible"
        note = "not eligible: " + "; ".join(
            f"{c.kind} {c.criterion.id} {'not met' if c.kind == 'inclusion' else 'applies'}" for c in failed
        )
    elif unknown:
        verdict = "needs_information"
        note = f"nothing failed; {unknown} criterion(s) need more information"
        if review:
            note += f" and {review} need manual review"
    elif review:
        verdict, pending = "needs_information", "manual_review"
        note = (
            f"every encoded criterion is met; only manual review left ({review} criterion(s)) "
            "before the trial team can confirm eligibility"
        )
    else:
        verdict = "eligible"
        note = "every criterion met on the information recorded; the trial team confirms at screening"
    return TrialResult(trial, cohort, verdict, tuple(crits), pending, note)


def evaluate_catalog(
    trials: Iterable[Trial],
    facts: FactSource,
    *,
    as_of: date,
    registry: Registry,
    reviews: Mapping[tuple[str, str], Review] | None = None,
    plan: Plan | None = None,
) -> list[TrialResult]:
    """Every trial (and cohort), ranked: eligible first, then fewest missing tests.

    `plan` is the catalog's compiled rules (see `imnm.core.evaluate.Plan`); pass the same plan for
    every patient to compile the rules once."""
    shared = getattr(facts, "run", None)  # the patient's own run: leaves shared with the derived facts
    if (
        isinstance(shared, Run)
        and shared.as_of == as_of
        and shared.registry is registry
        and (plan is None or shared.plan is plan)
    ):
        run = shared
    else:
        run = Run(facts, as_of, registry, plan)
    out: list[TrialResult] = []
    for t in trials:
        out.extend(evaluate_trial(t, run, reviews=reviews))
    return rank(out)
