"""FHIR through the records service (issue 14): import a Bundle (nothing stored), store a Bundle as a
patient, export the stored record and its assessment as Bundles. Expectations are read off the
Synthea bundle (as in tests/fhir/test_import.py) or are the CLI's own output for the same input."""

from __future__ import annotations

import json
from typing import Any

from imnm.adapters.fhir.write import record_to_bundle
from imnm.record.load import load_record
from tests.api.conftest import World
from tests.conftest import AS_OF, EXAMPLES, run_cli
from tests.shared import shared

P = "/api/v1"
ALEJANDRO = shared("data", "fhir", "synthea-r4-Alejandro_Riojas.json")


def _post(w: World, kind: str, path: str, body: Any, **kw: Any) -> Any:
    return w.clients[kind].post(path, json=body, headers=w.headers[kind], **kw)


def test_import_maps_a_synthea_bundle_and_stores_nothing(shared_world: World) -> None:
    w = shared_world
    before = w.events()
    bundle = json.loads(ALEJANDRO.read_text(encoding="utf-8"))
    r = _post(w, "token_compute", f"{P}/fhir/import", bundle)
    assert r.status_code == 200, r.text
    out = r.json()
    # read off the bundle: Patient 829bb06a..., male, born 1963-10-05; atorvastatin authored 2008-12-14
    rec = out["record"]
    assert rec["id"] == "829bb06a-42b9-433d-a8f6-560727c63da9"
    assert rec["sex"] == "male" and rec["birth_date"] == "1963-10-05"
    assert rec["exposures"]["statin"]["status"] == "past"
    assert "labs" not in rec or not rec["labs"]  # no CK in the bundle: unknown, never "normal"
    items = {i["resource"]: i for i in out["report"]["items"]}
    assert items["Condition/24ce21c1-78ac-4f8c-84b7-8fe439dc8927"]["outcome"] == "not_mapped"
    # the CLI prints the same record for the same bundle
    cli = run_cli("fhir", "import", str(ALEJANDRO), "--json")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["record"]["id"] == rec["id"]
    assert w.events() == before  # compute only: no patient data stored, nothing audited


def test_a_bad_bundle_is_a_problem_naming_the_field(shared_world: World) -> None:
    w = shared_world
    r = _post(w, "clinician", f"{P}/fhir/import", {"resourceType": "Bundle", "type": "history-ish"})
    assert r.status_code == 422  # the API's status for input it cannot use (as for an invalid record)
    problems = r.json()["problems"]
    assert problems[0]["path"] == "type" and "history-ish" in problems[0]["message"]


def test_a_bundle_stored_as_a_patient_gives_the_same_assessment_as_the_yaml(world: World) -> None:
    w = world
    record = load_record(EXAMPLES / "anti-hmgcr.yaml").model_copy(update={"id": "from-the-ehr"})
    bundle = record_to_bundle(record)
    r = _post(w, "clinician", f"{P}/patients?team=neuro&reason=from%20the%20EHR", bundle)
    assert r.status_code == 201, r.text
    assert r.json()["record_id"] == "from-the-ehr"
    pid = r.json()["id"]
    q = f"?as_of={AS_OF.isoformat()}"
    stored = w.clients["clinician"].get(f"{P}/patients/{pid}/assessment{q}", headers=w.headers["clinician"])
    assert stored.status_code == 200
    cli = run_cli("assess", str(EXAMPLES / "anti-hmgcr.yaml"), "--json", "--as-of", AS_OF.isoformat())
    expected = json.loads(cli.stdout)
    got = stored.json()
    for key in ("enmc", "eular_acr", "next_tests", "flags"):
        assert got[key] == expected[key], key


def test_export_the_stored_record_and_its_assessment(shared_world: World) -> None:
    from fhir.resources.R4B.bundle import Bundle

    from imnm.adapters.fhir import import_resources, record_from_result
    from imnm.adapters.fhir.read import resources_from_document
    from imnm.store.patients import canonical

    w = shared_world
    c, h = w.clients["clinician"], w.headers["clinician"]
    r = c.get(f"{P}/patients/{w.patient}/fhir", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    bundle = r.json()
    Bundle.model_validate(bundle)
    back = record_from_result(import_resources(resources_from_document(bundle)))
    # every fact kept; the import adds each item's FHIR source in `ref` (the YAML has none)
    assert _no_refs(canonical(back)) == _no_refs(canonical(load_record(EXAMPLES / "anti-hmgcr.yaml")))
    a = c.get(f"{P}/patients/{w.patient}/fhir?what=assessment&as_of={AS_OF.isoformat()}", headers=h)
    assert a.status_code == 200
    Bundle.model_validate(a.json())
    texts = json.dumps(a.json())
    assert "derivedFrom" in texts and "HMGCR" in texts
    other = w.clients["other"].get(f"{P}/patients/{w.patient}/fhir", headers=w.headers["other"])
    assert other.status_code == 404  # another team's patient does not exist for them


def _no_refs(x: object) -> object:
    if isinstance(x, dict):
        return {k: _no_refs(v) for k, v in x.items() if k != "ref"}
    if isinstance(x, list):
        return [_no_refs(v) for v in x]
    return x
