"""Errors raised by IMNM Navigator.

Every error a user can cause carries the *place* (file and dotted path), the *value*
that was wrong and *how to fix it*. The command line prints them and exits with code 2;
it never shows a traceback for bad input.

```
* ImnmError
  x InputError            problems: list[Problem]  (all of them, not just the first)
    + RecordError         a patient record (or screener answers) does not validate
    + RuleError           a rule tree refers to an unknown fact, unit or operator
    + KnowledgeError      a knowledge table is missing, malformed or lacks its source
```
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, where it is and how to fix it."""

    path: str
    message: str
    fix: str | None = None
    value: object = None
    file: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        loc = self.path or "(top level)"
        text = f"{where}{loc}: {self.message}"
        if self.fix:
            text += f"; {self.fix}"
        return text

    def as_dict(self) -> dict[str, object]:
        value = self.value
        if isinstance(value, float) and not math.isfinite(value):  # keep JSON output valid
            value = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        elif not isinstance(value, str | int | float | bool | type(None)):
            value = repr(value)
            if len(value) > 300:  # a wrong top level may be a 5 MB list: the message names it, not copies it
                value = f"{value[:300]}... ({len(value):,} characters)"
        return {
            "file": self.file,
            "path": self.path,
            "message": self.message,
            "fix": self.fix,
            "value": value,
        }


class ImnmError(Exception):
    """Base class of every error IMNM Navigator raises on purpose."""


class InputError(ImnmError):
    """Input that cannot be used; `problems` lists every problem found."""

    def __init__(self, problems: list[Problem], *, what: str = "input") -> None:
        self.problems = problems
        self.what = what
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in {what}:\n{lines}")


class RecordError(InputError):
    """A patient record (or a screener answers file) does not validate."""


class RuleError(InputError):
    """A rule tree does not fit the fact vocabulary."""


class KnowledgeError(InputError):
    """A knowledge table is missing, malformed or has no source."""
