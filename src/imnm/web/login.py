"""Form login and logout for the pages: the same session cookie, throttling and audit as
`POST /api/v1/auth/login` (`imnm.api.routers.auth`).

The login form is CSRF-checked even though the visitor has no session yet (the middleware's
`required` path), so another site cannot log a person in to an account of its choosing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from imnm.api.auth import SESSION_COOKIE, Ctx, client_address, cookie_secure, need, start_trail
from imnm.store.principal import Perm
from imnm.web.errors import safe_next
from imnm.web.templating import render

router = APIRouter(include_in_schema=False)
LOGIN_PATH = "/login"


@router.get(LOGIN_PATH)
def login_form(
    request: Request,
    next: Annotated[str | None, Query(max_length=2000)] = None,
    ended: Annotated[str | None, Query(max_length=5)] = None,
) -> Response:
    return render(
        request,
        "login.html",
        {"title": "Log in", "next": safe_next(next), "ended": bool(ended), "error": None, "username": ""},
    )


def _login_trail(request: Request) -> None:
    start_trail(request, "auth.login")


@router.post(LOGIN_PATH, dependencies=[Depends(_login_trail)])
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    from imnm.store import users

    db = request.app.state.db
    settings = request.app.state.settings
    trail = request.state.audit
    trail.actor = username[:200] or "(empty)"
    throttle = users.Throttle(
        settings.login_max_failures_account,
        settings.login_max_failures_address,
        timedelta(minutes=settings.login_window_minutes),
    )
    user = None
    if username and password:
        with db.session() as s:
            user = users.authenticate(s, username, password, client_address(request), throttle)
            if user is not None:
                max_age = timedelta(hours=settings.session_max_hours)
                token = users.start_session(
                    s,
                    user,
                    client_address(request),
                    max_age=max_age,
                    previous=request.cookies.get(SESSION_COOKIE),
                )
                trail.principal = users.principal_for(s, user)
                trail.actor = None
    if user is None:
        trail.detail = "wrong user name or password, or account disabled"
        return render(
            request,
            "login.html",
            {
                "title": "Log in",
                "next": safe_next(next),
                "ended": False,
                "username": username,
                "error": "Wrong user name or password (or the account is disabled).",
                "viewer": None,
            },
            status=401,
        )
    out = RedirectResponse(safe_next(next), status_code=303)
    out.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(max_age.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request, settings),
        path="/",
    )
    return out


@router.post("/logout")
def logout(request: Request, ctx: Annotated[Ctx, Depends(need(Perm.SELF, audit="auth.logout"))]) -> Response:
    from imnm.store import users

    token = request.cookies.get(SESSION_COOKIE)
    with ctx.session() as s:
        if token:
            users.end_session(s, token)
        ctx.record(s, 303)
    out = RedirectResponse("/login?ended=1&next=/", status_code=303)
    out.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=cookie_secure(request, ctx.settings)
    )
    return out
