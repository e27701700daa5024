"""Implausible values and impossible dates are errors, not results (issue 9 item 7); every problem
of a record comes at once, field and cross-field alike (item 22); a misspelt field gets the nearest
field by meaning (item 22); non-finite numbers never reach the work-up (item 24).

Expected values are written by hand from the issue and from the published reference limits in
clinical.md §5.1 (CK upper limits 135–810 U/L; 1 µkat/L = 60 U/L).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from imnm import knowledge
from imnm.errors import RecordError
from imnm.record.checks import check_as_of, override_notes
from imnm.record.load import load_record, parse_record
from tests.conftest import EXAMPLES


def problems(data: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(RecordError) as info:
        parse_record({"id": "t", **data})
    return {p.path: p for p in info.value.problems}


def ck(value: float, unit: str = "U/L", uln: float | None = 200, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"test": "ck", "value": value, "unit": unit, **extra}
    if uln is not None:
        out["uln"] = uln
    return out


# ------------------------------------------------------------------ plausibility (item 7)


def test_ck_9000_ukat_per_litre_is_refused() -> None:
    got = problems({"labs": [ck(9000, "ukat/L", uln=3.3)]})  # = 540 000 U/L
    p = got["labs[0].value"]
    assert "540000" in p.message.replace(",", "").replace(" ", "")
    assert "overrides" in (p.fix or "")


def test_uln_in_the_wrong_unit_is_refused_with_the_likely_unit() -> None:
    got = problems({"labs": [ck(9000, "U/L", uln=3.3)]})  # would read as 2727 x ULN
    p = got["labs[0].uln"]
    assert "3.3" in p.message
    assert "ukat/L" in (p.fix or "") and "198" in (p.fix or "")  # 3.3 µkat/L = 198 U/L


@pytest.mark.parametrize(
    ("lab", "path"),
    [
        ({"test": "ck", "value": 7000, "unit": "U/L", "uln": 20000}, "labs[0].uln"),
        ({"test": "aldolase", "value": 21, "unit": "U/L", "uln": 760}, "labs[0].uln"),
        ({"test": "tsh", "value": 50000, "unit": "mIU/L", "uln": 4.5}, "labs[0].value"),
        ({"test": "crp", "value": 5, "unit": "mg/L", "uln": 5, "lln": 8}, "labs[0].lln"),
    ],
)
def test_values_and_limits_outside_the_documented_limits(lab: dict[str, Any], path: str) -> None:
    assert path in problems({"labs": [lab]})


def test_every_published_ck_uln_is_plausible() -> None:
    """The ULN envelope must hold every reference limit the knowledge tables cite (ck.yaml)."""
    labs = knowledge.load("labs")["tests"]
    limits = labs["ck"]["plausible"]
    published = []
    for row in knowledge.load("ck")["reference_limits"]["rows"]:
        for lim in row["limits"]:
            for key in ("uln_u_per_l", "uln", "uln_min", "uln_max"):
                if key in lim and (key == "uln_u_per_l" or lim.get("unit") == "U/L"):
                    published.append(float(lim[key]))
    assert min(published) == 135 and max(published) == 810
    assert limits["uln_min"] <= min(published) and max(published) <= limits["uln_max"]
    for test, row in labs.items():
        block = row["plausible"]
        assert block.get("source") and block.get("mark") in ("✅", "☑️", "⚠️", "❗"), test


def test_bundled_examples_are_plausible() -> None:
    for f in sorted(EXAMPLES.glob("*.yaml")):
        load_record(f)


def test_an_override_accepts_the_value_and_is_named() -> None:
    rec = parse_record(
        {
            "id": "t",
            "labs": [ck(7000), ck(9000, "ukat/L", uln=3.3)],
            "overrides": [
                {"path": "labs[1].value", "reason": "confirmed by the lab: extreme rhabdomyolysis"}
            ],
        }
    )
    notes = override_notes(rec)
    assert len(notes) == 1
    assert "labs[1].value" in notes[0] and "extreme rhabdomyolysis" in notes[0]


@pytest.mark.parametrize(
    ("override", "path"),
    [
        ({"path": "labs[5].value", "reason": "x"}, "overrides[0].path"),
        ({"path": "labs[0].valu", "reason": "x"}, "overrides[0].path"),
        ({"path": "labs[0].value", "reason": ""}, "overrides[0].reason"),
        ({"path": "labs[0].value"}, "overrides[0].reason"),
    ],
)
def test_overrides_are_validated(override: dict[str, Any], path: str) -> None:
    assert path in problems({"labs": [ck(7000)], "overrides": [override]})


def test_an_override_for_one_value_does_not_hide_another() -> None:
    got = problems(
        {
            "labs": [ck(9000, "ukat/L", uln=3.3), ck(9000, "U/L", uln=3.3)],
            "overrides": [{"path": "labs[0].value", "reason": "checked"}],
        }
    )
    assert set(got) == {"labs[1].uln"}


# ------------------------------------------------------------------ dates (item 7)


def test_every_dated_pair_is_checked_at_once() -> None:
    got = problems(
        {
            "birth_date": "1961-05-02",
            "symptom_onset": "1960-01-10",
            "labs": [ck(7000, date="1950-01-01")],
            "exposures": {"statin": {"status": "past", "start": "2020-01-01", "stop": "2019-01-01"}},
            "medications": [{"name": "prednisone", "start": "2024-04-10", "stop": "2024-04-01"}],
            "infections": [{"date": "2024-02-01", "resolved": "2024-01-01"}],
            "coverage": {"medications": [{"start": "2024-01-01", "end": "2023-01-01"}]},
        }
    )
    assert set(got) == {
        "symptom_onset",
        "labs[0].date",
        "exposures.statin.stop",
        "medications[0].stop",
        "infections[0].resolved",
        "coverage.medications[0].end",
    }
    assert "before birth_date" in got["symptom_onset"].message


def test_dates_far_outside_a_lifetime_are_refused() -> None:
    got = problems({"birth_date": "1776-07-04", "labs": [ck(7000, date="9999-12-31")]})
    assert {"birth_date", "labs[0].date"} <= set(got)


def test_check_as_of_refuses_onset_diagnosis_and_birth_after_the_evaluation_date() -> None:
    rec = parse_record(
        {
            "id": "t",
            "birth_date": "1961-05-02",
            "symptom_onset": "2025-03-01",
            "diagnosis_date": "2025-06-01",
            "labs": [ck(7000, date="2025-09-01")],
        }
    )
    assert check_as_of(rec, date(2025, 12, 31)) == []
    late = check_as_of(rec, date(2025, 4, 1))
    assert {p.path for p in late} == {"diagnosis_date"}  # the lab after as_of is simply ignored
    assert {p.path for p in check_as_of(rec, date(2025, 1, 1))} == {"symptom_onset", "diagnosis_date"}
    assert {p.path for p in check_as_of(rec, date(1960, 1, 1))} == {
        "birth_date",
        "symptom_onset",
        "diagnosis_date",
    }
    p = next(p for p in late if p.path == "diagnosis_date")
    assert "2025-06-01" in p.message and "2025-04-01" in p.message and p.fix


def test_check_as_of_respects_an_override() -> None:
    rec = parse_record(
        {
            "id": "t",
            "symptom_onset": "2025-03-01",
            "overrides": [{"path": "symptom_onset", "reason": "evaluating an earlier snapshot on purpose"}],
        }
    )
    assert check_as_of(rec, date(2025, 1, 1)) == []


# ------------------------------------------------------------------ non-finite numbers (item 24)


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), float("-inf")])
def test_non_finite_numbers_from_any_adapter_are_refused(bad: float) -> None:
    got = problems({"labs": [ck(bad)], "weight_kg": bad})
    assert "finite" in got["labs[0].value"].message and "weight_kg" in got
    got = problems({"labs": [ck(7000, uln=bad)]})
    assert "labs[0].uln" in got


# ------------------------------------------------------------------ every problem at once (item 22)


def test_field_and_cross_field_problems_come_together(tmp_path: Path) -> None:
    f = tmp_path / "both.yaml"
    f.write_text(
        "id: both\n"
        "birth_date: 1961-05-02\n"
        "symptom_onset: 1959-01-10\n"  # cross-field: before birth
        "findings: {thigh_weakness: true}\n"  # misspelt by meaning
        "labs:\n"
        "  - {test: ck, value: '7000', unit: U/L, uln: 200}\n"  # field: a string
        "  - {test: ck, value: 9000, unit: U/L, uln: 3.3}\n"  # cross-field: ULN in µkat/L
        "medications:\n"
        "  - {name: prednisone, dose_mg_per_day: forty, start: 2024-04-10, stop: 2024-04-01}\n"
        "visits:\n"
        "  - {date: 2024-13-01, haq_di: 2.5, haq: {dressing: {items: [0, 0]}, arising: {items: [0]},"
        " eating: {items: [0]}, walking: {items: [0]}, hygiene: {items: [0]}, reach: {items: [0]}}}\n",
        encoding="utf-8",
    )
    with pytest.raises(RecordError) as info:
        load_record(f)
    got = {p.path: p for p in info.value.problems}
    assert set(got) == {
        "symptom_onset",
        "findings.thigh_weakness",
        "labs[0].value",
        "labs[1].uln",
        "medications[0].dose_mg_per_day",
        "medications[0].stop",
        "visits[0].date",
        "visits[0]",
    }
    assert "disagrees" in got["visits[0]"].message


@pytest.mark.parametrize(
    ("where", "key", "hint"),
    [
        ("findings", "thigh_weakness", "proximal_weakness_lower"),
        ("findings", "shoulder_weakness", "proximal_weakness_upper"),
        ("findings", "trouble_swallowing", "dysphagia"),
        ("findings", "short_of_breath", "dyspnea"),
        ("history", "family_history", "family_history_muscle_disease"),
        (None, "dysphagia", "findings.dysphagia"),
        (None, "statin", "exposures.statin"),
        (None, "dob", "birth_date"),
    ],
)
def test_misspelt_fields_get_the_nearest_field_by_meaning(where: str | None, key: str, hint: str) -> None:
    data = {where: {key: True}} if where else {key: True}
    got = problems(data)
    path = f"{where}.{key}" if where else key
    assert f"'{hint}'" in (got[path].fix or ""), got[path].fix


# ------------------------------------------------------------------ the command line names overrides


def _run(*args: str) -> Any:
    import subprocess
    import sys

    from tests.conftest import ROOT

    return subprocess.run(
        [sys.executable, "-m", "imnm.cli.main", *args], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def test_cli_refuses_implausible_values_and_names_overrides(tmp_path: Path) -> None:
    f = tmp_path / "r.yaml"
    f.write_text("id: r\nlabs:\n  - {test: ck, value: 9000, unit: ukat/L, uln: 3.3, date: 2024-03-01}\n")
    p = _run("validate", str(f))
    assert p.returncode == 2 and "labs[0].value" in p.stderr and "Traceback" not in p.stderr
    f.write_text(f.read_text() + "overrides:\n  - {path: 'labs[0].value', reason: 'lab confirmed'}\n")
    p = _run("validate", str(f))
    assert p.returncode == 0, p.stderr
    assert "override: labs[0].value = 9000 accepted by override: lab confirmed" in p.stdout
    j = _run("facts", str(f), "--as-of", "2025-01-01", "--json")
    assert j.returncode == 0 and "lab confirmed" in j.stdout


def test_cli_refuses_onset_after_as_of_and_huge_as_of(tmp_path: Path) -> None:
    f = tmp_path / "r.yaml"
    f.write_text("id: r\nsymptom_onset: 2025-03-01\n")
    p = _run("facts", str(f), "--as-of", "2025-01-01")
    assert p.returncode == 2 and "symptom_onset 2025-03-01 is after the evaluation date" in p.stderr
    assert _run("facts", str(f), "--as-of", "2025-06-01").returncode == 0
    p = _run("facts", str(f), "--as-of", "9999-12-31")
    assert p.returncode == 2 and "--as-of" in p.stderr


def test_synthetic_records_are_plausible() -> None:
    """The benchmark's generator must pass the same checks as a user's record."""
    import random

    from imnm.synthetic import synthetic_record

    rng = random.Random(42)
    for i in range(2000):
        parse_record(synthetic_record(rng, i))
