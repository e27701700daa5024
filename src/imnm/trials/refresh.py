"""Bring one catalog entry up to date with its registry record (`imnm trials update`).

`plan(trial, study, checked_on=..., url=...)` works out what changed, without touching any file:

- **status**, its date and source (`status_as_of`: "per the registry record of <lastUpdatePostDate>",
  checked on the day of the check), `why_stopped`, **dates**, **sites** and **contacts** (when the
  record lists any; otherwise the catalog's own, with their sources, stay);
- **criteria**: when the registry's eligibility text differs from what the entry last saw (the hash
  in `registry_check`, or for a draft imported from the registry the hash in `encoded_from`; on the
  first check of an entry written from mirror text, the entry's own texts), each criterion is compared
  (`imnm.trials.drift.compare`). A changed or removed criterion gets `stale` (its rule stops counting);
  a new one is added as a manual-review item marked `added` (a new structured age or sex limit gets
  the importer's rule); nothing else in the file moves;
- `registry_check`: the day, the URL, the record version and the text's hash.

`apply(doc, trial, plan)` makes those changes in a round-trip document (`imnm.trials.write`), so the
file keeps its layout. A withdrawn, terminated or completed status moves the trial to the closed list
(`imnm.trials.evaluate.status_group`), shown with the date of the record.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from imnm.trials.drift import CriterionDiff, changes, compare, registry_text_sha256
from imnm.trials.model import Contact, Site, Trial, TrialDates


@dataclass
class Plan:
    """What an update changes in one entry (plain catalog data), and why."""

    trial_id: str
    status_before: str
    status_after: str
    registry_status: str | None
    status_as_of: dict[str, Any]
    status_note: str | None
    why_stopped: str | None
    dates: dict[str, Any] | None
    sites: list[dict[str, Any]] | None
    contacts: list[dict[str, Any]] | None
    registry_check: dict[str, Any]
    criteria_state: str
    diffs: list[CriterionDiff] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)  # what changed, in words
    since: str | None = None
    version: str | None = None
    checked_on: date = date.min

    @property
    def changed(self) -> bool:
        return bool(self.fields or self.diffs)


def _same_sites(trial: Trial, sites: list[dict[str, Any]]) -> bool:
    mine = [s.model_dump(exclude_none=True, exclude_defaults=True) for s in trial.sites]
    theirs = [Site.model_validate(s).model_dump(exclude_none=True, exclude_defaults=True) for s in sites]
    return mine == theirs


def _same_contacts(trial: Trial, contacts: list[dict[str, Any]]) -> bool:
    mine = [c.model_dump(exclude_none=True) for c in trial.contacts]
    theirs = [Contact.model_validate(c).model_dump(exclude_none=True) for c in contacts]
    return mine == theirs


def previous_hash(trial: Trial) -> str | None:
    """The registry text hash the entry last saw (None: never compared with a registry record)."""
    if trial.registry_check is not None:
        return trial.registry_check.text_sha256
    if trial.encoded_from is not None and trial.encoded_from.basis == "registry_record":
        return trial.encoded_from.text_sha256
    return None


def plan(
    trial: Trial, study: dict[str, Any], *, checked_on: date, url: str, api_url: str | None = None
) -> Plan:
    """What an update would change (`url`: the study's public page; `api_url`: the record read)."""
    from imnm.trials.ctgov import registry_facts
    from imnm.trials.evaluate import status_words

    facts = registry_facts(study)
    since = facts["last_update_posted"] or facts["version_holder"]
    new_hash = registry_text_sha256(facts["eligibility_text"])
    before = previous_hash(trial)
    if before == new_hash:
        diffs: list[CriterionDiff] = []
        state = "unchanged"
    else:
        diffs = changes(compare(trial, study))
        state = "baseline" if before is None else ("changed" if diffs else "unchanged")
    status_after = facts["status"]
    fields: list[str] = []
    note = trial.status_note
    if status_after != trial.status:
        fields.append(f"status: {status_words(trial.status)} → {status_words(status_after)}")
        shown = facts["registry_status"] or "not given"
        note = f"Registry overallStatus {shown} (record of {since or 'no date'}), read on {checked_on.isoformat()}"
    status_as_of = {
        "date": since,
        "source": "registry record",
        "kind": "registry",
        "url": url,
        "checked_on": checked_on.isoformat(),
    }
    why = facts["why_stopped"]
    if why and why != trial.why_stopped:
        fields.append("why stopped")
    dates = facts["dates"] or None
    if dates:
        mine = trial.dates.model_dump(exclude_none=True) if trial.dates else {}
        if TrialDates.model_validate(dates).model_dump(exclude_none=True) != mine:
            fields.append("dates")
        else:
            dates = None
    sites = facts["sites"] or None
    if sites is not None:
        if _same_sites(trial, sites):
            sites = None
        else:
            fields.append(f"sites ({len(trial.sites)} → {len(sites)})")
    contacts = facts["contacts"] or None
    if contacts is not None:
        if _same_contacts(trial, contacts):
            contacts = None
        else:
            fields.append(f"contacts ({len(trial.contacts)} → {len(contacts)})")
    check = {
        "checked_on": checked_on.isoformat(),
        "url": api_url or url,
        "version_holder": facts["version_holder"],
        "last_update_posted": facts["last_update_posted"],
        "status": facts["registry_status"] or "not given",
        "text_sha256": new_hash,
        "criteria": state,
    }
    return Plan(
        trial.id,
        trial.status,
        status_after,
        facts["registry_status"],
        status_as_of,
        note,
        why if why and why != trial.why_stopped else None,
        dates,
        sites,
        contacts,
        check,
        state,
        diffs,
        fields,
        since,
        facts["version_holder"],
        checked_on,
    )


def _next_id(doc: MutableMapping[str, Any], prefix: str) -> str:
    from imnm.trials.write import criteria_lists

    used = {str(item.get("id")) for _c, _k, items in criteria_lists(doc) for item in items}
    n = 1
    pat = re.compile(rf"^{re.escape(prefix)}-(\d+)$")
    for u in used:
        m = pat.match(u)
        if m:
            n = max(n, int(m.group(1)) + 1)
    while f"{prefix}-{n}" in used:
        n += 1
    return f"{prefix}-{n}"


def _cohort_for(trial: Trial, heading: str | None) -> tuple[str | None, str]:
    """The catalog cohort id an added item belongs to, and the id prefix for it."""
    if heading:
        key = re.sub(r"[^a-z0-9]+", " ", heading.lower()).strip()
        for co in trial.cohorts:
            if re.sub(r"[^a-z0-9]+", " ", co.label.lower()).strip() == key:
                return co.id, co.id
    return None, ""


def apply(doc: MutableMapping[str, Any], trial: Trial, p: Plan) -> None:
    """Make the planned changes in a round-trip document (see the module docstring)."""
    from imnm.trials.write import CRITERION_ORDER, criteria_list, find_criterion, set_key

    if p.status_after != trial.status:
        set_key(doc, "status", p.status_after)
        if p.status_note is not None:
            set_key(doc, "status_note", p.status_note)
    set_key(doc, "status_as_of", p.status_as_of)
    if p.why_stopped:
        set_key(doc, "why_stopped", p.why_stopped)
    if p.dates:
        set_key(doc, "dates", p.dates)
    if p.sites is not None:
        set_key(doc, "sites", p.sites)
    if p.contacts is not None:
        set_key(doc, "contacts", p.contacts)
    set_key(doc, "registry_check", p.registry_check)
    checked = p.checked_on.isoformat()
    for i, d in enumerate(p.diffs):
        if d.change in ("changed", "removed") and d.criterion is not None:
            item = find_criterion(doc, d.criterion)
            if item is None:
                continue
            stale: dict[str, Any] = {"change": d.change, "since": p.since, "checked_on": checked}
            if d.change == "changed":
                stale["registry_text"] = d.new
            stale["registry_version"] = p.version
            set_key(item, "stale", stale, CRITERION_ORDER)
        elif d.change == "added" and d.new is not None:
            cohort, prefix = _cohort_for(trial, d.cohort)
            base = f"{prefix}-{'inc' if d.kind == 'inclusion' else 'exc'}" if prefix else d.kind[:3]
            new: dict[str, Any] = {"id": _next_id(doc, base), "text": d.new}
            if d.structured and d.rule is not None:
                new["structured"] = True
                new["rule"] = d.rule
            else:
                new["manual_review"] = True
                new["reason"] = (
                    f"New in the registry text (record of {p.since or checked}); not encoded yet: "
                    "a person must encode or judge it."
                )
            new["added"] = {"since": p.since, "checked_on": checked, "registry_version": p.version}
            criteria_list(doc, cohort, d.kind).append(new)
            p.diffs[i] = replace(d, criterion=new["id"], cohort=cohort)  # the id it was added as
