"""IMNM Navigator: decision support for immune-mediated necrotizing myopathy.

Decision support, not a diagnosis: classification criteria are research tools and the
treating clinician decides.

Public API (stable names):

- `load_record(path)` / `parse_record(data)` → `Record` (strict; every problem reported at once)
- `Truth`, `and_`, `or_`, `not_`, `at_least`: the three-valued algebra
- `parse_rule(data)`, `evaluate(rule, facts, as_of=..., registry=...)`, `check(rule, registry)`
- `RecordFacts(record, as_of=...)`, `REGISTRY`: the fact vocabulary over a record
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from imnm.version import __version__

__all__ = [
    "REGISTRY",
    "Outcome",
    "Record",
    "RecordFacts",
    "Settings",
    "Truth",
    "__version__",
    "and_",
    "at_least",
    "check",
    "evaluate",
    "load_record",
    "not_",
    "or_",
    "parse_record",
    "parse_rule",
]

_LAZY = {
    "REGISTRY": "imnm.vocabulary",
    "RecordFacts": "imnm.facts",
    "Record": "imnm.record.model",
    "load_record": "imnm.record.load",
    "parse_record": "imnm.record.load",
    "Outcome": "imnm.core.evaluate",
    "evaluate": "imnm.core.evaluate",
    "check": "imnm.core.evaluate",
    "parse_rule": "imnm.core.rules",
    "Settings": "imnm.settings",
    "Truth": "imnm.core.truth",
    "and_": "imnm.core.truth",
    "or_": "imnm.core.truth",
    "not_": "imnm.core.truth",
    "at_least": "imnm.core.truth",
}

if TYPE_CHECKING:
    from imnm.core.evaluate import Outcome, check, evaluate
    from imnm.core.rules import parse_rule
    from imnm.core.truth import Truth, and_, at_least, not_, or_
    from imnm.facts import RecordFacts
    from imnm.record.load import load_record, parse_record
    from imnm.record.model import Record
    from imnm.settings import Settings
    from imnm.vocabulary import REGISTRY


def __getattr__(name: str) -> Any:
    """Import public names lazily, so the command line starts fast."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'imnm' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
