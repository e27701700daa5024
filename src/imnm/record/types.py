"""Field types shared by the record models: strict numbers, ISO dates, custom errors with a fix."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, NoReturn

from pydantic import BeforeValidator, Field, Strict
from pydantic_core import PydanticCustomError

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
