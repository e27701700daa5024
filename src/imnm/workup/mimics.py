"""Mimics of IMNM and the features pointing each way (mimics.yaml rows; feature rules in
workup.yaml `mimic_features`). Features are "favouring" features, never automatic exclusions
(enmc_224 choice `exclusion_handling`)."""

from __future__ import annotations

from functools import cache
from typing import Any

from imnm import knowledge
from imnm.core.evaluate import Outcome
from imnm.core.truth import Truth
from imnm.workup import rules as wr
from imnm.workup.core import Core
from imnm.workup.results import Mimic, MimicFeature


@cache
def _rows() -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in knowledge.load("mimics")["mimics"]}


def _feature(c: Core, keys: tuple[str | int, ...], text: str) -> MimicFeature:
    o: Outcome = c.ev(wr.rule_from(keys))
    return {
        "text": text,
        "truth": o.truth.value,
        "evidence": [str(e) for e in o.all_evidence()] if o.truth is not Truth.UNKNOWN else [],
        "missing_tests": sorted({m.test for m in o.missing}) if o.truth is Truth.UNKNOWN else [],
    }


def assess_mimics(c: Core) -> list[Mimic]:
    out: list[Mimic] = []
    for mid, spec in wr.table()["mimic_features"].items():
        rows = [_rows()[r] for r in spec.get("rows", [mid])]
        label = spec.get("label") or rows[0]["label"]
        applies = Truth.MET
        if "applies_when" in spec:
            applies = c.ev(wr.rule_from(("mimic_features", mid, "applies_when"))).truth
        pro = [
            _feature(c, ("mimic_features", mid, "for", i, "rule"), f["text"])
            for i, f in enumerate(spec["for"])
        ]
        con = [
            _feature(c, ("mimic_features", mid, "against", i, "rule"), f["text"])
            for i, f in enumerate(spec["against"])
        ]
        for f, raw in zip(pro, spec["for"], strict=True):
            f["supporting_only"] = bool(raw.get("supporting"))
        key_pro = sum(f["truth"] == "met" and not f["supporting_only"] for f in pro)
        any_pro = sum(f["truth"] == "met" for f in pro)
        n_con = sum(f["truth"] == "met" for f in con)
        if applies is Truth.NOT_MET:
            verdict = "not_applicable"
        elif key_pro and not n_con:
            verdict = "points_to_mimic"
        elif key_pro and n_con:
            verdict = "mixed"
        elif n_con:
            verdict = "points_away"
        elif any_pro:
            verdict = "supporting_features_only"
        else:
            verdict = "undetermined"
        key_tests = sorted({t for r in rows for t in r.get("key_tests", [])})
        notes = [r["note"] for r in rows if r.get("note")]
        out.append(
            {
                "id": mid,
                "label": label,
                "applies": applies.value,
                "verdict": verdict,
                "features_for_mimic": pro,
                "features_for_imnm": con,
                "published_features_for_mimic": [f for r in rows for f in r["favours_mimic"]],
                "published_features_for_imnm": [f for r in rows for f in r["favours_imnm"]],
                "key_tests": key_tests,
                "notes": notes,
                "source": " ".join(f"{r['source']} {r['mark']}" for r in rows),
            }
        )
    return out
