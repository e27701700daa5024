"""Trial use cases: match a patient against the catalog, list the catalog, import a registry record.

`match_trials` is what `imnm trials FILE`, `POST /api/v1/trials/match` and the web app's trial pages
call; `TrialMatch.as_dict()` is the `--json` document. Reviews (a clinician's answers to manual-review
criteria) come from a reviews file (`ReviewsFile`, validated like every other input) or the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from imnm.errors import InputError, Problem
from imnm.services.patients import Patient, facts_of, overrides
from imnm.settings import Settings, default_settings
from imnm.trials.checklist import Item as ChecklistItem
from imnm.trials.evaluate import Review, TrialResult
from imnm.trials.model import Trial
from imnm.types import IsoDate

DISCLAIMER = (
    "Decision support, not a diagnosis. Classification criteria are research tools; "
    "the treating clinician decides."
)
TRIALS_NOTE = (
    "Trial matching is decision support: the trial team decides eligibility at screening, and "
    "registry text may have changed since it was copied."
)


# ---------------------------------------------------------------- reviews


class ReviewEntry(BaseModel):
    """One clinician's answer to a manual-review criterion."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    trial: str = Field(min_length=1, description="Trial id, e.g. NCT04025632")
    criterion: str = Field(min_length=1, description="Criterion id within the trial, e.g. inc-3")
    met: bool = Field(description="Is the criterion true of the patient?")
    by: str | None = Field(None, description="Who reviewed it")
    date: IsoDate | None = Field(None, description="When (YYYY-MM-DD)")
    note: str | None = None

    def review(self) -> Review:
        return Review(self.trial, self.criterion, self.met, self.by, self.date)


class ReviewsFile(BaseModel):
    """`{reviews: [{trial, criterion, met, by, date, note}]}`."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    reviews: list[ReviewEntry]


def parse_reviews(data: object, *, file: str | None = None) -> tuple[Review, ...]:
    """Validate a reviews document; every problem is reported at once (path, value, fix)."""
    from imnm.types import problems_from

    try:
        doc = ReviewsFile.model_validate(data)
    except ValidationError as exc:
        raise InputError(problems_from(exc, ReviewsFile, file=file), what=file or "reviews") from None
    return tuple(e.review() for e in doc.reviews)


# ---------------------------------------------------------------- catalog


def catalog_trials(settings: Settings | None = None) -> tuple[Trial, ...]:
    """The shipped catalog, with the screening window of the settings put into its rules."""
    from imnm.trials.load import catalog

    return catalog((settings or default_settings()).screening_window)


def select_trials(trials: Sequence[Trial], ids: Iterable[str] | None) -> list[Trial]:
    """The trials with these ids (all when None); an unknown id is an error naming it."""
    items = list(trials)
    if not ids:
        return items
    wanted = list(ids)
    known = {t.id for t in items}
    unknown = [t for t in wanted if t not in known]
    if unknown:
        raise InputError(
            [
                Problem("--trial", f"{u!r} is not in the catalog", "see `imnm trials list`", u)
                for u in unknown
            ],
            what="trial selection",
        )
    return [t for t in items if t.id in wanted]


# ---------------------------------------------------------------- matching


@dataclass(frozen=True)
class TrialVerdict:
    """One trial (or cohort) for one patient, with the baseline checklist."""

    result: TrialResult
    checklist: tuple[ChecklistItem, ...]

    def as_dict(self, *, explain: bool = True) -> dict[str, object]:
        d = self.result.as_dict(explain=explain)
        d["checklist"] = [i.as_dict() for i in self.checklist]
        return d


@dataclass(frozen=True)
class TrialMatch:
    """Every trial checked for one patient on one date, ranked."""

    patient_id: str
    as_of: date
    settings: Settings
    verdicts: tuple[TrialVerdict, ...]
    overrides: tuple[str, ...] = ()

    @property
    def results(self) -> tuple[TrialResult, ...]:
        return tuple(v.result for v in self.verdicts)

    def counts(self) -> dict[str, int]:
        out = {"eligible": 0, "needs_information": 0, "ineligible": 0}
        for v in self.verdicts:
            out[v.result.verdict] += 1
        return out

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.patient_id,
            "as_of": self.as_of.isoformat(),
            "settings": self.settings.describe(("default_uln", "screening_window")),
            "counts": self.counts(),
            "trials": [v.as_dict() for v in self.verdicts],
            "overrides": list(self.overrides),
            "disclaimer": f"{DISCLAIMER} {TRIALS_NOTE}",
        }


def match_trials(
    patient: Patient,
    *,
    as_of: date,
    settings: Settings | None = None,
    trial_ids: Iterable[str] | None = None,
    reviews: Iterable[Review] = (),
    trials: Sequence[Trial] | None = None,
) -> TrialMatch:
    """Check a patient against the catalog (or `trials`): eligible, ineligible or needs_information."""
    from imnm.trials.checklist import checklist
    from imnm.trials.evaluate import evaluate_catalog
    from imnm.vocabulary import REGISTRY

    s = settings or default_settings()
    items = select_trials(trials if trials is not None else catalog_trials(s), trial_ids)
    review_map: Mapping[tuple[str, str], Review] = {(r.trial, r.criterion): r for r in reviews}
    facts = facts_of(patient, as_of=as_of, settings=s)
    results = evaluate_catalog(items, facts, as_of=as_of, registry=REGISTRY, reviews=review_map)
    verdicts = tuple(TrialVerdict(r, tuple(checklist(r.trial, facts, r.cohort))) for r in results)
    return TrialMatch(patient.id, as_of, s, verdicts, overrides(patient))


# ---------------------------------------------------------------- listing and import


@dataclass(frozen=True)
class TrialSummary:
    trial: Trial

    def as_dict(self) -> dict[str, object]:
        t = self.trial
        crits = t.all_criteria()
        return {
            "id": t.id,
            "acronym": t.acronym,
            "title": t.title,
            "status": t.status,
            "recruiting": t.recruiting,
            "imnm": t.imnm,
            "phases": t.phases,
            "cohorts": [c.id for c in t.cohorts],
            "criteria": len(crits),
            "encoded": sum(1 for c in crits if c.rule is not None),
            "manual_review": sum(1 for c in crits if c.manual_review),
            "completeness": t.source.completeness,
            "mark": t.source.mark,
        }


@dataclass(frozen=True)
class TrialList:
    trials: tuple[TrialSummary, ...]

    def as_dict(self) -> dict[str, object]:
        return {"trials": [t.as_dict() for t in self.trials]}


def list_trials(trials: Sequence[Trial] | None = None) -> TrialList:
    """The catalog, one summary per trial."""
    return TrialList(tuple(TrialSummary(t) for t in (trials if trials is not None else catalog_trials())))


def get_trial(trial_id: str, trials: Sequence[Trial] | None = None) -> Trial:
    """One catalog trial by id (an `InputError` naming the id when it is not there)."""
    return select_trials(trials if trials is not None else catalog_trials(), [trial_id])[0]


@dataclass(frozen=True)
class ImportedStudy:
    """A draft catalog entry made from a ClinicalTrials.gov API v2 study record."""

    draft: dict[str, object]
    trial: Trial
    summary: dict[str, object]

    def as_dict(self) -> dict[str, object]:
        return dict(self.summary)

    def yaml(self, source_name: str) -> str:
        import yaml

        s = self.summary
        header = (
            f"# Draft written by `imnm trials import` from {source_name}: {s['encoded']} of "
            f"{s['criteria']} criteria encoded, {s['manual_review']} need manual review.\n"
            "# Check every rule against the registry text before adding it to the catalog.\n"
        )
        return header + yaml.safe_dump(self.draft, sort_keys=False, allow_unicode=True, width=100)


def import_study(study: object, *, file: str, imported_on: date) -> ImportedStudy:
    """Draft a catalog entry from a CT.gov v2 study record; the draft must load like any catalog file."""
    from imnm.trials.ctgov import draft_from_study, summary
    from imnm.trials.load import parse_trial

    if not isinstance(study, dict) or "protocolSection" not in study:
        raise InputError(
            [
                Problem(
                    "protocolSection",
                    "not a ClinicalTrials.gov API v2 study record",
                    "save GET https://clinicaltrials.gov/api/v2/studies/{nctId} as JSON",
                    file=file,
                )
            ],
            what=file,
        )
    draft = draft_from_study(study, file=file.rsplit("/", 1)[-1], imported_on=imported_on.isoformat())
    trial = parse_trial(draft, file=file)
    return ImportedStudy(draft, trial, summary(draft))
