"""The schema of one trial catalog file (`knowledge/data/trials/<id>.yaml`).

A file holds a trial's registry metadata, where the text came from (with the registry version
or the date it was taken, and the verification mark from the research notes), and its
inclusion and exclusion criteria, shared and per cohort. Each criterion keeps the registry
text verbatim and carries either a `rule` in the rule language (`imnm.core.rules`) or
`manual_review: true` with the `reason` it cannot be encoded. Documented assumptions (⚠️
choices such as "Screening = latest result within 30 days") are listed on the criterion.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from imnm.core.rules import Expr
from imnm.types import fail

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

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

ImnmRole = Literal["imnm_only", "includes_imnm", "rollover", "excludes_imnm", "not_imnm", "unreviewed"]
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
    truncated: bool = Field(False, description="The posted text of this criterion is cut off")
    note: str | None = Field(None, description="Parsing or transcription remark (merged or split bullets)")
    recognized_by: str | None = Field(None, description="Importer pattern that wrote the rule (drafts)")

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


class Trial(_Strict):
    """One catalog file."""

    id: str = Field(pattern=ID_PATTERN, description="NCT id (or another registry id)")
    acronym: str | None = None
    title: str = Field(min_length=1)
    official_title: str | None = None
    phases: list[str] = Field(default_factory=list, description="CT.gov v2 phases, e.g. PHASE2; [] = unknown")
    sponsor: str | None = None
    status: Status
    status_note: str | None = Field(None, description="Where and when the status was seen")
    conditions: list[str] = Field(default_factory=list)
    minimum_age: str | None = None
    maximum_age: str | None = None
    sex: Literal["ALL", "FEMALE", "MALE"] | None = None
    imnm: ImnmRole = Field(description="How the trial treats IMNM, per the research notes")
    draft: bool = Field(False, description="Written by `imnm trials import`; not reviewed by a person")
    source: Source
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
        return self

    def all_criteria(self) -> list[Criterion]:
        out = [*self.inclusion, *self.exclusion]
        for c in self.cohorts:
            out.extend(c.inclusion)
            out.extend(c.exclusion)
        return out

    @property
    def recruiting(self) -> bool:
        return self.status in OPEN_STATUSES
