"""Real documents the fuzz strategies start from (all synthetic patient data).

Every input kind has seeds taken from material someone actually wrote: the bundled example records, the
screener's answers file and questions, the trial catalog's own rules, catalog files, ClinicalTrials.gov v2
records (`tests/data/trials`), FHIR Bundles exported from the examples and trimmed Synthea R4 bundles
(`../shared/data/fhir`, resolved through `tests/shared.py`), CDS Hooks requests (the specification's
examples in `../shared/data/cds-hooks` and our own hooks' prefetch) and API request bodies. The
strategies in `tests/fuzz/mutate.py` mutate them.
"""

from __future__ import annotations

import copy
import json
import random
from functools import cache
from pathlib import Path
from typing import Any

from tests.conftest import EXAMPLES, ROOT
from tests.shared import shared

CLOSED_FHIR_SERVER = "http://127.0.0.1:9/r4"
CATALOG = ROOT / "src" / "imnm" / "knowledge" / "data" / "trials"
TRIAL_DATA = ROOT / "tests" / "data" / "trials"


def _plain(data: Any) -> Any:
    """JSON-shaped copy (dates as ISO strings), as a record file holds them."""
    return json.loads(json.dumps(data, default=str))


def _yaml(path: Path) -> Any:
    from imnm.io.yaml import load_yaml_text

    return load_yaml_text(path.read_text(encoding="utf-8"), file=str(path))


@cache
def records() -> tuple[Any, ...]:
    """The bundled example records and a few seeded synthetic ones (imnm.synthetic)."""
    from imnm.synthetic import synthetic_record

    out = [_plain(_yaml(p)) for p in sorted(EXAMPLES.glob("*.yaml"))]
    rng = random.Random(17)
    out += [_plain(synthetic_record(rng, i)) for i in range(6)]
    return tuple(out)


@cache
def answers() -> tuple[Any, ...]:
    """The bundled answers file plus answers built from the screener's own questions and allowed values."""
    from imnm.screen.screener import load_screener

    out: list[Any] = [_plain(_yaml(EXAMPLES / "screener" / "answers.yaml"))]
    screener = load_screener()
    rng = random.Random(17)
    questions = list(_questions(screener))
    for _ in range(5):
        doc: dict[str, Any] = {}
        for name, allowed in questions:
            if rng.random() < 0.7:
                doc[name] = rng.choice(allowed)
        out.append(doc)
    return tuple(out)


def _questions(screener: Any) -> list[tuple[str, list[Any]]]:
    """(question id, example answers) for every screener question."""
    from imnm.screen.answers import Answers

    out: list[tuple[str, list[Any]]] = []
    schema = Answers.model_json_schema()
    props = schema.get("properties", {})
    defs = schema.get("$defs", {})
    for name, spec in props.items():
        values: list[Any] = []
        for alt in spec.get("anyOf", [spec]):
            if "$ref" in alt:
                alt = defs.get(alt["$ref"].rsplit("/", 1)[1], {})
            if "enum" in alt:
                values += alt["enum"]
            elif alt.get("type") == "boolean":
                values += [True, False]
            elif alt.get("type") in ("integer", "number"):
                values += [0, 17, 45, 70, 15000]
            elif "const" in alt:
                values.append(alt["const"])
        out.append((name, values or ["dont_know"]))
    del screener
    return out


@cache
def catalog_files() -> tuple[Any, ...]:
    return tuple(_plain(_yaml(p)) for p in sorted(CATALOG.glob("*.yaml")))


@cache
def rules() -> tuple[Any, ...]:
    """Every rule tree the trial catalog holds (inclusion and exclusion), plus the README's example."""
    out: list[Any] = [
        {
            "all": [
                {"compare": {"fact": "lab.ck.fold", "op": ">", "value": 10, "unit": "xULN", "select": "max"}},
                {
                    "any": [
                        {"compare": {"fact": "antibody.HMGCR", "op": "==", "value": "positive"}},
                        {"compare": {"fact": "antibody.SRP", "op": "==", "value": "positive"}},
                    ]
                },
                {"not": {"event": {"fact": "medication.rituximab", "window": {"before": "6mo"}}}},
            ]
        }
    ]
    for trial in catalog_files():
        for section in ("inclusion", "exclusion"):
            for c in trial.get(section) or []:
                if isinstance(c, dict) and "rule" in c:
                    out.append(c["rule"])
    return tuple(out)


@cache
def reviews() -> tuple[Any, ...]:
    """Reviews files naming real trials and criteria of the catalog."""
    rng = random.Random(17)
    pairs = [
        (t["id"], c["id"])
        for t in catalog_files()
        for section in ("inclusion", "exclusion")
        for c in t.get(section) or []
        if isinstance(c, dict) and "id" in c
    ]
    out = []
    for _ in range(6):
        picked = rng.sample(pairs, 4)
        out.append(
            {
                "reviews": [
                    {
                        "trial": t,
                        "criterion": c,
                        "met": rng.random() < 0.5,
                        "by": "Dr A. Example",
                        "date": "2026-11-20",
                    }
                    for t, c in picked
                ]
            }
        )
    return tuple(out)


@cache
def ctgov() -> tuple[Any, ...]:
    """ClinicalTrials.gov API v2 study records (a trimmed real record and a transcribed one)."""
    return tuple(json.loads(p.read_text(encoding="utf-8")) for p in sorted(TRIAL_DATA.glob("NCT*.json")))


def _trimmed(bundle: dict[str, Any], keep: int, rng: random.Random) -> dict[str, Any]:
    entries = bundle["entry"]
    patient = [e for e in entries if e["resource"]["resourceType"] == "Patient"]
    rest = [e for e in entries if e["resource"]["resourceType"] != "Patient"]
    return {**bundle, "entry": patient + rng.sample(rest, min(keep, len(rest)))}


@cache
def fhir_bundles() -> tuple[Any, ...]:
    """Bundles exported from the examples, and Synthea R4 bundles trimmed to 40 of their resources."""
    from imnm.adapters.fhir.write import record_to_bundle
    from imnm.record.load import load_record

    out: list[Any] = [record_to_bundle(load_record(p)) for p in sorted(EXAMPLES.glob("*.yaml"))]
    rng = random.Random(17)
    for name in ("synthea-r4-Alejandro_Riojas.json", "synthea-r4-Maria_Luisa_Razo.json"):
        bundle = json.loads(shared("data", "fhir", name).read_text(encoding="utf-8"))
        out += [_trimmed(bundle, 40, rng) for _ in range(2)]
    return tuple(_plain(b) for b in out)


def cds_prefetch(bundle: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    res = [e["resource"] for e in bundle["entry"]]
    patient = next(r for r in res if r["resourceType"] == "Patient")

    def ss(kind: str) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": r} for r in res if r["resourceType"] == kind],
        }

    return patient["id"], {
        "patient": patient,
        "observations": ss("Observation"),
        "conditions": ss("Condition"),
        "medications": ss("MedicationRequest"),
    }


@cache
def cds_requests() -> tuple[tuple[str, Any], ...]:
    """(service id, request body): our hooks with full prefetch, and the specification's request examples."""
    out: list[tuple[str, Any]] = []
    for b in fhir_bundles()[:6]:
        pid, pre = cds_prefetch(b)
        body = {
            "hook": "patient-view",
            "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/example", "patientId": pid},
            "prefetch": pre,
        }
        out.append(("imnm-patient-view", body))
        order = {
            "resourceType": "MedicationRequest",
            "id": "draft-1",
            "status": "draft",
            "intent": "order",
            "subject": {"reference": f"Patient/{pid}"},
            "medicationCodeableConcept": {
                "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "617312"}],
                "text": "atorvastatin 40 MG Oral Tablet",
            },
        }
        out.append(
            (
                "imnm-statin-order",
                {
                    "hook": "order-select",
                    "hookInstance": "a2f2c2d6-4b3a-4a51-9d8a-1c8b2f0e8d11",
                    "context": {
                        "userId": "Practitioner/example",
                        "patientId": pid,
                        "selections": ["MedicationRequest/draft-1"],
                        "draftOrders": {
                            "resourceType": "Bundle",
                            "type": "collection",
                            "entry": [{"resource": order}],
                        },
                    },
                    "prefetch": pre,
                },
            )
        )
    for path in sorted(shared("data", "cds-hooks").rglob("*request*.json")):
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(body, dict) and "hook" in body:
            if "fhirServer" in body:  # never the network: a closed loopback port answers at once
                body["fhirServer"] = CLOSED_FHIR_SERVER
            out.append(("imnm-patient-view", body))
    out.append(
        (
            "imnm-patient-view/feedback",
            {
                "feedback": [
                    {
                        "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
                        "outcome": "overridden",
                        "overrideReason": {
                            "reason": {"code": "not-relevant", "system": "http://example.org"}
                        },
                        "outcomeTimestamp": "2026-11-25T10:00:00Z",
                    }
                ]
            },
        )
    )
    return tuple(out)


PATCHES: tuple[Any, ...] = (
    {
        "reason": "clinic CK",
        "operations": [
            {
                "op": "add_lab",
                "value": {"test": "ck", "value": 4200, "unit": "U/L", "uln": 200, "date": "2024-11-02"},
            }
        ],
    },
    {"reason": "exam", "operations": [{"op": "set_finding", "value": {"name": "dysphagia", "value": True}}]},
    {
        "reason": "history",
        "operations": [{"op": "set_history", "value": {"name": "malignancy", "value": None}}],
    },
    {
        "reason": "statin",
        "operations": [{"op": "set_exposure", "value": {"name": "statin", "value": "never"}}],
    },
    {"reason": "weight", "operations": [{"op": "set_field", "value": {"name": "weight_kg", "value": 71.5}}]},
    {
        "reason": "antibody",
        "operations": [
            {
                "op": "add_antibody",
                "value": {
                    "target": "HMGCR",
                    "result": "positive",
                    "method": "ELISA",
                    "value": 120,
                    "date": "2024-10-01",
                },
            }
        ],
    },
    {
        "reason": "entered in error",
        "operations": [{"op": "remove_item", "value": {"section": "labs", "index": 0}}],
    },
    {
        "reason": "correction",
        "operations": [
            {
                "op": "replace_item",
                "value": {
                    "section": "labs",
                    "index": 0,
                    "value": {"test": "ck", "value": 9000, "unit": "U/L", "uln": 200, "date": "2024-03-01"},
                },
            }
        ],
    },
    {"reason": "biopsy", "operations": [{"op": "record_biopsy", "value": None}]},
    {"reason": "section", "operations": [{"op": "set_section", "value": {"name": "findings", "value": {}}}]},
)

API_BODIES: dict[str, tuple[Any, ...]] = {
    "review": (
        {"trial": "NCT05523167", "criterion": "inc-1", "met": True, "note": "consent capacity confirmed"},
        {"trial": "NCT04025632", "criterion": "inc-1", "met": False},
    ),
    "login": ({"username": "clinician", "password": "synthetic password 1"},),
    "user": (
        {
            "username": "newuser",
            "password": "synthetic password 2",
            "roles": ["coordinator"],
            "teams": ["neuro"],
        },
    ),
    "user_patch": ({"roles": ["coordinator"]}, {"teams": ["neuro"], "roles": ["clinician"]}),
    "team": ({"name": "neuro-2"},),
    "token": ({"name": "etl", "scope": "read", "expires_in_days": 30},),
    "erasure": ({"reason": "patient request"},),
    "confirm": ({"token": "0" * 43},),
}


def fresh(seed: Any) -> Any:
    return copy.deepcopy(seed)
