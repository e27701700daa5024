"""An assessment as a FHIR R4 Bundle of Observations.

The bundle holds the record's own resources (`write.record_to_bundle`) and, coded in the project's
assessment CodeSystem: the 2017 EULAR/ACR score (value, range `score_min`–`score_max` as components, one
component per item with its points or status), the probability (%, with its range), the category; the
ENMC 224 subtype; the TIS when the record has two visits. Each derived Observation's `derivedFrom` points to
the record Observations its evidence came from. Decision support, not a diagnosis (in `note`).
"""

from __future__ import annotations

import re
from typing import Any

from imnm.adapters.fhir import codes
from imnm.adapters.fhir.write import _record_bundle, _tag, _urn, fhir_id
from imnm.record.model import Record

DISCLAIMER = (
    "Decision support, not a diagnosis. Classification criteria are research tools; "
    "the treating clinician decides."
)
_BRACKETS = re.compile(r"\[([^\]]+)\]")


def _acode(code: str, display: str) -> dict[str, Any]:
    return {
        "coding": [{"system": codes.project()["assessment_codesystem"], "code": code, "display": display}]
    }


def _sources(node: Any, out: set[str]) -> None:
    """Every record path named as evidence in an assessment document."""
    if isinstance(node, dict):
        src = node.get("source")
        if isinstance(src, str) and node.get("fact"):
            out.update(s.strip() for s in src.split(","))
        for k, v in node.items():
            if k == "evidence" and isinstance(v, list):
                for e in v:
                    if isinstance(e, str):
                        for m in _BRACKETS.findall(e):
                            out.update(s.strip() for s in m.split(","))
            _sources(v, out)
    elif isinstance(node, list):
        for v in node:
            _sources(v, out)


def _refs(paths: dict[str, str], sources: set[str]) -> list[dict[str, str]]:
    found: dict[str, None] = {}  # ordered, and O(1) membership (a record may have 10,000 labs)
    for s in sorted(sources):
        key = s
        while key and key not in paths:  # biopsy.necrotic_fibers -> biopsy; exposures.statin.status -> ...
            key = key.rsplit(".", 1)[0] if "." in key else ""
        if key:
            found.setdefault(paths[key], None)
    return [{"reference": r} for r in found]


def _q(value: float | None, unit: str | None = None) -> dict[str, Any] | None:
    if value is None:
        return None
    q: dict[str, Any] = {"value": value}
    if unit:
        q.update({"unit": unit, "system": codes.system("ucum"), "code": unit})
    return q


def assessment_bundle(
    record: Record, *, assessment: dict[str, Any], response: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The record's Observations plus Observations of the assessment (`imnm assess --json`) and the TIS
    (`imnm response --json`, when there are two visits), each referring to what it was derived from."""
    bundle, paths = _record_bundle(record)
    a = assessment
    pid = fhir_id(record.id)
    subject = {"reference": f"Patient/{pid}"}
    out: list[dict[str, Any]] = []

    def obs(oid: str, code: dict[str, Any], derived: Any, **fields: Any) -> None:
        srcs: set[str] = set(derived) if isinstance(derived, set) else set()
        if not isinstance(derived, set):
            _sources(derived, srcs)
        res: dict[str, Any] = {
            "resourceType": "Observation",
            "id": fhir_id(f"{pid}-assessment-{oid}"),
            "meta": _tag(),
            "status": "final",
            "category": [{"coding": [{"system": codes.system("observation_category"), "code": "survey"}]}],
            "code": code,
            "subject": subject,
            "effectiveDateTime": a["as_of"],
            "note": [{"text": DISCLAIMER}],
        }
        refs = _refs(paths, srcs)
        if refs:
            res["derivedFrom"] = refs
        res.update({k: v for k, v in fields.items() if v is not None})
        if "effectivePeriod" in res:
            del res["effectiveDateTime"]
        out.append(res)

    u = a["eular_acr"]
    items = [
        {
            "code": {
                "coding": [
                    {"system": codes.project()["assessment_codesystem"], "code": f"eular_acr.item.{i['id']}"}
                ],
                "text": i["label"][:200],
            },
            **(
                {"valueQuantity": {"value": float(i["points"])}}
                if i["status"] == "present"
                else {"valueString": str(i["status"])}
            ),
        }
        for i in u["items"]
    ]
    rng = [
        {
            "code": _acode("eular_acr.score_min", "lowest score over the unknown items"),
            "valueQuantity": _q(u["score_min"]),
        },
        {
            "code": _acode("eular_acr.score_max", "highest score over the unknown items"),
            "valueQuantity": _q(u["score_max"]),
        },
    ]
    obs(
        "eular-score",
        _acode("eular_acr.score", "2017 EULAR/ACR IIM classification score (" + str(u["version"]) + ")"),
        u,
        valueQuantity=_q(u["score"]),
        component=rng + items,
    )
    obs(
        "eular-probability",
        _acode("eular_acr.probability", "2017 EULAR/ACR probability of IIM"),
        u,
        valueQuantity=_q(u["probability"], "%"),
        component=[
            {
                "code": _acode("eular_acr.probability_min", "lowest probability"),
                "valueQuantity": _q(u["probability_min"], "%"),
            },
            {
                "code": _acode("eular_acr.probability_max", "highest probability"),
                "valueQuantity": _q(u["probability_max"], "%"),
            },
        ],
    )
    obs(
        "eular-category",
        _acode("eular_acr.category", "2017 EULAR/ACR category"),
        u,
        valueCodeableConcept=_acode(f"category.{u['category']}", str(u["category"]).replace("_", " ")),
        component=[
            {
                "code": _acode("eular_acr.category_min", "lowest category"),
                "valueString": str(u["category_min"]),
            },
            {
                "code": _acode("eular_acr.category_max", "highest category"),
                "valueString": str(u["category_max"]),
            },
        ],
    )
    e = a["enmc"]
    obs(
        "enmc-subtype",
        _acode("enmc.subtype", "ENMC 224 IMNM subtype"),
        e,
        valueCodeableConcept={
            **_acode(f"subtype.{e['classification']}", str(e["classification"])),
            "text": e["message"],
        },
    )
    if response is not None:
        t = response
        comps = [
            {
                "code": _acode("tis.tis_min", "lowest TIS over missing measures"),
                "valueQuantity": _q(t["tis_min"]),
            },
            {
                "code": _acode("tis.tis_max", "highest TIS over missing measures"),
                "valueQuantity": _q(t["tis_max"]),
            },
            {"code": _acode("tis.category", "improvement category"), "valueString": str(t["category"])},
            {"code": _acode("tis.method", "percent-change method"), "valueString": str(t["method"])},
        ]
        for m, v in t["measures"].items():
            if v.get("points") is not None:
                comps.append(
                    {
                        "code": _acode(f"tis.measure.{m}", str(v["label"])),
                        "valueQuantity": _q(float(v["points"])),
                    }
                )
        visit_srcs = {f"visits[{i}]" for i in range(len(record.visits or []))}
        lab_srcs = {f"labs[{i}]" for i in range(len(record.labs or []))}
        obs(
            "tis",
            _acode("tis", "2016 ACR/EULAR Total Improvement Score"),
            visit_srcs | lab_srcs,
            valueQuantity=_q(t["tis"]),
            effectivePeriod={"start": str(t["baseline_date"]), "end": str(t["followup_date"])},
            component=comps,
        )
    for r in out:
        bundle["entry"].append({"fullUrl": _urn("Observation", r["id"]), "resource": r})
    bundle["id"] = fhir_id(f"{pid}-assessment")
    return bundle
