"""Reading patients: a record document (YAML/JSON) validated into a `Record`."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_patient(path: str | Path) -> Any:
    """Read one patient file: a record (YAML/JSON), a FHIR R4 Bundle or a bulk-export NDJSON folder."""
    from imnm.io.sources import load_patient as load

    return load(path)


def parse_patient(document: object, *, file: str | None = None) -> Any:
    """Validate a record document (raises `RecordError` listing every problem)."""
    from imnm.record.load import parse_record

    return parse_record(document, file=file)
