"""Turn plain data (parsed YAML/JSON) into a `Record`, reporting every problem at once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from imnm.errors import Problem, RecordError
from imnm.types import dotted, problems_from

__all__ = ["dotted", "load_record", "parse_record", "problems_from"]

if TYPE_CHECKING:
    from imnm.record.model import Record


def parse_record(data: object, *, file: str | None = None) -> Record:
    """Validate plain data as a `Record`; raise `RecordError` listing every problem."""
    from imnm.record.model import Record

    if not isinstance(data, dict):
        raise RecordError(
            [
                Problem(
                    "",
                    f"a record must be a mapping of fields, got {type(data).__name__}",
                    "start the file with 'id: ...'",
                    file=file,
                )
            ],
            what=file or "record",
        )
    try:
        return Record.model_validate(data)
    except ValidationError as exc:
        raise RecordError(problems_from(exc, Record, file=file), what=file or "record") from None


def load_record(path: str | Path) -> Record:
    """Read and validate one record file (.yaml, .yml or .json)."""
    from imnm.io.yaml import read_document

    return parse_record(read_document(path), file=str(path))
