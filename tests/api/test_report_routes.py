"""Reports of a stored patient over the API (issue 15): the same bytes as `imnm report` for the same record,
revision and date; one audit event per request (refusals too); problems for bad options."""

from __future__ import annotations

from datetime import date

from tests.api.conftest import World
from tests.reports.helpers import pdfinfo, pdftotext

P = "/api/v1"
AS_OF = "2026-11-25"


def test_clinician_pdf_of_the_stored_patient_is_audited(world: World) -> None:
    w = world
    before = w.events()
    r = w.clients["clinician"].get(
        f"{P}/patients/{w.patient}/report.pdf?for=clinician&as_of={AS_OF}", headers=w.headers["clinician"]
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["etag"] == '"1"' and r.headers["cache-control"] == "no-store"  # set by the middleware
    assert "attachment" in r.headers["content-disposition"]
    text = " ".join(pdftotext(r.content).split())
    assert "Anti-HMGCR myopathy" in text and "stored revision 1" in text
    assert "Nov 25 00:00:00 2026" in pdfinfo(r.content)["CreationDate"]
    assert w.events() == before + 1
    events = (
        w.clients["auditor"]
        .get(f"{P}/audit?patient={w.patient}", headers=w.headers["auditor"])
        .json()["events"]
    )
    last = [e for e in events if e["action"] == "patient.report"][-1]
    assert last["status"] == 200 and last["revision"] == 1 and last["detail"] == "report clinician pdf"
    assert last["route"] == "GET /api/v1/patients/{patient_id}/report.pdf"  # no patient id in the route


def test_same_bytes_as_the_library_for_the_same_revision(world: World) -> None:
    from imnm import reports
    from imnm.store import patients as store

    w = world
    r = w.clients["clinician"].get(
        f"{P}/patients/{w.patient}/report.html?as_of={AS_OF}", headers=w.headers["clinician"]
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    with w.db.session() as s:
        from imnm.store import users

        principal = users.principal_for(s, users.user_by_name(s, "clinician"))
        record, number = store.record_for(s, principal, w.patient, None)
    expected = reports.report(
        record, kind="clinician", as_of=date(2026, 11, 25), fmt="html", revision=f"stored revision {number}"
    )
    assert r.content == expected


def test_refusals_and_bad_options(world: World) -> None:
    w = world
    before = w.events()
    r = w.clients["other"].get(f"{P}/patients/{w.patient}/report.pdf", headers=w.headers["other"])
    assert r.status_code == 404  # another team's clinician: the patient does not exist for them
    assert w.events() == before + 1  # the refusal is audited
    r = w.clients["clinician"].get(
        f"{P}/patients/{w.patient}/report.pdf?for=nurse", headers=w.headers["clinician"]
    )
    assert r.status_code == 422
    r = w.clients["clinician"].get(
        f"{P}/patients/{w.patient}/report.pdf?share=diagnosis", headers=w.headers["clinician"]
    )
    assert r.status_code == 422 and "for=patient" in r.text
    r = w.clients["clinician"].get(
        f"{P}/patients/{w.patient}/report.pdf?for=patient&share=gossip", headers=w.headers["clinician"]
    )
    assert r.status_code == 422 and "gossip" in r.text
