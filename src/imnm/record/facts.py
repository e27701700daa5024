"""The base fact vocabulary, read from a `Record`.

Every fact says which test or question supplies it (`test` is an id in
`knowledge/data/tests.yaml`; `ask` is the phrase shown when it is missing). Later modules add
derived facts (ENMC subtype, EULAR/ACR score, TIS …) to the same `REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from imnm import knowledge
from imnm.core.facts import FactKind, FactSpec, Interval, NumRange, Observation, Registry, scalar
from imnm.core.quantities import fold_over_uln, to_canonical
from imnm.record.asof import as_of_view
from imnm.record.model import Biopsy, Emg, Exposure, Findings, History, Mri, Record, completed_years
from imnm.record.vocabulary import (
    ANTIBODY_TARGETS,
    LAB_TESTS,
    lab_canonical_unit,
    lab_label,
    lab_unit_factor,
)
from imnm.settings import Settings

REGISTRY = Registry()

Obs = tuple[Observation, ...] | None


@dataclass(frozen=True, slots=True)
class Context:
    """What fact resolution needs besides the record: the evaluation date and settings."""

    as_of: date
    settings: Settings = field(default_factory=Settings)


def fact(
    name: str,
    kind: FactKind,
    label: str,
    ask: str,
    test: str,
    *,
    unit: str | None = None,
    values: tuple[str, ...] | None = None,
    dated: bool = False,
    description: str = "",
) -> Callable[[Callable[[Record, Context], Obs]], Callable[[Record, Context], Obs]]:
    """Register a fact with its resolver (decorator)."""

    def wrap(fn: Callable[[Record, Context], Obs]) -> Callable[[Record, Context], Obs]:
        REGISTRY.register(FactSpec(name, kind, label, ask, test, unit, values, dated, description, fn))
        return fn

    return wrap


class RecordFacts:
    """A `FactSource` over one record at one evaluation date (resolved lazily, cached)."""

    __slots__ = ("_cache", "_needs", "context", "record", "registry")

    def __init__(
        self, record: Record, *, as_of: date, settings: Settings | None = None, registry: Registry = REGISTRY
    ) -> None:
        self.record = as_of_view(record, as_of)  # results dated after as_of are not known yet
        self.context = Context(as_of, settings or Settings())
        self.registry = registry
        self._cache: dict[str, Obs] = {}
        self._needs: dict[str, tuple[str, ...]] = {}

    def get(self, name: str) -> Obs:
        try:
            return self._cache[name]
        except KeyError:
            pass
        spec = self.registry[name]
        assert spec.resolve is not None, f"fact {name} has no resolver"
        value = spec.resolve(self.record, self.context)
        self._cache[name] = value
        return value

    def needs(self, name: str) -> tuple[str, ...]:
        """For an unknown derived fact: the underlying facts that would settle it."""
        try:
            return self._needs[name]
        except KeyError:
            pass
        spec = self.registry[name]
        out = spec.needs(self.record, self.context) if spec.needs else ()
        self._needs[name] = out
        return out


# ------------------------------------------------------------------ demographics


@fact("sex", "enum", "sex", "sex (question)", "history", values=("female", "male"))
def _sex(rec: Record, ctx: Context) -> Obs:
    return scalar(rec.sex, source="sex")


@fact(
    "age",
    "number",
    "age",
    "date of birth (question)",
    "history",
    unit="years",
    description="Age in completed years on the evaluation date",
)
def _age(rec: Record, ctx: Context) -> Obs:
    if rec.birth_date is None:
        return None
    return scalar(float(completed_years(rec.birth_date, ctx.as_of)), source="birth_date")


@fact(
    "age_at_onset",
    "number",
    "age at onset of the first related symptom",
    "date of birth and date of the first muscle symptom (question)",
    "history",
    unit="years",
)
def _age_at_onset(rec: Record, ctx: Context) -> Obs:
    if rec.birth_date and rec.symptom_onset:
        return scalar(rec.onset_age(), source="birth_date, symptom_onset")
    return scalar(rec.age_at_onset, source="age_at_onset")


for _name, _label in (
    ("birth_date", "date of birth"),
    ("symptom_onset", "date of the first related symptom"),
    ("diagnosis_date", "date of diagnosis"),
):

    def _date_fact(rec: Record, ctx: Context, _n: str = _name) -> Obs:
        return scalar(getattr(rec, _n), source=_n)

    REGISTRY.register(FactSpec(_name, "date", _label, f"{_label} (question)", "history", resolve=_date_fact))


@fact(
    "disease_duration_months",
    "number",
    "time since the first related symptom",
    "date of the first muscle symptom (question)",
    "history",
    unit="months",
)
def _duration(rec: Record, ctx: Context) -> Obs:
    if rec.symptom_onset is None:
        return None
    months = (ctx.as_of - rec.symptom_onset).days / (365.25 / 12)
    return scalar(round(months, 1), source="symptom_onset")


# ------------------------------------------------------------------ findings and history

_FINDING_TEST = {
    "proximal_weakness_upper": (
        "strength_exam",
        "objective strength testing of the shoulders and upper arms (examination)",
    ),
    "proximal_weakness_lower": (
        "strength_exam",
        "objective strength testing of the hips and thighs (examination)",
    ),
    "neck_flexors_weaker_than_extensors": ("strength_exam", "neck flexor vs extensor strength (examination)"),
    "legs_proximal_weaker_than_distal": ("strength_exam", "proximal vs distal leg strength (examination)"),
    "finger_flexor_weakness": ("strength_exam", "finger flexor strength (examination)"),
    "distal_weakness": ("strength_exam", "distal strength (examination)"),
    "asymmetric_weakness": ("strength_exam", "side-to-side strength comparison (examination)"),
    "muscle_atrophy": ("strength_exam", "muscle bulk (examination)"),
    "calf_involvement": ("strength_exam", "calf bulk and strength (examination)"),
    "heliotrope_rash": ("skin_exam", "eyelid skin (examination for heliotrope rash)"),
    "gottron_papules": ("skin_exam", "knuckle and joint skin (examination for Gottron papules)"),
    "gottron_sign": ("skin_exam", "knuckle and joint skin (examination for Gottron sign)"),
    "other_rash": ("skin_exam", "skin examination"),
    "mechanics_hands": ("skin_exam", "hands (examination for mechanic's hands)"),
}


def _finding_fact(section: str, model: type[Findings] | type[History]) -> None:
    for fname, finfo in model.model_fields.items():
        test, ask = _FINDING_TEST.get(fname, ("history", f"{fname.replace('_', ' ')} (question)"))
        label = (finfo.description or fname.replace("_", " ")).split(" (")[0]
        if finfo.description is None:
            label = fname.replace("_", " ")

        def resolve(rec: Record, ctx: Context, _s: str = section, _f: str = fname) -> Obs:
            return scalar(getattr(getattr(rec, _s), _f), source=f"{_s}.{_f}")

        REGISTRY.register(FactSpec(f"{section}.{fname}", "bool", label, ask, test, resolve=resolve))


_finding_fact("findings", Findings)
_finding_fact("history", History)


# ------------------------------------------------------------------ exposures and medications


def _interval(exp: Exposure) -> Interval:
    return Interval(exp.start, exp.stop, ongoing=exp.status == "current")


for _exp in ("statin", "red_yeast_rice", "oyster_mushrooms"):
    _lbl = _exp.replace("_", " ")

    def _exp_event(rec: Record, ctx: Context, _e: str = _exp) -> Obs:
        exp: Exposure | None = getattr(rec.exposures, _e)
        if exp is None:
            return None
        if exp.status == "never":
            return ()
        return (Observation(_interval(exp), exp.start, f"exposures.{_e}"),)

    def _exp_status(rec: Record, ctx: Context, _e: str = _exp) -> Obs:
        exp: Exposure | None = getattr(rec.exposures, _e)
        return None if exp is None else scalar(exp.status, source=f"exposures.{_e}.status")

    REGISTRY.register(
        FactSpec(
            f"exposure.{_exp}",
            "event",
            f"{_lbl} exposure",
            f"{_lbl} use, with start and stop dates (question)",
            "history",
            dated=True,
            resolve=_exp_event,
        )
    )
    REGISTRY.register(
        FactSpec(
            f"exposure.{_exp}.status",
            "enum",
            f"{_lbl} exposure status",
            f"{_lbl} use: current, past or never (question)",
            "history",
            values=("current", "past", "never"),
            resolve=_exp_status,
        )
    )


@cache
def _med_classes() -> dict[str, dict[str, Any]]:
    classes: dict[str, dict[str, Any]] = knowledge.load("medications")["classes"]
    return classes


def medication_matches(name: str, cls: str) -> bool:
    """Does a record's medication name belong to a class in `medications.yaml`?"""
    key = name.strip().lower()
    return any(key == n or key.startswith(n + " ") for n in _med_classes()[cls]["names"])


for _cls, _info in _med_classes().items():

    def _med(rec: Record, ctx: Context, _c: str = _cls) -> Obs:
        if rec.medications is None:
            return None
        out = []
        for i, m in enumerate(rec.medications):
            if medication_matches(m.name, _c):
                out.append(
                    Observation(
                        Interval(m.start, m.stop, ongoing=m.stop is None and m.start is not None),
                        m.start,
                        f"medications[{i}]",
                        m.name,
                    )
                )
        return tuple(out)

    REGISTRY.register(
        FactSpec(
            f"medication.{_cls}",
            "event",
            str(_info["label"]),
            f"medication history: {_info['label']}, with dates (question)",
            "history",
            dated=True,
            resolve=_med,
        )
    )


# ------------------------------------------------------------------ labs


def _uln(rec: Record, lab_test: str, uln: float | None, ctx: Context) -> tuple[float | None, str | None]:
    """The ULN to use (in the lab's own unit) and a note when a default was assumed.

    Only CK has documented defaults (`ck.yaml`, choice `default_uln`, ❗); the default is none.
    """
    if uln is not None:
        return uln, None
    policy = ctx.settings.default_uln
    if policy == "none" or lab_test != "ck":
        return None, None
    values = knowledge.load("ck")["default_uln"]["values"].get(policy) or {}
    default = values.get("any", values.get(rec.sex or "", None))
    if default is None:
        return None, None
    return float(default), (
        f"ULN not reported; default {default:g} U/L assumed "
        f"(ck.default_uln={policy}, {values.get('source', '')})"
    )


def _lab_facts(test: str) -> None:
    canonical = lab_canonical_unit(test)
    label = lab_label(test)

    def value(rec: Record, ctx: Context, _t: str = test) -> Obs:
        if not rec.labs:
            return None
        out = []
        for i, lab in enumerate(rec.labs):
            if lab.test == _t:
                factor = lab_unit_factor(_t, lab.unit) or 1.0
                note = None if factor == 1.0 else f"{lab.value:g} {lab.unit} converted to {canonical}"
                out.append(Observation(to_canonical(lab.value, factor), lab.date, f"labs[{i}]", note))
        return tuple(out) or None

    def fold(rec: Record, ctx: Context, _t: str = test) -> Obs:
        if not rec.labs:
            return None
        out = []
        for i, lab in enumerate(rec.labs):
            if lab.test != _t:
                continue
            factor = lab_unit_factor(_t, lab.unit) or 1.0
            uln, note = _uln(rec, _t, lab.uln, ctx)
            if uln is None:
                continue
            # a default ULN is in the canonical unit; a reported ULN is in the result's unit
            v = to_canonical(lab.value, factor) if note else lab.value
            out.append(Observation(round(fold_over_uln(v, uln), 3), lab.date, f"labs[{i}]", note))
        return tuple(out) or None

    REGISTRY.register(
        FactSpec(
            f"lab.{test}",
            "number",
            label,
            f"{label} (blood test)",
            test if test == "ck" else ("tsh" if test in ("tsh", "free_t4") else "muscle_enzymes"),
            unit=canonical,
            dated=True,
            resolve=value,
        )
    )
    if test in ("ck", "aldolase", "ast", "alt", "ldh"):
        REGISTRY.register(
            FactSpec(
                f"lab.{test}.fold",
                "number",
                f"{label} × upper limit of normal",
                f"{label} (blood test) with the lab's upper limit of normal",
                "ck" if test == "ck" else "muscle_enzymes",
                unit="xULN",
                dated=True,
                resolve=fold,
            )
        )


for _t in LAB_TESTS:
    _lab_facts(_t)

_ENZYMES = ("ck", "aldolase", "ast", "alt", "ldh")


def _any_enzyme_fold(rec: Record, ctx: Context) -> Obs:
    out: list[Observation] = []
    for t in _ENZYMES:
        obs = REGISTRY[f"lab.{t}.fold"].resolve(rec, ctx)  # type: ignore[misc]
        if obs:
            out.extend(
                Observation(o.value, o.date, o.source, f"{lab_label(t)}" + (f"; {o.note}" if o.note else ""))
                for o in obs
            )
    return tuple(out) or None


REGISTRY.register(
    FactSpec(
        "lab.muscle_enzyme.fold",
        "number",
        "muscle enzyme (CK, aldolase, AST, ALT or LDH) × ULN",
        "muscle enzymes (blood tests: CK, aldolase, AST, ALT, LDH) with the lab's upper limits",
        "muscle_enzymes",
        unit="xULN",
        dated=True,
        resolve=_any_enzyme_fold,
        description="Every enzyme result as a fold over its ULN; use select: max for 'any enzyme'",
    )
)


# ------------------------------------------------------------------ antibodies

_AB_TEST = {"HMGCR": "anti_hmgcr", "SRP": "anti_srp", "Jo-1": "anti_jo1"}

for _target in ANTIBODY_TARGETS:

    def _ab(rec: Record, ctx: Context, _tg: str = _target) -> Obs:
        if not rec.antibodies:
            return None
        out = tuple(
            Observation(
                a.result,
                a.date,
                f"antibodies[{i}]",
                f"{a.method or 'method not given'}"
                + (f", {a.value:g} {a.unit or ''}".rstrip() if a.value is not None else "")
                + (f", {a.band} band" if a.band else ""),
            )
            for i, a in enumerate(rec.antibodies)
            if a.target == _tg
        )
        return out or None

    REGISTRY.register(
        FactSpec(
            f"antibody.{_target}",
            "enum",
            f"anti-{_target} antibody",
            f"anti-{_target} antibody (blood test)",
            _AB_TEST.get(_target, "myositis_antibody_panel"),
            values=("positive", "negative", "borderline"),
            dated=True,
            resolve=_ab,
        )
    )


# ------------------------------------------------------------------ EMG, MRI, biopsy


def _section_facts(section: str, model: type[Emg] | type[Mri] | type[Biopsy], test: str, ask: str) -> None:
    for fname, finfo in model.model_fields.items():
        if fname in ("date", "site"):
            continue
        ann = finfo.annotation
        values: tuple[str, ...] | None = None
        kind: FactKind = "bool"
        import typing

        args = [a for a in typing.get_args(ann) if a is not type(None)]
        lits = [x for a in args for x in typing.get_args(a)] if args else []
        if lits and all(isinstance(x, str) for x in lits):
            kind, values = "enum", tuple(lits)

        def resolve(rec: Record, ctx: Context, _s: str = section, _f: str = fname) -> Obs:
            block = getattr(rec, _s)
            if block is None:
                return None
            if _s == "biopsy" and _f != "performed" and not block.performed:
                return None
            return scalar(getattr(block, _f), source=f"{_s}.{_f}", when=block.date)

        label = f"{section.upper() if section != 'biopsy' else 'biopsy'}: {fname.replace('_', ' ')}"
        REGISTRY.register(
            FactSpec(f"{section}.{fname}", kind, label, ask, test, values=values, dated=True, resolve=resolve)
        )


_section_facts("emg", Emg, "emg", "needle EMG")
_section_facts("mri", Mri, "mri_muscle", "muscle MRI (STIR and T1 sequences)")
_section_facts("biopsy", Biopsy, "muscle_biopsy", "muscle biopsy (histology and immunostaining)")


def _biopsy_date(rec: Record, ctx: Context) -> Obs:
    if rec.biopsy is None or not rec.biopsy.performed:
        return None
    return scalar(rec.biopsy.date, source="biopsy.date")


REGISTRY.register(
    FactSpec(
        "biopsy.date",
        "date",
        "date of the muscle biopsy",
        "muscle biopsy date",
        "muscle_biopsy",
        resolve=_biopsy_date,
    )
)


# ------------------------------------------------------------------ visits (core set measures)

_VISIT = (
    ("physician_global", "physician global activity (0-10 cm VAS)", "physician_global", "cm"),
    ("patient_global", "patient global activity (0-10 cm VAS)", "patient_global", "cm"),
    ("extramuscular_global", "extramuscular global activity (0-10 cm VAS)", "physician_global", "cm"),
    ("haq_di", "HAQ disability index (0-3)", "haq", None),
)

for _field, _vlabel, _vtest, _unit in _VISIT:

    def _visit(rec: Record, ctx: Context, _f: str = _field) -> Obs:
        if not rec.visits:
            return None
        out = tuple(
            Observation(float(getattr(v, _f)), v.date, f"visits[{i}].{_f}")
            for i, v in enumerate(rec.visits)
            if getattr(v, _f) is not None
        )
        if _f == "haq_di":  # a visit without a given HAQ-DI may have item answers
            from imnm.activity.haq import score as haq_score

            out += tuple(
                Observation(s.value, v.date, f"visits[{i}].haq", "computed from the HAQ items")
                for i, v in enumerate(rec.visits)
                if v.haq_di is None and v.haq is not None and (s := haq_score(v.haq)).value is not None
            )
            out = tuple(sorted(out, key=lambda o: o.date or date.min))
        return out or None

    REGISTRY.register(
        FactSpec(
            f"visit.{_field}",
            "number",
            _vlabel,
            f"{_vlabel} (assessment)",
            _vtest,
            unit=_unit,
            dated=True,
            resolve=_visit,
        )
    )

for _scale in (80, 150, 160):

    def _mmt(rec: Record, ctx: Context, _s: int = _scale) -> Obs:
        if not rec.visits:
            return None
        from imnm.activity.mmt8 import score_on

        out = []
        for i, v in enumerate(rec.visits):  # a given total, else the total of per-muscle grades
            s = None if v.mmt8 is None else score_on(v.mmt8, _s)
            if s is None:
                continue
            value = s.lo if s.lo == s.hi else NumRange(s.lo, s.hi)
            note = None if s.source == "given total" else "; ".join((s.source, *s.notes))
            out.append(Observation(value, v.date, f"visits[{i}].mmt8", note))
        return tuple(out) or None

    REGISTRY.register(
        FactSpec(
            f"visit.mmt8_{_scale}",
            "number",
            f"MMT-8 total (0-{_scale} scale)",
            f"MMT-8 manual muscle testing scored on the 0-{_scale} scale (assessment)",
            "mmt8",
            dated=True,
            resolve=_mmt,
        )
    )


# ------------------------------------------------------------------ lungs, heart, infections, body size


def _series(section: str, attr: str) -> Callable[[Record, Context], Obs]:
    def resolve(rec: Record, ctx: Context) -> Obs:
        items = getattr(rec, section)
        if not items:
            return None
        out = tuple(
            Observation(
                float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v,
                item.date,
                f"{section}[{i}].{attr}",
            )
            for i, item in enumerate(items)
            if (v := getattr(item, attr)) is not None
        )
        return out or None

    return resolve


_Row = tuple[str, str, FactKind, str, str, str, str | None, tuple[str, ...] | None]
_PFT: list[_Row] = [
    (
        "pft.fvc_percent",
        "fvc_percent_predicted",
        "number",
        "FVC (% predicted)",
        "pulmonary function tests",
        "pulmonary_function",
        "%",
        None,
    ),
    (
        "pft.dlco_percent",
        "dlco_percent_predicted",
        "number",
        "DLCO (% predicted)",
        "pulmonary function tests",
        "pulmonary_function",
        "%",
        None,
    ),
    (
        "pft.ild_on_ct",
        "ild_on_ct",
        "bool",
        "interstitial lung disease on chest CT",
        "chest CT",
        "chest_ct",
        None,
        None,
    ),
]
_CARDIAC: list[_Row] = [
    ("cardiac.ecg", "ecg", "enum", "ECG", "electrocardiogram (ECG)", "ecg", None, ("normal", "abnormal")),
    (
        "cardiac.lvef",
        "lvef_percent",
        "number",
        "left ventricular ejection fraction",
        "echocardiogram",
        "echocardiogram",
        "%",
        None,
    ),
    (
        "cardiac.troponin_elevated",
        "troponin_elevated",
        "bool",
        "troponin elevated",
        "troponin (blood test)",
        "ecg",
        None,
        None,
    ),
    (
        "cardiac.mri_abnormal",
        "cardiac_mri_abnormal",
        "bool",
        "cardiac MRI abnormal",
        "cardiac MRI",
        "cardiac_mri",
        None,
        None,
    ),
]
for _section, _rows in (("pulmonary_function", _PFT), ("cardiac", _CARDIAC)):
    for _fname, _attr, _kind, _flabel, _ask, _ftest, _funit, _vals in _rows:
        REGISTRY.register(
            FactSpec(
                _fname,
                _kind,
                _flabel,
                _ask,
                _ftest,
                unit=_funit,
                values=_vals,
                dated=True,
                resolve=_series(_section, _attr),
            )
        )


def _infection(kind: str) -> Callable[[Record, Context], Obs]:
    def resolve(rec: Record, ctx: Context) -> Obs:
        if rec.infections is None:
            return None
        out = []
        for i, inf in enumerate(rec.infections):
            if kind == "iv_antibiotics":
                if inf.iv_antibiotics is None:
                    return None  # one unknown episode leaves the whole answer unknown
                if not inf.iv_antibiotics:
                    continue
            elif kind == "systemic" and inf.kind not in ("systemic", None):
                continue
            out.append(
                Observation(
                    Interval(inf.date, inf.resolved, ongoing=inf.resolved is None),
                    inf.date,
                    f"infections[{i}]",
                    inf.name,
                )
            )
        return tuple(out)

    return resolve


REGISTRY.register(
    FactSpec(
        "infection.systemic",
        "event",
        "systemic infection",
        "recent infections, with dates (question)",
        "history",
        dated=True,
        resolve=_infection("systemic"),
        description="An episode whose kind is unknown counts as possibly systemic",
    )
)
REGISTRY.register(
    FactSpec(
        "infection.iv_antibiotics",
        "event",
        "infection treated with IV antibiotics",
        "recent infections treated with intravenous antibiotics (question)",
        "history",
        dated=True,
        resolve=_infection("iv_antibiotics"),
    )
)


def _vaccination(rec: Record, ctx: Context) -> Obs:
    if rec.vaccinations is None:
        return None
    return tuple(
        Observation(Interval(v.date, v.date), v.date, f"vaccinations[{i}]", v.name)
        for i, v in enumerate(rec.vaccinations)
        if "mening" in v.name.lower()
    )


REGISTRY.register(
    FactSpec(
        "vaccination.meningococcal",
        "event",
        "meningococcal vaccination",
        "vaccination record: meningococcal vaccines with dates (question)",
        "history",
        dated=True,
        resolve=_vaccination,
    )
)


@fact("weight_kg", "number", "body weight", "body weight (measurement)", "history", unit="kg")
def _weight(rec: Record, ctx: Context) -> Obs:
    return scalar(rec.weight_kg, source="weight_kg")


@fact("bmi", "number", "body-mass index", "body weight and height (measurement)", "history", unit="kg/m2")
def _bmi(rec: Record, ctx: Context) -> Obs:
    if rec.weight_kg is None or rec.height_cm is None:
        return None
    return scalar(round(rec.weight_kg / (rec.height_cm / 100) ** 2, 1), source="weight_kg, height_cm")
