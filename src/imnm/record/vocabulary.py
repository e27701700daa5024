"""Controlled vocabularies of the record (lab tests, units, antibody targets): see `imnm.knowledge.lookups`."""

from __future__ import annotations

from imnm.knowledge.lookups import (
    ANTIBODY_TARGETS,
    LAB_TESTS,
    canonical_target,
    lab_canonical_unit,
    lab_label,
    lab_unit_factor,
    lab_units,
)

__all__ = [
    "ANTIBODY_TARGETS",
    "LAB_TESTS",
    "canonical_target",
    "lab_canonical_unit",
    "lab_label",
    "lab_unit_factor",
    "lab_units",
]
