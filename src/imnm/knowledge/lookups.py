"""Lookups in the knowledge tables: lab tests and their units, autoantibody targets and aliases.

Lab tests and their units come from `knowledge/data/labs.yaml`; autoantibody targets from
`knowledge/data/antibodies.yaml`. Aliases such as `anti-HMGCR`, `Jo1` or `hmgcr` map to one
canonical spelling so that rules can refer to `antibody.HMGCR`.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from imnm import knowledge


@cache
def _labs() -> dict[str, Any]:
    tests: dict[str, Any] = knowledge.load("labs")["tests"]
    return tests


LAB_TESTS: tuple[str, ...] = tuple(_labs())


def lab_units(test: str) -> list[str]:
    """Accepted unit spellings for a lab test."""
    return list(_labs()[test]["units"])


def lab_unit_factor(test: str, unit: str) -> float | None:
    """Factor converting `unit` to the test's canonical unit, or None if not accepted."""
    factor = _labs().get(test, {}).get("units", {}).get(unit)
    return None if factor is None else float(factor)


def lab_canonical_unit(test: str) -> str:
    return str(_labs()[test]["canonical_unit"])


def lab_label(test: str) -> str:
    return str(_labs()[test]["label"])


def _key(name: str) -> str:
    name = re.sub(r"^anti[-\s]?", "", name.strip(), flags=re.IGNORECASE)
    return re.sub(r"[^0-9a-z]", "", name.lower().replace("γ", "gamma"))


@cache
def _targets() -> dict[str, str]:
    table = knowledge.load("antibodies")
    out: dict[str, str] = {}
    for entry in table["targets"]:
        name = entry["id"] if isinstance(entry, dict) else str(entry)
        out[_key(name)] = name
        for alias in (entry.get("aliases") or []) if isinstance(entry, dict) else []:
            out[_key(alias)] = name
    return out


ANTIBODY_TARGETS: tuple[str, ...] = tuple(dict.fromkeys(_targets().values()))


def canonical_target(name: str) -> str | None:
    """The canonical spelling of an antibody target, or None if unknown."""
    return _targets().get(_key(name))


@cache
def medication_classes() -> dict[str, dict[str, Any]]:
    """Medication classes of `knowledge/data/medications.yaml` (label and the names that belong to each)."""
    classes: dict[str, dict[str, Any]] = knowledge.load("medications")["classes"]
    return classes


@cache
def medication_matches(name: str, cls: str) -> bool:
    """Does a medication name belong to a class in `medications.yaml` (the name, or it followed by a
    space and more words, e.g. "prednisone 20 mg")?"""
    key = name.strip().lower()
    return any(key == n or key.startswith(n + " ") for n in medication_classes()[cls]["names"])
