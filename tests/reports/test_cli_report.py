"""`imnm report` on the command line: PDF or HTML by the output name, --json, every input kind (record,
FHIR bundle, screener answers) and clear errors (exit 2) for bad options."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import EXAMPLES, run_cli
from tests.reports.helpers import pdfinfo
from tests.shared import shared

HMGCR = str(EXAMPLES / "anti-hmgcr.yaml")
ANSWERS = str(EXAMPLES / "screener" / "answers.yaml")


def test_pdf_with_json_summary(tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    r = run_cli("report", HMGCR, "--as-of", "2026-11-25", "-o", str(out), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    info = json.loads(r.stdout)
    assert info["file"] == str(out) and info["format"] == "pdf" and info["kind"] == "clinician"
    assert info["bytes"] == out.stat().st_size
    assert info["pages"] == int(pdfinfo(out.read_bytes())["Pages"])
    assert info["contents"]["enmc_224"] == "Anti-HMGCR myopathy"
    assert "activity" in info["sections"] and "trials" in info["sections"]
    assert out.read_bytes().startswith(b"%PDF-")
    assert not list(tmp_path.glob(".*.tmp"))


def test_html_letter_patient_and_text_output(tmp_path: Path) -> None:
    out = tmp_path / "summary.html"
    r = run_cli(
        "report",
        HMGCR,
        "--for",
        "patient",
        "--share",
        "diagnosis",
        "--paper",
        "letter",
        "--as-of",
        "2026-11-25",
        "-o",
        str(out),
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"written to {out}" in r.stdout
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "size: letter" in html
    assert "necrotizing myositis" in html


def test_screener_answers_give_a_patient_summary(tmp_path: Path) -> None:
    out = tmp_path / "answers.pdf"
    r = run_cli("report", ANSWERS, "--for", "patient", "--as-of", "2026-11-25", "-o", str(out), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["contents"] == {"level": "soon"}
    r = run_cli("report", ANSWERS, "--as-of", "2026-11-25", "-o", str(tmp_path / "c.pdf"))
    assert r.returncode == 2
    assert "screener answers file" in r.stderr and "--for patient" in r.stderr


def test_a_fhir_bundle(tmp_path: Path) -> None:
    bundle = shared("data", "fhir", "synthea-r4-Alejandro_Riojas.json")
    out = tmp_path / "fhir.html"
    r = run_cli("report", str(bundle), "--as-of", "2026-11-25", "-o", str(out), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "829bb06a-42b9-433d-a8f6-560727c63da9" in out.read_text(encoding="utf-8")


def test_bad_options_are_listed_together(tmp_path: Path) -> None:
    r = run_cli(
        "report",
        HMGCR,
        "--for",
        "nurse",
        "--paper",
        "a5",
        "--share",
        "everything",
        "-o",
        str(tmp_path / "x.txt"),
    )
    assert r.returncode == 2
    for needle in (
        "'x.txt' is not a .pdf or .html",
        "'nurse' is not a report kind",
        "'a5' is not a paper size",
        "'everything' is not something to share",
    ):
        assert needle in r.stderr, needle
    assert "Traceback" not in r.stderr


def test_never_overwrites_without_being_asked(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    out.write_text("keep me", encoding="utf-8")
    r = run_cli("report", HMGCR, "--as-of", "2026-11-25", "-o", str(out))
    assert r.returncode == 2 and "--overwrite" in r.stderr
    assert out.read_text(encoding="utf-8") == "keep me"
    r = run_cli("report", HMGCR, "--as-of", "2026-11-25", "-o", str(out), "--overwrite")
    assert r.returncode == 0 and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_missing_file_and_bad_record(tmp_path: Path) -> None:
    r = run_cli("report", str(tmp_path / "nope.yaml"), "-o", str(tmp_path / "r.pdf"))
    assert r.returncode == 2 and "file not found" in r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nlabs:\n  - {test: ck, value: '7000', unit: U/L}\n", encoding="utf-8")
    r = run_cli("report", str(bad), "-o", str(tmp_path / "r.pdf"))
    assert r.returncode == 2 and "labs[0].value" in r.stderr
    r = run_cli("report", HMGCR, "--as-of", "1960-01-01", "-o", str(tmp_path / "r.pdf"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
