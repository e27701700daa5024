"""SQL vs the Python engine, per person × trial × criterion (truth, missing facts).

The Python side is `imnm.trials.evaluate.evaluate_catalog` on the record document that
`imnm cohort record` builds from the same rows; nothing here computes an expected value itself."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

Cell = tuple[bool | str | None, frozenset[str]]


def _py_one(args: tuple[dict[str, Any], date]) -> tuple[int, dict[str, Cell]]:
    from imnm.facts import REGISTRY, RecordFacts
    from imnm.record.load import parse_record
    from imnm.trials.evaluate import evaluate_catalog
    from imnm.trials.load import catalog

    doc, as_of = args
    rec = parse_record(doc)
    out: dict[str, Cell] = {}
    for tr in evaluate_catalog(catalog(), RecordFacts(rec, as_of=as_of), as_of=as_of, registry=REGISTRY):
        for c in tr.criteria:
            if c.criterion.rule is None:
                continue
            t: bool | str | None = {"met": True, "not_met": False, "unknown": None}.get(c.status, c.status)
            out[f"{tr.trial.id}/{c.criterion.id}"] = (t, frozenset(m.fact for m in c.missing))
    return int(doc["id"]), out


def python_cells(
    docs: Iterable[dict[str, Any]], as_of: date, processes: int = 2
) -> dict[int, dict[str, Cell]]:
    items = [(d, as_of) for d in docs]
    if len(items) < 500 or processes <= 1:
        return dict(map(_py_one, items))
    ctx = mp.get_context("fork")
    with ctx.Pool(processes) as pool:
        return dict(pool.imap_unordered(_py_one, items, chunksize=200))


@dataclass
class Run:
    sql: dict[int, dict[str, tuple[bool | None, frozenset[str], bool]]]
    docs: dict[int, dict[str, Any]]
    python_persons: int = 0
    python_evaluations: int = 0
    unbound: set[str] = field(default_factory=set)


def sql_cells(
    path: str | Path,
    as_of: date,
    *,
    coverage: str,
    fallback: str = "all",
    engine: str = "duckdb",
    with_docs: bool = True,
    trials: tuple[str, ...] | None = None,
) -> Run:
    from imnm.adapters.omop.record import build_records
    from imnm.facts import REGISTRY
    from imnm.services.cohort import open_db
    from imnm.sqlcompile.plan import build_plan
    from imnm.sqlcompile.run import criteria_results, materialize_leaves, python_pass
    from imnm.trials.load import catalog

    src, _res = open_db(path, engine)
    try:
        chosen = [t for t in catalog() if trials is None or t.id in trials]
        from imnm.facts import RecordFacts, derivations

        plan = build_plan(
            chosen, registry=REGISTRY, as_of=as_of, coverage=coverage, derivations=derivations()
        )
        materialize_leaves(plan, src)
        py = python_pass(plan, src, fallback=fallback, facts_for=lambda rec, day: RecordFacts(rec, as_of=day))
        sql = criteria_results(plan, src, py)
        docs = build_records(src, sorted(sql), as_of) if with_docs else {}
        return Run(sql, docs, py.persons if py else 0, py.signatures if py else 0, set(plan.comp.unbound))
    finally:
        src.close()


def differences(run: Run, py: dict[int, dict[str, Cell]]) -> list[tuple[int, str, Any, Any]]:
    out = []
    for pid, cells in py.items():
        for key, (t, missing) in cells.items():
            st, sm, deferred = run.sql[pid][key]
            if deferred:
                continue
            if st != t or sm != missing:
                out.append((pid, key, (st, sorted(sm)), (t, sorted(missing))))
    return out


def python_has_coverage() -> bool:
    """Does the Python engine read `coverage` yet (the lead's planned semantics)?"""
    from imnm.core import rules as r
    from imnm.core.evaluate import Run
    from imnm.facts import REGISTRY, RecordFacts
    from imnm.record.load import parse_record

    rec = parse_record(
        {
            "id": "probe",
            "medications": [],
            "coverage": {"medications": [{"start": "2020-01-01", "end": "2020-12-31"}]},
        }
    )
    node = r.parse_rule({"event": {"fact": "medication.rituximab", "window": {"before": "6mo"}}})
    day = date(2026, 1, 1)
    truth, _m = Run(RecordFacts(rec, as_of=day), day, REGISTRY).assess(node)
    return truth.value == "unknown"
