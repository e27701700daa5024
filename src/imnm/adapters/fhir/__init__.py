"""FHIR R4 in and out.

- `import_path(path)` / `import_resources(resources)`: a Bundle JSON (collection, searchset, transaction,
  batch), a single resource or a bulk-export NDJSON folder → `ImportResult` (a record document that
  `imnm.record.load.parse_record` accepts, every item keeping its source in `ref`, and an import report).
- `imnm.adapters.fhir.write`: a record as a Bundle, the screener as a Questionnaire, answers as a
  QuestionnaireResponse; `imnm.adapters.fhir.assessment`: an assessment as a Bundle of Observations.

The code-to-fact mapping is the knowledge table `knowledge/data/fhir_codes.yaml` (with its sources and the
LOINC notice). `fhir.resources` (R4B) is imported only when resources are validated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imnm.adapters.fhir.mapping import ImportReport, ImportResult, map_resources

__all__ = ["ImportReport", "ImportResult", "import_path", "import_resources", "record_from_result"]


def import_path(path: str | Path) -> ImportResult:
    from imnm.adapters.fhir.read import read_path

    return map_resources(read_path(path), source=str(path))


def import_resources(resources: list[dict[str, Any]], *, source: str = "FHIR input") -> ImportResult:
    return map_resources(resources, source=source)


def record_from_result(result: ImportResult) -> Any:
    """The validated `Record` of an import (raises `RecordError` naming the field, like any record)."""
    from imnm.record.load import parse_record

    return parse_record(result.document, file=result.report.source)
