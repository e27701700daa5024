"""Baseline checklist: which assessments a trial asks for, and which the patient already has.

The assessments a trial asks for are read from its criteria: the facts each rule uses (e.g.
`lab.ck` → CK, `visit.mmt8_160` → MMT-8) plus the `assessments` a criterion names explicitly
(manual-review items such as "significant lung or cardiac impairment" → PFT, ECG/echo). What
the patient has comes from the record, with the date of the latest result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from imnm.core.rules import facts_used
from imnm.record.asof import as_of_view
from imnm.record.model import Record
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


@dataclass(frozen=True, slots=True)
class Item:
    assessment: Assessment
    label: str
    asked_by: tuple[str, ...]  # criterion ids
    have: bool
    date: date | None
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {
            "assessment": self.assessment,
            "label": self.label,
            "asked_by": list(self.asked_by),
            "have": self.have,
            "date": self.date.isoformat() if self.date else None,
            "detail": self.detail,
        }


def _latest(dates: list[date | None]) -> date | None:
    known = [d for d in dates if d is not None]
    return max(known) if known else None


def patient_has(rec: Record, what: Assessment, as_of: date | None = None) -> tuple[bool, date | None, str]:
    """Whether the record holds this assessment by `as_of`, its latest date and a short description.

    Results dated after `as_of` are not counted: the checklist describes the patient on that date.
    """
    if as_of is not None:
        rec = as_of_view(rec, as_of)
    if what == "biopsy":
        if rec.biopsy is None:
            return False, None, "not recorded"
        if not rec.biopsy.performed:
            return False, None, "recorded as not done"
        return True, rec.biopsy.date, f"done{f' ({rec.biopsy.site})' if rec.biopsy.site else ''}"
    if what == "antibodies":
        if not rec.antibodies:
            return False, None, "no results recorded"
        shown = ", ".join(f"anti-{a.target} {a.result}" for a in rec.antibodies)
        return True, _latest([a.date for a in rec.antibodies]), shown
    if what == "ck":
        cks = [lab for lab in rec.labs or [] if lab.test == "ck"]
        if not cks:
            return False, None, "no CK recorded"
        newest = max(cks, key=lambda lab: lab.date or date.min)
        uln = f" (ULN {newest.uln:g})" if newest.uln else " (no ULN)"
        return True, _latest([c.date for c in cks]), f"latest {newest.value:g} {newest.unit}{uln}"
    if what in ("mmt8", "haq"):
        attrs = ("mmt8",) if what == "mmt8" else ("haq_di", "haq")
        visits = [v for v in rec.visits or [] if any(getattr(v, a, None) is not None for a in attrs)]
        if not visits:
            return False, None, "not recorded"
        last = max(visits, key=lambda v: v.date)
        if what == "mmt8":
            m = last.mmt8
            assert m is not None
            shown = f"latest {m.total:g}/{m.scale}" if m.total is not None else "latest: per-muscle grades"
            return True, last.date, shown
        return True, last.date, f"latest {last.haq_di:g}" if last.haq_di is not None else "item answers"
    if what in ("mri", "emg"):
        block = rec.mri if what == "mri" else rec.emg
        if block is None:
            return False, None, "not recorded"
        return True, block.date, "recorded"
    if what == "pft":
        if not rec.pulmonary_function:
            return False, None, "not recorded"
        return True, _latest([p.date for p in rec.pulmonary_function]), "recorded"
    if not rec.cardiac:
        return False, None, "not recorded"
    kinds = sorted(
        {k for c in rec.cardiac for k, v in (("ECG", c.ecg), ("echo", c.lvef_percent)) if v is not None}
    )
    return True, _latest([c.date for c in rec.cardiac]), ", ".join(kinds) or "recorded"


def checklist(
    trial: Trial, rec: Record, cohort: Cohort | None = None, *, as_of: date | None = None
) -> list[Item]:
    """The baseline assessments a trial (and cohort) asks for, with what the patient has by `as_of`."""
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
        have, when, detail = patient_has(rec, a, as_of)
        items.append(Item(a, LABELS[a], tuple(asked[a]), have, when, detail))
    return items
