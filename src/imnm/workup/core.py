"""The shared computation behind the assessment and the derived facts (memoised per record)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from imnm.record.asof import as_of_view
from imnm.record.facts import REGISTRY, RecordFacts
from imnm.record.model import Record
from imnm.settings import Settings
from imnm.workup import antibodies, enmc, eular_acr
from imnm.workup.settings import WorkupSettings, workup_settings
from imnm.workup.shared import SharedEval


@dataclass(frozen=True)
class Core:
    record: Record
    as_of: date
    ws: WorkupSettings
    facts: RecordFacts
    ev: SharedEval
    hmgcr: antibodies.TargetStatus
    srp: antibodies.TargetStatus
    enmc: enmc.EnmcResult
    eular: eular_acr.EularResult


_MEMO: list[tuple[Record, date, WorkupSettings, Core]] = []
_MEMO_SIZE = 4


def core(record: Record, as_of: date, settings: Settings | None = None) -> Core:
    """ENMC and EULAR/ACR results for a record (the last few are kept, keyed by identity)."""
    ws = workup_settings(settings)
    record = as_of_view(record, as_of)  # results dated after as_of are not known yet
    for rec, day, s, c in _MEMO:
        if rec is record and day == as_of and s == ws:
            return c
    import imnm.workup.facts  # noqa: F401  - registers the derived facts the rules use

    facts = RecordFacts(record, as_of=as_of, settings=ws, registry=REGISTRY)
    hmgcr = antibodies.target_status(record, "HMGCR", ws)
    srp = antibodies.target_status(record, "SRP", ws)
    ev = SharedEval(facts, as_of=as_of, registry=REGISTRY)
    e = enmc.classify(ev, ws, hmgcr_status=hmgcr.status, srp_status=srp.status)
    performed = facts.get("biopsy.performed")
    biopsy_status = None if performed is None else bool(performed[0].value)
    u = eular_acr.classify(ev, ws, biopsy_status=biopsy_status)
    c = Core(record, as_of, ws, facts, ev, hmgcr, srp, e, u)
    _MEMO.insert(0, (record, as_of, ws, c))
    del _MEMO[_MEMO_SIZE:]
    return c
