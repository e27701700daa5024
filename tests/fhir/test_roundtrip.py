"""Record → FHIR → record keeps every fact; a bundle gives the same assessment and trials as the YAML;
every exported resource validates with fhir.resources (R4B)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from imnm import services
from imnm.adapters.fhir import import_resources, record_from_result
from imnm.adapters.fhir.assessment import assessment_bundle
from imnm.adapters.fhir.read import resources_from_document, validation_problem
from imnm.adapters.fhir.write import (
    answers_response,
    record_to_bundle,
    screener_questionnaire,
    validate_bundle,
)
from imnm.record.load import load_record
from tests.conftest import AS_OF, EXAMPLES

RECORDS = sorted(EXAMPLES.glob("*.yaml"))


def through_fhir(path: Path) -> Any:
    bundle = record_to_bundle(load_record(path))
    return record_from_result(import_resources(resources_from_document(bundle)))


def _strip(value: Any) -> Any:
    """Facts without their source strings (the only thing allowed to differ)."""
    from imnm.core.facts import Observation

    if value is None:
        return None
    return [(o.value, o.date, o.note) if isinstance(o, Observation) else o for o in value]


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.stem)
def test_round_trip_keeps_every_registered_fact(path: Path) -> None:
    from imnm.facts import REGISTRY, RecordFacts

    before = RecordFacts(load_record(path), as_of=AS_OF)
    after = RecordFacts(through_fhir(path), as_of=AS_OF)
    # `emg.ref`, `mri.ref`, `biopsy.ref` are the source references themselves (allowed to differ)
    names = [s.name for s in REGISTRY.specs() if not s.name.endswith(".ref")]
    assert len(names) > 100
    diff = [n for n in names if _strip(before.get(n)) != _strip(after.get(n))]
    assert diff == []


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.stem)
def test_bundle_gives_the_same_assessment_and_trials(path: Path) -> None:
    yaml_rec, fhir_rec = load_record(path), through_fhir(path)
    # identical but for `ref`: the FHIR import keeps each result's Observation id, the YAML has none
    assert _no_refs(services.assess(fhir_rec, as_of=AS_OF).as_dict()) == _no_refs(
        services.assess(yaml_rec, as_of=AS_OF).as_dict()
    )
    assert (
        services.match_trials(fhir_rec, as_of=AS_OF).as_dict()
        == services.match_trials(yaml_rec, as_of=AS_OF).as_dict()
    )


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.stem)
def test_exports_validate_with_fhir_resources(path: Path) -> None:
    rec = load_record(path)
    assert validate_bundle(record_to_bundle(rec)) == []
    bundle = assessment_bundle(
        rec, assessment=services.assess(rec, as_of=AS_OF).as_dict(), response=_tis(rec)
    )
    assert validate_bundle(bundle) == []
    derived = [e["resource"] for e in bundle["entry"] if "-assessment-" in e["resource"]["id"]]
    codes = {d["code"]["coding"][0]["code"] for d in derived}
    assert {"eular_acr.score", "eular_acr.probability", "eular_acr.category", "enmc.subtype"} <= codes
    ids = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}
    for d in derived:  # every derivedFrom resolves inside the bundle
        assert all(r["reference"] in ids for r in d.get("derivedFrom", []))


def test_anti_hmgcr_assessment_bundle_values() -> None:
    # Figures of `imnm assess examples/anti-hmgcr.yaml` (README; worked example of issue 4): score 7.6,
    # probable, ENMC anti-HMGCR myopathy; TIS 67.5 between the two visits.
    rec = load_record(EXAMPLES / "anti-hmgcr.yaml")
    bundle = assessment_bundle(
        rec, assessment=services.assess(rec, as_of=AS_OF).as_dict(), response=_tis(rec)
    )
    by = {
        e["resource"]["code"]["coding"][0]["code"]: e["resource"]
        for e in bundle["entry"]
        if "-assessment-" in e["resource"]["id"]
    }
    assert by["eular_acr.score"]["valueQuantity"]["value"] == 7.6
    assert by["eular_acr.category"]["valueCodeableConcept"]["coding"][0]["code"] == "category.probable"
    assert by["enmc.subtype"]["valueCodeableConcept"]["coding"][0]["code"] == "subtype.anti_hmgcr_myopathy"
    assert by["tis"]["valueQuantity"]["value"] == 67.5
    assert any(r["reference"].endswith("lab-ck-1") for r in by["enmc.subtype"]["derivedFrom"])


def test_empty_list_survives_and_omitted_list_stays_unknown() -> None:
    rec = load_record(EXAMPLES / "anti-hmgcr.yaml").model_copy(
        update={"infections": [], "vaccinations": None}
    )
    back = record_from_result(import_resources(resources_from_document(record_to_bundle(rec))))
    assert back.infections == [] and back.vaccinations is None


def test_screener_questionnaire_and_answers_validate() -> None:
    from imnm import knowledge
    from imnm.screen.answers import load_answers

    q = screener_questionnaire()
    assert validation_problem(q, "q") is None
    assert [i["linkId"] for i in q["item"]] == [x["id"] for x in knowledge.load("screener")["questions"]]
    qr = answers_response(load_answers(EXAMPLES / "screener" / "answers.yaml"))
    assert validation_problem(qr, "qr") is None
    assert qr["questionnaire"] == q["url"]


def test_questionnaire_response_maps_to_the_record() -> None:
    qr = {
        "resourceType": "QuestionnaireResponse",
        "id": "a",
        "questionnaire": screener_questionnaire()["url"],
        "status": "completed",
        "item": [
            {"linkId": "statin", "answer": [{"valueCoding": {"code": "past"}}]},
            {"linkId": "trouble_swallowing", "answer": [{"valueCoding": {"code": "yes"}}]},
            {"linkId": "muscle_pain", "answer": [{"valueCoding": {"code": "dont_know"}}]},
        ],
    }
    rec = record_from_result(import_resources([{"resourceType": "Patient", "id": "p"}, qr]))
    assert rec.exposures.statin.status == "past" and rec.findings.dysphagia is True
    assert rec.findings.myalgia is None  # don't know is never no


def test_cli_export(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from imnm.cli.main import app

    out = tmp_path / "b.json"
    r = CliRunner().invoke(
        app,
        [
            "fhir",
            "export",
            "assessment",
            str(EXAMPLES / "anti-hmgcr.yaml"),
            "--as-of",
            "2026-11-25",
            "-o",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text())["resourceType"] == "Bundle"
    r = CliRunner().invoke(app, ["fhir", "export", "questionnaire"])
    assert r.exit_code == 0 and json.loads(r.output)["resourceType"] == "Questionnaire"
    r = CliRunner().invoke(app, ["fhir", "export", "nonsense"])
    assert r.exit_code == 2
    # the record commands this branch switched read a bundle directly
    r = CliRunner().invoke(app, ["facts", str(out), "--as-of", "2026-11-25", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["facts"]["antibody.HMGCR"][0]["value"] == "positive"


def test_as_of_is_passed_through() -> None:
    assert services.assess(load_record(EXAMPLES / "anti-hmgcr.yaml"), as_of=date(2024, 3, 5)).as_of == date(
        2024, 3, 5
    )


def _tis(rec: object) -> dict[str, object] | None:
    from imnm.errors import InputError

    try:
        return services.response(rec).as_dict()  # type: ignore[arg-type]
    except InputError:
        return None


def _no_refs(x: object) -> object:
    if isinstance(x, dict):
        return {k: _no_refs(v) for k, v in x.items() if k != "ref"}
    if isinstance(x, list):
        return [_no_refs(v) for v in x]
    return x
