"""Turn plain data (parsed YAML/JSON) into a `Record`, reporting every problem at once."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from imnm.errors import Problem, RecordError
from imnm.types import _model_at, dotted, problems_from

__all__ = ["dotted", "load_record", "parse_record", "problems_from", "record_field_hint"]

if TYPE_CHECKING:
    from imnm.record.model import Record


Hint = Callable[[tuple[int | str, ...]], str | None]
"""Given the location of an unknown field, a "did you mean" fix by meaning (or None)."""


def _norm(word: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", word.lower()).strip("_")


@cache
def _record_terms() -> dict[str, str]:
    """Normalised word → record field path: the synonyms table, then every section's field names."""
    from imnm import knowledge
    from imnm.record.model import Record

    out: dict[str, str] = {}
    for target, words in knowledge.load("record_synonyms")["synonyms"].items():
        for w in words:
            out.setdefault(_norm(str(w)), str(target))
    for name, field in Record.model_fields.items():
        out.setdefault(_norm(name), name)
        owner = _model_at(Record, (name, "_"))
        if owner is not None and owner is not Record and not _is_list(field.annotation):
            for sub in owner.model_fields:
                out.setdefault(_norm(sub), f"{name}.{sub}")
    return out


def _is_list(annotation: Any) -> bool:
    import typing

    return any(typing.get_origin(a) is list for a in (typing.get_args(annotation) or (annotation,)))


def record_field_hint(loc: tuple[int | str, ...]) -> str | None:
    """The field an unknown record field most likely means, from `knowledge/data/record_synonyms.yaml`
    (`thigh_weakness` → `proximal_weakness_lower`) or a field of that name in another section."""
    section = ".".join(str(p) for p in loc[:-1] if isinstance(p, str))
    in_list = any(isinstance(p, int) for p in loc[:-1])
    target = None if in_list else _record_terms().get(_norm(str(loc[-1])))
    if target is None or target == ".".join(str(p) for p in loc):
        return None
    where, _, name = target.rpartition(".")
    if where == section:
        return f"did you mean {name!r}?"
    if where:
        return f"did you mean {target!r}? (it belongs under {where}:)"
    return f"did you mean {target!r}? (a top-level field)"


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
        problems = problems_from(exc, Record, file=file, hint=record_field_hint)
        raise RecordError(problems, what=file or "record") from None


def load_record(path: str | Path) -> Record:
    """Read and validate one record file (.yaml, .yml or .json)."""
    from imnm.io.yaml import read_document

    return parse_record(read_document(path), file=str(path))
