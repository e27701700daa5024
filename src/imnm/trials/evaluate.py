"""Evaluate a patient against trial criteria: eligible, ineligible or needs_information.

Each criterion's rule is evaluated with the foundation engine (Kleene three-valued logic):

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
- `eligible`: every criterion met, none open. A manual-review item counts as settled only
  when a clinician's review says so (`reviews`, see `Review`).

Pure: no I/O, no clock. One `RecordFacts` is shared by every trial for one patient.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from imnm.core.evaluate import Missing, Outcome, evaluate, missing_dict
from imnm.core.facts import FactSource, Registry
from imnm.core.truth import Truth
from imnm.trials.model import Cohort, Criterion, Trial

Verdict = Literal["eligible", "ineligible", "needs_information"]
Effect = Literal["ok", "failed", "missing", "review"]
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


@dataclass(frozen=True, slots=True)
class CriterionResult:
    criterion: Criterion
    kind: Literal["inclusion", "exclusion"]
    cohort: str | None
    status: Literal["met", "not_met", "unknown", "manual_review"]
    effect: Effect
    outcome: Outcome | None = None
    missing: tuple[Missing, ...] = ()
    review: str | None = None  # what a person must judge
    reviewed: Review | None = None

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
            "manual_review": self.review,
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
        if explain and self.outcome is not None:
            out["evidence"] = [str(e) for e in self.outcome.all_evidence()]
            out["explanation"] = self.outcome.explain()
        return out


@dataclass(frozen=True, slots=True)
class MissingItem:
    """One fact still needed, the test or question that supplies it, and the criteria it settles."""

    fact: str
    label: str
    ask: str
    test: str
    criteria: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "fact": self.fact,
            "label": self.label,
            "ask": self.ask,
            "test": self.test,
            "criteria": list(self.criteria),
        }


@dataclass(frozen=True, slots=True)
class TrialResult:
    trial: Trial
    cohort: Cohort | None
    verdict: Verdict
    criteria: tuple[CriterionResult, ...]
    missing: tuple[MissingItem, ...] = ()
    pending: Literal["manual_review"] | None = None
    note: str = ""
    tests: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        return f"{self.trial.id}/{self.cohort.id}" if self.cohort else self.trial.id

    @property
    def failed(self) -> tuple[CriterionResult, ...]:
        return tuple(c for c in self.criteria if c.effect == "failed")

    @property
    def manual_review(self) -> tuple[CriterionResult, ...]:
        return tuple(
            c for c in self.criteria if c.effect == "review" or (c.effect == "missing" and c.review)
        )

    def rank_key(self) -> tuple[int, int, int, str]:
        return (VERDICT_ORDER[self.verdict], len(self.tests), len(self.manual_review), self.key)

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
            "draft": t.draft,
        }


def _review_text(outcome: Outcome) -> str:
    labels = [m.ask for m in outcome.missing if m.fact == REVIEW_FACT]
    return "; ".join(dict.fromkeys(labels))


def evaluate_criterion(
    crit: Criterion,
    kind: Literal["inclusion", "exclusion"],
    facts: FactSource,
    *,
    as_of: date,
    registry: Registry,
    cohort: str | None = None,
    review: Review | None = None,
) -> CriterionResult:
    """One criterion's status and what it means for eligibility."""
    bad_when = Truth.NOT_MET if kind == "inclusion" else Truth.MET
    if crit.rule is None:
        if review is not None:
            truth = Truth.MET if review.met else Truth.NOT_MET
            return CriterionResult(
                crit,
                kind,
                cohort,
                truth.value,  # type: ignore[arg-type]
                "failed" if truth is bad_when else "ok",
                review=crit.reason,
                reviewed=review,
            )
        return CriterionResult(crit, kind, cohort, "manual_review", "review", review=crit.reason)
    out = evaluate(crit.rule, facts, as_of=as_of, registry=registry)
    if out.truth is Truth.UNKNOWN:
        real = tuple(m for m in out.missing if m.fact != REVIEW_FACT)
        judged = _review_text(out) or None
        if review is not None and not real:
            truth = Truth.MET if review.met else Truth.NOT_MET
            return CriterionResult(
                crit,
                kind,
                cohort,
                truth.value,  # type: ignore[arg-type]
                "failed" if truth is bad_when else "ok",
                out,
                review=judged,
                reviewed=review,
            )
        if real:
            return CriterionResult(crit, kind, cohort, "unknown", "missing", out, real, judged)
        return CriterionResult(crit, kind, cohort, "unknown", "review", out, (), judged)
    effect: Effect = "failed" if out.truth is bad_when else "ok"
    return CriterionResult(crit, kind, cohort, out.truth.value, effect, out)  # type: ignore[arg-type]


def _units(trial: Trial) -> list[Cohort | None]:
    return list(trial.cohorts) or [None]


def evaluate_trial(
    trial: Trial,
    facts: FactSource,
    *,
    as_of: date,
    registry: Registry,
    reviews: Mapping[tuple[str, str], Review] | None = None,
) -> list[TrialResult]:
    """One result per cohort (or one for a trial without cohorts)."""
    reviews = reviews or {}
    shared = [
        evaluate_criterion(
            c, kind, facts, as_of=as_of, registry=registry, review=reviews.get((trial.id, c.id))
        )
        for kind, items in (("inclusion", trial.inclusion), ("exclusion", trial.exclusion))
        for c in items
    ]
    results = []
    for cohort in _units(trial):
        own: list[CriterionResult] = []
        if cohort is not None:
            own = [
                evaluate_criterion(
                    c,
                    kind,
                    facts,
                    as_of=as_of,
                    registry=registry,
                    cohort=cohort.id,
                    review=reviews.get((trial.id, c.id)),
                )
                for kind, items in (("inclusion", cohort.inclusion), ("exclusion", cohort.exclusion))
                for c in items
            ]
        results.append(_verdict(trial, cohort, (*shared, *own)))
    return results


def _verdict(trial: Trial, cohort: Cohort | None, crits: Sequence[CriterionResult]) -> TrialResult:
    failed = [c for c in crits if c.effect == "failed"]
    missing: dict[str, tuple[Missing, list[str]]] = {}
    for c in crits:
        if c.effect != "missing":
            continue
        for m in c.missing:
            entry = missing.setdefault(m.fact, (m, []))
            if c.criterion.id not in entry[1]:
                entry[1].append(c.criterion.id)
    items = tuple(
        MissingItem(m.fact, m.label, m.ask, m.test, tuple(ids)) for m, ids in missing.values()
    )
    tests = tuple(dict.fromkeys(i.test for i in items))
    review = [c for c in crits if c.effect == "review"]
    pending: Literal["manual_review"] | None = None
    if failed:
        verdict: Verdict = "ineligible"
        note = "not eligible: " + "; ".join(f"{c.kind} {c.criterion.id} {_fate(c)}" for c in failed)
    elif items:
        verdict = "needs_information"
        note = f"nothing failed; {len(items)} fact(s) still needed"
        if review:
            note += f", and {len(review)} criterion(s) need manual review"
    elif review:
        verdict, pending = "needs_information", "manual_review"
        note = (
            f"every encoded criterion is met; only manual review left ({len(review)} criterion(s)) "
            "before the trial team can confirm eligibility"
        )
    else:
        verdict = "eligible"
        note = "every criterion met on the information recorded; the trial team confirms at screening"
    return TrialResult(trial, cohort, verdict, tuple(crits), items, pending, note, tests)


def _fate(c: CriterionResult) -> str:
    return "not met" if c.kind == "inclusion" else "applies"


def evaluate_catalog(
    trials: Iterable[Trial],
    facts: FactSource,
    *,
    as_of: date,
    registry: Registry,
    reviews: Mapping[tuple[str, str], Review] | None = None,
) -> list[TrialResult]:
    """Every trial (and cohort), ranked: eligible first, then fewest missing tests."""
    out: list[TrialResult] = []
    for t in trials:
        out.extend(evaluate_trial(t, facts, as_of=as_of, registry=registry, reviews=reviews))
    out.sort(key=TrialResult.rank_key)
    return out
