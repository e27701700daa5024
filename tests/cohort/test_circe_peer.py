"""Peer check against OHDSI Circe: "CK > 5 × ULN", the measurement criterion of PhenotypeLibrary
cohort 218 ([P] Rhabdomyolysis), in Circe's own generated SQL.

The Circe SQL (shared/data/omop/phenotypelibrary/218.sql, OHDSI SQL = SQL Server dialect) is not
ported by hand: its codeset 13 (CK concepts with descendants) and its Measurement Criteria block are
cut out of the file, the `@schema` / `#Codesets` placeholders are rendered as SqlRender would, and
sqlglot translates T-SQL to DuckDB. It runs on the same generated OMOP rows as the compiled rule
`lab.ck.fold > 5 (any result)`.

Where both read the same inputs (mapped CK rows in U/L with range_high > 100), the persons met are
identical. Every other difference is one of Circe's documented traps, checked row by row: Circe
ignores units (a CK without a unit still counts; ours is not a value, so unknown), drops results whose
range_high is ≤ 100 (every CK reported in µkat/L) or missing (ours: a CK above 5 × even the highest
documented ULN, 810 U/L, is > 5 × ULN whatever the lab's limit — ck.yaml choice default_uln) and misses
unmapped rows (measurement_concept_id 0) that we match by source code.
"""

from __future__ import annotations

import functools
from pathlib import Path

import duckdb

from imnm.core import rules as r
from tests.cohort.conftest import AS_OF
from tests.shared import shared


def _circe_sql() -> str:
    import sqlglot

    text = shared("data", "omop", "phenotypelibrary", "218.sql").read_text(encoding="utf-8")
    i = text.index("SELECT 13 as codeset_id")
    codeset = text[i : text.index("UNION ALL", i)]
    a = text.index("-- Begin Measurement Criteria")
    measurement = text[a : text.index("-- End Measurement Criteria")]
    rendered = f"WITH circe_codesets AS ({codeset}) SELECT DISTINCT person_id FROM ({measurement}) q"
    for ph, table in (
        ("@vocabulary_database_schema.CONCEPT_ANCESTOR", "c_concept_ancestor"),
        ("@vocabulary_database_schema.CONCEPT", "c_concept"),
        ("@cdm_database_schema.MEASUREMENT", "c_measurement"),
        ("#Codesets", "circe_codesets"),
    ):
        rendered = rendered.replace(ph, table)
    return sqlglot.transpile(rendered, read="tsql", write="duckdb")[0]


def _ours(folder: Path) -> set[int]:
    from imnm.facts import REGISTRY
    from imnm.services.cohort import open_db
    from imnm.sqlcompile.plan import build_plan
    from imnm.sqlcompile.run import criteria_results, materialize_leaves

    rule = r.parse_rule(
        {"compare": {"fact": "lab.ck.fold", "op": ">", "value": 5, "unit": "xULN", "select": "any"}}
    )
    src, _ = open_db(folder)
    try:
        plan = build_plan([], registry=REGISTRY, as_of=AS_OF, extra_rules={"ck5": rule})
        materialize_leaves(plan, src)
        res = criteria_results(plan, src, None, crits=list(plan.extra_rules.values()))
    finally:
        src.close()
    return {pid for pid, cells in res.items() if cells["ck5/ck5"][0] is True}


def test_ck_over_5_uln_matches_circe(synth10k: Path) -> None:
    con = duckdb.connect()
    f = str(synth10k)
    con.execute(
        f"CREATE TABLE c_measurement AS SELECT *, CAST(NULL AS BIGINT) AS visit_occurrence_id, CAST(NULL AS DOUBLE) AS range_low FROM read_parquet('{f}/measurement.parquet')"
    )
    # the vocabulary subset plus PhenotypeLibrary 218's CK concepts and their real hierarchy link
    con.execute(f"CREATE TABLE c_concept AS SELECT * FROM read_parquet('{f}/concept.parquet')")
    con.execute(
        "INSERT INTO c_concept (concept_id, concept_name, domain_id, vocabulary_id, concept_code) VALUES "
        "(40782593, 'Creatine kinase', 'Measurement', 'LOINC', 'LP15510-8'), "
        "(4265595, 'Creatine kinase measurement', 'Measurement', 'SNOMED', '397798009')"
    )
    con.execute(
        f"CREATE TABLE c_concept_ancestor AS SELECT ancestor_concept_id, descendant_concept_id FROM read_parquet('{f}/concept_ancestor.parquet')"
    )
    con.execute(
        "INSERT INTO c_concept_ancestor VALUES (40782593, 3007220), (40782593, 40782593), (4265595, 4265595)"
    )
    circe = {int(p) for (p,) in con.execute(_circe_sql()).fetchall()}
    ours = _ours(synth10k)
    assert len(circe) > 100 and len(ours) > 100

    ck = con.execute(
        "SELECT person_id, measurement_concept_id, unit_concept_id, value_as_number, range_high, measurement_date "
        "FROM c_measurement WHERE measurement_concept_id = 3007220 OR measurement_source_value = '2157-6'"
    ).fetchall()
    rows: dict[int, list[tuple[int, int | None, float, float | None, object]]] = {}
    for pid, cid, unit, v, rh, d in ck:
        rows.setdefault(int(pid), []).append((cid, unit, v, rh, d))

    def clean(pid: int) -> bool:
        return all(
            cid == 3007220 and unit == 8645 and (rh is None or rh > 100)
            for cid, unit, _v, rh, _d in rows.get(pid, [])
        )

    r3 = functools.partial(round, ndigits=3)
    clean_persons = {p for p in rows if clean(p)}
    assert {p for p in circe if p in clean_persons} == {p for p in ours if p in clean_persons}
    assert len(clean_persons & circe) > 100

    usable = {8645, 32995}
    for p in circe - ours:  # Circe counts a result we do not read as a value
        for cid, unit, v, rh, d in rows[p]:
            if cid == 3007220 and v and rh and rh > 100 and v / rh > 5:
                assert unit not in usable or r3(v / rh) <= 5 or d > AS_OF, (p, unit, v, rh)
    for p in ours - circe:  # we count a result Circe's criterion drops
        reasons = []
        for cid, unit, v, rh, d in rows[p]:
            if unit not in usable or d > AS_OF:
                continue
            canon = v * (60.0 if unit == 32995 else 1.0)
            if rh and rh > 0 and r3(v / rh) > 5:
                reasons.append("unmapped" if cid == 0 else "range_high <= 100" if rh <= 100 else "?")
            elif rh is None and r3(canon / 810) > 5:  # no ULN: above 5 × even the highest documented ULN
                reasons.append("no range_high")
        assert reasons and "?" not in reasons, (p, rows[p])
    assert circe - ours and ours - circe  # both traps occur in the generated data
