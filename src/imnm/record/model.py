"""Pydantic models of the patient record (YAML or JSON, same shape).

Conventions
- Omitted or `null` means **unknown**. It is never read as false, absent or normal.
- A list that is present but empty (`medications: []`) means "recorded: none".
- Numbers are strict (no strings, no booleans), dates are ISO `YYYY-MM-DD`, lab units are
  explicit and checked against `knowledge/data/labs.yaml`.
- Unknown field names are errors (with a "did you mean" hint), so a typo never hides a fact.
- NaN and infinity are refused wherever a number is expected.
- Every problem comes at once: cross-field checks (`Checked.cross_checks`: dates in order,
  plausible lab values, see `imnm.record.checks`) run in the same pass as the field checks, on the
  fields that did validate, even when others did not.
"""

from __future__ import annotations

import typing
from datetime import date
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from imnm.instruments.core_set import HaqItems, Mmt8
from imnm.record.checks import Issue
from imnm.record.vocabulary import (
    ANTIBODY_TARGETS,
    LAB_TESTS,
    canonical_target,
    lab_unit_factor,
)
from imnm.types import IsoDate, NonNegative, Positive, Vas10, fail


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)


class Checked(Strict):
    """A model with cross-field checks that run in the same pass as its field checks.

    `cross_checks` returns `Issue`s (path relative to the model). When some fields fail, the checks
    still run on a partial instance holding the fields that validated (failed fields are None, and
    list items that failed are None), so every problem is reported at once. On a partial instance the
    checks are best effort: one that cannot run on what is left (a nested item holds a field that
    failed, such as HAQ answers without their valid items) is skipped, and the field problems stand.
    """

    def cross_checks(self) -> list[Issue]:
        return []

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem_at_once(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            obj = handler(data)
        except ValidationError as exc:
            partial = _salvage(cls, data, exc)
            if partial is None:
                raise
            try:
                issues = partial.cross_checks()
            except Exception:  # needs a value that failed to validate: its own problem is reported
                raise exc from None
            if not issues:
                raise
            raise _merged(cls, exc, issues) from None
        issues = obj.cross_checks()
        if issues:
            raise _merged(cls, None, issues)
        return obj


def _loc(path: str) -> tuple[int | str, ...]:
    import re

    return tuple(int(i) if i else n for n, i in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]", path))


def _merged(cls: type[BaseModel], exc: ValidationError | None, issues: list[Issue]) -> ValidationError:
    from pydantic_core.core_schema import ErrorType

    known = set(typing.get_args(ErrorType))
    lines: list[InitErrorDetails] = []
    for e in exc.errors() if exc is not None else []:
        ctx = e.get("ctx")
        if e["type"] in known:
            item: InitErrorDetails = {"type": e["type"], "loc": e["loc"], "input": e["input"]}
            if ctx:
                item["ctx"] = ctx
        elif ctx and "message" in ctx:
            item = {
                "type": PydanticCustomError(e["type"], "{message}", ctx),
                "loc": e["loc"],
                "input": e["input"],
            }
        else:
            item = {
                "type": PydanticCustomError(e["type"], "{msg}", {**(ctx or {}), "msg": e["msg"]}),
                "loc": e["loc"],
                "input": e["input"],
            }
        lines.append(item)
    for i in issues:
        err = PydanticCustomError("imnm_invalid", "{message}", {"message": i.message, "fix": i.fix})
        lines.append({"type": err, "loc": _loc(i.path), "input": None})
    return ValidationError.from_exception_data(cls.__name__, lines)


@cache
def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


def _models_in(annotation: Any) -> tuple[type[BaseModel] | None, type[BaseModel] | None]:
    """(model, list item model) inside an annotation such as `Lab | None` or `list[Lab] | None`."""
    model = item = None
    for arg in typing.get_args(annotation) or (annotation,):
        if typing.get_origin(arg) is list:
            (inner,) = typing.get_args(arg)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                item = inner
        elif isinstance(arg, type) and issubclass(arg, BaseModel):
            model = arg
    return model, item


def _partial(model: type[BaseModel], raw: Any) -> Any:
    try:
        return _adapter(model).validate_python(raw)
    except ValidationError as exc:
        return _salvage(model, raw, exc)


def _salvage(cls: type[BaseModel], data: Any, exc: ValidationError) -> Any:
    """A partial instance from the fields (and list items) of `data` that validate on their own;
    fields that do not are None (a nested model or list item keeps its own valid fields)."""
    if not isinstance(data, dict):
        return None
    bad: set[int | str] = set()
    for e in exc.errors():
        if not e["loc"]:
            return None
        bad.add(e["loc"][0])
    values: dict[str, Any] = {}
    for name, field in cls.model_fields.items():
        if name not in data:
            if field.is_required():
                values[name] = None
            continue
        raw = data[name]
        if name not in bad:
            try:
                values[name] = _adapter(Annotated[field.annotation, field]).validate_python(raw)
            except ValidationError:  # a check on the model class (not on the field type) refused it
                values[name] = None
            continue
        model, item = _models_in(field.annotation)
        if item is not None and isinstance(raw, list):
            values[name] = [_partial(item, x) for x in raw]
        elif model is not None:
            values[name] = _partial(model, raw)
        else:
            values[name] = None
    return cls.model_construct(**values)


Tri = bool | None
"""true / false / omitted-or-null (= unknown)."""

SourceRef = Annotated[
    str | None,
    Field(
        description="Where the item came from in its source system (e.g. Observation/abc123, measurement/42)"
    ),
]


class Findings(Strict):
    """Clinical findings on examination or history; each true, false or unknown."""

    proximal_weakness_upper: Tri = Field(
        None, description="Objective symmetric weakness of the proximal arms (usually progressive)"
    )
    proximal_weakness_lower: Tri = Field(
        None, description="Objective symmetric weakness of the proximal legs (usually progressive)"
    )
    neck_flexors_weaker_than_extensors: Tri = None
    legs_proximal_weaker_than_distal: Tri = None
    finger_flexor_weakness: Tri = None
    distal_weakness: Tri = None
    asymmetric_weakness: Tri = None
    heliotrope_rash: Tri = None
    gottron_papules: Tri = None
    gottron_sign: Tri = None
    other_rash: Tri = None
    dysphagia: Tri = Field(None, description="Difficulty swallowing or abnormal oesophageal motility")
    dyspnea: Tri = None
    chronic_dry_cough: Tri = None
    myalgia: Tri = None
    dark_urine: Tri = None
    calf_involvement: Tri = None
    muscle_atrophy: Tri = None
    fatigue: Tri = None
    weight_loss: Tri = None
    fever: Tri = None
    arthritis: Tri = None
    raynaud: Tri = None
    mechanics_hands: Tri = None


class History(Strict):
    """Family, personal and treatment history."""

    family_history_muscle_disease: Tri = None
    cancer: Tri = Field(None, description="Active or previous malignancy")
    cancer_within_5_years: Tri = None
    improved_with_immunosuppression: Tri = None
    improved_after_statin_stop: Tri = Field(
        None, description="Weakness and CK normalised within weeks of stopping the statin"
    )
    interstitial_lung_disease: Tri = None
    cardiac_involvement: Tri = None
    pregnant: Tri = None
    breastfeeding: Tri = None
    genetic_myopathy_confirmed: Tri = None
    hypothyroidism: Tri = None
    meningococcal_disease: Tri = None
    organ_transplant: Tri = None
    hiv: Tri = None
    hepatitis_b: Tri = None
    hepatitis_c: Tri = None
    transaminases_from_myositis: Tri = Field(
        None,
        description="A raised AST/ALT is attributed to the myositis (muscle origin), not the liver, by the "
        "treating clinician (trial organ-function limits may then ignore it)",
    )


ExposureStatus = Literal["current", "past", "never"]


class Exposure(Strict):
    """Exposure to a drug or food (statin, red yeast rice, oyster mushrooms)."""

    status: ExposureStatus
    start: IsoDate | None = None
    stop: IsoDate | None = None
    ref: SourceRef = None

    @model_validator(mode="after")
    def _dates_fit_status(self) -> Exposure:
        if self.status == "never" and (self.start or self.stop):
            fail("status 'never' cannot have start or stop dates", "remove the dates or fix status")
        if self.status == "current" and self.stop:
            fail("status 'current' cannot have a stop date", "use status: past")
        return self  # start/stop order: imnm.record.checks (with every dated pair)


def _exposure_shorthand(value: object) -> object:
    if isinstance(value, str):
        return {"status": value}
    return value


class Exposures(Strict):
    """Exposures linked to anti-HMGCR myopathy. Write `never` or `{status: past, start, stop}`."""

    statin: Exposure | None = None
    red_yeast_rice: Exposure | None = None
    oyster_mushrooms: Exposure | None = None

    @field_validator("statin", "red_yeast_rice", "oyster_mushrooms", mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        return _exposure_shorthand(value)


class Lab(Strict):
    """One laboratory result, with the reporting lab's reference limit."""

    test: str = Field(description=f"One of: {', '.join(LAB_TESTS)}")
    value: NonNegative
    unit: str
    uln: Positive | None = Field(None, description="Upper limit of normal, in the same unit")
    lln: NonNegative | None = Field(None, description="Lower limit of normal, in the same unit")
    date: IsoDate | None = None
    ref: SourceRef = None

    @field_validator("test")
    @classmethod
    def _known_test(cls, value: str) -> str:
        if value not in LAB_TESTS:
            from difflib import get_close_matches

            close = get_close_matches(value.lower(), LAB_TESTS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            fail(
                f"{value!r} is not a lab test this record format knows",
                hint + f"use one of {', '.join(LAB_TESTS)}",
            )
        return value

    @field_validator("unit")
    @classmethod
    def _unit_fits_test(cls, value: str, info: ValidationInfo) -> str:
        test = info.data.get("test")
        if test is None:
            return value
        if lab_unit_factor(test, value) is None:
            from imnm.record.vocabulary import lab_units

            units = lab_units(test)
            by_factor: dict[float | None, str] = {}
            for u in units:  # one spelling per distinct conversion, e.g. "U/L or ukat/L"
                by_factor.setdefault(lab_unit_factor(test, u), u)
            label = "CK" if test == "ck" else test
            fail(
                f"{value!r} is not a unit for {label}",
                f"use {' or '.join(by_factor.values())} (accepted spellings: {', '.join(units)})",
            )
        return value


AntibodyResult = Literal["positive", "negative", "borderline"]
AntibodyMethod = Literal["ELISA", "CLIA", "line_blot", "immunoprecipitation", "IIF", "ALBIA", "other"]


class Antibody(Strict):
    """One autoantibody result."""

    target: str = Field(description="Antigen, e.g. HMGCR, SRP, Jo-1")
    result: AntibodyResult
    method: AntibodyMethod | None = None
    value: NonNegative | None = None
    unit: str | None = None
    band: Literal["weak", "moderate", "strong"] | None = Field(
        None, description="Line-blot band intensity, when the method is a line blot"
    )
    date: IsoDate | None = None
    ref: SourceRef = None

    @field_validator("target")
    @classmethod
    def _known_target(cls, value: str) -> str:
        canonical = canonical_target(value)
        if canonical is None:
            from difflib import get_close_matches

            close = get_close_matches(value, ANTIBODY_TARGETS, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}? " if close else ""
            fail(
                f"{value!r} is not a known autoantibody target",
                hint + f"use one of {', '.join(ANTIBODY_TARGETS)}",
            )
        return canonical


class Emg(Strict):
    """Needle electromyography."""

    date: IsoDate | None = None
    pattern: Literal["myopathic", "neuropathic", "mixed", "normal"] | None = None
    spontaneous_activity: Tri = Field(None, description="Fibrillations, positive sharp waves, CRDs")
    myotonic_discharges: Tri = None
    ref: SourceRef = None


class Mri(Strict):
    """Muscle MRI (STIR for oedema, T1 for fatty replacement)."""

    date: IsoDate | None = None
    edema: Tri = None
    fatty_replacement: Tri = None
    fascial_edema: Tri = None
    ref: SourceRef = None


Grade = Literal["none", "scattered", "prominent"]


class Biopsy(Checked):
    """Muscle biopsy. `performed: false` = not done; omit the whole block when unknown."""

    performed: bool
    date: IsoDate | None = None
    site: str | None = None
    necrotic_fibers: Grade | None = None
    regenerating_fibers: Tri = None
    inflammation: Literal["none", "sparse", "moderate", "prominent"] | None = None
    endomysial_infiltrate_surrounding_not_invading: Tri = None
    endomysial_infiltrate_invading_non_necrotic: Tri = None
    perimysial_or_perivascular_infiltrate: Tri = None
    perifascicular_atrophy: Tri = None
    rimmed_vacuoles: Tri = None
    mhc1_upregulation: Tri = None
    sarcolemmal_mac_deposition: Tri = None
    dystrophic_features: Tri = None
    dysferlin_deficient: Tri = None
    ref: SourceRef = None

    def cross_checks(self) -> list[Issue]:
        if self.performed is False:
            extra = [k for k, v in self if k not in ("performed", "ref") and v is not None]
            if extra:
                return [
                    Issue(
                        "",
                        f"performed is false but findings are given ({', '.join(extra)})",
                        "set performed: true or remove the findings",
                        overridable=False,
                    )
                ]
        return []


class Medication(Strict):
    """A medicine, with its dose and dates (open `stop` = still taking it)."""

    name: str = Field(min_length=1)
    dose_mg_per_day: NonNegative | None = None
    dose_mg_per_week: NonNegative | None = None
    dose_g_per_kg: NonNegative | None = None
    dose_mg_per_kg_per_day: NonNegative | None = Field(
        None, description="Weight-based daily dose as prescribed (e.g. azathioprine 2 mg/kg/day)"
    )
    dose: str | None = Field(None, description="Free-text dose when no structured field fits")
    route: str | None = None
    start: IsoDate | None = None
    stop: IsoDate | None = None
    ref: SourceRef = None


class PulmonaryFunction(Strict):
    """Pulmonary function tests (and chest CT for interstitial lung disease)."""

    date: IsoDate | None = None
    fvc_percent_predicted: Annotated[float, Field(ge=0, le=250)] | None = None
    dlco_percent_predicted: Annotated[float, Field(ge=0, le=250)] | None = None
    ild_on_ct: Tri = Field(None, description="Interstitial lung disease on chest CT")
    ref: SourceRef = None


class Cardiac(Strict):
    """Cardiac work-up: ECG, echocardiogram, troponin, cardiac MRI."""

    date: IsoDate | None = None
    ecg: Literal["normal", "abnormal"] | None = None
    lvef_percent: Annotated[float, Field(ge=0, le=100)] | None = Field(
        None, description="Left ventricular ejection fraction (echocardiogram or MRI)"
    )
    troponin_elevated: Tri = None
    cardiac_mri_abnormal: Tri = None
    ref: SourceRef = None


class Infection(Strict):
    """An infection episode (for trial safety windows)."""

    date: IsoDate | None = Field(None, description="Start date")
    kind: Literal["systemic", "local", "opportunistic", "other"] | None = None
    iv_antibiotics: Tri = None
    resolved: IsoDate | None = None
    name: str | None = None
    ref: SourceRef = None


class Vaccination(Strict):
    name: str = Field(min_length=1, description="e.g. meningococcal ACWY, meningococcal B")
    date: IsoDate | None = None
    ref: SourceRef = None


class Mmt13(Strict):
    """Manual muscle testing of 13 muscle groups, as a total with the highest total its scale allows.

    The percent loss is `100 × (maximum − total) / maximum`; the scale's grades are not converted, so
    the record states the maximum of the scale and sides it used."""

    total: NonNegative = Field(description="Sum of the grades of the 13 muscle groups (both sides if tested)")
    maximum: Positive = Field(
        description="The highest total possible on that scale for the groups and sides tested"
    )
    scale: str | None = Field(
        None, description="The grading scale as written, e.g. 'MRC 0-5' or 'Kendall 0-10'"
    )

    @model_validator(mode="after")
    def _total_within_maximum(self) -> Mmt13:
        if self.total > self.maximum:
            fail(
                f"total {self.total:g} is above maximum {self.maximum:g}",
                "give the total and the highest total the scale allows",
            )
        return self


class Visit(Checked):
    """A disease-activity assessment (IMACS core set measures) on one date."""

    date: IsoDate
    mmt8: Mmt8 | None = None
    physician_global: Vas10 | None = Field(None, description="Physician global activity, 0-10 cm VAS")
    patient_global: Vas10 | None = Field(None, description="Patient global activity, 0-10 cm VAS")
    extramuscular_global: Vas10 | None = Field(None, description="Extramuscular activity, 0-10 cm VAS")
    haq_di: Annotated[float, Field(ge=0, le=3)] | None = Field(None, description="HAQ-DI, 0-3")
    haq: HaqItems | None = Field(None, description="HAQ-DI item answers by category (index computed)")
    mmt13: Mmt13 | None = Field(
        None, description="Manual muscle testing of 13 muscle groups (total, maximum)"
    )
    ref: SourceRef = None

    def cross_checks(self) -> list[Issue]:
        if self.haq is not None and self.haq_di is not None:
            from imnm.instruments.haq import check_agreement

            try:
                check_agreement(self.haq_di, self.haq)
            except PydanticCustomError as exc:
                ctx = exc.context or {}
                return [Issue("", str(ctx.get("message", exc)), ctx.get("fix"), overridable=False)]
        return []


class Period(Strict):
    """A date range (both ends included)."""

    start: IsoDate
    end: IsoDate  # end before start: imnm.record.checks (with every dated pair)


class Coverage(Strict):
    """Periods over which a list section is known to be complete.

    A list that is present with no coverage entry is complete at all times ("recorded: none" means
    none ever). With an entry, absence counts as "no" only inside these periods (for example the
    OMOP observation periods of a registry); outside them it is unknown.
    """

    medications: list[Period] | None = None
    infections: list[Period] | None = None
    vaccinations: list[Period] | None = None


class Override(Strict):
    """Accept one value that the plausibility or date checks refuse (see `imnm.record.checks`)."""

    path: str = Field(
        min_length=1,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*)*$",
        description="The path an error named, e.g. labs[3].value",
    )
    reason: str = Field(min_length=1, description="Why the value is right although it looks wrong")

    @field_validator("reason")
    @classmethod
    def _said(cls, value: str) -> str:
        if not value.strip():
            fail("the reason is empty", "say why the value is right (who checked it, and how)")
        return value


ID_MAX_LENGTH = 200
"""A record id is one line of at most this many characters (FHIR ids are at most 64)."""


class Record(Checked):
    """Everything known about one patient. Omitted or null = unknown."""

    id: str = Field(
        min_length=1,
        description="Your identifier for the record (synthetic or pseudonymous): one line, at most 200 characters",
    )

    @field_validator("id")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if len(value) > ID_MAX_LENGTH:
            fail(
                f"the id is {len(value):,} characters long",
                f"use an identifier of at most {ID_MAX_LENGTH} characters",
            )
        bad = next((c for c in value if ord(c) < 32 or 127 <= ord(c) < 160), None)
        if bad is not None:
            fail(
                f"the id holds a control character ({bad!r})",
                "write the id on one line, without tabs or line breaks",
            )
        if not value.strip():
            fail("the id is blank", "give the record an identifier (synthetic or pseudonymous)")
        return value

    sex: Literal["female", "male"] | None = None
    birth_date: IsoDate | None = None
    symptom_onset: IsoDate | None = Field(
        None, description="Date of the first symptom assumed to be related to the disease"
    )
    age_at_onset: Annotated[float, Field(ge=0, le=120)] | None = Field(
        None, description="Age in years at the first related symptom, when dates are not known"
    )
    diagnosis_date: IsoDate | None = None
    weakness_onset: IsoDate | None = Field(
        None, description="Date objective muscle weakness was first found on examination"
    )
    findings: Findings = Field(default_factory=Findings)
    history: History = Field(default_factory=History)
    exposures: Exposures = Field(default_factory=Exposures)
    labs: list[Lab] | None = None
    antibodies: list[Antibody] | None = None
    emg: Emg | None = None
    mri: Mri | None = None
    biopsy: Biopsy | None = None
    medications: list[Medication] | None = Field(None, description="Omitted = unknown; [] = recorded as none")
    visits: list[Visit] | None = None
    pulmonary_function: list[PulmonaryFunction] | None = None
    cardiac: list[Cardiac] | None = None
    infections: list[Infection] | None = Field(None, description="Omitted = unknown; [] = recorded as none")
    vaccinations: list[Vaccination] | None = Field(
        None, description="Omitted = unknown; [] = recorded as none"
    )
    coverage: Coverage | None = Field(
        None, description="Periods over which list sections are complete (default: complete at all times)"
    )
    weight_kg: Annotated[float, Field(gt=0, le=400)] | None = None
    height_cm: Annotated[float, Field(gt=0, le=250)] | None = None
    overrides: list[Override] | None = Field(
        None,
        description="Values accepted although the plausibility or date checks refuse them, with a reason",
    )

    def cross_checks(self) -> list[Issue]:
        from imnm.record.checks import record_issues

        issues = record_issues(self)
        if self.age_at_onset is not None and self.birth_date and self.symptom_onset:
            derived = completed_years(self.birth_date, self.symptom_onset)
            if abs(derived - self.age_at_onset) >= 1:
                issues.append(
                    Issue(
                        "age_at_onset",
                        f"age_at_onset {self.age_at_onset:g} disagrees with birth_date and "
                        f"symptom_onset (age {derived})",
                        "give either the dates or age_at_onset, or make them agree",
                        overridable=False,
                    )
                )
        return issues

    def onset_age(self) -> float | None:
        """Age in years at the first related symptom: from the dates, else `age_at_onset`."""
        if self.birth_date and self.symptom_onset:
            return float(completed_years(self.birth_date, self.symptom_onset))
        return self.age_at_onset


def completed_years(born: date, on: date) -> int:
    """Age in completed years on a date (the usual clinical age)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
