"""`imnm cohort ...` on real and generated OMOP data: outputs, formats, inputs and clear errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.cohort.conftest import AS_OF, SYNTHEA_AS_OF


def imnm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imnm.cli.main", *args], capture_output=True, text=True, timeout=600
    )


def test_screen_json_and_parquet(synthea27nj: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    p = imnm(
        "cohort",
        "screen",
        str(synthea27nj),
        "--as-of",
        SYNTHEA_AS_OF.isoformat(),
        "--out",
        str(out),
        "--json",
    )
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    groups = sum(1 for _ in s["trials"])
    assert s["persons"] == 28 and s["rows"] == 28 * groups
    assert sum(t["eligible"] + t["needs_information"] + t["ineligible"] for t in s["trials"]) == s["rows"]
    assert s["data_quality"]["lab_range_high_null"] == s["data_quality"]["lab_rows"]  # trap 2: no range_high
    assert "pft.fvc_percent" in s["facts_without_omop_source"]
    rows = (
        duckdb.connect().execute(f"SELECT verdict, COUNT(*) FROM read_parquet('{out}') GROUP BY 1").fetchall()
    )
    assert sum(n for _v, n in rows) == s["rows"]


@pytest.mark.parametrize("ext", ["csv", "jsonl"])
def test_screen_other_formats_one_trial(synth_small: Path, tmp_path: Path, ext: str) -> None:
    out = tmp_path / f"r.{ext}"
    p = imnm(
        "cohort",
        "screen",
        str(synth_small),
        "--trial",
        "NCT06599697",
        "--as-of",
        AS_OF.isoformat(),
        "--out",
        str(out),
        "--json",
    )
    assert p.returncode == 0, p.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == 600 + (1 if ext == "csv" else 0)
    if ext == "jsonl":
        row = json.loads(lines[0])
        assert set(row) >= {"person_id", "trial", "verdict", "failed", "missing", "tests"}


def test_cases_and_text_output(synth_small: Path) -> None:
    p = imnm("cohort", "cases", str(synth_small), "--as-of", AS_OF.isoformat(), "--json")
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["tests_to_order"] == ["anti_hmgcr", "anti_srp"] and s["settings"]["ck_fold_n"] == "3"
    t = imnm("cohort", "cases", str(synth_small), "--as-of", AS_OF.isoformat(), "--ck-fold", "5")
    assert t.returncode == 0 and "Case finding" in t.stdout and "not a diagnosis" in t.stdout


def test_record_is_a_valid_record_with_refs_and_coverage(synthea27nj: Path, tmp_path: Path) -> None:
    from imnm.record.load import parse_record

    p = imnm("cohort", "record", str(synthea27nj), "4", "--as-of", SYNTHEA_AS_OF.isoformat())
    assert p.returncode == 0, p.stderr
    doc = yaml.safe_load(p.stdout)
    rec = parse_record(doc)
    assert rec.id == "4" and rec.coverage is not None and rec.coverage.medications
    assert all(m.ref and m.ref.startswith("drug_exposure/") for m in rec.medications or [])
    f = tmp_path / "p4.yaml"
    assert (
        imnm(
            "cohort", "record", str(synthea27nj), "4", "--as-of", SYNTHEA_AS_OF.isoformat(), "-o", str(f)
        ).returncode
        == 0
    )
    assert (
        imnm("trials", str(f), "--as-of", SYNTHEA_AS_OF.isoformat(), "--json").returncode == 0
    )  # every other command runs on it


def test_synth_is_seeded(tmp_path: Path) -> None:
    a = imnm("cohort", "synth", "--persons", "300", "--out", str(tmp_path / "a"), "--seed", "3", "--json")
    b = imnm("cohort", "synth", "--persons", "300", "--out", str(tmp_path / "b"), "--seed", "3", "--json")
    assert a.returncode == 0 and b.returncode == 0
    con = duckdb.connect()
    q = "SELECT SUM(hash(person_id, measurement_id, value_as_number, measurement_date)) FROM read_parquet('{}')"
    assert (
        con.execute(q.format(tmp_path / "a" / "measurement.parquet")).fetchall()
        == con.execute(q.format(tmp_path / "b" / "measurement.parquet")).fetchall()
    )


def test_either_case_of_table_names_and_a_duckdb_file(
    synthea27nj: Path, synth_small: Path, tmp_path: Path
) -> None:
    from imnm.adapters.omop.source import unpack_zip

    lower = tmp_path / "lower"
    lower.mkdir()
    for f in unpack_zip(synthea27nj).iterdir():
        if f.suffix == ".csv":
            shutil.copy(f, lower / f.name.lower())
    p = imnm(
        "cohort",
        "screen",
        str(lower),
        "--trial",
        "NCT06599697",
        "--as-of",
        SYNTHEA_AS_OF.isoformat(),
        "--json",
    )
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["persons"] == 28
    db = tmp_path / "omop.duckdb"
    con = duckdb.connect(str(db))
    for f in synth_small.glob("*.csv"):
        con.execute(f"CREATE TABLE {f.stem.upper()} AS SELECT * FROM read_csv('{f}')")
    con.close()
    p = imnm("cohort", "screen", str(db), "--trial", "NCT06599697", "--as-of", AS_OF.isoformat(), "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["persons"] == 600


@pytest.mark.parametrize(
    "args,needle",
    [
        (["cohort", "screen", "/no/such/folder"], "no such file or folder"),
        (["cohort", "screen", "{synth}", "--out", "x.xlsx"], "no known extension"),
        (["cohort", "screen", "{synth}", "--trial", "NCT00000000"], "not in the catalog"),
        (["cohort", "screen", "{synth}", "--engine", "oracle"], "not an engine"),
        (["cohort", "cases", "{synth}", "--ck-fold", "7"], "not an option"),
        (["cohort", "record", "{synth}", "999999"], "no person 999999"),
    ],
)
def test_bad_input_is_a_clear_error(synth_small: Path, args: list[str], needle: str) -> None:
    p = imnm(*[a.replace("{synth}", str(synth_small)) for a in args], "--json")
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert needle in p.stdout
