"""Text rendering of a trial match (`imnm trials FILE`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from imnm.render import Line

if TYPE_CHECKING:
    from imnm.services.trials import TrialList, TrialMatch
    from imnm.trials.evaluate import MissingItem

SYMBOL = {"eligible": "✔", "needs_information": "?", "ineligible": "✘"}
CRITERION_SYMBOL = {"ok": "✔", "failed": "✘", "missing": "?", "review": "👁"}


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
    for v in match.verdicts:
        r = v.result
        t = r.trial
        name = f"{t.id}{f' {t.acronym}' if t.acronym else ''}"
        if r.cohort:
            name += f" [{r.cohort.label}]"
        status = t.status.replace("_", " ").lower() + (" (open)" if t.recruiting else "")
        verdict = r.verdict.replace("_", " ") + (" (only manual review left)" if r.pending else "")
        tx(f"{SYMBOL[r.verdict]} {name}: {verdict}. Status: {status}.", "h2")
        tx(f"  {t.title}")
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
        if r.manual_review:
            tx("  For a clinician to review:")
            for m in r.manual_review:
                tx(f"    👁 {m.criterion.id}: {one_line(m.criterion.text)} — {m.review}")
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
            shown = "; ".join(
                f"{i.label}: {'yes' + (f' ({i.date.isoformat()})' if i.date else '') if i.have else 'no'}"
                for i in v.checklist
            )
            tx(f"  Baseline checklist: {shown}")
    tx("")
    tx(f"{DISCLAIMER} {TRIALS_NOTE}", "warn")
    return out


def render_list(listing: TrialList) -> list[tuple[str, str, str, str, str]]:
    """Rows of the catalog table: trial, status, IMNM role, criteria (encoded/review), text."""
    rows = []
    for s in listing.trials:
        r = s.as_dict()
        rows.append(
            (
                f"{r['id']} {r['acronym'] or ''}".strip(),
                str(r["status"]),
                str(r["imnm"]),
                f"{r['criteria']} ({r['encoded']}/{r['manual_review']})",
                f"{r['completeness']} {r['mark']}",
            )
        )
    return rows
