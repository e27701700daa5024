"""224th ENMC IMNM classification (knowledge: enmc_224.yaml; rule trees: workup.yaml `enmc`).

Three subtypes — anti-HMGCR myopathy, anti-SRP myopathy, antibody-negative IMNM — each "elevated
CK + proximal weakness" plus serology, with a biopsy compatible with IMNM required for the
antibody-negative subtype (and for all, if the ❗ choice `biopsy_required_seropositive` says so).
An unconfirmed (weak line-blot-only) antibody counts once a second method or a compatible biopsy
confirms it. Both antibodies positive → flagged for review (choice `both_antibodies_positive`).
Everything is Kleene three-valued; an undecided result names the missing tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from imnm.core import rules as r
from imnm.core.evaluate import Missing, Outcome, dedupe_missing, missing_dict
from imnm.core.truth import Truth, and_, at_least, not_, or_
from imnm.workup import rules as wr
from imnm.workup.settings import WorkupSettings
from imnm.workup.shared import SharedEval, intern

SUBTYPES = ("anti_hmgcr_myopathy", "anti_srp_myopathy", "antibody_negative_imnm")
TARGET = {"anti_hmgcr_myopathy": "HMGCR", "anti_srp_myopathy": "SRP"}


@dataclass(frozen=True)
class EnmcResult:
    classification: str  # one of SUBTYPES | not_met | unknown
    status: str
    message: str
    imnm: bool | None
    missing: tuple[Missing, ...]
    outcomes: dict[str, Outcome]
    truths: dict[str, Truth]
    flags: tuple[str, ...] = ()
    biopsy_note: str | None = None
    choices: tuple[str, ...] = field(default=())
    memo: list[tuple[Outcome, ...]] = field(default_factory=list, repr=False, compare=False)
    """The distinct unknown leaf outcomes, once worked out (`unknown_leaves`)."""

    @property
    def subtype(self) -> str | None:
        """The derived fact `enmc.subtype`: a subtype, `not_imnm`, or None when undecided."""
        if self.classification in SUBTYPES:
            return self.classification
        return "not_imnm" if self.classification == "not_met" else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "classification": self.classification,
            "subtype": self.subtype,
            "imnm": self.imnm,
            "status": self.status,
            "message": self.message,
            "missing": [missing_dict(m) for m in self.missing],
            "flags": list(self.flags),
            "biopsy_note": self.biopsy_note,
            "criteria": {k: v.value for k, v in self.truths.items()},
            "rules": {k: o.as_dict() for k, o in self.outcomes.items()},
            "choices": list(self.choices),
        }


def subtype_label(subtype: str) -> str:
    """The subtype's label from enmc_224.yaml (e.g. 'Anti-HMGCR myopathy')."""
    from imnm import knowledge

    for s in knowledge.load("enmc_224")["subtypes"]:
        if s["id"] == subtype:
            return str(s["label"])
    return subtype


def subtype_rules(ws: WorkupSettings) -> dict[str, r.Expr]:
    """The composite rule of each subtype under the current choices (built from workup.yaml parts)."""
    return _subtype_rules(
        ws.biopsy_required_seropositive == "required",
        ws.biopsy_compatible_definition,
        ws.antibody_confirmation == "require_second_method",
        ws.both_antibodies_positive,
    )


_RULE_CACHE: dict[tuple[bool, str, bool, str], dict[str, r.Expr]] = {}


def _subtype_rules(req_pos: bool, bdef: str, confirm: bool, both: str) -> dict[str, r.Expr]:
    key = (req_pos, bdef, confirm, both)
    if key in _RULE_CACHE:
        return _RULE_CACHE[key]
    clinical = wr.rule("enmc.clinical")
    biopsy = wr.rule("enmc.biopsy_compatible", bdef)
    sero: dict[str, r.Expr] = {}
    for sub, target in TARGET.items():
        confirmed = wr.rule(f"enmc.serology.{sub}")
        if confirm:  # an unconfirmed positive also counts with a compatible biopsy (clinical.md §2.3)
            reported = intern(
                r.parse_rule(
                    {
                        "compare": {
                            "fact": f"antibody.{target}",
                            "op": "==",
                            "value": "positive",
                            "select": "any",
                        },
                        "label": f"anti-{target} reported positive",
                    }
                )
            )
            sero[sub] = r.AnyOf(
                any=[confirmed, r.All(all=[reported, biopsy], label="and a biopsy compatible with IMNM")],
                label=f"anti-{target} positive (confirmed, or confirmed by a compatible biopsy)",
            )
        else:
            sero[sub] = confirmed
    out: dict[str, r.Expr] = {"clinical": clinical, "biopsy_compatible": biopsy}
    h, s = sero["anti_hmgcr_myopathy"], sero["anti_srp_myopathy"]
    # clinical.md §2.2 (worked example N1): a positive antibody assigns its subtype even when the
    # other antibody was not tested; both positive → review (or anti-HMGCR first, by choice).
    parts_h: list[r.Expr] = [clinical, h]
    parts_s: list[r.Expr] = [clinical, s]
    if both == "hmgcr_first":
        parts_s.append(r.Not(not_=h, label="anti-HMGCR not positive"))
    if req_pos:
        parts_h.append(biopsy)
        parts_s.append(biopsy)
    out["anti_hmgcr_myopathy"] = r.All(all=parts_h, label="Anti-HMGCR myopathy (ENMC 224)")
    out["anti_srp_myopathy"] = r.All(all=parts_s, label="Anti-SRP myopathy (ENMC 224)")
    out["antibody_negative_imnm"] = r.All(
        all=[clinical, wr.rule("enmc.serology.antibody_negative_imnm"), biopsy],
        label="Antibody-negative IMNM (ENMC 224; biopsy required)",
    )
    both_parts: list[r.Expr] = [clinical, h, s] + ([biopsy] if req_pos else [])
    out["both_positive"] = r.All(all=both_parts, label="Both anti-HMGCR and anti-SRP positive")
    out = {k: intern(v) for k, v in out.items()}
    _RULE_CACHE[key] = out
    return out


def decide(truths: dict[str, Truth], both_mode: str) -> tuple[str, Truth]:
    """Classification and 'meets any IMNM subtype' from the subtype truths."""
    subs = [truths[s] for s in SUBTYPES]
    imnm = or_([*subs, truths["both_positive"]])
    if truths["both_positive"] is Truth.MET:
        return ("unknown" if both_mode == "flag_for_review" else "anti_hmgcr_myopathy"), Truth.MET
    for s in SUBTYPES:
        if truths[s] is Truth.MET:
            return s, Truth.MET
    if imnm is Truth.NOT_MET:
        return "not_met", Truth.NOT_MET
    return "unknown", imnm


def classify(
    ev: SharedEval, ws: WorkupSettings, *, hmgcr_status: str | None, srp_status: str | None
) -> EnmcResult:
    rules = subtype_rules(ws)
    outcomes = {k: ev(v) for k, v in rules.items()}
    truths = {k: o.truth for k, o in outcomes.items()}
    classification, imnm = decide(truths, ws.both_antibodies_positive)
    flags: list[str] = []
    choices = [
        f"enmc_224.biopsy_required_seropositive={ws.biopsy_required_seropositive}",
        f"enmc_224.biopsy_compatible_definition={ws.biopsy_compatible_definition}",
        f"enmc_224.antibody_confirmation={ws.antibody_confirmation}",
        f"enmc_224.both_antibodies_positive={ws.both_antibodies_positive}",
    ]
    both = truths["both_positive"] is Truth.MET
    if both:
        flags.append(
            "Both anti-HMGCR and anti-SRP are positive: report both and ask for expert review "
            "(enmc_224 choice both_antibodies_positive ⚠️)."
        )
    missing: tuple[Missing, ...] = ()
    biopsy_note = None
    if classification in SUBTYPES:
        status = "met"
        message = f"Meets ENMC 224 {subtype_label(classification)} (criteria ⚠️: ENMC wording not verified)."

        if classification != "antibody_negative_imnm" and truths["biopsy_compatible"] is not Truth.MET:
            biopsy_note = (
                "Biopsy not required when the antibody is positive (enmc_224 choice "
                f"biopsy_required_seropositive={ws.biopsy_required_seropositive}, ❗)"
            )
            if ws.biopsy_required_seropositive == "not_required_suggest":
                biopsy_note += (
                    "; a reference lab recommends biopsy confirmation of anti-HMGCR positivity [S31]"
                )
    elif classification == "not_met":
        status = "not_met"
        if truths["clinical"] is Truth.NOT_MET:
            message = (
                "ENMC 224 not met: the clinical requirement (CK above ULN and proximal weakness) is not met."
            )
        else:
            message = (
                "ENMC 224 not met: antibodies negative and the biopsy is not compatible with IMNM; "
                "consider the mimics."
            )
    elif both:
        status = "both_antibodies_positive"
        message = "Both antibodies positive: no single subtype; flagged for expert review."
    else:
        pending = [
            t
            for t, st in (("HMGCR", hmgcr_status), ("SRP", srp_status))
            if st in ("unconfirmed", "borderline")
        ]
        missing = dedupe_missing(
            [
                m
                for k in (*SUBTYPES, "both_positive")
                if truths[k] is Truth.UNKNOWN
                for m in outcomes[k].missing
            ]
        )
        if pending:
            status = "unconfirmed_anti_" + pending[0].lower()
            message = (
                f"Anti-{pending[0]} result unconfirmed (weak or line-blot-only): confirm with a second method "
                "(immunoprecipitation or tissue IIF) or a compatible muscle biopsy."
            )
        elif truths["clinical"] is Truth.UNKNOWN:
            status = "unknown"
            message = (
                "ENMC 224 undecided: the clinical requirement (CK above ULN, proximal weakness) is not known."
            )
        elif hmgcr_status is None or srp_status is None:
            status = "unknown"
            message = "ENMC 224 undecided: anti-HMGCR and anti-SRP results are needed."
        elif truths["biopsy_compatible"] is Truth.UNKNOWN:
            status = "needs_biopsy"
            message = "Antibody-negative: a muscle biopsy showing IMNM pathology is required for antibody-negative IMNM."
            if ws.biopsy_required_seronegative == "provisional_without_biopsy":
                message = "Antibody-negative IMNM not excluded (no biopsy yet; flagged, choice provisional_without_biopsy)."
        else:
            status = "unknown"
            message = "ENMC 224 undecided."
    if imnm is Truth.UNKNOWN and not missing:
        missing = dedupe_missing([m for o in outcomes.values() for m in o.missing])
    missing = tuple({m.fact: m for m in reversed(missing)}[f] for f in dict.fromkeys(m.fact for m in missing))
    return EnmcResult(
        classification,
        status,
        message,
        imnm.as_bool(),
        missing,
        outcomes,
        truths,
        tuple(flags),
        biopsy_note,
        tuple(choices),
    )


def unknown_leaves(result: EnmcResult) -> tuple[Outcome, ...]:
    """The distinct unknown leaf outcomes of the subtype rules (computed once per result, kept on it)."""
    if result.memo:
        return result.memo[0]
    seen: dict[int, Outcome] = {}
    stack = list(result.outcomes.values())
    while stack:
        o = stack.pop()
        if id(o) in seen or o.truth is not Truth.UNKNOWN:
            continue
        seen[id(o)] = o
        stack.extend(o.children)
    leaves = tuple(o for o in seen.values() if not o.children)
    result.memo.append(leaves)
    return leaves


def could_change(result: EnmcResult, ws: WorkupSettings, test: str, max_leaves: int = 8) -> bool:
    """Could some result of `test` change the ENMC conclusion? (completion of the unknown leaves)

    Leaves are grouped by the condition they test, so one condition takes one value in every
    subtype rule; every combination of MET / NOT_MET over the test's unknown leaves is tried.
    """
    groups: dict[tuple[Any, ...], list[Outcome]] = {}
    for leaf in unknown_leaves(result):
        if any(m.test == test for m in leaf.missing):
            groups.setdefault(_leaf_key(leaf.node), []).append(leaf)
    if not groups:
        return False
    keys = list(groups)
    if len(keys) > max_leaves:
        return True
    current = result.classification
    for mask in range(1 << len(keys)):
        forced: dict[int, Truth] = {}
        for i, k in enumerate(keys):
            t = Truth.MET if mask >> i & 1 else Truth.NOT_MET
            for leaf in groups[k]:
                forced[id(leaf)] = t
        truths = {k: _retruth(o, forced) for k, o in result.outcomes.items()}
        if decide(truths, ws.both_antibodies_positive)[0] != current:
            return True
    return False


def _leaf_key(node: r.Expr) -> tuple[Any, ...]:
    if isinstance(node, r.IsTrue):
        return ("is_true", node.is_true)
    if isinstance(node, r.CompareNode):
        c = node.compare
        return ("compare", c.fact, c.op, repr(c.value), c.select)
    return ("node", id(node))


def _retruth(o: Outcome, forced: dict[int, Truth]) -> Truth:
    """The truth of an outcome tree with some unknown leaves forced (memoised in `forced`).

    Kleene logic is monotone: a node already met or not met keeps its truth whatever the unknown
    leaves turn out to be, so only unknown nodes are recomputed.
    """
    if o.truth is not Truth.UNKNOWN:
        return o.truth
    hit = forced.get(id(o))
    if hit is not None:
        return hit
    if not o.children:
        return o.truth
    kids = [_retruth(c, forced) for c in o.children]
    n = o.node
    if isinstance(n, r.All):
        t = and_(kids)
    elif isinstance(n, r.AnyOf):
        t = or_(kids)
    elif isinstance(n, r.Not):
        t = not_(kids[0])
    else:
        assert isinstance(n, r.AtLeast)
        t = at_least(n.at_least.n, kids)
    forced[id(o)] = t
    return t
