"""Rule trees → SQL, in Kleene three-valued logic (SQL NULL = unknown), per person.

One `Compiler` collects every leaf of every rule it is given (trial criteria, case finding, the
work-up's own leaves), dedupes them (a leaf is its node without the label, as in `imnm.core.fast`),
and turns each into

- per-person aggregates over the staged rows, one GROUP BY per source (labs `L`, antibodies `A`,
  medications `M`, observation periods `C`), so each table is scanned once for all leaves;
- a truth column `t<i>` (TRUE / FALSE / NULL) and, for leaves with a date-fact anchor, a flag `a<i>`
  telling that the anchor (not the fact) is what is missing.

Junctions are SQL's own AND / OR / NOT (Kleene), `at_least` is a CASE over counts of TRUE and of
not-FALSE children, `const` is a literal. The same semantics as `imnm.core.evaluate`, written for sets:
select latest / earliest by (date, then list order of the record document), max / min / any / all,
windows relative to `as_of` (bounds computed in Python with the engine's own calendar arithmetic and
bound as parameters) or to a date fact (calendar arithmetic in SQL), events overlapping a window, and
"absence is no only inside observation periods" for medication events (choice `absence_without_coverage`).

A leaf on a fact that cannot be compiled yet (the work-up's ENMC 224 / EULAR-ACR facts and antibody
confirmation: `PYTHON_FACTS`) becomes `Y.t<k>`, filled from a small table of Python results (see
`imnm.sqlcompile.plan`). Node dispatch is `Compiler.node`; a new node kind adds one branch there.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from imnm.core import rules as r
from imnm.core.evaluate import shift, window_bounds
from imnm.core.facts import FactSpec, Registry
from imnm.core.quantities import rule_unit_factor
from imnm.sqlcompile.bounds import Cond, float_condition, int_condition

AS_OF = "CAST($as_of AS DATE)"
SQL_FOLD = "(value / NULLIF(uln, 0))"
"""The fold over ULN in SQL (the rendering of imnm.core.quantities.fold_over_uln; staged ULNs are > 0)."""
ENZYMES = ("ck", "aldolase", "ast", "alt", "ldh")
LAB_TESTS_SQL = ("ck", "aldolase", "ast", "alt", "ldh", "tsh", "crp")
ANTIBODIES_SQL = (
    "HMGCR",
    "SRP",
    "Jo-1",
    "EJ",
    "OJ",
    "PL-7",
    "PL-12",
    "TIF1-gamma",
    "Mi-2",
    "MDA5",
    "NXP2",
    "SAE",
)

# one value per person, from s_scalar (alias S): fact -> (column, dated-by column or None)
SCALAR: dict[str, tuple[str, str | None]] = {
    "sex": ("S.sex", None),
    "birth_date": ("S.birth_date", None),
    "symptom_onset": ("S.symptom_onset", None),
    "diagnosis_date": ("S.diagnosis_date", None),
    "findings.dysphagia": ("S.dysphagia", None),
    "history.cancer": ("S.cancer", None),
    "history.interstitial_lung_disease": ("S.ild", None),
    "history.hypothyroidism": ("S.hypothyroidism", None),
    "biopsy.performed": ("CASE WHEN S.biopsy_date IS NOT NULL THEN TRUE END", "S.biopsy_date"),
    "biopsy.date": ("S.biopsy_date", None),
    "weight_kg": ("S.weight_kg", None),
    "exposure.statin.status": ("S.st_status", None),
}
DATE_ANCHORS = {
    "birth_date": "S.birth_date",
    "symptom_onset": "S.symptom_onset",
    "diagnosis_date": "S.diagnosis_date",
    "biopsy.date": "S.biopsy_date",
}

PYTHON_FACTS: frozenset[str] = frozenset(
    {
        "enmc.subtype",
        "enmc.imnm",
        "eular_acr.score",
        "eular_acr.probability",
        "eular_acr.category",
        "eular_acr.classified_as_iim",
        "eular_acr.subgroup",
        "antibody.HMGCR.positive",
        "antibody.SRP.positive",
        "antibody.HMGCR.second_method",
        "antibody.SRP.second_method",
    }
)
"""Derived facts computed by the Python work-up today (no rule-defined form yet)."""


class NotCompilable(Exception):
    """A leaf the compiler cannot express; it is evaluated in Python."""


@dataclass
class Leaf:
    index: int
    node: r.Expr
    fact: str
    anchor: str | None = None
    python: bool = False
    truth: str = "NULL"
    anchor_missing: str | None = None  # SQL: when truth is NULL, the anchor is what is missing


@dataclass
class Compiler:
    registry: Registry
    as_of: date
    coverage: str = "observation_periods"  # or "complete"
    settings: Any = None  # imnm.settings.Settings (the ❗ default_uln choice); default settings when None
    params: dict[str, Any] = field(default_factory=dict)
    aggs: dict[str, dict[str, str]] = field(default_factory=dict)  # source -> column -> aggregate SQL
    joins: dict[str, set[str]] = field(
        default_factory=dict
    )  # source -> per-person relations joined to its rows
    leaves: dict[str, Leaf] = field(default_factory=dict)
    unbound: set[str] = field(default_factory=set)
    extra_facts: dict[str, Callable[[Compiler, r.Compare | r.EventSpec], tuple[str, str | None]]] = field(
        default_factory=dict
    )

    # ---------------------------------------------------------------- helpers
    def __post_init__(self) -> None:
        if self.settings is None:
            from imnm.settings import default_settings

            self.settings = default_settings()

    def p(self, value: Any) -> str:
        """A bound parameter for a value (the value never enters the SQL text)."""
        for k, v in self.params.items():
            if type(v) is type(value) and v == value and not (isinstance(v, float) and str(v) != str(value)):
                return f"${k}"
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def agg(self, source: str, sql: str) -> str:
        """A per-person aggregate over one source's rows: `A` antibodies, `M` medications, `C` observation
        periods, `L<test>` one lab test's rows (`Lenz`: the five muscle enzymes), so each row is only
        tested by the aggregates of its own test."""
        cols = self.aggs.setdefault(source, {})
        for name, have in cols.items():
            if have == sql:
                return f"{source}.{name}"
        name = f"{source.lower()}{len(cols)}"
        cols[name] = sql
        return f"{source}.{name}"

    def spec(self, fact: str) -> FactSpec:
        spec = self.registry.get(fact)
        if spec is None:
            raise NotCompilable(f"unknown fact {fact}")
        return spec

    # ---------------------------------------------------------------- nodes
    def leaf(self, node: r.Expr) -> Leaf:
        if isinstance(node, r.IsTrue):
            node = r.CompareNode(compare=_is_true(node.is_true))
        key = node.model_dump_json(exclude={"label"})
        hit = self.leaves.get(key)
        if hit is not None:
            return hit
        fact = node.compare.fact if isinstance(node, r.CompareNode) else node.event.fact  # type: ignore[union-attr]
        window = node.compare.window if isinstance(node, r.CompareNode) else node.event.window  # type: ignore[union-attr]
        anchor = window.anchor if window is not None and window.anchor != "as_of" else None
        leaf = Leaf(len(self.leaves), node, fact, anchor)
        try:
            if fact in PYTHON_FACTS or (anchor is not None and anchor not in DATE_ANCHORS):
                raise NotCompilable(fact)
            if isinstance(node, r.CompareNode):
                leaf.truth, leaf.anchor_missing = self.compare(node.compare)
            else:
                assert isinstance(node, r.Event)
                leaf.truth, leaf.anchor_missing = self.event(node.event)
        except NotCompilable:
            leaf.python = True
            leaf.truth = f"Y.t{leaf.index}"
            leaf.anchor_missing = None
        self.leaves[key] = leaf
        return leaf

    def node(self, node: r.Expr, ref: Callable[[Leaf], str]) -> str:
        """The SQL truth of a node; `ref` gives the SQL of a leaf (its column)."""
        if isinstance(node, r.All):
            return "(" + " AND ".join(self.node(c, ref) for c in node.all) + ")"
        if isinstance(node, r.AnyOf):
            return "(" + " OR ".join(self.node(c, ref) for c in node.any) + ")"
        if isinstance(node, r.Not):
            return f"(NOT {self.node(node.not_, ref)})"
        if isinstance(node, r.AtLeast):
            kids = [self.node(c, ref) for c in node.at_least.of]
            met = " + ".join(f"(CASE WHEN {k} THEN 1 ELSE 0 END)" for k in kids)
            maybe = " + ".join(f"(CASE WHEN {k} IS NOT FALSE THEN 1 ELSE 0 END)" for k in kids)
            n = node.at_least.n
            return f"(CASE WHEN {met} >= {n} THEN TRUE WHEN {maybe} < {n} THEN FALSE END)"
        if isinstance(node, r.Const):
            return {"met": "TRUE", "not_met": "FALSE", "unknown": "CAST(NULL AS BOOLEAN)"}[node.const]
        return ref(self.leaf(node))

    # ---------------------------------------------------------------- windows
    def bounds(self, window: r.Window | None) -> tuple[str, str] | None:
        """SQL for the window's [lo, hi] (parameters for as_of; calendar arithmetic for a date fact)."""
        if window is None:
            return None
        if window.anchor == "as_of":
            lo, hi = window_bounds(window, self.as_of)
            return self.p(lo), self.p(hi)
        col = DATE_ANCHORS[window.anchor]
        return _shift_sql(col, window.before, -1), _shift_sql(col, window.after, +1)

    # ---------------------------------------------------------------- compare
    def compare(self, c: r.Compare) -> tuple[str, str | None]:
        spec = self.spec(c.fact)
        target = _target(c, spec)
        if c.fact in self.extra_facts:
            return self.extra_facts[c.fact](self, c)
        if c.fact in SCALAR:
            value, dated = SCALAR[c.fact]
            return self._scalar(c, value, dated, _plain(c.op, target))
        if c.fact in ("age", "age_at_onset"):
            other = AS_OF if c.fact == "age" else "S.symptom_onset"
            value = _completed_years("S.birth_date", other)
            return self._scalar(c, value, None, _plain(c.op, target))
        if c.fact in ("disease_duration_months", "months_since_diagnosis"):
            col = "S.symptom_onset" if c.fact == "disease_duration_months" else "S.diagnosis_date"
            days = f"DATE_DIFF('day', {col}, {AS_OF})"
            cond = int_condition(_months, c.op, float(target))  # type: ignore[arg-type]
            return self._scalar(c, days, None, self._cond(cond))
        if c.fact == "bmi":
            x = "(S.weight_kg / ((S.height_cm / 100.0) * (S.height_cm / 100.0)))"
            cond = float_condition(functools.partial(_round, nd=1), c.op, float(target))  # type: ignore[arg-type]
            return self._scalar(c, x, None, self._cond(cond))
        if c.fact == "medication.glucocorticoid.dose":
            cur = self.agg(
                "M",
                f"COUNT(*) FILTER (WHERE cls = 'glucocorticoid' AND start_d <= {AS_OF} AND (stop_d IS NULL OR stop_d >= {AS_OF}))",
            )
            value = f"(CASE WHEN COALESCE({cur}, 0) > 0 THEN NULL ELSE 0.0 END)"
            return self._scalar(c, value, None, _plain(c.op, target))
        lab = _lab_fact(c.fact)
        if lab is not None:
            where, x, rounding, part = lab
            return self._rows(part, c, target, where, x, rounding)
        if c.fact.startswith("antibody.") and c.fact[9:] in ANTIBODIES_SQL:
            return self._rows("A", c, target, f"target = {self.p(c.fact[9:])}", "result", None)
        return self._unbound(c.fact, spec)

    def _cond(self, cond: Cond) -> Callable[[str], str]:
        kind, a, b = cond

        def pred(x: str) -> str:
            if kind == "true":
                return f"({x} IS NOT NULL)"
            if kind == "false":
                return f"(CASE WHEN {x} IS NOT NULL THEN FALSE END)"
            if kind in ("gt", "le", "ge", "lt"):
                op = {"gt": ">", "le": "<=", "ge": ">=", "lt": "<"}[kind]
                return f"({x} {op} {self.p(a)})"
            inside = f"({x} >= {self.p(a)} AND {x} <= {self.p(b)})"
            return inside if kind == "between" else f"(NOT {inside})"

        return pred

    def _plain_pred(self, op: str, target: object) -> Callable[[str], str]:
        if op in ("in", "not_in"):
            assert isinstance(target, list)
            items = ", ".join(self.p(v) for v in target)
            neg = "NOT " if op == "not_in" else ""
            return lambda x: f"({x} {neg}IN ({items}))"
        sql_op = {"==": "=", "!=": "<>"}.get(op, op)
        t = self.p(target)
        return lambda x: f"({x} {sql_op} {t})"

    def _scalar(self, c: r.Compare, value: str, dated: str | None, pred: Any) -> tuple[str, str | None]:
        if isinstance(pred, _Plain):
            pred = self._plain_pred(pred.op, pred.target)
        truth = pred(value)
        anchor_missing = None
        if c.window is not None:
            lo, hi = self.bounds(c.window)  # type: ignore[misc]
            assert dated is not None  # check() refuses windows on undated facts
            truth = f"(CASE WHEN {dated} >= {lo} AND {dated} <= {hi} THEN {truth} END)"
            if c.window.anchor != "as_of":
                anchor = DATE_ANCHORS[c.window.anchor]
                truth = f"(CASE WHEN {anchor} IS NOT NULL THEN {truth} END)"
                anchor_missing = f"({value} IS NOT NULL AND {anchor} IS NULL)"
        return truth, anchor_missing

    def _rows(
        self, source: str, c: r.Compare, target: object, where: str, x: str, rounding: int | None
    ) -> tuple[str, str | None]:
        """A fact with one row per observation (labs, antibodies): select, window, compare."""
        if x == "FOLD":
            return self._ranged_rows(source, c, target, where)
        if rounding is None:
            pred = self._plain_pred(c.op, target)
        else:
            pred = self._cond(float_condition(functools.partial(_round, nd=rounding), c.op, float(target)))  # type: ignore[arg-type]
        base = f"{where} AND d <= {AS_OF}"
        win = base
        anchor_missing = None
        if c.window is not None:
            lo, hi = self.bounds(c.window)  # type: ignore[misc]
            win = f"{base} AND d >= {lo} AND d <= {hi}"
            if c.window.anchor != "as_of":
                self.joins.setdefault(source, set()).add("S")
        n = self.agg(source, f"COUNT(*) FILTER (WHERE {win})")
        if c.select in ("latest", "earliest", "max", "min"):
            key = "{'d': d, 'e': -erank, 'r': -rid}" if source.startswith("L") else "{'d': d, 'r': -rid}"
            fn = {
                "latest": f"ARG_MAX({x}, {key})",
                "earliest": f"ARG_MIN({x}, {key.replace('-erank', 'erank').replace('-rid', 'rid')})",
                "max": f"MAX({x})",
                "min": f"MIN({x})",
            }[c.select]
            v = self.agg(source, f"{fn} FILTER (WHERE {win})")
            truth = f"(CASE WHEN COALESCE({n}, 0) > 0 THEN {pred(v)} END)"
        elif c.select == "any":
            hits = self.agg(source, f"COUNT(*) FILTER (WHERE {win} AND {pred(x)})")
            truth = f"(CASE WHEN COALESCE({n}, 0) > 0 THEN {hits} > 0 END)"
        else:
            misses = self.agg(source, f"COUNT(*) FILTER (WHERE {win} AND NOT {pred(x)})")
            truth = f"(CASE WHEN COALESCE({n}, 0) > 0 THEN {misses} = 0 END)"
        if c.window is not None and c.window.anchor != "as_of":
            anchor = DATE_ANCHORS[c.window.anchor]
            has = self.agg(source, f"COUNT(*) FILTER (WHERE {base})")
            truth = f"(CASE WHEN {anchor} IS NOT NULL THEN {truth} END)"
            anchor_missing = f"(COALESCE({has}, 0) > 0 AND {anchor} IS NULL)"
        return truth, anchor_missing

    def _unbound(self, fact: str, spec: FactSpec) -> tuple[str, str | None]:
        """A fact with no OMOP source: the record document never fills it, so it is unknown
        (a contract test checks that the Python engine also finds it unknown on built records)."""
        if spec.derived or fact in PYTHON_FACTS:
            raise NotCompilable(fact)  # a derivation this compiler does not know: Python
        self.unbound.add(fact)
        return "CAST(NULL AS BOOLEAN)", None

    def _fold_bounds(self) -> tuple[str, str]:
        """(lo, hi) of a CK fold: value / ULN, or without a ULN the ❗ default_uln choice: a point
        (flat or by sex) or the documented range value / max ULN .. value / min ULN (imnm.bindings)."""
        from imnm.bindings import _default_uln_values

        values = _default_uln_values().get(self.settings.default_uln) or {}
        if "uln_min" in values:
            lo = f"(value * factor) / {self.p(float(values['uln_max']))}"
            hi = f"(value * factor) / {self.p(float(values['uln_min']))}"
        elif values.get("any") is not None:
            lo = hi = f"(value * factor) / {self.p(float(values['any']))}"
        elif values:
            sexed = " ".join(
                f"WHEN S.sex = {self.p(k)} THEN (value * factor) / {self.p(float(v))}"
                for k, v in values.items()
                if k in ("female", "male")
            )
            lo = hi = f"(CASE {sexed} END)"
        else:
            lo = hi = "CAST(NULL AS DOUBLE)"
        return (
            f"(CASE WHEN uln IS NOT NULL THEN {SQL_FOLD} WHEN test = 'ck' THEN {lo} END)",
            f"(CASE WHEN uln IS NOT NULL THEN {SQL_FOLD} WHEN test = 'ck' THEN {hi} END)",
        )

    def _ranged_rows(self, source: str, c: r.Compare, target: object, where: str) -> tuple[str, str | None]:
        """A fold that may be a range (no ULN: the documented limits), compared three-valued as
        `imnm.core.evaluate._test3` does, each end rounded like the Python side."""
        lo, hi = self._fold_bounds()
        if "S.sex" in lo:
            self.joins.setdefault(source, set()).add("S")
        where = f"{where} AND {lo} IS NOT NULL"
        t = float(target)  # type: ignore[arg-type]
        f3 = functools.partial(_round, nd=3)

        def cond(op: str) -> Callable[[str], str]:
            return self._cond(float_condition(f3, op, t))

        def pred3(a: str, b: str) -> str:
            """TRUE / FALSE / NULL of `[round(a), round(b)] op t`."""
            op = c.op
            if op == ">":
                yes, no = cond(">")(a), cond("<=")(b)
            elif op == ">=":
                yes, no = cond(">=")(a), cond("<")(b)
            elif op == "<":
                yes, no = cond("<")(b), cond(">=")(a)
            elif op == "<=":
                yes, no = cond("<=")(b), cond(">")(a)
            else:
                eq_yes = f"({cond('==')(a)} AND {cond('==')(b)})"
                eq_no = f"({cond('>')(a)} OR {cond('<')(b)})"
                yes, no = (eq_yes, eq_no) if op == "==" else (eq_no, eq_yes)
            return f"(CASE WHEN {yes} THEN TRUE WHEN {no} THEN FALSE END)"

        base = f"{where} AND d <= {AS_OF}"
        win = base
        if c.window is not None:
            wlo, whi = self.bounds(c.window)  # type: ignore[misc]
            win = f"{base} AND d >= {wlo} AND d <= {whi}"
            if c.window.anchor != "as_of":
                self.joins.setdefault(source, set()).add("S")
        n = self.agg(source, f"COUNT(*) FILTER (WHERE {win})")
        if c.select in ("latest", "earliest"):
            key = (
                "{'d': d, 'e': -erank, 'r': -rid}"
                if c.select == "latest"
                else "{'d': d, 'e': erank, 'r': rid}"
            )
            fn = "ARG_MAX" if c.select == "latest" else "ARG_MIN"
            a = self.agg(source, f"{fn}({lo}, {key}) FILTER (WHERE {win})")
            b = self.agg(source, f"{fn}({hi}, {key}) FILTER (WHERE {win})")
            truth = f"(CASE WHEN COALESCE({n}, 0) > 0 THEN {pred3(a, b)} END)"
        elif c.select in ("max", "min"):
            fn = "MAX" if c.select == "max" else "MIN"
            a = self.agg(source, f"{fn}({lo}) FILTER (WHERE {win})")
            b = self.agg(source, f"{fn}({hi}) FILTER (WHERE {win})")
            truth = f"(CASE WHEN COALESCE({n}, 0) > 0 THEN {pred3(a, b)} END)"
        else:
            row = pred3(lo, hi)
            yes = self.agg(source, f"COUNT(*) FILTER (WHERE {win} AND {row} IS TRUE)")
            no = self.agg(source, f"COUNT(*) FILTER (WHERE {win} AND {row} IS FALSE)")
            if c.select == "any":
                truth = f"(CASE WHEN COALESCE({n}, 0) = 0 THEN NULL WHEN {yes} > 0 THEN TRUE WHEN {no} = {n} THEN FALSE END)"
            else:
                truth = f"(CASE WHEN COALESCE({n}, 0) = 0 THEN NULL WHEN {no} > 0 THEN FALSE WHEN {yes} = {n} THEN TRUE END)"
        anchor_missing = None
        if c.window is not None and c.window.anchor != "as_of":
            anchor = DATE_ANCHORS[c.window.anchor]
            has = self.agg(source, f"COUNT(*) FILTER (WHERE {base})")
            truth = f"(CASE WHEN {anchor} IS NOT NULL THEN {truth} END)"
            anchor_missing = f"(COALESCE({has}, 0) > 0 AND {anchor} IS NULL)"
        return truth, anchor_missing

    # ---------------------------------------------------------------- events
    def covered(self, lo: str, hi: str) -> str:
        """Is [lo, hi] inside one merged observation period?"""
        if "S." in lo or "S." in hi:
            self.joins.setdefault("C", set()).add("S")
        col = self.agg("C", f"BOOL_OR(cov_start <= {lo} AND cov_end >= {hi})")
        return f"COALESCE({col}, FALSE)"

    def event(self, e: r.EventSpec) -> tuple[str, str | None]:
        if e.fact in self.extra_facts:
            return self.extra_facts[e.fact](self, e)
        b = self.bounds(e.window)
        anchor = (
            DATE_ANCHORS.get(e.window.anchor) if e.window is not None and e.window.anchor != "as_of" else None
        )
        if (
            e.fact == "exposure.statin"
        ):  # derived: the reported exposure (not in OMOP) plus the statin courses
            med: tuple[str, str] | None = ("statin", "exposure")
        else:
            med = _med_fact(e.fact, self.registry)
        if med is None:
            return self._unbound(e.fact, self.spec(e.fact))
        cls, kind = med
        if anchor:
            self.joins.setdefault("M", set()).add("S")
        cls_sql = f"cls = {self.p(cls)}"
        if b is None:
            hit = f"{cls_sql} AND start_d <= {AS_OF}"  # known by the evaluation date
        else:
            lo, hi = b
            if kind in ("interval", "exposure"):
                hit = f"{cls_sql} AND start_d <= {hi} AND COALESCE(stop_d, {AS_OF}) >= {lo}"
            elif kind == "start":
                hit = f"{cls_sql} AND start_d >= {lo} AND start_d <= {hi}"
            else:
                hit = f"{cls_sql} AND ((start_d >= {lo} AND start_d <= {hi}) OR (stop_d >= {lo} AND stop_d <= {hi}))"
        met = self.agg("M", f"COUNT(*) FILTER (WHERE {hit})")
        if kind == "exposure":
            n = self.agg("M", f"COUNT(*) FILTER (WHERE {cls_sql})")
            absent = f"(CASE WHEN COALESCE({n}, 0) > 0 THEN FALSE END)"  # no statin course: unknown
        elif self.coverage == "complete" or kind != "interval":
            absent = "FALSE"  # derived start/change events: no coverage on the Python side either
        elif b is None:
            absent = "CAST(NULL AS BOOLEAN)"  # an unbounded past is never fully observed
        else:
            lo, hi = b  # covered up to the evaluation date only (the future is not yet recorded)
            cov_hi = f"(CASE WHEN {lo} <= {AS_OF} THEN LEAST({hi}, {AS_OF}) ELSE {hi} END)"
            absent = f"(CASE WHEN {self.covered(lo, cov_hi)} THEN FALSE END)"
        truth = f"(CASE WHEN COALESCE({met}, 0) > 0 THEN TRUE ELSE {absent} END)"
        if anchor:
            if kind == "exposure":  # no statin course at all: the fact is unknown before its anchor is asked
                n = self.agg("M", f"COUNT(*) FILTER (WHERE {cls_sql})")
                return (
                    f"(CASE WHEN COALESCE({n}, 0) = 0 THEN NULL WHEN {anchor} IS NOT NULL THEN {truth} END)",
                    f"(COALESCE({n}, 0) > 0 AND {anchor} IS NULL)",
                )
            return f"(CASE WHEN {anchor} IS NOT NULL THEN {truth} END)", f"({anchor} IS NULL)"
        return truth, None


# ------------------------------------------------------------------ fact families


def _is_true(fact: str) -> r.Compare:
    return r.Compare(fact=fact, op="==", value=True)


@dataclass(frozen=True)
class _Plain:
    op: str
    target: object


def _plain(op: str, target: object) -> _Plain:
    return _Plain(op, target)


def _round(x: float, nd: int) -> float:
    return round(x, nd)


def _months(days: int) -> float:
    return round(days / (365.25 / 12), 1)


def _target(c: r.Compare, spec: FactSpec) -> object:
    def one(v: r.Scalar) -> object:
        if spec.kind == "number" and not isinstance(v, bool) and isinstance(v, int | float):
            factor = rule_unit_factor(c.unit, spec.unit) if c.unit else 1.0
            return float(v) * (factor if factor is not None else 1.0)
        if spec.kind == "date" and isinstance(v, str):
            return date.fromisoformat(v)
        return v

    if isinstance(c.value, list):
        return [one(v) for v in c.value]
    return one(c.value)


def _completed_years(born: str, on: str) -> str:
    return (
        f"(CAST(YEAR({on}) - YEAR({born}) - CASE WHEN MONTH({on}) < MONTH({born}) OR "
        f"(MONTH({on}) = MONTH({born}) AND DAY({on}) < DAY({born})) THEN 1 ELSE 0 END AS DOUBLE))"
    )


def _shift_sql(col: str, duration: str | None, sign: int) -> str:
    if duration is None:
        return col
    m = r.DURATION.match(duration.strip())
    assert m
    n, unit = int(m.group(1)), m.group(2)
    op = "+" if sign > 0 else "-"
    if unit in ("d", "w"):
        days = n * (7 if unit == "w" else 1)
        return f"CAST({col} {op} INTERVAL {days} DAY AS DATE)"
    months = n if unit == "mo" else 12 * n
    return f"CAST({col} {op} INTERVAL {months} MONTH AS DATE)"


def _lab_fact(fact: str) -> tuple[str, str, int | None, str] | None:
    """(row filter, value, rounding, source partition) for a lab fact over s_lab."""
    parts = fact.split(".")
    if parts[0] != "lab":
        return None
    if fact == "lab.muscle_enzyme.fold":
        return (
            "test IN ('ck', 'aldolase', 'ast', 'alt', 'ldh') AND (uln IS NOT NULL OR test = 'ck')",
            "FOLD",
            3,
            "Lenz",
        )
    if len(parts) == 2 and parts[1] in LAB_TESTS_SQL:
        return f"test = '{parts[1]}'", "(value * factor)", None, f"L{parts[1]}"
    if fact == "lab.ck.fold":
        return "test = 'ck' AND (uln IS NOT NULL OR test = 'ck')", "FOLD", 3, "Lck"
    if len(parts) == 3 and parts[2] == "fold" and parts[1] in (*ENZYMES, "tsh"):
        return f"test = '{parts[1]}' AND uln IS NOT NULL", SQL_FOLD, 3, f"L{parts[1]}"
    return None


def _med_fact(fact: str, registry: Registry) -> tuple[str, str] | None:
    from imnm.knowledge.lookups import medication_classes

    parts = fact.split(".")
    if parts[0] != "medication" or len(parts) not in (2, 3) or parts[1] not in medication_classes():
        return None
    if len(parts) == 2:
        return parts[1], "interval"
    if parts[2] in ("start", "change"):
        return parts[1], parts[2]
    return None


def same_shift(day: date, duration: str, sign: int) -> date:
    """Python's own calendar shift (re-exported for tests of the SQL arithmetic)."""
    return shift(day, duration, sign)
