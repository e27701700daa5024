"""The audit log, for auditors: query and verify the hash chain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from imnm.api.auth import Ctx, need
from imnm.api.problems import MAX_INT
from imnm.store import audit
from imnm.store.principal import Perm
from imnm.store.users import parse_time

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", summary="Audit events, oldest first (page on with ?after=<last id>)")
def query(
    ctx: Annotated[Ctx, Depends(need(Perm.AUDIT_READ, audit="audit.query"))],
    patient: Annotated[str | None, Query(max_length=40)] = None,
    user: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[str | None, Query(description="YYYY-MM-DD or an ISO date-time")] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    start = parse_time(since, path="since") if since else None
    assert ctx.trail is not None
    ctx.trail.detail = f"patient={patient} user={user} since={since} action={action}"
    with ctx.session() as s:
        rows = audit.query(
            s, patient=patient, user=user, since=start, action=action, after_id=after, limit=limit
        )
        events = [audit.event_dict(r) for r in rows]
        ctx.record(s)
    return {"events": events, "next_after": events[-1]["id"] if len(events) == limit else None}


@router.get("/verify", summary="Walk the hash chain; report edited or deleted events")
def verify(ctx: Annotated[Ctx, Depends(need(Perm.AUDIT_READ, audit="audit.verify"))]) -> dict[str, Any]:
    with ctx.reader() as s:
        out = audit.verify(s).as_dict()
    return out
