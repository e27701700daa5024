"""Validation helpers shared by every input model: strict numbers, ISO dates, custom errors with a fix,
and pydantic errors turned into `Problem`s (path, value, message, fix)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from difflib import get_close_matches
from typing import Annotated, Any, NoReturn

from pydantic import BaseModel, BeforeValidator, Field, Strict, ValidationError
from pydantic_core import PydanticCustomError

from imnm.errors import Problem

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FIRST_YEAR, LAST_YEAR = 1900, 2199
"""Documented limit (⚠️ a design choice): dates in a record lie in the years 1900 to 2199. No living
patient was born before 1900, a later year is a typo, and with rule windows of at most 100 years
(`imnm.core.rules.MAX_DURATION`) date arithmetic can never leave the calendar."""


def fail(message: str, fix: str | None = None) -> NoReturn:
    """Raise a validation error whose message and fix reach the user verbatim."""
    raise PydanticCustomError("imnm_invalid", "{message}", {"message": message, "fix": fix})


def parse_iso_date(value: object) -> date:
    """Accept a `date` or an ISO `YYYY-MM-DD` string; refuse anything else with a fix."""
    if isinstance(value, date) and not hasattr(value, "hour"):
        return _in_range(value, value)
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError as exc:
            fail(f"{value!r} is not a real date ({exc})", "write dates as YYYY-MM-DD")
        return _in_range(day, value)
    fail(f"{value!r} is not an ISO date", "write dates as YYYY-MM-DD, e.g. 2024-03-01")


def _in_range(day: date, given: object) -> date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        fail(
            f"{given!r} is outside the years {FIRST_YEAR} to {LAST_YEAR} that a record can hold",
            "check the year",
        )
    return day


IsoDate = Annotated[date, BeforeValidator(parse_iso_date)]
"""A calendar date written `YYYY-MM-DD` (no times, no other formats)."""

Number = Annotated[float, Strict()]
"""A plain number (int or float); strings and booleans are refused."""

NonNegative = Annotated[float, Strict(), Field(ge=0)]
Positive = Annotated[float, Strict(), Field(gt=0)]
Vas10 = Annotated[float, Strict(), Field(ge=0, le=10)]
"""A 10-cm visual analogue scale, 0 (none) to 10 (extreme)."""


# ---------------------------------------------------------------- validation errors as problems


def dotted(loc: tuple[int | str, ...]) -> str:
    """`('labs', 1, 'unit')` → `labs[1].unit`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class that owns the last element of `loc` (for field-name hints)."""
    import typing

    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        ann = field.annotation
        # unwrap Optional[...] / list[...] to the model inside
        stack = [ann]
        found = None
        while stack:
            t = stack.pop()
            if isinstance(t, type) and issubclass(t, BaseModel):
                found = t
                break
            stack.extend(typing.get_args(t))
        current = found
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


_TYPE_FIX = {
    "float_type": ("expected a number", "write a plain number such as 7000 (no quotes, no unit)"),
    "int_type": ("expected a whole number", "write a whole number such as 58"),
    "bool_type": ("expected true or false", "write true, false, or leave it out when unknown"),
    "string_type": ("expected text", "put the value in quotes"),
    "list_type": ("expected a list", "write a YAML list (lines starting with '- ')"),
    "model_type": ("expected a mapping of fields", "write it as 'key: value' lines"),
    "dict_type": ("expected a mapping of fields", "write it as 'key: value' lines"),
    "model_attributes_type": ("expected a mapping of fields", "write it as 'key: value' lines"),
    "finite_number": ("expected a finite number", "write a plain number (NaN and infinity are not values)"),
}

Hint = Callable[[tuple[int | str, ...]], str | None]
"""Given the location of an unknown field, a "did you mean" fix by meaning (or None)."""


def _short(value: object, limit: int = 120) -> str:
    """A value's repr for a message, cut at `limit` characters (a wrong top level may be a 5 MB list)."""
    if isinstance(value, list | dict) and len(value) > 20:
        return f"a {type(value).__name__} of {len(value):,} items"
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


MAX_PROBLEMS = 200
"""Problems listed for one document; the rest are counted in one last problem (a 10,000-row list with a
wrong shape in every row gives 30,000 errors, which nobody reads and which took seconds to word)."""


def problems_from(
    exc: ValidationError, model: type[BaseModel], *, file: str | None = None, hint: Hint | None = None
) -> list[Problem]:
    """Translate a pydantic error into our problems: path, value, message and fix.

    `hint` suggests the field an unknown field name means (by meaning, before spelling)."""
    problems: list[Problem] = []
    errors = exc.errors(include_url=False)
    if len(errors) > MAX_PROBLEMS:
        rest = errors[MAX_PROBLEMS:]
        errors = errors[:MAX_PROBLEMS]
    else:
        rest = []
    for err in errors:
        loc = tuple(err["loc"])
        kind = err["type"]
        value = err.get("input")
        ctx = err.get("ctx") or {}
        path = dotted(loc)
        if kind == "imnm_invalid":
            message, fix = str(ctx.get("message")), ctx.get("fix")
        elif kind == "extra_forbidden":
            owner = _model_at(model, loc)
            names = sorted(owner.model_fields) if owner else []
            close = get_close_matches(str(loc[-1]), names, n=1)
            message = f"unknown field {loc[-1]!r}"
            by_meaning = hint(loc) if hint is not None else None
            fix = by_meaning or (
                f"did you mean {close[0]!r}?"
                if close
                else (f"allowed here: {', '.join(names)}" if names else "remove it")
            )
        elif kind == "missing":
            message, fix = "required field is missing", "add it"
            value = None
        elif kind == "literal_error":
            message = f"{value!r} is not allowed"
            fix = f"use {ctx.get('expected')}"
        elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
            sign = {"greater_than_equal": "≥", "greater_than": ">", "less_than_equal": "≤", "less_than": "<"}[
                kind
            ]
            limit = next(iter(ctx.values()), "?")
            limit = f"{limit:g}" if isinstance(limit, float) else limit
            message = f"{value!r} is out of range: it must be {sign} {limit}"
            fix = "check the value and its unit"
        elif kind in _TYPE_FIX:
            message, fix = _TYPE_FIX[kind]
            message = f"{message}, got {_short(value)}"
        elif kind == "string_too_short":
            message, fix = "must not be empty", "fill it in"
        else:
            message, fix = err["msg"], None
        problems.append(Problem(path, message, fix, value=value, file=file))
    if rest:
        problems.append(
            Problem(
                dotted(tuple(rest[0]["loc"])),
                f"{len(rest):,} more problems from here on are not listed",
                f"fix the {MAX_PROBLEMS} listed above and check the file again",
                file=file,
            )
        )
    return problems
