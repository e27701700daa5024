"""Login (password → server-side session cookie), logout, and who am I.

The session cookie `imnm_session` is HttpOnly, SameSite=Lax, Secure over HTTPS, and holds a
random token whose SHA-256 is the session's key in the database. Logging in always starts a new
session (and ends one presented with the request), so a planted cookie is useless. Sessions end
after `IMNM_SESSION_IDLE_MINUTES` without use and `IMNM_SESSION_MAX_HOURS` after login.
Failed logins are throttled per account and per client address (429 with Retry-After).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from imnm.api.auth import SESSION_COOKIE, Ctx, client_address, cookie_secure, need, start_trail
from imnm.api.body import body_doc, model_body
from imnm.api.problems import ApiError
from imnm.store import users
from imnm.store.models import User
from imnm.store.principal import Perm

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


def _login_trail(request: Request) -> None:
    start_trail(request, "auth.login")


@router.post(
    "/login",
    openapi_extra=body_doc("LoginIn"),
    summary="Log in with a password; sets the session cookie (and a csrftoken cookie for writes)",
    dependencies=[Depends(_login_trail)],
)
def login(
    request: Request, response: Response, body: Annotated[LoginIn, Depends(model_body(LoginIn))]
) -> dict[str, Any]:
    db = request.app.state.db
    settings = request.app.state.settings
    trail = request.state.audit
    trail.actor = body.username[:200]
    throttle = users.Throttle(
        settings.login_max_failures_account,
        settings.login_max_failures_address,
        timedelta(minutes=settings.login_window_minutes),
    )
    client = client_address(request)
    with db.session() as s:
        user = users.authenticate(s, body.username, body.password, client, throttle)
        if user is None:
            trail.detail = "wrong user name or password, or account disabled"
        else:
            max_age = timedelta(hours=settings.session_max_hours)
            token = users.start_session(
                s, user, client, max_age=max_age, previous=request.cookies.get(SESSION_COOKIE)
            )
            trail.principal = users.principal_for(s, user)
            trail.actor = None
            me = users.user_dict(s, user)
    if user is None:
        raise ApiError(401, "wrong user name or password (or the account is disabled)")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(max_age.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request, settings),
        path="/",
    )
    return {
        "user": me,
        "session": {"idle_minutes": settings.session_idle_minutes, "max_hours": settings.session_max_hours},
    }


@router.post("/logout", status_code=204, summary="End the session (the cookie is cleared)")
def logout(request: Request, ctx: Annotated[Ctx, Depends(need(Perm.SELF, audit="auth.logout"))]) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    with ctx.session() as s:
        if token:
            users.end_session(s, token)
        ctx.record(s, 204)
    out = Response(status_code=204)
    out.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=cookie_secure(request, ctx.settings)
    )
    return out


@router.get("/me", summary="Who is logged in: user, roles, teams, and the token's scope if any")
def me(ctx: Annotated[Ctx, Depends(need(Perm.ME))]) -> dict[str, Any]:
    with ctx.session() as s:
        u = s.get(User, ctx.principal.user_id)
        info = users.user_dict(s, u) if u else {}
    return {
        **info,
        "token": None
        if ctx.principal.token_id is None
        else {"id": ctx.principal.token_id, "scope": ctx.principal.scope},
        "permissions": sorted(p.value for p in ctx.principal.perms),
    }
