"""The YAML/JSON record adapter: a validated `Record` as base facts, through its binding table.

`record_facts(record, as_of=..., settings=...)` binds the base facts of `bindings.yaml` over the
record as it was known on `as_of` (results dated later are left out, `imnm.record.asof`), with the
record's `coverage` periods for list sections. Derived facts are added on top by `imnm.derive`.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib import resources

from imnm.bindings import BindingTable, BoundFacts, load_table
from imnm.core.facts import Period
from imnm.record.asof import as_of_view
from imnm.record.model import Record
from imnm.settings import Settings
from imnm.vocabulary import REGISTRY

FILE = "record/bindings.yaml"


@cache
def record_table() -> BindingTable:
    """The record adapter's binding table (loaded and checked once)."""
    from imnm.io.yaml import load_yaml_text

    data = load_yaml_text(
        (resources.files("imnm.record") / "bindings.yaml").read_text(encoding="utf-8"), file=FILE
    )
    assert isinstance(data, dict)
    return load_table(data, REGISTRY, file=FILE)


def periods(record: Record) -> dict[str, tuple[Period, ...]]:
    """The record's completeness periods per list section (absent section = complete at all times)."""
    cov = record.coverage
    if cov is None:
        return {}
    out: dict[str, tuple[Period, ...]] = {}
    for name in ("medications", "infections", "vaccinations"):
        found = getattr(cov, name)
        if found is not None:
            out[name] = tuple((p.start, p.end) for p in found)
    return out


def record_facts(record: Record, *, as_of: date, settings: Settings) -> BoundFacts:
    """The record's base facts as known on `as_of`."""
    rec = as_of_view(record, as_of)
    return BoundFacts(rec, record_table(), registry=REGISTRY, settings=settings, periods=periods(rec))
