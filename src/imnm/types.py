"""Field types shared by the record models: strict numbers, ISO dates, custom errors with a fix."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, NoReturn

from pydantic import BeforeValidator, Field, Strict
from pydantic_core import PydanticCustomError

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def fail(message: str, fix: str | None = None) -> NoReturn:
    """Raise a validation error whose message and fix reach the user verbatim."""
    raise PydanticCustomError("imnm_invalid", "{message}", {"message": message, "fix": fix})


def parse_iso_date(value: object) -> date:
    """Accept a `date` or an ISO `YYYY-MM-DD` string; refuse anything else with a fix."""
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            fail(f"{value!r} is not a real date ({exc})", "write dates as YYYY-MM-DD")
    fail(f"{value!r} is not an ISO date", "write dates as YYYY-MM-DD, e.g. 2024-03-01")


IsoDate = Annotated[date, BeforeValidator(parse_iso_date)]
"""A calendar date written `YYYY-MM-DD` (no times, no other formats)."""

Number = Annotated[float, Strict()]
"""A plain number (int or float); strings and booleans are refused."""

NonNegative = Annotated[float, Strict(), Field(ge=0)]
Positive = Annotated[float, Strict(), Field(gt=0)]
Vas10 = Annotated[float, Strict(), Field(ge=0, le=10)]
"""A 10-cm visual analogue scale, 0 (none) to 10 (extreme)."""
