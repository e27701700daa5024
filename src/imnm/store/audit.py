"""The audit log: one event per read or write of patient data (and per security event), hash-chained.

Each event's `hash` is SHA-256 over the previous event's hash and the event's own fields, and
`audit_head` holds the newest link. `verify` walks the chain and reports an edited row (hash
mismatch), a deleted row (a gap in the ids or a broken link) and removed newest rows (head
mismatch). The table itself refuses UPDATE and DELETE (a trigger on PostgreSQL and SQLite), so
tampering needs someone who can drop triggers; verification catches that too. Events hold no
clinical data: who, when, what action, which patient id and revision, route, client, outcome.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from imnm.store.models import AuditEvent, AuditHead, utcnow
from imnm.store.principal import Principal

GENESIS = "0" * 64


@dataclass(slots=True)
class Event:
    action: str
    outcome: str = "allowed"
    principal: Principal | None = None
    patient_id: str | None = None
    revision: int | None = None
    route: str | None = None
    client: str | None = None
    status: int | None = None
    detail: str | None = None
    actor: str | None = None  # overrides the principal's name (e.g. a failed login's username)


def _fields(row: AuditEvent) -> list[Any]:
    return [
        row.id,
        row.at.isoformat(timespec="microseconds"),
        row.actor,
        row.user_id,
        row.token_id,
        row.roles,
        row.action,
        row.patient_id,
        row.revision,
        row.route,
        row.client,
        row.outcome,
        row.status,
        row.detail,
    ]


def compute_hash(prev_hash: str, row: AuditEvent) -> str:
    payload = json.dumps(_fields(row), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()


_E, _H = AuditEvent.__table__, AuditHead.__table__
_HEAD = select(_H.c.last_id, _H.c.last_hash).where(_H.c.id == 1).with_for_update()
_MOVE = update(AuditHead).where(_H.c.id == 1).values(last_id=bindparam("i"), last_hash=bindparam("h"))


def append(session: Session | Connection, event: Event, *, at: datetime | None = None) -> AuditEvent:
    """Add one event inside the caller's transaction (the head row is locked: one chain, no forks)."""
    conn = session.connection() if isinstance(session, Session) else session
    last_id, last_hash = conn.execute(_HEAD).one()
    p = event.principal
    row = AuditEvent(
        id=last_id + 1,
        at=at or utcnow(),
        actor=event.actor if event.actor is not None else (p.actor if p else None),
        user_id=p.user_id if p else None,
        token_id=p.token_id if p else None,
        roles=p.roles_text if p else None,
        action=event.action,
        patient_id=event.patient_id,
        revision=event.revision,
        route=event.route,
        client=event.client,
        outcome=event.outcome,
        status=event.status,
        detail=event.detail,
        prev_hash=last_hash,
        hash="",
    )
    row.hash = compute_hash(last_hash, row)
    conn.execute(insert(AuditEvent).values({c.name: getattr(row, c.key) for c in _E.columns}))
    conn.execute(_MOVE, {"i": row.id, "h": row.hash})
    return row  # transient: not attached to the session


def event_dict(row: AuditEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "user_id": row.user_id,
        "token_id": row.token_id,
        "roles": row.roles,
        "action": row.action,
        "patient": row.patient_id,
        "revision": row.revision,
        "route": row.route,
        "client": row.client,
        "outcome": row.outcome,
        "status": row.status,
        "detail": row.detail,
        "hash": row.hash,
    }


def query(
    session: Session,
    *,
    patient: str | None = None,
    user: str | None = None,
    since: datetime | None = None,
    action: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.id > after_id)
    if patient is not None:
        stmt = stmt.where(AuditEvent.patient_id == patient)
    if user is not None:
        stmt = stmt.where((AuditEvent.actor == user) | AuditEvent.actor.like(f"{user} (token %)"))
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action)
    return list(session.execute(stmt.order_by(AuditEvent.id).limit(limit)).scalars())


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    events: int
    head: str
    problems: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "head": self.head, "problems": self.problems}


def _rows(session: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = list(
            session.execute(
                select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id).limit(batch)
            ).scalars()
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        session.expunge_all()


def verify(session: Session) -> Verification:
    """Walk the chain from the first event; report every break."""
    problems: list[str] = []
    prev_hash, prev_id, n = GENESIS, 0, 0
    for row in _rows(session):
        n += 1
        if row.id != prev_id + 1:
            missing = f"{prev_id + 1}" if row.id == prev_id + 2 else f"{prev_id + 1}-{row.id - 1}"
            problems.append(f"event(s) {missing} missing (deleted?) before event {row.id}")
        if row.prev_hash != prev_hash:
            problems.append(f"event {row.id}: link to the previous event is broken")
        if compute_hash(row.prev_hash, row) != row.hash:
            problems.append(f"event {row.id}: content does not match its hash (edited?)")
        prev_hash, prev_id = row.hash, row.id
    head = session.get(AuditHead, 1)
    if head is None:
        problems.append("the audit head row is missing")
    elif head.last_id != prev_id or head.last_hash != prev_hash:
        problems.append(
            f"the chain ends at event {prev_id} but the head names event {head.last_id} "
            "(newest events deleted, or the head was changed)"
        )
    return Verification(not problems, n, prev_hash, problems)
