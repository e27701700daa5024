"""The public names of the package are exactly `imnm.__all__`, each importable (issue 10)."""

from __future__ import annotations

import subprocess
import sys

import imnm

PUBLIC = {
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
}


def test_all_is_exactly_the_public_api() -> None:
    assert set(imnm.__all__) == PUBLIC
    assert len(imnm.__all__) == len(set(imnm.__all__))


def test_every_public_name_resolves() -> None:
    for name in imnm.__all__:
        assert getattr(imnm, name) is not None, name


def test_the_services_and_errors_are_the_ones_exported() -> None:
    from imnm import errors, services

    assert imnm.services is services
    for name in ("assess", "response", "match_trials", "import_study", "list_trials", "get_trial"):
        assert getattr(imnm, name) is getattr(services, name)
    assert callable(imnm.services.screen) and callable(imnm.services.activity)
    assert imnm.InputError is errors.InputError and imnm.Problem is errors.Problem


def test_the_registry_is_complete_however_it_is_imported() -> None:
    """`import imnm; len(imnm.REGISTRY)` in a fresh interpreter gives the whole vocabulary."""
    from imnm.vocabulary import rows

    out = subprocess.run(
        [sys.executable, "-c", "import imnm; print(len(imnm.REGISTRY))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(out.stdout) == len(rows())
    derived = [s.name for s in imnm.REGISTRY.specs() if s.derived]
    assert "eular_acr.score" in derived and "enmc.subtype" in derived and "visit.mmt8_80" in derived
