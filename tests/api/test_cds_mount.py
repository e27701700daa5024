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


def test_a_replayed_jwt_is_refused_by_another_server_process_and_feedback_is_kept(tmp_path: Path) -> None:
    """Two apps on one database stand for two `imnm serve` workers: the jti table is shared, so a token
    used once on one worker is refused on the other; feedback lands in the store and outlives the app."""
    import json

    import yaml

    from imnm.api.app import create_app
    from imnm.api.cds import StoreFeedback, config_from_env
    from imnm.store.config import ServerSettings
    from imnm.store.db import Database
    from tests.cds.conftest import ISS, Ehr

    ehr = Ehr()
    clients = tmp_path / "clients.yaml"
    clients.write_text(yaml.safe_dump({"clients": [{"iss": ISS, "jwks": ehr.jwks, "name": "test EHR"}]}))
    env = {"IMNM_CDS_BASE_URL": "http://testserver/", "IMNM_CDS_CLIENTS": str(clients)}
    config = config_from_env(env)
    assert config is not None and config.public_base_url == "http://testserver"
    assert [c.iss for c in config.clients] == [ISS] and config.require_jwt
    assert config_from_env({}) is None
    url = f"sqlite:///{tmp_path / 'cds.db'}"
    db = Database(url)
    db.upgrade()
    one = TestClient(create_app(ServerSettings(database_url=url), db=db, cds=config_from_env(env)))
    two = TestClient(create_app(ServerSettings(database_url=url), db=db, cds=config_from_env(env)))
    pid, pre = prefetch_of(record_to_bundle(load_record(EXAMPLES / "anti-hmgcr.yaml")))
    body = hook_body("patient-view", pid, pre)
    token = ehr.token(f"http://testserver/cds-services/{PV}")
    auth = {"Authorization": f"Bearer {token}"}
    assert one.post(f"/cds-services/{PV}", json=body, headers=auth).status_code == 200
    again = two.post(f"/cds-services/{PV}", json=body, headers=auth)
    assert again.status_code == 401 and "replayed" in json.dumps(again.json())
    fb = {
        "feedback": [
            {
                "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
                "outcome": "overridden",
                "overrideReason": {"reason": {"code": "not-relevant", "system": "http://example.org"}},
                "outcomeTimestamp": "2026-11-25T10:00:00Z",
            }
        ]
    }
    ftoken = ehr.token(f"http://testserver/cds-services/{PV}/feedback")
    r = two.post(f"/cds-services/{PV}/feedback", json=fb, headers={"Authorization": f"Bearer {ftoken}"})
    assert r.status_code == 200 and r.json() == {"stored": 1}
    db.dispose()
    reopened = Database(url)
    rows = StoreFeedback(reopened).rows()
    assert [(x["service"], x["card"], x["outcome"], x["client"]) for x in rows] == [
        (PV, "9368d37b-283f-44a0-93ea-547cebab93ed", "overridden", ISS)
    ]
    reopened.dispose()


def test_the_migrations_build_exactly_the_models(tmp_path: Path) -> None:
    """Alembic's own comparison: the schema the migrations create has every table, column and index of
    the models, and nothing else."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from imnm.store.db import Database
    from imnm.store.models import Base

    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    db.upgrade()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    db.dispose()
    assert diff == []
