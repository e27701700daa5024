"""Facts that case finding needs and the vocabulary lacks (`knowledge/data/case_finding.yaml` → facts).

Kept apart on purpose: a Python derivation over the record document (a registry of its own that
extends the full vocabulary, so nothing in `imnm.facts` changes) and the SQL for each fact
(`sql_facts`, used by the compiler). The lead will move them into the new fact vocabulary.

| fact | kind | definition |
|---|---|---|
| `lab.ck.fold.on_two_dates` | number (× ULN) | second-highest of the per-date highest CK × ULN (rounded as `lab.ck.fold`), dates on or before as_of; unknown with < 2 dates |
| `lab.ck.fold.after_statin_stop` | number (× ULN), dated | CK × ULN results dated more than W weeks after the last statin course ended, when every course ended on or before as_of |
| `condition.muscle_symptom_on_file` | bool | `symptom_onset` is set (false otherwise) |
| `diagnosis.myositis_on_file` | bool | `diagnosis_date` is set (false otherwise) |
| `antibody.hmgcr_or_srp_tested` | bool | an anti-HMGCR or anti-SRP result dated on or before as_of (or undated) is on file |
"""

from __future__ import annotations

import functools
from datetime import timedelta
from functools import cache
from typing import Any

from imnm import knowledge
from imnm.core import rules as r
from imnm.core.facts import FactSpec, Observation, Registry
from imnm.core.quantities import fold_over_uln
from imnm.record.facts import Context, medication_matches
from imnm.record.model import Record

Obs = tuple[Observation, ...] | None


@cache
def table() -> dict[str, Any]:
    return knowledge.load("case_finding")


def choice(choice_id: str, value: str | None = None) -> str:
    for c in table()["choices"]:
        if c["id"] == choice_id:
            chosen = str(value if value is not None else c["default"])
            if chosen not in {str(k) for k in c["options"]}:
                from imnm.errors import InputError, Problem

                raise InputError(
                    [
                        Problem(
                            f"--{choice_id.replace('_', '-')}",
                            f"{chosen!r} is not an option",
                            f"use one of {', '.join(map(str, c['options']))}",
                            chosen,
                        )
                    ],
                    what="command line",
                )
            return chosen
    raise KeyError(choice_id)


def washout_days(weeks: str | None = None) -> int:
    return 7 * int(choice("statin_washout_weeks", weeks))


def _ck_folds(rec: Record) -> list[tuple[Any, float, int]]:
    return [
        (lab.date, round(fold_over_uln(lab.value, lab.uln), 3), i)
        for i, lab in enumerate(rec.labs or [])
        if lab.test == "ck" and lab.uln and lab.date is not None
    ]


def _on_two_dates(rec: Record, ctx: Context) -> Obs:
    per_date: dict[Any, float] = {}
    for d, f, _i in _ck_folds(rec):
        if d <= ctx.as_of:
            per_date[d] = max(per_date.get(d, f), f)
    if len(per_date) < 2:
        return None
    second = sorted(per_date.values(), reverse=True)[1]
    return (Observation(second, None, "labs (CK on at least two dates)"),)


def _after_statin(rec: Record, ctx: Context, *, days: int) -> Obs:
    if rec.medications is None:
        return None
    statins = [m for m in rec.medications if medication_matches(m.name, "statin")]
    if not statins or any(m.stop is None or m.stop > ctx.as_of for m in statins):
        return None
    last = max(m.stop for m in statins if m.stop is not None)
    limit = last + timedelta(days=days)
    out = tuple(
        Observation(
            f, d, f"labs[{i}]", f"{(d - last).days} days after the statin stopped on {last.isoformat()}"
        )
        for d, f, i in _ck_folds(rec)
        if d > limit
    )
    return out or None


def _tested(rec: Record, ctx: Context) -> Obs:
    hit = any(
        a.target in ("HMGCR", "SRP") and (a.date is None or a.date <= ctx.as_of) for a in rec.antibodies or []
    )
    return (Observation(hit, None, "antibodies"),)


@cache
def registry(weeks: str | None = None) -> Registry:
    """The full vocabulary plus the case-finding facts (a separate registry: nothing global changes)."""
    from imnm.facts import REGISTRY

    reg = Registry()
    for spec in REGISTRY.specs():
        reg.register(spec)
    days = washout_days(weeks)
    reg.register(
        FactSpec(
            "lab.ck.fold.on_two_dates",
            "number",
            "CK × ULN reached on at least two dates",
            "a repeat CK (blood test) with the lab's upper limit of normal",
            "ck",
            unit="xULN",
            resolve=_on_two_dates,
            description=table()["facts"]["lab.ck.fold.on_two_dates"],
        )
    )
    reg.register(
        FactSpec(
            "lab.ck.fold.after_statin_stop",
            "number",
            "CK × ULN after the statin washout",
            "CK (blood test) more than the washout after the statin was stopped, and the statin stop date",
            "ck",
            unit="xULN",
            dated=True,
            resolve=functools.partial(_after_statin, days=days),
            description=table()["facts"]["lab.ck.fold.after_statin_stop"],
        )
    )
    reg.register(
        FactSpec(
            "condition.muscle_symptom_on_file",
            "bool",
            "weakness or myopathy code on file",
            "muscle symptoms (question)",
            "history",
            resolve=lambda rec, ctx: (Observation(rec.symptom_onset is not None, None, "symptom_onset"),),
        )
    )
    reg.register(
        FactSpec(
            "diagnosis.myositis_on_file",
            "bool",
            "myositis diagnosis on file",
            "diagnosis (question)",
            "history",
            resolve=lambda rec, ctx: (Observation(rec.diagnosis_date is not None, None, "diagnosis_date"),),
        )
    )
    reg.register(
        FactSpec(
            "antibody.hmgcr_or_srp_tested",
            "bool",
            "anti-HMGCR / anti-SRP result on file",
            "anti-HMGCR and anti-SRP antibodies (blood test)",
            "anti_hmgcr",
            resolve=_tested,
        )
    )
    return reg


def _substitute(data: Any, n: str) -> Any:
    if isinstance(data, dict):
        if set(data) == {"choice"}:
            return float(choice(data["choice"], n if data["choice"] == "ck_fold_n" else None))
        return {k: _substitute(v, n) for k, v in data.items()}
    if isinstance(data, list):
        return [_substitute(v, n) for v in data]
    return data


def rule(n: str | None = None) -> r.Expr:
    """The case-finding rule with the chosen N (validated against the extended vocabulary)."""
    from imnm.core.evaluate import require_valid

    node = r.parse_rule(_substitute(table()["rule"], choice("ck_fold_n", n)))
    require_valid(node, registry(), path="case_finding.rule", file="knowledge/data/case_finding.yaml")
    return node


# ------------------------------------------------------------------ SQL


def sql_facts(days: int) -> dict[str, Any]:
    """Compiler bindings for the new facts: fact → fn(compiler, compare) → (truth SQL, anchor SQL)."""
    from imnm.sqlcompile.bounds import float_condition
    from imnm.sqlcompile.compiler import AS_OF, Compiler, _round, _target

    def on_two_dates(comp: Compiler, c: r.Compare) -> tuple[str, str | None]:
        t = float(_target(c, comp.spec(c.fact)))  # type: ignore[arg-type]
        rows = f"test = 'ck' AND uln IS NOT NULL AND d <= {AS_OF}"
        n = comp.agg("Lck", f"COUNT(DISTINCT d) FILTER (WHERE {rows})")
        f3 = functools.partial(_round, nd=3)
        if c.op in (">=", "<"):
            cond = comp._cond(float_condition(f3, ">=", t))
        elif c.op in (">", "<="):
            cond = comp._cond(float_condition(f3, ">", t))
        else:
            from imnm.sqlcompile.compiler import NotCompilable

            raise NotCompilable(c.fact)
        hits = comp.agg("Lck", f"COUNT(DISTINCT d) FILTER (WHERE {rows} AND {cond('(value / uln)')})")
        at_least_two = f"(COALESCE({hits}, 0) >= 2)"
        truth = at_least_two if c.op in (">=", ">") else f"(NOT {at_least_two})"
        return f"(CASE WHEN COALESCE({n}, 0) >= 2 THEN {truth} END)", None

    def after_statin(comp: Compiler, c: r.Compare) -> tuple[str, str | None]:
        target = _target(c, comp.spec(c.fact))
        comp.joins.setdefault("Lck", set()).add("SS")
        where = (
            f"test = 'ck' AND uln IS NOT NULL AND SS.st_n > 0 AND SS.st_open = 0 "
            f"AND DATE_DIFF('day', SS.st_last, d) > {comp.p(days)}"
        )
        return comp._rows("Lck", c, target, where, "(value / uln)", 3)

    def flag(sql: str) -> Any:
        def fn(comp: Compiler, c: r.Compare) -> tuple[str, str | None]:
            value = sql
            if "A." in sql:
                col = comp.agg("A", f"COUNT(*) FILTER (WHERE target IN ('HMGCR', 'SRP') AND d <= {AS_OF})")
                value = f"(COALESCE({col}, 0) > 0)"
            pred = comp._plain_pred(c.op, _target(c, comp.spec(c.fact)))
            return pred(value), None

        return fn

    return {
        "lab.ck.fold.on_two_dates": on_two_dates,
        "lab.ck.fold.after_statin_stop": after_statin,
        "condition.muscle_symptom_on_file": flag("(S.symptom_onset IS NOT NULL)"),
        "diagnosis.myositis_on_file": flag("(S.diagnosis_date IS NOT NULL)"),
        "antibody.hmgcr_or_srp_tested": flag("A."),
    }


SS_CTE = (
    "SS",
    "SELECT person_id, COUNT(*) AS st_n, MAX(stop_d) AS st_last, "
    "COUNT(*) FILTER (WHERE stop_d IS NULL OR stop_d > CAST($as_of AS DATE)) AS st_open "
    "FROM s_medcls WHERE cls = 'statin' GROUP BY person_id",
)
