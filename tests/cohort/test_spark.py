"""`--engine spark`: the same compiled plan on a local SparkSession gives the same cells as DuckDB.

`make test` runs one real case (Synthea27Nj, one trial: MIGHT, NCT06599697); the whole catalog on the
generated set is the slow suite (`-m slow`): Spark's planner takes minutes on the full plan."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cohort.agreement import sql_cells
from tests.cohort.conftest import AS_OF, SYNTHEA_AS_OF

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
# py4j leaves the sockets of toLocalIterator to the garbage collector (its own ResourceWarning)
pytestmark = [
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]


@pytest.fixture(scope="module", autouse=True)
def _stop_spark() -> object:
    yield
    from pyspark.sql import SparkSession

    s = SparkSession.getActiveSession()
    if s is not None:
        s.stop()


def test_spark_equals_duckdb_one_trial(synthea27nj: Path) -> None:
    from imnm.adapters.omop.source import unpack_zip

    folder = unpack_zip(synthea27nj)  # Spark reads the unpacked CSVs (the archive is left as it is)
    trials = ("NCT06599697",)
    duck = sql_cells(folder, SYNTHEA_AS_OF, coverage="observation_periods", with_docs=False, trials=trials)
    spark = sql_cells(
        folder, SYNTHEA_AS_OF, coverage="observation_periods", with_docs=False, trials=trials, engine="spark"
    )
    assert len(duck.sql) == 28
    assert spark.sql == duck.sql


@pytest.mark.slow
def test_spark_equals_duckdb_whole_catalog(synth_small: Path) -> None:
    duck = sql_cells(synth_small, AS_OF, coverage="observation_periods", with_docs=False)
    spark = sql_cells(synth_small, AS_OF, coverage="observation_periods", with_docs=False, engine="spark")
    assert spark.sql == duck.sql
