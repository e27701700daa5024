"""Extramuscular and safety work-up (item 5): anti-SRP → lungs and heart, dysphagia → swallowing,
cancer screening by ENMC subtype (❗ evidence conflicts; enmc_224 choice `cancer_screening`),
and the statin exposure explained."""

from __future__ import annotations

from imnm import knowledge
from imnm.core.facts import Interval, Observation
from imnm.core.truth import Truth
from imnm.workup import rules as wr
from imnm.workup.core import Core
from imnm.workup.enmc import subtype_label
from imnm.workup.results import Statin, WorkupItem


def _done(c: Core, test: str) -> bool:
    fact = wr.table()["done_when_known"].get(test)
    return bool(fact and c.facts.get(fact))


def cancer_screening(c: Core) -> WorkupItem:
    ev = knowledge.load("enmc_224")["cancer_screening_evidence"]
    choice = c.ws.cancer_screening
    sub = c.enmc.classification
    target = {
        "seronegative_and_hmgcr": {"anti_hmgcr_myopathy", "antibody_negative_imnm"},
        "all_imnm": {"anti_hmgcr_myopathy", "anti_srp_myopathy", "antibody_negative_imnm"},
        "individualise": set(),
    }[choice]
    onset = c.facts.get("age_at_onset")
    child = bool(onset and isinstance(onset[0].value, float) and onset[0].value < 18)
    if (
        child
        and c.ws.cancer_screening_children == "adult_cohorts_only"
        and (sub in target or (sub == "unknown" and target))
    ):
        status = "not_recommended_child"
        text = (
            "Cancer screening is not flagged: the disease began before age 18, and the studies linking IMNM to "
            "cancer were done in adults (enmc_224 choice cancer_screening_children=adult_cohorts_only ❗); the "
            "clinician decides."
        )
    elif sub in target:
        status = "recommended"
        text = f"Cancer screening flagged for {subtype_label(sub)} (enmc_224 choice cancer_screening={choice} ❗)."
    elif sub == "unknown" and (
        (c.hmgcr.status in ("positive", "unconfirmed") and "anti_hmgcr_myopathy" in target)
        or (
            c.hmgcr.status == "negative" and c.srp.status == "negative" and "antibody_negative_imnm" in target
        )
    ):
        status = "consider"
        text = "Cancer screening likely to be advised once the ENMC subtype is settled (anti-HMGCR or antibody-negative)."
    elif sub == "anti_srp_myopathy" or (
        choice == "individualise" and sub in ("anti_hmgcr_myopathy", "antibody_negative_imnm")
    ):
        status = "individualise"
        text = "Not flagged automatically; individualise cancer screening by age and history [S25] (do not suppress it)."
    else:
        status = "not_flagged"
        text = "Not flagged (no ENMC IMNM subtype)."
    return {
        "id": "cancer_screening",
        "status": status,
        "tests": ["cancer_screening"] if status in ("recommended", "consider", "individualise") else [],
        "why": text,
        "evidence": [f"{s['citation']} {s['source']}: {s['finding']}" for s in ev["studies"]],
        "evidence_note": ev["recommendation"] + " Evidence conflicts (❗).",
        "source": "enmc_224 cancer_screening_evidence [S24][S25][S26] ❗",
    }


def _course(o: Observation) -> str:
    """One statin exposure as a clinician would write it: name, source, dates."""
    iv = o.value
    assert isinstance(iv, Interval)
    name = o.raw.text if o.raw is not None and o.raw.text else None
    what = name or "statin"
    when = f" from {iv.start.isoformat()}" if iv.start else ""
    until = f" to {iv.stop.isoformat()}" if iv.stop else (" (still taking)" if iv.ongoing else "")
    where = "medication list" if o.source.startswith("medications") else "exposure history"
    return f"{what}{when}{until} ({where}, {o.source})"


def statin(c: Core) -> Statin:
    """The one statin-exposure fact (exposure history and medication list together), explained."""
    notes = list(wr.table()["statin_notes"])
    obs = c.facts.get("exposure.statin")
    st = c.facts.get("exposure.statin.status")
    status = str(st[0].value) if st else None
    ryr = c.facts.get("exposure.red_yeast_rice.status")
    if obs is None:
        summary = "Statin history not recorded: ask about statins and red yeast rice (history)."
    elif not obs:
        summary = "Never took a statin. Anti-HMGCR myopathy can still occur without statin exposure."
    else:
        summary = f"Statin exposure: {status}: " + "; ".join(_course(o) for o in obs) + "."
    review = None
    if status == "current" and c.hmgcr.status == "positive":
        review = (
            "A statin is recorded as current with a positive anti-HMGCR: the treating clinician should review "
            "statin therapy (this tool does not advise anyone to change a medicine on their own)."
        )
    if status == "past" and c.facts.get("history.improved_after_statin_stop") is None:
        notes.insert(0, "Ask whether weakness and CK settled within weeks of stopping the statin (history).")
    return {
        "status": "unknown" if status is None else status,
        "summary": summary,
        "courses": [_course(o) for o in obs or ()],
        "red_yeast_rice": ryr[0].value if ryr else None,
        "anti_hmgcr": c.hmgcr.status or "not_tested",
        "clinician_review": review,
        "notes": notes,
        "source": "[S29][S30][S36][S37][S38]",
    }


def plan(c: Core) -> list[WorkupItem]:
    out: list[WorkupItem] = []
    for i, w in enumerate(wr.table()["workup"]):
        o = c.ev(wr.rule_from(("workup", i, "when")))
        if o.truth is not Truth.MET:
            continue
        todo = [t for t in w["tests"] if not _done(c, t)]
        out.append(
            {
                "id": w["id"],
                "status": "needed" if todo else "done",
                "priority": str(w.get("priority", "routine")),
                "tests": todo,
                "done": [t for t in w["tests"] if t not in todo],
                "why": w["why"],
                "evidence": [str(e) for e in o.all_evidence()],
                "source": f"{w['source']} {w['mark']}",
            }
        )
    out.append(cancer_screening(c))
    return out
