"""Property tests of the work-up: score bounds, completions inside the range, monotone derived facts,
a present item never lowers the score, and the fast leaf path agrees with the rule engine."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from imnm.core.evaluate import evaluate
from imnm.core.facts import OneOf
from imnm.core.rules import parse_rule
from imnm.core.truth import Truth
from imnm.facts import REGISTRY, RecordFacts
from imnm.record.load import parse_record
from imnm.services import assess
from imnm.workup.eular_acr import category_rank
from tests.conftest import AS_OF

ITEM_FINDINGS = [
    "proximal_weakness_upper",
    "proximal_weakness_lower",
    "neck_flexors_weaker_than_extensors",
    "legs_proximal_weaker_than_distal",
    "heliotrope_rash",
    "gottron_papules",
    "gottron_sign",
    "dysphagia",
]
OTHER_FINDINGS = ["finger_flexor_weakness"]
BIOPSY_BOOLS = [
    "endomysial_infiltrate_surrounding_not_invading",
    "endomysial_infiltrate_invading_non_necrotic",
    "perimysial_or_perivascular_infiltrate",
    "perifascicular_atrophy",
    "rimmed_vacuoles",
    "mhc1_upregulation",
    "sarcolemmal_mac_deposition",
]
tri = st.sampled_from([None, True, False])


@st.composite
def labs(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = [
        {"test": "ck", "value": float(draw(st.sampled_from([90, 200, 250, 900, 3100, 8000, 20000]))), "unit": "U/L",
         "uln": 200.0, "date": "2026-01-0" + str(1 + i)}
        for i in range(draw(st.integers(1, 2)))
    ]  # fmt: skip
    for enzyme in ("ldh", "ast", "alt"):
        if draw(st.booleans()):
            out.append(
                {
                    "test": enzyme,
                    "value": float(draw(st.sampled_from([20, 60, 400]))),
                    "unit": "U/L",
                    "uln": 50.0,
                }
            )
    return out


@st.composite
def antibodies(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for target in ("HMGCR", "SRP", "Jo-1"):
        if draw(st.booleans()):
            method = draw(st.sampled_from(["ELISA", "line_blot", "IIF", None]))
            ab: dict[str, Any] = {
                "target": target,
                "result": draw(st.sampled_from(["positive", "negative", "borderline"])),
            }
            if method:
                ab["method"] = method
            if method == "line_blot" and draw(st.booleans()):
                ab["band"] = draw(st.sampled_from(["weak", "moderate", "strong"]))
            out.append(ab)
    return out


@st.composite
def biopsy_fields(draw: st.DrawFn) -> dict[str, Any]:
    b: dict[str, Any] = {"performed": True}
    for f in BIOPSY_BOOLS:
        v = draw(tri)
        if v is not None:
            b[f] = v
    nec = draw(st.sampled_from([None, "none", "scattered", "prominent"]))
    if nec:
        b["necrotic_fibers"] = nec
    inf = draw(st.sampled_from([None, "none", "sparse", "moderate", "prominent"]))
    if inf:
        b["inflammation"] = inf
    return b


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": "p"}
    age = draw(st.sampled_from([None, 9, 17, 18, 35, 39, 40, 62, 80]))
    if age is not None:
        rec["age_at_onset"] = age
    findings = {f: v for f in ITEM_FINDINGS + OTHER_FINDINGS if (v := draw(tri)) is not None}
    rec["findings"] = findings
    imp = draw(tri)
    if imp is not None:
        rec["history"] = {"improved_with_immunosuppression": imp}
    if draw(st.booleans()):
        rec["labs"] = draw(labs())
    if draw(st.booleans()):
        rec["antibodies"] = draw(antibodies())
    kind = draw(st.sampled_from(["unknown", "not_done", "done"]))
    if kind == "not_done":
        rec["biopsy"] = {"performed": False}
    elif kind == "done":
        rec["biopsy"] = draw(biopsy_fields())
    return rec


@st.composite
def refinement(draw: st.DrawFn, rec: dict[str, Any], complete: bool = False) -> dict[str, Any]:
    """Fill some (or, with complete, all) unknowns of a record; known values are kept."""
    out = copy.deepcopy(rec)
    fill = st.just(True) if complete else st.booleans()
    if "age_at_onset" not in out and draw(fill):
        out["age_at_onset"] = draw(st.sampled_from([9, 30, 45, 70]))
    for f in ITEM_FINDINGS + OTHER_FINDINGS:
        if f not in out["findings"] and draw(fill):
            out["findings"][f] = draw(st.booleans())
    if "history" not in out and draw(fill):
        out["history"] = {"improved_with_immunosuppression": draw(st.booleans())}
    if "labs" not in out and draw(fill):
        out["labs"] = draw(labs())
    if complete:  # every enzyme of item 11 known
        have = {lab["test"] for lab in out["labs"]}
        out["labs"] += [
            {"test": e, "value": 10.0, "unit": "U/L", "uln": 50.0}
            for e in ("ldh", "ast", "alt")
            if e not in have
        ]
    if "antibodies" not in out and draw(fill):
        out["antibodies"] = draw(antibodies())
    if complete and not any(a["target"] == "Jo-1" for a in out["antibodies"]):
        out["antibodies"].append({"target": "Jo-1", "result": "negative", "method": "ELISA"})
    if "biopsy" not in out and draw(fill):
        out["biopsy"] = draw(st.sampled_from([{"performed": False}, {"performed": True}]))
    b = out.get("biopsy")
    if b and b["performed"]:
        for f in BIOPSY_BOOLS:
            if f not in b and draw(fill):
                b[f] = draw(st.booleans())
        if "necrotic_fibers" not in b and draw(fill):
            b["necrotic_fibers"] = draw(st.sampled_from(["none", "scattered", "prominent"]))
        if "inflammation" not in b and draw(fill):
            b["inflammation"] = draw(st.sampled_from(["none", "sparse", "moderate", "prominent"]))
    return out


def _eular(rec: dict[str, Any]) -> dict[str, Any]:
    return assess(parse_record(rec), as_of=AS_OF).as_dict()["eular_acr"]


@given(records())
def test_score_and_probability_and_category_lie_in_their_ranges(rec: dict[str, Any]) -> None:
    u = _eular(rec)
    assert u["score_min"] <= u["score"] <= u["score_max"]
    assert u["probability_min"] <= u["probability"] <= u["probability_max"]
    assert (
        category_rank(u["category_min"]) <= category_rank(u["category"]) <= category_rank(u["category_max"])
    )


@given(st.data())
def test_every_completion_lands_inside_the_range(data: st.DataObject) -> None:
    rec = data.draw(records())
    full = data.draw(refinement(rec, complete=True))
    before, after = _eular(rec), _eular(full)
    assert after["score_min"] == after["score_max"] == after["score"], "a complete record has one score"
    assert before["score_min"] <= after["score"] <= before["score_max"]
    assert (
        category_rank(before["category_min"])
        <= category_rank(after["category"])
        <= category_rank(before["category_max"])
    )
    assert before["probability_min"] - 1e-9 <= after["probability"] <= before["probability_max"] + 1e-9


@given(st.data())
def test_a_present_item_never_lowers_the_score(data: st.DataObject) -> None:
    rec = data.draw(records())
    finding = data.draw(st.sampled_from(ITEM_FINDINGS))
    more = copy.deepcopy(rec)
    more["findings"][finding] = True
    before, after = _eular(rec), _eular(more)
    assert after["score"] >= before["score"]
    assert after["score_min"] >= before["score_min"]
    assert category_rank(after["category"]) >= category_rank(before["category"])


RULES = [
    parse_rule(r)
    for r in (
        {"compare": {"fact": "eular_acr.score", "op": ">=", "value": 7.5}},
        {"compare": {"fact": "eular_acr.score", "op": "<", "value": 5.3}},
        {"compare": {"fact": "eular_acr.probability", "op": ">=", "value": 55, "unit": "%"}},
        {"compare": {"fact": "eular_acr.category", "op": "in", "value": ["probable", "definite"]}},
        {"is_true": "eular_acr.classified_as_iim"},
        {"compare": {"fact": "eular_acr.subgroup", "op": "==", "value": "PM"}},
        {"compare": {"fact": "eular_acr.subgroup", "op": "==", "value": "DM"}},
        {"compare": {"fact": "enmc.subtype", "op": "==", "value": "anti_hmgcr_myopathy"}},
        {"compare": {"fact": "enmc.subtype", "op": "==", "value": "not_imnm"}},
        {"is_true": "enmc.imnm"},
        {"is_true": "antibody.SRP.positive"},
    )
]


@given(st.data())
def test_derived_facts_are_monotone_through_the_rule_engine(data: st.DataObject) -> None:
    """Learning more facts only settles unknowns: a rule on a derived fact that is met or not met
    stays so, and a range only narrows."""
    rec = data.draw(records())
    more = data.draw(refinement(rec))
    fa = RecordFacts(parse_record(rec), as_of=AS_OF)
    fb = RecordFacts(parse_record(more), as_of=AS_OF)
    for rule in RULES:
        a = evaluate(rule, fa, as_of=AS_OF, registry=REGISTRY)
        b = evaluate(rule, fb, as_of=AS_OF, registry=REGISTRY)
        if a.truth is not Truth.UNKNOWN:
            assert b.truth is a.truth, (rule, rec, more)
        else:
            assert a.missing, "an unknown names what settles it"
    for name in ("eular_acr.score", "eular_acr.probability"):
        lo_a, hi_a = _bounds(fa.get(name))
        lo_b, hi_b = _bounds(fb.get(name))
        assert lo_a - 1e-9 <= lo_b <= hi_b <= hi_a + 1e-9
    for name in (
        "enmc.subtype",
        "enmc.imnm",
        "eular_acr.category",
        "eular_acr.classified_as_iim",
        "eular_acr.subgroup",
    ):
        va, vb = fa.get(name), fb.get(name)
        if va is not None:
            assert vb is not None, (name, rec, more)
            assert _possible(vb[0].value) <= _possible(va[0].value), (name, rec, more)


def _possible(value: Any) -> set[object]:
    """The values a coded fact may still take (a set of codes only narrows as facts are learned)."""
    return set(value.values) if isinstance(value, OneOf) else {value}


def _bounds(obs: Any) -> tuple[float, float]:
    v = obs[0].value
    return (v.lo, v.hi) if hasattr(v, "lo") else (float(v), float(v))


@given(records())
def test_the_shared_mode_gives_the_explained_outcome(rec: dict[str, Any]) -> None:
    """The work-up's shared mode (each distinct node once per run) is a caching policy only."""
    from imnm.core.evaluate import Run
    from imnm.core.rules import children
    from imnm.workup import rules as wr

    facts = RecordFacts(parse_record(rec), as_of=AS_OF)
    run = Run(facts, AS_OF, REGISTRY)
    checked = 0
    for keys in wr.all_rule_paths():
        stack = [wr.rule_from(keys)]
        while stack:
            node = stack.pop()
            shared = run.outcome(node, shared=True)
            assert shared.as_dict() == evaluate(node, facts, as_of=AS_OF, registry=REGISTRY).as_dict()
            checked += 1
            stack.extend(children(node))
    assert checked > 0
