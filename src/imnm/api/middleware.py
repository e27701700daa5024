"""ASGI middleware: body size limit (413), audit finalizer, security headers (Content-Security-Policy
by kind of response: see API_CSP, WEB_CSP, CSP_BY_PREFIX), an access log without patient data, and CSRF
(starlette-csrf) answering in problem+json."""

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
                await self._refuse(scope, receive, send, limit, path)
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
                await self._refuse(scope, receive, send, limit, path)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int, path: str) -> None:
        if not _is_api_path(path):  # a person's form or upload: a page that says what to do
            from imnm.web.errors import error_page

            page = error_page(
                Request(scope),
                413,
                f"The file or form is too large: it may have at most {limit:,} bytes ({limit / 1e6:.0f} MB). "
                "Send a smaller file (one patient per file).",
            )
            await page(scope, receive, send)
            return
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


API_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
"""The policy of every response that does not set its own: JSON needs no scripts, styles or frames."""
WEB_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
"""A policy for HTML pages: scripts only from our own files (htmx is vendored and served from /static),
never inline, never eval; forms post only to us; no framing. Pages that need more (an inline SVG chart's
style attributes: `style-src-attr 'unsafe-inline'`) set their own Content-Security-Policy header, which this
middleware keeps; scripts stay 'self' only (tests/security checks every route)."""
CSP_BY_PREFIX: list[tuple[str, str]] = []
"""(path prefix, policy) for responses that set no policy themselves, first match wins; API_CSP otherwise.
The web app adds its prefixes here when it is mounted (e.g. `("/static/", WEB_CSP)`)."""
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def csp_for(path: str) -> str:
    return next((policy for prefix, policy in CSP_BY_PREFIX if path.startswith(prefix)), API_CSP)


class HeadersAndLogMiddleware:
    """Security headers on every response; one access-log line per request (route template, no query).

    Every response gets SECURITY_HEADERS (and Strict-Transport-Security over HTTPS). A response that sets
    its own Content-Security-Policy (web pages, /docs) or Cache-Control
    (static files) keeps it; every other response gets `csp_for(path)` and `Cache-Control: no-store`
    (patient data is never cached)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0
        path = scope.get("path", "")
        https = scope.get("scheme") == "https"

        async def wrapped(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = int(msg["status"])
                headers = list(msg.get("headers") or [])
                have = {k.lower() for k, _ in headers}
                headers += [h for h in SECURITY_HEADERS if h[0] not in have]
                if https:
                    headers.append(HSTS)
                if b"cache-control" not in have:
                    headers.append((b"cache-control", b"no-store"))
                if b"content-security-policy" not in have:
                    headers.append((b"content-security-policy", csp_for(path).encode()))
                msg["headers"] = headers
            await send(msg)

        try:
            await self.app(scope, receive, wrapped)
        finally:
            from imnm.api.auth import route_template

            tmpl = route_template(scope) if scope.get("route") is not None else "(no route)"
            access_log.info(
                "%s %s %d %.1fms", scope.get("method"), tmpl, status, (time.perf_counter() - start) * 1000
            )


class ProblemCSRFMiddleware(CSRFMiddleware):
    """starlette-csrf (double-submit cookie), checked only when the session cookie is present.

    The token may come in the `X-CSRFToken` header (API clients, htmx through `hx-headers`) or, for
    forms that work without JavaScript, in a hidden form field named `csrftoken`
    (`application/x-www-form-urlencoded` or `multipart/form-data`); the header wins when both are
    sent. The body read for the field is replayed unchanged to the route. `required` paths (the web
    login form) are checked even without a session cookie, so that a forged login is refused too.

    The token of the request (the cookie's, or a new one that the response sets as the cookie) is in
    `request.state.csrf_token`, so a page can put it in its forms on the first visit.
    `auto_secure`: the csrftoken cookie is Secure when the request came over HTTPS (like the session)."""

    FORM_FIELD = "csrftoken"
    FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

    def __init__(
        self,
        app: ASGIApp,
        secret: str,
        *,
        sensitive_cookies: set[str],
        cookie_secure: bool = False,
        auto_secure: bool = False,
        required: tuple[str, ...] = (),
    ) -> None:
        import re

        super().__init__(
            app,
            secret,
            sensitive_cookies=sensitive_cookies,
            cookie_secure=cookie_secure,
            cookie_samesite="lax",
            required_urls=[re.compile(re.escape(p) + "$") for p in required] or None,
        )
        self.auto_secure = auto_secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        cookie = request.cookies.get(self.cookie_name)
        valid = cookie is not None and self._valid(cookie)
        if request.method not in self.safe_methods and (
            self._url_is_required(request.url)
            or (not self._url_is_exempt(request.url) and self._has_sensitive_cookies(request.cookies))
        ):
            submitted = request.headers.get(self.header_name)
            if not submitted:
                submitted, receive = await self._form_token(scope, receive)
            if not valid or not submitted or not self._csrf_tokens_match(cookie or "", submitted):
                await self._get_error_response(request)(scope, receive, send)
                return
        token = cookie if valid and cookie is not None else self._generate_csrf_token()
        scope.setdefault("state", {})["csrf_token"] = token

        async def sending(message: Message) -> None:
            if self.auto_secure:  # set and used before the first await below: no other request interleaves
                self.cookie_secure = scope.get("scheme") == "https"
            if message["type"] == "http.response.start" and not valid:
                self._set_cookie(message, token)
            await send(message)

        await self.app(scope, receive, sending)

    def _valid(self, token: str) -> bool:
        from itsdangerous import BadSignature

        try:
            self.serializer.loads(token)
        except BadSignature:
            return False
        return True

    def _set_cookie(self, message: Message, token: str) -> None:
        import http.cookies

        from starlette.datastructures import MutableHeaders

        message.setdefault("headers", [])
        headers = MutableHeaders(scope=message)
        cookie: http.cookies.BaseCookie[str] = http.cookies.SimpleCookie()
        cookie[self.cookie_name] = token
        cookie[self.cookie_name]["path"] = self.cookie_path
        cookie[self.cookie_name]["secure"] = self.cookie_secure
        cookie[self.cookie_name]["httponly"] = self.cookie_httponly
        cookie[self.cookie_name]["samesite"] = self.cookie_samesite
        headers.append("set-cookie", cookie.output(header="").strip())

    async def _form_token(self, scope: Scope, receive: Receive) -> tuple[str | None, Receive]:
        """The `csrftoken` field of a form body, and a `receive` that replays the body."""
        ctype = dict(scope.get("headers") or []).get(b"content-type", b"").decode("latin-1")
        if ctype.split(";")[0].strip().lower() not in self.FORM_TYPES:
            return None, receive
        chunks: list[bytes] = []
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return None, receive
            chunks.append(msg.get("body", b""))
            if not msg.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def once() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            form = await Request(scope, once).form(max_files=20, max_fields=2000)
            value = form.get(self.FORM_FIELD)
            await form.close()
        except Exception:  # a malformed body: no token (the route reports the body itself)
            value = None
        return (value if isinstance(value, str) and value else None), replay

    def _get_error_response(self, request: Request) -> Response:
        if not _is_api_path(request.url.path):
            from imnm.web.errors import csrf_failed_page

            return csrf_failed_page(request)
        body = _problem_bytes(
            403,
            "Not allowed",
            "CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken header "
            "(htmx: hx-headers) on cookie-authenticated writes",
            request.url.path,
        )
        return Response(body, status_code=403, media_type=MEDIA)


API_PREFIXES = ("/api/", "/cds-services", "/openapi.json", "/docs")


def _is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)
