"""`imnm cohort synth`: a seeded synthetic OMOP CDM 5.4 set with myositis timelines (all data synthetic).

Generated in SQL by DuckDB (fast enough for 10 M persons), with every random draw a hash of
(seed, person, draw number), so one seed always gives the same tables. Archetypes (share of persons):

| archetype | share | timeline |
|---|---|---|
| `imnm_hmgcr` | 2 % | statin for years (70 %), stopped at onset; CK 15–60 × ULN falling slowly, still high months after the statin stopped; weakness code; anti-HMGCR positive (by answer concept or ≥ 20 units); EMG, biopsy; steroids, IVIG, methotrexate. A third never tested and never diagnosed (case-finding targets). |
| `imnm_srp` | 1 % | CK 30–80 × ULN; anti-SRP positive; dysphagia / ILD codes; IVIG, rituximab, plasma exchange |
| `imnm_seroneg` | 1 % | CK 10–40 × ULN; anti-HMGCR and anti-SRP negative; biopsy; cancer code more often |
| `statin_myopathy` | 3 % | simvastatin stopped at onset; CK 4–10 × ULN back to normal within 8 weeks; myalgia code; anti-HMGCR negative in half |
| `polymyositis` | 1 % | CK 5–20 × ULN; polymyositis code; anti-Jo-1 positive in a third |
| `dystrophy` | 1 % | CK 5–30 × ULN for years, muscular dystrophy code, no antibodies |
| `healthy` | 91 % | routine AST/ALT, weight, height, filler labs; a quarter on a statin; rare cancer / hypothyroidism codes |

Quirks on purpose: 5 % of CK rows without a unit (`unit_concept_id` 0), 10 % without `range_high`,
10 % in µkat/L (value and limit / 60), some duplicate dates, 2 % unmapped (`measurement_concept_id` 0
with the LOINC code in `measurement_source_value`), 2 % of persons with only a year of birth,
observation periods that end before the evaluation date or have gaps. CONCEPT and CONCEPT_ANCESTOR
hold the concepts used. Codes without a known OMOP id (anti-HMGCR 93493-5, anti-SRP 33921-8, the CPT
procedures, aldolase) get local ids above 2,000,000,000 (the range OMOP reserves for local concepts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

LOCAL = {
    "hmgcr": 2000000101,
    "srp": 2000000102,
    "aldolase": 2000000103,
    "biopsy": 2000000201,
    "emg": 2000000202,
    "mri": 2000000203,
    "plex": 2000000204,
    "ild": 2000000301,
}

# (concept_id, name, domain, vocabulary, class, standard, code)
CONCEPTS: list[tuple[int, str, str, str, str, str, str]] = [
    (
        3007220,
        "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma",
        "Measurement",
        "LOINC",
        "Lab Test",
        "S",
        "2157-6",
    ),
    (
        3013721,
        "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
        "Measurement",
        "LOINC",
        "Lab Test",
        "S",
        "1920-8",
    ),
    (
        3006923,
        "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
        "Measurement",
        "LOINC",
        "Lab Test",
        "S",
        "1742-6",
    ),
    (
        3016436,
        "Lactate dehydrogenase [Enzymatic activity/volume] in Serum or Plasma",
        "Measurement",
        "LOINC",
        "Lab Test",
        "S",
        "2532-0",
    ),
    (
        3009201,
        "Thyrotropin [Units/volume] in Serum or Plasma",
        "Measurement",
        "LOINC",
        "Lab Test",
        "S",
        "3016-3",
    ),
    (
        LOCAL["aldolase"],
        "Aldolase [Enzymatic activity/volume] in Serum or Plasma (local id)",
        "Measurement",
        "LOINC",
        "Lab Test",
        "S",
        "1761-6",
    ),
    (LOCAL["hmgcr"], "HMG CoA reductase Ab (local id)", "Measurement", "LOINC", "Lab Test", "S", "93493-5"),
    (
        LOCAL["srp"],
        "Signal recognition particle Ab (local id)",
        "Measurement",
        "LOINC",
        "Lab Test",
        "S",
        "33921-8",
    ),
    (
        3013023,
        "Jo-1 extractable nuclear Ab [Presence] in Serum",
        "Measurement",
        "LOINC",
        "Lab Test",
        "S",
        "8076-2",
    ),
    (3025315, "Body weight", "Measurement", "LOINC", "Clinical Observation", "S", "29463-7"),
    (3036277, "Body height", "Measurement", "LOINC", "Clinical Observation", "S", "8302-2"),
    (3004501, "Glucose [Mass/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "S", "2345-7"),
    (3000963, "Hemoglobin [Mass/volume] in Blood", "Measurement", "LOINC", "Lab Test", "S", "718-7"),
    (8645, "unit per liter", "Unit", "UCUM", "Unit", "S", "[U]/L"),
    (32995, "microkatal per liter", "Unit", "UCUM", "Unit", "S", "ukat/L"),
    (9040, "milli-international unit per liter", "Unit", "UCUM", "Unit", "S", "m[iU]/L"),
    (9529, "kilogram", "Unit", "UCUM", "Unit", "S", "kg"),
    (8582, "centimeter", "Unit", "UCUM", "Unit", "S", "cm"),
    (8840, "milligram per deciliter", "Unit", "UCUM", "Unit", "S", "mg/dL"),
    (9191, "Positive", "Meas Value", "SNOMED", "Qualifier Value", "S", "10828004"),
    (45884084, "Positive", "Meas Value", "LOINC", "Answer", "S", "LA6576-8"),
    (9189, "Negative", "Meas Value", "SNOMED", "Qualifier Value", "S", "260385009"),
    (79908, "Muscle weakness", "Condition", "SNOMED", "Clinical Finding", "S", "26544005"),
    (442752, "Muscle pain", "Condition", "SNOMED", "Clinical Finding", "S", "68962001"),
    (31317, "Dysphagia", "Condition", "SNOMED", "Clinical Finding", "S", "40739000"),
    (
        LOCAL["ild"],
        "Interstitial lung disease (local id)",
        "Condition",
        "SNOMED",
        "Clinical Finding",
        "S",
        "233703007",
    ),
    (443392, "Malignant neoplastic disease", "Condition", "SNOMED", "Clinical Finding", "S", "363346000"),
    (73001, "Myositis", "Condition", "SNOMED", "Clinical Finding", "S", "26889001"),
    (80800, "Polymyositis", "Condition", "SNOMED", "Clinical Finding", "S", "31384009"),
    (4347287, "Drug-induced myopathy", "Condition", "SNOMED", "Clinical Finding", "S", "240101000"),
    (4247802, "Muscular dystrophy", "Condition", "SNOMED", "Clinical Finding", "S", "73297009"),
    (140673, "Hypothyroidism", "Condition", "SNOMED", "Clinical Finding", "S", "40930008"),
    (1545958, "atorvastatin", "Drug", "RxNorm", "Ingredient", "S", "83367"),
    (1545959, "atorvastatin 80 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "259255"),
    (1539403, "simvastatin", "Drug", "RxNorm", "Ingredient", "S", "36567"),
    (1539411, "simvastatin 20 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "312961"),
    (1551099, "prednisone", "Drug", "RxNorm", "Ingredient", "S", "8640"),
    (19117912, "immunoglobulin G", "Drug", "RxNorm", "Ingredient", "S", "5666"),
    (1314273, "rituximab", "Drug", "RxNorm", "Ingredient", "S", "121191"),
    (1305058, "methotrexate", "Drug", "RxNorm", "Ingredient", "S", "6851"),
    (19014878, "azathioprine", "Drug", "RxNorm", "Ingredient", "S", "1256"),
    (LOCAL["biopsy"], "Biopsy, muscle; deep (local id)", "Procedure", "CPT4", "CPT4", "S", "20205"),
    (LOCAL["emg"], "Needle EMG, each extremity (local id)", "Procedure", "CPT4", "CPT4", "S", "95886"),
    (
        LOCAL["mri"],
        "MRI lower extremity other than joint (local id)",
        "Procedure",
        "CPT4",
        "CPT4",
        "S",
        "73718",
    ),
    (
        LOCAL["plex"],
        "Therapeutic apheresis; for plasma pheresis (local id)",
        "Procedure",
        "CPT4",
        "CPT4",
        "S",
        "36514",
    ),
]
ANCESTORS = [(1545958, 1545959), (1539403, 1539411), (73001, 80800)]

_ARCH = """CASE
  WHEN u0 < 0.02 THEN 'imnm_hmgcr' WHEN u0 < 0.03 THEN 'imnm_srp' WHEN u0 < 0.04 THEN 'imnm_seroneg'
  WHEN u0 < 0.07 THEN 'statin_myopathy' WHEN u0 < 0.08 THEN 'polymyositis' WHEN u0 < 0.09 THEN 'dystrophy'
  ELSE 'healthy' END"""


def _u(k: str) -> str:
    """A uniform draw in [0, 1) from (seed, person, k)."""
    return f"((hash($seed, person_id, {k}) % 1000003) / 1000003.0)"


BASE = f"""
base AS (
  SELECT person_id, {_u("0")} AS u0, {_ARCH} AS arch,
    DATE '2016-01-01' + CAST(floor({_u("1")} * 3400) AS INTEGER) AS t0,
    CASE WHEN {_u("2")} < 0.5 THEN 8532 ELSE 8507 END AS gender,
    1940 + CAST(floor({_u("3")} * 62) AS INTEGER) AS yob,
    1 + CAST(floor({_u("4")} * 12) AS INTEGER) AS mob,
    1 + CAST(floor({_u("5")} * 28) AS INTEGER) AS dob,
    {_u("6")} < 0.02 AS year_only,
    {_u("7")} AS u_test, {_u("8")} AS u_statin, {_u("9")} AS u_b, {_u("10")} AS u_c, {_u("11")} AS u_d
  FROM (SELECT range + 1 AS person_id FROM range($n)) r
),
b AS (
  SELECT *, arch LIKE 'imnm%' AS imnm,
    arch IN ('imnm_hmgcr', 'imnm_srp', 'imnm_seroneg', 'statin_myopathy', 'polymyositis', 'dystrophy') AS muscle,
    (arch LIKE 'imnm%' AND u_test < 0.33) AS untested,
    CASE WHEN gender = 8532 THEN 170.0 ELSE 190.0 END AS ck_uln
  FROM base
)"""


def _sql_person() -> str:
    return f"""WITH {BASE}
SELECT person_id, gender AS gender_concept_id, yob AS year_of_birth,
  CASE WHEN year_only THEN NULL ELSE mob END AS month_of_birth,
  CASE WHEN year_only THEN NULL ELSE dob END AS day_of_birth,
  CASE WHEN year_only THEN NULL ELSE make_timestamp(yob, mob, dob, 0, 0, 0) END AS birth_datetime,
  8527 AS race_concept_id, 0 AS ethnicity_concept_id, arch AS person_source_value
FROM b"""


def _sql_op() -> str:
    return f"""WITH {BASE}
SELECT person_id * 10 + k AS observation_period_id, person_id,
  CASE WHEN k = 0 THEN t0 - 1500 ELSE t0 + 500 END AS observation_period_start_date,
  CASE WHEN k = 0 THEN LEAST(t0 + CASE WHEN u_d < 0.12 THEN 300 ELSE 2500 END, DATE '2026-11-20')
       ELSE DATE '2026-11-20' END AS observation_period_end_date,
  32817 AS period_type_concept_id
FROM b, (SELECT CAST(range AS INTEGER) AS k FROM range(2)) ks
WHERE k = 0 OR (u_d < 0.12 AND t0 + 500 < DATE '2026-11-20')"""


def _meas_rows() -> str:
    """One SELECT per kind of measurement, unioned (values in the lab's unit)."""
    ck_fold = """CASE arch
      WHEN 'imnm_hmgcr' THEN (15 + 45 * ux) * pow(0.88, j)
      WHEN 'imnm_srp' THEN (30 + 50 * ux) * pow(0.85, j)
      WHEN 'imnm_seroneg' THEN (10 + 30 * ux) * pow(0.87, j)
      WHEN 'statin_myopathy' THEN (4 + 6 * ux) * pow(0.25, j)
      WHEN 'polymyositis' THEN (5 + 15 * ux) * pow(0.85, j)
      WHEN 'dystrophy' THEN (5 + 25 * ux)
      ELSE 0.3 + 0.9 * ux END"""
    return f"""
ck AS (
  SELECT b.*, j, ((hash($seed, person_id, 100 + j) % 1000003) / 1000003.0) AS ux,
    ((hash($seed, person_id, 200 + j) % 1000003) / 1000003.0) AS uq
  FROM b, (SELECT CAST(range AS INTEGER) AS j FROM range(10)) js
  WHERE j < CASE WHEN muscle THEN 4 + CAST(floor(u_c * 6) AS INTEGER) WHEN u_b < 0.3 THEN 1 ELSE 0 END
),
ckv AS (
  SELECT person_id, person_id * 1000 + j AS mid, 3007220 AS cid,
    CASE WHEN uq < 0.03 AND j > 0 THEN t0 + 30 * (j - 1) ELSE t0 + 30 * j END
      + CASE WHEN arch = 'healthy' THEN -CAST(floor(u_d * 900) AS INTEGER) ELSE 0 END AS d,
    round({ck_fold} * ck_uln, 0) AS v_ul, ck_uln, uq
  FROM ck
),
m_ck AS (
  SELECT person_id, mid AS measurement_id,
    CASE WHEN uq >= 0.20 AND uq < 0.22 THEN 0 ELSE cid END AS measurement_concept_id, d AS measurement_date,
    CASE WHEN uq >= 0.90 THEN round(v_ul / 60.0, 2) ELSE v_ul END AS value_as_number,
    CAST(NULL AS BIGINT) AS value_as_concept_id,
    CASE WHEN uq >= 0.85 AND uq < 0.90 THEN 0 WHEN uq >= 0.90 THEN 32995 ELSE 8645 END AS unit_concept_id,
    CASE WHEN uq >= 0.75 AND uq < 0.85 THEN NULL WHEN uq >= 0.90 THEN round(ck_uln / 60.0, 2) ELSE ck_uln END AS range_high,
    '2157-6' AS measurement_source_value
  FROM ckv
),
lab AS (
  SELECT b.*, j, kind, ((hash($seed, person_id, 300 + j * 10 + kind) % 1000003) / 1000003.0) AS ux
  FROM b, (SELECT CAST(range AS INTEGER) AS j FROM range(4)) js, (SELECT CAST(range AS INTEGER) AS kind FROM range(5)) ks
  WHERE j < CASE WHEN kind <= 1 THEN 2 + CAST(floor(u_b * 3) AS INTEGER) WHEN kind = 4 THEN (CASE WHEN u_c < 0.3 THEN 1 ELSE 0 END)
    WHEN muscle THEN 2 ELSE 0 END
),
m_lab AS (
  SELECT person_id, person_id * 1000 + 100 + kind * 10 + j AS measurement_id,
    CASE kind WHEN 0 THEN 3013721 WHEN 1 THEN 3006923 WHEN 2 THEN 3016436 WHEN 3 THEN {LOCAL["aldolase"]} ELSE 3009201 END AS measurement_concept_id,
    t0 + 45 * j - CASE WHEN muscle THEN 0 ELSE CAST(floor(u_d * 1200) AS INTEGER) END AS measurement_date,
    round(CASE kind WHEN 4 THEN 0.5 + 4 * ux ELSE
      (CASE WHEN muscle AND arch <> 'statin_myopathy' THEN 2 + 4 * ux ELSE 0.3 + 0.8 * ux END)
      * CASE kind WHEN 0 THEN 40 WHEN 1 THEN 45 WHEN 2 THEN 250 ELSE 8 END END, 1) AS value_as_number,
    CAST(NULL AS BIGINT) AS value_as_concept_id,
    CASE kind WHEN 4 THEN 9040 ELSE 8645 END AS unit_concept_id,
    CASE kind WHEN 0 THEN 40.0 WHEN 1 THEN 45.0 WHEN 2 THEN 250.0 WHEN 3 THEN 8.0 ELSE 4.5 END AS range_high,
    CASE kind WHEN 0 THEN '1920-8' WHEN 1 THEN '1742-6' WHEN 2 THEN '2532-0' WHEN 3 THEN '1761-6' ELSE '3016-3' END AS measurement_source_value
  FROM lab
),
m_ab AS (
  SELECT person_id, person_id * 1000 + 200 + k AS measurement_id,
    CASE k WHEN 0 THEN {LOCAL["hmgcr"]} WHEN 1 THEN {LOCAL["srp"]} ELSE 3013023 END AS measurement_concept_id,
    t0 + 14 + k AS measurement_date,
    CASE WHEN k = 0 AND arch = 'imnm_hmgcr' AND u_b < 0.5 THEN round(40 + 250 * u_c, 0) END AS value_as_number,
    CASE
      WHEN k = 0 AND arch = 'imnm_hmgcr' AND u_b < 0.5 THEN NULL
      WHEN k = 0 AND arch = 'imnm_hmgcr' THEN 9191
      WHEN k = 1 AND arch = 'imnm_srp' THEN 45884084
      WHEN k = 2 AND arch = 'polymyositis' AND u_c < 0.33 THEN 9191
      ELSE 9189 END AS value_as_concept_id,
    CAST(NULL AS BIGINT) AS unit_concept_id, CAST(NULL AS DOUBLE) AS range_high,
    CASE k WHEN 0 THEN '93493-5' WHEN 1 THEN '33921-8' ELSE '8076-2' END AS measurement_source_value
  FROM b, (SELECT CAST(range AS INTEGER) AS k FROM range(3)) ks
  WHERE NOT untested AND (
    (arch LIKE 'imnm%' AND k < 2) OR (arch = 'statin_myopathy' AND k = 0 AND u_c < 0.5)
    OR (arch = 'polymyositis'))
),
m_body AS (
  SELECT person_id, person_id * 1000 + 300 + k AS measurement_id,
    CASE WHEN k < 2 THEN 3025315 ELSE 3036277 END AS measurement_concept_id,
    t0 - 200 * k AS measurement_date,
    CASE WHEN k < 2 THEN round(50 + 60 * u_b + k, 1) ELSE round(150 + 45 * u_c, 0) END AS value_as_number,
    CAST(NULL AS BIGINT) AS value_as_concept_id, CASE WHEN k < 2 THEN 9529 ELSE 8582 END AS unit_concept_id,
    CAST(NULL AS DOUBLE) AS range_high, CASE WHEN k < 2 THEN '29463-7' ELSE '8302-2' END AS measurement_source_value
  FROM b, (SELECT CAST(range AS INTEGER) AS k FROM range(3)) ks
),
m_fill AS (
  SELECT person_id, person_id * 1000 + 400 + j AS measurement_id,
    CASE WHEN j % 2 = 0 THEN 3004501 ELSE 3000963 END AS measurement_concept_id,
    t0 - 60 * j AS measurement_date,
    round(CASE WHEN j % 2 = 0 THEN 70 + 60 * u_b ELSE 11 + 5 * u_c END, 1) AS value_as_number,
    CAST(NULL AS BIGINT) AS value_as_concept_id, CASE WHEN j % 2 = 0 THEN 8840 ELSE 0 END AS unit_concept_id,
    CAST(NULL AS DOUBLE) AS range_high, CASE WHEN j % 2 = 0 THEN '2345-7' ELSE '718-7' END AS measurement_source_value
  FROM b, (SELECT CAST(range AS INTEGER) AS j FROM range(24)) js
  WHERE j < 14 + CAST(floor(u_d * 10) AS INTEGER)
)"""


def _sql_measurement() -> str:
    cols = "person_id, measurement_id, measurement_concept_id, measurement_date, value_as_number, value_as_concept_id, unit_concept_id, range_high, measurement_source_value"
    return f"WITH {BASE},{_meas_rows()}\n" + " UNION ALL ".join(
        f"SELECT {cols} FROM {t}" for t in ("m_ck", "m_lab", "m_ab", "m_body", "m_fill")
    )


def _sql_condition() -> str:
    return f"""WITH {BASE}
SELECT person_id * 100 + k AS condition_occurrence_id, person_id,
  CASE k WHEN 0 THEN CASE WHEN arch = 'statin_myopathy' THEN 442752 ELSE 79908 END
    WHEN 1 THEN 31317 WHEN 2 THEN {LOCAL["ild"]} WHEN 3 THEN 443392
    WHEN 4 THEN CASE arch WHEN 'polymyositis' THEN 80800 WHEN 'dystrophy' THEN 4247802
      WHEN 'statin_myopathy' THEN 4347287 ELSE 73001 END
    ELSE 140673 END AS condition_concept_id,
  t0 + CASE k WHEN 0 THEN 0 WHEN 4 THEN 40 ELSE 20 * k END AS condition_start_date,
  CASE k WHEN 0 THEN '26544005' WHEN 1 THEN '40739000' ELSE '' END AS condition_source_value
FROM b, (SELECT CAST(range AS INTEGER) AS k FROM range(6)) ks
WHERE (k = 0 AND (muscle OR (arch = 'healthy' AND u_c < 0.02)))
  OR (k = 1 AND ((arch = 'imnm_srp' AND u_b < 0.4) OR (imnm AND u_b < 0.15)))
  OR (k = 2 AND arch = 'imnm_srp' AND u_c < 0.25)
  OR (k = 3 AND ((arch IN ('imnm_seroneg', 'imnm_hmgcr') AND u_d < 0.12) OR u_d < 0.02))
  OR (k = 4 AND muscle AND NOT untested AND arch <> 'statin_myopathy' OR (k = 4 AND arch = 'statin_myopathy' AND u_c < 0.3))
  OR (k = 5 AND arch = 'healthy' AND u_b < 0.04)"""


def _sql_drug() -> str:
    return f"""WITH {BASE},
d AS (
  SELECT b.*, k FROM b, (SELECT CAST(range AS INTEGER) AS k FROM range(7)) ks
  WHERE (k = 0 AND ((arch = 'imnm_hmgcr' AND u_statin < 0.7) OR (arch = 'healthy' AND u_statin < 0.25)))
    OR (k = 1 AND arch = 'statin_myopathy')
    OR (k = 2 AND muscle AND arch NOT IN ('statin_myopathy', 'dystrophy') AND NOT untested)
    OR (k = 3 AND imnm AND NOT untested AND u_c < 0.7)
    OR (k = 4 AND arch = 'imnm_srp' AND NOT untested AND u_b < 0.5)
    OR (k = 5 AND arch IN ('imnm_hmgcr', 'polymyositis') AND NOT untested AND u_b < 0.4)
    OR (k = 6 AND arch = 'polymyositis' AND u_c < 0.3)
)
SELECT person_id * 10 + k AS drug_exposure_id, person_id,
  CASE k WHEN 0 THEN 1545959 WHEN 1 THEN 1539411 WHEN 2 THEN 1551099 WHEN 3 THEN 19117912
    WHEN 4 THEN 1314273 WHEN 5 THEN 1305058 ELSE 19014878 END AS drug_concept_id,
  CASE k WHEN 0 THEN CASE WHEN arch = 'healthy' THEN t0 - 900 ELSE t0 - 700 END WHEN 1 THEN t0 - 200
    WHEN 2 THEN t0 + 30 WHEN 3 THEN t0 + 60 WHEN 4 THEN t0 + 120 WHEN 5 THEN t0 + 90 ELSE t0 + 100 END AS drug_exposure_start_date,
  CASE k WHEN 0 THEN CASE WHEN arch = 'healthy' THEN DATE '2027-06-30' ELSE t0 + 5 END WHEN 1 THEN t0 + 7
    WHEN 2 THEN t0 + 400 WHEN 3 THEN t0 + 240 WHEN 4 THEN t0 + 120 WHEN 5 THEN t0 + 700 ELSE t0 + 500 END AS drug_exposure_end_date,
  CASE k WHEN 0 THEN '259255' WHEN 1 THEN '312961' ELSE '' END AS drug_source_value
FROM d"""


def _sql_procedure() -> str:
    return f"""WITH {BASE}
SELECT person_id * 10 + k AS procedure_occurrence_id, person_id,
  CASE k WHEN 0 THEN {LOCAL["biopsy"]} WHEN 1 THEN {LOCAL["emg"]} WHEN 2 THEN {LOCAL["mri"]} ELSE {LOCAL["plex"]} END AS procedure_concept_id,
  t0 + CASE k WHEN 0 THEN 20 WHEN 1 THEN 10 WHEN 2 THEN 15 ELSE 150 END AS procedure_date,
  CASE k WHEN 0 THEN '20205' WHEN 1 THEN '95886' WHEN 2 THEN '73718' ELSE '36514' END AS procedure_source_value
FROM b, (SELECT CAST(range AS INTEGER) AS k FROM range(4)) ks
WHERE muscle AND arch <> 'statin_myopathy' AND NOT untested AND (
  (k = 0 AND u_b < 0.6) OR (k = 1 AND u_c < 0.7) OR (k = 2 AND u_d < 0.5) OR (k = 3 AND arch = 'imnm_srp' AND u_b < 0.1))"""


TABLES = {
    "person": _sql_person,
    "observation_period": _sql_op,
    "measurement": _sql_measurement,
    "condition_occurrence": _sql_condition,
    "drug_exposure": _sql_drug,
    "procedure_occurrence": _sql_procedure,
}


def generate(
    out: str | Path, *, persons: int, seed: int = 42, fmt: str = "parquet", progress: Any = None
) -> dict[str, int]:
    """Write the synthetic tables into `out` (one file per table); returns row counts."""
    import duckdb

    if fmt not in ("parquet", "csv"):
        from imnm.errors import InputError, Problem

        raise InputError(
            [Problem("--format", f"{fmt!r} is not a format", "use parquet or csv", value=fmt)],
            what="command line",
        )
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    counts: dict[str, int] = {}
    opts = "(FORMAT parquet, COMPRESSION zstd)" if fmt == "parquet" else "(FORMAT csv, HEADER true)"
    params = {"n": int(persons), "seed": int(seed)}
    for i, (table, make) in enumerate(TABLES.items()):
        path = folder / f"{table}.{fmt}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE t AS {make()}", params)
        counts[table] = int(con.execute("SELECT COUNT(*) FROM t").fetchall()[0][0])
        con.execute(f"COPY t TO '{str(path).replace(chr(39), chr(39) * 2)}' {opts}")
        con.execute("DROP TABLE t")
        if progress:
            progress(table, (i + 1) / (len(TABLES) + 2))
    con.execute(
        "CREATE TEMP TABLE c (concept_id BIGINT, concept_name VARCHAR, domain_id VARCHAR, vocabulary_id VARCHAR, "
        "concept_class_id VARCHAR, standard_concept VARCHAR, concept_code VARCHAR, invalid_reason VARCHAR)"
    )
    con.executemany("INSERT INTO c VALUES (?, ?, ?, ?, ?, ?, ?, NULL)", [list(r) for r in CONCEPTS])
    con.execute(f"COPY c TO '{str(folder / ('concept.' + fmt)).replace(chr(39), chr(39) * 2)}' {opts}")
    con.execute(
        "CREATE TEMP TABLE a (ancestor_concept_id BIGINT, descendant_concept_id BIGINT, min_levels_of_separation INTEGER, max_levels_of_separation INTEGER)"
    )
    rows = [(c[0], c[0], 0, 0) for c in CONCEPTS] + [(a, d, 1, 1) for a, d in ANCESTORS]
    con.executemany("INSERT INTO a VALUES (?, ?, ?, ?)", rows)
    con.execute(
        f"COPY a TO '{str(folder / ('concept_ancestor.' + fmt)).replace(chr(39), chr(39) * 2)}' {opts}"
    )
    counts["concept"] = len(CONCEPTS)
    counts["concept_ancestor"] = len(rows)
    con.close()
    return counts
