"""2017 EULAR/ACR classification criteria for IIM (knowledge: eular_acr_2017.yaml; item rules:
workup.yaml `eular_acr_items`).

Items are three-valued. Scores are kept in integer tenths (weights have one decimal), which is
the "round the sum to one decimal before comparing" rule done exactly. With unknown items:
`score` = items known present (what the official calculator shows as the minimum),
`score_min`/`score_max` over every completion; the category is monotone in the score, so the
categories of the two ends bound the category of every completion. When it is not recorded
whether a biopsy was done, the range also covers the biopsy version (the whole column changes).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from imnm import knowledge
from imnm.core import rules as r
from imnm.core.evaluate import Missing, Outcome, Run, dedupe_missing, missing_dict
from imnm.core.facts import Registry
from imnm.core.truth import Truth, and_, or_
from imnm.workup import rules as wr
from imnm.workup.results import Disagreement
from imnm.workup.settings import WorkupSettings
from imnm.workup.shared import SharedEval, intern

VERSIONS = ("no_biopsy", "biopsy")


def table() -> dict[str, Any]:
    return knowledge.load("eular_acr_2017")


@cache
def _scale() -> int:
    return int(10 ** int(table()["rounding"]["decimals"]))


def tenths(x: float) -> int:
    return round(x * _scale())


def as_score(t: int) -> float:
    return round(t / _scale(), int(table()["rounding"]["decimals"]))


@cache
def items_meta() -> tuple[dict[str, Any], ...]:
    return tuple(table()["items"])


@cache
def _categories() -> tuple[str, ...]:
    return tuple(c["id"] for c in table()["categories"])


def category_rank(cat: str) -> int:
    return _categories().index(cat)


@cache
def constant(version: str) -> float:
    return float(table()["probability"][f"constant_{version}"])


def probability(score: float, version: str) -> float:
    """P(IIM) = 1/(1+exp(c − score)) as a fraction (eular_acr_2017 probability ⚠️)."""
    return 1.0 / (1.0 + math.exp(constant(version) - score))


@cache
def thresholds(version: str, basis: str) -> tuple[tuple[str, int], ...]:
    """(category, lowest score in tenths) in ascending order, by score cut-offs or by probability."""
    out = []
    for c in table()["categories"]:
        if basis == "score":
            t = tenths(float(c[f"score_min_{version}"]))
        else:
            p = float(c["probability_min"])
            if p <= 0:
                t = 0
            else:
                t = math.ceil((constant(version) + math.log(p / (1 - p))) * _scale())
                while t > 0 and probability(as_score(t - 1), version) >= p:
                    t -= 1
                while probability(as_score(t), version) < p:
                    t += 1
        out.append((str(c["id"]), t))
    return tuple(out)


def category_of(t: int, version: str, basis: str) -> str:
    cat = _categories()[0]
    for c, lo in thresholds(version, basis):
        if t >= lo:
            cat = c
    return cat


def _bits_in(mask: int, lo: int, hi: int) -> bool:
    if hi < 0 or hi < lo:
        return False
    lo = max(lo, 0)
    return (mask >> lo) & ((1 << (hi - lo + 1)) - 1) != 0


def _sums(groups: list[tuple[int, ...]]) -> int:
    bits = 1
    for options in groups:
        new = 0
        for o in options:
            new |= bits << o
        bits = new
    return bits


@dataclass(frozen=True)
class Item:
    id: str
    number: str
    label: str
    domain: str
    weights: dict[str, float | None]
    outcome: Outcome
    source: str
    mark: str

    @property
    def truth(self) -> Truth:
        return self.outcome.truth

    def points(self, version: str) -> int:
        """The item's weight in this version's column, in integer tenths."""
        return _tenths_weight(self.id, version)


@cache
def _tenths_weight(item_id: str, version: str) -> int:
    w = next(m for m in items_meta() if m["id"] == item_id)[f"weight_{version}"]
    return tenths(float(w or 0))


@dataclass(frozen=True)
class Group:
    name: str
    items: tuple[str, ...]
    options: tuple[int, ...]  # possible contributions in tenths (0 included)


@dataclass(frozen=True)
class VersionScore:
    version: str
    known: int
    groups: tuple[Group, ...]
    basis: str

    @property
    def lo(self) -> int:
        return self.known

    @property
    def hi(self) -> int:
        return self.known + sum(max(g.options) for g in self.groups)

    def category(self, t: int) -> str:
        return category_of(t, self.version, self.basis)

    def could_change(self, group_names: set[str]) -> bool:
        """Could some completion of these groups change the category, whatever the others are?"""
        mine = [g for g in self.groups if g.name in group_names]
        if not mine:
            return False
        o = sum(max(g.options) for g in mine)
        others = _sums([g.options for g in self.groups if g.name not in group_names])
        for _cat, t in thresholds(self.version, self.basis)[1:]:
            if _bits_in(others, t - o - self.known, t - 1 - self.known):
                return True
        return False


@cache
def group_specs(
    item_ids: tuple[str, ...], version: str
) -> tuple[tuple[str, tuple[tuple[str, int], ...]], ...]:
    """Score groups of a version with each member's points in tenths: exclusive items (the age
    bands) form one group, every other scored item its own; unscored items are left out."""
    groups = wr.table()["eular_acr_item_groups"]
    grouped = {i for g in groups.values() for i in g}
    meta = {m["id"]: m for m in items_meta()}
    specs = [(name, tuple(ids)) for name, ids in groups.items()]
    specs += [(i, (i,)) for i in item_ids if i not in grouped]
    out = []
    for name, ids in specs:
        members = tuple(
            (i, _tenths_weight(i, version)) for i in ids if meta[i][f"weight_{version}"] is not None
        )
        if members:
            out.append((name, members))
    return tuple(out)


def version_score(items: dict[str, Item], version: str, basis: str) -> VersionScore:
    known = 0
    groups: list[Group] = []
    met, unknown = Truth.MET, Truth.UNKNOWN
    for name, members in group_specs(tuple(items), version):
        best = -1
        unknown_ids: list[str] = []
        opts = {0}
        for item_id, pts in members:
            t = items[item_id].outcome.truth
            if t is met:
                best = max(best, pts)
            elif t is unknown:
                unknown_ids.append(item_id)
                opts.add(pts)
        if best >= 0:
            known += best
        elif unknown_ids:
            groups.append(Group(name, tuple(unknown_ids), tuple(sorted(opts))))
    return VersionScore(version, known, tuple(groups), basis)


@dataclass(frozen=True)
class EularResult:
    items: dict[str, Item]
    biopsy_status: bool | None
    versions: tuple[VersionScore, ...]  # primary first; two when the biopsy status is unknown
    skin: Truth
    rule: Truth
    rule_outcome_text: str
    classified: Truth
    minimum: str
    subgroup: str | None
    subgroup_note: str | None
    subgroup_missing: tuple[Missing, ...]
    ws: WorkupSettings
    disagreements: tuple[Disagreement, ...] = field(default=())

    @property
    def primary(self) -> VersionScore:
        return self.versions[0]

    @property
    def version(self) -> str:
        return self.primary.version

    @property
    def score(self) -> float:
        return as_score(self.primary.known)

    @property
    def score_min(self) -> float:
        return as_score(min(v.lo for v in self.versions))

    @property
    def score_max(self) -> float:
        return as_score(max(v.hi for v in self.versions))

    def _prob(self, v: VersionScore, t: int) -> float:
        return probability(as_score(t), v.version)

    @property
    def probability(self) -> float:
        return self._prob(self.primary, self.primary.known)

    @property
    def probability_min(self) -> float:
        return min(self._prob(v, v.lo) for v in self.versions)

    @property
    def probability_max(self) -> float:
        return max(self._prob(v, v.hi) for v in self.versions)

    @property
    def category(self) -> str:
        return self.primary.category(self.primary.known)

    @property
    def category_min(self) -> str:
        return min((v.category(v.lo) for v in self.versions), key=category_rank)

    @property
    def category_max(self) -> str:
        return max((v.category(v.hi) for v in self.versions), key=category_rank)

    @property
    def category_known(self) -> str | None:
        return self.category_min if self.category_min == self.category_max else None

    def unknown_items_changing_category(self) -> list[str]:
        out: list[str] = []
        for g in self.primary.groups:
            if self.primary.could_change({g.name}):
                out.extend(g.items)
        return out

    def as_dict(self) -> dict[str, Any]:
        show_p = self.ws.probability_constants == "show_flagged"
        pct = (lambda p: round(100 * p, 2)) if show_p else (lambda p: None)
        changing = set(self.unknown_items_changing_category())
        version_note = None
        if self.biopsy_status is None:
            alt = self.versions[1]
            version_note = (
                "Whether a muscle biopsy was done is not recorded: scored without biopsy; the range also "
                f"covers the biopsy version ({as_score(alt.lo):g}–{as_score(alt.hi):g}, "
                f"{alt.category(alt.lo)}–{alt.category(alt.hi)})."
            )
        return {
            "version": self.version,
            "biopsy_status": {True: "performed", False: "not_performed", None: "unknown"}[self.biopsy_status],
            "version_note": version_note,
            "score": self.score,
            "score_min": self.score_min,
            "score_max": self.score_max,
            "probability": pct(self.probability),
            "probability_min": pct(self.probability_min),
            "probability_max": pct(self.probability_max),
            "probability_unit": "%",
            "probability_note": (
                f"P = 1/(1+exp(c − score)), c = {constant(self.version):g} ({self.version}); constants consistent "
                "with the published cut-offs but the formula text was not retrieved (⚠️)"
            )
            if show_p
            else "hidden (choice probability_constants=hide)",
            "category": self.category,
            "category_min": self.category_min,
            "category_max": self.category_max,
            "category_basis": self.ws.category_basis,
            "category_disagreements": list(self.disagreements),
            "skin_or_biopsy_rule": {
                "truth": self.rule.value,
                "reading": self.ws.skin_or_biopsy_rule,
                "skin_item_present": self.skin.value,
                "text": self.rule_outcome_text,
            },
            "classification_minimum": self.minimum,
            "classified_as_iim": _tri(self.classified),
            "subgroup": self.subgroup,
            "subgroup_note": self.subgroup_note,
            "subgroup_missing": [missing_dict(m) for m in self.subgroup_missing],
            "unknown_items_that_could_change_category": sorted(changing, key=_item_order),
            "items": [self._item_dict(it, it.id in changing) for it in self.items.values()],
            "choices": [
                f"eular_acr_2017.category_basis={self.ws.category_basis}",
                f"eular_acr_2017.skin_or_biopsy_rule={self.ws.skin_or_biopsy_rule}",
                f"eular_acr_2017.classification_minimum={self.ws.classification_minimum}",
                f"eular_acr_2017.enzymes_value={self.ws.enzymes_value}",
                f"eular_acr_2017.probability_constants={self.ws.probability_constants}",
                f"eular_acr_2017.subgroup_tree_use={self.ws.subgroup_tree_use}",
            ],
        }

    def _item_dict(self, it: Item, changing: bool) -> dict[str, Any]:
        w = it.weights[self.version]
        status = {Truth.MET: "present", Truth.NOT_MET: "absent", Truth.UNKNOWN: "unknown"}[it.truth]
        return {
            "id": it.id,
            "number": it.number,
            "label": it.label,
            "weight": w,
            "scored": w is not None,
            "status": status,
            "points": w if (w is not None and it.truth is Truth.MET) else 0,
            "evidence": list(dict.fromkeys(str(e) for e in it.outcome.all_evidence())),
            "missing": [missing_dict(m) for m in it.outcome.missing] if it.truth is Truth.UNKNOWN else [],
            "could_change_category": changing,
            "source": it.source,
            "mark": it.mark,
        }


def _item_order(item_id: str) -> int:
    return [m["id"] for m in items_meta()].index(item_id)


def _tri(t: Truth) -> bool | str:
    b = t.as_bool()
    return "unknown" if b is None else b


@cache
def _compare_rule(fact: str, op: str, value: float, unit: str | None) -> r.Expr:
    data: dict[str, Any] = {"fact": fact, "op": op, "value": value}
    if unit:
        data["unit"] = unit
    return intern(r.parse_rule({"compare": data}))


def score_items(ev: SharedEval, ws: WorkupSettings) -> dict[str, Item]:
    out: dict[str, Item] = {}
    for m in items_meta():
        rule = wr.item_rule(m["id"], ws.enzymes_value)
        o = ev(rule)
        out[m["id"]] = Item(
            m["id"],
            str(m["number"]),
            m["label"],
            m["domain"],
            {"no_biopsy": m["weight_no_biopsy"], "biopsy": m["weight_biopsy"]},
            o,
            m["source"],
            m["mark"],
        )
    return out


def classify(ev: SharedEval, ws: WorkupSettings, *, biopsy_status: bool | None) -> EularResult:
    items = score_items(ev, ws)
    basis = ws.category_basis
    if biopsy_status is True:
        versions: tuple[VersionScore, ...] = (version_score(items, "biopsy", basis),)
    elif biopsy_status is False:
        versions = (version_score(items, "no_biopsy", basis),)
    else:
        versions = (version_score(items, "no_biopsy", basis), version_score(items, "biopsy", basis))
    skin_ids = wr.table()["eular_acr_skin_items"]
    biopsy_ids = wr.table()["eular_acr_biopsy_items"]
    skin = or_(items[i].truth for i in skin_ids)
    performed = Truth.of(biopsy_status)
    if ws.skin_or_biopsy_rule == "strict":
        features = and_([performed, or_(items[i].truth for i in biopsy_ids)])
        text = "heliotrope rash, Gottron's papules or Gottron's sign present, or a biopsy with ≥ 1 scored biopsy item (strict)"
    else:
        features = performed
        text = "heliotrope rash, Gottron's papules or Gottron's sign present, or a muscle biopsy performed (lenient)"
    rule = or_([skin, features])
    minimum = ws.classification_minimum.split("_")[0]
    res_cat_min = min((v.category(v.lo) for v in versions), key=category_rank)
    res_cat_max = max((v.category(v.hi) for v in versions), key=category_rank)
    if category_rank(res_cat_min) >= category_rank(minimum):
        cat_truth = Truth.MET
    elif category_rank(res_cat_max) < category_rank(minimum):
        cat_truth = Truth.NOT_MET
    else:
        cat_truth = Truth.UNKNOWN
    classified = and_([cat_truth, rule])
    subgroup: str | None = None
    note: str | None = None
    sub_missing: tuple[Missing, ...] = ()
    if classified is Truth.MET:
        if ws.subgroup_tree_use == "apply_flagged":
            subgroup, note, sub_missing = _subgroup(items, ev)
        else:
            note = "subgroups not assigned (choice subgroup_tree_use=disabled)"
    elif classified is Truth.UNKNOWN:
        note = "not assigned until classification as IIM is settled"
    disagreements: list[Disagreement] = []
    for v in versions:
        for t in sorted({v.known, v.lo, v.hi}):
            by_s, by_p = category_of(t, v.version, "score"), category_of(t, v.version, "probability")
            if by_s != by_p:
                disagreements.append(
                    {
                        "version": v.version,
                        "score": as_score(t),
                        "probability": round(100 * probability(as_score(t), v.version), 2),
                        "by_score": by_s,
                        "by_probability": by_p,
                        "used": basis,
                        "note": "published score cut-off and probability disagree (❗ choice category_basis)",
                    }
                )
    return EularResult(
        items,
        biopsy_status,
        versions,
        skin,
        rule,
        text,
        classified,
        minimum,
        subgroup,
        note,
        sub_missing,
        ws,
        tuple(disagreements),
    )


TruthOf = Callable[[r.Expr], tuple[Truth, list[Missing]]]


def _subgroup(items: dict[str, Item], ev: SharedEval) -> tuple[str | None, str | None, tuple[Missing, ...]]:
    def item(test: str) -> tuple[Truth, list[Missing]]:
        it = items[test]
        return it.truth, list(it.outcome.missing)

    def node(n: r.Expr) -> tuple[Truth, list[Missing]]:
        o = ev(n)
        return o.truth, list(o.missing)

    return subgroup_tree(set(items), item, node, ev.registry)


def subgroup_lean(
    run: Run, settings: WorkupSettings, *, want_missing: bool = False
) -> tuple[str | None, tuple[Missing, ...]]:
    """The subgroup alone (no explanation), for the derived fact `eular_acr.subgroup`; with
    `want_missing`, also what would settle the tree node that is undecided."""
    ids = {m["id"] for m in items_meta()}

    def node(n: r.Expr) -> tuple[Truth, list[Missing]]:
        if want_missing:
            t, ms = run.assess(n)
            return t, list(ms)
        return run.truth(n)[0], []

    def item(test: str) -> tuple[Truth, list[Missing]]:
        return node(wr.item_rule(test, settings.enzymes_value))

    sub, _note, missing = subgroup_tree(ids, item, node, run.registry)
    return sub, missing


def subgroup_tree(
    item_ids: set[str],
    item: Callable[[str], tuple[Truth, list[Missing]]],
    node_truth: TruthOf,
    registry: Registry,
) -> tuple[str | None, str | None, tuple[Missing, ...]]:
    """Walk the 2017 subgroup tree (eular_acr_2017.yaml subgroup_tree) over three-valued tests."""
    tree = table()["subgroup_tree"]
    nodes = {n["id"]: n for n in tree["nodes"]}
    leaves = {leaf["id"] for leaf in tree["leaves"]}
    terms = wr.table()["eular_acr_tree_terms"]

    def truth(test: Any) -> tuple[Truth, list[Missing]]:
        if isinstance(test, str):
            if test in item_ids:
                return item(test)
            if test in terms:
                return node_truth(wr.term_rule(test))
            raise KeyError(f"subgroup tree term {test!r} has no rule in workup.yaml")
        if "fact" in test:
            spec = registry[test["fact"]]
            return node_truth(_compare_rule(test["fact"], test["op"], float(test["value"]), spec.unit))
        key = "any_of" if "any_of" in test else "all_of"
        parts = [truth(t) for t in test[key]]
        combine = or_ if key == "any_of" else and_
        t = combine(p[0] for p in parts)
        return t, [m for p in parts if p[0] is Truth.UNKNOWN for m in p[1]]

    node_id = tree["root"]
    while node_id not in leaves:
        n = nodes[node_id]
        t, missing = truth(n["test"])
        if t is Truth.UNKNOWN:
            return None, f"subgroup undecided: '{n['condition']}' is unknown", dedupe_missing(missing)
        node_id = n["if_true"] if t is Truth.MET else n["if_false"]
    return node_id, "subgroup tree node wording ⚠️ (from recollection of Lundberg 2017 Figure 2)", ()


def biopsy_version_if_done(result: EularResult) -> VersionScore:
    """The biopsy version's score range if a biopsy were done now (its items still unknown)."""
    return version_score(result.items, "biopsy", result.ws.category_basis)


def biopsy_could_change_category(result: EularResult, max_groups: int = 10) -> bool:
    """If no biopsy is recorded: could some biopsy result put the category somewhere the no-biopsy
    version would not, for some completion of the unknown clinical items?

    The clinical unknowns are enumerated jointly in both columns (their weights differ), the biopsy
    items at their two extremes (none / all present; the category is monotone in between)."""
    nb = version_score(result.items, "no_biopsy", result.ws.category_basis)
    b = biopsy_version_if_done(result)
    clinical = {g.name for g in nb.groups}
    if len(clinical) > max_groups:
        return True
    pairs = {(0, 0)}
    for g in nb.groups:
        choices = {(0, 0)} | {
            (result.items[i].points("no_biopsy"), result.items[i].points("biopsy")) for i in g.items
        }
        pairs = {(x + p, y + q) for x, y in pairs for p, q in choices}
    y_max = sum(max(g.options) for g in b.groups if g.name not in clinical)
    for x, y in pairs:
        here = nb.category(nb.known + x)
        if b.category(b.known + y) != here or b.category(b.known + y + y_max) != here:
            return True
    return False
