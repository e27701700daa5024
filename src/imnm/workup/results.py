"""The shapes of the work-up's results: every part of an `Assessment`, typed.

They are `TypedDict`s: the JSON document of `imnm assess --json` is exactly these mappings, and mypy
checks every key that the work-up writes and every key that a renderer (text, web, reports, FHIR)
reads. `NotRequired` marks the keys present only in some states (a CK that was never measured has
no peak).
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

TrendStep = TypedDict("TrendStep", {"from": str, "to": str, "direction": str, "change_percent": float})


class CkTrend(TypedDict):
    measure: str
    overall: str
    change_percent: float
    steps: list[TrendStep]
    stable_within_percent: float
    choice: str


class CkRow(TypedDict):
    source: str
    ref: str | None
    date: Any  # a date while computing, its ISO string in the results
    value: object
    unit: str | None
    u_per_l: float
    uln: float | None
    fold: float | None
    fold_min: float | None
    fold_max: float | None
    band: str | None
    band_label: str
    band_source: str | None
    above_1000_u_per_l: bool
    note: str | None


class CkInterpretation(TypedDict):
    status: str
    summary: str
    results: list[CkRow]
    trend: CkTrend | None
    missing_test: NotRequired[str]
    peak_fold: NotRequired[float | None]
    peak_u_per_l: NotRequired[float]
    latest_fold: NotRequired[float | None]
    latest_u_per_l: NotRequired[float]
    context: NotRequired[str | None]
    source: NotRequired[str]


class AntibodyTarget(TypedDict):
    status: str | None
    confirmed_positive: bool | None
    meaning: str
    notes: list[str]


class AntibodyResult(TypedDict):
    source: str
    target: str
    result: str
    method: str | None
    value: float | None
    unit: str | None
    band: str | None
    date: str | None
    strength: str | None
    strength_basis: str
    counts_as_confirmed: bool | None
    confirmatory_method: bool
    notes: list[str]


class AntibodyInterpretation(TypedDict):
    targets: dict[str, AntibodyTarget]
    results: list[AntibodyResult]
    status: str
    source: str


class EmgInterpretation(TypedDict):
    status: str
    summary: str
    pattern: str | None
    date: NotRequired[str | None]
    does_not_tell: NotRequired[str]
    notes: NotRequired[list[str]]
    source: NotRequired[str]


class MriFinding(TypedDict):
    finding: str
    value: bool | None
    text: str
    source: NotRequired[str]


class MriInterpretation(TypedDict):
    status: str
    summary: str
    findings: list[MriFinding]
    date: NotRequired[str | None]
    lasting_damage: NotRequired[bool]


class BiopsyPattern(TypedDict):
    id: str
    label: str
    truth: str
    meaning: str
    evidence: list[str]
    missing: list[str]
    source: str


class BiopsyInterpretation(TypedDict):
    status: str
    summary: str
    patterns: list[BiopsyPattern]
    date: NotRequired[str | None]
    site: NotRequired[object]
    pattern: NotRequired[list[str]]


class Interpretation(TypedDict):
    ck: CkInterpretation
    antibodies: AntibodyInterpretation
    emg: EmgInterpretation
    biopsy: BiopsyInterpretation
    mri: MriInterpretation


class MimicFeature(TypedDict):
    text: str
    truth: str
    evidence: list[str]
    missing_tests: list[str]
    supporting_only: NotRequired[bool]


class Mimic(TypedDict):
    id: str
    label: str
    applies: str
    verdict: str
    features_for_mimic: list[MimicFeature]
    features_for_imnm: list[MimicFeature]
    published_features_for_mimic: list[Any]
    published_features_for_imnm: list[Any]
    key_tests: list[str]
    notes: list[str]
    source: str


class WorkupItem(TypedDict):
    id: str
    status: str
    tests: list[str]
    priority: NotRequired[str]  # safety: a dangerous finding is present (ranks before classification tests)
    why: str
    source: str
    done: NotRequired[list[str]]
    evidence: NotRequired[list[str]]
    evidence_note: NotRequired[str]


class Statin(TypedDict):
    status: str
    summary: str
    courses: list[str]
    red_yeast_rice: object
    anti_hmgcr: str
    clinician_review: str | None
    notes: list[str]
    source: str


class Flag(TypedDict):
    id: str
    text: str
    source: str


class NextTest(TypedDict):
    test: str
    name: str
    plain_name: str
    plain_description: str
    invasiveness: int
    tier: str
    why: str
    could_change: list[str]
    together_with_other_tests: list[str]
    settles: list[str]
    rank: NotRequired[int]


class Disagreement(TypedDict):
    """A score whose category differs by the published cut-off and by the probability (❗ category_basis)."""

    version: str
    score: float
    probability: float
    by_score: str
    by_probability: str
    used: str
    note: str
