"""Units and the fold over the upper limit of normal, computed in one place.

Lab values are stored as received; `to_canonical` converts with the factors in
`knowledge/data/labs.yaml` (1 µkat/L = 60 U/L for enzymes). `fold_over_uln` is the only
place a "× ULN" is computed: value and limit must already be in the same unit.
"""

from __future__ import annotations


def to_canonical(value: float, factor: float) -> float:
    """Convert a value to its test's canonical unit with a factor from the labs table."""
    return value * factor


def fold_over_uln(value: float, uln: float) -> float:
    """How many times the upper limit of normal a value is (same unit for both)."""
    if uln <= 0:
        raise ValueError("the upper limit of normal must be positive")
    return value / uln


# Units a rule may write for a fact, with the factor to the fact's canonical unit.
RULE_UNITS: dict[str, dict[str, float]] = {
    "U/L": {"U/L": 1.0, "IU/L": 1.0, "ukat/L": 60.0, "µkat/L": 60.0},
    "xULN": {"xULN": 1.0, "×ULN": 1.0},
    "years": {"years": 1.0, "y": 1.0, "months": 1 / 12},
    "mIU/L": {"mIU/L": 1.0, "uIU/mL": 1.0, "µIU/mL": 1.0},
    "mg/L": {"mg/L": 1.0, "mg/dL": 10.0},
    "pmol/L": {"pmol/L": 1.0},
    "cm": {"cm": 1.0, "mm": 0.1},
    "%": {"%": 1.0},
    "kg": {"kg": 1.0},
    "kg/m2": {"kg/m2": 1.0},
    "months": {"months": 1.0, "mo": 1.0, "years": 12.0, "y": 12.0},
}


def rule_unit_factor(unit: str, canonical: str | None) -> float | None:
    """Factor from a unit written in a rule to the fact's canonical unit (None: incompatible)."""
    if canonical is None:
        return None
    return RULE_UNITS.get(canonical, {canonical: 1.0}).get(unit)
