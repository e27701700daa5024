"""The staged rows: OMOP rows turned into the record's items by the bindings (one SQL definition).

Both the SQL screening (`imnm.sqlcompile`) and the record builder (`imnm.adapters.omop.record`) read
these relations, so a value is converted once, in SQL, and Python and SQL see the same numbers.

| relation | one row per | columns |
|---|---|---|
| `s_person` | person | person_id, sex, birth_date |
| `s_lab` | usable lab result | person_id, test, value, unit, factor, uln, d, rid, rank |
| `s_ab` | usable antibody result | person_id, target, result, value, d, rid |
| `s_cond` | coded condition on or before as_of | person_id, set_id, d, rid |
| `s_proc` | coded procedure | person_id, set_id, d, rid |
| `s_med` | drug exposure (or plasma exchange) × ingredient | person_id, name, start_d, stop_d, rid, tbl |
| `s_medcls` | s_med × class of medications.yaml | ... + cls |
| `s_cov` | merged observation period | person_id, cov_start, cov_end |
| `s_body` | usable weight / height | person_id, what, value, d, rid |
| `s_scalar` | person | everything that is one value per person (dates, flags, exposure, body size) |

Usable means: a lab needs a value ≥ 0, a date, and a unit that the labs table accepts for the test
(`unit_concept_id` through the unit map, else an exact `unit_source_value` spelling); a ULN is
`range_high` when it is > 0. Rows that fail are not values: they stay unknown, and `quality()` counts them.
Conditions dated before birth do not count as symptom onset. A drug exposure whose end is before its
start is taken to end on its start date (counted).
"""

from __future__ import annotations

from imnm.adapters.omop.concepts import ANTIBODY_SETS, CONDITION_SETS, LAB_SETS, PROCEDURE_SETS
from imnm.adapters.omop.source import COLUMNS, Source

ENZYME_RANK = {"ck": 0, "aldolase": 1, "ast": 2, "alt": 3, "ldh": 4}


def _rel(src: Source, table: str) -> str:
    if src.has(table):
        return src.tables[table]
    cols = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in COLUMNS[table].items())
    return f"(SELECT {cols} WHERE 1 = 0)"


def _in(values: tuple[str, ...] | list[str]) -> str:
    # our own identifiers (set ids), never user data
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


STAGED = (
    "s_person",
    "s_meas_unit",
    "s_lab",
    "s_ab",
    "s_body",
    "s_cond",
    "s_proc",
    "s_med",
    "s_medcls",
    "s_cov",
    "s_scalar",
)
"""The relations kept as tables by `materialize` (the others are steps towards them)."""


def materialize(src: Source, as_of: object) -> None:
    """Compute the staged relations once (for this evaluation date) and keep them as tables, so every
    later statement (leaves, quality counts, record documents) reads them instead of the raw tables."""
    done: list[tuple[str, str]] = []
    for name, sql in _raw_ctes(src, persons=None):
        body = "WITH " + ",\n".join(f"{n} AS ({q})" for n, q in done) + "\n" + sql if done else sql
        if name in STAGED:
            src.materialize(f"imnm_{name}", body, {"as_of": as_of})
            done.append((name, f"SELECT * FROM imnm_{name}"))
        else:
            done.append((name, sql))
    src.staged_as_of = as_of


def ctes(src: Source, *, persons: str | None = None) -> list[tuple[str, str]]:
    """The staged relations as (name, DuckDB SQL) pairs. `persons` restricts to a helper table of ids.
    After `materialize`, they read the kept tables."""
    if getattr(src, "staged_as_of", None) is not None:
        where = f" WHERE person_id IN (SELECT person_id FROM {persons})" if persons else ""
        return [(n, f"SELECT * FROM imnm_{n}{where}") for n in STAGED]
    return _raw_ctes(src, persons=persons)


def _raw_ctes(src: Source, *, persons: str | None = None) -> list[tuple[str, str]]:

    def pf(alias: str = "") -> str:
        col = f"{alias}.person_id" if alias else "person_id"
        return f" AND {col} IN (SELECT person_id FROM {persons})" if persons else ""

    p_filter = pf()
    person = _rel(src, "person")
    meas = _rel(src, "measurement")
    cond = _rel(src, "condition_occurrence")
    drug = _rel(src, "drug_exposure")
    proc = _rel(src, "procedure_occurrence")
    obsp = _rel(src, "observation_period")
    ab_sets = tuple(ANTIBODY_SETS)
    target_case = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in ANTIBODY_SETS.items())
    rank_case = " ".join(f"WHEN '{k}' THEN {v}" for k, v in ENZYME_RANK.items())
    meas_sets = (*LAB_SETS, "body_weight", "body_height", *ab_sets)
    out: list[tuple[str, str]] = []
    out.append(
        (
            "s_person",
            f"""SELECT person_id,
  CASE gender_concept_id WHEN 8532 THEN 'female' WHEN 8507 THEN 'male' END AS sex,
  COALESCE(CAST(birth_datetime AS DATE),
    CASE WHEN month_of_birth BETWEEN 1 AND 12 AND day_of_birth BETWEEN 1 AND 31 AND year_of_birth BETWEEN 1800 AND 2200
      THEN TRY_CAST(CAST(year_of_birth AS VARCHAR) || '-' || LPAD(CAST(month_of_birth AS VARCHAR), 2, '0') || '-'
        || LPAD(CAST(day_of_birth AS VARCHAR), 2, '0') AS DATE) END) AS birth_date
FROM {person} WHERE person_id IS NOT NULL{p_filter}""",
        )
    )
    # measurements in our sets: by standard concept, else (unmapped rows) by source code
    out.append(
        (
            "s_meas",
            f"""SELECT m.*, cs.set_id FROM {meas} m JOIN imnm_codeset cs ON cs.concept_id = m.measurement_concept_id
WHERE cs.set_id IN {_in(meas_sets)}{pf("m")}
UNION ALL
SELECT m.*, sc.set_id FROM {meas} m JOIN imnm_srccode sc
  ON sc.code = UPPER(REPLACE(m.measurement_source_value, '.', ''))
WHERE COALESCE(m.measurement_concept_id, 0) = 0 AND sc.set_id IN {_in(meas_sets)}{pf("m")}""",
        )
    )
    out.append(
        (
            "s_meas_unit",
            """SELECT m.*, COALESCE(u.unit, us.unit) AS unit FROM s_meas m
LEFT JOIN imnm_unit u ON u.concept_id = m.unit_concept_id
LEFT JOIN imnm_unit_src us ON COALESCE(m.unit_concept_id, 0) = 0 AND us.spelling = m.unit_source_value""",
        )
    )
    out.append(
        (
            "s_lab",
            f"""SELECT m.person_id, m.set_id AS test, m.value_as_number AS value, m.unit, lu.factor,
  CASE WHEN m.range_high > 0 AND m.range_high * lu.factor BETWEEN lu.uln_min AND lu.uln_max THEN m.range_high END AS uln,
  m.measurement_date AS d, m.measurement_id AS rid, CASE m.set_id {rank_case} ELSE 9 END AS erank
FROM s_meas_unit m JOIN imnm_lab_unit lu ON lu.test = m.set_id AND lu.unit = m.unit
JOIN s_person p ON p.person_id = m.person_id
WHERE m.value_as_number >= 0 AND m.value_as_number * lu.factor <= lu.value_max AND m.measurement_date IS NOT NULL
  AND m.measurement_id IS NOT NULL AND (p.birth_date IS NULL OR m.measurement_date >= p.birth_date)""",
        )
    )
    out.append(
        (
            "s_ab",
            f"""SELECT m.person_id, CASE m.set_id {target_case} END AS target,
  COALESCE(a.result, CASE WHEN c.cutoff IS NOT NULL AND m.value_as_number >= 0
    THEN CASE WHEN m.value_as_number >= c.cutoff THEN 'positive' ELSE 'negative' END END) AS result,
  CASE WHEN m.value_as_number >= 0 THEN m.value_as_number END AS value,
  m.measurement_date AS d, m.measurement_id AS rid
FROM s_meas m LEFT JOIN imnm_answer a ON a.concept_id = m.value_as_concept_id
LEFT JOIN imnm_abcut c ON c.set_id = m.set_id JOIN s_person p ON p.person_id = m.person_id
WHERE m.set_id IN {_in(ab_sets)} AND m.measurement_date IS NOT NULL AND m.measurement_id IS NOT NULL
  AND (p.birth_date IS NULL OR m.measurement_date >= p.birth_date)
  AND COALESCE(a.result, CASE WHEN c.cutoff IS NOT NULL AND m.value_as_number >= 0 THEN 'x' END) IS NOT NULL""",
        )
    )
    out.append(
        (
            "s_body",
            """SELECT m.person_id, m.set_id AS what, m.value_as_number AS value, m.measurement_date AS d, m.measurement_id AS rid
FROM s_meas_unit m
WHERE m.measurement_date IS NOT NULL AND m.measurement_date <= $as_of AND m.measurement_id IS NOT NULL AND (
  (m.set_id = 'body_weight' AND m.unit = 'kg' AND m.value_as_number > 0 AND m.value_as_number <= 400)
  OR (m.set_id = 'body_height' AND m.unit = 'cm' AND m.value_as_number > 0 AND m.value_as_number <= 250))""",
        )
    )
    out.append(
        (
            "s_cond",
            f"""SELECT co.person_id, cs.set_id, co.condition_start_date AS d, co.condition_occurrence_id AS rid
FROM {cond} co JOIN imnm_codeset cs ON cs.concept_id = co.condition_concept_id
WHERE cs.set_id IN {_in(CONDITION_SETS)} AND co.condition_start_date <= $as_of{pf("co")}
UNION ALL
SELECT co.person_id, sc.set_id, co.condition_start_date AS d, co.condition_occurrence_id AS rid
FROM {cond} co JOIN imnm_srccode sc ON sc.code = UPPER(REPLACE(co.condition_source_value, '.', ''))
WHERE COALESCE(co.condition_concept_id, 0) = 0 AND sc.set_id IN {_in(CONDITION_SETS)}
  AND co.condition_start_date <= $as_of{pf("co")}""",
        )
    )
    out.append(
        (
            "s_proc",
            f"""SELECT po.person_id, cs.set_id, po.procedure_date AS d, po.procedure_occurrence_id AS rid
FROM {proc} po JOIN imnm_codeset cs ON cs.concept_id = po.procedure_concept_id
WHERE cs.set_id IN {_in(PROCEDURE_SETS)} AND po.procedure_date IS NOT NULL{pf("po")}
UNION ALL
SELECT po.person_id, sc.set_id, po.procedure_date AS d, po.procedure_occurrence_id AS rid
FROM {proc} po JOIN imnm_srccode sc ON sc.code = UPPER(REPLACE(po.procedure_source_value, '.', ''))
WHERE COALESCE(po.procedure_concept_id, 0) = 0 AND sc.set_id IN {_in(PROCEDURE_SETS)}
  AND po.procedure_date IS NOT NULL{pf("po")}""",
        )
    )
    out.append(
        (
            "s_med",
            f"""SELECT de.person_id, SUBSTRING(cs.set_id, 5) AS name, de.drug_exposure_start_date AS start_d,
  CASE WHEN de.drug_exposure_end_date < de.drug_exposure_start_date THEN de.drug_exposure_start_date
    ELSE de.drug_exposure_end_date END AS stop_d, de.drug_exposure_id AS rid, 'drug_exposure' AS tbl
FROM {drug} de JOIN imnm_codeset cs ON cs.concept_id = de.drug_concept_id
WHERE cs.set_id LIKE 'ing:%' AND de.drug_exposure_start_date IS NOT NULL AND de.drug_exposure_id IS NOT NULL{pf("de")}
UNION ALL
SELECT person_id, 'plasmapheresis' AS name, d AS start_d, d AS stop_d, rid, 'procedure_occurrence' AS tbl
FROM s_proc WHERE set_id = 'plasmapheresis'""",
        )
    )
    out.append(("s_medcls", "SELECT m.*, mc.cls FROM s_med m JOIN imnm_medclass mc ON mc.name = m.name"))
    out.append(
        (
            "s_op",
            f"""SELECT person_id, observation_period_start_date AS s, observation_period_end_date AS e FROM {obsp}
WHERE observation_period_start_date IS NOT NULL AND observation_period_end_date >= observation_period_start_date{p_filter}""",
        )
    )
    out.append(
        (
            "s_op2",
            """SELECT person_id, s, e, MAX(e) OVER (PARTITION BY person_id ORDER BY s, e
  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_e FROM s_op""",
        )
    )
    out.append(
        (
            "s_op3",
            """SELECT person_id, s, e, SUM(CASE WHEN prev_e IS NULL OR s > prev_e + 1 THEN 1 ELSE 0 END)
  OVER (PARTITION BY person_id ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS grp FROM s_op2""",
        )
    )
    out.append(
        (
            "s_cov",
            "SELECT person_id, MIN(s) AS cov_start, MAX(e) AS cov_end FROM s_op3 GROUP BY person_id, grp",
        )
    )
    # one row per person: the record's single-valued fields
    out.append(
        (
            "s_condagg",
            """SELECT c.person_id,
  MIN(c.d) FILTER (WHERE c.set_id = 'muscle_symptom' AND (p.birth_date IS NULL OR c.d >= p.birth_date)) AS symptom_onset,
  MIN(c.d) FILTER (WHERE c.set_id = 'iim_diagnosis' AND (p.birth_date IS NULL OR c.d >= p.birth_date)) AS diagnosis_date,
  BOOL_OR(c.set_id = 'dysphagia') AS c_dysphagia,
  BOOL_OR(c.set_id = 'cancer') AS c_cancer,
  BOOL_OR(c.set_id = 'ild') AS c_ild,
  BOOL_OR(c.set_id = 'hypothyroidism') AS c_hypothyroidism
FROM s_cond c JOIN s_person p ON p.person_id = c.person_id GROUP BY c.person_id""",
        )
    )
    out.append(
        (
            "s_procagg",
            """SELECT person_id,
  MAX(d) FILTER (WHERE set_id = 'muscle_biopsy' AND d <= $as_of) AS biopsy_date,
  MAX(d) FILTER (WHERE set_id = 'emg' AND d <= $as_of) AS emg_date,
  MAX(d) FILTER (WHERE set_id = 'muscle_mri' AND d <= $as_of) AS mri_date
FROM s_proc GROUP BY person_id""",
        )
    )
    out.append(
        (
            "s_statin",
            """SELECT person_id, MIN(start_d) AS st_start, MAX(stop_d) AS st_stop,
  BOOL_OR(stop_d IS NULL OR stop_d >= $as_of) AS st_open,
  BOOL_OR(start_d <= $as_of AND (stop_d IS NULL OR stop_d >= $as_of)) AS st_current
FROM s_medcls WHERE cls = 'statin' GROUP BY person_id""",
        )
    )
    out.append(
        (
            "s_bodyagg",
            """SELECT person_id,
  ARG_MAX(value, {'d': d, 'r': -rid}) FILTER (WHERE what = 'body_weight') AS weight_kg,
  ARG_MAX(value, {'d': d, 'r': -rid}) FILTER (WHERE what = 'body_height') AS height_cm
FROM s_body GROUP BY person_id""",
        )
    )
    out.append(
        (
            "s_scalar",
            """SELECT p.person_id, p.sex, p.birth_date, c.symptom_onset, c.diagnosis_date,
  CASE WHEN c.c_dysphagia THEN TRUE END AS dysphagia, CASE WHEN c.c_cancer THEN TRUE END AS cancer,
  CASE WHEN c.c_ild THEN TRUE END AS ild, CASE WHEN c.c_hypothyroidism THEN TRUE END AS hypothyroidism,
  pr.biopsy_date, pr.emg_date, pr.mri_date, st.st_start, CASE WHEN st.st_open THEN NULL ELSE st.st_stop END AS st_stop,
  CASE WHEN st.st_start IS NULL THEN NULL WHEN st.st_current THEN 'current' ELSE 'past' END AS st_status,
  b.weight_kg, b.height_cm
FROM s_person p LEFT JOIN s_condagg c ON c.person_id = p.person_id
LEFT JOIN s_procagg pr ON pr.person_id = p.person_id LEFT JOIN s_statin st ON st.person_id = p.person_id
LEFT JOIN s_bodyagg b ON b.person_id = p.person_id""",
        )
    )
    return out


def with_clause(
    src: Source, body: str, *, persons: str | None = None, extra: list[tuple[str, str]] | None = None
) -> str:
    parts = ctes(src, persons=persons) + (extra or [])
    return "WITH " + ",\n".join(f"{n} AS ({q})" for n, q in parts) + "\n" + body


QUALITY_SQL = """SELECT
  COUNT(*) FILTER (WHERE set_id IN {labs}) AS lab_rows,
  COUNT(*) FILTER (WHERE set_id IN {labs} AND value_as_number IS NULL) AS lab_no_value,
  COUNT(*) FILTER (WHERE set_id IN {labs} AND value_as_number < 0) AS lab_negative_value,
  COUNT(*) FILTER (WHERE set_id IN {labs} AND unit IS NULL) AS lab_no_usable_unit,
  COUNT(*) FILTER (WHERE set_id IN {labs} AND unit IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM imnm_lab_unit lu WHERE lu.test = set_id AND lu.unit = s_meas_unit.unit)) AS lab_unit_not_for_test,
  COUNT(*) FILTER (WHERE set_id IN {labs} AND NOT COALESCE(range_high > 0, FALSE)) AS lab_no_range_high,
  COUNT(*) FILTER (WHERE set_id IN {labs} AND range_high IS NULL) AS lab_range_high_null,
  COUNT(*) FILTER (WHERE COALESCE(measurement_concept_id, 0) = 0) AS matched_by_source_value
FROM s_meas_unit"""


def quality(src: Source, as_of: object) -> dict[str, int]:
    """Counts of measurement rows that are not values (no usable unit, no value, ...)."""
    sql = with_clause(src, QUALITY_SQL.format(labs=_in(LAB_SETS)))
    row = src.execute(sql, {"as_of": as_of})[0]
    names = [
        "lab_rows",
        "lab_no_value",
        "lab_negative_value",
        "lab_no_usable_unit",
        "lab_unit_not_for_test",
        "lab_no_range_high",
        "lab_range_high_null",
        "matched_by_source_value",
    ]
    out = {n: int(v or 0) for n, v in zip(names, row, strict=True)}
    more = src.execute(
        with_clause(
            src,
            "SELECT (SELECT COUNT(*) FROM s_med WHERE tbl = 'drug_exposure'), "
            "(SELECT COUNT(*) FROM s_person WHERE birth_date IS NULL), (SELECT COUNT(*) FROM s_person)",
        ),
        {"as_of": as_of},
    )[0]
    out["medication_rows"] = int(more[0])
    out["persons_without_birth_date"] = int(more[1])
    out["persons"] = int(more[2])
    return out
