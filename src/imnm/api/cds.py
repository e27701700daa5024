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


class StoreFeedback:
    """CDS feedback kept in the store's `cds_feedback` table (added, never edited)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def store(self, service_id: str, entries: list[dict[str, Any]], *, client: str | None) -> None:
        import json

        from imnm.store.models import CdsFeedback

        with self.db.session() as s:
            for e in entries:
                s.add(
                    CdsFeedback(
                        service=service_id,
                        client=client,
                        card=str(e["card"])[:100],
                        outcome=str(e["outcome"])[:20],
                        accepted_suggestions=json.dumps(e.get("acceptedSuggestions")),
                        override_reason=json.dumps(e.get("overrideReason")),
                        outcome_timestamp=str(e["outcomeTimestamp"])[:40],
                    )
                )

    def rows(self) -> list[dict[str, Any]]:
        from sqlalchemy import select

        from imnm.store.models import CdsFeedback

        with self.db.reader() as s:
            found = s.scalars(select(CdsFeedback).order_by(CdsFeedback.id)).all()
            return [
                {
                    "service": f.service,
                    "client": f.client,
                    "card": f.card,
                    "outcome": f.outcome,
                    "received_at": f.received_at.isoformat(),
                }
                for f in found
            ]


class StoreReplayCache:
    """Used CDS JWT `jti`s in the store (`cds_token_uses`, primary key iss + jti): a replay is refused
    whichever server process it reaches. Rows are dropped once their token has expired."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def check_and_add(self, iss: str, jti: str, exp: float, now: float) -> bool:
        from sqlalchemy import delete, insert
        from sqlalchemy.exc import IntegrityError

        from imnm.store.models import CdsTokenUse

        try:
            with self.db.writer() as conn:
                conn.execute(delete(CdsTokenUse).where(CdsTokenUse.expires_at < now))
                conn.execute(insert(CdsTokenUse).values(iss=iss[:300], jti=jti[:200], expires_at=exp))
        except IntegrityError:
            return False
        return True


def config_from_env(env: dict[str, str] | None = None) -> Any | None:
    """A `CdsConfig` from the environment, or None when `IMNM_CDS_BASE_URL` is not set.

    | variable | meaning |
    |---|---|
    | `IMNM_CDS_BASE_URL` | the URL EHRs call (JWT `aud` = `{this}/cds-services/{id}`); turns the service on |
    | `IMNM_CDS_CLIENTS` | a YAML/JSON file: `clients: [{iss, jwks_url or jwks, name}]`, the EHRs allowed to call |
    | `IMNM_CDS_APP_URL` | the web app's URL, for "open the assessment" links in cards (default: the base URL) |

    Without clients every call is refused (401): there is no unauthenticated mode in the server."""
    import os
    from pathlib import Path

    from imnm.cds.security import TrustedClient
    from imnm.cds.service import CdsConfig
    from imnm.errors import InputError, Problem

    e = os.environ if env is None else env
    base = (e.get("IMNM_CDS_BASE_URL") or "").rstrip("/")
    if not base:
        return None
    clients: list[TrustedClient] = []
    path = e.get("IMNM_CDS_CLIENTS")
    if path:
        from imnm.io.yaml import read_document

        doc = read_document(Path(path))
        rows = doc.get("clients") if isinstance(doc, dict) else None
        if not isinstance(rows, list):
            raise InputError(
                [Problem("clients", "no list of clients", "write clients: [{iss, jwks_url}]", file=path)],
                what="IMNM_CDS_CLIENTS",
            )
        problems: list[Problem] = []
        for i, row in enumerate(rows):
            ok = isinstance(row, dict) and isinstance(row.get("iss"), str)
            keys = ok and (isinstance(row.get("jwks"), dict) or isinstance(row.get("jwks_url"), str))
            if not ok or not keys:
                problems.append(
                    Problem(
                        f"clients[{i}]", "needs iss and jwks_url (or an inline jwks)", "add them", file=path
                    )
                )
                continue
            clients.append(
                TrustedClient(
                    iss=row["iss"],
                    jwks=row.get("jwks"),
                    jwks_url=row.get("jwks_url"),
                    name=str(row.get("name", "")),
                )
            )
        if problems:
            raise InputError(problems, what="IMNM_CDS_CLIENTS")
    return CdsConfig(public_base_url=base, clients=clients, app_base_url=e.get("IMNM_CDS_APP_URL") or base)


def include(app: Any, db: Database, config: Any, *, feedback: Any | None = None) -> None:
    from dataclasses import replace

    from imnm.cds.service import cds_router

    if config.replay is None:
        config = replace(config, replay=StoreReplayCache(db))
    app.include_router(cds_router(config, feedback=feedback or StoreFeedback(db), audit=audit_sink(db)))
