"""IMNM Navigator: decision support for immune-mediated necrotizing myopathy.

Decision support, not a diagnosis: classification criteria are research tools and the
treating clinician decides.

Public API (stable names; `tests/test_public_api.py` pins them):

- use cases: the module `services` (all of them: `services.screen`, `services.activity`, ... — those two
  names are also subpackages of `imnm`, so they are reached through `services`), and at the top level
  `assess`, `response`, `match_trials`, `list_trials`, `get_trial`, `import_study`, `parse_reviews`,
  `load_patient`, `parse_patient`
- `Settings`: every documented ⚠️/❗ choice, one object (`Settings.parse({...})`)
- the record: `Record`, `load_record(path)`, `parse_record(data)` (strict; every problem at once)
- facts and rules: `REGISTRY` (the whole vocabulary), `RecordFacts(record, as_of=...)`,
  `parse_rule(data)`, `evaluate(rule, facts, as_of=..., registry=...)`, `check(rule, registry)`,
  `Outcome`, `Truth` and the Kleene connectives `and_`, `or_`, `not_`, `at_least`
- errors: `ImnmError`, `InputError`, `RecordError`, `RuleError`, `KnowledgeError`, `Problem`
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from imnm.version import __version__

__all__ = [
    "REGISTRY",
    "ImnmError",
    "InputError",
    "KnowledgeError",
    "Outcome",
    "Problem",
    "Record",
    "RecordError",
    "RecordFacts",
    "RuleError",
    "Settings",
    "Truth",
    "__version__",
    "and_",
    "assess",
    "at_least",
    "check",
    "evaluate",
    "get_trial",
    "import_study",
    "list_trials",
    "load_patient",
    "load_record",
    "match_trials",
    "not_",
    "or_",
    "parse_patient",
    "parse_record",
    "parse_reviews",
    "parse_rule",
    "response",
    "services",
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
    "ImnmError": "imnm.errors",
    "InputError": "imnm.errors",
    "RecordError": "imnm.errors",
    "RuleError": "imnm.errors",
    "KnowledgeError": "imnm.errors",
    "Problem": "imnm.errors",
    **{
        name: "imnm.services"
        for name in (
            "assess",
            "response",
            "match_trials",
            "list_trials",
            "get_trial",
            "import_study",
            "parse_reviews",
            "load_patient",
            "parse_patient",
        )
    },
}

if TYPE_CHECKING:
    from imnm import services
    from imnm.core.evaluate import Outcome, check, evaluate
    from imnm.core.rules import parse_rule
    from imnm.core.truth import Truth, and_, at_least, not_, or_
    from imnm.errors import ImnmError, InputError, KnowledgeError, Problem, RecordError, RuleError
    from imnm.facts import RecordFacts
    from imnm.record.load import load_record, parse_record
    from imnm.record.model import Record
    from imnm.services import (
        assess,
        get_trial,
        import_study,
        list_trials,
        load_patient,
        match_trials,
        parse_patient,
        parse_reviews,
        response,
    )
    from imnm.settings import Settings
    from imnm.vocabulary import REGISTRY


def __getattr__(name: str) -> Any:
    """Import public names lazily, so the command line starts fast."""
    if name == "services":
        import importlib

        return importlib.import_module("imnm.services")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'imnm' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
