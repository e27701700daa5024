"""Authentication and authorization dependencies, and the per-request audit trail.

Use `need(Perm.X)` (or `need(Perm.X, audit="patient.read")` on routes that touch patient data)
as a route dependency; it returns a `Ctx`:

```python
@router.get("/patients/{patient_id}")
def read(patient_id: str, ctx: Ctx = Depends(need(Perm.PATIENT_READ, audit="patient.read"))):
    with ctx.session() as s:
        p = patients.visible(s, ctx.principal, patient_id)   # 404 outside one's teams
        ctx.trail.revision = p.current_revision              # what the audit event records
        ...
```

Credentials: `Authorization: Bearer imnm_...` (an API token) or the `imnm_session` cookie (a login
session; writes then need the CSRF header). No credentials, or expired / revoked ones → 401; a
role or scope without the permission → 403 (checked before any patient is looked up).

Audit: with `audit=ACTION` the dependency starts an `AuditTrail` before authenticating, so
refusals are audited too. Exactly one event is written per request: by the route inside its own
transaction (`ctx.record(s)`, used by writes so a saved change is never unaudited), or else by
`AuditMiddleware` just before the response starts, with the final status (401/403/404 → denied).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from imnm.api.problems import ApiError
from imnm.store import audit
from imnm.store.config import ServerSettings
from imnm.store.db import Database
from imnm.store.principal import Perm, Principal

SESSION_COOKIE = "imnm_session"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"


@dataclass(slots=True)
class AuditTrail:
    action: str
    route: str
    client: str | None
    principal: Principal | None = None
    patient_id: str | None = None
    revision: int | None = None
    detail: str | None = None
    actor: str | None = None
    written: bool = False

    def event(self, status: int | None, outcome: str | None = None) -> audit.Event:
        if outcome is None:
            outcome = "denied" if status in (401, 403, 404, 429) else "allowed"
        return audit.Event(
            action=self.action,
            outcome=outcome,
            principal=self.principal,
            patient_id=self.patient_id,
            revision=self.revision,
            route=self.route,
            client=self.client,
            status=status,
            detail=self.detail,
            actor=self.actor,
        )


@dataclass(slots=True)
class Ctx:
    request: Request
    db: Database
    settings: ServerSettings
    principal: Principal
    trail: AuditTrail | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A writable transaction."""
        with self.db.session() as s:
            yield s

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only transaction (no write lock on SQLite); the audit event is written after it."""
        with self.db.reader() as s:
            yield s

    def record(self, s: Session, status: int = 200) -> None:
        """Write this request's audit event inside the caller's transaction."""
        if self.trail is not None and not self.trail.written:
            audit.append(s, self.trail.event(status))
            self.trail.written = True


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def route_template(scope: Any) -> str:
    """The request's path with its path parameters put back as `{name}` (no ids in logs or audit)."""
    from urllib.parse import unquote

    params = {str(v): k for k, v in (scope.get("path_params") or {}).items()}
    parts = [
        ("{" + params.pop(unquote(seg)) + "}") if unquote(seg) in params else seg
        for seg in scope.get("path", "").split("/")
    ]
    if params:  # a value not found as a whole segment: fall back to the route's own template
        return str(getattr(scope.get("route"), "path", "(unmatched)"))
    return "/".join(parts)


def route_name(request: Request) -> str:
    return f"{request.method} {route_template(request.scope)}"


def start_trail(request: Request, action: str) -> AuditTrail:
    trail = AuditTrail(action=action, route=route_name(request), client=client_address(request))
    pid = request.path_params.get("patient_id")
    if isinstance(pid, str):
        trail.patient_id = pid[:40]
    request.state.audit = trail
    return trail


def resolve(request: Request) -> Principal | None:
    """The principal behind the request's credentials (None when there are none or they are not valid)."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    db: Database = request.app.state.db
    settings: ServerSettings = request.app.state.settings
    from imnm.store import users

    header = request.headers.get("authorization")
    principal: Principal | None = None
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise ApiError(
                401, "use Authorization: Bearer <API token>", headers={"WWW-Authenticate": "Bearer"}
            )
        with db.reader() as s:
            principal = users.token_principal(s, secret.strip())
        if principal is None:
            raise ApiError(
                401,
                "the API token is not valid (unknown, expired or revoked)",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
    else:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            with db.reader() as s:
                found = users.session_principal(
                    s, token, idle=timedelta(minutes=settings.session_idle_minutes), touch=False
                )
            principal = found[0] if found else None
            if found and found[1] and principal and principal.session_id is not None:
                request.state.touch_session = principal.session_id  # recorded off the event loop
            if principal is None:
                raise ApiError(
                    401,
                    "the session has ended (logged out or timed out); log in again",
                    headers={"WWW-Authenticate": "Bearer"},
                )
    request.state.principal = principal
    return principal


def need(perm: Perm | None, *, audit: str | None = None) -> Callable[[Request], Awaitable[Ctx]]:
    """A dependency: authenticate, check `perm` (None = no login needed), start the audit trail.

    It runs on the event loop (no thread hop): the credential lookup is one or two indexed reads."""

    async def dependency(request: Request) -> Ctx:
        trail = start_trail(request, audit) if audit else None
        principal = resolve(request)
        touch = getattr(request.state, "touch_session", None)
        if touch is not None:  # a write (it may wait for the SQLite write lock): not on the loop
            from starlette.concurrency import run_in_threadpool

            request.state.touch_session = None
            await run_in_threadpool(_touch, request.app.state.db, touch)
        if trail is not None:
            trail.principal = principal
        if perm is not None:
            if principal is None:
                raise ApiError(401, "log in or send an API token", headers={"WWW-Authenticate": "Bearer"})
            if not principal.can(perm):
                why = (
                    f"this token's scope ({principal.scope}) does not allow it"
                    if principal.scope and any(perm in _role_perms(r) for r in principal.roles)
                    else f"your role ({principal.roles_text or 'none'}) does not allow it"
                )
                raise ApiError(403, f"{perm.value}: {why}")
        anonymous = Principal(user_id=None, username="anonymous", roles=frozenset())
        return Ctx(
            request=request,
            db=request.app.state.db,
            settings=request.app.state.settings,
            principal=principal or anonymous,
            trail=trail,
        )

    dependency.__name__ = f"need_{perm.value.replace('.', '_') if perm else 'nothing'}"
    return dependency


def _touch(db: Database, session_id: int) -> None:
    from imnm.store import users

    with db.session() as s:
        users.touch_session(s, session_id)


def _role_perms(role: str) -> frozenset[Perm]:
    from imnm.store.principal import ROLE_PERMS

    return ROLE_PERMS.get(role, frozenset())


def cookie_secure(request: Request, settings: ServerSettings) -> bool:
    if settings.cookie_secure == "always":
        return True
    if settings.cookie_secure == "never":
        return False
    return request.url.scheme == "https"
