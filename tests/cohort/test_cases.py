"""Case finding (`imnm cohort cases`): the SQL equals the Python derivation over the record document,
and hand-made persons give the hits a clinician would expect."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tests.cohort.conftest import AS_OF
from tests.cohort.test_properties import source


def _sql_and_python(src: Any, as_of: date) -> tuple[dict[int, Any], dict[int, Any]]:
    from imnm.adapters.omop.record import build_records
    from imnm.record.load import parse_record
    from imnm.services import case_facts
    from imnm.services.cohort import case_plan
    from imnm.sqlcompile.run import criteria_results, materialize_leaves

    plan = case_plan(as_of, None, None)
    materialize_leaves(plan, src)
    sql = criteria_results(plan, src, None, crits=list(plan.extra_rules.values()))
    docs = build_records(src, sorted(sql), as_of)
    rule = case_facts.rule()
    py = {}
    for pid, doc in docs.items():
        facts = case_facts.record_case_facts(parse_record(doc), as_of=as_of)
        truth, missing = facts.run.assess(rule)
        py[pid] = (truth.as_bool(), frozenset(m.fact for m in missing))
    return {
        p: (c["case_finding/case_finding"][0], c["case_finding/case_finding"][1]) for p, c in sql.items()
    }, py


def test_case_finding_sql_equals_python_on_10k(synth10k: Path) -> None:
    from imnm.services.cohort import open_db

    src, _ = open_db(synth10k)
    try:
        sql, py = _sql_and_python(src, AS_OF)
    finally:
        src.close()
    assert sql == py
    hits = [p for p, (t, _m) in sql.items() if t is True]
    assert 20 < len(hits) < 1000  # the untested, undiagnosed IMNM archetype is found


def test_hand_made_persons() -> None:
    d = lambda n: AS_OF - timedelta(days=n)  # noqa: E731

    def person(pid):
        return {
            "person_id": pid,
            "gender_concept_id": 8532,
            "year_of_birth": 1970,
            "month_of_birth": 3,
            "day_of_birth": 4,
        }

    def ck(mid: int, pid: int, days: int, value: float) -> dict[str, Any]:
        return {
            "measurement_id": mid,
            "person_id": pid,
            "measurement_concept_id": 3007220,
            "measurement_date": d(days),
            "value_as_number": value,
            "unit_concept_id": 8645,
            "range_high": 200.0,
            "measurement_source_value": "2157-6",
        }

    def weakness(cid, pid):
        return {
            "condition_occurrence_id": cid,
            "person_id": pid,
            "condition_concept_id": 79908,
            "condition_start_date": d(200),
        }

    tables = {
        "person": [person(1), person(2), person(3), person(4), person(5)],
        "measurement": [
            ck(1, 1, 100, 3000.0),
            ck(2, 1, 40, 2600.0),  # 15× and 13× ULN on two dates, weakness code: hit
            ck(3, 2, 100, 3000.0),
            ck(4, 2, 40, 2600.0),  # same, but anti-HMGCR tested: not a hit
            {
                "measurement_id": 5,
                "person_id": 2,
                "measurement_concept_id": 2000000101,
                "measurement_date": d(30),
                "value_as_concept_id": 9189,
                "measurement_source_value": "93493-5",
            },
            ck(6, 3, 100, 3000.0),  # one CK only: possible (needs a repeat CK)
            ck(7, 4, 100, 3000.0),
            ck(8, 4, 40, 300.0),  # second date only 1.5×: not persistent
            ck(9, 5, 30, 3000.0),
            ck(10, 5, 20, 2800.0),  # no weakness code, but statin stopped 5 months ago: hit
        ],
        "condition_occurrence": [weakness(1, 1), weakness(2, 2), weakness(3, 3), weakness(4, 4)],
        "drug_exposure": [
            {
                "drug_exposure_id": 1,
                "person_id": 5,
                "drug_concept_id": 1545959,
                "drug_exposure_start_date": d(900),
                "drug_exposure_end_date": d(150),
            }
        ],
    }
    src = source(tables)
    try:
        from imnm.adapters.omop.concepts import resolve

        resolve(src)
        sql, py = _sql_and_python(src, AS_OF)
    finally:
        src.close()
    assert sql == py
    assert {p: t for p, (t, _m) in sql.items()} == {1: True, 2: False, 3: None, 4: False, 5: True}
    assert sql[3][1] == {"lab.ck.fold.on_two_dates"}  # the missing fact is the repeat CK
