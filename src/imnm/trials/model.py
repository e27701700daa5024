"""The schema of one trial catalog file (`knowledge/data/trials/<id>.yaml`).

A file holds a trial's registry metadata, where the text came from (with the registry version
or the date it was taken, and the verification mark from the research notes), and its
inclusion and exclusion criteria, shared and per cohort. Each criterion keeps the registry
text verbatim and carries either a `rule` in the rule language (`imnm.core.rules`) or
`manual_review: true` with the `reason` it cannot be encoded. Documented assumptions (⚠️
choices such as "Screening = latest result within 30 days") are listed on the criterion.

Freshness (issue 16, issue 9 item 14): `status_as_of` says when and where the status was seen
("recruiting per the registry record of 2024-11-11"); `encoded_from` records what the entry was
encoded from (registry version and date, a SHA-256 of the eligibility text, who encoded and reviewed
it); `registry_check` is the last `imnm trials update`. A criterion whose registry text changed or
disappeared carries `stale` (its rule no longer counts until a person re-approves or re-encodes it);
one that appeared in the registry carries `added`; `versions` keeps earlier registry wordings (for
example an age limit that changed between record versions).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from imnm.core.rules import Expr
from imnm.types import IsoDate, fail

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
SHA256 = r"^[0-9a-f]{64}$"
_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _partial_date(value: object) -> str:
    """`YYYY`, `YYYY-MM` or `YYYY-MM-DD` (registry dates may give only the month or the year)."""
    from datetime import date

    if isinstance(value, date):
        return value.isoformat()
    m = _PARTIAL_DATE.match(value) if isinstance(value, str) else None
    if not m:
        fail(f"{value!r} is not a date", "write YYYY-MM-DD (or YYYY-MM, or YYYY when only that is known)")
    year, month, day = int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1)
    try:
        date(year, month, day)
    except ValueError as exc:
        fail(f"{value!r} is not a real date ({exc})", "check the month and day")
    return str(value)


PartialDate = Annotated[str, BeforeValidator(_partial_date)]
"""A date known to the day, the month or the year (`2024-11-11`, `2024-11`, `2024`)."""

Status = Literal[
    "RECRUITING",
    "NOT_YET_RECRUITING",
    "ACTIVE_NOT_RECRUITING",
    "ENROLLING_BY_INVITATION",
    "COMPLETED",
    "TERMINATED",
    "WITHDRAWN",
    "SUSPENDED",
    "UNKNOWN",
]
OPEN_STATUSES = ("RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION")

Assessment = Literal["biopsy", "antibodies", "ck", "mmt8", "haq", "mri", "emg", "pft", "ecg_echo"]
"""Baseline assessments the checklist reports (see `imnm.trials.checklist`)."""

ImnmRole = Literal[
    "imnm_only", "includes_imnm", "rollover", "unclear", "excludes_imnm", "not_imnm", "unreviewed"
]
"""How a trial treats IMNM; `unclear`: the sources seen do not say whether IMNM may enrol."""
Mark = Literal["✅", "🟡", "⚠️", "❌"]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Source(_Strict):
    """Where the criteria text came from, and how far it can be trusted."""

    registry_urls: list[str] = Field(min_length=1, description="Registry or mirror pages with the text")
    other_urls: list[str] = Field(default_factory=list, description="Sponsor pages, publications")
    version: str = Field(
        min_length=1,
        description="Registry record version (versionHolder / lastUpdatePostDate) or when the text was taken",
    )
    mark: Mark = Field(description="trials.md legend: ✅ verified, 🟡 partial, ⚠️ uncertain, ❌ not found")
    reference: str = Field(min_length=1, description="Section of the research notes, e.g. trials.md §1.2")
    completeness: Literal["complete", "partial", "summary"]
    truncated: str | None = Field(None, description="Which part of the posted text was cut off")
    note: str | None = None

    @field_validator("registry_urls", "other_urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for u in value:
            if not re.match(r"^(https?://|file:)", u):
                fail(f"{u!r} is not a URL", "write the full https:// address")
        return value

    @model_validator(mode="after")
    def _truncation_said(self) -> Source:
        if self.completeness != "complete" and not self.truncated:
            fail(
                f"completeness is {self.completeness!r} but `truncated` does not say what is missing",
                "describe the missing or cut-off part in source.truncated",
            )
        return self


class Stale(_Strict):
    """The registry text of an encoded criterion changed (or disappeared) after it was encoded.

    Until a person re-approves the rule for the new text (`imnm trials approve`) or re-encodes it,
    the criterion never counts as met or not met: its result is "needs review: the registry text
    changed on DATE"."""

    change: Literal["changed", "removed"]
    since: PartialDate | None = Field(
        None, description="When the registry changed (lastUpdatePostDate of the record that differs)"
    )
    checked_on: IsoDate = Field(description="The day `imnm trials update` found the difference")
    registry_text: str | None = Field(None, description="The registry's new wording (changed only)")
    registry_version: str | None = Field(None, description="versionHolder of the record that differs")

    @model_validator(mode="after")
    def _text_when_changed(self) -> Stale:
        if self.change == "changed" and not (self.registry_text and self.registry_text.strip()):
            fail("a changed criterion needs the registry's new text", "put it in stale.registry_text")
        return self

    @property
    def day(self) -> str:
        """The date shown: when the registry changed, else when the change was found."""
        return self.since or self.checked_on.isoformat()


class Added(_Strict):
    """A criterion that appeared in the registry text after the entry was encoded."""

    since: PartialDate | None = Field(None, description="lastUpdatePostDate of the record that added it")
    checked_on: IsoDate
    registry_version: str | None = None


class Approval(_Strict):
    """A person confirmed that the rule fits the registry text after a change."""

    by: str = Field(min_length=1)
    date: IsoDate
    note: str | None = None


class CriterionVersion(_Strict):
    """An earlier registry wording of a criterion, with the rule it would have had."""

    version: str = Field(min_length=1, description="Which record version (date) showed this wording")
    text: str = Field(min_length=1)
    rule: Expr | None = None
    source: str | None = Field(None, description="Where this wording was seen")


class Criterion(_Strict):
    """One registry criterion: verbatim text plus a rule, or a manual-review reason."""

    id: str = Field(pattern=ID_PATTERN)
    text: str = Field(min_length=1, description="The registry text, verbatim")
    rule: Expr | None = None
    manual_review: bool = False
    reason: str | None = Field(None, description="Why it needs a person (required with manual_review)")
    assumptions: list[str] = Field(default_factory=list, description="Documented ⚠️ choices the rule makes")
    assessments: list[Assessment] = Field(
        default_factory=list, description="Baseline assessments it asks for beyond the facts its rule uses"
    )
    structured: bool = Field(False, description="From the registry's structured fields, not the text")
    verbatim: bool = Field(
        True,
        description="false: the text is a summary from the research notes, not the registry's own wording "
        "(such criteria are left out of the importer's coverage figures)",
    )
    truncated: bool = Field(False, description="The posted text of this criterion is cut off")
    note: str | None = Field(None, description="Parsing or transcription remark (merged or split bullets)")
    recognized_by: str | None = Field(None, description="Importer pattern that wrote the rule (drafts)")
    stale: Stale | None = Field(None, description="The registry text changed after this was encoded")
    added: Added | None = Field(None, description="New in the registry text after the entry was encoded")
    approved: Approval | None = Field(None, description="Re-approved by a person after a registry change")
    versions: list[CriterionVersion] = Field(
        default_factory=list,
        description="Earlier registry wordings (the criterion's own text and rule are the version in force)",
    )

    @model_validator(mode="after")
    def _rule_or_review(self) -> Criterion:
        if self.rule is None and not self.manual_review:
            fail("a criterion needs a rule or manual_review: true", "add a rule, or manual_review and reason")
        if self.rule is not None and self.manual_review:
            fail("a criterion has both a rule and manual_review: true", "keep one of them")
        if self.manual_review and not (self.reason and self.reason.strip()):
            fail("manual_review: true needs a reason", "say why the criterion cannot be encoded")
        return self


class Cohort(_Strict):
    """A cohort with its own criteria; the trial's shared criteria apply too."""

    id: str = Field(pattern=ID_PATTERN)
    label: str = Field(min_length=1)
    inclusion: list[Criterion] = Field(default_factory=list)
    exclusion: list[Criterion] = Field(default_factory=list)


SourceKind = Literal["registry", "mirror", "site", "sponsor", "publication", "notes", "file"]


class StatusAsOf(_Strict):
    """When and where the trial's status was seen (issue 9 item 14)."""

    date: PartialDate | None = Field(
        description="The date the source gives for the status (registry lastUpdatePostDate, a listing's "
        "update date); null when the source gives none"
    )
    source: str = Field(
        min_length=1, description="Where it was seen, e.g. 'registry record', 'CenterWatch listing'"
    )
    kind: SourceKind
    url: str | None = None
    checked_on: IsoDate | None = Field(
        None, description="The day `imnm trials update` read it from the registry"
    )

    def describe(self) -> str:
        when = f" of {self.date}" if self.date else " (no date given)"
        checked = f", checked {self.checked_on.isoformat()}" if self.checked_on else ""
        return f"per the {self.source}{when}{checked}"


class DateStruct(_Strict):
    date: PartialDate
    type: Literal["ACTUAL", "ESTIMATED"] | None = None


class TrialDates(_Strict):
    """Registry dates (statusModule *DateStruct)."""

    start: DateStruct | None = None
    primary_completion: DateStruct | None = None
    completion: DateStruct | None = None
    first_posted: DateStruct | None = None
    last_update_posted: DateStruct | None = None


class Contact(_Strict):
    name: str | None = None
    role: str | None = Field(None, description="e.g. CONTACT, BACKUP, PRINCIPAL_INVESTIGATOR")
    affiliation: str | None = None
    phone: str | None = None
    email: str | None = None


class Site(_Strict):
    """A place the trial enrols (contactsLocationsModule.locations[] in the registry)."""

    facility: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    status: str | None = Field(None, description="Site recruitment status, e.g. RECRUITING")
    contacts: list[Contact] = Field(default_factory=list)
    source: str | None = Field(None, description="Where this site was seen (when not the registry record)")

    @model_validator(mode="after")
    def _somewhere(self) -> Site:
        if not (self.facility or self.city or self.country):
            fail("a site needs a facility, a city or a country", "give at least one of them")
        return self

    def describe(self) -> str:
        place = ", ".join(x for x in (self.city, self.state, self.country) if x)
        text = self.facility or place
        if self.facility and place:
            text += f" ({place})"
        if self.status:
            text += f" [{self.status.replace('_', ' ').lower()}]"
        return text


class EncodedFrom(_Strict):
    """What the entry's criteria were encoded from, and by whom (issue 16 item 3)."""

    basis: Literal["catalog_text", "registry_record"] = Field(
        description="catalog_text: the hash is over the criterion texts this entry holds (the baseline for "
        "entries written from mirrors); registry_record: over the registry's eligibilityCriteria"
    )
    text_sha256: str = Field(
        pattern=SHA256, description="SHA-256 of the eligibility text (imnm.trials.drift)"
    )
    registry_version: str | None = Field(None, description="versionHolder of the record encoded from")
    registry_last_update: PartialDate | None = Field(None, description="lastUpdatePostDate of that record")
    text_date: PartialDate | None = Field(None, description="When the text was taken, when the source says")
    text_source: str = Field(min_length=1, description="Where the text came from")
    encoded_by: str = Field(min_length=1)
    encoded_on: IsoDate | None = None
    reviewed_by: str | None = Field(
        None, description="Who checked the rules against the text (null: nobody yet)"
    )
    reviewed_on: IsoDate | None = None
    note: str | None = None


class RegistryCheck(_Strict):
    """The last time `imnm trials update` read this trial's registry record."""

    checked_on: IsoDate
    url: str = Field(min_length=1)
    version_holder: str | None = None
    last_update_posted: PartialDate | None = None
    status: str
    text_sha256: str = Field(pattern=SHA256, description="SHA-256 of the registry's eligibility text")
    criteria: Literal["unchanged", "changed", "baseline"] = Field(
        description="unchanged: same text as the previous check; changed: differences were marked; "
        "baseline: first check, compared with the catalog text"
    )


class Trial(_Strict):
    """One catalog file."""

    id: str = Field(pattern=ID_PATTERN, description="NCT id (or another registry id)")
    acronym: str | None = None
    title: str = Field(min_length=1)
    official_title: str | None = None
    phases: list[str] = Field(default_factory=list, description="CT.gov v2 phases, e.g. PHASE2; [] = unknown")
    sponsor: str | None = None
    status: Status
    status_note: str | None = Field(None, description="Where and when the status was seen (free text)")
    status_as_of: StatusAsOf | None = Field(None, description="The status's date and source (structured)")
    why_stopped: str | None = Field(None, description="statusModule.whyStopped")
    dates: TrialDates | None = None
    parent_trial: str | None = Field(
        None,
        pattern=ID_PATTERN,
        description="A rollover or extension study: the trial a participant must come from",
    )
    sites: list[Site] = Field(default_factory=list)
    sites_note: str | None = Field(None, description="e.g. how many sites the sources list in all")
    contacts: list[Contact] = Field(
        default_factory=list, description="Central contacts and overall officials"
    )
    conditions: list[str] = Field(default_factory=list)
    minimum_age: str | None = None
    maximum_age: str | None = None
    sex: Literal["ALL", "FEMALE", "MALE"] | None = None
    imnm: ImnmRole = Field(description="How the trial treats IMNM, per the research notes")
    draft: bool = Field(False, description="Written by `imnm trials import`; not reviewed by a person")
    source: Source
    encoded_from: EncodedFrom | None = None
    registry_check: RegistryCheck | None = None
    assumptions: list[str] = Field(default_factory=list, description="Trial-wide documented choices")
    inclusion: list[Criterion] = Field(default_factory=list)
    exclusion: list[Criterion] = Field(default_factory=list)
    cohorts: list[Cohort] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> Trial:
        seen: set[str] = set()
        for c in self.all_criteria():
            if c.id in seen:
                fail(f"criterion id {c.id!r} is used twice", "give every criterion its own id")
            seen.add(c.id)
        cohorts = [c.id for c in self.cohorts]
        if len(set(cohorts)) != len(cohorts):
            fail("two cohorts share an id", "give every cohort its own id")
        if not self.all_criteria():
            fail("the trial has no criteria", "add inclusion or exclusion criteria")
        if self.imnm == "rollover" and not self.parent_trial:
            fail(
                "a rollover or extension study must say which trial it needs",
                "name the parent trial's id in parent_trial",
            )
        return self

    def stale_criteria(self) -> list[Criterion]:
        return [c for c in self.all_criteria() if c.stale is not None]

    def added_criteria(self) -> list[Criterion]:
        return [c for c in self.all_criteria() if c.added is not None]

    def all_criteria(self) -> list[Criterion]:
        out = [*self.inclusion, *self.exclusion]
        for c in self.cohorts:
            out.extend(c.inclusion)
            out.extend(c.exclusion)
        return out

    @property
    def recruiting(self) -> bool:
        return self.status in OPEN_STATUSES
