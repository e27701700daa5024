"""The record as it was known on a date: results dated after `as_of` are left out.

Evaluating in the past (a trial's screening date, a clinic visit) must not use later results.
Dated results (labs, antibodies, visits, pulmonary and cardiac tests, infections) and dated
blocks (EMG, MRI, biopsy) after `as_of` are dropped; undated ones stay (they may be older).
Medications, exposures and vaccinations are kept whole: a dated future entry there is a plan,
which some criteria ask about on purpose ("anticipated during the study"). When nothing is dated
after `as_of` (the usual case, evaluating today) the record itself is returned.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from imnm.record.model import Record

_LISTS = ("labs", "antibodies", "visits", "pulmonary_function", "cardiac", "infections")
_BLOCKS = ("emg", "mri", "biopsy")


def _later(item: Any, as_of: date) -> bool:
    d = getattr(item, "date", None)
    return d is not None and d > as_of


def as_of_view(record: Record, as_of: date) -> Record:
    """The record without anything dated after `as_of` (the same object when nothing is)."""
    update: dict[str, Any] = {}
    for name in _LISTS:
        items = getattr(record, name)
        if items and any(_later(i, as_of) for i in items):
            update[name] = [i for i in items if not _later(i, as_of)]
    for name in _BLOCKS:
        block = getattr(record, name)
        if block is not None and _later(block, as_of):
            update[name] = None
    return record.model_copy(update=update) if update else record
