"""The fact vocabulary as data: `facts.yaml` (and its families over the knowledge tables).

`build_registry()` reads the table and returns the complete `Registry` — every fact rules may test,
base and derived — built once, with no registration on import. `REGISTRY` is that registry, so
`imnm.REGISTRY` is complete however it is imported. Where a fact's values come from is not here:
adapters bind base facts (`imnm.bindings`), derivations compute derived ones (`imnm.derive`).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

from imnm import knowledge
from imnm.core.facts import FACT_KINDS, FactSpec, Registry
from imnm.errors import KnowledgeError, Problem

FILE = "vocabulary/facts.yaml"
_FIELD = re.compile(r"\{(\w+)(?:\|([^}]*))?\}")
_SPEC_KEYS = (
    "name",
    "kind",
    "label",
    "ask",
    "test",
    "unit",
    "values",
    "dated",
    "description",
    "derived",
    "done",
)


@cache
def table() -> dict[str, Any]:
    from imnm.io.yaml import load_yaml_text

    text = (resources.files("imnm.vocabulary") / "facts.yaml").read_text(encoding="utf-8")
    data = load_yaml_text(text, file=FILE)
    assert isinstance(data, dict)
    return data


def _entries(ref: str) -> list[dict[str, Any]]:
    """The entries of `TABLE.KEY` in a knowledge table, each with `key` set."""
    tid, _, key = ref.partition(".")
    found = knowledge.load(tid)[key]
    if isinstance(found, dict):
        return [dict(v, key=k) for k, v in found.items()]
    return [dict(v, key=v["id"]) for v in found if isinstance(v, dict)]


def _fill(template: object, entry: dict[str, Any]) -> object:
    if isinstance(template, str):

        def sub(m: re.Match[str]) -> str:
            value = entry.get(m.group(1))
            if value is None:
                if m.group(2) is None:
                    raise KeyError(m.group(1))
                return m.group(2)
            return str(value)

        return _FIELD.sub(sub, template)
    if isinstance(template, list):
        return [_fill(t, entry) for t in template]
    if isinstance(template, dict):
        return {k: _fill(v, entry) for k, v in template.items()}
    return template


def rows() -> list[dict[str, Any]]:
    """Every vocabulary row, families expanded, in table order."""
    t = table()
    out: list[dict[str, Any]] = list(t["facts"])
    for fam in t.get("families") or []:
        where = fam.get("where") or {}
        for entry in _entries(fam["for_each"]):
            if any(entry.get(k) != v for k, v in where.items()):
                continue
            out.extend(_fill(f, entry) for f in fam["facts"])  # type: ignore[misc]
    return out


def _spec(row: dict[str, Any], where: str, problems: list[Problem]) -> FactSpec | None:
    extra = sorted(set(row) - set(_SPEC_KEYS))
    if extra:
        problems.append(Problem(where, f"unknown keys {extra}", f"use {', '.join(_SPEC_KEYS)}", file=FILE))
        return None
    for req in ("name", "kind", "label", "ask", "test"):
        if not isinstance(row.get(req), str) or not row[req]:
            problems.append(Problem(f"{where}.{req}", "missing", "fill it in", file=FILE))
            return None
    if row["kind"] not in FACT_KINDS:
        problems.append(
            Problem(
                f"{where}.kind", f"{row['kind']!r} is not a kind", f"use {', '.join(FACT_KINDS)}", file=FILE
            )
        )
        return None
    values = row.get("values")
    done = row.get("done")
    if done is not None and (
        not isinstance(done, dict)
        or sorted(done) != ["ask", "fact", "test"]
        or not all(isinstance(v, str) and v for v in done.values())
    ):
        problems.append(
            Problem(f"{where}.done", f"{done!r} is not a done mapping", "give {fact, test, ask}", file=FILE)
        )
        return None
    return FactSpec(
        row["name"],
        row["kind"],
        row["label"],
        row["ask"],
        row["test"],
        unit=row.get("unit"),
        values=tuple(values) if values else None,
        dated=bool(row.get("dated", False)),
        description=row.get("description") or "",
        derived=bool(row.get("derived", False)),
        done=(done["fact"], done["test"], done["ask"]) if done else None,
    )


def build_registry() -> Registry:
    """The complete fact vocabulary, built from the table (every problem reported at once)."""
    problems: list[Problem] = []
    reg = Registry()
    for i, row in enumerate(rows()):
        spec = _spec(row, f"facts[{i}] ({row.get('name', '?')})", problems)
        if spec is None:
            continue
        if spec.name in reg:
            problems.append(
                Problem(f"facts[{i}]", f"fact {spec.name!r} is defined twice", "keep one", file=FILE)
            )
            continue
        reg.register(spec)
    if problems:
        raise KnowledgeError(problems, what=FILE)
    return reg


REGISTRY: Registry = build_registry()
"""The whole vocabulary (base and derived facts)."""

__all__ = ["REGISTRY", "build_registry", "rows", "table"]
