"""The record format: the issue's example loads as written; errors name path, value and fix."""

from __future__ import annotations

import json
from datetime import date

import pytest

from imnm.errors import RecordError
from imnm.facts import RecordFacts
from imnm.io.yaml import read_document
from imnm.record.load import load_record, parse_record
from imnm.settings import Settings
from tests.conftest import AS_OF, DATA, EXAMPLES


def test_example_loads_as_written(example_record) -> None:  # type: ignore[no-untyped-def]
    rec = example_record
    assert rec.id == "example-anti-hmgcr"
    assert rec.birth_date == date(1961, 5, 2)
    assert rec.exposures.statin is not None and rec.exposures.statin.status == "past"
    assert rec.exposures.red_yeast_rice is not None and rec.exposures.red_yeast_rice.status == "never"
    assert rec.labs is not None and len(rec.labs) == 5
    assert rec.biopsy is not None and rec.biopsy.necrotic_fibers == "prominent"
    assert rec.visits is not None and rec.visits[1].mmt8 is not None and rec.visits[1].mmt8.total == 70


def test_yaml_and_json_have_the_same_shape(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = read_document(EXAMPLES / "anti-hmgcr.yaml")
    p = tmp_path / "r.json"
    p.write_text(json.dumps(data))
    assert load_record(p) == load_record(EXAMPLES / "anti-hmgcr.yaml")


def test_four_problems_reported_at_once() -> None:
    with pytest.raises(RecordError) as info:
        load_record(DATA / "invalid-four-problems.yaml")
    got = {p.path: p for p in info.value.problems}
    assert set(got) == {"labs[0].value", "labs[1].unit", "labs[1].date", "sympton_onset"}
    assert got["labs[0].value"].value == -5
    assert "'mg' is not a unit for CK" in got["labs[1].unit"].message
    assert "U/L" in (got["labs[1].unit"].fix or "") and "ukat/L" in (got["labs[1].unit"].fix or "")
    assert "2024-13-01" in got["labs[1].date"].message
    assert "symptom_onset" in (got["sympton_onset"].fix or "")


@pytest.mark.parametrize(
    ("patch", "path", "needle"),
    [
        ({"sex": "f"}, "sex", "not allowed"),
        ({"birth_date": "02/05/1961"}, "birth_date", "ISO date"),
        ({"birth_date": 19610502}, "birth_date", "ISO date"),
        ({"labs": [{"test": "ck", "value": "7000", "unit": "U/L"}]}, "labs[0].value", "expected a number"),
        ({"labs": [{"test": "ck", "value": True, "unit": "U/L"}]}, "labs[0].value", "expected a number"),
        ({"labs": [{"test": "cpk", "value": 1.0, "unit": "U/L"}]}, "labs[0].test", "not a lab test"),
        ({"findings": {"dysphagia": "yes"}}, "findings.dysphagia", "true or false"),
        ({"antibodies": [{"target": "HMGCRX", "result": "positive"}]}, "antibodies[0].target", "not a known"),
        ({"biopsy": {"performed": False, "rimmed_vacuoles": True}}, "biopsy", "performed is false"),
        (
            {"visits": [{"date": "2024-01-01", "mmt8": {"total": 90, "scale": 80}}]},
            "visits[0].mmt8",
            "above the scale",
        ),
        (
            {"visits": [{"date": "2024-01-01", "physician_global": 11}]},
            "visits[0].physician_global",
            "out of range",
        ),
        (
            {"exposures": {"statin": {"status": "current", "stop": "2024-01-01"}}},
            "exposures.statin",
            "current",
        ),
    ],
)
def test_bad_values_are_named_with_a_fix(patch: dict, path: str, needle: str) -> None:
    with pytest.raises(RecordError) as info:
        parse_record({"id": "x", **patch})
    problems = info.value.problems
    assert [p.path for p in problems] == [path]
    assert needle in problems[0].message
    assert problems[0].fix


def test_omitted_means_unknown_not_false() -> None:
    rec = parse_record({"id": "x", "findings": {"dysphagia": None}})
    facts = RecordFacts(rec, as_of=AS_OF)
    assert facts.get("findings.dysphagia") is None
    assert facts.get("findings.heliotrope_rash") is None
    assert facts.get("lab.ck") is None
    assert facts.get("medication.rituximab") is None  # no medication list: unknown
    rec2 = parse_record({"id": "x", "medications": []})
    assert RecordFacts(rec2, as_of=AS_OF).get("medication.rituximab") == ()  # recorded: none


def test_ck_fold_uses_the_reporting_labs_uln_and_units(example_record) -> None:  # type: ignore[no-untyped-def]
    facts = RecordFacts(example_record, as_of=AS_OF)
    ck = facts.get("lab.ck")
    fold = facts.get("lab.ck.fold")
    assert ck is not None and fold is not None
    # 35 µkat/L × 60 = 2100 U/L; 35 / 3.3 ULN = 10.606
    assert [o.value for o in ck] == [7000.0, 8000.0, 2100.0]
    assert [o.value for o in fold] == [35.0, 40.0, pytest.approx(35 / 3.3, abs=1e-3)]


def test_missing_uln_gives_a_fold_range_unless_another_policy_is_chosen() -> None:
    from imnm.core.facts import NumRange

    rec = parse_record({"id": "x", "sex": "male", "labs": [{"test": "ck", "value": 3800.0, "unit": "U/L"}]})
    # default (issue 9 item 6): the documented adult ULNs 135-810 U/L (ck.yaml, clinical.md §5.1)
    ranged = RecordFacts(rec, as_of=AS_OF).get("lab.ck.fold")
    assert ranged is not None and ranged[0].value == NumRange(round(3800 / 810, 3), round(3800 / 135, 3))
    assert ranged[0].note and "135 U/L" in ranged[0].note and "810 U/L" in ranged[0].note
    none = Settings(default_uln="none")
    assert RecordFacts(rec, as_of=AS_OF, settings=none).get("lab.ck.fold") is None
    fold = RecordFacts(rec, as_of=AS_OF, settings=Settings(default_uln="by_sex_common_lab")).get(
        "lab.ck.fold"
    )
    assert fold is not None and fold[0].value == 20.0  # 3800 / 190 (men, [S80])
    assert fold[0].note and "default 190 U/L assumed" in fold[0].note
    flat = RecordFacts(rec, as_of=AS_OF, settings=Settings(default_uln="flat_200")).get("lab.ck.fold")
    assert flat is not None and flat[0].value == 19.0
    unknown_sex = parse_record({"id": "x", "labs": [{"test": "ck", "value": 3800.0, "unit": "U/L"}]})
    by_sex = Settings(default_uln="by_sex_common_lab")
    assert RecordFacts(unknown_sex, as_of=AS_OF, settings=by_sex).get("lab.ck.fold") is None


def test_age_at_onset_from_dates_or_explicit() -> None:
    rec = parse_record({"id": "x", "birth_date": "1961-05-02", "symptom_onset": "2024-01-10"})
    assert RecordFacts(rec, as_of=AS_OF).get("age_at_onset")[0].value == 62.0  # type: ignore[index]
    rec = parse_record({"id": "x", "birth_date": "1961-05-02", "symptom_onset": "2024-05-02"})
    assert rec.onset_age() == 63.0  # birthday on the day of onset counts
    rec = parse_record({"id": "x", "age_at_onset": 45})
    assert RecordFacts(rec, as_of=AS_OF).get("age_at_onset")[0].value == 45.0  # type: ignore[index]
    with pytest.raises(RecordError):
        parse_record(
            {"id": "x", "birth_date": "1961-05-02", "symptom_onset": "2024-01-10", "age_at_onset": 30}
        )
    assert RecordFacts(parse_record({"id": "x"}), as_of=AS_OF).get("age_at_onset") is None
