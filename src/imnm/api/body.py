"""Request bodies: JSON (and YAML for record documents), size-checked upstream, with clear errors.

A body of another media type is 415; malformed JSON/YAML is 422 with the line and column. Both are read
by `imnm.io.yaml` with the refusals every input file gets (duplicate keys, NaN and infinity, lone
surrogates, integers of more than 4300 digits, nesting deeper than 100 levels, YAML tags and alias bombs).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from imnm.api.problems import ApiError
from imnm.errors import InputError, Problem

JSON_TYPES = ("application/json",)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")
M = TypeVar("M", bound=BaseModel)


async def read_document(request: Request, *, yaml_ok: bool) -> Any:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_json = ctype in JSON_TYPES or (ctype.startswith("application/") and ctype.endswith("+json"))
    is_yaml = yaml_ok and ctype in YAML_TYPES
    if not (is_json or is_yaml):
        allowed = "application/json" + (" or application/yaml" if yaml_ok else "")
        raise ApiError(415, f"send the body as {allowed} (got {ctype or 'no Content-Type'})")
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            [Problem("", f"the body is not UTF-8 (byte {exc.start})", "send UTF-8 text")], what="request body"
        ) from None
    if not text.strip():
        raise InputError([Problem("", "the request body is empty", "send a document")], what="request body")
    from imnm.io.yaml import load_json_text, load_yaml_text

    try:
        return load_yaml_text(text) if is_yaml else load_json_text(text)
    except InputError as exc:
        raise InputError(
            [
                p
                if p.fix or not p.message.startswith("not valid JSON")
                else Problem(p.path, p.message, "check quotes, commas and brackets near that place", p.value)
                for p in exc.problems
            ],
            what="request body",
        ) from None
    except RecursionError:
        raise InputError(
            [Problem("", "the document is nested too deeply", "flatten it")], what="request body"
        ) from None


async def record_body(request: Request) -> Any:
    """The raw record (or answers) document of a request (JSON or YAML), validated by the route."""
    return await read_document(request, yaml_ok=True)


def model_body(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """A dependency reading a JSON body into `model` (strict), problems as in `imnm validate`."""

    async def dependency(request: Request) -> M:
        from imnm.record.load import problems_from

        data = await read_document(request, yaml_ok=False)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise InputError(problems_from(exc, model), what="request body") from None

    dependency.__name__ = f"body_{model.__name__}"
    return dependency


def body_doc(schema: str, *, yaml_ok: bool = False, description: str | None = None) -> dict[str, Any]:
    """`openapi_extra` documenting a body read by the dependencies above."""
    ref = {"$ref": f"#/components/schemas/{schema}"}
    content: dict[str, Any] = {"application/json": {"schema": ref}}
    if yaml_ok:
        content["application/yaml"] = {"schema": ref}
    out: dict[str, Any] = {"requestBody": {"required": True, "content": content}}
    if description:
        out["requestBody"]["description"] = description
    return out
