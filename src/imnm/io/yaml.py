"""YAML and JSON reading with one behaviour: dates stay ISO strings until the models parse them.

PyYAML's default resolver turns `2024-13-01` into a `ValueError` deep inside the loader (no
path, no fix) and `2024-01-10` into a `date` object that strict models would then have to accept
from any source. Here timestamps are not resolved, so every date is checked in one place
(`imnm.types.IsoDate`) with a message naming the field. The C loader is used when
available (it is several times faster).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from imnm.errors import InputError, Problem

try:
    _Base: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Base = yaml.SafeLoader


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """Safe loader without the timestamp resolver."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}


def load_yaml_text(text: str, *, file: str | None = None) -> Any:
    """Parse YAML (or JSON, which is YAML) text; syntax errors become an `InputError`."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        raise InputError(
            [
                Problem(
                    where,
                    f"not valid YAML: {exc.problem}",
                    "check indentation and quoting near that line",
                    file=file,
                )
            ],
            what=file or "input",
        ) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem("", f"not valid YAML: {exc}", file=file)]) from None


def read_document(path: str | Path) -> Any:
    """Read a `.yaml`/`.yml`/`.json` file into plain Python data, with clear errors."""
    p = Path(path)
    name = str(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            [Problem("", "file not found", "check the path", value=name, file=name)], what=name
        ) from None
    except IsADirectoryError:
        raise InputError(
            [Problem("", "is a folder, not a file", "name a .yaml or .json file", file=name)],
            what=name,
        ) from None
    except UnicodeDecodeError:
        raise InputError(
            [Problem("", "not UTF-8 text", "save the file as UTF-8", file=name)], what=name
        ) from None
    if p.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                [
                    Problem(
                        f"line {exc.lineno}, column {exc.colno}",
                        f"not valid JSON: {exc.msg}",
                        file=name,
                    )
                ],
                what=name,
            ) from None
    return load_yaml_text(text, file=name)
