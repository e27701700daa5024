"""Trial use cases: match a patient against the catalog, list the catalog, import a registry record,
keep the catalog current with the registry, find new trials, re-approve a rule after a registry change.

`match_trials` is what `imnm trials FILE`, `POST /api/v1/trials/match` and the web app's trial pages
call; `TrialMatch.as_dict()` is the `--json` document. Reviews (a clinician's answers to criteria)
come from a reviews file (`ReviewsFile`, validated like every other input) or the store.

Every use case takes the catalog to use (`CatalogChoice`: the shipped files plus user folders, or
the user folders only; `imnm trials --catalog DIR [--catalog-only]`). `update_catalog` and
`search_registry` are the only use cases that touch the network, and only when called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from imnm.errors import InputError, Problem
from imnm.services.patients import Patient, facts_of, overrides
from imnm.settings import Settings, default_settings
from imnm.trials.checklist import Item as ChecklistItem
from imnm.trials.evaluate import Review, TrialResult
from imnm.trials.load import Catalog, Entry
from imnm.trials.load import CatalogChoice as CatalogChoice
from imnm.trials.model import Trial
from imnm.types import IsoDate

if TYPE_CHECKING:
    from imnm.trials.drift import CriterionDiff
    from imnm.trials.registry import RegistryClient, RegistryOptions

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


SHIPPED = CatalogChoice()


def load_catalog(catalog: CatalogChoice | None = None, settings: Settings | None = None) -> Catalog:
    """The catalog in use (every file validated; problems name their file)."""
    from imnm.trials.load import load_catalog as load

    c = catalog or SHIPPED
    return load(c.dirs, only=c.only, screening_window=(settings or default_settings()).screening_window)


def catalog_trials(
    settings: Settings | None = None, catalog: CatalogChoice | None = None
) -> tuple[Trial, ...]:
    """The catalog's trials (shipped, plus or instead of user folders), with the screening window of
    the settings put into their rules."""
    from imnm.trials.load import catalog as shipped

    if catalog is None or (not catalog.dirs and not catalog.only):
        return shipped((settings or default_settings()).screening_window)
    return load_catalog(catalog, settings).trials


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
    catalog: CatalogChoice | None = None,
) -> TrialMatch:
    """Check a patient against the catalog (`catalog`, or the trials given): eligible, ineligible or
    needs_information."""
    from imnm.trials.checklist import checklist
    from imnm.trials.evaluate import evaluate_catalog
    from imnm.vocabulary import REGISTRY

    s = settings or default_settings()
    items = select_trials(trials if trials is not None else catalog_trials(s, catalog), trial_ids)
    review_map: Mapping[tuple[str, str], Review] = {(r.trial, r.criterion): r for r in reviews}
    facts = facts_of(patient, as_of=as_of, settings=s)
    results = evaluate_catalog(items, facts, as_of=as_of, registry=REGISTRY, reviews=review_map)
    verdicts = tuple(TrialVerdict(r, tuple(checklist(r.trial, facts, r.cohort))) for r in results)
    return TrialMatch(patient.id, as_of, s, verdicts, overrides(patient))


# ---------------------------------------------------------------- listing and import


MAX_CHECK_AGE_DAYS = 30
"""⚠️ Design choice: a registry check older than this is `due` (a site runs `imnm trials update`
nightly or weekly; a month without one is worth saying)."""


def _earliest_day(partial: str) -> date:
    parts = [int(x) for x in partial.split("-")]
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def freshness(trial: Trial, today: date, *, max_age_days: int = MAX_CHECK_AGE_DAYS) -> dict[str, object]:
    """How current an entry is: the age of its status, when it was last checked against the
    registry, and whether the registry text moved since the rules were encoded.

    state: `fresh` (checked within `max_age_days`, no drift), `due` (checked longer ago), `unverified`
    (never checked against the registry: the status and text come from mirrors or notes), `drift`
    (rules marked stale or criteria added by an update wait for a person)."""
    sa = trial.status_as_of
    status_day = _earliest_day(sa.date) if sa is not None and sa.date else None
    check = trial.registry_check
    last = check.checked_on if check else None
    ef = trial.encoded_from
    imported = (
        check is None
        and ef is not None
        and ef.basis == "registry_record"
        and sa is not None
        and sa.kind == "registry"
        and ef.encoded_on is not None
    )
    if imported:
        assert ef is not None
        last = ef.encoded_on  # a draft read from the registry (imnm trials search) on that day
    stale, added = len(trial.stale_criteria()), len(trial.added_criteria())
    if stale or added:
        state = "drift"
    elif last is None:
        state = "unverified"
    elif (today - last).days > max_age_days:
        state = "due"
    else:
        state = "fresh"
    seen = "read from the registry" if imported else "checked against the registry"
    words = {
        "fresh": f"{seen} on {last}",
        "due": f"last {seen} on {last} ({(today - last).days if last else 0} days ago)",
        "unverified": "never checked against the registry",
        "drift": f"registry text changed: {stale} rule(s) stale, {added} criterion(s) added; needs review",
    }
    return {
        "state": state,
        "text": words[state],
        "status_date": sa.date if sa else None,
        "status_age_days": (today - status_day).days if status_day else None,
        "last_registry_check": last.isoformat() if last else None,
        "days_since_check": (today - last).days if last else None,
        "stale_rules": stale,
        "added_criteria": added,
    }


@dataclass(frozen=True)
class TrialSummary:
    trial: Trial
    today: date | None = None
    file: str | None = None
    replaces: str | None = None

    def as_dict(self) -> dict[str, object]:
        from imnm.trials.drift import catalog_text_sha256
        from imnm.trials.evaluate import status_group, trial_facts

        t = self.trial
        crits = t.all_criteria()
        out: dict[str, object] = {
            "id": t.id,
            "acronym": t.acronym,
            "title": t.title,
            "status": t.status,
            "recruiting": t.recruiting,
            "group": status_group(t.status),
            "imnm": t.imnm,
            "phases": t.phases,
            "cohorts": [c.id for c in t.cohorts],
            "criteria": len(crits),
            "encoded": sum(1 for c in crits if c.rule is not None),
            "manual_review": sum(1 for c in crits if c.manual_review),
            "completeness": t.source.completeness,
            "mark": t.source.mark,
            "draft": t.draft,
            "file": self.file,
            "replaces_shipped": self.replaces,
            **trial_facts(t),
        }
        ef = t.encoded_from
        out["text_matches_encoding"] = (
            catalog_text_sha256(t) == ef.text_sha256
            if ef is not None and ef.basis == "catalog_text"
            else None
        )
        if self.today is not None:
            out["freshness"] = freshness(t, self.today)
        return out


@dataclass(frozen=True)
class TrialList:
    trials: tuple[TrialSummary, ...]
    catalog: str = "the shipped catalog"

    def as_dict(self) -> dict[str, object]:
        return {"catalog": self.catalog, "trials": [t.as_dict() for t in self.trials]}


def list_trials(
    trials: Sequence[Trial] | None = None,
    *,
    catalog: CatalogChoice | None = None,
    today: date | None = None,
    settings: Settings | None = None,
) -> TrialList:
    """The catalog, one summary per trial (with its age and freshness when `today` is given)."""
    if trials is not None:
        return TrialList(tuple(TrialSummary(t, today) for t in trials))
    cat = load_catalog(catalog, settings)
    return TrialList(
        tuple(TrialSummary(e.trial, today, e.file, e.replaces) for e in cat.entries), cat.choice.describe()
    )


def get_trial(
    trial_id: str, trials: Sequence[Trial] | None = None, *, catalog: CatalogChoice | None = None
) -> Trial:
    """One catalog trial by id (an `InputError` naming the id when it is not there)."""
    return select_trials(trials if trials is not None else catalog_trials(None, catalog), [trial_id])[0]


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
        n, k = int(str(s["criteria"])), int(str(s["encoded"]))
        share = f" ({100 * k / n:.0f} %)" if n else ""
        header = (
            f"# Draft written by `imnm trials import` from {source_name}: {s['encoded']} of "
            f"{s['criteria']} criteria encoded{share}, {s['manual_review']} need manual review.\n"
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
    name = file if file.startswith(("http://", "https://")) else file.rsplit("/", 1)[-1]
    draft = draft_from_study(study, file=name, imported_on=imported_on.isoformat())
    trial = parse_trial(draft, file=file)
    return ImportedStudy(draft, trial, summary(draft))


# ---------------------------------------------------------------- keeping the catalog current


def _target(entry: Entry, choice: CatalogChoice) -> Path | None:
    """Where an updated entry is written: its own file; a shipped entry goes to the first user
    folder as a replacing copy (or, with no user folder, back into the shipped folder in place)."""
    if not entry.bundled:
        return entry.path
    if choice.dirs:
        return choice.dirs[0] / f"{entry.trial.id}.yaml"
    return entry.path


def _entry_text(entry: Entry) -> str:
    if entry.path is not None:
        return entry.path.read_text(encoding="utf-8")
    from importlib import resources

    from imnm.trials.load import DATA_PACKAGE, FOLDER

    name = entry.file.rsplit("/", 1)[-1]
    return (resources.files(DATA_PACKAGE) / FOLDER / name).read_text(encoding="utf-8")


NCT_ID = r"^NCT\d{8}$"


@dataclass
class TrialCheck:
    """One trial's registry check: what changed, what was written, or why it could not be checked."""

    trial_id: str
    file: str
    outcome: str  # checked (nothing changed) | updated | failed | skipped
    message: str | None = None
    plan: Any = None  # imnm.trials.refresh.Plan
    written: str | None = None

    @property
    def diffs(self) -> list[CriterionDiff]:
        return list(self.plan.diffs) if self.plan is not None else []

    def as_dict(self) -> dict[str, object]:
        p = self.plan
        out: dict[str, object] = {
            "id": self.trial_id,
            "file": self.file,
            "outcome": self.outcome,
            "message": self.message,
            "written": self.written,
        }
        if p is not None:
            out.update(
                {
                    "status_before": p.status_before,
                    "status": p.status_after,
                    "registry_status": p.registry_status,
                    "status_as_of": p.status_as_of,
                    "changes": list(p.fields),
                    "criteria": p.criteria_state,
                    "diff": [d.as_dict() for d in p.diffs],
                    "registry_check": p.registry_check,
                }
            )
        return out


@dataclass
class CatalogUpdate:
    checked_on: date
    registry: str
    catalog: str
    dry_run: bool
    checks: list[TrialCheck] = field(default_factory=list)

    @property
    def failed(self) -> list[TrialCheck]:
        return [c for c in self.checks if c.outcome == "failed"]

    def as_dict(self) -> dict[str, object]:
        return {
            "checked_on": self.checked_on.isoformat(),
            "registry": self.registry,
            "catalog": self.catalog,
            "dry_run": self.dry_run,
            "counts": {
                k: sum(1 for c in self.checks if c.outcome == k)
                for k in ("checked", "updated", "failed", "skipped")
            },
            "trials": [c.as_dict() for c in self.checks],
        }


def _entries(cat: Catalog, trial_ids: Iterable[str] | None) -> list[Entry]:
    chosen = select_trials(cat.trials, trial_ids)
    wanted = {t.id for t in chosen}
    return [e for e in cat.entries if e.trial.id in wanted]


def update_catalog(
    catalog: CatalogChoice | None = None,
    *,
    today: date,
    options: RegistryOptions,
    trial_ids: Iterable[str] | None = None,
    dry_run: bool = False,
    settings: Settings | None = None,
    client: RegistryClient | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> CatalogUpdate:
    """Check every trial of the catalog against its ClinicalTrials.gov API v2 record and write what
    changed back into its file (`imnm.trials.refresh`). A trial that cannot be checked (network,
    404, 429, 5xx, an answer that is not a v2 record) is reported with the reason and its file is
    left as it was; the others are still checked."""
    import re

    from imnm.trials import refresh, write
    from imnm.trials.registry import RegistryClient, RegistryError, public_url, study_url

    choice = catalog or SHIPPED
    cat = load_catalog(choice, settings)
    entries = _entries(cat, trial_ids)
    result = CatalogUpdate(today, options.url, choice.describe(), dry_run)
    own = client is None
    cl = client or RegistryClient(options)
    try:
        for done, e in enumerate(entries):
            tid = e.trial.id
            if progress is not None:
                progress(done, len(entries), tid)
            if not re.match(NCT_ID, tid):
                result.checks.append(
                    TrialCheck(
                        tid,
                        e.file,
                        "skipped",
                        "not a ClinicalTrials.gov id (NCT + 8 digits): nothing to check",
                    )
                )
                continue
            try:
                study = cl.study(tid)
            except RegistryError as exc:
                result.checks.append(
                    TrialCheck(tid, e.file, "failed", f"{exc}; catalog entry left unchanged")
                )
                continue
            target = _target(e, choice)
            p = refresh.plan(
                e.trial, study, checked_on=today, url=public_url(tid), api_url=study_url(options.url, tid)
            )
            outcome = "updated" if p.changed else "checked"
            if target is None:
                result.checks.append(
                    TrialCheck(
                        tid,
                        e.file,
                        "failed",
                        "the shipped catalog is not a folder on disk: give --catalog DIR",
                        p,
                    )
                )
                continue
            if e.bundled and choice.dirs and target.exists():
                result.checks.append(
                    TrialCheck(
                        tid,
                        e.file,
                        "failed",
                        f"{target} exists and is not this trial's file: not overwritten",
                        p,
                    )
                )
                continue
            try:
                doc = write.load(_entry_text(e))
                refresh.apply(doc, e.trial, p)
                text = write.dump(doc)
                if not dry_run:
                    write.write_checked(target, text)
            except (InputError, OSError) as exc:
                why = "; ".join(str(x) for x in exc.problems) if isinstance(exc, InputError) else str(exc)
                result.checks.append(TrialCheck(tid, e.file, "failed", f"not written: {why}", p))
                continue
            result.checks.append(TrialCheck(tid, e.file, outcome, None, p, None if dry_run else str(target)))
    finally:
        if own:
            cl.close()
    return result


# ---------------------------------------------------------------- finding new trials

DEFAULT_CONDITIONS = (
    "immune-mediated necrotizing myopathy",
    "necrotizing myopathy",
    "anti-HMGCR",
    "anti-SRP",
    "myositis",
)
BROAD_CONDITIONS = frozenset({"myositis"})
"""Terms whose hits are kept only when the eligibility text or the conditions name IMNM."""
IMNM_NAMED = r"necroti[sz]ing|\bIMNM\b|HMGCR|HMGCoR|\bSRP\b|signal recognition particle"


@dataclass
class FoundStudy:
    nct: str
    title: str
    status: str | None
    terms: list[str]
    in_catalog: bool
    draft: str | None = None
    summary: dict[str, Any] | None = None
    message: str | None = None

    def as_dict(self) -> dict[str, object]:
        s = self.summary or {}
        share = s["encoded"] / s["criteria"] if s.get("criteria") else None
        return {
            "id": self.nct,
            "title": self.title,
            "status": self.status,
            "terms": self.terms,
            "in_catalog": self.in_catalog,
            "draft": self.draft,
            "criteria": s.get("criteria"),
            "encoded": s.get("encoded"),
            "share_encoded": round(share, 3) if share is not None else None,
            "message": self.message,
        }


@dataclass
class RegistrySearch:
    searched_on: date
    registry: str
    conditions: list[str]
    found: list[FoundStudy] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    skipped: int = 0  # hits dropped (not interventional, or IMNM not named for a broad term)
    out_dir: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "searched_on": self.searched_on.isoformat(),
            "registry": self.registry,
            "conditions": self.conditions,
            "drafts_to": self.out_dir,
            "found": [f.as_dict() for f in self.found],
            "new": sum(1 for f in self.found if not f.in_catalog),
            "skipped": self.skipped,
            "errors": [{"condition": c, "message": m} for c, m in self.errors],
        }


def search_registry(
    catalog: CatalogChoice | None = None,
    *,
    today: date,
    options: RegistryOptions,
    conditions: Sequence[str] | None = None,
    out_dir: Path | None = None,
    overwrite: bool = False,
    settings: Settings | None = None,
    client: RegistryClient | None = None,
) -> RegistrySearch:
    """Search the registry for interventional studies on IMNM and related terms; draft a catalog
    entry (the importer, `draft: true`) for each study not in the catalog, into `out_dir`."""
    import re

    from imnm.trials.registry import RegistryClient, RegistryError, study_url

    cat = load_catalog(catalog, settings)
    known = {t.id for t in cat.trials}
    terms = list(conditions or DEFAULT_CONDITIONS)
    result = RegistrySearch(today, options.url, terms, out_dir=str(out_dir) if out_dir else None)
    studies: dict[str, dict[str, Any]] = {}
    by_id: dict[str, FoundStudy] = {}
    own = client is None
    cl = client or RegistryClient(options)
    try:
        for term in terms:
            broad = conditions is None and term in BROAD_CONDITIONS
            try:
                for study in cl.search(term):
                    proto = study.get("protocolSection") or {}
                    ident = proto.get("identificationModule") or {}
                    nct = ident.get("nctId")
                    if not isinstance(nct, str) or not re.match(NCT_ID, nct):
                        result.skipped += 1
                        continue
                    kind = (proto.get("designModule") or {}).get("studyType")
                    if kind != "INTERVENTIONAL":
                        result.skipped += 1
                        continue
                    if broad:
                        elig = (proto.get("eligibilityModule") or {}).get("eligibilityCriteria") or ""
                        conds = " ".join(
                            str(c) for c in (proto.get("conditionsModule") or {}).get("conditions") or []
                        )
                        if not re.search(IMNM_NAMED, f"{elig} {conds}", re.I):
                            result.skipped += 1
                            continue
                    if nct in by_id:
                        by_id[nct].terms.append(term)
                        continue
                    status = (proto.get("statusModule") or {}).get("overallStatus")
                    by_id[nct] = FoundStudy(
                        nct,
                        str(ident.get("briefTitle") or nct),
                        status if isinstance(status, str) else None,
                        [term],
                        nct in known,
                    )
                    studies[nct] = study
            except RegistryError as exc:
                result.errors.append((term, str(exc)))
    finally:
        if own:
            cl.close()
    for nct, found in by_id.items():
        result.found.append(found)
        if found.in_catalog:
            continue
        try:
            imported = import_study(studies[nct], file=study_url(options.url, nct), imported_on=today)
        except InputError as exc:
            found.message = "not drafted: " + "; ".join(str(p) for p in exc.problems[:3])
            continue
        found.summary = imported.summary
        if out_dir is None:
            continue
        path = out_dir / f"{nct}.draft.yaml"
        if path.exists() and not overwrite:
            found.message = f"{path} exists; not overwritten (use --overwrite)"
            continue
        _write_new(path, imported.yaml(study_url(options.url, nct)))
        found.draft = str(path)
    return result


def _write_new(path: Path, text: str) -> None:
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


# ---------------------------------------------------------------- re-approving after a registry change


@dataclass
class Approved:
    trial_id: str
    written: str
    criteria: list[dict[str, object]]

    def as_dict(self) -> dict[str, object]:
        return {"id": self.trial_id, "written": self.written, "criteria": self.criteria}


def approve_criteria(
    catalog: CatalogChoice | None = None,
    *,
    trial_id: str,
    criterion_ids: Sequence[str],
    by: str,
    today: date,
    note: str | None = None,
    settings: Settings | None = None,
) -> Approved:
    """A person confirms that rules still fit the registry's new text (`imnm trials approve`):

    - a `stale` changed criterion takes the registry's new text, keeps its rule, loses `stale` and
      records `approved: {by, date, note}`;
    - a `stale` removed criterion is deleted from the file;
    - an `added` criterion loses the `added` marker (it stays a manual-review item until encoded).
    For an entry whose baseline is its own texts, `encoded_from.text_sha256` is updated to the new
    texts (with a note), so the file again proves which text its rules were approved for."""
    from imnm.trials import write
    from imnm.trials.drift import catalog_text_sha256
    from imnm.trials.load import parse_trial

    if not by.strip():
        raise InputError(
            [Problem("--by", "say who approves", "e.g. --by 'Dr A. Example'")], what="command line"
        )
    if not criterion_ids:
        raise InputError(
            [Problem("--criterion", "no criterion given", "e.g. --criterion inc-4")], what="command line"
        )
    choice = catalog or SHIPPED
    cat = load_catalog(choice, settings)
    entry = next(iter(_entries(cat, [trial_id])))
    target = _target(entry, choice)
    if target is None:
        raise InputError(
            [Problem("--catalog", "the shipped catalog is not a folder on disk", "give --catalog DIR")],
            what="command line",
        )
    doc = write.load(_entry_text(entry))
    problems: list[Problem] = []
    done: list[dict[str, object]] = []
    stamp = {"by": by.strip(), "date": today.isoformat(), **({"note": note} if note else {})}
    for cid in criterion_ids:
        item = write.find_criterion(doc, cid)
        if item is None:
            problems.append(
                Problem("--criterion", f"{trial_id} has no criterion {cid!r}", "see imnm trials list", cid)
            )
            continue
        stale, added = item.get("stale"), item.get("added")
        if stale is not None and stale.get("change") == "removed":
            for _co, _kind, items in write.criteria_lists(doc):
                if item in items:
                    items.remove(item)
            done.append({"id": cid, "action": "removed (no longer in the registry text)"})
        elif stale is not None:
            item["text"] = stale.get("registry_text")
            del item["stale"]
            write.set_key(item, "approved", dict(stamp), write.CRITERION_ORDER)
            done.append({"id": cid, "action": "rule re-approved for the registry's new text"})
        elif added is not None:
            del item["added"]
            write.set_key(item, "approved", dict(stamp), write.CRITERION_ORDER)
            done.append(
                {"id": cid, "action": "new criterion acknowledged (still for manual review until encoded)"}
            )
        else:
            problems.append(
                Problem(
                    "--criterion",
                    f"{cid} is not marked stale or added",
                    "nothing to approve",
                    cid,
                    entry.file,
                )
            )
    if problems:
        raise InputError(problems, what=entry.file)
    ef = doc.get("encoded_from")
    if ef is not None and ef.get("basis") == "catalog_text":
        from imnm.io.yaml import load_yaml_text

        interim = parse_trial(load_yaml_text(write.dump(doc), file=entry.file), file=str(target))
        ef["text_sha256"] = catalog_text_sha256(interim)
        ids = ", ".join(str(d["id"]) for d in done)
        ef["note"] = f"text_sha256 updated on {today.isoformat()} after {by.strip()} approved {ids}"
    write.write_checked(target, write.dump(doc))
    return Approved(trial_id, str(target), done)
