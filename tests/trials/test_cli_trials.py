"""`imnm trials` run as a user would (a real subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import EXAMPLES
from tests.test_cli import imnm
from tests.trials.patients import imnm_patient, with_

TRIALS_DATA = Path(__file__).resolve().parent.parent / "data" / "trials"


def _record(tmp_path: Path, data: dict[str, object], name: str = "p.yaml") -> str:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return str(p)


def test_json_contract_and_ranking(tmp_path: Path) -> None:
    p = imnm("trials", _record(tmp_path, imnm_patient()), "--json", "--as-of", "2026-11-25")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    trials = out["trials"]
    for t in trials:
        for key in (
            "id",
            "verdict",
            "failed",
            "missing",
            "manual_review",
            "criteria",
            "recruiting",
            "checklist",
        ):
            assert key in t
    # ranking (issue 9 item 13): open trials first, closed ones apart at the end; within each group the
    # trials the patient may enter come before ineligible ones
    groups = {"open": 0, "not_open": 1, "closed": 2}
    keys = [(groups[t["group"]], t["verdict"] == "ineligible") for t in trials]
    assert keys == sorted(keys)
    assert all(
        t["group"] == "closed"
        for t in trials
        if t["status"] in ("COMPLETED", "TERMINATED", "WITHDRAWN", "UNKNOWN")
    )
    z = next(t for t in trials if t["id"] == "NCT04025632")
    assert z["verdict"] == "eligible" and z["status"] == "TERMINATED" and z["recruiting"] is False
    checklist = {i["assessment"]: i for i in z["checklist"]}
    assert checklist["ck"]["have"] is True and checklist["ck"]["date"] == "2026-11-20"
    assert checklist["antibodies"]["date"] == "2026-05-01"
    assert "biopsy" not in checklist  # no biopsy requirement in the posted criteria (trials.md §1.2)
    dazu = next(t for t in trials if t["id"] == "NCT05895786")
    assert dazu["verdict"] == "ineligible"
    assert "exc-1" in [f["id"] for f in dazu["failed"]]


def test_ck_800_text_output_names_the_criterion(tmp_path: Path) -> None:
    data = imnm_patient()
    data["labs"][0]["value"] = 800  # type: ignore[index]
    p = imnm("trials", _record(tmp_path, data), "--as-of", "2026-11-25", "--trial", "NCT04025632")
    assert p.returncode == 0, p.stderr
    assert "✘ NCT04025632 IMNM01: ineligible" in p.stdout
    assert "Creatine kinase (CK) of >1000 U/L at Screening" in p.stdout
    assert "800 U/L" in p.stdout
    assert "Decision support, not a diagnosis" in p.stdout


def test_reviews_file_settles_manual_items(tmp_path: Path) -> None:
    rec = _record(tmp_path, imnm_patient())
    before = json.loads(
        imnm("trials", rec, "--json", "--as-of", "2026-11-25", "--trial", "NCT05979441").stdout
    )
    assert before["trials"][0]["pending"] == "manual_review"
    reviews = {
        "reviews": [
            {
                "trial": "NCT05979441",
                "criterion": c,
                "met": c.startswith("inc"),
                "by": "Dr Test",
                "date": "2026-11-24",
            }
            for c in ("inc-1", "inc-2", "inc-3", "exc-1", "exc-2", "exc-3", "exc-4", "exc-5")
        ]
    }
    rv = tmp_path / "reviews.yaml"
    rv.write_text(yaml.safe_dump(reviews), encoding="utf-8")
    after = json.loads(
        imnm(
            "trials", rec, "--json", "--as-of", "2026-11-25", "--trial", "NCT05979441", "--reviews", str(rv)
        ).stdout
    )
    assert after["trials"][0]["verdict"] == "eligible"


def test_example_runs_in_text(tmp_path: Path) -> None:
    p = imnm("trials", str(EXAMPLES / "anti-hmgcr.yaml"), "--as-of", "2026-11-25")
    assert p.returncode == 0, p.stderr
    assert "Baseline checklist" in p.stdout


def test_bad_input_exits_2_without_traceback(tmp_path: Path) -> None:
    rec = _record(tmp_path, imnm_patient())
    for args in (
        ("trials", rec, "--trial", "NCT99999999"),
        ("trials", rec, "--as-of", "25/11/2026"),
        ("trials", str(tmp_path / "missing.yaml")),
        ("trials", _record(tmp_path, with_(imnm_patient(), "sex", "x"), "bad.yaml")),
        ("trials", "import", rec),
    ):
        p = imnm(*args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert "Traceback" not in p.stdout + p.stderr
    bad = tmp_path / "reviews.yaml"
    bad.write_text("reviews: [{trial: NCT05979441, criterion: inc-1, met: maybe}]", encoding="utf-8")
    p = imnm("trials", rec, "--reviews", str(bad))
    assert p.returncode == 2 and "reviews[0].met" in p.stderr


def test_import_writes_a_loadable_draft(tmp_path: Path) -> None:
    out = tmp_path / "draft.yaml"
    p = imnm(
        "trials",
        "import",
        str(TRIALS_DATA / "NCT05013879.ctgov-v2.trimmed.json"),
        "--out",
        str(out),
        "--json",
    )
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    assert (info["criteria"], info["encoded"], info["manual_review"]) == (18, 3, 15)
    from imnm.trials.load import load_trial

    trial = load_trial(out)
    assert trial.draft and len(trial.exclusion) == 12
    text = imnm(
        "trials",
        "import",
        str(TRIALS_DATA / "NCT04025632.transcribed-v2.json"),
        "-o",
        str(tmp_path / "z.yaml"),
    )
    assert text.returncode == 0 and "13 encoded, 0 need manual review" in text.stdout


def test_list() -> None:
    p = imnm("trials", "list", "--json")
    assert p.returncode == 0
    assert len(json.loads(p.stdout)["trials"]) == 23  # 19 from trials.md, 4 from trials-2026.md (issue 16)


def test_schema() -> None:
    p = imnm("trials", "schema")
    assert p.returncode == 0
    schema = json.loads(p.stdout)
    assert {"inclusion", "exclusion", "cohorts", "source"} <= set(schema["properties"])


def test_screening_window_option(tmp_path: Path) -> None:
    data = imnm_patient()
    data["labs"][0]["date"] = "2026-10-01"  # type: ignore[index]
    rec = _record(tmp_path, data)
    args = ("trials", rec, "--json", "--as-of", "2026-11-25", "--trial", "NCT04025632")
    default = json.loads(imnm(*args).stdout)
    assert default["trials"][0]["verdict"] == "needs_information"
    assert default["settings"]["screening_window"] == "30d"
    wide = json.loads(imnm(*args, "--screening-window", "60d").stdout)
    assert wide["trials"][0]["verdict"] == "eligible"
    assert wide["settings"]["screening_window"] == "60d"
    bad = imnm(*args, "--screening-window", "two months")
    assert bad.returncode == 2 and "--screening-window" in bad.stdout + bad.stderr
