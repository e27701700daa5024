"""Error pages for the web routes: the same errors as the API, answered in HTML.

The API's exception handlers (problem+json, `imnm.api.problems`) stay as they are for API paths;
for a page path each handler is wrapped so that the person sees a page with the same message:
401 sends them to the login page (and back afterwards), 403 / 404 / 409 / 422 / 429 explain what
happened and what to do. Bad input never becomes a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

log = logging.getLogger("imnm.web")

Handler = Callable[[Request, Exception], Awaitable[Response]]


def is_page(request: Request) -> bool:
    from imnm.api.middleware import _is_api_path

    return not _is_api_path(request.url.path)


def safe_next(target: str | None) -> str:
    """A local path to go back to after logging in (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_redirect(request: Request, message: str | None = None) -> RedirectResponse:
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":  # the form's data cannot be kept across the login: back to the start
        back = "/"
    url = f"/login?next={quote(safe_next(back), safe='/')}"
    if message:
        url += "&ended=1"
    out = RedirectResponse(url, status_code=303)
    out.headers["cache-control"] = "no-store"
    return out


TITLES = {
    400: "This request cannot be used",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    405: "Not possible here",
    409: "The record changed meanwhile",
    413: "The upload is too large",
    415: "This kind of file cannot be used",
    422: "Please check the input",
    428: "The form is out of date",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "The service is not ready",
}
HINTS = {
    403: "Your role does not allow this. Ask an administrator if you need it.",
    404: "It does not exist, or it belongs to a team you are not in.",
    409: "Someone saved a change after you opened the form. Open the record again and redo your change.",
    429: "Wait a few minutes before you try again.",
    500: "The error was logged (without patient data). Please try again.",
}


def error_page(
    request: Request, status: int, detail: str | None, problems: list[Any] | None = None
) -> Response:
    from imnm.web.templating import render

    return render(
        request,
        "error.html",
        {
            "title": TITLES.get(status, "Error"),
            "status": status,
            "detail": detail,
            "hint": HINTS.get(status),
            "problems": problems or [],
        },
        status=status,
    )


def csrf_failed_page(request: Request) -> Response:
    return error_page(
        request,
        403,
        "The form could not be checked (its security token is missing or old). "
        "Go back, reload the page and send the form again.",
    )


def _page_response(request: Request, exc: Exception) -> Response | None:
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    from imnm.api.problems import ApiError
    from imnm.errors import ImnmError, InputError
    from imnm.store.db import SchemaError
    from imnm.store.users import ConflictError, NotFoundError, ThrottledError

    if isinstance(exc, ApiError):
        if exc.status == 401:
            return login_redirect(request, exc.detail if "ended" in exc.detail else None)
        return error_page(request, exc.status, exc.detail, exc.problems)
    if isinstance(exc, NotFoundError):
        return error_page(request, 404, str(exc))
    if isinstance(exc, ConflictError):
        return error_page(request, 409, str(exc))
    if isinstance(exc, ThrottledError):
        out = error_page(request, 429, str(exc))
        out.headers["retry-after"] = str(exc.retry_after)
        return out
    if isinstance(exc, SchemaError):
        return error_page(request, 503, str(exc))
    if isinstance(exc, InputError):
        return error_page(request, 422, f"{len(exc.problems)} problem(s) in {exc.what}", exc.problems)
    if isinstance(exc, ImnmError):
        return error_page(request, 422, str(exc))
    if isinstance(exc, RequestValidationError):
        from imnm.errors import Problem

        problems = [
            Problem(".".join(str(x) for x in e.get("loc", ())[1:]), str(e.get("msg", "invalid")))
            for e in exc.errors()
        ]
        return error_page(request, 422, "The address holds a value that cannot be used.", problems)
    if isinstance(exc, HTTPException):
        return error_page(request, exc.status_code, exc.detail if isinstance(exc.detail, str) else None)
    route = getattr(request.scope.get("route"), "path", "?")
    log.error("unexpected %s in page %s %s", type(exc).__name__, request.method, route)
    return error_page(request, 500, "An unexpected failure.")


def install(app: Any) -> None:
    """Wrap every exception handler of the app: page paths get an HTML page, API paths are unchanged."""
    for key, handler in list(app.exception_handlers.items()):
        app.exception_handlers[key] = _dispatch(handler)


def _dispatch(handler: Handler) -> Handler:
    async def dispatch(request: Request, exc: Exception) -> Response:
        if is_page(request):
            page = _page_response(request, exc)
            if page is not None:
                return page
        return await handler(request, exc)

    return dispatch
