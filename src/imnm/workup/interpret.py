"""Test interpretation: CK (fold over ULN, band, trend), autoantibodies (method, value, strength,
confirmation), EMG, muscle biopsy pattern and MRI, read from the patient's facts. Texts and bands come
from the knowledge tables (ck.yaml fold_bands, antibodies.yaml, workup.yaml emg_patterns /
mri_findings / biopsy_patterns)."""

from __future__ import annotations

import itertools
from datetime import date
from functools import cache
from typing import Any

from imnm import knowledge
from imnm.core.facts import FactSource, NumRange, Observation, source_order
from imnm.core.truth import Truth
from imnm.workup import rules as wr
from imnm.workup.core import Core
from imnm.workup.results import (
    AntibodyInterpretation,
    AntibodyResult,
    AntibodyTarget,
    BiopsyInterpretation,
    BiopsyPattern,
    CkInterpretation,
    CkRow,
    CkTrend,
    EmgInterpretation,
    Interpretation,
    MriFinding,
    MriInterpretation,
    TrendStep,
)


@cache
def _bands() -> tuple[dict[str, Any], ...]:
    return tuple(knowledge.load("ck")["fold_bands"]["bands"])


def fold_band(fold: float) -> dict[str, Any]:
    for b in _bands():
        lo, hi = b["min"], b["max"]
        above = lo is None or (fold > lo if not b["min_inclusive"] else fold >= lo)
        below = hi is None or (fold <= hi if b["max_inclusive"] else fold < hi)
        if above and below:
            return b
    raise ValueError(fold)  # pragma: no cover - the bands cover every fold


@cache
def _threshold(tid: str) -> dict[str, Any]:
    return next(t for t in knowledge.load("ck")["thresholds"] if t["id"] == tid)


@cache
def _by_disease(did: str) -> dict[str, Any]:
    return next(d for d in knowledge.load("ck")["by_disease"] if d["id"] == did)


def _row_key(o: Observation) -> str:
    return (o.ref.row or o.source) if o.ref else o.source


def ck(c: Core) -> CkInterpretation:
    rows: list[CkRow] = []
    folds = {_row_key(o): o for o in c.facts.get("lab.ck.fold") or ()}
    for o in c.facts.get("lab.ck") or ():
        assert isinstance(o.value, float)
        raw = o.raw
        fo = folds.get(_row_key(o))
        fold: float | None = None
        fold_range: tuple[float, float] | None = None
        note = fo.note if fo is not None else None
        if fo is not None and isinstance(fo.value, float):
            fold = fo.value
        elif fo is not None and isinstance(fo.value, NumRange):
            fold_range = (fo.value.lo, fo.value.hi)
        band = fold_band(fold) if fold is not None else None
        if fold_range is not None:
            lo_band, hi_band = fold_band(fold_range[0]), fold_band(fold_range[1])
            band = lo_band if lo_band["id"] == hi_band["id"] else None
            band_label = (
                band["label"]
                if band
                else f"between {fold_range[0]:.3g} and {fold_range[1]:.3g} × ULN (the lab's ULN is not reported)"
            )
        elif band:
            band_label = band["label"]
        else:
            band_label = "fold unknown: the lab's upper limit of normal is needed"
        rows.append(
            {
                "source": o.source,
                "ref": o.ref.id if o.ref else None,
                "date": o.date,
                "value": raw.value if raw is not None else o.value,
                "unit": raw.unit if raw is not None else "U/L",
                "u_per_l": round(o.value, 1),
                "uln": raw.high if raw is not None else None,
                "fold": None if fold is None else round(fold, 1),
                "fold_min": None if fold_range is None else round(fold_range[0], 2),
                "fold_max": None if fold_range is None else round(fold_range[1], 2),
                "band": band["id"] if band else None,
                "band_label": band_label,
                "band_source": band["source"] if band else None,
                "above_1000_u_per_l": o.value > float(_threshold("primary_muscle_disorder")["value"]),
                "note": note,
            }
        )
    if not rows:
        return {
            "status": "unknown",
            "summary": "CK not recorded: order a CK with the lab's upper limit of normal (test ck).",
            "results": [],
            "trend": None,
            "missing_test": "ck",
        }
    rows.sort(key=lambda r: (r["date"] is None, r["date"] or date.min))
    with_fold = [r for r in rows if r["fold"] is not None]
    peak = (
        max(with_fold, key=lambda r: r["fold"] or 0.0) if with_fold else max(rows, key=lambda r: r["u_per_l"])
    )
    latest = rows[-1]
    trend = _trend(rows, c.ws.ck_trend_stable_band)
    seed = _by_disease("imnm_seed_claim")
    parts = []
    if peak["fold"] is not None:
        parts.append(f"peak {peak['fold']:g} × ULN ({peak['band_label']})")
    elif peak["fold_min"] is not None:
        parts.append(
            f"peak {peak['u_per_l']:g} U/L, {peak['fold_min']:g}–{peak['fold_max']:g} × ULN (no ULN reported; range assumed)"
        )
    else:
        parts.append(f"peak {peak['u_per_l']:g} U/L (no ULN reported, fold unknown)")
    if latest is not peak:
        parts.append(
            f"latest {latest['fold']:g} × ULN"
            if latest["fold"] is not None
            else f"latest {latest['u_per_l']:g} U/L"
        )
    if trend:
        parts.append(f"trend {trend['overall']}")
    context = None
    if c.ws.ck_seed_claim == "display_approximate":
        context = (
            f"In IMNM, CK is {seed['typical']} (approximate, {seed['mark']}); "
            f"typically > {_by_disease('imnm_absolute')['absolute_min_u_per_l']} U/L "
            f"{_by_disease('imnm_absolute')['source']}."
        )
    return {
        "status": "known",
        "summary": "CK: " + "; ".join(parts) + ".",
        "results": [_iso_row(r) for r in rows],
        "peak_fold": peak["fold"],
        "peak_u_per_l": peak["u_per_l"],
        "latest_fold": latest["fold"],
        "latest_u_per_l": latest["u_per_l"],
        "trend": trend,
        "context": context,
        "source": "ck.yaml fold_bands, thresholds [S84][S85][S86][S90][S91]",
    }


def _iso_row(r: CkRow) -> CkRow:
    out = r.copy()
    out["date"] = r["date"].isoformat() if r["date"] else None
    return out


def _measure(r: CkRow, by_fold: bool) -> float:
    v = r["fold"] if by_fold else r["u_per_l"]
    assert v is not None
    return v


def _trend(rows: list[CkRow], band_choice: str) -> CkTrend | None:
    dated = [r for r in rows if r["date"] is not None]
    if len(dated) < 2:
        return None
    stable = float(wr.table()["ck_trend"]["stable_percent"][band_choice])
    by_fold = all(r["fold"] is not None for r in dated)

    def direction(a: float, b: float) -> tuple[str, float]:
        pct = 100 * (b - a) / a if a else 0.0
        if abs(pct) <= stable:
            return "stable", pct
        return ("rising" if pct > 0 else "falling"), pct

    steps: list[TrendStep] = []
    for a, b in itertools.pairwise(dated):
        d, pct = direction(_measure(a, by_fold), _measure(b, by_fold))
        steps.append(
            {
                "from": a["date"].isoformat(),
                "to": b["date"].isoformat(),
                "direction": d,
                "change_percent": round(pct, 1),
            }
        )
    overall, pct = direction(_measure(dated[0], by_fold), _measure(dated[-1], by_fold))
    return {
        "measure": "fold over ULN" if by_fold else "U/L",
        "overall": overall,
        "change_percent": round(pct, 1),
        "steps": steps,
        "stable_within_percent": stable,
        "choice": f"workup.ck_trend_stable_band={band_choice} ⚠️",
    }


_ADVICE = {
    "positive": "confirmed positive",
    "unconfirmed": "unconfirmed (weak or ungraded line-blot band only): confirm with a second method "
    "(immunoprecipitation or tissue IIF) or a compatible muscle biopsy",
    "borderline": "borderline: repeat or confirm with a second method",
    "negative": "negative",
}


def antibodies_(c: Core) -> AntibodyInterpretation:
    from imnm.workup.antibodies import readings, target_status

    targets: dict[str, AntibodyTarget] = {}
    results: list[AntibodyResult] = []
    facts = c.facts
    for target, test in (("HMGCR", "anti_hmgcr"), ("SRP", "anti_srp")):
        st = c.hmgcr if target == "HMGCR" else c.srp
        targets[target] = {
            "status": st.status or "not_tested",
            "confirmed_positive": st.positive,
            "meaning": _ADVICE.get(st.status or "", f"not tested: order test {test}"),
            "notes": list(st.notes),
        }
    seen = {"HMGCR", "SRP"}
    for target in antibody_targets(facts):
        if target not in seen:
            seen.add(target)
            st = target_status(facts, target, c.ws)
            targets[target] = {
                "status": st.status,
                "confirmed_positive": st.positive,
                "meaning": _ADVICE.get(st.status or "", ""),
                "notes": list(st.notes),
            }
    for target in sorted(seen):
        results.extend(r.as_dict() for r in readings(facts, target, c.ws))
    results.sort(key=lambda r: source_order(r["source"]))
    return {
        "targets": targets,
        "results": results,
        "status": "known" if results else "unknown",
        "source": "antibodies.yaml (anti-HMGCR ELISA cut-off < 20 units ✅, grades ☑️ [S30]; line blot [S34])",
    }


def _one(facts: FactSource, name: str) -> object:
    obs = facts.get(name)
    return obs[0].value if obs else None


def _when(facts: FactSource, *names: str) -> str | None:
    for n in names:
        obs = facts.get(n)
        if obs and obs[0].date is not None:
            return obs[0].date.isoformat()
    return None


def antibody_targets(facts: FactSource) -> list[str]:
    """Antibody targets with at least one result, in the order of the knowledge table."""
    from imnm.knowledge.lookups import ANTIBODY_TARGETS

    return [t for t in ANTIBODY_TARGETS if facts.get(f"antibody.{t}")]


def emg(facts: FactSource) -> EmgInterpretation:
    pattern = _one(facts, "emg.pattern")
    if not isinstance(pattern, str):
        return {"status": "unknown", "summary": "EMG not recorded.", "pattern": None}
    pat = wr.table()["emg_patterns"][pattern]
    notes = []
    if _one(facts, "emg.spontaneous_activity") is True:
        notes.append(wr.table()["emg_spontaneous_activity"])
    if _one(facts, "emg.myotonic_discharges") is True:
        notes.append(wr.table()["emg_myotonic"])
    return {
        "status": "known",
        "date": _when(facts, "emg.pattern"),
        "pattern": pattern,
        "summary": pat["text"],
        "does_not_tell": pat["limits"],
        "notes": notes,
        "source": f"{pat['source']} {pat['mark']}",
    }


MRI_FINDINGS = ("edema", "fatty_replacement", "fascial_edema")


def mri_recorded(facts: FactSource) -> bool:
    """Is a muscle MRI recorded (dated, or with any finding)?"""
    return any(facts.get(f"mri.{n}") is not None for n in ("date", *MRI_FINDINGS))


def mri(facts: FactSource) -> MriInterpretation:
    if not mri_recorded(facts):
        return {"status": "unknown", "summary": "Muscle MRI not recorded.", "findings": []}
    texts = wr.table()["mri_findings"]
    findings: list[MriFinding] = []
    for name in MRI_FINDINGS:
        v = _one(facts, f"mri.{name}")
        if not isinstance(v, bool):
            findings.append(
                {"finding": name, "value": None, "text": f"{name.replace('_', ' ')}: not reported"}
            )
            continue
        t = texts[name]
        key = "present" if v else "absent"
        if v and "present_without_biopsy" in t and _one(facts, "biopsy.performed") is not True:
            key = "present_without_biopsy"
        findings.append(
            {
                "finding": name,
                "value": v,
                "text": t[key],
                "source": f"{t['source']} {t['mark']}",
            }
        )
    urgent = _one(facts, "mri.fatty_replacement") is True
    return {
        "status": "known",
        "date": _when(facts, "mri.date", *(f"mri.{n}" for n in MRI_FINDINGS)),
        "findings": findings,
        "lasting_damage": urgent,
        "summary": " ".join(f["text"] for f in findings if f["value"] is not None) or "no findings reported",
    }


def biopsy(c: Core) -> BiopsyInterpretation:
    performed = c.facts.get("biopsy.performed")
    if performed is None:
        return {
            "status": "unknown",
            "summary": "Not recorded whether a muscle biopsy was done.",
            "patterns": [],
        }
    if performed[0].value is not True:
        return {"status": "not_performed", "summary": "No muscle biopsy done.", "patterns": []}
    done = c.facts.get("biopsy.date")
    patterns: list[BiopsyPattern] = []
    for i, p in enumerate(wr.table()["biopsy_patterns"]):
        o = c.ev(wr.rule_from(("biopsy_patterns", i, "rule")))
        patterns.append(
            {
                "id": p["id"],
                "label": p["label"],
                "truth": o.truth.value,
                "meaning": p["meaning"],
                "evidence": [str(e) for e in o.all_evidence()],
                "missing": [m.fact for m in o.missing] if o.truth is Truth.UNKNOWN else [],
                "source": f"{p['source']} {p['mark']}",
            }
        )
    met = [p["label"] for p in patterns if p["truth"] == "met"]
    return {
        "status": "performed",
        "date": done[0].value.isoformat() if done and isinstance(done[0].value, date) else None,
        "site": performed[0].attr("site"),
        "patterns": patterns,
        "pattern": [p["id"] for p in patterns if p["truth"] == "met"],
        "summary": "; ".join(met) if met else "no defined pattern met with the recorded findings",
    }


def interpret(c: Core) -> Interpretation:
    return {
        "ck": ck(c),
        "antibodies": antibodies_(c),
        "emg": emg(c.facts),
        "biopsy": biopsy(c),
        "mri": mri(c.facts),
    }
