"""Text rendering of the screener's result (`imnm screen`), for the person who answered, and the
explanation for clinicians (`--explain`). The web pages use the same wording."""

from __future__ import annotations

from imnm.screen.screener import Screener, ScreenResult, load_screener


def render_text(result: ScreenResult, screener: Screener | None = None) -> str:
    """The result as plain text for the person who answered.

    For the urgent level the first line is the advice itself ("URGENT: Get medical care today ...");
    the command line shows that line in bold (and red where the terminal has colour). Only the
    reasons at the result's level are printed with their advice; reasons of lower levels are
    listed as the answers that matter, so "see a doctor soon" never sits under "seek care today".
    """
    s = screener or load_screener()
    qs = s.questions_by_id
    lv = s.levels[result.level]
    if result.level == "urgent":
        out = [
            f"{s.texts['urgent_prefix']} {lv.advice}",
            f"{s.texts['result_heading']} {lv.title} ({result.level})",
        ]
    else:
        out = [f"{s.texts['result_heading']} {lv.title} ({result.level})", lv.advice]
    if result.carer:
        out.append(s.texts["carer_note"])
    if result.possible_level:
        out += ["", f"{s.texts['possible_level']} {s.levels[result.possible_level].title}."]
    main = [r for r in result.reasons if r.level == result.level]
    lower = [r for r in result.reasons if r.level != result.level]
    if main:
        out += ["", s.texts["reasons_heading"]]
        for reason in main:
            answers = "; ".join(f"{qs[q].short(result.child)}: {a}" for q, a in reason.answers)
            out.append(f"  • {reason.text}" + (f" ({answers})" if answers else ""))
    if lower:
        seen: dict[str, str] = {}
        for reason in lower:
            for q, a in reason.answers:
                seen.setdefault(qs[q].short(result.child), a)
        if seen:
            out += ["", s.texts["also_noted"]]
            out.append("  " + "; ".join(f"{label}: {a}" for label, a in seen.items()))
    if result.unanswered:
        out += ["", s.texts["unanswered_heading"]]
        for qid, lvl in result.unanswered:
            higher = s.rank(lvl) > s.rank(result.level)
            suffix = f" ({s.texts['could_change_to']} {s.levels[lvl].title})" if higher else ""
            out.append(f"  ? {qs[qid].wording(result.child, result.carer)}{suffix}")
    if result.level != "none":
        out += ["", s.texts["tests_heading"]]
        for t in s.tests:
            out.append(f"  • {t['name']}: {t['description']}")
        out += ["", s.texts["specialists_heading"], "  " + s.texts["specialists_intro"]]
        for sp in s.specialists_for(result.child):
            term = f" ({sp['term']})" if sp["term"] != sp["name"] else ""
            out.append(f"  • {sp['name']}{term}: {sp['text']}")
    if result.notes:
        out += ["", s.texts["notes_heading"]]
        for n in result.notes:
            out.append(f"  • {n.text}")
    out += ["", s.texts["disclaimer"]]
    return "\n".join(out)


def render_explanation(result: ScreenResult) -> str:
    """For clinicians: every trigger's rule tree with its status, the answers used and its source."""
    lines = ["Rules (knowledge/data/screener.yaml), evaluated three-valued:"]
    for t, o in result.outcomes:
        flag = f" {t.mark} choice {t.choice}" if t.choice else ""
        lines.append(f"\n[{t.level}] {t.id}: {o.truth.value}{flag}\n  source: {t.source}")
        lines.append(o.explain(indent=1))
    lines.append(
        f"\nChoices: unknown_policy = {result.unknown_policy}, urgent_flags = {result.urgent_flags}"
        + (" (the level comes from don't-know answers)" if result.floored else "")
    )
    return "\n".join(lines)
