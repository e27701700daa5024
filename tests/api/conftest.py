"""An API world: a migrated SQLite store, two teams, one user per role, tokens, a stored patient."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES

PASSWORD = "synthetic password 1"


@dataclass
class World:
    app: Any
    db: Any
    clients: dict[str, Any] = field(default_factory=dict)  # principal kind -> TestClient
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    patient: str = ""
    n: int = 0

    def fresh(self) -> int:
        self.n += 1
        return self.n

    def events(self) -> int:
        from sqlalchemy import text

        with self.db.session() as s:
            return int(s.execute(text("SELECT last_id FROM audit_head")).scalar_one())


def login(app: Any, username: str, password: str = PASSWORD) -> tuple[Any, dict[str, str]]:
    from fastapi.testclient import TestClient

    c = TestClient(app)
    r = c.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return c, {"x-csrftoken": c.cookies["csrftoken"]}


def make_world(tmp: Path) -> World:
    from fastapi.testclient import TestClient

    from imnm.api.app import create_app
    from imnm.record.load import load_record
    from imnm.store import patients, users
    from imnm.store.config import ServerSettings
    from imnm.store.db import Database

    url = f"sqlite:///{tmp / 'api.db'}"
    db = Database(url)
    db.upgrade()
    people = {
        "clinician": (["clinician"], ["neuro"]),
        "coordinator": (["coordinator"], ["neuro"]),
        "auditor": (["auditor"], []),
        "admin": (["admin"], []),
        "other": (["clinician"], ["rheum"]),
    }
    tokens: dict[str, str] = {}
    with db.session() as s:
        users.create_team(s, "neuro")
        users.create_team(s, "rheum")
        for name, (roles, teams) in people.items():
            users.create_user(s, name, PASSWORD, roles=roles, teams=teams)
        clin = users.user_by_name(s, "clinician")
        for scope in ("compute", "read", "write"):
            tokens[scope] = users.create_token(s, clin, name=scope, scope=scope, days=5)[1]
        row, tokens["revoked"] = users.create_token(s, clin, name="revoked", scope="write", days=5)
        users.revoke_token(s, row.id)
        p, _ = patients.create(
            s,
            users.principal_for(s, clin),
            load_record(EXAMPLES / "anti-hmgcr.yaml"),
            team="neuro",
            reason="seed",
        )
    app = create_app(ServerSettings(database_url=url, login_max_failures_address=10_000), db=db)
    w = World(app=app, db=db, patient=p.id)
    w.clients["anonymous"], w.headers["anonymous"] = TestClient(app), {}
    for name in people:
        w.clients[name], w.headers[name] = login(app, name)
    for kind in ("compute", "read", "revoked"):
        w.clients[f"token_{kind}"] = TestClient(app)
        w.headers[f"token_{kind}"] = {"authorization": f"Bearer {tokens[kind]}"}
    w.headers["token_write"] = {"authorization": f"Bearer {tokens['write']}"}
    return w


@pytest.fixture
def world(tmp_path):  # type: ignore[no-untyped-def]
    w = make_world(tmp_path)
    yield w
    w.db.dispose()


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory):  # type: ignore[no-untyped-def]
    w = make_world(tmp_path_factory.mktemp("api"))
    yield w
    w.db.dispose()
