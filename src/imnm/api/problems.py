"""RFC 9457 problem details (`application/problem+json`) for every error the API returns.

A problem has `type`, `title`, `status`, `detail`, `instance`, and for bad input `problems`: the
same list (path, message, fix, value) that `imnm validate --json` prints. Bad input is never a
500; an unexpected failure is a 500 with no internals (logged without patient data).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from imnm.errors import ImnmError, InputError, Problem

log = logging.getLogger("imnm.api")

MEDIA = "application/problem+json"
MAX_INT = 2_147_483_647
"""Largest integer a query or path parameter accepts (the database's INTEGER; a bigger number is 422, not
an overflow inside the database driver). `tests/security` checks that every integer parameter has it."""
TYPES = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "body-too-large",
    415: "unsupported-media-type",
    422: "invalid-input",
    428: "precondition-required",
    429: "too-many-requests",
    500: "internal-error",
    503: "unavailable",
}
TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


def problem_type(status: int) -> str:
    return f"urn:imnm:problem:{TYPES.get(status, 'error')}"


class ApiError(Exception):
    """Raise in a route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        problems: list[Problem] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.problems = problems
        self.extra = extra


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    problems: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(status),
        "title": TITLES.get(status, "Error"),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if problems is not None:
        body["problems"] = problems
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA, headers=headers)


def problem_dicts(exc: InputError) -> list[dict[str, Any]]:
    paths = getattr(exc, "record_paths", None)
    out = []
    for i, p in enumerate(exc.problems):
        d = p.as_dict()
        if paths is not None:
            d["record_path"] = paths[i]
        out.append(d)
    return out


def _loc(loc: tuple[Any, ...]) -> str:
    from imnm.record.load import dotted

    parts = tuple(loc[1:]) if loc and loc[0] in ("query", "path", "header", "body", "cookie") else tuple(loc)
    return dotted(parts) or str(loc[0] if loc else "")


def install(app: FastAPI) -> None:
    from imnm.store.db import SchemaError
    from imnm.store.users import ConflictError, NotFoundError, ThrottledError

    def inst(request: Request) -> str:
        return request.url.path

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.detail,
            instance=inst(request),
            headers=exc.headers,
            problems=[p.as_dict() for p in exc.problems] if exc.problems is not None else None,
            **exc.extra,
        )

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONResponse:
        n = len(exc.problems)
        return problem_response(
            422, f"{n} problem(s) in {exc.what}", instance=inst(request), problems=problem_dicts(exc)
        )

    @app.exception_handler(NotFoundError)
    async def _nf(request: Request, exc: NotFoundError) -> JSONResponse:
        return problem_response(404, str(exc), instance=inst(request))

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError) -> JSONResponse:
        headers = {}
        rev = exc.extra.get("current_revision")
        if rev is not None:
            headers["ETag"] = f'"{rev}"'
        extra = {k: v for k, v in exc.extra.items() if v is not None}
        return problem_response(409, str(exc), instance=inst(request), headers=headers, **extra)

    @app.exception_handler(ThrottledError)
    async def _throttled(request: Request, exc: ThrottledError) -> JSONResponse:
        return problem_response(
            429, str(exc), instance=inst(request), headers={"Retry-After": str(exc.retry_after)}
        )

    @app.exception_handler(SchemaError)
    async def _schema(request: Request, exc: SchemaError) -> JSONResponse:
        return problem_response(503, str(exc), instance=inst(request))

    @app.exception_handler(ImnmError)
    async def _imnm(request: Request, exc: ImnmError) -> JSONResponse:
        return problem_response(422, str(exc), instance=inst(request))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            loc = tuple(err.get("loc", ()))
            value = err.get("input")
            p = Problem(
                _loc(loc),
                str(err.get("msg", "invalid")),
                None,
                value if isinstance(value, str | int | float | bool | None) else None,
            )
            problems.append(p.as_dict())
        return problem_response(
            422, f"{len(problems)} problem(s) in the request", instance=inst(request), problems=problems
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(
            exc.status_code, detail, instance=inst(request), headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The message may quote patient data: log the type and the route template only.
        route = getattr(request.scope.get("route"), "path", "?")
        log.error("unexpected %s in %s %s", type(exc).__name__, request.method, route)
        return problem_response(500, "unexpected failure (logged)", instance=inst(request))
