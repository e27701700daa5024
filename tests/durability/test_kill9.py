"""Durability: `imnm serve` killed with SIGKILL in the middle of 1,000 concurrent writes, on SQLite (WAL)
and on PostgreSQL (a throwaway cluster), then restarted on the same database.

Writes: PATCH add_lab (one lab with a unique value, If-Match on the revision the writer last saw) on a set
of patients, and POST /api/v1/patients creating new ones, 16 at a time over real HTTP. When 40 % of them
have been acknowledged (a 200/201 answer received), the server process gets SIGKILL while the others are in
flight. After the restart:

- every acknowledged write is there: the revision its answer named holds its lab, and every acknowledged
  patient exists;
- no revision is partial: each patient's revisions run 1..current without a gap, every stored document
  validates and matches its digest, revision k holds exactly the labs of revision 1 plus k-1 added ones
  (each write added one), and every stored revision has its audit event (written in the same transaction);
- the database's own integrity check passes (SQLite `PRAGMA integrity_check`; PostgreSQL `amcheck` on every
  B-tree index) and `imnm audit verify` (a real process) exits 0;
- the server takes writes again.

`make test` runs one kill per backend; `pytest -m slow tests/durability` (and `make fuzz`) runs five rounds
on the same database, each killing the server again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES

WRITES = 1000
CONCURRENCY = 16
PATIENTS = 24
KILL_AFTER = 0.4  # share of WRITES acknowledged before the kill
CREATE_EVERY = 50  # every 50th write creates a patient instead of adding a lab


@dataclass
class Ledger:
    """What the clients were told: acknowledged writes, and those without an answer (fate unknown)."""

    labs: dict[int, tuple[str, int]] = field(default_factory=dict)  # marker -> (patient id, revision)
    created: dict[str, str] = field(default_factory=dict)  # record id -> patient id
    in_flight: int = 0  # sent, and the connection died before the answer
    not_sent: int = 0  # after the kill
    refused: dict[int, int] = field(default_factory=dict)  # status -> count (409 while retrying, ...)

    @property
    def acknowledged(self) -> int:
        return len(self.labs) + len(self.created)


def _setup(url: str) -> tuple[str, list[str]]:
    """A migrated store with a team, a clinician's write token and PATIENTS patients."""
    from imnm.record.load import load_record
    from imnm.store import patients, users
    from imnm.store.db import Database

    db = Database(url)
    db.upgrade()
    base = load_record(EXAMPLES / "anti-hmgcr.yaml")
    ids = []
    with db.session() as s:
        users.create_team(s, "dur")
        u = users.create_user(s, "writer", "synthetic password 9", roles=["clinician"], teams=["dur"])
        token = users.create_token(s, u, name="durability", scope="write", days=1)[1]
        who = users.principal_for(s, u)
        for i in range(PATIENTS):
            doc = patients.canonical(base)
            doc["id"] = f"dur-base-{i}"
            from imnm.record.load import parse_record

            p, _ = patients.create(s, who, parse_record(doc), team="dur", reason="durability seed")
            ids.append(p.id)
    db.dispose()
    return token, ids


def _lab(marker: int) -> dict[str, Any]:
    return {
        "test": "ck",
        "value": marker,
        "unit": "U/L",
        "uln": 200,
        "date": f"2025-{1 + marker % 12:02d}-{1 + marker % 28:02d}",
    }


async def _write_all(base_url: str, token: str, patients: list[str], kill: Any, ledger: Ledger) -> None:
    """WRITES writes by CONCURRENCY workers; `kill()` is called once KILL_AFTER of them are acknowledged."""
    import httpx

    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    revision = dict.fromkeys(patients, 1)
    locks = {p: asyncio.Lock() for p in patients}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(WRITES):
        queue.put_nowait(i)
    killed = asyncio.Event()
    record = _record_doc()

    def maybe_kill() -> None:
        if not killed.is_set() and ledger.acknowledged >= WRITES * KILL_AFTER:
            killed.set()
            kill()

    async def one(client: httpx.AsyncClient, i: int) -> None:
        marker = 1000 + i
        try:
            if i % CREATE_EVERY == CREATE_EVERY - 1:
                doc = dict(record)
                doc["id"] = f"dur-new-{i}"
                r = await client.post("/api/v1/patients?team=dur", json=doc, headers=headers)
                if r.status_code == 201:
                    ledger.created[doc["id"]] = r.json()["id"]
                else:
                    ledger.refused[r.status_code] = ledger.refused.get(r.status_code, 0) + 1
                return
            pid = patients[i % len(patients)]
            async with locks[pid]:  # one write in flight per patient: If-Match names the latest revision
                for _ in range(5):
                    body = {
                        "reason": f"durability {marker}",
                        "operations": [{"op": "add_lab", "value": _lab(marker)}],
                    }
                    r = await client.patch(
                        f"/api/v1/patients/{pid}",
                        json=body,
                        headers={**headers, "If-Match": f'"{revision[pid]}"'},
                    )
                    if r.status_code == 200:
                        revision[pid] = int(r.headers["etag"].strip('"'))
                        ledger.labs[marker] = (pid, revision[pid])
                        return
                    ledger.refused[r.status_code] = ledger.refused.get(r.status_code, 0) + 1
                    if r.status_code != 409:
                        return
                    revision[pid] = int(r.headers["etag"].strip('"'))
        except httpx.HTTPError:
            ledger.in_flight += 1
        finally:
            maybe_kill()

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            if killed.is_set():
                ledger.not_sent += 1  # the server is gone
                continue
            await one(client, i)

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))


def _record_doc() -> dict[str, Any]:
    from imnm.record.load import load_record
    from imnm.store.patients import canonical

    return canonical(load_record(EXAMPLES / "anti-hmgcr.yaml"))


def _integrity(url: str) -> str:
    """The database's own check: 'ok' or what it found."""
    from sqlalchemy import text

    from imnm.store.db import Database

    db = Database(url)
    try:
        with db.engine.connect() as conn:
            if url.startswith("sqlite"):
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                return str(conn.exec_driver_sql("PRAGMA integrity_check").scalar())
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
            indexes = conn.execute(
                text(
                    "SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE a.amname = 'btree' AND n.nspname = 'public'"
                )
            ).scalars()
            for name in indexes:
                conn.execute(text("SELECT bt_index_check(CAST(:i AS regclass), true)"), {"i": name})
            conn.commit()
            return "ok"
    finally:
        db.dispose()


def _check_store(url: str, ledger: Ledger, patients: list[str]) -> dict[str, int]:
    """Every acknowledged write present, no partial revision, every revision audited."""
    from sqlalchemy import func, select

    from imnm.record.load import parse_record
    from imnm.store.db import Database
    from imnm.store.models import AuditEvent, Patient, Revision

    db = Database(url)
    stats = {"revisions": 0, "patients": 0, "unacknowledged_but_stored": 0}
    try:
        acked = set(ledger.labs.values())
        with db.session() as s:
            for record_id, pid in ledger.created.items():
                p = s.get(Patient, pid)
                assert p is not None and p.record_id == record_id, f"acknowledged create of {record_id} lost"
            for marker, (pid, number) in ledger.labs.items():
                rev = s.execute(
                    select(Revision).where(Revision.patient_id == pid, Revision.number == number)
                ).scalar_one_or_none()
                assert rev is not None, f"acknowledged revision {number} of {pid} lost"
                values = [lab["value"] for lab in json.loads(rev.document).get("labs", [])]
                assert marker in values, f"revision {number} of {pid} lacks the acknowledged lab {marker}"
            for p in s.execute(select(Patient)).scalars():
                stats["patients"] += 1
                revs = list(
                    s.execute(
                        select(Revision).where(Revision.patient_id == p.id).order_by(Revision.number)
                    ).scalars()
                )
                assert [r.number for r in revs] == list(range(1, p.current_revision + 1)), p.id
                first_labs = None
                for r in revs:
                    assert hashlib.sha256(r.document.encode()).hexdigest() == r.digest, (p.id, r.number)
                    doc = json.loads(r.document)
                    parse_record(doc)  # a stored revision always validates
                    n = len(doc.get("labs") or [])
                    first_labs = n if first_labs is None else first_labs
                    assert n == first_labs + r.number - 1, f"{p.id} revision {r.number}: {n} labs (partial?)"
                    stats["revisions"] += 1
                    if r.number > 1 and (p.id, r.number) not in acked:
                        stats["unacknowledged_but_stored"] += 1
                updates = s.execute(
                    select(func.count())
                    .select_from(AuditEvent)
                    .where(
                        AuditEvent.patient_id == p.id,
                        AuditEvent.action == "patient.update",
                        AuditEvent.outcome == "allowed",
                    )
                ).scalar_one()
                assert updates == p.current_revision - 1, (
                    f"{p.id}: {updates} audited updates, {len(revs)} revisions"
                )
    finally:
        db.dispose()
    return stats


def _audit_verify(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imnm.cli.main", "audit", "verify", "--database", url, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "IMNM_DATABASE_URL": url},
    )


def kill_round(url: str, token: str, patients: list[str], log_dir: Path) -> tuple[Ledger, dict[str, int]]:
    from tests.servers import Server

    server = Server(url, log_dir=log_dir)
    ledger = Ledger()
    try:
        asyncio.run(
            _write_all(server.url, token, patients, lambda: os.kill(server.proc.pid, signal.SIGKILL), ledger)
        )
        server.proc.wait(timeout=30)
        assert server.proc.returncode == -signal.SIGKILL, "the server was not killed mid-writes"
    finally:
        server.stop()
    assert ledger.acknowledged >= WRITES * KILL_AFTER
    assert ledger.in_flight > 0, "nothing was in flight when the server died"
    assert _integrity(url) == "ok"
    stats = _check_store(url, ledger, patients)
    verified = _audit_verify(url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # the restarted server takes writes again and reads what was acknowledged
    again = Server(url, log_dir=log_dir)
    try:
        import httpx

        headers = {"authorization": f"Bearer {token}"}
        pid = patients[0]
        current = httpx.get(f"{again.url}/api/v1/patients/{pid}", headers=headers, timeout=30)
        assert current.status_code == 200
        r = httpx.patch(
            f"{again.url}/api/v1/patients/{pid}",
            json={"reason": "after restart", "operations": [{"op": "add_lab", "value": _lab(3000)}]},
            headers={**headers, "If-Match": current.headers["etag"]},
            timeout=30,
        )
        assert r.status_code == 200, r.text
    finally:
        again.stop()
    assert _check_store(url, Ledger(), patients)["revisions"] == stats["revisions"] + 1
    return ledger, stats


def _report(backend: str, rnd: int, ledger: Ledger, stats: dict[str, int]) -> None:
    line = (
        f"durability {backend} round {rnd}: {WRITES} writes, {ledger.acknowledged} acknowledged before SIGKILL "
        f"({len(ledger.labs)} updates, {len(ledger.created)} creates), all {ledger.acknowledged} found after "
        f"restart; {ledger.in_flight} in flight at the kill ({stats['unacknowledged_but_stored']} of them stored "
        f"whole), {ledger.not_sent} not sent; {stats['revisions']} revisions of {stats['patients']} patients intact; "
        f"refused {ledger.refused or 'none'}"
    )
    print(line)
    out = os.environ.get("IMNM_DURABILITY_REPORT")
    if out:
        with open(out, "a", encoding="utf-8") as f:
            f.write(line + "\n")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'durable.db'}"
    cluster = request.getfixturevalue("pg_cluster")
    return str(cluster.create_database())


def test_sigkill_during_1000_concurrent_writes_loses_no_acknowledged_write(
    store_url: str, tmp_path: Path
) -> None:
    token, patients = _setup(store_url)
    ledger, stats = kill_round(store_url, token, patients, tmp_path)
    _report(store_url.split(":")[0], 1, ledger, stats)


@pytest.mark.slow
def test_five_kill_rounds_on_one_database(store_url: str, tmp_path: Path) -> None:
    token, patients = _setup(store_url)
    for rnd in range(1, 6):
        ledger, stats = kill_round(store_url, token, patients, tmp_path)
        _report(store_url.split(":")[0], rnd, ledger, stats)
