"""The next tests, ranked (knowledge: tests.yaml invasiveness ranks and `supplies`).

First the tests whose result could change a conclusion — the ENMC 224 subtype, the EULAR/ACR
category or the EULAR/ACR classification — least invasive first. "Could change" is computed, not
guessed: for ENMC every combination of outcomes of the test's unknown conditions is tried; for
EULAR/ACR the achievable scores of every completion of the other unknown items are enumerated
(a subset-sum over integer tenths) and checked against the category cut-offs; a biopsy not yet
done is tried as the biopsy version of the criteria. Then the extramuscular and safety work-up,
then tests that check mimics and supportive tests.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from imnm import knowledge
from imnm.core.truth import Truth
from imnm.workup import enmc as enmc_mod
from imnm.workup import eular_acr as ea
from imnm.workup import rules as wr
from imnm.workup.core import Core
from imnm.workup.interpret import mri_recorded
from imnm.workup.results import Mimic, NextTest, WorkupItem


def _value(c: Core, name: str) -> object:
    obs = c.facts.get(name)
    return obs[0].value if obs else None


ENMC = "ENMC 224 subtype"
CATEGORY = "EULAR/ACR category"
CLASSIFICATION = "EULAR/ACR classification"
BIOPSY = "muscle_biopsy"


@cache
def catalogue() -> dict[str, dict[str, Any]]:
    return {t["id"]: t for t in knowledge.load("tests")["tests"]}


@cache
def _order() -> dict[str, int]:
    return {t: i for i, t in enumerate(catalogue())}


def classification_tests(c: Core) -> list[NextTest]:
    e, u = c.enmc, c.eular
    settles: dict[str, dict[str, str]] = {}  # test -> fact -> label
    for m in e.missing:
        settles.setdefault(m.test, {})[m.fact] = m.label
    item_tests: dict[str, set[str]] = {}
    for it in u.items.values():
        if it.truth is Truth.UNKNOWN:
            for m in it.outcome.missing:
                item_tests.setdefault(it.id, set()).add(m.test)
                settles.setdefault(m.test, {})[m.fact] = m.label
    if u.biopsy_status is None:
        settles.setdefault(BIOPSY, {})["biopsy.performed"] = "whether a muscle biopsy was done (not recorded)"
    elif u.biopsy_status is False:
        settles.setdefault(BIOPSY, {})["biopsy.performed"] = "a muscle biopsy (none done yet)"
    minimum = ea.category_rank(u.minimum)
    # tests whose facts sit on an undecided path of an ENMC subtype rule (Kleene relevance)
    enmc_tests = {m.test for m in e.missing}
    out = []
    for test, facts in settles.items():
        if test == "antibody_second_method" and c.ws.antibody_second_method_offered != "when_unconfirmed":
            continue
        changes: list[str] = []
        why: list[str] = []
        joint: list[str] = []
        if e.classification == "unknown":
            if enmc_mod.could_change(e, c.ws, test):
                changes.append(ENMC)
                why.append("could settle the ENMC 224 subtype")
            elif test in enmc_tests:
                changes.append(ENMC)
                joint.append(ENMC)
                why.append("could settle the ENMC 224 subtype together with the other ENMC tests listed")
        touched = {i for i, ts in item_tests.items() if test in ts}
        if any(v.could_change({g.name for g in v.groups if set(g.items) & touched}) for v in u.versions):
            changes.append(CATEGORY)
            why.append("could move the EULAR/ACR category")
        if (
            u.classified is Truth.UNKNOWN
            and touched
            and (
                CATEGORY in changes
                or touched & set(wr.table()["eular_acr_skin_items"])
                or touched & set(wr.table()["eular_acr_biopsy_items"])
            )
        ):
            changes.append(CLASSIFICATION)
            why.append("could decide whether the EULAR/ACR criteria classify this as IIM")
        if test == BIOPSY and u.biopsy_status is not True:
            b = ea.biopsy_version_if_done(u)
            lo, hi = b.category(b.lo), b.category(b.hi)
            if CATEGORY not in changes and ea.biopsy_could_change_category(u):
                changes.append(CATEGORY)
                why.append(
                    f"would bring in the biopsy version of the criteria (range {ea.as_score(b.lo):g}–{ea.as_score(b.hi):g}: {lo}–{hi})"
                )
            could_pass = u.skin is Truth.MET or c.ws.skin_or_biopsy_rule == "lenient" or b.groups
            cls_change = (
                u.classified is not Truth.MET and ea.category_rank(hi) >= minimum and could_pass
            ) or (u.classified is Truth.MET and ea.category_rank(lo) < minimum)
            if cls_change and CLASSIFICATION not in changes:
                changes.append(CLASSIFICATION)
                if u.skin is not Truth.MET:
                    why.append(
                        "without heliotrope rash or Gottron papules/sign, the EULAR/ACR criteria need biopsy features to classify as IIM"
                    )
                else:
                    why.append("could decide whether the EULAR/ACR criteria classify this as IIM")
        if not changes or test not in catalogue():
            continue
        labels = [v for v in dict.fromkeys(facts.values())]
        text = f"Would settle: {'; '.join(labels)}. Result: " + "; ".join(why) + "."
        entry = _entry(test, "classification", text, changes, sorted(facts))
        entry["together_with_other_tests"] = joint
        out.append(entry)
    out.sort(
        key=lambda t: (
            t["invasiveness"],
            ENMC not in t["could_change"] or bool(t["together_with_other_tests"]),
            _order()[t["test"]],
        )
    )
    return out


def _entry(test: str, tier: str, why: str, changes: list[str], facts: list[str]) -> NextTest:
    t = catalogue()[test]
    return {
        "test": test,
        "name": t["name"],
        "plain_name": t["plain_name"],
        "plain_description": t["plain_description"],
        "invasiveness": int(t["invasiveness"]),
        "tier": tier,
        "why": why,
        "could_change": changes,
        "together_with_other_tests": [],
        "settles": facts,
    }


def _biopsy_on_file(c: Core) -> bool:
    return _value(c, "biopsy.performed") is True


def _ask_the_pathologist(c: Core, first: list[NextTest]) -> list[NextTest]:
    """With a biopsy on file, report items still unknown are already asked of that report (the facts'
    `done` supplier, test `biopsy_report`); say which items, of which biopsy."""
    from imnm.vocabulary import REGISTRY

    done = _value(c, "biopsy.date")
    when = f" of {done.isoformat()}" if isinstance(done, date) else ""
    for t in first:
        if t["test"] != "biopsy_report":
            continue
        items = [REGISTRY[f].label.replace("biopsy: ", "") for f in t["settles"] if f in REGISTRY]
        t["why"] = (
            f"No new biopsy: ask the pathologist whether the existing biopsy{when} shows: {'; '.join(items)}."
            + (" Result: " + t["why"].split("Result: ", 1)[1] if "Result: " in t["why"] else "")
        )
    return first


def next_tests(c: Core, plan: list[WorkupItem], mimics: list[Mimic]) -> list[NextTest]:
    """Safety first (tests for a dangerous finding that is present), then the tests that could change a
    classification (least invasive first), then the rest of the work-up, mimics and supportive tests."""
    first = classification_tests(c)
    if _biopsy_on_file(c):
        first = _ask_the_pathologist(c, first)
    biopsy_at = next((i for i, t in enumerate(first) if t["test"] == BIOPSY), None)
    if biopsy_at is not None and not mri_recorded(c.facts) and "mri_muscle" in catalogue():
        first.insert(
            biopsy_at,
            _entry(
                "mri_muscle",
                "before_biopsy",
                "Before a biopsy: muscle MRI shows which muscles are inflamed (oedema), so the biopsy can be "
                "taken where it is most likely to show the disease; it also shows lasting damage (fatty "
                "replacement). It does not change the criteria itself.",
                [],
                [],
            ),
        )
    safety: list[NextTest] = []
    for w in plan:
        if w.get("priority") == "safety":
            for test in w["tests"]:
                if test in catalogue() and all(x["test"] != test for x in safety):
                    safety.append(_entry(test, "safety", w["why"], [], []))
    first = [t for t in first if all(x["test"] != t["test"] for x in safety)]
    seen = {t["test"] for t in (*safety, *first)}
    rest: list[NextTest] = []

    def add(test: str, tier: str, why: str) -> None:
        if test in seen or test not in catalogue():
            return
        seen.add(test)
        rest.append(_entry(test, tier, why, [], []))

    for w in plan:
        for test in w["tests"]:
            add(test, "workup", w["why"])
    by_id = {m["id"]: m for m in mimics}
    if not c.facts.get("lab.tsh"):
        add(
            "tsh",
            "mimics",
            "Hypothyroid myopathy can raise CK and cause weakness: always check TSH/free T4 with raised CK and proximal weakness (testing trigger 5, [S93]).",
        )
    dys = by_id.get("muscular_dystrophy")
    if dys and dys["verdict"] in ("points_to_mimic", "mixed"):
        add(
            "genetic_testing",
            "mimics",
            "Features point to a muscular dystrophy: genetic testing helps tell it from antibody-negative IMNM [S27][S86].",
        )
        if _value(c, "biopsy.performed") is True and c.facts.get("biopsy.dysferlin_deficient") is None:
            add(
                "dysferlin_testing",
                "mimics",
                "Dysferlin staining on the existing biopsy sample: dysferlinopathy often shows inflammation and is misdiagnosed as myositis [S90][S92a][S92b].",
            )
    if not mri_recorded(c.facts):
        where = "" if _biopsy_on_file(c) else " (where to biopsy)"
        add(
            "mri_muscle",
            "supportive",
            f"Muscle MRI shows active oedema{where} and fatty replacement (lasting damage, which makes early "
            "treatment urgent); it does not change the criteria.",
        )
    if c.facts.get("emg.pattern") is None:
        add(
            "emg",
            "supportive",
            "EMG tells a myopathy from a nerve disease; a myopathic pattern does not tell the type of myositis and is not a criterion.",
        )
    tier_rank = {"workup": 0, "mimics": 1, "supportive": 2}
    rest.sort(key=lambda t: (tier_rank[t["tier"]], t["invasiveness"], _order()[t["test"]]))
    safety.sort(key=lambda t: (t["invasiveness"], _order()[t["test"]]))
    out = safety + first + rest
    for i, t in enumerate(out, 1):
        t["rank"] = i
    return out
