"""Text rendering of the screener's result (`imnm screen`), for the person who answered, and the
explanation for clinicians (`--explain`). The web pages use the same wording."""

from __future__ import annotations

from typing import Any

from imnm.screen.screener import Screener, ScreenResult, load_screener


def result_view(result: ScreenResult, screener: Screener | None = None) -> dict[str, Any]:
    """The result in the order and wording a person reads it (the text, the web page and the printed
    summary all use it): the level (urgent advice first), why, the other answers that matter, the
    open questions, the tests to expect, the specialists, the notes and the disclaimer.
    """
    s = screener or load_screener()
    qs = s.questions_by_id
    lv = s.levels[result.level]
    main = [r for r in result.reasons if r.level == result.level]
    lower = [r for r in result.reasons if r.level != result.level]
    seen: dict[str, str] = {}
    for reason in lower:
        for q, a in reason.answers:
            seen.setdefault(qs[q].short(result.child), a)
    unanswered = []
    for qid, lvl in result.unanswered:
        higher = s.rank(lvl) > s.rank(result.level)
        unanswered.append(
            {
                "question": qs[qid].wording(result.child, result.carer),
                "could_change_to": s.levels[lvl].title if higher else None,
            }
        )
    show = result.level != "none"
    return {
        "level": result.level,
        "urgent": result.level == "urgent",
        "title": lv.title,
        "advice": lv.advice,
        "carer_note": s.texts["carer_note"] if result.carer else None,
        "possible_level": s.levels[result.possible_level].title if result.possible_level else None,
        "reasons": [
            {
                "text": reason.text,
                "answers": "; ".join(f"{qs[q].short(result.child)}: {a}" for q, a in reason.answers),
            }
            for reason in main
        ],
        "also_noted": [{"label": label, "answer": a} for label, a in seen.items()],
        "unanswered": unanswered,
        "tests": [{"name": t["name"], "description": t["description"]} for t in s.tests] if show else [],
        "specialists": [
            {"name": sp["name"], "term": sp["term"] if sp["term"] != sp["name"] else None, "text": sp["text"]}
            for sp in s.specialists_for(result.child)
        ]
        if show
        else [],
        "notes": [n.text for n in result.notes],
        "texts": dict(s.texts),
        "disclaimer": s.texts["disclaimer"],
    }


def render_text(result: ScreenResult, screener: Screener | None = None) -> str:
    """The result as plain text for the person who answered.

    For the urgent level the first line is the advice itself ("URGENT: Get medical care today ...");
    the command line shows that line in bold (and red where the terminal has colour). Only the
    reasons at the result's level are printed with their advice; reasons of lower levels are
    listed as the answers that matter, so "see a doctor soon" never sits under "seek care today".
    """
    v = result_view(result, screener)
    t = v["texts"]
    if v["urgent"]:
        out = [f"{t['urgent_prefix']} {v['advice']}", f"{t['result_heading']} {v['title']} ({v['level']})"]
    else:
        out = [f"{t['result_heading']} {v['title']} ({v['level']})", v["advice"]]
    if v["carer_note"]:
        out.append(v["carer_note"])
    if v["possible_level"]:
        out += ["", f"{t['possible_level']} {v['possible_level']}."]
    if v["reasons"]:
        out += ["", t["reasons_heading"]]
        for reason in v["reasons"]:
            out.append(f"  • {reason['text']}" + (f" ({reason['answers']})" if reason["answers"] else ""))
    if v["also_noted"]:
        out += ["", t["also_noted"]]
        out.append("  " + "; ".join(f"{x['label']}: {x['answer']}" for x in v["also_noted"]))
    if v["unanswered"]:
        out += ["", t["unanswered_heading"]]
        for u in v["unanswered"]:
            suffix = f" ({t['could_change_to']} {u['could_change_to']})" if u["could_change_to"] else ""
            out.append(f"  ? {u['question']}{suffix}")
    if v["level"] != "none":
        out += ["", t["tests_heading"]]
        for test in v["tests"]:
            out.append(f"  • {test['name']}: {test['description']}")
        out += ["", t["specialists_heading"], "  " + t["specialists_intro"]]
        for sp in v["specialists"]:
            term = f" ({sp['term']})" if sp["term"] else ""
            out.append(f"  • {sp['name']}{term}: {sp['text']}")
    if v["notes"]:
        out += ["", t["notes_heading"]]
        for n in v["notes"]:
            out.append(f"  • {n}")
    out += ["", v["disclaimer"]]
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
