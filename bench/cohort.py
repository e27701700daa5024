"""`make bench` stage for registry screening (issue 13): whole catalog + case finding on a generated OMOP
set, side by side with a hand-written DuckDB query for one trial and the per-record Python path.

    python bench/cohort.py                    # 1 M persons (≈ 29 M measurement rows), Parquet
    python bench/cohort.py --persons 10000000 # the 10 M run (≈ 290 M rows; ~12 GB of Parquet, see README)

Each stage runs in its own process (wall time and that process's peak RSS). The data is generated once
into bench/results/omop-<N> (seeded). Goals (issue 13): 10 M persons < 60 s on 2 cores and < 8 GB RSS;
within 2 × of the hand-written query; ≥ 100 × faster than per-record Python. Missed goals are reported.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
AS_OF = "2026-11-25"
TRIAL = "NCT06599697"  # MIGHT: every criterion compiles (no Python work-up facts)

STAGE = r"""
import json, resource, sys, time
sys.path.insert(0, {src!r})
from datetime import date
t0 = time.perf_counter()
out = {{}}
{body}
out["seconds"] = round(time.perf_counter() - t0, 3)
out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
print("RESULT " + json.dumps(out))
"""

SCREEN = """
from pathlib import Path
from imnm.services.cohort import screen
r = screen({data!r}, as_of=date.fromisoformat({as_of!r}), out=Path({out!r}), trials={trials!r}, memory_limit={mem!r})
out.update(rows=r.rows, persons=r.persons, python=r.python, seconds_detail=r.seconds)
"""

CASES = """
from pathlib import Path
from imnm.services.cohort import cases
r = cases({data!r}, as_of=date.fromisoformat({as_of!r}), out=Path({out!r}), memory_limit={mem!r})
out.update(hits=r.hits, possible=r.possible, persons=r.persons)
"""

# A hand-written three-valued per-person query for MIGHT's encoded criteria (verdict and failed
# criteria; the compiled plan also lists every missing fact and test). NULL = unknown, absence of a
# medicine is "no" only inside an observation period, CK × ULN = value / range_high with a usable unit.
HAND = """
import duckdb
con = duckdb.connect(config={{"memory_limit": {mem!r}}} if {mem!r} else {{}})
d = {data!r}
sql = '''
WITH p AS (SELECT person_id, gender_concept_id,
    TRY_CAST(make_date(year_of_birth, month_of_birth, day_of_birth) AS DATE) AS birth FROM read_parquet('{{d}}/person.parquet')),
ck AS (SELECT person_id, arg_max(value_as_number / range_high, {{'d': measurement_date, 'r': -measurement_id}}) AS fold
    FROM read_parquet('{{d}}/measurement.parquet')
    WHERE measurement_concept_id = 3007220 AND unit_concept_id IN (8645, 32995) AND range_high > 0
      AND value_as_number >= 0 AND measurement_date BETWEEN DATE '{as_of}' - 30 AND DATE '{as_of}'
    GROUP BY person_id),
ab AS (SELECT person_id, bool_or(value_as_concept_id IN (9191, 45884084) OR value_as_number >= 20) AS hmgcr
    FROM read_parquet('{{d}}/measurement.parquet') WHERE measurement_concept_id = 2000000101 GROUP BY person_id),
dx AS (SELECT person_id, min(condition_start_date) AS dx FROM read_parquet('{{d}}/condition_occurrence.parquet')
    WHERE condition_concept_id IN (73001, 80800, 4347287) AND condition_start_date <= DATE '{as_of}' GROUP BY person_id),
med AS (SELECT person_id,
    count(*) FILTER (WHERE drug_concept_id = 1551099 AND drug_exposure_start_date <= DATE '{as_of}' AND coalesce(drug_exposure_end_date, DATE '{as_of}') >= DATE '{as_of}') AS gc_now,
    count(*) FILTER (WHERE drug_concept_id = 1551099 AND (drug_exposure_start_date BETWEEN DATE '{as_of}' - 14 AND DATE '{as_of}' OR drug_exposure_end_date BETWEEN DATE '{as_of}' - 14 AND DATE '{as_of}')) AS gc_change,
    count(*) FILTER (WHERE drug_concept_id = 19117912 AND drug_exposure_start_date <= DATE '{as_of}') AS ivig,
    count(*) FILTER (WHERE drug_concept_id = 1314273 AND drug_exposure_start_date <= DATE '{as_of}' AND coalesce(drug_exposure_end_date, DATE '{as_of}') >= DATE '{as_of}' - INTERVAL 6 MONTH) AS rtx,
    count(*) FILTER (WHERE drug_concept_id IN (1545959, 1539411) AND drug_exposure_start_date <= DATE '{as_of}' AND coalesce(drug_exposure_end_date, DATE '{as_of}') >= DATE '{as_of}') AS statin_now
    FROM read_parquet('{{d}}/drug_exposure.parquet') GROUP BY person_id),
op AS (SELECT person_id,
    bool_or(observation_period_start_date <= DATE '{as_of}' AND observation_period_end_date >= DATE '{as_of}') AS cov_now,
    bool_or(observation_period_start_date <= DATE '{as_of}' - 14 AND observation_period_end_date >= DATE '{as_of}') AS cov_2w,
    bool_or(observation_period_start_date <= DATE '{as_of}' - INTERVAL 6 MONTH AND observation_period_end_date >= DATE '{as_of}') AS cov_6mo
    FROM read_parquet('{{d}}/observation_period.parquet') GROUP BY person_id),
c AS (SELECT p.person_id,
    (date_diff('year', p.birth, DATE '{as_of}') - CASE WHEN strftime(DATE '{as_of}', '%m%d') < strftime(p.birth, '%m%d') THEN 1 ELSE 0 END) > 16 AS inc1,
    CASE WHEN ab.hmgcr THEN TRUE WHEN ab.person_id IS NOT NULL THEN FALSE END AS inc2,
    CAST(NULL AS BOOLEAN) AS inc3,
    ck.fold > 5 AS inc4,
    date_diff('day', dx.dx, DATE '{as_of}') / 30.4375 < 36 AS inc5,
    CASE WHEN med.gc_now > 0 THEN NULL WHEN op.cov_now THEN FALSE END AS exc1,
    CASE WHEN med.gc_change > 0 THEN TRUE WHEN op.cov_2w THEN FALSE END AS exc2,
    CASE WHEN med.ivig > 0 THEN TRUE END AS exc3,
    CASE WHEN med.rtx > 0 THEN TRUE WHEN op.cov_6mo THEN FALSE END AS exc6,
    CASE WHEN med.statin_now > 0 THEN TRUE WHEN op.cov_now THEN FALSE END AS exc8
  FROM p LEFT JOIN ck USING (person_id) LEFT JOIN ab USING (person_id) LEFT JOIN dx USING (person_id)
  LEFT JOIN med USING (person_id) LEFT JOIN op USING (person_id))
SELECT person_id,
  CASE WHEN inc1 IS FALSE OR inc2 IS FALSE OR inc4 IS FALSE OR inc5 IS FALSE OR exc1 OR exc2 OR exc3 OR exc6 OR exc8
    THEN 'ineligible' ELSE 'needs_information' END AS verdict,
  concat_ws(',', CASE WHEN inc1 IS FALSE THEN 'inc-1' END, CASE WHEN inc2 IS FALSE THEN 'inc-2' END,
    CASE WHEN inc4 IS FALSE THEN 'inc-4' END, CASE WHEN inc5 IS FALSE THEN 'inc-5' END, CASE WHEN exc1 THEN 'exc-1' END,
    CASE WHEN exc2 THEN 'exc-2' END, CASE WHEN exc3 THEN 'exc-3' END, CASE WHEN exc6 THEN 'exc-6' END,
    CASE WHEN exc8 THEN 'exc-8' END) AS failed
FROM c'''.replace('{{d}}', d)
con.execute(f"COPY ({{sql}}) TO {out!r} (FORMAT parquet)")
out["rows"] = con.execute(f"SELECT COUNT(*) FROM read_parquet({out!r})").fetchall()[0][0]
"""

PYTHON = """
from imnm.adapters.omop.record import build_records
from imnm.services.cohort import open_db
from imnm.facts import REGISTRY, RecordFacts
from imnm.record.load import parse_record
from imnm.trials.evaluate import evaluate_catalog
from imnm.trials.load import catalog
day = date.fromisoformat({as_of!r})
src, _ = open_db({data!r})
ids = list(range(1, {n} + 1))
t = time.perf_counter()
docs = build_records(src, ids, day)
out["build_records_s"] = round(time.perf_counter() - t, 3)
trials = catalog()
t = time.perf_counter()
for pid in ids:
    evaluate_catalog(trials, RecordFacts(parse_record(docs[pid]), as_of=day), as_of=day, registry=REGISTRY)
out["evaluate_s"] = round(time.perf_counter() - t, 3)
out["persons"] = len(ids)
"""


def run_stage(name: str, body: str) -> dict[str, object]:
    code = STAGE.format(src=str(ROOT / "src"), body=body)
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if p.returncode != 0 or line is None:
        raise SystemExit(
            f"stage {name} failed (exit {p.returncode}):\n{p.stderr[-3000:]}\n{p.stdout[-2000:]}"
        )
    res: dict[str, object] = json.loads(line[7:])
    res["wall_s"] = round(wall, 3)
    print(f"  {name:<34} {res['seconds']:>9.2f} s  peak RSS {res['peak_rss_mb']:>8.0f} MB", flush=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--python-sample", type=int, default=10_000)
    ap.add_argument("--memory-limit", default=None, help="DuckDB memory limit, e.g. 6GB")
    ap.add_argument("--json", type=Path, default=RESULTS / "cohort.json")
    args = ap.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = RESULTS / f"omop-{args.persons}-seed{args.seed}"
    sys.path.insert(0, str(ROOT / "src"))
    if not (data / "person.parquet").exists():
        from imnm.adapters.omop.synth import generate

        t = time.perf_counter()
        counts = generate(data, persons=args.persons, seed=args.seed)
        print(
            f"generated {args.persons:,} persons ({counts['measurement']:,} measurement rows) in {time.perf_counter() - t:.1f} s"
        )
    import duckdb

    meas = (
        duckdb.connect()
        .execute(f"SELECT COUNT(*) FROM read_parquet('{data}/measurement.parquet')")
        .fetchall()[0][0]
    )
    rows_in = sum(
        duckdb.connect().execute(f"SELECT COUNT(*) FROM read_parquet('{f}')").fetchall()[0][0]
        for f in data.glob("*.parquet")
    )
    print(
        f"OMOP set {data.name}: {args.persons:,} persons, {meas:,} measurement rows, {rows_in:,} rows in all"
    )
    fmt = {"data": str(data), "as_of": AS_OF, "mem": args.memory_limit}
    res: dict[str, object] = {"persons": args.persons, "measurement_rows": meas, "input_rows": rows_in}
    res["catalog"] = run_stage(
        "whole catalog (19 trials)", SCREEN.format(**fmt, out=str(RESULTS / "screen.parquet"), trials=None)
    )
    res["cases"] = run_stage("case finding", CASES.format(**fmt, out=str(RESULTS / "cases.parquet")))
    res["one_trial"] = run_stage(
        f"compiled plan, one trial ({TRIAL})",
        SCREEN.format(**fmt, out=str(RESULTS / "one.parquet"), trials=[TRIAL]),
    )
    res["hand"] = run_stage(
        f"hand-written DuckDB ({TRIAL})", HAND.format(**fmt, out=str(RESULTS / "hand.parquet"))
    )
    res["python"] = run_stage(
        f"per-record Python, {args.python_sample:,} persons", PYTHON.format(**fmt, n=args.python_sample)
    )
    py = res["python"]
    assert isinstance(py, dict)
    per_person = (float(py["build_records_s"]) + float(py["evaluate_s"])) / args.python_sample
    py_total = per_person * args.persons
    cat, cases, one, hand = (res[k] for k in ("catalog", "cases", "one_trial", "hand"))
    assert (
        isinstance(cat, dict) and isinstance(cases, dict) and isinstance(one, dict) and isinstance(hand, dict)
    )
    whole = float(cat["seconds"]) + float(cases["seconds"])
    summary = {
        "whole_catalog_plus_cases_s": round(whole, 2),
        "peak_rss_mb": max(float(cat["peak_rss_mb"]), float(cases["peak_rss_mb"])),
        "input_rows_per_s": round(rows_in / whole),
        "output_rows_per_s": round(float(cat["rows"]) / float(cat["seconds"])),  # type: ignore[arg-type]
        "one_trial_vs_hand_written": round(float(one["seconds"]) / float(hand["seconds"]), 2),
        "python_extrapolated_s": round(py_total, 1),
        "speedup_vs_python": round(py_total / whole, 1),
        "extrapolated_10M_s": round(whole * 10_000_000 / args.persons, 1),
    }
    res["summary"] = summary
    print(json.dumps(summary, indent=2))
    goals = [
        ("10 M persons < 60 s (extrapolated linearly)", summary["extrapolated_10M_s"] < 60),
        ("peak RSS < 8 GB", summary["peak_rss_mb"] < 8192),
        ("one trial within 2 × the hand-written query", summary["one_trial_vs_hand_written"] <= 2),
        ("≥ 100 × faster than per-record Python", summary["speedup_vs_python"] >= 100),
    ]
    for text, ok in goals:
        print(f"  {'met ' if ok else 'MISSED'}  {text}")
    res["goals"] = {t: ok for t, ok in goals}
    args.json.write_text(json.dumps(res, indent=2, default=str))
    print(f"→ {args.json}")


if __name__ == "__main__":
    main()
