"""Registry screening use cases: screen every person against the trial catalog, case finding, and one
person's record. The CLI (`imnm cohort`) is a thin caller of these functions.

This is the one place that reaches into the trial catalog and the fact layer (`_catalog`, `_registry`,
`_derivations`, `_record_facts`).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from imnm.adapters.omop.source import Source, open_source
from imnm.errors import InputError, Problem

Progress = Callable[[str, float | None], None]


def _noop(_w: str, _f: float | None) -> None:
    return None


def _catalog(screening_window: str) -> tuple[Any, ...]:
    from imnm.trials.load import catalog

    return catalog(screening_window)


def _registry() -> Any:
    from imnm.facts import REGISTRY

    return REGISTRY


def _derivations() -> Any:
    from imnm.facts import derivations

    return derivations()


def _record_facts(record: Any, as_of: date) -> Any:
    from imnm.facts import RecordFacts

    return RecordFacts(record, as_of=as_of)


def open_db(
    location: str | Path, engine: str = "duckdb", memory_limit: str | None = None
) -> tuple[Source, Any]:
    """Open the database and resolve the concept sets against its vocabulary."""
    from imnm.adapters.omop.concepts import resolve

    if engine not in ("duckdb", "postgres", "spark"):
        raise InputError(
            [Problem("--engine", f"{engine!r} is not an engine", "use duckdb, postgres or spark", engine)],
            what="command line",
        )
    src = open_source(location, engine=engine, memory_limit=memory_limit)
    return src, resolve(src)


# ------------------------------------------------------------------ output


def output_format(path: Path) -> str:
    name = path.name.lower()
    for ext, fmt in ((".parquet", "parquet"), (".csv", "csv"), (".jsonl", "jsonl"), (".ndjson", "jsonl")):
        if name.endswith(ext):
            return fmt
    raise InputError(
        [
            Problem(
                "--out",
                f"{path.name!r} has no known extension",
                "end the file name in .parquet, .csv or .jsonl",
                str(path),
            )
        ],
        what="command line",
    )


def _batches(src: Source, sql: str, params: dict[str, Any], columns: Sequence[str]) -> Iterator[Any]:
    import pyarrow as pa

    if src.dialect == "duckdb":
        text = src.sql(sql)
        from imnm.adapters.omop.source import _used

        reader = src.con.sql(text, params=_used(text, params, "$")).to_arrow_reader(200_000)
        yield from reader
        return
    for rows in src.stream(sql, params):
        cols: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in columns]
        yield pa.RecordBatch.from_arrays([pa.array(c) for c in cols], names=list(columns))


def export(
    src: Source,
    sql: str,
    params: dict[str, Any],
    columns: Sequence[str],
    path: Path,
    *,
    progress: Progress = _noop,
    what: str = "writing",
    expected: int | None = None,
) -> int:
    """Write a query's rows to parquet / csv / jsonl with bounded memory: DuckDB's own parallel writer
    (COPY, with a progress bar from `query_progress`), else streamed batches through Arrow."""
    fmt = output_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if src.dialect != "duckdb":
        return write_rows(
            _batches(src, sql, params, columns),
            path,
            on_rows=lambda k: progress(what, k / expected if expected else None),
        )
    import threading

    from imnm.adapters.omop.source import _used

    text = src.sql(sql)
    opts = {
        "parquet": "FORMAT parquet, COMPRESSION zstd",
        "csv": "FORMAT csv, HEADER true",
        "jsonl": "FORMAT json",
    }[fmt]
    target = str(path).replace("'", "''")
    done = threading.Event()

    def poll() -> None:
        while not done.wait(2.0):
            try:
                pct = src.con.query_progress()
            except Exception:  # pragma: no cover - progress is best effort
                return
            if pct is not None and pct >= 0:
                progress(what, min(1.0, pct / 100.0))

    t = threading.Thread(target=poll, daemon=True)
    t.start()
    try:
        src.con.execute(f"COPY ({text}) TO '{target}' ({opts})", _used(text, params, "$"))
    finally:
        done.set()
        t.join()
    progress(what, 1.0)
    p = target
    reader = {
        "parquet": f"read_parquet('{p}')",
        "csv": f"read_csv('{p}', header = true)",
        "jsonl": f"read_json('{p}', format = 'newline_delimited')",
    }[fmt]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(str(path)).metadata.num_rows)
    import duckdb

    return int(duckdb.connect().execute(f"SELECT COUNT(*) FROM {reader}").fetchall()[0][0])


def write_rows(batches: Iterator[Any], path: Path, *, on_rows: Callable[[int], None] | None = None) -> int:
    """Stream record batches into parquet / csv / jsonl (bounded memory); returns the row count."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    fmt = output_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    writer: Any = None
    fh = None
    try:
        for batch in batches:
            if fmt == "parquet":
                if writer is None:
                    writer = pq.ParquetWriter(str(path), batch.schema, compression="zstd")
                writer.write_batch(batch)
            elif fmt == "csv":
                if writer is None:
                    writer = pacsv.CSVWriter(str(path), batch.schema)
                writer.write_batch(batch)
            else:
                if fh is None:
                    fh = path.open("w", encoding="utf-8")
                for row in batch.to_pylist():
                    fh.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")
            n += batch.num_rows
            if on_rows:
                on_rows(n)
        if writer is None and fh is None:  # no rows: still write an empty, valid file
            if fmt == "jsonl":
                path.write_text("", encoding="utf-8")
            elif fmt == "parquet":
                pq.write_table(pa.table({}), str(path))
            else:
                path.write_text("", encoding="utf-8")
    finally:
        if writer is not None:
            writer.close()
        if fh is not None:
            fh.close()
    return n


def _reader(path: Path) -> str:
    fmt = output_format(path)
    p = str(path).replace("'", "''")
    return {
        "parquet": f"read_parquet('{p}')",
        "csv": f"read_csv('{p}', header = true)",
        "jsonl": f"read_json('{p}', format = 'newline_delimited')",
    }[fmt]


# ------------------------------------------------------------------ screen


@dataclass
class ScreenResult:
    source: str
    engine: str
    as_of: date
    persons: int
    rows: int
    out: str | None
    trials: list[dict[str, Any]]
    top_missing_tests: list[dict[str, Any]]
    closest: list[dict[str, Any]]
    python: dict[str, Any]
    data_quality: dict[str, Any]
    concepts: dict[str, Any]
    unbound_facts: list[str]
    settings: dict[str, str]
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "engine": self.engine,
            "as_of": self.as_of.isoformat(),
            "persons": self.persons,
            "rows": self.rows,
            "out": self.out,
            "trials": self.trials,
            "top_missing_tests": self.top_missing_tests,
            "closest_to_eligible": self.closest,
            "python_fallback": self.python,
            "data_quality": self.data_quality,
            "concept_sets": self.concepts,
            "facts_without_omop_source": self.unbound_facts,
            "settings": self.settings,
            "seconds": self.seconds,
            "disclaimer": "Decision support, not a diagnosis; trial teams confirm eligibility at screening.",
        }


def screen(
    location: str | Path,
    *,
    as_of: date,
    engine: str = "duckdb",
    trials: Sequence[str] | None = None,
    out: Path | None = None,
    coverage: str = "observation_periods",
    fallback: str = "verdict",
    screening_window: str = "30d",
    memory_limit: str | None = None,
    progress: Progress = _noop,
) -> ScreenResult:
    from imnm.adapters.omop.staging import quality
    from imnm.sqlcompile.plan import build_plan
    from imnm.sqlcompile.run import SCREEN_COLUMNS, materialize_leaves, python_pass, screen_sql

    if coverage not in ("observation_periods", "complete"):
        raise InputError(
            [
                Problem(
                    "--coverage",
                    f"{coverage!r} is not an option",
                    "use observation_periods or complete",
                    coverage,
                )
            ],
            what="command line",
        )
    if fallback not in ("verdict", "all"):
        raise InputError(
            [Problem("--python-fallback", f"{fallback!r} is not an option", "use verdict or all", fallback)],
            what="command line",
        )
    t0 = time.perf_counter()
    catalog = list(_catalog(screening_window))
    if trials:
        known = {t.id for t in catalog}
        bad = [t for t in trials if t not in known]
        if bad:
            raise InputError(
                [
                    Problem("--trial", f"{b!r} is not in the catalog", "see `imnm trials list`", b)
                    for b in bad
                ],
                what="command line",
            )
        catalog = [t for t in catalog if t.id in set(trials)]
    progress("opening the database and resolving concept sets", None)
    src, res = open_db(location, engine, memory_limit)
    try:
        t1 = time.perf_counter()
        plan = build_plan(
            catalog, registry=_registry(), as_of=as_of, coverage=coverage, derivations=_derivations()
        )
        progress("computing every rule leaf for every person", None)
        materialize_leaves(plan, src)
        py = python_pass(plan, src, facts_for=_record_facts, fallback=fallback, progress=progress)
        t2 = time.perf_counter()
        target = out or Path(tempfile.mkdtemp(prefix="imnm-screen-")) / "results.parquet"
        output_format(target)
        persons = int(src.execute(f"SELECT COUNT(*) FROM {src.tables['person']}")[0][0])
        total = persons * len(plan.groups)
        progress("screening", 0.0)
        progress("criteria per person", None)
        sql = screen_sql(plan, src, py)
        n = export(
            src,
            sql,
            plan.comp.params,
            SCREEN_COLUMNS,
            target,
            progress=progress,
            what="screening",
            expected=total,
        )
        t3 = time.perf_counter()
        summary = summarize(target, plan)
        dq = quality(src, as_of)
        t4 = time.perf_counter()
        python_facts = sorted({lf.fact for lf in plan.python_leaves})
        result = ScreenResult(
            source=src.description,
            engine=engine,
            as_of=as_of,
            persons=persons,
            rows=n,
            out=str(out) if out else None,
            trials=summary["trials"],
            top_missing_tests=summary["tests"],
            closest=summary["closest"],
            python={
                "facts": python_facts,
                "persons_needing_python": py.persons if py else 0,
                "python_evaluations": py.signatures if py else 0,
                "deferred_cells": summary["deferred"],
                "mode": fallback,
            },
            data_quality=dq,
            concepts=res.as_dict(),
            unbound_facts=sorted(plan.comp.unbound),
            settings={
                "coverage": coverage,
                "python_fallback": fallback,
                "screening_window": screening_window,
            },
            seconds={
                "open": round(t1 - t0, 3),
                "python": round(t2 - t1, 3),
                "sql_and_write": round(t3 - t2, 3),
                "summary": round(t4 - t3, 3),
            },
        )
        if out is None:
            os.unlink(target)
        return result
    finally:
        src.close()


def summarize(path: Path, plan: Any) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect()
    rel = _reader(path)
    trials: list[dict[str, Any]] = []
    titles: dict[str, tuple[str | None, str]] = {}
    from imnm.trials.load import catalog

    for t in catalog():
        titles[t.id] = (t.acronym, t.status)
    for trial, cohort, verdict, pending, k in con.execute(
        f"SELECT trial, cohort, verdict, pending, COUNT(*) FROM {rel} GROUP BY ALL ORDER BY trial, cohort, verdict"
    ).fetchall():
        key = (trial, cohort)
        if not trials or (trials[-1]["trial"], trials[-1]["cohort"]) != key:
            acr, status = titles.get(trial, (None, None))
            trials.append(
                {
                    "trial": trial,
                    "cohort": cohort,
                    "acronym": acr,
                    "status": status,
                    "eligible": 0,
                    "needs_information": 0,
                    "manual_review_only": 0,
                    "ineligible": 0,
                }
            )
        trials[-1][verdict] += int(k)
        if pending == "manual_review":
            trials[-1]["manual_review_only"] += int(k)
    all_tests = sorted(set(plan.tests.values())) if plan is not None else []
    sums = ", ".join(
        f"COUNT(*) FILTER (WHERE verdict = 'needs_information' AND contains(',' || tests || ',', ',{t},'))"
        for t in all_tests
    )
    counts = con.execute(f"SELECT {sums} FROM {rel}").fetchall()[0] if all_tests else []
    ranked = sorted(((int(k), t) for k, t in zip(counts, all_tests, strict=True) if k), reverse=True)[:10]
    persons = (
        con.execute(
            "SELECT "
            + ", ".join(
                f"APPROX_COUNT_DISTINCT(person_id) FILTER (WHERE verdict = 'needs_information' AND contains(',' || tests || ',', ',{t},'))"
                for _k, t in ranked
            )
            + f" FROM {rel}"
        ).fetchall()[0]
        if ranked
        else []
    )
    tests = [
        {"test": t, "person_trials": k, "persons_approx": int(p)}
        for (k, t), p in zip(ranked, persons, strict=True)
    ]
    closest = [
        {
            "person_id": int(p),
            "trial": t,
            "cohort": c,
            "verdict": v,
            "tests": (te or "").split(",") if te else [],
            "n_review": int(nr),
        }
        for p, t, c, v, te, nr in con.execute(
            f"SELECT person_id, trial, cohort, verdict, tests, n_review FROM {rel} WHERE verdict <> 'ineligible' "
            "ORDER BY verdict = 'eligible' DESC, n_tests, n_review, person_id, trial LIMIT 10"
        ).fetchall()
    ]
    deferred = int(con.execute(f"SELECT COUNT(*) FROM {rel} WHERE deferred <> ''").fetchall()[0][0])
    con.close()
    return {"trials": trials, "tests": tests, "closest": closest, "deferred": deferred}


# ------------------------------------------------------------------ case finding


@dataclass
class CasesResult:
    source: str
    as_of: date
    persons: int
    hits: int
    possible: int
    possible_high_ck: int
    out: str | None
    top: list[dict[str, Any]]
    settings: dict[str, str]
    tests_to_order: list[str]
    data_quality: dict[str, Any]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "as_of": self.as_of.isoformat(),
            "persons": self.persons,
            "hits": self.hits,
            "possible": self.possible,
            "possible_with_one_high_ck": self.possible_high_ck,
            "out": self.out,
            "top_hits": self.top,
            "tests_to_order": self.tests_to_order,
            "settings": self.settings,
            "data_quality": self.data_quality,
            "seconds": self.seconds,
            "disclaimer": "A screening aid, not a diagnosis: a hit means 'consider anti-HMGCR / anti-SRP testing'; the clinician decides.",
        }


CASE_COLUMNS = (
    "person_id",
    "status",
    "missing",
    "tests_to_order",
    "ck_max_fold",
    "ck_dates_at_n",
    "ck_first",
    "ck_last",
    "ck_max_ref",
    "symptom_onset",
    "statin_last_stop",
    "ck_after_washout_max",
)


def case_plan(as_of: date, n: str | None, weeks: str | None, coverage: str = "observation_periods") -> Any:
    from imnm.services import case_facts
    from imnm.sqlcompile.plan import build_plan

    reg = case_facts.registry(weeks)
    rule = case_facts.rule(n)
    return build_plan(
        [],
        registry=reg,
        as_of=as_of,
        coverage=coverage,
        extra_rules={"case_finding": rule},
        extra_facts=case_facts.sql_facts(case_facts.washout_days(weeks)),
    )


def cases_sql(plan: Any, src: Source, n_fold: float) -> str:
    import functools

    from imnm.sqlcompile.bounds import float_condition
    from imnm.sqlcompile.compiler import AS_OF, SQL_FOLD, _round
    from imnm.sqlcompile.run import _cid, _expand, _p, leaf_ctes, q2_cte

    comp = plan.comp
    crit = plan.extra_rules["case_finding"]
    ck = f"test = 'ck' AND uln IS NOT NULL AND d <= {AS_OF}"
    at_n = comp._cond(float_condition(functools.partial(_round, nd=3), ">=", n_fold))(SQL_FOLD)
    ev = {
        "ck_max_fold": comp.agg("Lck", f"ROUND(MAX({SQL_FOLD}) FILTER (WHERE {ck}), 3)"),
        "ck_dates_at_n": comp.agg("Lck", f"COUNT(DISTINCT d) FILTER (WHERE {ck} AND {at_n})"),
        "ck_first": comp.agg("Lck", f"MIN(d) FILTER (WHERE {ck})"),
        "ck_last": comp.agg("Lck", f"MAX(d) FILTER (WHERE {ck})"),
        "ck_max_ref": comp.agg("Lck", f"ARG_MAX(rid, {SQL_FOLD}) FILTER (WHERE {ck})"),
    }
    comp.joins.setdefault("Lck", set()).add("SS")
    from imnm.services.case_facts import washout_days

    ev["ck_after_washout_max"] = comp.agg(
        "Lck",
        f"ROUND(MAX({SQL_FOLD}) FILTER (WHERE {ck} AND SS.st_n > 0 AND SS.st_open = 0 AND DATE_DIFF('day', SS.st_last, d) > {comp.p(washout_days())}), 3)",
    )
    ctes = leaf_ctes(plan, src)
    ctes.append(q2_cte(plan, [crit], None, q1="Q1"))
    cid = _cid(crit)
    exp_ = _expand(crit, None)
    missing = (
        "CONCAT_WS(',', "
        + ", ".join(f"CASE WHEN Q2.m{cid}_{j} THEN {_p(plan, f)} END" for j, (f, _c) in enumerate(exp_))
        + ")"
        if exp_
        else "''"
    )
    status = f"CASE WHEN Q2.c{cid} THEN 'hit' WHEN Q2.c{cid} IS NULL THEN 'possible' END"
    body = (
        f"SELECT Q2.person_id, {status} AS status, {missing} AS missing, {_p(plan, 'anti_hmgcr,anti_srp')} AS tests_to_order, "
        + ", ".join(f"{sql} AS {name}" for name, sql in ev.items() if name != "ck_after_washout_max")
        + ", S.symptom_onset, SS.st_last AS statin_last_stop, "
        + f"{ev['ck_after_washout_max']} AS ck_after_washout_max "
        "FROM Q2 JOIN s_scalar S ON S.person_id = Q2.person_id LEFT JOIN Lck ON Lck.person_id = Q2.person_id "
        f"LEFT JOIN SS ON SS.person_id = Q2.person_id WHERE Q2.c{cid} IS NOT FALSE "
        f"ORDER BY Q2.c{cid} IS NULL, {ev['ck_max_fold']} DESC NULLS LAST, Q2.person_id"
    )
    return "WITH " + ",\n".join(f"{n} AS ({q})" for n, q in ctes) + "\n" + body


def cases(
    location: str | Path,
    *,
    as_of: date,
    engine: str = "duckdb",
    out: Path | None = None,
    n: str | None = None,
    weeks: str | None = None,
    memory_limit: str | None = None,
    progress: Progress = _noop,
) -> CasesResult:
    from imnm.adapters.omop.staging import quality
    from imnm.services import case_facts

    t0 = time.perf_counter()
    chosen_n = case_facts.choice("ck_fold_n", n)
    chosen_w = case_facts.choice("statin_washout_weeks", weeks)
    progress("opening the database and resolving concept sets", None)
    src, _res = open_db(location, engine, memory_limit)
    try:
        plan = case_plan(as_of, chosen_n, chosen_w)
        from imnm.adapters.omop.staging import materialize

        materialize(src, as_of)
        sql = cases_sql(plan, src, float(chosen_n))
        target = out or Path(tempfile.mkdtemp(prefix="imnm-cases-")) / "cases.parquet"
        output_format(target)
        progress("case finding", None)
        export(src, sql, plan.comp.params, CASE_COLUMNS, target, progress=progress, what="case finding")
        import duckdb

        con = duckdb.connect()
        rel = _reader(target)
        hits = (
            int(con.execute(f"SELECT COUNT(*) FROM {rel} WHERE status = 'hit'").fetchall()[0][0])
            if target.stat().st_size
            else 0
        )
        possible = (
            int(con.execute(f"SELECT COUNT(*) FROM {rel} WHERE status = 'possible'").fetchall()[0][0])
            if target.stat().st_size
            else 0
        )
        repeat = (
            int(
                con.execute(
                    f"SELECT COUNT(*) FROM {rel} WHERE status = 'possible' AND ck_dates_at_n >= 1"
                ).fetchall()[0][0]
            )
            if target.stat().st_size
            else 0
        )
        top = []
        if hits:
            cols = [
                "person_id",
                "ck_max_fold",
                "ck_dates_at_n",
                "ck_first",
                "ck_last",
                "ck_max_ref",
                "symptom_onset",
                "statin_last_stop",
                "ck_after_washout_max",
            ]
            for row in con.execute(
                f"SELECT {', '.join(cols)} FROM {rel} WHERE status = 'hit' ORDER BY ck_max_fold DESC, person_id LIMIT 10"
            ).fetchall():
                d = dict(zip(cols, row, strict=True))
                d["ck_max_ref"] = f"measurement/{d['ck_max_ref']}" if d["ck_max_ref"] is not None else None
                top.append({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in d.items()})
        con.close()
        persons = int(src.execute(f"SELECT COUNT(*) FROM {src.tables['person']}")[0][0])
        result = CasesResult(
            source=src.description,
            as_of=as_of,
            persons=persons,
            hits=hits,
            possible=possible,
            possible_high_ck=repeat,
            out=str(out) if out else None,
            top=top,
            settings={"ck_fold_n": chosen_n, "statin_washout_weeks": chosen_w},
            tests_to_order=list(case_facts.table()["tests_to_order"]),
            data_quality=quality(src, as_of),
            seconds=round(time.perf_counter() - t0, 3),
        )
        if out is None:
            os.unlink(target)
        return result
    finally:
        src.close()


# ------------------------------------------------------------------ one person


def person_record(
    location: str | Path, person_id: int, *, as_of: date, engine: str = "duckdb"
) -> dict[str, Any]:
    from imnm.adapters.omop.record import build_record
    from imnm.record.load import parse_record

    src, _res = open_db(location, engine)
    try:
        doc = build_record(src, person_id, as_of)
    finally:
        src.close()
    if doc is None:
        raise InputError(
            [
                Problem(
                    "PERSON_ID",
                    f"no person {person_id} in the database",
                    "check the id (PERSON.person_id)",
                    person_id,
                )
            ],
            what="command line",
        )
    parse_record(doc)  # the document is a valid record by construction; fail loudly if not
    return doc
