"""NCT04025632 (zilucoplan, IMNM01): the hand-written catalog entry and the importer's draft.

Expected verdicts come from the registry text in trials.md §1.2 (criteria typed in below by
their ids): inclusion CK > 1000 U/L at Screening, anti-HMGCR or anti-SRP positive, weakness
≤ grade 4/5 in a proximal group, stable steroid and immunosuppressant doses for 30 days;
exclusion meningococcal disease, infection windows (2 and 4 weeks), IVIG start < 90 days,
rituximab 90 days, statin 30 days, plasma exchange 4 weeks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from imnm.trials.ctgov import draft_from_study
from imnm.trials.load import parse_trial
from tests.trials.patients import (
    DROP,
    failed_ids,
    imnm_patient,
    missing_tests,
    one,
    with_,
)

TRIAL = "NCT04025632"
DATA = Path(__file__).resolve().parent.parent / "data" / "trials"


def _draft() -> Any:
    study = json.loads((DATA / "NCT04025632.transcribed-v2.json").read_text(encoding="utf-8"))
    return parse_trial(draft_from_study(study, file="t.json", imported_on="2026-11-25"), file="t.json")


def ck(value: float) -> dict[str, Any]:
    d = imnm_patient()
    d["labs"][0]["value"] = value
    return d


def grades(proximal: int) -> dict[str, Any]:
    d = imnm_patient()
    g = {k: 10 for k in d["visits"][0]["mmt8"]["grades"]}
    g["deltoid"] = proximal
    d["visits"][0]["mmt8"]["grades"] = g
    return d


def med(name: str, start: str, stop: str | None = None, **dose: Any) -> dict[str, Any]:
    d = imnm_patient()
    entry: dict[str, Any] = {"name": name, "start": start, **dose}
    if stop:
        entry["stop"] = stop
    d["medications"].append(entry)
    return d


# (case, record, verdict, failed criterion ids, tests still needed)
CASES: list[tuple[str, dict[str, Any], str, set[str], set[str]]] = [
    ("meets every criterion", imnm_patient(), "eligible", set(), set()),
    ("CK 800 U/L at screening", ck(800), "ineligible", {"inc-4"}, set()),
    ("CK 1000 U/L is not > 1000", ck(1000), "ineligible", {"inc-4"}, set()),
    ("CK 1001 U/L", ck(1001), "eligible", set(), set()),
    (
        "no CK in the 30 days before baseline",
        with_(
            imnm_patient(),
            "labs",
            [{"test": "ck", "value": 6000, "unit": "U/L", "uln": 200, "date": "2026-09-01"}],
        ),
        "needs_information",
        set(),
        {"ck"},
    ),
    (
        "no antibody results",
        with_(imnm_patient(), "antibodies", DROP),
        "needs_information",
        set(),
        {"anti_hmgcr", "anti_srp"},
    ),
    (
        "anti-HMGCR and anti-SRP negative",
        with_(
            imnm_patient(),
            "antibodies",
            [
                {"target": "HMGCR", "result": "negative", "date": "2026-05-01"},
                {"target": "SRP", "result": "negative", "date": "2026-05-01"},
            ],
        ),
        "ineligible",
        {"inc-2"},
        set(),
    ),
    (
        "anti-SRP positive only",
        with_(
            imnm_patient(),
            "antibodies",
            [
                {"target": "HMGCR", "result": "negative", "date": "2026-05-01"},
                {
                    "target": "SRP",
                    "result": "positive",
                    "method": "immunoprecipitation",
                    "date": "2026-05-01",
                },
            ],
        ),
        "eligible",
        set(),
        set(),
    ),
    ("weakest proximal group grade 9 (MRC 4+)", grades(9), "ineligible", {"inc-3"}, set()),
    ("weakest proximal group grade 8 (MRC 4)", grades(8), "eligible", set(), set()),
    ("age 76", with_(imnm_patient(), "birth_date", "1950-01-01"), "ineligible", {"age"}, set()),
    (
        "prednisone dose changed 10 days before",
        med("prednisone", "2026-11-15", dose_mg_per_day=20),
        "ineligible",
        {"inc-5"},
        set(),
    ),
    (
        "prednisone stopped 40 days before",
        with_(
            imnm_patient(),
            "medications",
            [
                {"name": "prednisone", "dose_mg_per_day": 10, "start": "2026-06-01", "stop": "2026-10-16"},
                {"name": "methotrexate", "dose_mg_per_week": 15, "start": "2026-06-15"},
            ],
        ),
        "eligible",
        set(),
        set(),
    ),
    (
        "mycophenolate started 3 weeks before",
        med("mycophenolate mofetil", "2026-11-04"),
        "ineligible",
        {"inc-6"},
        set(),
    ),
    ("azathioprine planned in 4 weeks", med("azathioprine", "2026-12-23"), "ineligible", {"inc-6"}, set()),
    (
        "history of meningococcal disease",
        with_(imnm_patient(), "history.meningococcal_disease", True),
        "ineligible",
        {"exc-1"},
        set(),
    ),
    (
        "meningococcal history unknown",
        with_(imnm_patient(), "history.meningococcal_disease", DROP),
        "needs_information",
        set(),
        {"history"},
    ),
    (
        "systemic infection 10 days before",
        with_(
            imnm_patient(),
            "infections",
            [{"date": "2026-11-15", "kind": "systemic", "iv_antibiotics": False, "resolved": "2026-11-20"}],
        ),
        "ineligible",
        {"exc-2"},
        set(),
    ),
    (
        "IV antibiotics 3 weeks before",
        with_(
            imnm_patient(),
            "infections",
            [{"date": "2026-11-01", "kind": "local", "iv_antibiotics": True, "resolved": "2026-11-06"}],
        ),
        "ineligible",
        {"exc-2"},
        set(),
    ),
    (
        "infection 6 weeks before, resolved",
        with_(
            imnm_patient(),
            "infections",
            [{"date": "2026-10-10", "kind": "systemic", "iv_antibiotics": True, "resolved": "2026-10-20"}],
        ),
        "eligible",
        set(),
        set(),
    ),
    (
        "IVIG first cycle 60 days before",
        med("IVIG", "2026-09-26", dose_g_per_kg=2),
        "ineligible",
        {"exc-3"},
        set(),
    ),
    ("IVIG started 120 days before", med("IVIG", "2026-07-28", dose_g_per_kg=2), "eligible", set(), set()),
    (
        "rituximab 80 days before",
        med("rituximab", "2026-09-06", "2026-09-06"),
        "ineligible",
        {"exc-4"},
        set(),
    ),
    ("rituximab 100 days before", med("rituximab", "2026-08-17", "2026-08-17"), "eligible", set(), set()),
    (
        "statin stopped 20 days before",
        with_(
            imnm_patient(),
            "exposures.statin",
            {"status": "past", "start": "2020-01-01", "stop": "2026-11-05"},
        ),
        "ineligible",
        {"exc-5"},
        set(),
    ),
    (
        "on atorvastatin",
        med("atorvastatin", "2024-01-01"),
        "ineligible",
        {"exc-5", "inc-6"} - {"inc-6"},
        set(),
    ),
    (
        "plasma exchange 3 weeks before",
        med("plasma exchange", "2026-11-04", "2026-11-06"),
        "ineligible",
        {"exc-6"},
        set(),
    ),
    (
        "medication list unknown",
        with_(imnm_patient(), "medications", DROP),
        "needs_information",
        set(),
        {"history"},
    ),
]


@pytest.mark.parametrize(("case", "data", "verdict", "failed", "tests"), CASES, ids=[c[0] for c in CASES])
def test_catalog_entry(
    case: str, data: dict[str, Any], verdict: str, failed: set[str], tests: set[str]
) -> None:
    r = one(data, TRIAL)
    assert r.verdict == verdict, r.note
    assert failed_ids(r) == failed
    if verdict == "needs_information":
        assert tests <= missing_tests(r)
    assert r.manual_review == ()


@pytest.mark.parametrize(("case", "data", "verdict", "failed", "tests"), CASES, ids=[c[0] for c in CASES])
def test_imported_draft_reaches_the_same_verdicts(
    case: str, data: dict[str, Any], verdict: str, failed: set[str], tests: set[str]
) -> None:
    draft = _draft()
    hand, auto = one(data, TRIAL), one(data, draft)
    assert auto.verdict == hand.verdict == verdict
    assert failed_ids(auto) == failed_ids(hand)
    assert {m.fact for m in auto.missing} == {m.fact for m in hand.missing}
    assert [c.status for c in auto.criteria] == [c.status for c in hand.criteria]


def test_ck_800_names_the_ck_criterion() -> None:
    r = one(ck(800), TRIAL)
    assert r.verdict == "ineligible"
    [f] = r.failed
    assert f.criterion.text == "Creatine kinase (CK) of >1000 U/L at Screening"
    assert f.outcome is not None and any("800" in str(e) for e in f.outcome.all_evidence())


def test_no_antibodies_names_both_tests() -> None:
    r = one(with_(imnm_patient(), "antibodies", DROP), TRIAL)
    assert r.verdict == "needs_information"
    assert {"anti_hmgcr", "anti_srp"} <= missing_tests(r)
    by_fact = {m.fact: m for m in r.missing}
    assert "inc-2" in by_fact["antibody.HMGCR"].criteria and "inc-2" in by_fact["antibody.SRP"].criteria


def test_screening_window_is_a_documented_choice() -> None:
    """A CK from 55 days before baseline is not 'at Screening' with the default 30-day window,
    and is with a 60-day window; the MMT-8 grades then need the wider window too."""
    from imnm.trials.load import catalog

    d = imnm_patient()
    d["labs"][0]["date"] = "2026-10-01"
    r = one(d, TRIAL)
    assert r.verdict == "needs_information" and missing_tests(r) == {"ck"}
    wide = next(t for t in catalog("60d") if t.id == TRIAL)
    assert one(d, wide).verdict == "eligible"
    assert any("--screening-window" in a for a in wide.assumptions)
