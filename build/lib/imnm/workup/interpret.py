"""Test interpretation: CK (fold over ULN, band, trend), autoantibodies (method, value, strength,
confirmation), EMG, muscle biopsy pattern and MRI. Texts and bands come from the knowledge tables
(ck.yaml fold_bands, antibodies.yaml, workup.yaml emg_patterns / mri_findings / biopsy_patterns)."""

from __future__ import annotations

import itertools
from datetime import date
from functools import cache
from typing import Any

from imnm import knowledge
from imnm.core.quantities import fold_over_uln, to_canonical
from imnm.core.truth import Truth
from imnm.record.model import Record
from imnm.record.vocabulary import lab_unit_factor
from imnm.workup import rules as wr
from imnm.workup.core import Core


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


def ck(c: Core) -> dict[str, Any]:
    rec = c.record
    rows: list[dict[str, Any]] = []
    for i, lab in enumerate(rec.labs or []):
        if lab.test != "ck":
            continue
        factor = lab_unit_factor("ck", lab.unit) or 1.0
        u_per_l = to_canonical(lab.value, factor)
        fold = None
        note = None
        folds = c.facts.get("lab.ck.fold") or ()
        for o in folds:
            if o.source == f"labs[{i}]":
                fold = float(o.value)  # type: ignore[arg-type]
                note = o.note
        if fold is None and lab.uln:
            fold = round(fold_over_uln(lab.value, lab.uln), 3)
        band = fold_band(fold) if fold is not None else None
        rows.append(
            {
                "source": f"labs[{i}]",
                "date": lab.date,
                "value": lab.value,
                "unit": lab.unit,
                "u_per_l": round(u_per_l, 1),
                "uln": lab.uln,
                "fold": None if fold is None else round(fold, 1),
                "band": band["id"] if band else None,
                "band_label": band["label"]
                if band
                else "fold unknown: the lab's upper limit of normal is needed",
                "band_source": band["source"] if band else None,
                "above_1000_u_per_l": u_per_l > float(_threshold("primary_muscle_disorder")["value"]),
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
    peak = max(with_fold, key=lambda r: r["fold"]) if with_fold else max(rows, key=lambda r: r["u_per_l"])
    latest = rows[-1]
    trend = _trend(rows, c.ws.ck_trend_stable_band)
    seed = _by_disease("imnm_seed_claim")
    parts = []
    if peak["fold"] is not None:
        parts.append(f"peak {peak['fold']:g} × ULN ({peak['band_label']})")
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
        "results": [dict(r, date=r["date"].isoformat() if r["date"] else None) for r in rows],
        "peak_fold": peak["fold"],
        "peak_u_per_l": peak["u_per_l"],
        "latest_fold": latest["fold"],
        "latest_u_per_l": latest["u_per_l"],
        "trend": trend,
        "context": context,
        "source": "ck.yaml fold_bands, thresholds [S84][S85][S86][S90][S91]",
    }


def _trend(rows: list[dict[str, Any]], band_choice: str) -> dict[str, Any] | None:
    dated = [r for r in rows if r["date"] is not None]
    if len(dated) < 2:
        return None
    stable = float(wr.table()["ck_trend"]["stable_percent"][band_choice])
    key = "fold" if all(r["fold"] is not None for r in dated) else "u_per_l"

    def direction(a: float, b: float) -> tuple[str, float]:
        pct = 100 * (b - a) / a if a else 0.0
        if abs(pct) <= stable:
            return "stable", pct
        return ("rising" if pct > 0 else "falling"), pct

    steps = []
    for a, b in itertools.pairwise(dated):
        d, pct = direction(a[key], b[key])
        steps.append(
            {
                "from": a["date"].isoformat(),
                "to": b["date"].isoformat(),
                "direction": d,
                "change_percent": round(pct, 1),
            }
        )
    overall, pct = direction(dated[0][key], dated[-1][key])
    return {
        "measure": "fold over ULN" if key == "fold" else "U/L",
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


def antibodies_(c: Core) -> dict[str, Any]:
    from imnm.workup.antibodies import readings, target_status

    out: dict[str, Any] = {"targets": {}, "results": []}
    rec = c.record
    for target, test in (("HMGCR", "anti_hmgcr"), ("SRP", "anti_srp")):
        st = c.hmgcr if target == "HMGCR" else c.srp
        out["targets"][target] = {
            "status": st.status or "not_tested",
            "confirmed_positive": st.positive,
            "meaning": _ADVICE.get(st.status or "", f"not tested: order test {test}"),
            "notes": list(st.notes),
        }
    seen = {"HMGCR", "SRP"}
    for a in rec.antibodies or []:
        if a.target not in seen:
            seen.add(a.target)
            st = target_status(rec, a.target, c.ws)
            out["targets"][a.target] = {
                "status": st.status,
                "confirmed_positive": st.positive,
                "meaning": _ADVICE.get(st.status or "", ""),
                "notes": list(st.notes),
            }
    for target in sorted(seen):
        out["results"].extend(r.as_dict() for r in readings(rec, target, c.ws))
    out["results"].sort(key=lambda r: r["source"])
    out["status"] = "unknown" if rec.antibodies is None else "known"
    out["source"] = (
        "antibodies.yaml (anti-HMGCR ELISA cut-off < 20 units ✅, grades ☑️ [S30]; line blot [S34])"
    )
    return out


def emg(rec: Record) -> dict[str, Any]:
    if rec.emg is None or rec.emg.pattern is None:
        return {"status": "unknown", "summary": "EMG not recorded.", "pattern": None}
    pat = wr.table()["emg_patterns"][rec.emg.pattern]
    notes = []
    if rec.emg.spontaneous_activity:
        notes.append(wr.table()["emg_spontaneous_activity"])
    if rec.emg.myotonic_discharges:
        notes.append(wr.table()["emg_myotonic"])
    return {
        "status": "known",
        "date": rec.emg.date.isoformat() if rec.emg.date else None,
        "pattern": rec.emg.pattern,
        "summary": pat["text"],
        "does_not_tell": pat["limits"],
        "notes": notes,
        "source": f"{pat['source']} {pat['mark']}",
    }


def mri(rec: Record) -> dict[str, Any]:
    if rec.mri is None:
        return {"status": "unknown", "summary": "Muscle MRI not recorded.", "findings": []}
    texts = wr.table()["mri_findings"]
    findings: list[dict[str, Any]] = []
    for name in ("edema", "fatty_replacement", "fascial_edema"):
        v = getattr(rec.mri, name)
        if v is None:
            findings.append(
                {"finding": name, "value": None, "text": f"{name.replace('_', ' ')}: not reported"}
            )
            continue
        t = texts[name]
        findings.append(
            {
                "finding": name,
                "value": v,
                "text": t["present" if v else "absent"],
                "source": f"{t['source']} {t['mark']}",
            }
        )
    urgent = rec.mri.fatty_replacement is True
    return {
        "status": "known",
        "date": rec.mri.date.isoformat() if rec.mri.date else None,
        "findings": findings,
        "lasting_damage": urgent,
        "summary": "; ".join(f["text"] for f in findings if f["value"] is not None) or "no findings reported",
    }


def biopsy(c: Core) -> dict[str, Any]:
    b = c.record.biopsy
    if b is None:
        return {
            "status": "unknown",
            "summary": "Not recorded whether a muscle biopsy was done.",
            "patterns": [],
        }
    if not b.performed:
        return {"status": "not_performed", "summary": "No muscle biopsy done.", "patterns": []}
    patterns = []
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
        "date": b.date.isoformat() if b.date else None,
        "site": b.site,
        "patterns": patterns,
        "pattern": [p["id"] for p in patterns if p["truth"] == "met"],
        "summary": "; ".join(met) if met else "no defined pattern met with the recorded findings",
    }


def interpret(c: Core) -> dict[str, Any]:
    return {
        "ck": ck(c),
        "antibodies": antibodies_(c),
        "emg": emg(c.record),
        "biopsy": biopsy(c),
        "mri": mri(c.record),
    }
