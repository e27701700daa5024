"""Diagnostic work-up: test interpretation, ENMC 224 and 2017 EULAR/ACR classification, mimics,
safety work-up and the next tests, over one patient record.

`assess(record, as_of=..., settings=...)` returns an `Assessment` (`as_dict()` for JSON). The
derived facts `enmc.*`, `eular_acr.*` and `antibody.<target>.positive` are registered by
`imnm.workup.facts` (listed in `imnm.facts.DERIVED_MODULES`).
"""

from __future__ import annotations

from imnm.workup.settings import WorkupSettings

__all__ = ["WorkupSettings"]
