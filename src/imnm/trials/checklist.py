"""Baseline checklist: which assessments a trial asks for, and which the patient already has.

The assessments a trial asks for are read from its criteria: the facts each rule uses (e.g.
`lab.ck` → CK, `visit.mmt8_160` → MMT-8) plus the `assessments` a criterion names explicitly
(manual-review items such as "significant lung or cardiac impairment" → PFT, ECG/echo). What
the patient has comes from the record, with the date of the latest result, in three states (issue 9
item 15: an unknown is never shown as "no"): on file (with its date), recorded as not done (a biopsy
with `performed: false`), or not recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from imnm.core.facts import FactSource, Observation, source_order
from imnm.core.rules import facts_used
from imnm.instruments.core_set import Mmt8
from imnm.trials.model import Assessment, Cohort, Criterion, Trial

LABELS: dict[str, str] = {
    "biopsy": "muscle biopsy",
    "antibodies": "myositis antibodies (anti-HMGCR, anti-SRP, others)",
    "ck": "CK and other muscle enzymes",
    "mmt8": "MMT-8 manual muscle testing",
    "haq": "HAQ-DI questionnaire",
    "mri": "muscle MRI",
    "emg": "needle EMG",
    "pft": "pulmonary function tests",
    "ecg_echo": "ECG / echocardiogram",
}
ORDER: tuple[Assessment, ...] = ("biopsy", "antibodies", "ck", "mmt8", "haq", "mri", "emg", "pft", "ecg_echo")

# fact-name prefix -> assessment; derived classification facts depend on antibodies, CK and biopsy
_PREFIX: tuple[tuple[str, tuple[Assessment, ...]], ...] = (
    ("biopsy.", ("biopsy",)),
    ("antibody.", ("antibodies",)),
    ("lab.ck", ("ck",)),
    ("lab.muscle_enzyme", ("ck",)),
    ("lab.aldolase", ("ck",)),
    ("lab.ast", ("ck",)),
    ("lab.alt", ("ck",)),
    ("lab.ldh", ("ck",)),
    ("visit.muscle_enzyme", ("ck",)),
    ("visit.mmt8", ("mmt8",)),
    ("visit.haq", ("haq",)),
    ("mri.", ("mri",)),
    ("emg.", ("emg",)),
    ("pft.", ("pft",)),
    ("cardiac.", ("ecg_echo",)),
    ("enmc.", ("antibodies", "ck")),
    ("eular_acr.", ("antibodies", "ck")),
)


def assessments_for(fact: str) -> tuple[Assessment, ...]:
    for prefix, found in _PREFIX:
        if fact.startswith(prefix):
            return found
    return ()


def criterion_assessments(crit: Criterion) -> list[Assessment]:
    out: list[Assessment] = list(crit.assessments)
    if crit.rule is not None:
        for f in sorted(facts_used(crit.rule)):
            out.extend(assessments_for(f))
    return list(dict.fromkeys(out))


Status = Literal["on_file", "not_done", "not_recorded"]
STATUS_TEXT: dict[str, str] = {
    "on_file": "on file",
    "not_done": "recorded as not done",
    "not_recorded": "not recorded",
}


@dataclass(frozen=True, slots=True)
class Item:
    assessment: Assessment
    label: str
    asked_by: tuple[str, ...]  # criterion ids
    status: Status
    date: date | None
    detail: str

    @property
    def have(self) -> bool:
        return self.status == "on_file"

    def shown(self) -> str:
        """ "on file (2025-03-01)", "recorded as not done" or "not recorded"."""
        text = STATUS_TEXT[self.status]
        return f"{text} ({self.date.isoformat()})" if self.have and self.date else text

    def as_dict(self) -> dict[str, object]:
        return {
            "assessment": self.assessment,
            "label": self.label,
            "asked_by": list(self.asked_by),
            "status": self.status,
            "have": self.have,
            "date": self.date.isoformat() if self.date else None,
            "detail": self.detail,
        }


def _latest(dates: list[date | None]) -> date | None:
    known = [d for d in dates if d is not None]
    return max(known) if known else None


def _order(o: Observation) -> tuple[object, ...]:
    """Document order of a list item (antibodies[10] after antibodies[9])."""
    return source_order((o.ref.row if o.ref and o.ref.row else o.source) or "")


def _all(facts: FactSource, names: list[str]) -> list[Observation]:
    return [o for n in names for o in facts.get(n) or ()]


def status_of(facts: FactSource, what: Assessment) -> tuple[Status, date | None, str]:
    """The assessment's state in the patient's facts, its latest date and a short description."""
    if what == "biopsy":
        performed = facts.get("biopsy.performed")
        if performed is not None and performed[0].value is False:
            return "not_done", None, "recorded as not done"
    have, when, detail = patient_has(facts, what)
    return ("on_file" if have else "not_recorded"), when, detail


def patient_has(facts: FactSource, what: Assessment) -> tuple[bool, date | None, str]:
    """Whether the patient's facts hold this assessment, its latest date and a short description."""
    from imnm.knowledge.lookups import ANTIBODY_TARGETS

    if what == "biopsy":
        performed = facts.get("biopsy.performed")
        if performed is None:
            return False, None, "not recorded"
        if performed[0].value is not True:
            return False, None, "recorded as not done"
        when = facts.get("biopsy.date")
        site = performed[0].attr("site")
        day = when[0].value if when and isinstance(when[0].value, date) else None
        return True, day, f"done{f' ({site})' if site else ''}"
    if what == "antibodies":
        found = sorted(
            ((t, o) for t in ANTIBODY_TARGETS for o in facts.get(f"antibody.{t}") or ()),
            key=lambda x: _order(x[1]),
        )
        if not found:
            return False, None, "no results recorded"
        shown = ", ".join(f"anti-{t} {o.value}" for t, o in found)
        return True, _latest([o.date for _, o in found]), shown
    if what == "ck":
        cks = list(facts.get("lab.ck") or ())
        if not cks:
            return False, None, "no CK recorded"
        newest = max(cks, key=lambda o: o.date or date.min)
        raw = newest.raw
        uln = f" (ULN {raw.high:g})" if raw is not None and raw.high else " (no ULN)"
        given = (
            f"{raw.value:g} {raw.unit}"
            if raw is not None and isinstance(raw.value, float | int)
            else f"{newest.value} U/L"
        )
        return True, _latest([o.date for o in cks]), f"latest {given}{uln}"
    if what == "mmt8":
        visits = list(facts.get("visit.mmt8") or ())
        if not visits:
            return False, None, "not recorded"
        last = max(visits, key=lambda o: o.date or date.min)
        m = last.value
        assert isinstance(m, Mmt8)
        shown = f"latest {m.total:g}/{m.scale}" if m.total is not None else "latest: per-muscle grades"
        return True, last.date, shown
    if what == "haq":
        stated = list(facts.get("visit.haq_di.given") or ())
        items = list(facts.get("visit.haq") or ())
        if not stated and not items:
            return False, None, "not recorded"
        last = max([*stated, *items], key=lambda o: o.date or date.min)
        same_day = [o for o in stated if o.date == last.date]
        shown = f"latest {same_day[0].value:g}" if same_day else "item answers"
        return True, last.date, shown
    if what in ("mri", "emg"):
        block = _all(facts, _block_facts(what))
        if not block:
            return False, None, "not recorded"
        return True, _latest([o.date for o in block]), "recorded"
    if what == "pft":
        pft = _all(facts, ["pft.fvc_percent", "pft.dlco_percent", "pft.ild_on_ct"])
        if not pft:
            return False, None, "not recorded"
        return True, _latest([o.date for o in pft]), "recorded"
    ecg = list(facts.get("cardiac.ecg") or ())
    echo = list(facts.get("cardiac.lvef") or ())
    other = _all(facts, ["cardiac.troponin_elevated", "cardiac.mri_abnormal"])
    if not ecg and not echo and not other:
        return False, None, "not recorded"
    kinds = [k for k, found in (("ECG", ecg), ("echo", echo)) if found]
    return True, _latest([o.date for o in (*ecg, *echo, *other)]), ", ".join(kinds) or "recorded"


def _block_facts(block: str) -> list[str]:
    if block == "mri":
        return ["mri.date", "mri.edema", "mri.fatty_replacement", "mri.fascial_edema"]
    return ["emg.date", "emg.pattern", "emg.spontaneous_activity", "emg.myotonic_discharges"]


def checklist(trial: Trial, facts: FactSource, cohort: Cohort | None = None) -> list[Item]:
    """The baseline assessments a trial (and cohort) asks for, with what the patient has."""
    crits = [*trial.inclusion, *trial.exclusion]
    if cohort is not None:
        crits += [*cohort.inclusion, *cohort.exclusion]
    asked: dict[Assessment, list[str]] = {}
    for c in crits:
        for a in criterion_assessments(c):
            asked.setdefault(a, []).append(c.id)
    items = []
    for a in ORDER:
        if a not in asked:
            continue
        status, when, detail = status_of(facts, a)
        items.append(Item(a, LABELS[a], tuple(asked[a]), status, when, detail))
    return items
