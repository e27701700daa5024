"""Plausibility and date checks of a record: implausible values are errors, not results.

Checked when a record is validated (`Record.cross_checks`, the same pass as the field checks):

- **Lab results and limits** against the `plausible` block of each test in `knowledge/data/labs.yaml`
  (canonical unit): a value above `value_max` (CK 9000 µkat/L = 540 000 U/L), a ULN outside
  `uln_min`–`uln_max` (a CK ULN of 3.3 next to a value in U/L is a ULN in µkat/L: it would read as
  2727 × ULN), an LLN that is not below the ULN.
- **Dates**: every dated item on or after `birth_date` (symptom onset, labs, medicines, ...), and every
  pair in order (exposure and medicine `start`/`stop`, infection `date`/`resolved`, coverage `start`/`end`).

Checked against the evaluation date by `check_as_of(record, as_of)` (called by the services layer):
birth, symptom onset and diagnosis must not lie after `as_of`. Results and medicines dated after
`as_of` are *not* errors; the evaluation simply does not see them.

**Overrides.** A value that is right although it looks wrong (an extreme rhabdomyolysis, a lab's
unusual reference range) is accepted when the record names it with a reason:

```yaml
overrides:
  - {path: "labs[3].value", reason: "confirmed with the lab: CK 300 000 U/L in rhabdomyolysis"}
```

`path` is the path the error names; it must point to a value in the record. Outputs name every
override used (`override_notes`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from imnm.errors import Problem

if TYPE_CHECKING:
    from imnm.record.model import Record

_UKAT = 60.0  # 1 µkat/L = 60 U/L (labs.yaml)


@dataclass(frozen=True, slots=True)
class Issue:
    """One cross-field problem: a dotted path in the record, what is wrong and how to fix it."""

    path: str
    message: str
    fix: str | None = None
    overridable: bool = True

    def with_override_hint(self) -> Issue:
        if not self.overridable:
            return self
        hint = f"if it is right, add overrides: [{{path: {self.path!r}, reason: ...}}] to the record"
        return Issue(self.path, self.message, f"{self.fix}; {hint}" if self.fix else hint, True)


def _n(x: float) -> str:
    return f"{x:.10g}"


@cache
def _limits() -> dict[str, dict[str, Any]]:
    from imnm import knowledge

    return {t: dict(row.get("plausible") or {}) for t, row in knowledge.load("labs")["tests"].items()}


# ------------------------------------------------------------------ record checks


def record_issues(rec: Record) -> list[Issue]:
    """Every plausibility and date problem of a (possibly partly validated) record, overrides applied.

    On a record whose validation failed elsewhere, fields that did not validate are None and list
    items that did not validate are None; the checks skip them.
    """
    issues = [*_lab_issues(rec), *_date_issues(rec)]
    overrides = [o for o in rec.overrides or [] if o is not None]
    granted = {o.path for o in overrides}
    out = [i.with_override_hint() for i in issues if not (i.overridable and i.path in granted)]
    for k, o in enumerate(rec.overrides or []):
        if o is None:
            continue
        if not _exists(rec, o.path):
            out.append(
                Issue(
                    f"overrides[{k}].path",
                    f"{o.path!r} does not name a value in this record",
                    "write the path an error named, e.g. labs[3].value",
                    overridable=False,
                )
            )
    return out


def _lab_issues(rec: Record) -> Iterator[Issue]:
    from imnm.record.vocabulary import lab_canonical_unit, lab_label, lab_unit_factor

    for i, lab in enumerate(rec.labs or []):
        if lab is None:
            continue
        limits = _limits().get(lab.test) or {}
        factor = lab_unit_factor(lab.test, lab.unit) if lab.unit else None
        if factor is None or not limits:
            continue
        cu, label = lab_canonical_unit(lab.test), lab_label(lab.test)
        enzyme = cu == "U/L"
        where = f"labs[{i}]"
        if lab.value is not None and lab.value * factor > limits["value_max"]:
            given = f"{_n(lab.value)} {lab.unit}" + (
                f" (= {_n(lab.value * factor)} {cu})" if factor != 1 else ""
            )
            fix = "check the number and its unit"
            if enzyme and factor != 1 and lab.value <= limits["value_max"]:
                fix = f"was it {_n(lab.value)} U/L? Then write unit: U/L"
            yield Issue(
                f"{where}.value",
                f"{label} {given} is above the plausible maximum of {_n(limits['value_max'])} {cu}",
                fix,
            )
        if lab.uln is not None:
            uln = lab.uln * factor
            shown = f"{_n(lab.uln)} {lab.unit}" + (f" (= {_n(uln)} {cu})" if factor != 1 else "")
            lo, hi = limits["uln_min"], limits["uln_max"]
            if not lo <= uln <= hi:
                fix = f"give the reporting lab's upper limit in the same unit as the value ({lab.unit})"
                if enzyme and factor == 1 and lo <= uln * _UKAT <= hi:
                    fix = (
                        f"the ULN looks like µkat/L ({_n(lab.uln)} µkat/L = {_n(lab.uln * _UKAT)} U/L): "
                        f"write uln: {_n(lab.uln * _UKAT)} with unit U/L, or give value and uln in ukat/L"
                    )
                elif enzyme and factor != 1 and lo <= lab.uln <= hi:
                    fix = (
                        f"the ULN looks like U/L: write it in ukat/L ({_n(lab.uln / _UKAT)}), or use unit U/L"
                    )
                side = "below the lowest" if uln < lo else "above the highest"
                yield Issue(
                    f"{where}.uln",
                    f"uln {shown} is {side} plausible upper limit of normal for {label} "
                    f"({_n(lo)}–{_n(hi)} {cu})",
                    fix,
                )
        if lab.uln is not None and lab.lln is not None and lab.lln >= lab.uln:
            yield Issue(
                f"{where}.lln",
                f"lln {_n(lab.lln)} is not below uln {_n(lab.uln)}",
                "check the reference range (lln is the lower limit, uln the upper)",
            )


def dated_items(rec: Record) -> Iterator[tuple[str, date]]:
    """(path, date) of every date in the record except birth_date."""
    for name in ("symptom_onset", "diagnosis_date", "weakness_onset"):
        day = getattr(rec, name, None)
        if day is not None:
            yield name, day
    if rec.exposures is not None:
        for name in ("statin", "red_yeast_rice", "oyster_mushrooms"):
            e = getattr(rec.exposures, name)
            for end in ("start", "stop"):
                if e is not None and getattr(e, end) is not None:
                    yield f"exposures.{name}.{end}", getattr(e, end)
    for section, fields in (
        ("labs", ("date",)),
        ("antibodies", ("date",)),
        ("medications", ("start", "stop")),
        ("visits", ("date",)),
        ("pulmonary_function", ("date",)),
        ("cardiac", ("date",)),
        ("infections", ("date", "resolved")),
        ("vaccinations", ("date",)),
    ):
        for i, item in enumerate(getattr(rec, section, None) or []):
            for f in fields:
                day = getattr(item, f, None) if item is not None else None
                if day is not None:
                    yield f"{section}[{i}].{f}", day
    for section in ("emg", "mri", "biopsy"):
        item = getattr(rec, section, None)
        if item is not None and item.date is not None:
            yield f"{section}.date", item.date


def _pairs(rec: Record) -> Iterator[tuple[str, date, str, date]]:
    """(start path, start, end path, end) of every dated pair that must be in order."""
    if rec.exposures is not None:
        for name in ("statin", "red_yeast_rice", "oyster_mushrooms"):
            e = getattr(rec.exposures, name)
            if e is not None and e.start and e.stop:
                yield f"exposures.{name}.start", e.start, f"exposures.{name}.stop", e.stop
    for i, m in enumerate(rec.medications or []):
        if m is not None and m.start and m.stop:
            yield f"medications[{i}].start", m.start, f"medications[{i}].stop", m.stop
    for i, inf in enumerate(rec.infections or []):
        if inf is not None and inf.date and inf.resolved:
            yield f"infections[{i}].date", inf.date, f"infections[{i}].resolved", inf.resolved
    if rec.coverage is not None:
        for section in ("medications", "infections", "vaccinations"):
            for i, p in enumerate(getattr(rec.coverage, section) or []):
                if p is not None and p.start and p.end:
                    where = f"coverage.{section}[{i}]"
                    yield f"{where}.start", p.start, f"{where}.end", p.end


def _date_issues(rec: Record) -> Iterator[Issue]:
    born = rec.birth_date
    if born is not None:
        for path, day in dated_items(rec):
            if day < born:
                yield Issue(path, f"{path} {day} is before birth_date {born}", "correct one of the dates")
    for a_path, a, b_path, b in _pairs(rec):
        if b < a:
            a_name, b_name = a_path.rsplit(".", 1)[1], b_path.rsplit(".", 1)[1]
            yield Issue(b_path, f"{b_name} {b} is before {a_name} {a}", "swap or correct the dates")


# ------------------------------------------------------------------ as_of


def check_as_of(record: Record, as_of: date) -> list[Problem]:
    """Problems of a record evaluated at `as_of`: birth, symptom or weakness onset, or diagnosis after
    that date.

    Anything else dated after `as_of` (results, medicines, visits) is not a problem: the evaluation
    ignores it. An override of the same path accepts the date.
    """
    granted = {o.path for o in record.overrides or []}
    out: list[Problem] = []
    for name in ("birth_date", "symptom_onset", "diagnosis_date", "weakness_onset"):
        day = getattr(record, name)
        if day is not None and day > as_of and name not in granted:
            issue = Issue(
                name,
                f"{name} {day} is after the evaluation date {as_of}",
                "correct the date, or evaluate at a later date (--as-of)",
            ).with_override_hint()
            out.append(Problem(issue.path, issue.message, issue.fix, value=day.isoformat()))
    return out


# ------------------------------------------------------------------ overrides

_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\.")


def _resolve(rec: object, path: str) -> tuple[bool, object]:
    current: object = rec
    pos = 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if m is None:
            return False, None
        pos = m.end()
        name, index = m.group(1), m.group(2)
        if name is not None:
            if not isinstance(current, BaseModel) or name not in type(current).model_fields:
                return False, None
            current = getattr(current, name)
        elif index is not None:
            if not isinstance(current, list) or int(index) >= len(current):
                return False, None
            current = current[int(index)]
    return True, current


def _exists(rec: object, path: str) -> bool:
    found, value = _resolve(rec, path)
    return found and value is not None


def override_notes(rec: Record) -> list[str]:
    """One line per override in the record, for outputs: the path, the value accepted and the reason."""
    out = []
    for o in rec.overrides or []:
        _, value = _resolve(rec, o.path)
        shown = (
            value.isoformat()
            if isinstance(value, date)
            else (_n(value) if isinstance(value, float) else value)
        )
        out.append(f"{o.path} = {shown} accepted by override: {o.reason}")
    return out
