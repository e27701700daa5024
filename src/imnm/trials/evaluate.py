"""Evaluate a patient against trial criteria: eligible, ineligible or needs_information.

Each criterion's rule is evaluated in Kleene three-valued logic (same semantics as the
foundation engine, `imnm.core.evaluate`):

| criterion | met | not met | unknown |
|---|---|---|---|
| inclusion | ok | **failed** (ineligible) | missing (the tests that settle it) |
| exclusion | **failed** (ineligible) | ok | missing |

Criteria marked `manual_review` (and the parts of a rule written as `const: unknown`, which
stand for a clinician's judgement) are listed apart under `manual_review`; they never count
as met. A criterion marked `stale` (its registry text changed or disappeared after it was
encoded, `imnm trials update`) never counts as met or not met either: its result is "needs
review: the registry text changed on DATE" until a person re-approves or re-encodes the rule.

**Reviews** (a clinician's stored answer to "is this criterion true of the patient?", with who and
when) relate to a criterion's rule as follows:

| the rule on the record's facts | review | result |
|---|---|---|
| no rule (manual review) | met / not met | the review's answer (`reviewed`) |
| unknown (facts missing, or only a judgement open) | met / not met | the review's answer (`reviewed`) |
| met / not met, the same as the review | | settled; the record agrees with the review |
| met / not met, the opposite of the review | | **conflict**: neither counts; the result names both |
| stale rule | dated on or after the registry change | the review's answer |
| stale rule | undated or dated before the change | still stale (the review was about the old text) |

A conflict is never resolved silently in either direction: it keeps the trial from being eligible
and does not make it ineligible, and the output says whether the record's evidence is dated after
the review ("recorded after the review") or not, so the clinician can update the review or correct
the record. Earlier registry wordings of a criterion (`versions`) are evaluated too; when one would
give another answer, the result says so ("under the registry version of 2024-12-10 ... not met").

Verdict per trial and cohort (shared criteria + the cohort's own):

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
from imnm.trials.model import Cohort, Criterion, Stale, Trial

Verdict = Literal["eligible", "ineligible", "needs_information"]
Effect = Literal["ok", "failed", "missing", "review", "conflict"]
Status = Literal["met", "not_met", "unknown", "manual_review", "stale", "conflict"]
Pending = Literal["manual_review", "conflict"]
Kind = Literal["inclusion", "exclusion"]
VERDICT_ORDER = {"eligible": 0, "needs_information": 1, "ineligible": 2}
REVIEW_FACT = "manual_review"


@dataclass(frozen=True, slots=True)
class Review:
    """A clinician's answer to a criterion: is it true of the patient? (see the module docstring)"""

    trial: str
    criterion: str
    met: bool
    by: str | None = None
    on: date | None = None

    def describe(self) -> str:
        who = f" by {self.by}" if self.by else ""
        when = f" on {self.on.isoformat()}" if self.on else " (undated)"
        return f"reviewed as {'met' if self.met else 'not met'}{who}{when}"

    def as_dict(self) -> dict[str, object]:
        return {"met": self.met, "by": self.by, "date": self.on.isoformat() if self.on else None}


@dataclass(frozen=True, slots=True)
class Conflict:
    """A review and the record's facts say opposite things about one criterion."""

    review: Review
    record: Status  # what the rule says on the record's facts: met or not_met
    evidence: tuple[str, ...]
    after_review: bool | None  # some evidence is dated after the review (None: the review is undated)

    def describe(self) -> str:
        said = "met" if self.record == "met" else "not met"
        if self.after_review is None:
            when = "the review has no date"
        elif self.after_review:
            when = "recorded after the review"
        else:
            when = "dated before the review"
        shown = "; ".join(self.evidence[:3]) or "the record's facts"
        return f"{self.review.describe()}, but the record says {said} ({shown}; {when})"

    def as_dict(self) -> dict[str, object]:
        return {
            "review": self.review.as_dict(),
            "record": self.record,
            "evidence": list(self.evidence),
            "evidence_after_review": self.after_review,
            "message": self.describe(),
        }


def stale_reason(stale: Stale) -> str:
    """ "needs review: the registry text changed on DATE" (or was removed)."""
    if stale.change == "removed":
        return (
            f"needs review: the registry text no longer has this criterion (registry record of {stale.day})"
        )
    return f"needs review: the registry text changed on {stale.day}"


def _partial_end(value: str) -> date:
    """The last day of a partial date (`2025` → 2025-12-31)."""
    import calendar

    parts = [int(x) for x in value.split("-")]
    if len(parts) == 3:
        return date(*parts)
    if len(parts) == 2:
        return date(parts[0], parts[1], calendar.monthrange(parts[0], parts[1])[1])
    return date(parts[0], 12, 31)


def review_covers_change(review: Review, stale: Stale) -> bool:
    """A review counts for a stale criterion only when dated on or after the registry change."""
    if review.on is None:
        return False
    changed = _partial_end(stale.since) if stale.since else stale.checked_on
    return review.on >= changed


class CriterionResult:
    """One criterion's status and effect; missing facts and the explanation are built lazily."""

    __slots__ = (
        "_assessed",
        "_outcome",
        "_pass",
        "cohort",
        "conflict",
        "criterion",
        "effect",
        "kind",
        "reviewed",
        "status",
        "version_notes",
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
        conflict: Conflict | None = None,
        version_notes: tuple[str, ...] = (),
    ) -> None:
        self.criterion = criterion
        self.kind = kind
        self.cohort = cohort
        self.status = status
        self.effect = effect
        self.reviewed = reviewed
        self.conflict = conflict
        self.version_notes = version_notes
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

    def has_review(self) -> bool:
        """Whether `review` is not None, without building the missing-fact lists (for ranking): the
        open judgements of a rule are the `const: unknown` nodes `Run.tests` reaches."""
        if self.conflict is not None or (self.status == "stale" and self.criterion.stale is not None):
            return True
        if self.criterion.rule is None:
            return self.criterion.reason is not None
        if self._pass is None or (self.status != "unknown" and self.reviewed is None):
            return False
        return REVIEW_FACT in self._pass.tests(self.criterion.rule)

    @property
    def review(self) -> str | None:
        """What a person must judge: the stale or conflict reason, the manual-review reason or the
        rule's open judgements."""
        if self.conflict is not None:
            return "conflict to resolve: " + self.conflict.describe()
        if self.status == "stale" and self.criterion.stale is not None:
            return stale_reason(self.criterion.stale)
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
            "manual_review": self.review
            if self.effect in ("review", "missing", "conflict") or self.reviewed
            else None,
            "assumptions": list(c.assumptions),
            "structured": c.structured,
            "truncated": c.truncated,
            "verbatim": c.verbatim,
        }
        if self.reviewed is not None:
            out["reviewed"] = self.reviewed.as_dict()
        if self.conflict is not None:
            out["conflict"] = self.conflict.as_dict()
        if c.stale is not None:
            out["stale"] = {
                "change": c.stale.change,
                "since": c.stale.since,
                "checked_on": c.stale.checked_on.isoformat(),
                "registry_text": c.stale.registry_text,
                "message": stale_reason(c.stale),
            }
        if c.added is not None:
            out["added"] = {"since": c.added.since, "checked_on": c.added.checked_on.isoformat()}
        if self.version_notes:
            out["registry_versions"] = list(self.version_notes)
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
        pending: Pending | None,
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
        """Criteria a person must judge (manual items, open judgements, stale rules; not conflicts)."""
        return tuple(
            c
            for c in self.criteria
            if c.effect == "review" or (c.effect == "missing" and c.review is not None)
        )

    @property
    def stale(self) -> tuple[CriterionResult, ...]:
        return tuple(c for c in self.criteria if c.status == "stale")

    @property
    def conflicts(self) -> tuple[CriterionResult, ...]:
        return tuple(c for c in self.criteria if c.effect == "conflict")

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
        reviews = sum(
            1 for c in self.criteria if c.effect == "review" or (c.effect == "missing" and c.has_review())
        )
        return (len(found), sum(invasiveness(x) for x in found), reviews + len(self.conflicts))

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
            "stale": [
                {"id": c.criterion.id, "kind": c.kind, "text": c.criterion.text, "reason": c.review}
                for c in self.stale
            ],
            "conflicts": [
                {"id": c.criterion.id, "kind": c.kind, "text": c.criterion.text, **(c.conflict.as_dict())}
                for c in self.conflicts
                if c.conflict is not None
            ],
            "criteria": [c.as_dict(explain=explain) for c in self.criteria],
            "source": {
                "mark": t.source.mark,
                "version": t.source.version,
                "completeness": t.source.completeness,
                "truncated": t.source.truncated,
                "urls": t.source.registry_urls,
            },
            **trial_facts(t),
            "assumptions": list(t.assumptions),
            "draft": t.draft,
        }


def trial_facts(t: Trial) -> dict[str, object]:
    """The registry facts of a trial shown with every verdict and listing: status date and source,
    dates, the parent trial of a rollover, sites and contacts, and what the entry was encoded from."""
    sa = t.status_as_of
    return {
        "status_as_of": None
        if sa is None
        else {
            "date": sa.date,
            "source": sa.source,
            "kind": sa.kind,
            "url": sa.url,
            "checked_on": sa.checked_on.isoformat() if sa.checked_on else None,
            "text": f"{status_words(t.status)} {sa.describe()}",
        },
        "status_note": t.status_note,
        "why_stopped": t.why_stopped,
        "dates": None if t.dates is None else t.dates.model_dump(exclude_none=True),
        "parent_trial": t.parent_trial,
        "sites": [s.model_dump(exclude_none=True, exclude_defaults=True) for s in t.sites],
        "sites_note": t.sites_note,
        "contacts": [c.model_dump(exclude_none=True) for c in t.contacts],
        "encoded_from": None if t.encoded_from is None else t.encoded_from.model_dump(mode="json"),
        "registry_check": None if t.registry_check is None else t.registry_check.model_dump(mode="json"),
    }


def status_words(status: str) -> str:
    """`NOT_YET_RECRUITING` → "not yet recruiting"."""
    return status.replace("_", " ").lower()


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


def _conflict(review: Review, t: Truth, crit: Criterion, run: Run) -> Conflict:
    assert crit.rule is not None
    evidence = run.outcome(crit.rule).all_evidence()
    dates = [e.date for e in evidence if e.date is not None]
    after = None if review.on is None else any(d > review.on for d in dates)
    return Conflict(review, _status(t), tuple(str(e) for e in evidence), after)


def _version_notes(crit: Criterion, t: Truth, run: Run) -> tuple[str, ...]:
    """Earlier registry wordings that would give another answer for this patient."""
    out = []
    for v in crit.versions:
        if v.rule is None:
            continue
        other = run.truth(v.rule)[0]
        if other is not t:
            out.append(
                f"under the registry version of {v.version} ({v.text!r}) this would be "
                f"{_status(other).replace('_', ' ')} (it is {_status(t).replace('_', ' ')} under the version in force)"
            )
    return tuple(out)


def evaluate_criterion(
    crit: Criterion, kind: Kind, run: Run, *, cohort: str | None = None, review: Review | None = None
) -> CriterionResult:
    """One criterion's status and what it means for eligibility (reviews: see the module docstring)."""
    if crit.stale is not None:
        if review is not None and review_covers_change(review, crit.stale):
            r = Truth.MET if review.met else Truth.NOT_MET
            return CriterionResult(crit, kind, cohort, _status(r), _settle(r, kind), run=run, reviewed=review)
        return CriterionResult(crit, kind, cohort, "stale", "review", run=run)
    if crit.rule is None:
        if review is not None:
            t = Truth.MET if review.met else Truth.NOT_MET
            return CriterionResult(crit, kind, cohort, _status(t), _settle(t, kind), reviewed=review)
        return CriterionResult(crit, kind, cohort, "manual_review", "review")
    t, needs_facts = run.truth(crit.rule)
    notes = _version_notes(crit, t, run) if crit.versions else ()
    if t is not Truth.UNKNOWN:
        if review is not None and (review.met != (t is Truth.MET)):
            conflict = _conflict(review, t, crit, run)
            return CriterionResult(
                crit, kind, cohort, "conflict", "conflict", run=run, reviewed=review, conflict=conflict
            )
        return CriterionResult(
            crit, kind, cohort, _status(t), _settle(t, kind), run=run, reviewed=review, version_notes=notes
        )
    if review is not None:
        r = Truth.MET if review.met else Truth.NOT_MET
        return CriterionResult(
            crit, kind, cohort, _status(r), _settle(r, kind), run=run, reviewed=review, version_notes=notes
        )
    if needs_facts:
        return CriterionResult(crit, kind, cohort, "unknown", "missing", run=run, version_notes=notes)
    return CriterionResult(crit, kind, cohort, "unknown", "review", run=run, version_notes=notes)


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
    conflicts = sum(1 for c in crits if c.effect == "conflict")
    stale = sum(1 for c in crits if c.status == "stale")
    pending: Pending | None = None
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
        if conflicts:
            note += f"; {conflicts} conflict(s) between a review and the record to resolve"
    elif conflicts:
        verdict, pending = "needs_information", "conflict"
        note = (
            f"{conflicts} criterion(s) where a clinician's review and the record disagree: resolve them "
            "(update the review or correct the record)"
        )
        if review:
            note += f"; {review} more need manual review"
    elif review:
        verdict, pending = "needs_information", "manual_review"
        note = (
            f"every encoded criterion is met; only manual review left ({review} criterion(s)) "
            "before the trial team can confirm eligibility"
        )
    else:
        verdict = "eligible"
        note = "every criterion met on the information recorded; the trial team confirms at screening"
    if stale:
        note += f" ({stale} criterion(s) need review: the registry text changed since they were encoded)"
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
