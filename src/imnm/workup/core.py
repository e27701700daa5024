"""The shared computation behind the assessment and the work-up's derived facts (once per patient).

`core(facts)` evaluates the ENMC 224 subtype rules and the EULAR/ACR items on the patient's facts
with the one evaluator in its shared mode (each distinct rule node once, explained), reusing the
run that the derived facts use, and keeps the result on the facts object.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from imnm.derive import PatientFacts
from imnm.settings import Settings
from imnm.workup import antibodies, enmc, eular_acr
from imnm.workup.shared import SharedEval


@dataclass(frozen=True)
class Core:
    facts: PatientFacts
    as_of: date
    ws: Settings
    ev: SharedEval
    hmgcr: antibodies.TargetStatus
    srp: antibodies.TargetStatus
    enmc: enmc.EnmcResult
    eular: eular_acr.EularResult


def core(facts: PatientFacts) -> Core:
    """ENMC and EULAR/ACR results for one patient's facts (computed once per facts object)."""
    hit = facts.memo.get("workup.core")
    if isinstance(hit, Core):
        return hit
    ws = facts.settings
    hmgcr = antibodies.target_status(facts, "HMGCR", ws)
    srp = antibodies.target_status(facts, "SRP", ws)
    ev = SharedEval(facts.run)
    e = enmc.classify(ev, ws, hmgcr_status=hmgcr.status, srp_status=srp.status)
    performed = facts.get("biopsy.performed")
    biopsy_status = None if performed is None else bool(performed[0].value)
    u = eular_acr.classify(ev, ws, biopsy_status=biopsy_status)
    c = Core(facts, facts.context.as_of, ws, ev, hmgcr, srp, e, u)
    facts.memo["workup.core"] = c
    return c
