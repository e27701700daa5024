"""Run a screening plan on an OMOP source: SQL text, the Python fallback, and streamed results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from imnm.adapters.omop import staging
from imnm.adapters.omop.source import Source
from imnm.sqlcompile.compiler import AS_OF, Leaf
from imnm.sqlcompile.plan import REVIEW, Crit, Group, Plan

Progress = Callable[[str, float | None], None]

SS_CTE = (
    "SS",
    "SELECT person_id, COUNT(*) AS st_n, MAX(stop_d) AS st_last, "
    "COUNT(*) FILTER (WHERE stop_d IS NULL OR stop_d > CAST($as_of AS DATE)) AS st_open "
    "FROM s_medcls WHERE cls = 'statin' GROUP BY person_id",
)
"""Per person: the statin courses' last stop and whether one is still open (case-finding facts)."""


def _noop(_what: str, _frac: float | None) -> None:
    return None


@dataclass
class PyResults:
    """Python answers for the leaves that cannot be compiled, per signature."""

    leaves: list[Leaf]
    facts: dict[int, list[str]] = field(default_factory=dict)  # leaf index -> facts it may be missing
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    persons: int = 0  # persons whose verdict depended on them
    signatures: int = 0  # Python evaluations run


def _p(plan: Plan, value: Any) -> str:
    return f"CAST({plan.comp.p(value)} AS VARCHAR)"


def _aggregate_cte(plan: Plan, source: str, relation: str) -> str:
    cols = plan.comp.aggs[source]
    body = ", ".join(f"{sql} AS {name}" for name, sql in cols.items()) or "COUNT(*) AS _n"
    rels = plan.comp.joins.get(source, set())
    join = "".join(
        f" LEFT JOIN {rel} {alias} ON {alias}.person_id = x.person_id"
        for alias, rel in (("S", "s_scalar"), ("SS", "SS"))
        if alias in rels
    )
    return f"SELECT x.person_id, {body} FROM {relation} x{join} GROUP BY x.person_id"


def _sig_sql(plan: Plan) -> str:
    if plan.per_person:
        return "CAST(S.person_id AS VARCHAR)"
    parts = []
    for leaf in plan.signature_leaves:
        t = leaf.truth
        parts.append(f"COALESCE(CASE WHEN {t} THEN '1' WHEN NOT {t} THEN '0' END, 'n')")
        if leaf.anchor_missing:
            parts.append(f"CASE WHEN {leaf.anchor_missing} THEN 'a' ELSE '' END")
    from imnm.sqlcompile.plan import MED_INPUTS

    if MED_INPUTS:
        classes = ", ".join(plan.comp.p(c) for c in sorted(MED_INPUTS))
        n = plan.comp.agg("M", f"COUNT(*) FILTER (WHERE cls IN ({classes}))")
        parts.append(f"CASE WHEN COALESCE({n}, 0) > 0 THEN '#' || CAST(S.person_id AS VARCHAR) ELSE '' END")
    for target in ("HMGCR", "SRP"):
        for result in ("positive", "negative", "borderline"):
            col = plan.comp.agg(
                "A", f"COUNT(*) FILTER (WHERE target = '{target}' AND result = '{result}' AND d <= {AS_OF})"
            )
            parts.append(f"'|' || CAST(COALESCE({col}, 0) AS VARCHAR)")
    return " || ".join(parts) if parts else "''"


def _relation(source: str) -> str:
    if source == "A":
        return "s_ab"
    if source == "M":
        return "s_medcls"
    if source == "C":
        return "s_cov"
    if source == "Lenz":
        return "(SELECT * FROM s_lab WHERE test IN ('ck', 'aldolase', 'ast', 'alt', 'ldh'))"
    assert source.startswith("L")
    return f"(SELECT * FROM s_lab WHERE test = '{source[1:]}')"  # a test id of our own table


def leaf_ctes(plan: Plan, src: Source, *, persons: str | None = None) -> list[tuple[str, str]]:
    sig = _sig_sql(plan) if plan.python_leaves else "''"  # before the aggregates are rendered
    out = staging.ctes(src, persons=persons)
    if any("SS" in j for j in plan.comp.joins.values()):
        out.append(SS_CTE)
    sources = [k for k in plan.comp.aggs if plan.comp.aggs[k]]
    out += [(k, _aggregate_cte(plan, k, _relation(k))) for k in sources]
    cols = []
    for leaf in plan.comp.leaves.values():
        if leaf.python:
            continue
        cols.append(f"{leaf.truth} AS t{leaf.index}")
        if leaf.anchor_missing:
            cols.append(f"{leaf.anchor_missing} AS a{leaf.index}")
    cols.append(f"{sig} AS sig")
    out.append(
        (
            "Q1",
            "SELECT S.person_id, "
            + ", ".join(cols)
            + " FROM s_scalar S"
            + "".join(f" LEFT JOIN {k} ON {k}.person_id = S.person_id" for k in sources),
        )
    )
    return out


def _expand(crit: Crit, py: PyResults | None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for fact, cond in crit.candidates:
        if fact.startswith("@py"):
            k = int(fact[3:])
            for j, f in enumerate(py.facts.get(k, []) if py else []):
                out.append((f, f"({cond} AND Y.m{k}_{j})"))
        else:
            out.append((fact, cond))
    merged: dict[str, list[str]] = {}
    for f, cond in out:
        merged.setdefault(f, []).append(cond)
    return [(f, " OR ".join(c)) for f, c in merged.items()]


def crit_columns(plan: Plan, crits: list[Crit], py: PyResults | None) -> list[str]:
    cols = []
    for c in crits:
        if c.rule is None:
            continue
        cols.append(f"{c.sql} AS c{_cid(c)}")
        for j, (_f, cond) in enumerate(_expand(c, py)):
            cols.append(f"COALESCE({cond}, FALSE) AS m{_cid(c)}_{j}")
        if c.python:
            cols.append(f"(Y.sig IS NULL) AS y{_cid(c)}")
    return cols


def _cid(c: Crit) -> str:
    return str(c.index) if c.index >= 0 else f"x{-c.index}"


def y_relation(plan: Plan, py: PyResults | None) -> str:
    if py is None or not py.leaves:
        return "(SELECT CAST(NULL AS VARCHAR) AS sig WHERE 1 = 0)"
    return "imnm_y"


def q2_cte(plan: Plan, crits: list[Crit], py: PyResults | None, q1: str = "imnm_q1") -> tuple[str, str]:
    cols = crit_columns(plan, crits, py)
    y = y_relation(plan, py)
    ycols = ""
    if py is None or not py.leaves:
        ycols = "".join(f", CAST(NULL AS BOOLEAN) AS t{lf.index}" for lf in plan.python_leaves)
        y = f"(SELECT CAST(NULL AS VARCHAR) AS sig{ycols} WHERE 1 = 0)"
    return (
        "Q2",
        f"SELECT Q1.person_id, {', '.join(cols) or 'TRUE AS _x'} FROM {q1} Q1 LEFT JOIN {y} Y ON Y.sig = Q1.sig",
    )


Q1_TABLE = "imnm_q1"
Q2_TABLE = "imnm_q2"


def materialize_leaves(plan: Plan, src: Source, *, persons: str | None = None) -> None:
    """Compute every leaf for every person once (one scan of each table) and keep it as a table."""
    if src.staged_as_of != plan.as_of:
        staging.materialize(src, plan.as_of)
    ctes = leaf_ctes(plan, src, persons=persons)
    src.materialize(
        Q1_TABLE,
        "WITH " + ",\n".join(f"{n} AS ({q})" for n, q in ctes) + "\nSELECT * FROM Q1",
        plan.comp.params,
    )


def _failed(c: Crit) -> str:
    if c.rule is None:
        return "FALSE"
    return f"(Q2.c{_cid(c)} IS FALSE)" if c.kind == "inclusion" else f"(Q2.c{_cid(c)} IS TRUE)"


def _missing_any(c: Crit, py: PyResults | None) -> str:
    if c.rule is None:
        return "FALSE"
    ms = [f"Q2.m{_cid(c)}_{j}" for j in range(len(_expand(c, py)))]
    return f"(Q2.c{_cid(c)} IS NULL AND ({' OR '.join(ms) if ms else 'FALSE'}))"


def _deferred(c: Crit) -> str:
    return f"(Q2.c{_cid(c)} IS NULL AND Q2.y{_cid(c)})" if c.python else "FALSE"


def group_columns(plan: Plan, g: Group, gi: int, py: PyResults | None, *, strings: bool = True) -> list[str]:
    failed = [_failed(c) for c in g.crits]
    missing = [f"({_missing_any(c, py)} AND NOT {_deferred(c)})" for c in g.crits]
    deferred = [_deferred(c) for c in g.crits]
    review = [
        "TRUE"
        if c.rule is None
        else f"(Q2.c{_cid(c)} IS NULL AND NOT {_missing_any(c, py)} AND NOT {_deferred(c)})"
        for c in g.crits
    ]
    any_f = " OR ".join(failed)
    any_m = " OR ".join(missing + deferred)
    any_r = " OR ".join(review)
    verdict = (
        f"CASE WHEN {any_f} THEN 'ineligible' WHEN {any_m} THEN 'needs_information' "
        f"WHEN {any_r} THEN 'needs_information' ELSE 'eligible' END"
    )
    pending = f"CASE WHEN NOT ({any_f}) AND NOT ({any_m}) AND ({any_r}) THEN 'manual_review' END"
    failed_list = (
        "CONCAT_WS(',', "
        + ", ".join(f"CASE WHEN {f} THEN {_p(plan, c.id)} END" for f, c in zip(failed, g.crits, strict=True))
        + ")"
    )
    deferred_list = (
        "CONCAT_WS(',', "
        + ", ".join(
            f"CASE WHEN {d} THEN {_p(plan, c.id)} END" for d, c in zip(deferred, g.crits, strict=True)
        )
        + ")"
    )
    facts: dict[str, list[str]] = {}
    for c in g.crits if strings else []:
        if c.rule is None:
            continue
        for j, (f, _cond) in enumerate(_expand(c, py)):
            if f == REVIEW:
                continue
            facts.setdefault(f, []).append(f"(Q2.c{_cid(c)} IS NULL AND Q2.m{_cid(c)}_{j})")
    fact_any = {f: "(" + " OR ".join(cs) + ")" for f, cs in facts.items()}
    missing_list = (
        "CONCAT_WS(',', "
        + ", ".join(f"CASE WHEN {cond} THEN {_p(plan, f)} END" for f, cond in fact_any.items())
        + ")"
        if fact_any
        else "''"
    )
    tests: dict[str, list[str]] = {}
    for f, cond in fact_any.items():
        tests.setdefault(plan.tests.get(f, "history"), []).append(cond)
    test_any = {t: "(" + " OR ".join(cs) + ")" for t, cs in tests.items()}
    tests_list = (
        "CONCAT_WS(',', "
        + ", ".join(f"CASE WHEN {cond} THEN {_p(plan, t)} END" for t, cond in test_any.items())
        + ")"
        if test_any
        else "''"
    )
    n_tests = " + ".join(f"(CASE WHEN {cond} THEN 1 ELSE 0 END)" for cond in test_any.values()) or "0"
    n_review = " + ".join(f"(CASE WHEN {rv} THEN 1 ELSE 0 END)" for rv in review) or "0"
    return [
        f"{verdict} AS v{gi}",
        f"{pending} AS pe{gi}",
        f"{failed_list} AS f{gi}",
        f"{missing_list} AS mi{gi}",
        f"{tests_list} AS te{gi}",
        f"({n_tests}) AS nt{gi}",
        f"({n_review}) AS nr{gi}",
        f"{deferred_list} AS de{gi}",
    ]


BITS = 62  # facts per BIGINT word (the sign bit stays clear)


def fact_index(plan: Plan, py: PyResults | None) -> list[str]:
    """Every fact some criterion may report missing, in a fixed order (bit positions)."""
    seen: dict[str, None] = {}
    for c in plan.crits:
        if c.rule is not None:
            for f, _cond in _expand(c, py):
                if f != REVIEW:
                    seen.setdefault(f)
    return list(seen)


def _mask_words(plan: Plan, g: Group, py: PyResults | None, index: dict[str, int]) -> list[str]:
    """Per word: the group's missing facts as bits (criteria whose effect is 'missing' only)."""
    words = max(1, (len(index) + BITS - 1) // BITS)
    parts: list[list[str]] = [[] for _ in range(words)]
    for c in g.crits:
        if c.rule is None:
            continue
        for j, (f, _cond) in enumerate(_expand(c, py)):
            if f == REVIEW:
                continue
            i = index[f]
            bit = 1 << (i % BITS)
            parts[i // BITS].append(
                f"(CASE WHEN Q2.c{_cid(c)} IS NULL AND Q2.m{_cid(c)}_{j} THEN {bit} ELSE 0 END)"
            )
    return [" | ".join(p) if p else "CAST(0 AS BIGINT)" for p in parts]


def screen_sql(plan: Plan, src: Source, py: PyResults | None) -> str:
    """One row per person × trial (cohort). The criteria are kept as a table; each trial's missing facts
    are bit masks (cheap per row), and the readable lists of facts and tests are made once per distinct
    mask (a small decoding table joined back), so the output stays readable at the cost of integers."""
    cte = q2_cte(plan, plan.crits, py)
    src.materialize(Q2_TABLE, cte[1], plan.comp.params)
    facts = fact_index(plan, py)
    index = {f: i for i, f in enumerate(facts)}
    words = max(1, (len(facts) + BITS - 1) // BITS)
    parts = []
    for gi, g in enumerate(plan.groups):
        v, pe, f, _mi, _te, _nt, nr, de = (
            x.rsplit(" AS ", 1)[0] for x in group_columns(plan, g, gi, py, strings=False)
        )
        masks = _mask_words(plan, g, py, index)
        parts.append(
            f"SELECT Q2.person_id, {gi} AS gi, {v} AS verdict, {pe} AS pending, {f} AS failed, "
            + ", ".join(f"({m}) AS w{k}" for k, m in enumerate(masks))
            + f", {nr} AS n_review, {de} AS deferred FROM {Q2_TABLE} Q2"
        )
    src.materialize("imnm_q3", "\nUNION ALL\n".join(parts), plan.comp.params)
    wcols = [f"w{k}" for k in range(words)]
    decode = []
    for row in src.execute(f"SELECT DISTINCT {', '.join(wcols)} FROM imnm_q3"):
        present = [f for f, i in index.items() if int(row[i // BITS]) >> (i % BITS) & 1]
        tests = list(dict.fromkeys(plan.tests.get(f, "history") for f in present))
        decode.append((*[int(x) for x in row], ",".join(present), ",".join(tests), len(tests)))
    src.register(
        "imnm_decode",
        [
            *((w, "BIGINT") for w in wcols),
            ("missing", "VARCHAR"),
            ("tests", "VARCHAR"),
            ("n_tests", "INTEGER"),
        ],
        decode,
    )
    src.register(
        "imnm_groups",
        [("gi", "INTEGER"), ("trial", "VARCHAR"), ("cohort", "VARCHAR")],
        [(gi, g.trial, g.cohort) for gi, g in enumerate(plan.groups)],
    )
    on = " AND ".join(f"D.{w} = Q3.{w}" for w in wcols)
    return (
        "SELECT Q3.person_id, G.trial, G.cohort, Q3.verdict, Q3.pending, Q3.failed, D.missing, D.tests, D.n_tests, "
        f"Q3.n_review, Q3.deferred FROM imnm_q3 Q3 JOIN imnm_groups G ON G.gi = Q3.gi JOIN imnm_decode D ON {on}"
    )


def detail_sql(plan: Plan, src: Source, py: PyResults | None, crits: list[Crit]) -> str:
    """Per person: every criterion's truth and its missing facts (for agreement checks and --detail)."""
    ctes = [q2_cte(plan, crits, py)]
    cols = []
    for c in crits:
        if c.rule is None:
            continue
        exp_ = _expand(c, py)
        mlist = (
            "CONCAT_WS(',', "
            + ", ".join(
                f"CASE WHEN Q2.c{_cid(c)} IS NULL AND Q2.m{_cid(c)}_{j} THEN {_p(plan, f)} END"
                for j, (f, _x) in enumerate(exp_)
            )
            + ")"
            if exp_
            else "''"
        )
        cols.append(f"Q2.c{_cid(c)} AS c{_cid(c)}")
        cols.append(f"{mlist} AS mf{_cid(c)}")
        cols.append(f"{_deferred(c)} AS d{_cid(c)}")
    body = "SELECT Q2.person_id" + "".join(", " + x for x in cols) + " FROM Q2"
    return "WITH " + ",\n".join(f"{n} AS ({q})" for n, q in ctes) + "\n" + body


# ------------------------------------------------------------------ Python fallback


def python_pass(
    plan: Plan,
    src: Source,
    *,
    facts_for: Callable[[Any, date], Any],
    fallback: str = "verdict",
    progress: Progress = _noop,
) -> PyResults | None:
    """Evaluate the leaves that cannot be compiled, once per signature of the persons whose verdict
    depends on them (`fallback='all'`: of every person where they are still open)."""
    leaves = plan.python_leaves
    if not leaves:
        return None
    ctes = [q2_cte(plan, plan.crits, None)]
    conds = []
    for g in plan.groups:
        pys = [c for c in g.crits if c.python]
        if not pys:
            continue
        open_ = " OR ".join(f"Q2.c{_cid(c)} IS NULL" for c in pys)
        if fallback == "all":
            conds.append(f"({open_})")
        else:
            failed = " OR ".join(_failed(c) for c in g.crits)
            conds.append(f"(NOT ({failed}) AND ({open_}))")
    for crit in plan.extra_rules.values():
        if crit.python:
            conds.append(f"(Q2.c{_cid(crit)} IS NULL)")
    if not conds:
        return None
    ctes[-1] = q2_cte(plan, [*plan.crits, *plan.extra_rules.values()], None)
    ctes.append(("D", "SELECT Q2.person_id FROM Q2 WHERE " + " OR ".join(conds)))
    body = f"SELECT Q1.sig, MIN(Q1.person_id), COUNT(*) FROM {Q1_TABLE} Q1 JOIN D ON D.person_id = Q1.person_id GROUP BY Q1.sig"
    sql = "WITH " + ",\n".join(f"{n} AS ({q})" for n, q in ctes) + "\n" + body
    progress("finding persons whose verdict needs the Python work-up", None)
    groups = src.execute(sql, plan.comp.params)
    py = PyResults(leaves)
    py.persons = sum(int(n) for _s, _p, n in groups)
    py.signatures = len(groups)
    if not groups:
        return py
    from imnm.adapters.omop.record import build_records
    from imnm.core.evaluate import Run
    from imnm.record.load import parse_record

    reps = {int(pid): sig for sig, pid, _n in groups}
    results: dict[str, dict[int, tuple[bool | None, list[str]]]] = {}
    batch = sorted(reps)
    for start in range(0, len(batch), 2000):
        chunk = batch[start : start + 2000]
        docs = build_records(src, chunk, plan.as_of)
        for pid in chunk:
            rec = parse_record(docs[pid])
            run = Run(facts_for(rec, plan.as_of), plan.as_of, plan.registry)
            out = {}
            for leaf in leaves:
                truth, missing = run.assess(leaf.node)
                out[leaf.index] = (
                    truth.as_bool(),
                    list(dict.fromkeys(m.fact for m in missing if m.fact != REVIEW)),
                )
            results[reps[pid]] = out
        progress("Python work-up for the open persons", min(1.0, (start + len(chunk)) / len(batch)))
    for leaf in leaves:
        seen: dict[str, None] = {}
        for out in results.values():
            for f in out[leaf.index][1]:
                seen.setdefault(f)
        py.facts[leaf.index] = list(seen)
    columns: list[tuple[str, str]] = [("sig", "VARCHAR")]
    for leaf in leaves:
        columns.append((f"t{leaf.index}", "BOOLEAN"))
        columns += [(f"m{leaf.index}_{j}", "BOOLEAN") for j in range(len(py.facts[leaf.index]))]
    rows = []
    for sig, out in results.items():
        row: list[Any] = [sig]
        for leaf in leaves:
            known, needed = out[leaf.index]
            row.append(known)
            row += [f in needed for f in py.facts[leaf.index]]
        rows.append(tuple(row))
    src.register("imnm_y", columns, rows)
    py.rows = rows
    return py


SCREEN_COLUMNS = (
    "person_id",
    "trial",
    "cohort",
    "verdict",
    "pending",
    "failed",
    "missing",
    "tests",
    "n_tests",
    "n_review",
    "deferred",
)


def criteria_results(
    plan: Plan, src: Source, py: PyResults | None, *, crits: list[Crit] | None = None
) -> dict[int, dict[str, tuple[bool | None, frozenset[str], bool]]]:
    """person → 'trial/criterion' → (truth, missing facts, deferred)."""
    crits = [c for c in (crits or plan.crits) if c.rule is not None]
    out: dict[int, dict[str, tuple[bool | None, frozenset[str], bool]]] = {}
    sql = detail_sql(plan, src, py, crits)
    for rows in src.stream(sql, plan.comp.params):
        for row in rows:
            pid = int(row[0])
            d = {}
            for i, c in enumerate(crits):
                t, mf, dfr = row[1 + 3 * i : 4 + 3 * i]
                d[f"{c.trial}/{c.id}"] = (t, frozenset(x for x in (mf or "").split(",") if x), bool(dfr))
            out[pid] = d
    return out


def as_of_param(as_of: date) -> dict[str, Any]:
    return {"as_of": as_of}
