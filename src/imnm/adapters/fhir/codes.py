"""Indexes over `knowledge/data/fhir_codes.yaml`: which code gives which record field."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from imnm import knowledge

TABLE = "fhir_codes"


@cache
def table() -> dict[str, Any]:
    return knowledge.load(TABLE)


def system(name: str) -> str:
    return str(table()["systems"][name])


@cache
def project() -> dict[str, str]:
    return {k: str(v) for k, v in table()["project"].items()}


def project_cs() -> str:
    return project()["codesystem"]


@dataclass(frozen=True, slots=True)
class CodeInfo:
    target: str  # lab test id, antibody target, or record field
    code: str
    display: str
    mark: str
    method: str | None = None


@cache
def lab_codes() -> dict[str, CodeInfo]:
    """LOINC code → lab test id (`ck`, `aldolase`, ...)."""
    out: dict[str, CodeInfo] = {}
    for test, rows in table()["labs"].items():
        for r in rows:
            out[str(r["code"])] = CodeInfo(test, str(r["code"]), str(r.get("display", "")), str(r["mark"]))
    return out


@cache
def lab_export_code(test: str) -> CodeInfo:
    row = table()["labs"][test][0]
    return CodeInfo(test, str(row["code"]), str(row.get("display", "")), str(row["mark"]))


@cache
def not_lab_codes() -> dict[str, str]:
    return {str(r["code"]): str(r["display"]) for r in table().get("not_labs") or []}


@cache
def antibody_codes() -> dict[str, CodeInfo]:
    """LOINC code → antibody target (`HMGCR`, `SRP`, `Jo-1` ...)."""
    out: dict[str, CodeInfo] = {}
    for target, rows in table()["antibodies"].items():
        for r in rows:
            out[str(r["code"])] = CodeInfo(
                target, str(r["code"]), str(r.get("display", "")), str(r["mark"]), r.get("method")
            )
    return out


@cache
def antibody_export_code(target: str) -> CodeInfo | None:
    rows = table()["antibodies"].get(target)
    if not rows:
        return None
    r = rows[0]
    return CodeInfo(target, str(r["code"]), str(r.get("display", "")), str(r["mark"]), r.get("method"))


@cache
def antibody_result_codes() -> dict[tuple[str, str], str]:
    """(system URL, code) → positive | negative | borderline."""
    out: dict[tuple[str, str], str] = {}
    for result, rows in table()["antibody_results"].items():
        for r in rows:
            out[(system(r["system"]), str(r["code"]))] = result
    return out


def antibody_result_coding(result: str) -> dict[str, str]:
    r = table()["antibody_results"][result][0]
    return {"system": system(r["system"]), "code": str(r["code"]), "display": str(r["display"])}


@cache
def interpretation_codes() -> dict[str, str]:
    out: dict[str, str] = {}
    for result, codes in table()["antibody_interpretations"].items():
        for c in codes:
            out[str(c)] = result
    return out


def interpretation_code(result: str) -> str:
    return str(table()["antibody_interpretations"][result][0])


@cache
def ucum_aliases() -> dict[str, str]:
    return {str(k): str(v) for k, v in (table().get("ucum_aliases") or {}).items()}


@cache
def vitals() -> dict[str, dict[str, Any]]:
    """LOINC code → {field, units}."""
    return {str(v["code"]): {"field": k, **v} for k, v in table()["vitals"].items()}


@dataclass(frozen=True, slots=True)
class ConditionRule:
    field: str
    code: str
    display: str
    mark: str
    prefix: bool


@cache
def condition_rules() -> tuple[dict[str, ConditionRule], list[ConditionRule]]:
    """SNOMED/ICD exact codes → rule, and ICD-10-CM prefixes (longest first)."""
    exact: dict[str, ConditionRule] = {}
    prefixes: list[ConditionRule] = []
    for row in table()["conditions"]:
        for c in row.get("snomed") or []:
            exact["sct|" + str(c["code"])] = ConditionRule(
                row["field"], str(c["code"]), str(c.get("display", "")), str(c["mark"]), False
            )
        for c in row.get("icd10cm") or []:
            exact["icd|" + str(c["code"])] = ConditionRule(
                row["field"], str(c["code"]), str(c.get("display", "")), str(c["mark"]), False
            )
        for c in row.get("icd10cm_prefixes") or []:
            prefixes.append(
                ConditionRule(row["field"], str(c["code"]), str(c.get("display", "")), str(c["mark"]), True)
            )
    prefixes.sort(key=lambda r: -len(r.code))
    return exact, prefixes


@dataclass(frozen=True, slots=True)
class Diagnosis:
    id: str
    label: str
    diagnosis_date: bool


@cache
def diagnosis_rules() -> tuple[dict[str, Diagnosis], list[tuple[str, Diagnosis]]]:
    exact: dict[str, Diagnosis] = {}
    prefixes: list[tuple[str, Diagnosis]] = []
    for row in table()["diagnoses"]:
        d = Diagnosis(str(row["id"]), str(row["label"]), bool(row.get("diagnosis_date")))
        for c in row.get("snomed") or []:
            exact["sct|" + str(c["code"])] = d
        for c in row.get("icd10cm") or []:
            exact["icd|" + str(c["code"])] = d
        for c in row.get("icd10cm_prefixes") or []:
            prefixes.append((str(c["code"]), d))
    prefixes.sort(key=lambda p: -len(p[0]))
    return exact, prefixes


@cache
def rxnorm_names() -> dict[str, str]:
    return {str(r["code"]): str(r["name"]) for r in table().get("rxnorm") or []}


@cache
def procedure_codes() -> dict[str, str]:
    """SNOMED code → record section (`emg`)."""
    out: dict[str, str] = {}
    for section, systems in (table().get("procedures") or {}).items():
        for c in (systems or {}).get("snomed") or []:
            out[str(c["code"])] = section
    return out


def statuses(group: str) -> dict[str, str]:
    """status code → what to do with it (use / flag / ignore, or current / past ...)."""
    out: dict[str, str] = {}
    for action, codes in table()[group].items():
        for c in codes:
            out[str(c)] = action
    return out


@cache
def screener_map() -> dict[str, dict[str, str]]:
    return {k: dict(v) for k, v in (table().get("screener_to_record") or {}).items()}


def loinc_notice() -> str:
    return " ".join(str(table()["loinc_notice"]).split())
