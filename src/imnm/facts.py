"""The whole fact vocabulary: base record facts plus every module's derived facts.

Rules (trial criteria, screening rules) are checked against this registry. Modules that add
derived facts register them on import; list them in `DERIVED_MODULES` so that importing
`imnm.facts` always gives the complete vocabulary.
"""

from __future__ import annotations

import importlib

from imnm.record.facts import REGISTRY, Context, RecordFacts

DERIVED_MODULES: tuple[str, ...] = ("imnm.workup.facts", "imnm.activity.facts", "imnm.trials.facts")

for _module in DERIVED_MODULES:
    importlib.import_module(_module)

__all__ = ["REGISTRY", "Context", "RecordFacts"]
