"""The command line: exit codes, JSON, no tracebacks (run in process; `test_cli_smoke.py` runs every
command once as a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import DATA, EXAMPLES, ROOT, CliResult, run_cli

IMNM = [sys.executable, "-m", "imnm.cli.main"]


def imnm(*args: str) -> CliResult:
    return run_cli(*args)


def imnm_process(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`imnm ARGS...` as a real subprocess (what a user runs)."""
    return subprocess.run([*IMNM, *args], capture_output=True, text=True, cwd=ROOT, timeout=60, input=stdin)


def test_validate_example_ok() -> None:
    p = imnm("validate", str(EXAMPLES / "anti-hmgcr.yaml"))
    assert p.returncode == 0, p.stderr
    assert "valid" in p.stdout


def test_validate_reports_all_four_problems_and_exits_2() -> None:
    p = imnm("validate", str(DATA / "invalid-four-problems.yaml"))
    assert p.returncode == 2
    assert "Traceback" not in p.stderr + p.stdout
    for needle in (
        "labs[0].value",
        "labs[1].unit: 'mg' is not a unit for CK",
        "labs[1].date",
        "sympton_onset",
    ):
        assert needle in p.stderr
    j = imnm(
        "validate", "--json", str(DATA / "invalid-four-problems.yaml"), str(EXAMPLES / "anti-hmgcr.yaml")
    )
    assert j.returncode == 2
    data = json.loads(j.stdout)
    assert data["ok"] is False
    assert len(data["files"][0]["problems"]) == 4 and data["files"][1]["ok"] is True


def test_validate_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    p = imnm("validate", str(tmp_path / "nope.yaml"))
    assert p.returncode == 2 and "file not found" in p.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nlabs: [\n")
    p = imnm("validate", str(bad))
    assert p.returncode == 2 and "not valid YAML" in p.stderr and "Traceback" not in p.stderr


def test_schema_is_json_schema() -> None:
    p = imnm("schema")
    assert p.returncode == 0
    schema = json.loads(p.stdout)
    assert schema["title"] == "Record" and "labs" in schema["properties"]
    r = imnm("schema", "rule")
    assert r.returncode == 0 and "$defs" in json.loads(r.stdout)


def test_facts_json_and_default_uln(tmp_path: Path) -> None:
    p = imnm("facts", str(EXAMPLES / "anti-hmgcr.yaml"), "--as-of", "2026-11-25", "--json")
    assert p.returncode == 0
    facts = json.loads(p.stdout)["facts"]
    assert facts["age_at_onset"][0]["value"] == 62.0
    assert facts["antibody.SRP"][0]["value"] == "negative"
    assert facts["findings.dark_urine"] is None
    rec = tmp_path / "r.yaml"
    rec.write_text("id: r\nsex: female\nlabs:\n  - {test: ck, value: 3400, unit: U/L}\n")
    p = imnm("facts", str(rec), "--json", "--default-uln", "by_sex_common_lab")
    fold = json.loads(p.stdout)["facts"]["lab.ck.fold"][0]
    assert fold["value"] == 20.0 and "default 170 U/L assumed" in fold["note"]
    bad = imnm("facts", str(rec), "--default-uln", "whatever")
    assert bad.returncode == 2 and "--default-uln" in bad.stderr
    bad = imnm("facts", str(rec), "--as-of", "25/11/2026")
    assert bad.returncode == 2 and "--as-of" in bad.stderr


def test_rule_command(tmp_path: Path) -> None:
    rule = tmp_path / "rule.yaml"
    rule.write_text(
        "all:\n"
        "  - compare: {fact: lab.ck.fold, op: '>', value: 10, unit: xULN, select: max}\n"
        "  - compare: {fact: antibody.HMGCR, op: '==', value: positive}\n"
        "  - compare: {fact: antibody.SRP, op: '==', value: positive}\n"
    )
    p = imnm("rule", str(rule), str(EXAMPLES / "anti-hmgcr.yaml"), "--json", "--as-of", "2026-11-25")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["truth"] == "not_met"
    bad = tmp_path / "bad.yaml"
    bad.write_text("compare: {fact: lab.ckk, op: '>', value: 10, unit: U/L}\n")
    p = imnm("rule", str(bad), str(EXAMPLES / "anti-hmgcr.yaml"))
    assert p.returncode == 2 and "did you mean 'lab.ck'" in p.stderr


def test_help_lists_commands() -> None:
    p = imnm("--help")
    assert p.returncode == 0
    for cmd in ("validate", "schema", "facts", "rule"):
        assert cmd in p.stdout
