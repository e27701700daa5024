"""Baseline checklist: what each trial asks for and what the patient already has, with dates."""

from __future__ import annotations

from imnm.facts import RecordFacts
from imnm.record.load import parse_record
from imnm.trials.checklist import checklist
from imnm.trials.load import catalog
from tests.conftest import AS_OF
from tests.trials.patients import DROP, imnm_patient, with_

BY_ID = {t.id: t for t in catalog()}


def _items(trial_id: str, data: dict[str, object], cohort: int | None = None) -> dict[str, object]:
    t = BY_ID[trial_id]
    co = t.cohorts[cohort] if cohort is not None else None
    return {i.assessment: i for i in checklist(t, RecordFacts(parse_record(data), as_of=AS_OF), co)}


def test_zilucoplan_asks_for_antibodies_ck_and_mmt8_only() -> None:
    items = _items("NCT04025632", imnm_patient())
    # trials.md §1.2: no biopsy, MRI, PFT or ECG requirement in the posted criteria
    assert set(items) == {"antibodies", "ck", "mmt8"}
    ck = items["ck"]
    assert ck.have and ck.date is not None and ck.date.isoformat() == "2026-11-20"  # type: ignore[attr-defined]
    assert "inc-4" in ck.asked_by  # type: ignore[attr-defined]


def test_missing_assessment_is_reported_as_not_had() -> None:
    items = _items("NCT04025632", with_(imnm_patient(), "antibodies", DROP))
    ab = items["antibodies"]
    assert not ab.have and ab.date is None  # type: ignore[attr-defined]


def test_manual_items_name_lung_and_heart_tests() -> None:
    items = _items("NCT06154252", imnm_patient(), cohort=0)
    assert {"pft", "ecg_echo"} <= set(items)
    assert "a-exc-6" in items["pft"].asked_by  # type: ignore[attr-defined]
    assert items["pft"].date.isoformat() == "2026-10-01"  # type: ignore[attr-defined]
    assert {"biopsy", "mri", "emg"} <= set(items)  # activity evidence in a-inc-4


def test_checklist_counts_only_results_known_by_as_of() -> None:
    from datetime import date

    from imnm.record.load import load_record
    from imnm.trials.checklist import patient_has
    from tests.conftest import EXAMPLES

    rec = load_record(EXAMPLES / "anti-hmgcr.yaml")

    def has(what: str, day: date = AS_OF) -> tuple[bool, date | None, str]:
        return patient_has(RecordFacts(rec, as_of=day), what)  # type: ignore[arg-type]

    assert has("ck", date(2024, 4, 20))[:2] == (True, date(2024, 4, 10))
    assert has("ck")[:2] == (True, date(2024, 10, 10))
    assert has("biopsy", date(2024, 4, 1))[0] is False  # biopsy done 2024-04-02
    assert has("antibodies", date(2024, 2, 1))[0] is False
