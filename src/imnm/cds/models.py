"""Pydantic models of CDS Hooks 2.0 (request, response, discovery, feedback) and their invariants.

Written from the HL7 logical models `CDSHooks{Request,Response,Services,Feedback}.fsh` and `invariants.fsh`
(HL7/cds-hooks @ fb10ca77). Error invariants are enforced (a model that violates them does not validate);
warning invariants (cds-r-2, cds-resp-2) are reported by `warnings()` and never reject input. Card and
suggestion `uuid`s are strings: the FSH types them `uuid`, but real clients send other ids (the Da Vinci CRD
test kit's valid cards do), so only their presence is modelled. A summary must be shorter than 140
characters ("<140", also Inferno's check).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Coding(BaseModel):
    model_config = ConfigDict(extra="allow")
    system: str | None = None
    code: str | None = None
    display: str | None = None
    version: str | None = None


# ------------------------------------------------------------------ discovery


class CdsService(_Base):
    hook: str = Field(min_length=1)
    title: str | None = None
    description: str
    id: str = Field(min_length=1)
    prefetch: dict[str, str] | None = None
    usageRequirements: str | None = None
    version: str | None = None
    extension: dict[str, Any] | None = None


class Discovery(_Base):
    services: list[CdsService]


# ------------------------------------------------------------------ request


class FhirAuthorization(_Base):
    access_token: str = Field(min_length=1)
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str
    subject: str
    patient: str | None = None


class CdsRequest(_Base):
    hook: str = Field(min_length=1)
    hookInstance: str = Field(min_length=1)
    fhirServer: str | None = None
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None
    extension: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _cds_r_1(self) -> CdsRequest:
        if self.fhirAuthorization is not None and not self.fhirServer:
            raise ValueError(
                "cds-r-1: if fhirAuthorization details are provided, a fhirServer SHALL be specified"
            )
        return self

    def warnings(self) -> list[str]:
        a = self.fhirAuthorization
        if a is not None and "patient/" in a.scope and not a.patient:
            return ["cds-r-2: patient scopes granted but fhirAuthorization.patient is not populated"]
        return []


# ------------------------------------------------------------------ response


class Source(_Base):
    label: str = Field(min_length=1)
    url: str | None = None
    icon: str | None = None
    topic: Coding | None = None


class Action(_Base):
    type: Literal["create", "update", "delete"]
    description: str | None = None
    resource: dict[str, Any] | None = None
    resourceId: str | list[str] | None = None

    def warnings(self) -> list[str]:
        if self.type == "delete" and (self.resourceId is None or self.resource is not None):
            return ["cds-resp-2: a delete action should give resourceId and no resource"]
        return []


class Suggestion(_Base):
    label: str = Field(min_length=1)
    uuid: str | None = None
    isRecommended: bool | None = None
    actions: list[Action] | None = None
    actionSelectionBehavior: Literal["all", "any", "at-most-one"] | None = None  # cds-resp-7

    @model_validator(mode="after")
    def _cds_resp_5(self) -> Suggestion:
        if any(a.description is None for a in self.actions or []):
            raise ValueError("cds-resp-5: all suggestion actions must have a description")
        return self


class OverrideReason(Coding):
    display: str  # cds-resp-4: a display value for each reason's Coding


class Link(_Base):
    label: str = Field(min_length=1)
    url: str = Field(min_length=1)
    type: Literal["absolute", "smart"]
    appContext: str | None = None
    autolaunchable: bool | None = None

    @model_validator(mode="after")
    def _cds_resp_3(self) -> Link:
        if self.type != "smart" and self.appContext is not None:
            raise ValueError("cds-resp-3: appContext only for smart apps")
        return self


class Card(_Base):
    uuid: str | None = None
    summary: str = Field(min_length=1, max_length=139)
    detail: str | None = None
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[Suggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[OverrideReason] | None = None
    links: list[Link] | None = None

    @model_validator(mode="after")
    def _invariants(self) -> Card:
        if self.suggestions and self.selectionBehavior is None:
            raise ValueError(
                "cds-resp-6: if suggestions are present, selectionBehavior MUST also be provided"
            )
        recommended = sum(1 for s in self.suggestions or [] if s.isRecommended)
        if self.selectionBehavior == "at-most-one" and recommended > 1:
            raise ValueError(
                "cds-resp-1: only one suggestion can be recommended if selectionBehavior = at-most-one"
            )
        return self

    def warnings(self) -> list[str]:
        return [w for s in self.suggestions or [] for a in s.actions or [] for w in a.warnings()]


class CdsResponse(_Base):
    cards: list[Card]
    systemActions: list[Action] | None = None


# ------------------------------------------------------------------ feedback


class AcceptedSuggestion(_Base):
    id: str = Field(min_length=1)


class OverrideReasonFeedback(_Base):
    reason: Coding | None = None
    userComment: str | None = None

    @model_validator(mode="after")
    def _cds_fb_3(self) -> OverrideReasonFeedback:
        if self.reason is None and self.userComment is None:
            raise ValueError("cds-fb-3: an overrideReason must contain a reason, a userComment, or both")
        return self


class FeedbackEntry(_Base):
    card: str = Field(min_length=1)
    outcome: Literal["accepted", "overridden"]  # cds-fb-1
    acceptedSuggestions: list[AcceptedSuggestion] | None = None
    overrideReason: OverrideReasonFeedback | None = None
    outcomeTimestamp: str = Field(min_length=1)

    @model_validator(mode="after")
    def _cds_fb_2(self) -> FeedbackEntry:
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("cds-fb-2: if outcome is 'accepted', acceptedSuggestions SHALL be provided")
        return self


class Feedback(_Base):
    feedback: list[FeedbackEntry]
