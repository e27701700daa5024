"""No patient data in logs: a scripted session against a real `imnm serve` (its own process, loopback, CDS
Hooks on) — logging in, storing a patient, reading, changing and reviewing it over the API, the same
patient's web pages and search, an EHR link and a CDS Hooks call with its prefetch, and bad requests that
echo values back in their answers — then the server's whole output (uvicorn, the access log, warnings)
is scanned for every identifying value of the record and for the credentials used."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import yaml

from tests.api.test_matrix import record_json
from tests.servers import Server

PASSWORD = "synthetic password 77"
RECORD_ID = "zq-record-5521"
SECRETS_OF_THE_RECORD = {
    RECORD_ID,
    "1951-04-27",  # birth date
    "31337",  # a lab value
    "Zyxomab",  # a medication name
    "Quillfeather",  # free text
}


def test_a_scripted_session_leaves_no_patient_data_in_the_server_log(tmp_path: Path) -> None:
    from imnm.adapters.fhir.write import record_to_bundle
    from imnm.record.load import parse_record
    from imnm.store import users
    from imnm.store.db import Database
    from tests.cds.conftest import ISS, Ehr
    from tests.cds.test_service import PV, hook_body, prefetch_of

    url = f"sqlite:///{tmp_path / 'logs.db'}"
    db = Database(url)
    db.upgrade()
    with db.session() as s:
        users.create_team(s, "neuro")
        users.create_user(s, "logclin", PASSWORD, roles=["clinician"], teams=["neuro"])
    db.dispose()
    ehr = Ehr()
    clients = tmp_path / "clients.yaml"
    clients.write_text(yaml.safe_dump({"clients": [{"iss": ISS, "jwks": ehr.jwks, "name": "test EHR"}]}))
    from tests.servers import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    doc = record_json(RECORD_ID)
    doc["birth_date"] = "1951-04-27"
    doc["medications"] = [{"name": "Zyxomab", "start": "2025-01-01", "dose": "Quillfeather"}]
    doc["labs"] = [
        *doc["labs"],
        {"test": "ck", "value": 31337, "unit": "U/L", "uln": 200, "date": "2025-06-01"},
    ]
    server = Server(
        url,
        env={"IMNM_CDS_BASE_URL": base, "IMNM_CDS_CLIENTS": str(clients)},
        log_dir=tmp_path,
        port=port,
    )
    secrets = set(SECRETS_OF_THE_RECORD) | {PASSWORD}
    try:
        c = httpx.Client(base_url=base, timeout=60)
        r = c.post("/api/v1/auth/login", json={"username": "logclin", "password": PASSWORD})
        assert r.status_code == 200
        csrf = {"x-csrftoken": c.cookies["csrftoken"]}
        secrets |= {c.cookies["imnm_session"], c.cookies["csrftoken"]}
        r = c.post("/api/v1/patients?team=neuro&reason=Quillfeather", json=doc, headers=csrf)
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        secrets.add(pid)
        token = c.post(
            "/api/v1/tokens", json={"name": "logs", "scope": "write", "expires_in_days": 1}, headers=csrf
        ).json()["token"]
        secrets.add(token)
        bearer = {"authorization": f"Bearer {token}"}
        t = httpx.Client(base_url=base, timeout=60)  # a script with a token (no cookies)
        for path in ("", "/assessment", "/trials", "/revisions", "/activity", "/fhir", "/report.html"):
            assert t.get(f"/api/v1/patients/{pid}{path}", headers=bearer).status_code == 200, path
        assert t.get("/api/v1/patients", params={"q": RECORD_ID}, headers=bearer).json()["total"] == 1
        r = t.patch(
            f"/api/v1/patients/{pid}",
            headers={**bearer, "If-Match": '"1"'},
            json={
                "reason": "Quillfeather",
                "operations": [{"op": "add_lab", "value": {"test": "ck", "value": 31337, "unit": "mg"}}],
            },
        )
        assert r.status_code == 422  # a bad unit: the answer names the value, the log must not
        r = t.post(
            f"/api/v1/patients/{pid}/reviews",
            json={"trial": "NCT05523167", "criterion": "inc-1", "met": True, "note": "Quillfeather"},
            headers=bearer,
        )
        assert r.status_code == 201
        assert t.post("/api/v1/assess?as_of=1951-04-27x", json=doc, headers=bearer).status_code == 422
        for page in (
            f"/patients/{pid}",
            f"/patients/{pid}/assessment",
            f"/patients?q={RECORD_ID}",
            f"/ehr/patients/{RECORD_ID}",
        ):
            assert c.get(page, follow_redirects=True).status_code == 200, page
        r = c.post(
            "/login", data={"username": RECORD_ID, "password": "Quillfeather", "next": f"/patients/{pid}"}
        )
        assert r.status_code in (401, 403)
        hook_pid, pre = prefetch_of(record_to_bundle(parse_record(doc)))
        secrets.add(hook_pid)
        jwt_token = ehr.token(f"{base}/cds-services/{PV}")
        secrets.add(jwt_token)
        r = t.post(
            f"/cds-services/{PV}",
            json=hook_body("patient-view", hook_pid, pre),
            headers={"authorization": f"Bearer {jwt_token}"},
        )
        assert r.status_code == 200, r.text
        c.close()
        t.close()
    finally:
        server.stop()
    log = server.output()
    assert re.search(r"GET /api/v1/patients/\{patient_id\}/assessment 200", log), log[-2000:]  # it logs
    leaked = sorted(s for s in secrets if s and s in log)
    assert not leaked, f"patient data or credentials in the server log: {leaked}\n{log[-3000:]}"
    assert "Traceback" not in log, log[-3000:]
    json.dumps(leaked)
