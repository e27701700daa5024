"""Synthetic records for the worked examples of clinical.md §1.8 (E1–E8) and §2.2 (N1–N3).

Each scenario states only what the fact sheet says; every other EULAR/ACR item is recorded as
absent (not left unknown) so the score is exact, as in the fact sheet's arithmetic.
"""

from __future__ import annotations

from typing import Any

ABSENT_FINDINGS = {
    "proximal_weakness_upper": False,
    "proximal_weakness_lower": False,
    "neck_flexors_weaker_than_extensors": False,
    "legs_proximal_weaker_than_distal": False,
    "finger_flexor_weakness": False,
    "heliotrope_rash": False,
    "gottron_papules": False,
    "gottron_sign": False,
    "dysphagia": False,
}
NORMAL_ENZYMES = [
    {"test": "ck", "value": 150, "unit": "U/L", "uln": 200, "date": "2026-01-10"},
    {"test": "ldh", "value": 180, "unit": "U/L", "uln": 250, "date": "2026-01-10"},
    {"test": "ast", "value": 20, "unit": "U/L", "uln": 40, "date": "2026-01-10"},
    {"test": "alt", "value": 22, "unit": "U/L", "uln": 45, "date": "2026-01-10"},
]
RAISED_CK = [{"test": "ck", "value": 2400, "unit": "U/L", "uln": 200, "date": "2026-01-10"}]
JO1_NEGATIVE = [{"target": "Jo-1", "result": "negative", "method": "line_blot", "date": "2026-01-12"}]
NO_BIOPSY_FEATURES = {
    "endomysial_infiltrate_surrounding_not_invading": False,
    "perimysial_or_perivascular_infiltrate": False,
    "perifascicular_atrophy": False,
    "rimmed_vacuoles": False,
}


def record(rid: str, age: float, present: list[str], **extra: Any) -> dict[str, Any]:
    findings = dict(ABSENT_FINDINGS)
    for f in present:
        findings[f] = True
    rec: dict[str, Any] = {
        "id": rid,
        "age_at_onset": age,
        "findings": findings,
        "labs": RAISED_CK,
        "antibodies": JO1_NEGATIVE,
        "biopsy": {"performed": False},
    }
    rec.update(extra)
    return rec


def e1() -> dict[str, Any]:
    """62-y statin user, anti-HMGCR+ (ELISA 180 units), no rash, no biopsy (also N1: CK 7000, ULN 200)."""
    return record(
        "E1",
        62,
        ["proximal_weakness_upper", "proximal_weakness_lower", "neck_flexors_weaker_than_extensors"],
        labs=[{"test": "ck", "value": 7000, "unit": "U/L", "uln": 200, "date": "2026-01-10"}],
        antibodies=[
            {"target": "HMGCR", "result": "positive", "method": "ELISA", "value": 180, "unit": "units"},
            *JO1_NEGATIVE,
        ],
        exposures={"statin": {"status": "past", "start": "2022-06-01", "stop": "2025-06-01"}},
    )


def e2(perivascular: bool = True) -> dict[str, Any]:
    """E1 with a biopsy: necrosis (+ perivascular mononuclear infiltrates for E2; none for E2b)."""
    rec = e1()
    rec["id"] = "E2" if perivascular else "E2b"
    rec["biopsy"] = {
        "performed": True,
        "necrotic_fibers": "prominent",
        "regenerating_fibers": True,
        "inflammation": "sparse",
        **NO_BIOPSY_FEATURES,
        "perimysial_or_perivascular_infiltrate": perivascular,
    }
    return rec


def e3() -> dict[str, Any]:
    return record(
        "E3", 45, ["heliotrope_rash", "gottron_papules", "proximal_weakness_upper", "proximal_weakness_lower"]
    )


def e4() -> dict[str, Any]:
    return record("E4", 35, ["heliotrope_rash", "gottron_sign"], labs=NORMAL_ENZYMES)


def e5() -> dict[str, Any]:
    return record(
        "E5", 9, ["heliotrope_rash", "gottron_papules", "proximal_weakness_upper", "proximal_weakness_lower"]
    )


def e6() -> dict[str, Any]:
    return record(
        "E6",
        68,
        ["proximal_weakness_lower", "finger_flexor_weakness", "dysphagia"],
        biopsy={
            "performed": True,
            "necrotic_fibers": "scattered",
            "inflammation": "moderate",
            **NO_BIOPSY_FEATURES,
            "endomysial_infiltrate_surrounding_not_invading": True,
            "rimmed_vacuoles": True,
        },
    )


def e7() -> dict[str, Any]:
    return record("E7", 50, ["gottron_sign"], labs=NORMAL_ENZYMES)


def e8() -> dict[str, Any]:
    return record("E8", 30, ["gottron_papules", "proximal_weakness_lower"])


def n2() -> dict[str, Any]:
    """CK 12 000 U/L, severe proximal weakness, dysphagia, weak line-blot anti-SRP only, no biopsy."""
    return {
        "id": "N2",
        "findings": {"proximal_weakness_upper": True, "proximal_weakness_lower": True, "dysphagia": True},
        "labs": [{"test": "ck", "value": 12000, "unit": "U/L", "uln": 200, "date": "2026-10-01"}],
        "antibodies": [{"target": "SRP", "result": "positive", "method": "line_blot", "band": "weak"}],
        "biopsy": {"performed": False},
    }


def n3() -> dict[str, Any]:
    """CK 4000 U/L, proximal weakness, anti-HMGCR and anti-SRP negative, biopsy: scattered necrotic and
    regenerating fibres, sparse macrophages, sarcolemmal MAC."""
    return {
        "id": "N3",
        "findings": {"proximal_weakness_upper": True, "proximal_weakness_lower": True},
        "labs": [{"test": "ck", "value": 4000, "unit": "U/L", "uln": 200, "date": "2026-10-01"}],
        "antibodies": [
            {"target": "HMGCR", "result": "negative", "method": "ELISA", "value": 3, "unit": "units"},
            {"target": "SRP", "result": "negative", "method": "IIF"},
        ],
        "biopsy": {
            "performed": True,
            "necrotic_fibers": "scattered",
            "regenerating_fibers": True,
            "inflammation": "sparse",
            "sarcolemmal_mac_deposition": True,
        },
    }
