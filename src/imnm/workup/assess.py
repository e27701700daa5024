"""`assess(facts)`: the whole diagnostic work-up of one patient, read from their facts.

Pure: no I/O and no clock (the evaluation date and the settings come with the facts). Returns a
typed `Assessment` (`as_dict()` for JSON, `explain()` for a readable report).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from imnm import knowledge
from imnm.core.truth import Truth
from imnm.derive import PatientFacts
from imnm.settings import WORKUP_CHOICES
from imnm.workup import interpret as interp
from imnm.workup import mimics as mim
from imnm.workup import next_tests as nt
from imnm.workup import workup_plan as wp
from imnm.workup.core import core
from imnm.workup.enmc import EnmcResult
from imnm.workup.eular_acr import EularResult
from imnm.workup.results import Flag, Interpretation, Mimic, NextTest, Statin, WorkupItem
from imnm.workup.settings import WorkupSettings

DISCLAIMER = (
    "Decision support, not a diagnosis. Classification criteria are research tools; "
    "the treating clinician decides."
)
SOURCE_TABLES = ("eular_acr_2017", "enmc_224", "ck", "antibodies", "tests", "mimics", "workup")


@dataclass(frozen=True)
class Assessment:
    record_id: str
    as_of: date
    settings: WorkupSettings
    interpretation: Interpretation
    enmc: EnmcResult
    eular: EularResult
    mimics: list[Mimic]
    workup: list[WorkupItem]
    statin: Statin
    flags: list[Flag]
    next_tests: list[NextTest]
    sources: list[str] = field(default_factory=list)
    overrides: tuple[
        str, ...
    ] = ()  # implausible values the record accepts, with the reason (imnm.record.checks)

    def as_dict(self) -> dict[str, Any]:
        e = self.enmc.as_dict()
        return {
            "id": self.record_id,
            "as_of": self.as_of.isoformat(),
            "disclaimer": DISCLAIMER,
            "enmc": e,
            "eular_acr": self.eular.as_dict(),
            "interpretation": self.interpretation,
            "mimics": self.mimics,
            "workup": self.workup,
            "statin": self.statin,
            "flags": self.flags,
            "next_tests": self.next_tests,
            "settings": self.settings.describe(("default_uln", *WORKUP_CHOICES)),
            "choices": self.settings.choices_used(),
            "sources": self.sources,
            "overrides": list(self.overrides),
        }


def _flag(fid: str, text: str, source: str = "") -> Flag:
    return {"id": fid, "text": text, "source": source}


def _flags(
    e: EnmcResult,
    u: EularResult,
    it: Interpretation,
    mimics: list[Mimic],
    plan: list[WorkupItem],
    statin: Statin,
) -> list[Flag]:
    out = [_flag("enmc_review", f, "enmc_224 ⚠️") for f in e.flags]
    for target, st in it["antibodies"]["targets"].items():
        if st["status"] in ("unconfirmed", "borderline"):
            out.append(
                _flag(
                    f"antibody_{target}_{st['status']}",
                    f"Anti-{target}: {st['meaning']}.",
                    "enmc_224 §2.3 ⚠️ [S34][S35]",
                )
            )
        for n in st["notes"]:
            out.append(_flag(f"antibody_{target}_note", f"Anti-{target}: {n}.", "antibodies.yaml"))
    for r in it["antibodies"]["results"]:
        for n in r["notes"]:
            if "cut-off" in n:
                out.append(
                    _flag(
                        "antibody_value_conflict",
                        f"{r['source']} anti-{r['target']}: {n}.",
                        "antibodies.yaml",
                    )
                )
    for d in u.disagreements:
        out.append(
            _flag(
                "eular_category_disagreement",
                f"EULAR/ACR score {d['score']:g} ({d['version']}): {d['by_score']} by the published score cut-off, "
                f"{d['by_probability']} by probability {d['probability']:g} %; category taken by {d['used']} (❗).",
                "eular_acr_2017 category_disagreements ❗",
            )
        )
    if u.biopsy_status is None:
        out.append(
            _flag(
                "biopsy_status_unknown",
                "Not recorded whether a muscle biopsy was done; the EULAR/ACR range covers both versions.",
                "eular_acr_2017 versions",
            )
        )
    imnm_subtype = e.classification in ("anti_hmgcr_myopathy", "anti_srp_myopathy", "antibody_negative_imnm")
    not_classifiable = u.rule is Truth.NOT_MET and ea_rank(u.category_max) >= ea_rank(u.minimum)
    if imnm_subtype and (u.classified is Truth.NOT_MET or not_classifiable):
        from imnm.workup.enmc import subtype_label

        if u.biopsy_status is True:
            why = "this necrotizing biopsy has none of the four scored biopsy features"
            tail = ""
        else:
            why = "without a skin sign they need inflammatory biopsy features, which necrotizing myopathy often lacks"
            tail = " A biopsy would matter for the EULAR/ACR classification, not for the ENMC 224 subtype."
        out.append(
            _flag(
                "eular_not_classifiable",
                f"ENMC 224 classifies this as {subtype_label(e.classification)}, but the 2017 EULAR/ACR criteria do "
                f"not classify it as IIM: they score necrosis without inflammation poorly ({why}). ENMC 224 is the "
                "classification for IMNM." + tail,
                "clinical.md §1.8 worked example E2b (necrosis/regeneration only: not IIM by EULAR/ACR, 'illustrates "
                "IMNM under-capture; ENMC still classifies')",
            )
        )
    elif not_classifiable:
        if u.biopsy_status is True:
            text = (
                "EULAR/ACR: no heliotrope rash or Gottron papules/sign, and the biopsy on file has none of the "
                f"scored biopsy features, so the criteria cannot classify this as IIM ({u.ws.skin_or_biopsy_rule} reading)."
            )
        else:
            text = (
                "EULAR/ACR: no heliotrope rash or Gottron papules/sign and no biopsy features, so the criteria cannot "
                f"classify this as IIM ({u.ws.skin_or_biopsy_rule} reading); a muscle biopsy is needed for that."
            )
        out.append(
            _flag("eular_not_classifiable", text, "eular_acr_2017 applicability skin_or_biopsy ☑️ [S4]")
        )
    if (
        e.classification in ("anti_hmgcr_myopathy", "anti_srp_myopathy", "antibody_negative_imnm")
        and u.skin is Truth.MET
    ):
        out.append(
            _flag(
                "imnm_with_rash",
                "Skin signs of dermatomyositis with IMNM: rash is rare in IMNM; significant skin involvement suggests another diagnosis.",
                "enmc_224 verified_facts ✅ [S22b][S41]",
            )
        )
    for m in mimics:
        if m["verdict"] == "points_to_mimic":
            met = [f["text"] for f in m["features_for_mimic"] if f["truth"] == "met"]
            out.append(
                _flag(f"mimic_{m['id']}", f"Consider {m['label']}: " + "; ".join(met) + ".", m["source"])
            )
    if it["mri"].get("lasting_damage"):
        out.append(
            _flag(
                "fatty_replacement",
                "MRI shows fatty replacement: lasting muscle damage; early treatment is urgent.",
                "[S21][S95]",
            )
        )
    for ck_row in it["ck"]["results"]:
        if ck_row["fold"] is None:
            if ck_row["fold_min"] is not None:
                text = (
                    f"CK {ck_row['source']} has no upper limit of normal: the fold is only known to lie between "
                    f"{ck_row['fold_min']:g} and {ck_row['fold_max']:g} × ULN (documented adult limits; ck.yaml "
                    "choice default_uln ❗); ask the lab for its ULN."
                )
            else:
                text = f"CK {ck_row['source']} has no upper limit of normal: fold unknown (ck.yaml choice default_uln ❗)."
            out.append(_flag("ck_without_uln", text, "ck.yaml"))
            break
    if it["emg"].get("pattern") == "neuropathic":
        out.append(
            _flag(
                "emg_neuropathic",
                "Neuropathic EMG: review the diagnosis (nerve or motor-neuron disease).",
                "[S94]",
            )
        )
    for p in it["biopsy"].get("patterns", []):
        if p["truth"] == "met" and p["id"] in (
            "dm_pattern",
            "ibm_features",
            "dystrophic",
            "inflammatory_pm_like",
        ):
            out.append(_flag(f"biopsy_{p['id']}", f"Biopsy: {p['label']}. {p['meaning']}", p["source"]))
    for w in plan:
        if w["id"] == "cancer_screening" and w["status"] in ("recommended", "consider"):
            out.append(_flag("cancer_screening", w["why"] + " The evidence conflicts (❗).", w["source"]))
        elif w.get("status") == "needed":
            out.append(_flag(w["id"], w["why"], w["source"]))
    review = statin["clinician_review"]
    if review:
        out.append(_flag("statin_review", review, statin["source"]))
    return out


def ea_rank(cat: str) -> int:
    from imnm.workup.eular_acr import category_rank

    return category_rank(cat)


@cache
def _sources_t() -> tuple[str, ...]:
    return tuple(f"{t}: {knowledge.source_line(t)}" for t in SOURCE_TABLES)


def _sources() -> list[str]:
    return list(_sources_t())


def assess(facts: PatientFacts) -> Assessment:
    """Interpretation, ENMC 224, EULAR/ACR 2017, mimics, safety work-up and next tests."""
    c = core(facts)
    ws, as_of = c.ws, c.as_of
    it = interp.interpret(c)
    mimics = mim.assess_mimics(c)
    plan = wp.plan(c)
    statin = wp.statin(c)
    flags = _flags(c.enmc, c.eular, it, mimics, plan, statin)
    tests = nt.next_tests(c, plan, mimics)
    sources = _sources()
    return Assessment(
        facts.patient_id, as_of, ws, it, c.enmc, c.eular, mimics, plan, statin, flags, tests, sources
    )
