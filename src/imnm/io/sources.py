"""`load_patient(path)`: one patient from any file a user may have.

- a record (YAML or JSON, `imnm schema record`),
- a FHIR R4 Bundle JSON (collection, searchset, transaction, batch) or a single Patient resource,
- a FHIR bulk-export NDJSON folder (or one .ndjson file).

The kind is detected by content (a JSON object with `resourceType`; a folder of .ndjson files), not only by
the extension. FHIR input goes through `imnm.adapters.fhir` (needs the `[fhir]` extra).
"""

from __future__ import annotations

from pathlib import Path

from imnm.errors import InputError, Problem
from imnm.record.model import Record


def is_fhir(path: str | Path) -> bool:
    """Is this path FHIR input (an NDJSON folder or file, or JSON with a resourceType)?"""
    p = Path(path)
    if p.is_dir():
        return True
    if p.suffix.lower() in (".ndjson", ".jsonl"):
        return True
    try:
        with p.open("r", encoding="utf-8") as fh:
            head = fh.read(4096)
    except (OSError, UnicodeDecodeError):
        return False
    from imnm.adapters.fhir.read import looks_like_fhir

    return looks_like_fhir(head)


def load_patient(path: str | Path) -> Record:
    """Read one patient's record from a record file, a FHIR Bundle or a bulk-export NDJSON folder."""
    p = Path(path)
    if not p.exists():
        raise InputError(
            [Problem("", "file not found", "check the path", value=str(p), file=str(p))], what=str(p)
        )
    if is_fhir(p):
        try:
            from imnm.adapters.fhir import import_path, record_from_result
        except ImportError:  # pragma: no cover - the [fhir] extra is missing
            raise InputError(
                [Problem("", "reading FHIR needs the fhir extra", "pip install 'imnm[fhir]'", file=str(p))],
                what=str(p),
            ) from None
        rec: Record = record_from_result(import_path(p))
        return rec
    from imnm.record.load import load_record

    return load_record(p)
