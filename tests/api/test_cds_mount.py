"""CDS Hooks (issue 14) mounted in the records service: every hook call lands in the store's audit chain."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from imnm.adapters.fhir.write import record_to_bundle
from imnm.record.load import load_record
from tests.cds.test_service import PV, hook_body, prefetch_of
from tests.conftest import EXAMPLES


def test_hook_calls_are_audited_in_the_store(tmp_path: Path) -> None:
    from imnm.api.app import create_app
    from imnm.cds.service import CdsConfig
    from imnm.store import audit
    from imnm.store.config import ServerSettings
    from imnm.store.db import Database

    url = f"sqlite:///{tmp_path / 'cds.db'}"
    db = Database(url)
    db.upgrade()
    app = create_app(
        ServerSettings(database_url=url), db=db, cds=CdsConfig(public_base_url="http://testserver")
    )
    c = TestClient(app)
    assert c.get("/cds-services").status_code == 200
    pid, pre = prefetch_of(record_to_bundle(load_record(EXAMPLES / "anti-hmgcr.yaml")))
    assert (
        c.post(f"/cds-services/{PV}", json=hook_body("patient-view", pid, pre)).status_code == 401
    )  # no JWT
    open_app = create_app(
        ServerSettings(database_url=url),
        db=db,
        cds=CdsConfig(public_base_url="http://testserver", require_jwt=False),
    )
    r = TestClient(open_app).post(f"/cds-services/{PV}", json=hook_body("patient-view", pid, pre))
    assert r.status_code == 200 and r.json()["cards"]
    with db.session() as s:
        rows = audit.query(s, action="cds.hook")
        assert [(e.outcome, e.status) for e in rows] == [("denied", 401), ("allowed", 200)]
        assert f"patient={pid}" in (rows[1].detail or "") and "hookInstance=" in (rows[1].detail or "")
        assert audit.verify(s).ok
    db.dispose()
