"""Derived facts of the work-up. Trial criteria and other rules are written against these names.

Defined in the rule language (value expressions built from the knowledge tables for the settings in
force, so one definition is evaluated in Python and compiled to SQL):

- `eular_acr.score_no_biopsy`, `eular_acr.score_biopsy`: the 2017 EULAR/ACR total of each column, a
  `sum` of item weights over the three-valued item rules (`workup.yaml` eular_acr_items), mutually
  exclusive items (the age bands) as `one_of`, rounded to one decimal as the criteria say.
- `eular_acr.score`: the column of the biopsy status (both columns' range when it is not recorded).
- `eular_acr.probability` (%): `1/(1+exp(c − score))` per column (c = 5.33 / 6.49, ⚠️).
- `eular_acr.category`: the published cut-offs (or probability thresholds, ❗ choice category_basis) over
  the score range; a set of categories when the range spans several.
- `eular_acr.classified_as_iim` (bool): category at or above the classification minimum (❗) and the
  skin-or-biopsy rule (⚠️ strict or lenient).
- `enmc.subtype`: ENMC 224 anti-HMGCR / anti-SRP / antibody-negative IMNM or `not_imnm`, a `case` over
  the subtype rules (first met wins; both antibodies positive → unknown for review, or anti-HMGCR
  first by choice); unknown or a set when undecided. `enmc.imnm` (bool): meets any subtype.

Computed in Python from the antibody facts (method, band, value, cut-offs):

- `antibody.HMGCR.positive`, `antibody.SRP.positive` (bool): confirmed positive (True), negative
  (False); unknown when not tested, borderline or unconfirmed (weak line-blot-only) — `needs` then
  names the antibody test or the second-method test.
- `antibody.HMGCR.second_method`, `antibody.SRP.second_method` (enum): results by a confirmatory
  method (immunoprecipitation, tissue IIF).
- `eular_acr.subgroup` (enum): the subgroup tree, only once classified.

All are monotone — recording more facts only narrows a range or settles an unknown — with one
documented exception: following worked example N1 (clinical.md §2.2), a confirmed antibody assigns
its subtype even when the other antibody was never tested, so if the other antibody later turns out
positive too, the default choice `both_antibodies_positive=flag_for_review` withdraws the subtype.
"""

from __future__ import annotations

from typing import Any

from imnm.core import rules as r
from imnm.core.facts import Obs, Observation
from imnm.derive import Context, Derivation, FactView, PatientFacts, RuleDerivation
from imnm.settings import Settings
from imnm.workup import antibodies, enmc, eular_acr
from imnm.workup import rules as wr

SUBTYPE_VALUES = ("anti_hmgcr_myopathy", "anti_srp_myopathy", "antibody_negative_imnm", "not_imnm")
CATEGORY_VALUES = ("not_iim", "possible", "probable", "definite")
SUBGROUP_VALUES = ("PM", "IBM", "DM", "ADM", "JDM", "juvenile_other")
VERSION_FACT = {"no_biopsy": "eular_acr.score_no_biopsy", "biopsy": "eular_acr.score_biopsy"}


def _node(data: dict[str, Any]) -> r.Expr:
    return wr.intern(r.parse_rule(data))


PERFORMED = {
    "compare": {"fact": "biopsy.performed", "op": "==", "value": True},
    "label": "a muscle biopsy was done",
}


def _by_biopsy(then: r.ValueExpr, otherwise: r.ValueExpr) -> r.ValueExpr:
    """The biopsy column when a biopsy was done, else the no-biopsy column (both when unknown)."""
    return r.Case(case=r.CaseSpec(branches=[r.Branch(when=_node(PERFORMED), then=then)], else_=otherwise))


# ---------------------------------------------------------------- EULAR/ACR definitions


def score_column(settings: Settings, version: str) -> r.ValueExpr:
    """The sum of item weights in one column (three-valued items; exclusive groups as one_of)."""
    items = {m["id"]: wr.item_rule(m["id"], settings.enzymes_value) for m in eular_acr.items_meta()}
    terms: list[r.Term | r.OneOfTerms] = []
    for _name, members in eular_acr.group_specs(tuple(items), version):
        group = [r.Term(points=pts / 10, when=items[item_id]) for item_id, pts in members]
        terms.append(group[0] if len(group) == 1 else r.OneOfTerms(one_of=group))
    return r.Sum(sum=r.SumSpec(terms=terms, decimals=1))


def _fact(name: str) -> r.FactValueNode:
    return r.FactValueNode(fact=name)


def score_definition(settings: Settings) -> r.ValueExpr:
    return _by_biopsy(_fact(VERSION_FACT["biopsy"]), _fact(VERSION_FACT["no_biopsy"]))


def probability_definition(settings: Settings) -> r.ValueExpr:
    def logistic(version: str) -> r.ValueExpr:
        spec = r.LogisticSpec(
            of=_fact(VERSION_FACT[version]), constant=eular_acr.constant(version), scale=100, decimals=2
        )
        return r.Logistic(logistic=spec)

    return _by_biopsy(logistic("biopsy"), logistic("no_biopsy"))


def _category_case(version: str, basis: str) -> r.ValueExpr:
    cuts = sorted(eular_acr.thresholds(version, basis), key=lambda ct: -ct[1])
    branches = [
        r.Branch(
            when=_node({"compare": {"fact": VERSION_FACT[version], "op": ">=", "value": t / 10}}),
            then=r.Value(value=cat),
        )
        for cat, t in cuts
        if t > 0
    ]
    lowest = min(cuts, key=lambda ct: ct[1])[0]
    return r.Case(case=r.CaseSpec(branches=branches, else_=r.Value(value=lowest)))


def category_definition(settings: Settings) -> r.ValueExpr:
    basis = settings.category_basis
    return _by_biopsy(_category_case("biopsy", basis), _category_case("no_biopsy", basis))


def skin_or_biopsy_rule(settings: Settings) -> r.Expr:
    """Heliotrope rash, Gottron's papules or sign present, or a biopsy (strict: with ≥ 1 scored biopsy item)."""
    items = {m["id"]: wr.item_rule(m["id"], settings.enzymes_value) for m in eular_acr.items_meta()}
    skin = r.AnyOf(any=[items[i] for i in wr.table()["eular_acr_skin_items"]], label="a skin item present")
    performed = _node(PERFORMED)
    if settings.skin_or_biopsy_rule == "strict":
        features: r.Expr = r.All(
            all=[performed, r.AnyOf(any=[items[i] for i in wr.table()["eular_acr_biopsy_items"]])],
            label="a biopsy with at least one scored biopsy item",
        )
    else:
        features = performed
    return wr.intern(r.AnyOf(any=[skin, features], label="skin-or-biopsy rule"))


def classified_definition(settings: Settings) -> r.Expr:
    minimum = settings.classification_minimum.split("_")[0]
    allowed = [c for c in CATEGORY_VALUES if eular_acr.category_rank(c) >= eular_acr.category_rank(minimum)]
    category = _node({"compare": {"fact": "eular_acr.category", "op": "in", "value": allowed}})
    return wr.intern(
        r.All(all=[category, skin_or_biopsy_rule(settings)], label="classified as IIM (EULAR/ACR 2017)")
    )


# ---------------------------------------------------------------- ENMC 224 definitions


def subtype_definition(settings: Settings) -> r.ValueExpr:
    rules = enmc.subtype_rules(settings)
    both = None if settings.both_antibodies_positive == "flag_for_review" else "anti_hmgcr_myopathy"
    branches = [r.Branch(when=rules["both_positive"], then=r.Value(value=both))]
    branches += [r.Branch(when=rules[s], then=r.Value(value=s)) for s in enmc.SUBTYPES]
    return r.Case(case=r.CaseSpec(branches=branches, else_=r.Value(value="not_imnm"), mode="first_met"))


def imnm_definition(settings: Settings) -> r.Expr:
    rules = enmc.subtype_rules(settings)
    return wr.intern(
        r.AnyOf(
            any=[*(rules[s] for s in enmc.SUBTYPES), rules["both_positive"]],
            label="meets an ENMC 224 IMNM subtype",
        )
    )


# ---------------------------------------------------------------- Python derivations


def _positive(target: str):  # type: ignore[no-untyped-def]
    def compute(facts: FactView, ctx: Context) -> Obs:
        st = antibodies.target_status(facts, target, ctx.settings)
        if st.positive is None:
            return None
        used = [x for x in st.readings if (x.result == "positive") == st.positive]
        src = ", ".join(x.source for x in used) or "antibodies"
        return (Observation(st.positive, None, src, f"status {st.status}"),)

    def needs(facts: FactView, ctx: Context) -> tuple[str, ...]:
        st = antibodies.target_status(facts, target, ctx.settings)
        if st.status is None:
            return (f"antibody.{target}",)
        return (f"antibody.{target}.second_method",)

    return compute, needs


def _second(target: str):  # type: ignore[no-untyped-def]
    def compute(facts: FactView, ctx: Context) -> Obs:
        rs = [x for x in antibodies.readings(facts, target, ctx.settings) if x.confirmatory]
        return tuple(Observation(x.result, x.date, x.source, x.method) for x in rs) or None

    return compute


def _subgroup(facts: FactView, ctx: Context) -> Obs:
    """Assigned only once the patient is classified as IIM, and only with the tree in use (⚠️ choice)."""
    assert isinstance(facts, PatientFacts)
    classified = facts.get("eular_acr.classified_as_iim")
    if not classified or classified[0].value is not True or ctx.settings.subgroup_tree_use != "apply_flagged":
        return None
    sub = eular_acr.subgroup_lean(facts.run, ctx.settings)[0]
    if sub is None:
        return None
    return (Observation(sub, None, "EULAR/ACR 2017 subgroup tree", "⚠️"),)


def _subgroup_needs(facts: FactView, ctx: Context) -> tuple[str, ...]:
    """Until classified: what settles the classification; then what settles the undecided tree node."""
    assert isinstance(facts, PatientFacts)
    classified = facts.get("eular_acr.classified_as_iim")
    if classified is None:
        return facts.needs("eular_acr.classified_as_iim")
    if classified[0].value is not True:
        return ()
    return tuple(
        dict.fromkeys(m.fact for m in eular_acr.subgroup_lean(facts.run, ctx.settings, want_missing=True)[1])
    )


def _category_note(facts: FactView, settings: Settings) -> str:
    return settings.category_basis


def _eular_source(facts: FactView) -> str:
    performed = facts.get("biopsy.performed")
    version = "no_biopsy" if performed is None or performed[0].value is not True else "biopsy"
    return f"EULAR/ACR 2017 ({version})"


def _subtype_note(facts: FactView, settings: Settings) -> str | None:
    sub = facts.get("enmc.subtype")
    if sub is None:
        return "unknown"
    v = sub[0].value
    return "not_met" if v == "not_imnm" else str(v) if isinstance(v, str) else "unknown"


def _classified_note(facts: FactView, settings: Settings) -> str:
    return f"skin-or-biopsy rule ({settings.skin_or_biopsy_rule})"


def derivations() -> tuple[Derivation | RuleDerivation, ...]:
    out: list[Derivation | RuleDerivation] = []
    for target in ("HMGCR", "SRP"):
        compute, needs = _positive(target)
        out.append(Derivation(f"antibody.{target}.positive", compute, (f"antibody.{target}",), needs))
        out.append(Derivation(f"antibody.{target}.second_method", _second(target), (f"antibody.{target}",)))

    def column(version: str) -> RuleDerivation:
        return RuleDerivation(
            VERSION_FACT[version], lambda s: score_column(s, version), f"EULAR/ACR 2017 ({version})"
        )

    out += [
        column("no_biopsy"),
        column("biopsy"),
        RuleDerivation("eular_acr.score", score_definition, _eular_source),
        RuleDerivation("eular_acr.probability", probability_definition, _eular_source),
        RuleDerivation("eular_acr.category", category_definition, _eular_source, _category_note),
        RuleDerivation(
            "eular_acr.classified_as_iim", classified_definition, "EULAR/ACR 2017", _classified_note
        ),
        Derivation("eular_acr.subgroup", _subgroup, ("eular_acr.classified_as_iim",), _subgroup_needs),
        RuleDerivation("enmc.subtype", subtype_definition, "ENMC 224 (imnm assess)"),
        RuleDerivation("enmc.imnm", imnm_definition, "ENMC 224 (imnm assess)", _subtype_note),
    ]
    return tuple(out)
