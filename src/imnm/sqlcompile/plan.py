"""The screening plan: every criterion of every trial (and the case-finding rule) compiled into one
per-person SQL query, with the Python fallback for facts that cannot be compiled yet.

Layers (all in one statement, streamed out):

1. staged rows (`imnm.adapters.omop.staging`);
2. per-person aggregates `L`, `A`, `M`, `C` (one scan of each table);
3. `Q1`: leaf truths `t<i>` and anchor flags `a<i>`, plus the *signature* of the person for the
   Python facts (see below);
4. `Q2`: criterion truths `c<k>` and, per criterion, `m<k>_<j>` = "fact j is missing": the facts of
   unknown leaves on paths where every ancestor is unknown (exactly what `imnm.core.evaluate`
   collects), mapped to their tests after aggregation;
5. `Q3`: per trial (cohort): verdict, failed criteria, missing facts and tests (CONCAT_WS lists);
6. one row per person × trial (a cross join with the trial list).

**Python fallback.** A leaf on a fact of `PYTHON_FACTS` (ENMC 224, EULAR/ACR, antibody confirmation)
is `NULL` in a first pass. Persons whose verdict could depend on such a leaf (a criterion using it is
unknown and nothing else made the trial ineligible) are grouped by their *signature*: the truth of
every leaf the work-up reads (compiled here, from `workup.yaml`, `enmc_224.yaml` and the engine's
interned nodes) and the counts of anti-HMGCR / anti-SRP results by kind. The work-up reads a record
only through those leaves (`imnm.workup.shared.SharedEval`) and the antibody results, so persons
with one signature get one answer: the Python engine runs once per signature, on the record document
of one of them, and its truths and missing facts go back into SQL as a small table `Y`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from imnm.core import rules as r
from imnm.core.facts import Registry
from imnm.sqlcompile.compiler import Compiler, Leaf

REVIEW = "manual_review"


@dataclass
class Crit:
    index: int
    trial: str
    cohort: str | None
    id: str
    kind: str  # inclusion | exclusion
    rule: r.Expr | None
    sql: str = "NULL"
    candidates: list[tuple[str, str]] = field(default_factory=list)  # (fact, SQL boolean "fact missing")
    python: bool = False

    @property
    def key(self) -> str:
        return f"{self.trial}/{self.cohort}" if self.cohort else self.trial


@dataclass
class Group:
    """One trial, or one cohort of it: the verdict unit."""

    trial: str
    cohort: str | None
    crits: list[Crit]

    @property
    def key(self) -> str:
        return f"{self.trial}/{self.cohort}" if self.cohort else self.trial


def _paths(
    node: r.Expr,
    comp: Compiler,
    ancestors: tuple[str, ...],
    out: list[tuple[Leaf, tuple[str, ...]]],
    ref: Any,
) -> None:
    """Every leaf occurrence with the SQL of its ancestors (to test 'every ancestor unknown')."""
    if isinstance(node, r.All | r.AnyOf | r.Not | r.AtLeast):
        here = comp.node(node, ref)
        for c in r.children(node):
            _paths(c, comp, (*ancestors, here), out, ref)
        return
    if isinstance(node, r.Const):
        return
    out.append((comp.leaf(node), ancestors))


MED_INPUTS: set[str] = set()
"""Medication classes whose courses a Python-only derivation reads (dose attributes and the like):
persons with such a course get a signature of their own (evaluated one by one, exactly)."""


@cache
def workup_leaves(python_facts: frozenset[str], ds: Any) -> tuple[r.Expr, ...]:
    """Every rule leaf the uncompiled derived facts read, found in their definitions (transitively):
    rule-defined facts (`RuleDerivation`: ENMC 224, EULAR/ACR sums and cases) are walked for their leaves
    and fact references; Python derivations for their declared inputs. Leaves on base facts make the
    signature; the antibody results the confirmation derivation reads are added by the runner."""
    from pydantic import BaseModel, ValidationError

    from imnm.derive import RuleDerivation
    from imnm.settings import default_settings
    from imnm.vocabulary import REGISTRY

    settings = default_settings()
    found: dict[str, r.Expr] = {}
    seen: set[str] = set()

    def fact(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        d = ds.get(name)
        if d is None:
            return
        if isinstance(d, RuleDerivation):
            definition = ds.definition(d, settings)
            walk(
                definition.model_dump(by_alias=True, exclude_none=True)
                if isinstance(definition, BaseModel)
                else definition
            )
        else:
            for i in d.inputs:
                if i.startswith("medication.") and ds.get(i) is None:
                    MED_INPUTS.add(i.split(".")[1])  # a Python derivation reads a medication's attributes
                fact(i)

    def walk(x: object) -> None:
        if isinstance(x, dict):
            keys = [k for k in ("compare", "is_true", "event") if k in x]
            if keys and not any(k in x for k in ("all", "any", "not", "at_least")):
                try:
                    node = r.parse_rule({k: v for k, v in x.items() if k in (*keys, "label")})
                    found.setdefault(node.model_dump_json(exclude={"label"}), node)
                    if isinstance(node, r.IsTrue):
                        fact(node.is_true)
                    elif isinstance(node, r.CompareNode):
                        fact(node.compare.fact)
                    elif isinstance(node, r.Event):
                        fact(node.event.fact)
                except ValidationError:
                    pass
            if isinstance(x.get("fact"), str) and x["fact"] in REGISTRY:
                fact(x["fact"])
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    for name in sorted(python_facts):
        fact(name)
    walk({"compare": {"fact": "biopsy.performed", "op": "==", "value": True}})
    from imnm import knowledge

    for table in ("workup", "enmc_224", "eular_acr_2017"):  # the rule tables the definitions come from
        walk(knowledge.load(table))
    return tuple(found.values())


@dataclass
class Plan:
    registry: Registry
    as_of: date
    groups: list[Group]
    comp: Compiler
    crits: list[Crit]
    extra_rules: dict[str, Crit] = field(default_factory=dict)  # e.g. case finding
    signature_leaves: list[Leaf] = field(default_factory=list)
    tests: dict[str, str] = field(default_factory=dict)
    per_person: bool = False  # no derivations given: the Python fallback runs per person (exact, slower)

    @property
    def python_leaves(self) -> list[Leaf]:
        return [lf for lf in self.comp.leaves.values() if lf.python]


def build_plan(
    trials: Sequence[Any],
    *,
    registry: Registry,
    as_of: date,
    coverage: str = "observation_periods",
    extra_rules: dict[str, r.Expr] | None = None,
    extra_facts: dict[str, Any] | None = None,
    derivations: Any = None,
) -> Plan:
    """Compile every criterion (and extra rules). `derivations` (imnm.facts.derivations()) lets the plan
    find the leaves its Python-only facts read (their signature); without it every open person is
    evaluated in Python one by one."""
    comp = Compiler(registry, as_of, coverage)
    if extra_facts:
        comp.extra_facts.update(extra_facts)
    comp.params["as_of"] = as_of
    crits: list[Crit] = []
    groups: list[Group] = []

    def add(trial: str, cohort: str | None, kind: str, items: Iterable[Any]) -> list[Crit]:
        out = []
        for c in items:
            crit = Crit(len(crits), trial, cohort, c.id, kind, c.rule)
            crits.append(crit)
            out.append(crit)
        return out

    for t in trials:
        shared = add(t.id, None, "inclusion", t.inclusion) + add(t.id, None, "exclusion", t.exclusion)
        if not t.cohorts:
            groups.append(Group(t.id, None, shared))
        for co in t.cohorts:
            own = add(t.id, co.id, "inclusion", co.inclusion) + add(t.id, co.id, "exclusion", co.exclusion)
            groups.append(Group(t.id, co.id, shared + own))
    plan = Plan(registry, as_of, groups, comp, crits)
    for name, rule in (extra_rules or {}).items():
        crit = Crit(-1 - len(plan.extra_rules), name, None, name, "inclusion", rule)
        plan.extra_rules[name] = crit
    for crit in [*crits, *plan.extra_rules.values()]:
        if crit.rule is not None:
            _compile_crit(crit, comp)
    plan.per_person = derivations is None
    if plan.python_leaves and derivations is not None:
        for node in workup_leaves(frozenset(lf.fact for lf in plan.python_leaves), derivations):
            leaf = comp.leaf(node)
            if not leaf.python:
                plan.signature_leaves.append(leaf)
    plan.tests = {f: registry[f].test for f in registry.names()}
    return plan


def _compile_crit(crit: Crit, comp: Compiler) -> None:
    assert crit.rule is not None

    def ref(leaf: Leaf) -> str:
        return f"Q1.t{leaf.index}" if not leaf.python else f"Y.t{leaf.index}"

    crit.sql = comp.node(crit.rule, ref)
    occ: list[tuple[Leaf, tuple[str, ...]]] = []
    _paths(crit.rule, comp, (), occ, ref)
    by_fact: dict[str, list[str]] = {}
    for leaf, ancestors in occ:
        unknown_path = " AND ".join([f"{ref(leaf)} IS NULL", *(f"{a} IS NULL" for a in ancestors)])
        if leaf.python:
            crit.python = True
            by_fact.setdefault(f"@py{leaf.index}", []).append(f"({unknown_path})")
            continue
        if leaf.anchor and leaf.anchor_missing:
            by_fact.setdefault(leaf.anchor, []).append(f"({unknown_path} AND Q1.a{leaf.index})")
            by_fact.setdefault(leaf.fact, []).append(f"({unknown_path} AND Q1.a{leaf.index} IS NOT TRUE)")
        else:
            by_fact.setdefault(leaf.fact, []).append(f"({unknown_path})")
    crit.candidates = [(f, "(" + " OR ".join(dict.fromkeys(conds)) + ")") for f, conds in by_fact.items()]
