"""ASGI middleware: body size limit (413), audit finalizer, security headers, an access log
without patient data, and CSRF (starlette-csrf) answering in problem+json."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette_csrf.middleware import CSRFMiddleware

from imnm.api.problems import MEDIA, problem_type

access_log = logging.getLogger("imnm.access")


def _problem_bytes(status: int, title: str, detail: str, instance: str | None = None) -> bytes:
    body = {"type": problem_type(status), "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    return json.dumps(body).encode()


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse bodies over `limit` bytes with 413, by Content-Length or while reading."""

    def __init__(self, app: ASGIApp, limit: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = limit
        self.larger = larger or {}  # path prefix -> limit (e.g. CDS Hooks prefetch)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = next((n for p, n in self.larger.items() if path.startswith(p)), self.default)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > limit
            except ValueError:
                too_big = False
            if too_big:
                await self._refuse(send, limit, path)
                return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return msg

        async def tracking(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited, tracking)
        except BodyTooLarge:
            if not started:
                await self._refuse(send, limit, path)

    async def _refuse(self, send: Send, limit: int, path: str) -> None:
        body = _problem_bytes(413, "Request body too large", f"the body may have at most {limit} bytes", path)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", MEDIA.encode()), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class AuditMiddleware:
    """Writes the request's audit event (if the route did not) before the response starts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        app = scope["app"]

        async def finalize(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                trail = state.get("audit")
                if trail is not None and not trail.written:
                    trail.written = True
                    await run_in_threadpool(_write, app, trail, int(msg["status"]))
            await send(msg)

        try:
            await self.app(scope, receive, finalize)
        except Exception:
            trail = state.get("audit")
            if trail is not None and not trail.written:
                trail.written = True
                await run_in_threadpool(_write, app, trail, 500)
            raise


def _write(app: Any, trail: Any, status: int) -> None:
    from imnm.store import audit

    with app.state.db.writer() as conn:  # Core: no ORM session needed for one event
        audit.append(conn, trail.event(status))


class HeadersAndLogMiddleware:
    """Security headers on every response; one access-log line per request (route template, no query)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0
        docs = scope.get("path", "") in ("/docs", "/docs/oauth2-redirect")

        async def wrapped(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = int(msg["status"])
                headers = list(msg.get("headers") or [])
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"cache-control", b"no-store"),
                ]
                if not docs:
                    headers.append(
                        (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
                    )
                msg["headers"] = headers
            await send(msg)

        try:
            await self.app(scope, receive, wrapped)
        finally:
            from imnm.api.auth import route_template

            path = route_template(scope) if scope.get("route") is not None else "(no route)"
            access_log.info(
                "%s %s %d %.1fms", scope.get("method"), path, status, (time.perf_counter() - start) * 1000
            )


class ProblemCSRFMiddleware(CSRFMiddleware):
    """starlette-csrf (double-submit cookie), checked only when the session cookie is present.

    `auto_secure`: the csrftoken cookie is Secure when the request came over HTTPS (like the session)."""

    def __init__(
        self,
        app: ASGIApp,
        secret: str,
        *,
        sensitive_cookies: set[str],
        cookie_secure: bool = False,
        auto_secure: bool = False,
    ) -> None:
        super().__init__(
            app,
            secret,
            sensitive_cookies=sensitive_cookies,
            cookie_secure=cookie_secure,
            cookie_samesite="lax",
        )
        self.auto_secure = auto_secure

    async def send(self, message: Message, send: Send, scope: Scope) -> None:
        if self.auto_secure:  # set and used before the first await below: no other request interleaves
            self.cookie_secure = scope.get("scheme") == "https"
        await super().send(message, send, scope)

    def _get_error_response(self, request: Request) -> Response:
        body = _problem_bytes(
            403,
            "Not allowed",
            "CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken header "
            "(htmx: hx-headers) on cookie-authenticated writes",
            request.url.path,
        )
        return Response(body, status_code=403, media_type=MEDIA)
