"""Text rendering of a trial match (`imnm trials FILE`), the catalog list, registry updates and searches."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from imnm.render import Line

if TYPE_CHECKING:
    from imnm.services.trials import CatalogUpdate, RegistrySearch, TrialList, TrialMatch
    from imnm.trials.evaluate import MissingItem
    from imnm.trials.model import Trial

SYMBOL = {"eligible": "✔", "needs_information": "?", "ineligible": "✘"}
CRITERION_SYMBOL = {"ok": "✔", "failed": "✘", "missing": "?", "review": "👁", "conflict": "⚠️"}
MAX_SITES = 5


def status_line(t: Trial) -> str:
    """ "recruiting per the registry record of 2024-11-11 (open)"."""
    from imnm.trials.evaluate import status_words

    text = status_words(t.status)
    if t.status_as_of is not None:
        text += " " + t.status_as_of.describe()
    else:
        text += " (status source not recorded)"
    if t.recruiting:
        text += " (open)"
    return text


def closing_date(t: Trial) -> str | None:
    """The completion date of a closed trial, when the catalog has one."""
    if t.dates is not None and t.dates.completion is not None:
        kind = f", {t.dates.completion.type.lower()}" if t.dates.completion.type else ""
        return f"completion {t.dates.completion.date}{kind}"
    return None


def registry_lines(t: Trial) -> list[str]:
    """Rollover parent, why stopped, sites and contacts (where the catalog has them)."""
    out = []
    if t.parent_trial:
        out.append(f"  Rollover or extension: needs participation in {t.parent_trial} first.")
    if t.why_stopped:
        out.append(f"  Why stopped: {one_line(t.why_stopped)}")
    if t.sites:
        shown = "; ".join(s.describe() for s in t.sites[:MAX_SITES])
        more = f"; and {len(t.sites) - MAX_SITES} more" if len(t.sites) > MAX_SITES else ""
        out.append(f"  Sites ({len(t.sites)} listed): {shown}{more}")
        if t.sites_note:
            out.append(f"    ({one_line(t.sites_note)})")
    if t.contacts:
        people = "; ".join(
            ", ".join(
                x for x in (c.name, (c.role or "").replace("_", " ").lower() or None, c.phone, c.email) if x
            )
            for c in t.contacts
        )
        out.append(f"  Contacts: {people}")
    return out


def group_missing(items: Iterable[MissingItem]) -> dict[str, tuple[list[str], list[str]]]:
    """Missing facts grouped by the question or test that supplies them (one line each)."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for m in items:
        details, crits = out.setdefault(m.ask, ([], []))
        if m.detail and not m.detail.startswith("to settle") and m.detail not in details:
            details.append(m.detail)
        crits.extend(c for c in m.criteria if c not in crits)
    return out


def one_line(text: str) -> str:
    return " ".join(text.split())


def render(match: TrialMatch, *, all_criteria: bool = False) -> list[Line]:
    from imnm.services.trials import DISCLAIMER, TRIALS_NOTE

    out: list[Line] = []

    def tx(t: str, style: str = "text") -> None:
        out.append((style, t))

    counts = match.counts()
    day = match.as_of.isoformat()
    window = match.settings.screening_window
    tx(
        f"Trials for {match.patient_id} as of {day}: {counts['eligible']} eligible, "
        f"{counts['needs_information']} need information, {counts['ineligible']} ineligible",
        "h1",
    )
    tx(
        f"Results 'at screening' are the latest within {window} before {day} "
        "(⚠️ assumed window; change it with --screening-window).",
        "dim",
    )
    for note in match.overrides:
        tx(f"Accepted although implausible (record override): {note}", "warn")
    closed_heading = False
    for v in match.verdicts:
        r = v.result
        t = r.trial
        if r.group == "closed" and not closed_heading:
            tx("Closed trials (for reference)", "h1")
            tx(
                "Completed, terminated, withdrawn or of unknown status: listed for reference, not for enrolment.",
                "dim",
            )
            closed_heading = True
        name = f"{t.id}{f' {t.acronym}' if t.acronym else ''}"
        if r.cohort:
            name += f" [{r.cohort.label}]"
        pending = {
            "manual_review": " (only manual review left)",
            "conflict": " (a review conflicts with the record)",
        }
        verdict = r.verdict.replace("_", " ") + (pending[r.pending] if r.pending else "")
        closing = closing_date(t) if r.group == "closed" else None
        tx(
            f"{SYMBOL[r.verdict]} {name}: {verdict}. Status: {status_line(t)}"
            + (f"; {closing}" if closing else "")
            + ".",
            "h2",
        )
        tx(f"  {t.title}")
        for line in registry_lines(t):
            tx(line)
        if t.source.completeness != "complete" or t.draft:
            tx(
                f"  Registry text {t.source.completeness} {t.source.mark}: {t.source.truncated or 'draft import'}"
            )
        for f in r.failed:
            tx(f"  ✘ {f.kind} {f.criterion.id}: {f.criterion.text}")
            for e in f.outcome.all_evidence() if f.outcome else []:
                tx(f"      · {e}", "dim")
            for a in f.criterion.assumptions:
                tx(f"      assumes: {a}", "dim")
        if r.missing:
            tx("  Still needed:")
            for ask, (details, crits) in group_missing(r.missing).items():
                why = f" — {'; '.join(details)}" if details else ""
                tx(f"    ? {ask}{why}  (for {', '.join(crits)})")
        if r.conflicts:
            tx("  Conflicts to resolve (a clinician's review and the record disagree):", "warn")
            for c in r.conflicts:
                tx(f"    ⚠️ {c.kind} {c.criterion.id}: {one_line(c.criterion.text)} — {c.review}", "warn")
        if r.stale:
            tx(
                "  Registry text changed since these rules were encoded (they do not count until re-approved):",
                "warn",
            )
            for c in r.stale:
                tx(f"    👁 {c.kind} {c.criterion.id}: {one_line(c.criterion.text)} — {c.review}", "warn")
        others = [m for m in r.manual_review if m.status != "stale"]
        if others:
            tx("  For a clinician to review:")
            for m in others:
                tx(f"    👁 {m.criterion.id}: {one_line(m.criterion.text)} — {m.review}")
        for cr in r.criteria:
            for n in cr.version_notes:
                tx(f"  ⚠️ {cr.criterion.id} depends on the registry version: {n}", "warn")
        if all_criteria:
            tx("  All criteria:")
            for cr in r.criteria:
                tx(
                    f"    {CRITERION_SYMBOL[cr.effect]} {cr.kind} {cr.criterion.id}: {one_line(cr.criterion.text)}"
                )
        if r.verdict != "ineligible":
            used = [
                *t.assumptions,
                *(a for cr in r.criteria if cr.effect == "ok" for a in cr.criterion.assumptions),
            ]
            flagged = [a for a in dict.fromkeys(used) if a.startswith("⚠️")]
            if flagged:
                tx("  This result depends on documented assumptions:")
                for a in flagged:
                    tx(f"    {a}", "dim")
        if v.checklist:
            shown = "; ".join(f"{i.label}: {i.shown()}" for i in v.checklist)
            tx(f"  Baseline checklist: {shown}")
    tx("")
    tx(f"{DISCLAIMER} {TRIALS_NOTE}", "warn")
    return out


LIST_HEADERS = ("trial", "status (as of)", "age", "freshness", "IMNM", "criteria (encoded/review)", "text")


def render_list(listing: TrialList) -> list[tuple[str, ...]]:
    """Rows of the catalog table: trial, status with its date and source, the status's age, freshness,
    IMNM role, criteria (encoded/review), text completeness."""
    rows: list[tuple[str, ...]] = []
    for s in listing.trials:
        r = s.as_dict()
        t = s.trial
        fresh = r.get("freshness") or {}
        assert isinstance(fresh, dict)
        age = fresh.get("status_age_days")
        name = f"{r['id']} {r['acronym'] or ''}".strip() + (" (draft)" if t.draft else "")
        if t.parent_trial:
            name += f"\nrollover from {t.parent_trial}"
        rows.append(
            (
                name,
                status_line(t),
                f"{age} d" if isinstance(age, int) else "no date",
                str(fresh.get("text", "")),
                str(r["imnm"]),
                f"{r['criteria']} ({r['encoded']}/{r['manual_review']})",
                f"{r['completeness']} {r['mark']}",
            )
        )
    return rows


def render_update(update: CatalogUpdate) -> list[Line]:
    """`imnm trials update`: per trial, what changed (status with its date, fields, the criteria
    diff), what was written, or why it could not be checked."""
    out: list[Line] = []
    counts = update.as_dict()["counts"]
    assert isinstance(counts, dict)
    out.append(
        (
            "h1",
            f"Registry check of {update.catalog} against {update.registry} on {update.checked_on.isoformat()}"
            + (" (dry run: nothing written)" if update.dry_run else ""),
        )
    )
    out.append(
        (
            "dim",
            f"{counts['updated']} updated, {counts['checked']} unchanged, {counts['failed']} could not be checked, "
            f"{counts['skipped']} skipped",
        )
    )
    for c in update.checks:
        if c.outcome == "failed":
            out.append(("warn", f"✘ {c.trial_id}: could not be checked: {c.message}"))
            continue
        if c.outcome == "skipped":
            out.append(("dim", f"- {c.trial_id}: skipped ({c.message})"))
            continue
        p = c.plan
        head = f"{'✔' if c.outcome == 'checked' else '~'} {c.trial_id}: "
        status = (
            f"{p.status_after.replace('_', ' ').lower()} per the registry record of {p.since or '(no date)'}"
        )
        if p.fields:
            head += "; ".join(p.fields) + f" ({status})"
        else:
            head += f"no change ({status})"
        out.append(("h2" if c.outcome == "updated" else "text", head))
        if p.criteria_state == "baseline" and not p.diffs:
            out.append(("text", "  criteria: the registry text matches the catalog's text"))
        elif not p.diffs:
            out.append(("text", "  criteria: the registry text is unchanged"))
        else:
            out.append(("warn", f"  criteria: the registry text differs ({len(p.diffs)} difference(s)):"))
            for d in p.diffs:
                for line in d.lines():
                    out.append(("text", "  " + line))
        if c.written:
            out.append(("dim", f"  written to {c.written}"))
    if update.failed:
        out.append(
            (
                "warn",
                "Trials that could not be checked keep their catalog entries unchanged; run again later.",
            )
        )
    return out


def render_search(found: RegistrySearch) -> list[Line]:
    out: list[Line] = [
        (
            "h1",
            f"Registry search on {found.searched_on.isoformat()} ({found.registry}): "
            + ", ".join(repr(c) for c in found.conditions),
        )
    ]
    new = [f for f in found.found if not f.in_catalog]
    out.append(
        (
            "dim",
            f"{len(found.found)} interventional studies found, {len(new)} not in the catalog; "
            f"{found.skipped} other hits left out (not interventional, or IMNM not named for a broad term)",
        )
    )
    for f in found.found:
        if f.in_catalog:
            out.append(("text", f"  = {f.nct} (in the catalog): {f.title}"))
            continue
        d = f.as_dict()
        share = d["share_encoded"]
        enc = (
            f"{d['encoded']} of {d['criteria']} criteria encoded ({100 * share:.0f} %)"
            if isinstance(share, float)
            else "not drafted"
        )
        where = f"; draft written to {f.draft}" if f.draft else ""
        msg = f"; {f.message}" if f.message else ""
        out.append(("h2", f"+ {f.nct} (new): {f.title} [{(f.status or 'status not given').lower()}]"))
        out.append(("text", f"    {enc}{where}{msg}"))
    if new and found.out_dir is None:
        out.append(("warn", "Give --catalog DIR to write the drafts (draft: true) into a catalog folder."))
    for term, message in found.errors:
        out.append(("warn", f"✘ search for {term!r} failed: {message}"))
    return out
