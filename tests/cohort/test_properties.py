"""Random OMOP rows × random rule trees: the compiled SQL equals the Python engine (truth and missing).

Rows include what registries really contain: results without a unit (`unit_concept_id` 0 or empty),
without `range_high` (or 0), in µkat/L, duplicate dates, unmapped concepts (0, matched by source code, or
an unknown id that matches nothing), future results, dates exactly at window edges, drug exposures that
end before they start, open and overlapping observation periods, conditions before birth. Rule trees
mirror the strategy of tests/core/test_properties.py (all / any / not / at_least / const over leaves),
with leaves on the facts the OMOP bindings fill. The Python side is `imnm.core.evaluate.evaluate` on
the record document built from the same rows.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imnm.adapters.omop.source import COLUMNS, Source, _typed_view
from imnm.core import rules as r

AS_OF = date(2025, 6, 15)
EDGES = [0, 1, 13, 14, 15, 29, 30, 31, 55, 56, 57, 89, 90, 91, 181, 182, 183, 365, 366, 800, -1, -30]
LOCAL_HMGCR = 2000000101
LOCAL_BIOPSY = 2000000201

CONCEPTS = [
    (3007220, "Creatine kinase", "Measurement", "LOINC", "2157-6"),
    (3013721, "Aspartate aminotransferase", "Measurement", "LOINC", "1920-8"),
    (LOCAL_HMGCR, "HMGCR Ab (local)", "Measurement", "LOINC", "93493-5"),
    (8645, "unit per liter", "Unit", "UCUM", "[U]/L"),
    (32995, "microkatal per liter", "Unit", "UCUM", "ukat/L"),
    (9191, "Positive", "Meas Value", "SNOMED", "10828004"),
    (9189, "Negative", "Meas Value", "SNOMED", "260385009"),
    (1545958, "atorvastatin", "Drug", "RxNorm", "83367"),
    (1545959, "atorvastatin 80 MG Oral Tablet", "Drug", "RxNorm", "259255"),
    (1314273, "rituximab", "Drug", "RxNorm", "121191"),
    (1551099, "prednisone", "Drug", "RxNorm", "8640"),
    (31317, "Dysphagia", "Condition", "SNOMED", "40739000"),
    (79908, "Muscle weakness", "Condition", "SNOMED", "26544005"),
    (80800, "Polymyositis", "Condition", "SNOMED", "31384009"),
    (LOCAL_BIOPSY, "Biopsy, muscle (local)", "Procedure", "CPT4", "20205"),
]
ANCESTORS = [(c[0], c[0]) for c in CONCEPTS] + [(1545958, 1545959)]


def day(d: int) -> date:
    return AS_OF - timedelta(days=d)


offsets = st.sampled_from(EDGES) | st.integers(-40, 1500)


@st.composite
def omop(draw: Any) -> dict[str, list[dict[str, Any]]]:
    n = draw(st.integers(1, 3))
    t: dict[str, list[dict[str, Any]]] = {
        k: []
        for k in (
            "person",
            "measurement",
            "drug_exposure",
            "observation_period",
            "condition_occurrence",
            "procedure_occurrence",
        )
    }
    mid = 1
    for pid in range(1, n + 1):
        born = draw(st.integers(15, 90))
        yob = AS_OF.year - born
        full = draw(st.booleans()) or draw(st.booleans())
        t["person"].append(
            {
                "person_id": pid,
                "gender_concept_id": draw(st.sampled_from([8507, 8532, 0])),
                "year_of_birth": yob,
                "month_of_birth": draw(st.integers(1, 12)) if full else None,
                "day_of_birth": draw(st.integers(1, 28)) if full else None,
            }
        )
        for _ in range(draw(st.integers(0, 6))):
            concept, src_code = draw(
                st.sampled_from(
                    [
                        (3007220, "2157-6"),
                        (3007220, "2157-6"),
                        (0, "2157-6"),
                        (3013721, "1920-8"),
                        (999, "x"),
                        (0, "1920-8"),
                    ]
                )
            )
            unit = draw(st.sampled_from([8645, 8645, 32995, 0, None]))
            rh = draw(st.sampled_from([None, 0.0, 170.0, 200.0, 40.0, 3.0]))
            value = draw(
                st.sampled_from([850.0, 1000.0, 0.0, 170.0, 171.0]) | st.integers(0, 20000).map(float)
            )
            d = day(draw(offsets))
            reps = draw(st.integers(1, 2))  # a duplicate date now and then
            for _r in range(reps):
                t["measurement"].append(
                    {
                        "measurement_id": mid,
                        "person_id": pid,
                        "measurement_concept_id": concept,
                        "measurement_date": d,
                        "value_as_number": value,
                        "value_as_concept_id": None,
                        "unit_concept_id": unit,
                        "range_high": rh,
                        "measurement_source_value": src_code,
                        "unit_source_value": draw(st.sampled_from([None, "U/L", "mg"])),
                    }
                )
                mid += 1
                value = float(draw(st.integers(0, 20000)))
        for _ in range(draw(st.integers(0, 2))):
            t["measurement"].append(
                {
                    "measurement_id": mid,
                    "person_id": pid,
                    "measurement_concept_id": LOCAL_HMGCR,
                    "measurement_date": day(draw(offsets)),
                    "value_as_number": draw(st.none() | st.integers(0, 100).map(float)),
                    "value_as_concept_id": draw(st.sampled_from([9191, 9189, None])),
                    "unit_concept_id": None,
                    "range_high": None,
                    "measurement_source_value": "93493-5",
                    "unit_source_value": None,
                }
            )
            mid += 1
        for k in range(draw(st.integers(0, 3))):
            start = day(draw(offsets))
            end = draw(st.sampled_from([None, "same", "before"]) | st.integers(0, 400))
            stop = (
                None
                if end is None
                else start
                if end == "same"
                else start - timedelta(days=3)
                if end == "before"
                else start + timedelta(days=int(end))
            )
            t["drug_exposure"].append(
                {
                    "drug_exposure_id": pid * 100 + k,
                    "person_id": pid,
                    "drug_concept_id": draw(st.sampled_from([1545959, 1314273, 1551099, 999])),
                    "drug_exposure_start_date": start,
                    "drug_exposure_end_date": stop,
                    "drug_source_value": None,
                }
            )
        for k in range(draw(st.integers(0, 2))):
            s = day(draw(offsets))
            t["observation_period"].append(
                {
                    "observation_period_id": pid * 10 + k,
                    "person_id": pid,
                    "observation_period_start_date": s - timedelta(days=draw(st.integers(0, 900))),
                    "observation_period_end_date": s,
                }
            )
        for k in range(draw(st.integers(0, 3))):
            concept, code = draw(
                st.sampled_from(
                    [
                        (31317, "40739000"),
                        (79908, "26544005"),
                        (80800, "31384009"),
                        (0, "R13.10"),
                        (0, "M62.81"),
                    ]
                )
            )
            t["condition_occurrence"].append(
                {
                    "condition_occurrence_id": pid * 10 + k,
                    "person_id": pid,
                    "condition_concept_id": concept,
                    "condition_start_date": day(draw(offsets | st.just(365 * born + 10))),
                    "condition_source_value": code,
                }
            )
        if draw(st.booleans()):
            t["procedure_occurrence"].append(
                {
                    "procedure_occurrence_id": pid,
                    "person_id": pid,
                    "procedure_concept_id": LOCAL_BIOPSY,
                    "procedure_date": day(draw(offsets)),
                    "procedure_source_value": "20205",
                }
            )
    return t


def windows() -> st.SearchStrategy[dict[str, Any] | None]:
    return st.none() | st.sampled_from(
        [
            {"before": "30d"},
            {"before": "0d"},
            {"before": "6mo"},
            {"before": "12w"},
            {"before": "90d", "after": "8w"},
            {"before": "1y", "anchor": "symptom_onset"},
            {"after": "30d", "anchor": "symptom_onset"},
        ]
    )


def number_leaf() -> st.SearchStrategy[dict[str, Any]]:
    specs = st.sampled_from(
        [
            ("lab.ck", "U/L", [170.0, 1000.0, 5000.0, 16.7]),
            ("lab.ck.fold", "xULN", [1.0, 5.0, 10.0, 5.0001, 4.9995]),
            ("lab.muscle_enzyme.fold", "xULN", [1.5, 5.0]),
            ("lab.ast", "U/L", [40.0]),
            ("lab.ck", "ukat/L", [16.7, 3.0]),
        ]
    )
    return st.builds(
        lambda spec, op, i, sel, w: {
            "compare": {
                "fact": spec[0],
                "op": op,
                "value": spec[2][i % len(spec[2])],
                "unit": spec[1],
                "select": sel,
                **({"window": w} if w else {}),
            }
        },
        specs,
        st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
        st.integers(0, 9),
        st.sampled_from(["latest", "earliest", "max", "min", "any", "all"]),
        windows(),
    )


def other_leaf() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.sampled_from(
            [
                {"is_true": "findings.dysphagia"},
                {"is_true": "biopsy.performed"},
                {"const": "unknown"},
                {"const": "met"},
                {"const": "not_met"},
            ]
        ),
        st.builds(
            lambda op, v: {"compare": {"fact": "age", "op": op, "value": v, "unit": "years"}},
            st.sampled_from([">=", "<", "=="]),
            st.sampled_from([18.0, 40.0, 65.0]),
        ),
        st.builds(
            lambda v: {"compare": {"fact": "sex", "op": "==", "value": v}},
            st.sampled_from(["female", "male"]),
        ),
        st.builds(
            lambda op, v: {
                "compare": {"fact": "disease_duration_months", "op": op, "value": v, "unit": "months"}
            },
            st.sampled_from(["<", ">="]),
            st.sampled_from([6.0, 36.0, 0.5]),
        ),
        st.builds(
            lambda op, v, sel, w: {
                "compare": {
                    "fact": "antibody.HMGCR",
                    "op": op,
                    "value": v,
                    "select": sel,
                    **({"window": w} if w else {}),
                }
            },
            st.sampled_from(["==", "!="]),
            st.sampled_from(["positive", "negative"]),
            st.sampled_from(["any", "latest", "all"]),
            windows(),
        ),
        st.builds(
            lambda v: {"compare": {"fact": "antibody.HMGCR", "op": "in", "value": v, "select": "any"}},
            st.just(["positive", "borderline"]),
        ),
        st.builds(
            lambda f, w: {"event": {"fact": f, **({"window": w} if w else {})}},
            st.sampled_from(
                [
                    "medication.statin",
                    "medication.rituximab",
                    "medication.glucocorticoid",
                    "medication.glucocorticoid.change",
                    "medication.glucocorticoid.start",
                    "medication.immunosuppressant",
                    "exposure.statin",
                ]
            ),
            windows(),
        ),
        st.builds(
            lambda op, v: {
                "compare": {"fact": "medication.glucocorticoid.dose", "op": op, "value": v, "unit": "mg/day"}
            },
            st.sampled_from([">", "<="]),
            st.sampled_from([0.0, 15.0]),
        ),
    )


trees = st.recursive(
    number_leaf() | other_leaf(),
    lambda kids: st.one_of(
        st.lists(kids, min_size=1, max_size=3).map(lambda xs: {"all": xs}),
        st.lists(kids, min_size=1, max_size=3).map(lambda xs: {"any": xs}),
        kids.map(lambda x: {"not": x}),
        st.lists(kids, min_size=1, max_size=3).flatmap(
            lambda xs: st.integers(0, len(xs)).map(lambda n: {"at_least": {"n": n, "of": xs}})
        ),
    ),
    max_leaves=6,
)


def source(tables: dict[str, list[dict[str, Any]]]) -> Source:
    con = duckdb.connect()
    src = Source("duckdb", "hypothesis", con)
    data = dict(tables)
    data["concept"] = [
        {
            "concept_id": c[0],
            "concept_name": c[1],
            "domain_id": c[2],
            "vocabulary_id": c[3],
            "concept_code": c[4],
            "invalid_reason": None,
        }
        for c in CONCEPTS
    ]
    data["concept_ancestor"] = [{"ancestor_concept_id": a, "descendant_concept_id": d} for a, d in ANCESTORS]
    for table, cols in COLUMNS.items():
        spec = ", ".join(f"{c} {t}" for c, t in cols.items())
        con.execute(f"CREATE TABLE raw_{table} ({spec})")
        rows = data.get(table, [])
        if rows:
            con.executemany(
                f"INSERT INTO raw_{table} VALUES ({', '.join('?' for _ in cols)})",
                [[row.get(c) for c in cols] for row in rows],
            )
        _typed_view(con, table, f"raw_{table}")
        src.tables[table] = f"omop_{table}"
    return src


def check(
    tables: dict[str, list[dict[str, Any]]], tree: dict[str, Any], coverage: str = "observation_periods"
) -> None:
    from imnm.adapters.omop.concepts import resolve
    from imnm.adapters.omop.record import build_records
    from imnm.core.evaluate import evaluate
    from imnm.facts import REGISTRY, RecordFacts
    from imnm.record.load import parse_record
    from imnm.sqlcompile.plan import build_plan
    from imnm.sqlcompile.run import criteria_results, materialize_leaves

    rule = r.parse_rule(tree)
    src = source(tables)
    try:
        resolve(src)
        plan = build_plan([], registry=REGISTRY, as_of=AS_OF, coverage=coverage, extra_rules={"x": rule})
        materialize_leaves(plan, src)
        sql = criteria_results(plan, src, None, crits=list(plan.extra_rules.values()))
        docs = build_records(src, sorted(sql), AS_OF)
    finally:
        src.close()
    for pid, doc in docs.items():
        out = evaluate(rule, RecordFacts(parse_record(doc), as_of=AS_OF), as_of=AS_OF, registry=REGISTRY)
        want = (out.truth.as_bool(), frozenset(m.fact for m in out.missing if m.fact != "manual_review"))
        got = sql[pid]["x/x"]
        assert (got[0], got[1]) == want, f"{pid} {tree} {json.dumps(doc, default=str)}"


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(omop(), trees)
def test_random_rows_and_trees_agree(tables: dict[str, list[dict[str, Any]]], tree: dict[str, Any]) -> None:
    check(tables, tree)


@pytest.mark.slow
@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(omop(), trees)
def test_random_rows_and_trees_agree_big(
    tables: dict[str, list[dict[str, Any]]], tree: dict[str, Any]
) -> None:
    check(tables, tree)
