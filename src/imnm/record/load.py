"""Turn plain data (parsed YAML/JSON) into a `Record`, reporting every problem at once."""

from __future__ import annotations

import re
from collections.abc import Callable
from difflib import get_close_matches
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from imnm.errors import Problem, RecordError

if TYPE_CHECKING:
    from imnm.record.model import Record


def dotted(loc: tuple[int | str, ...]) -> str:
    """`('labs', 1, 'unit')` → `labs[1].unit`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class that owns the last element of `loc` (for field-name hints)."""
    import typing

    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        ann = field.annotation
        # unwrap Optional[...] / list[...] to the model inside
        stack = [ann]
        found = None
        while stack:
            t = stack.pop()
            if isinstance(t, type) and issubclass(t, BaseModel):
                found = t
                break
            stack.extend(typing.get_args(t))
        current = found
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


_TYPE_FIX = {
    "float_type": ("expected a number", "write a plain number such as 7000 (no quotes, no unit)"),
    "int_type": ("expected a whole number", "write a whole number such as 58"),
    "bool_type": ("expected true or false", "write true, false, or leave it out when unknown"),
    "string_type": ("expected text", "put the value in quotes"),
    "list_type": ("expected a list", "write a YAML list (lines starting with '- ')"),
    "model_type": ("expected a mapping of fields", "write it as 'key: value' lines"),
    "dict_type": ("expected a mapping of fields", "write it as 'key: value' lines"),
    "model_attributes_type": ("expected a mapping of fields", "write it as 'key: value' lines"),
    "finite_number": ("expected a finite number", "write a plain number (NaN and infinity are not values)"),
}

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


def problems_from(
    exc: ValidationError, model: type[BaseModel], *, file: str | None = None, hint: Hint | None = None
) -> list[Problem]:
    """Translate a pydantic error into our problems: path, value, message and fix.

    `hint` suggests the field an unknown field name means (by meaning, before spelling)."""
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        value = err.get("input")
        ctx = err.get("ctx") or {}
        path = dotted(loc)
        if kind == "imnm_invalid":
            message, fix = str(ctx.get("message")), ctx.get("fix")
        elif kind == "extra_forbidden":
            owner = _model_at(model, loc)
            names = sorted(owner.model_fields) if owner else []
            close = get_close_matches(str(loc[-1]), names, n=1)
            message = f"unknown field {loc[-1]!r}"
            by_meaning = hint(loc) if hint is not None else None
            fix = by_meaning or (
                f"did you mean {close[0]!r}?"
                if close
                else (f"allowed here: {', '.join(names)}" if names else "remove it")
            )
        elif kind == "missing":
            message, fix = "required field is missing", "add it"
            value = None
        elif kind == "literal_error":
            message = f"{value!r} is not allowed"
            fix = f"use {ctx.get('expected')}"
        elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
            sign = {"greater_than_equal": "≥", "greater_than": ">", "less_than_equal": "≤", "less_than": "<"}[
                kind
            ]
            limit = next(iter(ctx.values()), "?")
            limit = f"{limit:g}" if isinstance(limit, float) else limit
            message = f"{value!r} is out of range: it must be {sign} {limit}"
            fix = "check the value and its unit"
        elif kind in _TYPE_FIX:
            message, fix = _TYPE_FIX[kind]
            message = f"{message}, got {value!r}"
        elif kind == "string_too_short":
            message, fix = "must not be empty", "fill it in"
        else:
            message, fix = err["msg"], None
        problems.append(Problem(path, message, fix, value=value, file=file))
    return problems


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
