"""Clinician forms: a new patient by form or file, a form per section, problems from the record model
in the words of `imnm validate` at the field they name, yes / no / unknown never read as no, and every
save a new revision based on the one the form was opened on."""

from __future__ import annotations

import html as h
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import World, login
from tests.conftest import EXAMPLES
from tests.shared import shared
from tests.web.conftest import csrf_of


def _post(c: TestClient, url: str, data: dict[str, str], **kw: Any) -> Any:
    return c.post(url, data={**data, "csrftoken": csrf_of(c)}, follow_redirects=False, **kw)


def validate_text(doc: dict[str, Any]) -> list[str]:
    """What `imnm validate` says about a record document (each problem as it prints it)."""
    from imnm.errors import InputError
    from imnm.record.load import parse_record

    try:
        parse_record(doc)
    except InputError as exc:
        return [str(p) for p in exc.problems]
    return []


def _record(w: World, pid: str) -> dict[str, Any]:
    from imnm.store import patients as store
    from imnm.store.models import Patient

    with w.db.session() as s:
        p = s.get(Patient, pid)
        assert p is not None
        return store.document_of(store.revision(s, p))


def _revision(w: World, pid: str) -> int:
    from imnm.store.models import Patient

    with w.db.session() as s:
        p = s.get(Patient, pid)
        assert p is not None
        return p.current_revision


def test_a_new_patient_by_form_with_a_problem_fixed(web: World) -> None:
    c, _ = login(web.app, "clinician")
    page = c.get("/patients/new").text
    assert 'name="f-sex"' in page and 'type="checkbox"' not in page
    bad = {"f-id": "web-form-1", "f-sex": "female", "f-birth-date": "1960-05-01", "f-age-at-onset": "130"}
    r = _post(c, "/patients/new", bad)
    assert r.status_code == 422
    expected = validate_text(
        {"id": "web-form-1", "sex": "female", "birth_date": "1960-05-01", "age_at_onset": 130}
    )
    assert expected and all(e in h.unescape(r.text) for e in expected)  # the words of imnm validate
    # the field is marked and its error linked to it
    assert re.search(r'id="f-age-at-onset"[^>]*aria-describedby="[^"]*f-age-at-onset-error', r.text)
    assert 'id="f-age-at-onset-error"' in r.text and 'href="#f-age-at-onset"' in r.text
    assert 'value="1960-05-01"' in r.text  # what was typed stays
    r = _post(c, "/patients/new", {**bad, "f-age-at-onset": "55", "reason": "referral"})
    assert r.status_code == 303
    pid = r.headers["location"].split("/")[2].split("?")[0]
    doc = _record(web, pid)
    assert doc == {
        "id": "web-form-1",
        "sex": "female",
        "birth_date": "1960-05-01",
        "age_at_onset": 55,
        "findings": {},
        "history": {},
        "exposures": {},
    }


def test_findings_are_yes_no_or_not_examined(web: World) -> None:
    c, _ = login(web.app, "clinician")
    pid = _post(c, "/patients/new", {"f-id": "web-findings"}).headers["location"].split("/")[2].split("?")[0]
    page = c.get(f"/patients/{pid}/edit/findings").text
    assert 'type="checkbox"' not in page
    assert page.count('name="f-dysphagia"') == 3  # yes / no / not examined
    assert re.search(r'name="f-dysphagia" value=""\s+checked', page)  # unknown until said
    base = str(_revision(web, pid))
    r = _post(
        c,
        f"/patients/{pid}/edit/findings",
        {"base": base, "f-dysphagia": "no", "f-proximal-weakness-upper": "yes"},
    )
    assert r.status_code == 303, r.text
    assert _record(web, pid)["findings"] == {"dysphagia": False, "proximal_weakness_upper": True}
    # every finding left "not examined": nothing is written, nothing reads as no
    r = _post(c, f"/patients/{pid}/edit/findings", {"base": str(_revision(web, pid))})
    assert r.status_code == 303
    assert _record(web, pid)["findings"] == {}


def test_a_lab_with_a_wrong_unit_is_refused_in_the_words_of_validate(web: World) -> None:
    c, _ = login(web.app, "clinician")
    pid = _post(c, "/patients/new", {"f-id": "web-lab"}).headers["location"].split("/")[2].split("?")[0]
    base = str(_revision(web, pid))
    lab = {"f-test": "ck", "f-value": "4200", "f-unit": "mg", "f-uln": "200", "f-date": "2024-11-02"}
    r = _post(c, f"/patients/{pid}/edit/labs", {"base": base, **lab})
    assert r.status_code == 422
    doc = {
        "id": "web-lab",
        "labs": [{"test": "ck", "value": 4200, "unit": "mg", "uln": 200, "date": "2024-11-02"}],
    }
    expected = validate_text(doc)
    assert len(expected) == 1 and expected[0].startswith("labs[0].unit:")
    assert expected[0] in h.unescape(r.text)
    assert re.search(r'id="f-unit"[^>]*aria-invalid="true"', r.text)
    assert _revision(web, pid) == int(base)  # nothing saved
    r = _post(c, f"/patients/{pid}/edit/labs", {"base": base, **lab, "f-unit": "U/L"})
    assert r.status_code == 303
    assert _record(web, pid)["labs"] == [
        {"test": "ck", "value": 4200, "unit": "U/L", "uln": 200, "date": "2024-11-02"}
    ]
    # a number written as text is the model's problem too, with its words
    r = _post(
        c,
        f"/patients/{pid}/edit/labs",
        {"base": str(_revision(web, pid)), **lab, "f-unit": "U/L", "f-value": "high"},
    )
    assert r.status_code == 422
    bad = validate_text({"id": "web-lab", "labs": [{"test": "ck", "value": "high", "unit": "U/L"}]})
    assert bad[0].split(": ", 1)[1] in h.unescape(r.text)


def test_a_form_opened_on_an_old_revision_cannot_overwrite(web: World) -> None:
    c, _ = login(web.app, "clinician")
    pid = _post(c, "/patients/new", {"f-id": "web-stale"}).headers["location"].split("/")[2].split("?")[0]
    base = str(_revision(web, pid))
    assert _post(c, f"/patients/{pid}/edit/findings", {"base": base, "f-fever": "yes"}).status_code == 303
    r = _post(c, f"/patients/{pid}/edit/findings", {"base": base, "f-fever": "no"})
    assert r.status_code == 409 and "changed meanwhile" in r.text
    assert _record(web, pid)["findings"] == {"fever": True}


def test_list_items_are_corrected_and_removed_as_new_revisions(web: World) -> None:
    c, _ = login(web.app, "clinician")
    pid = _post(c, "/patients/new", {"f-id": "web-list"}).headers["location"].split("/")[2].split("?")[0]

    def save(data: dict[str, str]) -> Any:
        return _post(c, f"/patients/{pid}/edit/antibodies", {"base": str(_revision(web, pid)), **data})

    assert (
        save({"f-target": "HMGCR", "f-result": "positive", "f-method": "ELISA", "f-value": "80"}).status_code
        == 303
    )
    assert save({"f-target": "SRP", "f-result": "negative"}).status_code == 303
    assert save({"item": "1", "f-target": "SRP", "f-result": "borderline"}).status_code == 303
    assert [a["result"] for a in _record(web, pid)["antibodies"]] == ["positive", "borderline"]
    assert save({"item": "0", "action": "remove"}).status_code == 303
    assert [a["target"] for a in _record(web, pid)["antibodies"]] == ["SRP"]
    history = c.get(f"/patients/{pid}/history").text
    assert "removed item 1 (entered in error)" in history and "corrected item 2" in history
    diff = c.get(f"/patients/{pid}/history?from=3&to=4").text
    assert "antibodies[1].result" in diff and "borderline" in diff


def test_medications_can_be_recorded_as_none(web: World) -> None:
    c, _ = login(web.app, "clinician")
    pid = _post(c, "/patients/new", {"f-id": "web-meds"}).headers["location"].split("/")[2].split("?")[0]
    assert "medications" not in _record(web, pid)  # unknown
    r = _post(
        c, f"/patients/{pid}/edit/medications", {"base": str(_revision(web, pid)), "action": "none_recorded"}
    )
    assert r.status_code == 303
    assert _record(web, pid)["medications"] == []  # recorded: none


def test_a_visit_with_mmt8_grades_and_haq_items(web: World) -> None:
    c, _ = login(web.app, "clinician")
    pid = _post(c, "/patients/new", {"f-id": "web-visit"}).headers["location"].split("/")[2].split("?")[0]
    grades = {
        f"f-mmt8-grades-{g}-right": "7"
        for g in (
            "deltoid",
            "biceps",
            "wrist-extensors",
            "gluteus-maximus",
            "gluteus-medius",
            "quadriceps",
            "ankle-dorsiflexors",
        )
    }
    data = {
        "base": str(_revision(web, pid)),
        "f-date": "2025-01-14",
        "f-mmt8-side": "right",
        "f-mmt8-grades-neck-flexors": "8",
        **grades,
        "f-haq-dressing-items-0": "1",
        "f-haq-dressing-aids": "button hook",
        "f-haq-walking-items-0": "2",
        "f-physician-global": "4.5",
    }
    r = _post(c, f"/patients/{pid}/edit/visits", data)
    assert r.status_code == 303, h.unescape(r.text)[-3000:]
    (visit,) = _record(web, pid)["visits"]
    assert visit["mmt8"]["side"] == "right" and visit["mmt8"]["grades"]["deltoid"] == 7
    assert visit["haq"] == {"dressing": {"items": [1], "aids": ["button hook"]}, "walking": {"items": [2]}}
    page = c.get(f"/patients/{pid}/edit/visits?item=0").text  # the grades come back in the right column
    assert re.search(r'id="f-mmt8-grades-deltoid-right" name="f-mmt8-grades-deltoid-right" value="7"', page)
    # a device of another category: the model's words, at the field
    data["f-haq-dressing-aids"] = "cane"
    data["base"] = str(_revision(web, pid))
    r = _post(c, f"/patients/{pid}/edit/visits", data)
    assert r.status_code == 422
    assert "'cane' is a HAQ aid for 'walking', not for 'dressing'" in h.unescape(r.text)


def test_upload_a_record_file_or_a_fhir_bundle(web: World) -> None:
    c, _ = login(web.app, "clinician")
    text = (
        (EXAMPLES / "anti-srp-dysphagia.yaml")
        .read_bytes()
        .replace(b"id: example-anti-srp-dysphagia", b"id: web-upload-srp")
    )
    r = _post(c, "/patients/upload", {}, files={"file": ("srp.yaml", text, "application/yaml")})
    assert r.status_code == 303
    pid = r.headers["location"].split("/")[2].split("?")[0]
    from imnm.record.load import load_record
    from imnm.store.patients import canonical

    expected = canonical(load_record(EXAMPLES / "anti-srp-dysphagia.yaml"))
    expected["id"] = "web-upload-srp"
    assert _record(web, pid) == expected
    bundle = shared("data", "fhir", "synthea-r4-Alejandro_Riojas.json").read_bytes()
    r = _post(c, "/patients/upload", {}, files={"file": ("alejandro.json", bundle, "application/json")})
    assert r.status_code == 303
    bad = b"id: web-bad\nlabs:\n  - {test: ck, value: -5, unit: U/L}\nsympton_onset: 2024-01-10\n"
    r = _post(c, "/patients/upload", {}, files={"file": ("bad.yaml", bad, "application/yaml")})
    assert r.status_code == 422
    text = h.unescape(r.text)
    assert "bad.yaml: labs[0].value: -5 is out of range" in text and "did you mean 'symptom_onset'?" in text
    r = _post(c, "/patients/upload", {}, files={"file": ("notes.txt", b"hello", "text/plain")})
    assert r.status_code == 422 and "is not a record file" in h.unescape(r.text)


@pytest.mark.parametrize(
    "section",
    [
        "patient",
        "findings",
        "history",
        "exposures",
        "labs",
        "antibodies",
        "emg",
        "mri",
        "biopsy",
        "medications",
        "visits",
        "pulmonary_function",
        "cardiac",
        "infections",
        "vaccinations",
    ],
)
def test_every_section_has_a_form_and_a_coordinator_cannot_open_it(web: World, section: str) -> None:
    clin, _ = login(web.app, "clinician")
    r = clin.get(f"/patients/{web.patient}/edit/{section}")
    assert r.status_code == 200 and 'name="base"' in r.text
    coord, _ = login(web.app, "coordinator")
    assert coord.get(f"/patients/{web.patient}/edit/{section}").status_code == 403
    assert coord.get(f"/patients/{web.patient}").status_code == 200  # reading is allowed
