"""FHIR import: the Synthea R4 bundles (hand-written expectations, read off the files) and the mapping rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from imnm.adapters.fhir import import_path, import_resources, record_from_result
from imnm.io.sources import load_patient
from tests.shared import shared

ALEJANDRO = ("data", "fhir", "synthea-r4-Alejandro_Riojas.json")
MARIA = ("data", "fhir", "synthea-r4-Maria_Luisa_Razo.json")


def test_alejandro_bundle_imports_with_the_facts_it_holds() -> None:
    result = import_path(shared(*ALEJANDRO))
    rec = record_from_result(result)
    # Read off the bundle: Patient 829bb06a..., male, born 1963-10-05; five MedicationRequests, all stopped,
    # authored 2002-06-20 (acetaminophen) and 2008-12-14 (the other four, atorvastatin 80 MG RxNorm 259255).
    assert rec.id == "829bb06a-42b9-433d-a8f6-560727c63da9"
    assert rec.sex == "male"
    assert str(rec.birth_date) == "1963-10-05"
    assert rec.medications is not None
    names = [m.name for m in rec.medications]
    assert names == [
        "Acetaminophen 325 MG Oral Tablet",
        "Nitroglycerin 0.4 MG/ACTUAT Mucosal Spray",
        "Atorvastatin 80 MG Oral Tablet",
        "Captopril 25 MG Oral Tablet",
        "Clopidogrel 75 MG Oral Tablet",
    ]
    # stopped with no end date: the dates are unknown, never "still taking it"
    assert all(m.start is None and m.stop is None for m in rec.medications)
    assert rec.medications[2].ref == "MedicationRequest/4eecfe10-584c-438e-b6f4-87e2abd8a562"
    assert rec.exposures.statin is not None
    assert rec.exposures.statin.status == "past"
    assert str(rec.exposures.statin.start) == "2008-12-14"
    assert rec.exposures.statin.stop is None
    # latest body height/weight of the bundle (2007-10-21: 189.34 cm, 108.03 kg)
    assert rec.height_cm == pytest.approx(189.34136216482673)
    assert rec.weight_kg == pytest.approx(108.03120583515923)
    # 7 completed Immunizations
    assert rec.vaccinations is not None and len(rec.vaccinations) == 7
    assert rec.vaccinations[0].name == "Influenza, seasonal, injectable, preservative free"
    # no CK, no antibody, no myositis condition: those stay unknown (None), never "normal"
    assert rec.labs is None and rec.antibodies is None
    assert (
        rec.history.cardiac_involvement is None
    )  # a myocardial infarction is not myositis heart involvement
    report = result.report.as_dict()
    assert report["summary"]["mapped"] > 0
    mi = [i for i in report["items"] if i["resource"] == "Condition/24ce21c1-78ac-4f8c-84b7-8fe439dc8927"]
    assert mi and mi[0]["outcome"] == "not_mapped" and "unknown code" in mi[0]["reason"]
    assert "LOINC" in report["loinc_notice"]


def test_maria_bundle_imports_with_the_facts_it_holds() -> None:
    rec = load_patient(shared(*MARIA))
    # Patient 22d7a9b8..., female, born 1973-08-01; simvastatin 20 MG (RxNorm 312961) active, authored 2012-07-11
    assert rec.id == "22d7a9b8-7756-4eb7-a95f-6e86e0c93761"
    assert rec.sex == "female"
    assert str(rec.birth_date) == "1973-08-01"
    assert rec.medications is not None and len(rec.medications) == 4
    simva = [m for m in rec.medications if m.name.startswith("Simvastatin")]
    assert len(simva) == 1 and str(simva[0].start) == "2012-07-11" and simva[0].stop is None
    assert rec.exposures.statin is not None and rec.exposures.statin.status == "current"
    assert str(rec.exposures.statin.start) == "2012-07-11"
    assert rec.vaccinations is not None and len(rec.vaccinations) == 9
    assert rec.height_cm == pytest.approx(159.05016355609337)
    assert rec.weight_kg == pytest.approx(76.37426378070013)  # 2020-08-05, the latest
    assert rec.labs is None and rec.antibodies is None


def test_bulk_ndjson_folder_gives_the_same_record(tmp_path: Path) -> None:
    bundle = json.loads(shared(*MARIA).read_text())
    by_type: dict[str, list[dict[str, Any]]] = {}
    for e in bundle["entry"]:
        by_type.setdefault(e["resource"]["resourceType"], []).append(e["resource"])
    for rtype, rows in by_type.items():
        (tmp_path / f"{rtype}.ndjson").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert load_patient(tmp_path) == load_patient(shared(*MARIA))


def test_content_detection_not_the_extension(tmp_path: Path) -> None:
    p = tmp_path / "export.txt"
    p.write_text(shared(*MARIA).read_text())
    assert load_patient(p).sex == "female"


# ------------------------------------------------------------------ mapping rules on small resources

PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-01-01"}


def ck(oid: str, **over: Any) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2157-6"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2025-01-15T08:30:00Z",
        "valueQuantity": {"value": 4850, "unit": "U/L", "system": "http://unitsofmeasure.org", "code": "U/L"},
        "referenceRange": [
            {"high": {"value": 308, "unit": "U/L", "system": "http://unitsofmeasure.org", "code": "U/L"}}
        ],
    }
    res.update(over)
    return {k: v for k, v in res.items() if v is not None}


def run(*resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    result = import_resources([PATIENT, *resources])
    return record_from_result(result), {
        i.resource: i for i in result.report.items if i.resource != "Patient/p1"
    }


def test_the_trials_md_ck_example_is_a_ck_with_its_uln() -> None:
    rec, _ = run(ck("a"))
    (lab,) = rec.labs
    assert (lab.test, lab.value, lab.unit, lab.uln, str(lab.date), lab.ref) == (
        "ck",
        4850.0,
        "U/L",
        308.0,
        "2025-01-15",
        "Observation/a",
    )


def test_no_unit_is_not_a_ck_value() -> None:
    rec, rep = run(ck("a", valueQuantity={"value": 4850}))
    assert rec.labs is None
    assert rep["Observation/a"].outcome == "not_mapped" and "no unit" in rep["Observation/a"].reason


def test_unit_the_units_table_does_not_know_is_not_a_value() -> None:
    rec, rep = run(
        ck(
            "a",
            valueQuantity={
                "value": 4.8,
                "unit": "mmol/L",
                "system": "http://unitsofmeasure.org",
                "code": "mmol/L",
            },
        )
    )
    assert rec.labs is None and "units table" in rep["Observation/a"].reason


def test_ukat_is_converted_by_the_table_and_the_uln_follows_the_value_unit() -> None:
    q = {"value": 35, "unit": "µkat/L", "system": "http://unitsofmeasure.org", "code": "ukat/L"}
    high = {"value": 200, "unit": "U/L", "system": "http://unitsofmeasure.org", "code": "U/L"}
    rec, _ = run(ck("a", valueQuantity=q, referenceRange=[{"high": high}]))
    (lab,) = rec.labs
    assert lab.unit == "ukat/L" and lab.uln == pytest.approx(200 / 60)


def test_no_reference_range_keeps_the_value_and_flags_it() -> None:
    rec, rep = run(ck("a", referenceRange=None))
    assert rec.labs[0].uln is None
    assert rep["Observation/a"].outcome == "flagged" and "reference range" in rep["Observation/a"].reason


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled"])
def test_status_ignored(status: str) -> None:
    rec, rep = run(ck("a", status=status))
    assert rec.labs is None and rep["Observation/a"].outcome == "ignored"


def test_preliminary_is_used_and_flagged() -> None:
    rec, rep = run(ck("a", status="preliminary"))
    assert rec.labs is not None and rep["Observation/a"].outcome == "flagged"


def test_censored_value_is_not_an_exact_value() -> None:
    q = {"value": 20, "comparator": "<", "unit": "U/L", "system": "http://unitsofmeasure.org", "code": "U/L"}
    rec, _ = run(ck("a", valueQuantity=q))
    assert rec.labs is None


def test_duplicate_result_is_reported() -> None:
    rec, rep = run(ck("a"), ck("b"))
    assert len(rec.labs) == 1 and rep["Observation/b"].outcome == "ignored"


def antibody(oid: str, code: str, **over: Any) -> dict[str, Any]:
    res = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "effectiveDateTime": "2025-01-15",
    }
    res.update(over)
    return res


POS = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "POS"}
    ]
}
NEG_SCT = {"coding": [{"system": "http://snomed.info/sct", "code": "260385009"}]}


def test_anti_hmgcr_elisa_units_with_interpretation() -> None:
    rec, _ = run(antibody("h", "93493-5", valueQuantity={"value": 180, "unit": "U"}, interpretation=[POS]))
    (ab,) = rec.antibodies
    assert (ab.target, ab.result, ab.value) == ("HMGCR", "positive", 180.0)


def test_anti_srp_coded_negative() -> None:
    rec, _ = run(antibody("s", "33921-8", valueCodeableConcept=NEG_SCT))
    assert rec.antibodies[0].target == "SRP" and rec.antibodies[0].result == "negative"


def test_number_alone_is_not_read_against_a_cut_off() -> None:
    rec, rep = run(antibody("h", "93493-5", valueQuantity={"value": 180, "unit": "U"}))
    assert rec.antibodies is None and rep["Observation/h"].outcome == "not_mapped"


def test_value_and_interpretation_disagree() -> None:
    rec, _ = run(antibody("s", "33921-8", valueCodeableConcept=NEG_SCT, interpretation=[POS]))
    assert rec.antibodies is None


def condition(
    cid: str, code: dict[str, Any], clinical: str | None, verification: str | None
) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Condition",
        "id": cid,
        "code": code,
        "subject": {"reference": "Patient/p1"},
    }
    if clinical:
        res["clinicalStatus"] = {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": clinical}
            ]
        }
    if verification:
        res["verificationStatus"] = {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": verification}
            ]
        }
    return res


ILD = {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "J84.10"}]}


def test_condition_confirmed_gives_true_refuted_false_unconfirmed_nothing() -> None:
    assert run(condition("c", ILD, "active", "confirmed"))[0].history.interstitial_lung_disease is True
    assert run(condition("c", ILD, None, "refuted"))[0].history.interstitial_lung_disease is False
    assert run(condition("c", ILD, "active", "provisional"))[0].history.interstitial_lung_disease is None
    assert run()[0].history.interstitial_lung_disease is None  # absence gives nothing


def test_imnm_condition_gives_the_diagnosis_date() -> None:
    code = {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G72.49"}]}
    c = condition("d", code, "active", "confirmed") | {"onsetDateTime": "2024-05-02"}
    assert str(run(c)[0].diagnosis_date) == "2024-05-02"


def test_glucocorticoid_statement_with_daily_dose_and_period() -> None:
    ms = {
        "resourceType": "MedicationStatement",
        "id": "m",
        "status": "completed",
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "8640",
                    "display": "prednisone",
                }
            ]
        },
        "subject": {"reference": "Patient/p1"},
        "effectivePeriod": {"start": "2024-04-10", "end": "2024-09-01"},
        "dosage": [
            {
                "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": 20,
                            "unit": "mg",
                            "system": "http://unitsofmeasure.org",
                            "code": "mg",
                        }
                    }
                ],
            }
        ],
    }
    (m,) = run(ms)[0].medications
    assert (m.name, m.dose_mg_per_day, str(m.start), str(m.stop)) == (
        "prednisone",
        40.0,
        "2024-04-10",
        "2024-09-01",
    )


def test_two_patients_is_a_clear_error() -> None:
    from imnm.errors import InputError

    with pytest.raises(InputError, match="2 patients"):
        import_resources([PATIENT, PATIENT | {"id": "p2"}])


def test_cli_import_writes_a_record(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from imnm.cli.main import app

    out = tmp_path / "r.yaml"
    res = CliRunner().invoke(app, ["fhir", "import", str(shared(*MARIA)), "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["record"]["sex"] == "female"
    assert load_patient(out).exposures.statin.status == "current"
    bad = tmp_path / "bad.json"
    bad.write_text('{"resourceType": "Bundle", "type": "nonsense"}')
    res = CliRunner().invoke(app, ["fhir", "import", str(bad)])
    assert res.exit_code == 2
