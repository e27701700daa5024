"""Seeded synthetic patient records (for benchmarks, demos and property tests). Never real data."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

_FINDINGS = (
    "proximal_weakness_upper",
    "proximal_weakness_lower",
    "neck_flexors_weaker_than_extensors",
    "legs_proximal_weaker_than_distal",
    "finger_flexor_weakness",
    "heliotrope_rash",
    "gottron_papules",
    "gottron_sign",
    "dysphagia",
    "dyspnea",
    "chronic_dry_cough",
    "myalgia",
)


def _maybe(rng: random.Random, p_known: float, value: Any) -> Any:
    return value if rng.random() < p_known else None


def synthetic_record(rng: random.Random, index: int = 0) -> dict[str, Any]:
    """One plausible synthetic record as plain data (the shape of a YAML file), some facts unknown."""
    onset = date(2018, 1, 1) + timedelta(days=rng.randrange(0, 2500))
    birth = onset - timedelta(days=int(365.25 * rng.uniform(8, 80)))
    subtype = rng.choice(["HMGCR", "SRP", "negative", "DM", "IBM"])
    rec: dict[str, Any] = {
        "id": f"synthetic-{index:06d}",
        "sex": rng.choice(["female", "male"]),
        "birth_date": birth.isoformat(),
        "symptom_onset": onset.isoformat(),
    }
    findings = {}
    for f in _FINDINGS:
        v = _maybe(rng, 0.8, rng.random() < (0.7 if "weak" in f else 0.15))
        if v is not None:
            findings[f] = v
    if subtype == "DM":
        findings["heliotrope_rash"] = True
    rec["findings"] = findings
    statin_start = max(date(2015, 1, 1), birth + timedelta(days=365))  # never before birth
    rec["exposures"] = {
        "statin": rng.choice(
            [
                "never",
                "current",
                {"status": "past", "start": statin_start.isoformat(), "stop": onset.isoformat()},
            ]
        )
    }
    labs = []
    day = onset + timedelta(days=30)
    ck_level = {"HMGCR": 6000, "SRP": 9000, "negative": 4000, "DM": 1500, "IBM": 600}[subtype]
    for k in range(rng.randint(1, 4)):
        unit, uln = ("U/L", 200.0) if rng.random() < 0.8 else ("ukat/L", 3.3)
        value = ck_level * rng.uniform(0.3, 1.5) * (1 if unit == "U/L" else 1 / 60)
        lab: dict[str, Any] = {
            "test": "ck",
            "value": round(value, 1),
            "unit": unit,
            "date": (day + timedelta(days=60 * k)).isoformat(),
        }
        if rng.random() < 0.9:
            lab["uln"] = uln
        labs.append(lab)
    if rng.random() < 0.5:
        labs.append(
            {
                "test": "aldolase",
                "value": round(rng.uniform(5, 40), 1),
                "unit": "U/L",
                "uln": 7.6,
                "date": day.isoformat(),
            }
        )
    rec["labs"] = labs
    if rng.random() < 0.8:
        rec["antibodies"] = [
            {
                "target": "HMGCR",
                "result": "positive" if subtype == "HMGCR" else "negative",
                "method": "ELISA",
                "date": day.isoformat(),
            },
            {
                "target": "SRP",
                "result": "positive" if subtype == "SRP" else "negative",
                "method": "line_blot",
                "date": day.isoformat(),
            },
        ]
    if rng.random() < 0.6:
        rec["emg"] = {
            "date": (day + timedelta(days=10)).isoformat(),
            "pattern": "myopathic",
            "spontaneous_activity": rng.random() < 0.7,
        }
    if rng.random() < 0.5:
        rec["mri"] = {
            "date": (day + timedelta(days=12)).isoformat(),
            "edema": True,
            "fatty_replacement": rng.random() < 0.3,
        }
    if rng.random() < 0.5:
        rec["biopsy"] = {
            "performed": True,
            "date": (day + timedelta(days=20)).isoformat(),
            "necrotic_fibers": "prominent" if subtype in ("HMGCR", "SRP", "negative") else "scattered",
            "inflammation": "sparse" if subtype in ("HMGCR", "SRP", "negative") else "moderate",
            "perifascicular_atrophy": subtype == "DM",
            "rimmed_vacuoles": subtype == "IBM",
        }
    rec["medications"] = [
        {"name": "prednisone", "dose_mg_per_day": 40.0, "start": (day + timedelta(days=30)).isoformat()}
    ]
    visits = []
    for k in range(rng.randint(0, 3)):
        visits.append(
            {
                "date": (day + timedelta(days=30 + 90 * k)).isoformat(),
                "mmt8": {"total": float(rng.randint(40, 80)), "scale": 80},
                "physician_global": round(rng.uniform(0, 10), 1),
                "patient_global": round(rng.uniform(0, 10), 1),
                "extramuscular_global": round(rng.uniform(0, 5), 1),
                "haq_di": round(rng.uniform(0, 3), 2),
            }
        )
    if visits:
        rec["visits"] = visits
    return rec


def synthetic_records(n: int, *, seed: int = 42) -> list[dict[str, Any]]:
    """`n` synthetic records from a fixed seed (the same seed always gives the same records)."""
    rng = random.Random(seed)
    return [synthetic_record(rng, i) for i in range(n)]


def long_followup_record(*, visits: int = 30, labs: int = 200, seed: int = 7) -> dict[str, Any]:
    """A seeded synthetic anti-HMGCR record with a long follow-up (reports and charts at scale).

    `visits` visits about two months apart (MMT-8 /80 rising, globals and HAQ-DI falling) and `labs`
    results (CK with the lab's ULN, about one in four an aldolase, AST or ALT) spread over the same
    years, CK falling from about 60 to about 2 × ULN with noise; prednisone tapered in steps,
    methotrexate added, IVIG started, stopped and restarted.
    """
    rng = random.Random(seed)
    onset = date(2019, 3, 4)
    first = onset + timedelta(days=60)
    span = max(visits, 1) * 61
    rec: dict[str, Any] = {
        "id": f"synthetic-long-followup-{visits}v-{labs}l",
        "sex": "female",
        "birth_date": "1966-08-19",
        "symptom_onset": onset.isoformat(),
        "findings": {
            "proximal_weakness_upper": True,
            "proximal_weakness_lower": True,
            "neck_flexors_weaker_than_extensors": True,
            "heliotrope_rash": False,
            "gottron_papules": False,
            "gottron_sign": False,
            "dysphagia": False,
            "myalgia": True,
        },
        "exposures": {"statin": {"status": "past", "start": "2014-05-01", "stop": "2019-05-01"}},
        "antibodies": [
            {
                "target": "HMGCR",
                "result": "positive",
                "method": "ELISA",
                "value": 150.0,
                "unit": "U",
                "date": first.isoformat(),
            },
            {"target": "SRP", "result": "negative", "method": "line_blot", "date": first.isoformat()},
        ],
    }
    out_labs: list[dict[str, Any]] = []
    for k in range(labs):
        day = first + timedelta(days=round(k * span / max(labs, 1)))
        t = k / max(labs - 1, 1)
        fold = max(1.2, 60 * (0.03**t) * rng.uniform(0.75, 1.3))
        kind = rng.random()
        if kind < 0.75 or k == 0:
            out_labs.append(
                {
                    "test": "ck",
                    "value": round(fold * 200, 0),
                    "unit": "U/L",
                    "uln": 200.0,
                    "date": day.isoformat(),
                }
            )
        elif kind < 0.85:
            out_labs.append(
                {
                    "test": "aldolase",
                    "value": round(fold * 7.6 / 3, 1),
                    "unit": "U/L",
                    "uln": 7.6,
                    "date": day.isoformat(),
                }
            )
        elif kind < 0.93:
            out_labs.append(
                {
                    "test": "ast",
                    "value": round(fold * 40 / 6, 0),
                    "unit": "U/L",
                    "uln": 40.0,
                    "date": day.isoformat(),
                }
            )
        else:
            out_labs.append(
                {
                    "test": "alt",
                    "value": round(fold * 45 / 6, 0),
                    "unit": "U/L",
                    "uln": 45.0,
                    "date": day.isoformat(),
                }
            )
    rec["labs"] = out_labs
    start = first + timedelta(days=10)
    meds: list[dict[str, Any]] = []
    dose, day = 60.0, start
    while dose >= 5 and day < first + timedelta(days=span):
        stop = day + timedelta(days=89)
        meds.append(
            {
                "name": "prednisone",
                "dose_mg_per_day": dose,
                "start": day.isoformat(),
                "stop": stop.isoformat(),
            }
        )
        day, dose = stop + timedelta(days=1), dose / 2
    meds.append({"name": "prednisone", "dose_mg_per_day": 5.0, "start": day.isoformat()})
    meds.append(
        {"name": "methotrexate", "dose_mg_per_week": 15.0, "start": (start + timedelta(days=40)).isoformat()}
    )
    ivig = start + timedelta(days=200)
    meds.append(
        {
            "name": "IVIG",
            "dose_g_per_kg": 2.0,
            "start": ivig.isoformat(),
            "stop": (ivig + timedelta(days=180)).isoformat(),
        }
    )
    meds.append({"name": "IVIG", "dose_g_per_kg": 2.0, "start": (ivig + timedelta(days=420)).isoformat()})
    rec["medications"] = meds
    out_visits = []
    for k in range(visits):
        t = k / max(visits - 1, 1)
        out_visits.append(
            {
                "date": (first + timedelta(days=10 + 61 * k)).isoformat(),
                "mmt8": {"total": float(min(80, round(44 + 32 * t + rng.uniform(-2, 2)))), "scale": 80},
                "physician_global": round(max(0.0, 7 - 6 * t + rng.uniform(-0.5, 0.5)), 1),
                "patient_global": round(max(0.0, 8 - 6 * t + rng.uniform(-0.5, 0.5)), 1),
                "extramuscular_global": round(max(0.0, 2 - 2 * t), 1),
                "haq_di": round(max(0.0, 2.0 - 1.6 * t), 2),
            }
        )
    rec["visits"] = out_visits
    return rec
