"""Synthetic patients for the trial tests (all data invented).

`imnm_patient()` is an adult with anti-HMGCR IMNM and a complete, recent work-up dated just
before `AS_OF`; each test changes only what its criterion is about (`with_`).
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

AS_OF = date(2026, 11, 25)

PROXIMAL_7 = {
    "neck_flexors": 8,
    "deltoid": 7,
    "biceps": 8,
    "wrist_extensors": 9,
    "gluteus_maximus": 7,
    "gluteus_medius": 8,
    "quadriceps": 8,
    "ankle_dorsiflexors": 10,
}

BASE: dict[str, Any] = {
    "id": "trial-test-imnm",
    "sex": "female",
    "birth_date": "1970-01-10",
    "symptom_onset": "2026-03-01",
    "diagnosis_date": "2026-06-01",
    "findings": {
        "proximal_weakness_upper": True,
        "proximal_weakness_lower": True,
        "neck_flexors_weaker_than_extensors": True,
        "legs_proximal_weaker_than_distal": True,
        "heliotrope_rash": False,
        "gottron_papules": False,
        "gottron_sign": False,
        "other_rash": False,
        "dysphagia": False,
        "dyspnea": False,
        "myalgia": True,
    },
    "history": {
        "meningococcal_disease": False,
        "pregnant": False,
        "breastfeeding": False,
        "organ_transplant": False,
        "cancer": False,
    },
    "exposures": {"statin": {"status": "past", "start": "2018-01-01", "stop": "2025-01-01"}},
    "labs": [
        {"test": "ck", "value": 6000, "unit": "U/L", "uln": 200, "date": "2026-11-20"},
        {"test": "aldolase", "value": 20, "unit": "U/L", "uln": 7.6, "date": "2026-11-20"},
    ],
    "antibodies": [
        {
            "target": "HMGCR",
            "result": "positive",
            "method": "ELISA",
            "value": 150,
            "unit": "U",
            "date": "2026-05-01",
        },
        {"target": "SRP", "result": "negative", "method": "line_blot", "date": "2026-05-01"},
        {"target": "Jo-1", "result": "negative", "method": "line_blot", "date": "2026-05-01"},
    ],
    "emg": {"date": "2026-10-01", "pattern": "myopathic", "spontaneous_activity": True},
    "mri": {"date": "2026-10-15", "edema": True, "fatty_replacement": False},
    "biopsy": {
        "performed": True,
        "date": "2026-05-15",
        "necrotic_fibers": "prominent",
        "regenerating_fibers": True,
        "inflammation": "sparse",
        "endomysial_infiltrate_surrounding_not_invading": False,
        "perimysial_or_perivascular_infiltrate": False,
        "perifascicular_atrophy": False,
        "rimmed_vacuoles": False,
        "mhc1_upregulation": True,
        "sarcolemmal_mac_deposition": True,
    },
    "medications": [
        {"name": "prednisone", "dose_mg_per_day": 10, "start": "2026-06-01"},
        {"name": "methotrexate", "dose_mg_per_week": 15, "start": "2026-06-15"},
    ],
    "visits": [
        {
            "date": "2026-11-20",
            "mmt8": {"side": "right", "grades": PROXIMAL_7},
            "physician_global": 5.0,
            "patient_global": 6.0,
            "extramuscular_global": 1.0,
            "haq_di": 1.25,
        },
        {"date": "2026-11-21", "mmt8": {"total": 120, "scale": 150}},
        {"date": "2026-11-22", "mmt8": {"total": 128, "scale": 160}},
    ],
    "pulmonary_function": [{"date": "2026-10-01", "fvc_percent_predicted": 92, "dlco_percent_predicted": 88}],
    "cardiac": [{"date": "2026-10-01", "ecg": "normal", "lvef_percent": 60}],
    "infections": [],
    "vaccinations": [],
    "weight_kg": 70,
    "height_cm": 165,
}


def imnm_patient() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def with_(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy with one dotted path set (`findings.dysphagia`), or removed when value is DROP."""
    out = copy.deepcopy(data)
    node = out
    keys = path.split(".")
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    if value is DROP:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value
    return out


DROP = object()


def dm_patient() -> dict[str, Any]:
    """Adult dermatomyositis: typical rash, anti-Mi-2 positive, anti-HMGCR and anti-SRP negative."""
    d = imnm_patient()
    d["id"] = "trial-test-dm"
    d["findings"].update({"heliotrope_rash": True, "gottron_papules": True, "gottron_sign": True})
    d["antibodies"] = [
        {"target": "HMGCR", "result": "negative", "method": "ELISA", "date": "2026-05-01"},
        {"target": "SRP", "result": "negative", "method": "line_blot", "date": "2026-05-01"},
        {"target": "Jo-1", "result": "negative", "method": "line_blot", "date": "2026-05-01"},
        {
            "target": "Mi-2",
            "result": "positive",
            "method": "line_blot",
            "band": "strong",
            "date": "2026-05-01",
        },
    ]
    d["biopsy"].update(
        {
            "necrotic_fibers": "scattered",
            "inflammation": "moderate",
            "perifascicular_atrophy": True,
            "perimysial_or_perivascular_infiltrate": True,
        }
    )
    d["labs"][0].update({"value": 1500})
    return d


def results(
    data: dict[str, Any], trial: Any, *, as_of: date = AS_OF, reviews: Any = None, settings: Any = None
) -> list[Any]:
    """Evaluate one record (plain data) against one trial (id in the catalog, or a Trial)."""
    from imnm.facts import REGISTRY, RecordFacts
    from imnm.record.load import parse_record
    from imnm.trials.evaluate import evaluate_catalog
    from imnm.trials.load import catalog

    if isinstance(trial, str):
        found = [t for t in catalog() if t.id == trial]
        assert found, f"{trial} not in the catalog"
        trial = found[0]
    rec = parse_record(data)
    return evaluate_catalog(
        [trial],
        RecordFacts(rec, as_of=as_of, settings=settings),
        as_of=as_of,
        registry=REGISTRY,
        reviews=reviews,
    )


def one(data: dict[str, Any], trial: Any, cohort: str | None = None, **kw: Any) -> Any:
    out = [r for r in results(data, trial, **kw) if (r.cohort.id if r.cohort else None) == cohort]
    assert len(out) == 1
    return out[0]


def failed_ids(r: Any) -> set[str]:
    return {c.criterion.id for c in r.failed}


def missing_tests(r: Any) -> set[str]:
    return {m.test for m in r.missing}


def needs_a_person(crit: Any) -> bool:
    """A manual-review item, or a rule with a part only a clinician can judge (`const: unknown`)."""
    if crit.rule is None:
        return True
    dump = crit.rule.model_dump(by_alias=True)
    return '"const": "unknown"' in __import__("json").dumps(dump)


def review_all(
    trial_id: str, *, favourable: bool = True, record: Any = None, as_of: date = AS_OF
) -> dict[tuple[str, str], Any]:
    """A clinician's review of every item of a trial that the tool asks a person about, in the
    patient's favour (inclusion holds, exclusion does not apply) or against it.

    With `record` (plain data or a Record): the items left to a person for that patient (effect
    `review`: manual items and rules open only on a judgement). Without it: every manual item and
    every rule with a judgement part. (Issue 16: a review answers the whole criterion, so a review of
    a criterion the record decides the other way is a conflict, and a review of one the record cannot
    decide settles it; a clinician answers what is asked, so decided criteria are not reviewed here.)"""
    from imnm.trials.evaluate import Review
    from imnm.trials.load import catalog

    trial = next(t for t in catalog() if t.id == trial_id)
    asked: set[str] | None = None
    if record is not None:
        from imnm.facts import REGISTRY, RecordFacts
        from imnm.record.load import parse_record
        from imnm.trials.evaluate import evaluate_catalog

        rec = parse_record(record) if isinstance(record, dict) else record
        results = evaluate_catalog([trial], RecordFacts(rec, as_of=as_of), as_of=as_of, registry=REGISTRY)
        asked = {c.criterion.id for r in results for c in r.criteria if c.effect == "review"}
    out: dict[tuple[str, str], Any] = {}
    for kind_items in (
        [(k, c) for k in ("inclusion",) for c in trial.inclusion]
        + [("exclusion", c) for c in trial.exclusion]
        + [(k, c) for co in trial.cohorts for k in ("inclusion", "exclusion") for c in getattr(co, k)]
    ):
        kind, crit = kind_items
        if (asked is not None and crit.id not in asked) or (asked is None and not needs_a_person(crit)):
            continue
        met = favourable if kind == "inclusion" else not favourable
        out[(trial_id, crit.id)] = Review(trial_id, crit.id, met, "test clinician", AS_OF)
    return out
