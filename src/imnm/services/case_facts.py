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
from datetime import date, timedelta
from functools import cache
from typing import Any

from imnm import knowledge
from imnm.core import rules as r
from imnm.core.facts import FactSpec, Interval, Observation, Registry
from imnm.derive import Context, Derivation, Derivations, FactView, PatientFacts

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


def _ck_folds(facts: FactView, as_of: date) -> list[Observation]:
    return [
        o
        for o in facts.get("lab.ck.fold") or ()
        if isinstance(o.value, float) and o.date is not None and o.date <= as_of
    ]


def _on_two_dates(facts: FactView, ctx: Context) -> Obs:
    per_date: dict[date, float] = {}
    for o in _ck_folds(facts, ctx.as_of):
        assert o.date is not None and isinstance(o.value, float)
        per_date[o.date] = max(per_date.get(o.date, o.value), o.value)
    if len(per_date) < 2:
        return None
    second = sorted(per_date.values(), reverse=True)[1]
    return (Observation(second, None, "lab.ck.fold (CK on at least two dates)"),)


def _after_statin(facts: FactView, ctx: Context, *, days: int) -> Obs:
    courses = facts.get("medication.statin")
    if not courses:
        return None
    ivs = [o.value for o in courses if isinstance(o.value, Interval)]
    if len(ivs) != len(courses) or any(iv.stop is None or iv.stop > ctx.as_of for iv in ivs):
        return None
    last = max(iv.stop for iv in ivs if iv.stop is not None)
    limit = last + timedelta(days=days)
    out = tuple(
        Observation(o.value, o.date, o.source, f"after the statin stopped on {last.isoformat()}", ref=o.ref)
        for o in _ck_folds(facts, ctx.as_of)
        if o.date is not None and o.date > limit
    )
    return out or None


def _on_file(fact: str) -> Any:
    def compute(facts: FactView, ctx: Context) -> Obs:
        return (Observation(bool(facts.get(fact)), None, fact),)

    return compute


def _tested(facts: FactView, ctx: Context) -> Obs:
    hit = any(
        o.date is None or o.date <= ctx.as_of
        for t in ("HMGCR", "SRP")
        for o in facts.get(f"antibody.{t}") or ()
    )
    return (Observation(hit, None, "antibody.HMGCR, antibody.SRP"),)


NEW_FACTS = (
    (
        "lab.ck.fold.on_two_dates",
        "number",
        "CK × ULN reached on at least two dates",
        "a repeat CK (blood test) with the lab's upper limit of normal",
        "ck",
        "xULN",
        False,
    ),
    (
        "lab.ck.fold.after_statin_stop",
        "number",
        "CK × ULN after the statin washout",
        "CK (blood test) more than the washout after the statin was stopped, and the statin stop date",
        "ck",
        "xULN",
        True,
    ),
    (
        "condition.muscle_symptom_on_file",
        "bool",
        "weakness or myopathy code on file",
        "muscle symptoms (question)",
        "history",
        None,
        False,
    ),
    (
        "diagnosis.myositis_on_file",
        "bool",
        "myositis diagnosis on file",
        "diagnosis (question)",
        "history",
        None,
        False,
    ),
    (
        "antibody.hmgcr_or_srp_tested",
        "bool",
        "anti-HMGCR / anti-SRP result on file",
        "anti-HMGCR and anti-SRP antibodies (blood test)",
        "anti_hmgcr",
        None,
        False,
    ),
)


@cache
def registry(weeks: str | None = None) -> Registry:
    """The full vocabulary plus the case-finding facts (a separate registry: nothing global changes)."""
    from imnm.facts import REGISTRY

    reg = Registry()
    for spec in REGISTRY.specs():
        reg.register(spec)
    for name, kind, label, ask, test, unit, dated in NEW_FACTS:
        reg.register(
            FactSpec(
                name,
                kind,  # type: ignore[arg-type]
                label,
                ask,
                test,
                unit=unit,
                dated=dated,
                description=table()["facts"][name],
                derived=True,
            )
        )
    return reg


@cache
def case_derivations(weeks: str | None = None) -> Derivations:
    from imnm.facts import derivations

    days = washout_days(weeks)
    mine = (
        Derivation("lab.ck.fold.on_two_dates", _on_two_dates, ("lab.ck.fold",)),
        Derivation(
            "lab.ck.fold.after_statin_stop",
            functools.partial(_after_statin, days=days),
            ("lab.ck.fold", "medication.statin"),
        ),
        Derivation("condition.muscle_symptom_on_file", _on_file("symptom_onset"), ("symptom_onset",)),
        Derivation("diagnosis.myositis_on_file", _on_file("diagnosis_date"), ("diagnosis_date",)),
        Derivation("antibody.hmgcr_or_srp_tested", _tested, ("antibody.HMGCR", "antibody.SRP")),
    )
    return Derivations((*derivations().items(), *mine), registry(weeks))


def record_case_facts(record: Any, *, as_of: date, weeks: str | None = None) -> PatientFacts:
    """The case-finding facts over a record document (with every other fact of the vocabulary)."""
    from imnm.record.adapter import record_facts
    from imnm.settings import default_settings

    s = default_settings()
    base = record_facts(record, as_of=as_of, settings=s)
    return PatientFacts(
        base, case_derivations(weeks), as_of=as_of, settings=s, registry=registry(weeks), patient_id=record.id
    )


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
    from imnm.sqlcompile.compiler import AS_OF, SQL_FOLD, Compiler, _round, _target

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
        hits = comp.agg("Lck", f"COUNT(DISTINCT d) FILTER (WHERE {rows} AND {cond(SQL_FOLD)})")
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
        return comp._rows("Lck", c, target, where, SQL_FOLD, 3)

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
