"""Mounting the CDS Hooks service (issue 14, `imnm.cds`) in the records service, audited in the store.

`create_app(settings, cds=CdsConfig(...))` includes `imnm.cds.service.cds_router` at `/cds-services`;
each hook or feedback call then appends one event to the store's hash-chained audit log (action
`cds.hook` / `cds.feedback`, the JWT issuer as the actor, the EHR's patient id and the hook instance
in `detail`, never clinical content).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from imnm.store import audit
from imnm.store.db import Database

CDS_MAX_BODY = 20_000_000  # prefetch bundles can be large; the CDS router checks this limit itself


def audit_sink(db: Database) -> Callable[[dict[str, Any]], None]:
    """The `audit` callable `cds_router` expects, writing to the store's audit log."""

    def sink(e: dict[str, Any]) -> None:
        keys = ("service", "hook", "hookInstance", "patient", "outcome", "reason", "entries")
        detail = "; ".join(f"{k}={e[k]}" for k in keys if e.get(k) is not None)
        event = audit.Event(
            action=str(e.get("action") or "cds.call"),
            outcome="denied" if e.get("outcome") == "denied" else "allowed",
            route=f"POST {e.get('route')}",
            client=e.get("client_address"),
            status=e.get("status"),
            detail=detail[:2000],
            actor=str(e.get("client") or "cds client (unauthenticated)"),
        )
        with db.writer() as conn:
            audit.append(conn, event)

    return sink


def include(app: Any, db: Database, config: Any, *, feedback: Any | None = None) -> None:
    from imnm.cds.service import InMemoryFeedbackSink, cds_router

    app.include_router(cds_router(config, feedback=feedback or InMemoryFeedbackSink(), audit=audit_sink(db)))
