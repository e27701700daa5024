"""Reading patients: a record document (YAML/JSON) validated into a `Record`."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_patient(path: str | Path) -> Any:
    """Read one patient file: a record (YAML/JSON), a FHIR R4 Bundle or a bulk-export NDJSON folder."""
    from imnm.io.sources import load_patient as load

    return load(path)


def is_fhir_document(document: object) -> bool:
    """A FHIR resource (a Bundle, a Patient ...) rather than a record document."""
    return isinstance(document, dict) and isinstance(document.get("resourceType"), str)


def parse_patient(document: object, *, file: str | None = None) -> Any:
    """Validate a record document, or read a FHIR R4 resource (a Bundle) into one; raises `RecordError`
    (or `InputError`) listing every problem."""
    if is_fhir_document(document):
        return import_fhir(document, file=file)[0]
    from imnm.record.load import parse_record

    return parse_record(document, file=file)


def import_fhir(document: object, *, file: str | None = None) -> tuple[Any, Any]:
    """(record, import report) of a FHIR R4 resource: a Bundle (collection, searchset, transaction,
    batch) or a single resource. Needs the `[fhir]` extra."""
    from imnm.errors import InputError, Problem

    try:
        from imnm.adapters.fhir import import_resources, record_from_result
        from imnm.adapters.fhir.read import resources_from_document
    except ImportError:  # pragma: no cover - the [fhir] extra is missing
        raise InputError(
            [Problem("", "reading FHIR needs the fhir extra", "pip install 'imnm[fhir]'")],
            what=file or "FHIR",
        ) from None
    result = import_resources(resources_from_document(document, file=file), source=file or "FHIR input")
    return record_from_result(result), result.report
