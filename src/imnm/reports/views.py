"""View models of the report sections: the typed results of `imnm.services`, worded by `imnm.render`.

Each function turns one result into the plain data one template partial reads (strings, numbers,
lists and dicts; no clinical logic is left for the template). The partials in `templates/` each
read one variable of the same name as their view (`header`, `summary`, `interpretation`, `eular`,
`enmc`, `mimics`, `safety`, `next_tests`, `activity`, `trials`, `choices`, `sources`, `notice`), so the
web app can build the same views and `{% include "_eular_items.html" %}` the same partials.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from imnm.render.assess import antibody_text, ck_fold_text, ck_value_text, eular_summary, trend_text

if TYPE_CHECKING:
    from imnm.activity.measures import Response
    from imnm.core.evaluate import Outcome
    from imnm.services.activity import Activity
    from imnm.services.trials import TrialMatch
    from imnm.settings import Settings
    from imnm.workup.assess import Assessment

View = dict[str, Any]
CK_ROWS_ONE_COLUMN = 24

# Marks as printed: DejaVu Sans (the embedded font) has no emoji, so the reports write each mark
# with a glyph it has; the legend in the sources section says what each means.
MARK_GLYPHS = {
    "✅": "✓✓",
    "☑️": "☑",
    "☑": "☑",
    "⚠️": "⚠",
    "❗": "‼",
    "👁": "◉",
    "🟡": "◐",
    "❌": "✗",
    "\ufe0f": "",
}
MARK_LEGEND = (
    ("✓✓", "two independent sources agree"),
    ("☑", "one source"),
    ("⚠", "unverified: a documented choice"),
    ("‼", "sources disagree: a documented choice"),
)
STATUS_SYMBOL = {"met": "✔", "not_met": "✘", "unknown": "?", "present": "✔", "absent": "✘"}
STATUS_WORD = {
    "met": "met",
    "not_met": "not met",
    "unknown": "unknown",
    "present": "present",
    "absent": "absent",
}


def printable(text: str) -> str:
    """The text with every mark written in a glyph of the embedded font (see MARK_GLYPHS)."""
    for k, v in MARK_GLYPHS.items():
        if k in text:
            text = text.replace(k, v)
    return text


def words(value: object) -> str:
    """An identifier as words: `anti_hmgcr_myopathy` → `anti hmgcr myopathy`; None → '—'."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("_", " ")


# ---------------------------------------------------------------- header, notice, choices, sources


def knowledge_versions() -> tuple[list[dict[str, str]], str]:
    """Every knowledge table with its version and mark, and a SHA-256 fingerprint of all their files
    (the trial catalog included), so a report says exactly which tables it used."""
    from importlib import resources

    from imnm import knowledge

    rows = []
    digest = hashlib.sha256()
    root = resources.files(knowledge.DATA_PACKAGE)
    for table in knowledge.available():
        data = knowledge.load(table)
        rows.append(
            {"id": table, "version": str(data.get("version", "—")), "mark": printable(data["source"]["mark"])}
        )
        digest.update(table.encode() + b"\0" + (root / f"{table}.yaml").read_bytes())
    trials = root / "trials"
    if trials.is_dir():
        for f in sorted(trials.iterdir(), key=lambda p: p.name):
            if f.name.endswith(".yaml"):
                digest.update(b"trials/" + f.name.encode() + b"\0" + f.read_bytes())
    return rows, digest.hexdigest()[:16]


def header_view(
    *,
    title: str,
    patient_id: str,
    as_of: date,
    age: float | None = None,
    sex: str | None = None,
    revision: str | None = None,
) -> View:
    from imnm.version import __version__

    tables, fingerprint = knowledge_versions()
    return {
        "title": title,
        "patient_id": patient_id,
        "age": "unknown" if age is None else f"{int(age)} years",
        "sex": sex or "unknown",
        "as_of": as_of.isoformat(),
        "revision": revision or "not recorded",
        "tool_version": __version__,
        "knowledge_fingerprint": fingerprint,
        "knowledge_tables": tables,
        "knowledge_text": _versions_text(tables),
    }


def _versions_text(tables: list[dict[str, str]]) -> str:
    """'15 tables, each version 1' or 'ck v2; the other 14 tables version 1'."""
    counts: dict[str, int] = {}
    for t in tables:
        counts[t["version"]] = counts.get(t["version"], 0) + 1
    common = max(counts, key=lambda v: (counts[v], v))
    odd = [f"{t['id']} v{t['version']}" for t in tables if t["version"] != common]
    if not odd:
        return f"{len(tables)} tables, each version {common}"
    return "; ".join(odd) + f"; the other {counts[common]} tables version {common}"


def notice_view() -> View:
    from imnm.workup.assess import DISCLAIMER

    return {
        "text": DISCLAIMER,
        "more": "The 2017 EULAR/ACR and ENMC 224 criteria are classification criteria for research. "
        "A missing fact is reported as unknown, never as normal. All patient data in this project is synthetic.",
    }


def choices_view(settings: Settings) -> View:
    """Every documented ⚠️/❗ choice the results depend on, with its value and meaning."""
    rows = []
    for c in settings.choices_used():
        rows.append(
            {
                "name": f"{c['table']}.{c['choice']}",
                "mark": printable(str(c["mark"])),
                "value": str(c["value"]),
                "default": bool(c["default"]),
                "meaning": printable(str(c.get("meaning") or "")),
            }
        )
    return {"rows": rows, "not_default": sum(1 for r in rows if not r["default"])}


def sources_view(lines: Iterable[str]) -> View:
    return {
        "lines": [printable(line) for line in lines],
        "legend": [{"mark": m, "meaning": t} for m, t in MARK_LEGEND],
    }


# ---------------------------------------------------------------- the work-up


def summary_view(a: Assessment) -> View:
    from imnm.workup.enmc import subtype_label

    e, ud = a.enmc, a.eular.as_dict()
    rng = ud["score_min"] != ud["score_max"]
    return {
        "enmc_result": subtype_label(e.classification)
        if e.classification not in ("not_met", "unknown")
        else words(e.classification),
        "enmc_status": e.status,
        "enmc_message": printable(e.message),
        "eular_version": words(ud["version"]),
        "score": f"{ud['score']:g}",
        "score_range": f"{ud['score_min']:g}–{ud['score_max']:g}" if rng else None,
        "probability": None if ud["probability"] is None else f"{ud['probability']:g} %",
        "category": words(ud["category"]),
        "category_range": (
            f"{words(ud['category_min'])} – {words(ud['category_max'])}"
            if ud["category_min"] != ud["category_max"]
            else None
        ),
        "classified": words(ud["classified_as_iim"]),
        "subgroup": words(ud["subgroup"]),
        "line": printable(eular_summary(ud)),
        "flags": [{"text": printable(f["text"]), "source": printable(f["source"])} for f in a.flags],
        "overrides": [printable(n) for n in a.overrides],
    }


def interpretation_view(a: Assessment) -> View:
    it = a.interpretation
    ck = it["ck"]
    ck_rows = [
        {
            "date": str(row["date"] or "undated"),
            "value": ck_value_text(row).split(" (ULN")[0],
            "uln": "?" if row["uln"] is None else f"{row['uln']:g}",
            "fold": ck_fold_text(row),
            "source": str(row["source"]),
        }
        for row in ck["results"]
    ]
    rows: list[dict[str, str]] = []
    targets = it["antibodies"]["targets"]
    for ab in it["antibodies"]["results"]:
        rows.append(
            {
                "test": f"anti-{ab['target']}",
                "date": ab["date"] or "undated",
                "result": antibody_text(ab),
                "meaning": printable(targets[ab["target"]]["meaning"]) if ab["target"] in targets else "",
                "source": ab["source"],
            }
        )
    for key, label in (("emg", "EMG"), ("mri", "MRI"), ("biopsy", "Muscle biopsy")):
        part: Mapping[str, Any] = it[key]  # type: ignore[literal-required]
        rows.append(
            {
                "test": label,
                "date": str(part.get("date") or "—"),
                "result": printable(str(part["summary"])),
                "meaning": printable(str(part.get("does_not_tell") or "")),
                "source": printable(str(part.get("source") or "")),
            }
        )
    patterns = [
        {
            "symbol": STATUS_SYMBOL.get(p["truth"], "?"),
            "label": printable(p["label"]),
            "status": STATUS_WORD.get(p["truth"], p["truth"]),
            "meaning": printable(p["meaning"]) if p["truth"] == "met" else "",
            "source": printable(p["source"]),
        }
        for p in it["biopsy"].get("patterns", [])
    ]
    return {
        "ck_summary": printable(ck["summary"]),
        "ck_trend": trend_text(ck["trend"]) if ck["trend"] else None,
        "ck_context": printable(ck.get("context") or "") or None,
        "ck_rows": ck_rows,
        # a long follow-up prints its CK results three to a row (the chart shows them all over time)
        "ck_columns": 3 if len(ck_rows) > CK_ROWS_ONE_COLUMN else 1,
        "ck_grid": [ck_rows[i : i + 3] for i in range(0, len(ck_rows), 3)],
        "rows": rows,
        "targets": [
            {
                "target": f"anti-{t}",
                "status": words(st["status"] or "not tested"),
                "meaning": printable(st["meaning"]),
            }
            for t, st in it["antibodies"]["targets"].items()
        ],
        "emg_notes": [printable(n) for n in it["emg"].get("notes", [])],
        "biopsy_patterns": patterns,
    }


def eular_view(a: Assessment) -> View:
    from imnm.render.charts import range_bar
    from imnm.workup.eular_acr import as_score, thresholds

    u = a.eular
    ud = u.as_dict()
    items = []
    for item in ud["items"]:
        if not item["scored"]:
            continue
        items.append(
            {
                "number": str(item["number"]),
                "label": printable(item["label"]),
                "weight": f"{item['weight']:g}",
                "status": item["status"],
                "symbol": STATUS_SYMBOL[item["status"]],
                "points": f"{item['points']:g}" if item["status"] == "present" else "",
                "evidence": [printable(e) for e in dict.fromkeys(item["evidence"])],
                "missing": [f"{m['ask']} (test {m['test']})" for m in item["missing"]],
                "could_change": bool(item["could_change_category"]),
                "source": printable(f"{item['source']} {item['mark']}"),
            }
        )
    cuts = [(words(c), as_score(t)) for c, t in thresholds(u.version, ud["category_basis"])]
    bar = range_bar(
        float(ud["score"]),
        float(ud["score_min"]),
        float(ud["score_max"]),
        cuts,
        title=f"EULAR/ACR score {ud['score']:g} ({words(ud['version'])} version) on the category cut-offs",
        id_prefix="eular-range",
    )
    sr = ud["skin_or_biopsy_rule"]
    return {
        "version": words(ud["version"]),
        "biopsy_status": words(ud["biopsy_status"]),
        "version_note": printable(ud["version_note"] or "") or None,
        "items": items,
        "score": f"{ud['score']:g}",
        "score_range": f"{ud['score_min']:g}–{ud['score_max']:g}"
        if ud["score_min"] != ud["score_max"]
        else None,
        "probability": None if ud["probability"] is None else f"{ud['probability']:g} %",
        "probability_range": (
            f"{ud['probability_min']:g}–{ud['probability_max']:g} %"
            if ud["probability"] is not None and ud["score_min"] != ud["score_max"]
            else None
        ),
        "probability_note": printable(ud["probability_note"]),
        "category": words(ud["category"]),
        "category_range": (
            f"{words(ud['category_min'])} – {words(ud['category_max'])}"
            if ud["category_min"] != ud["category_max"]
            else None
        ),
        "category_basis": ud["category_basis"],
        "cutoffs": [{"category": c, "from": f"{s:g}"} for c, s in cuts],
        "disagreements": [
            printable(
                f"score {d['score']:g}: {d['by_score']} by score, {d['by_probability']} by probability "
                f"({d['probability']:g} %); used {d['used']} ❗"
            )
            for d in ud["category_disagreements"]
        ],
        "could_change": [words(i) for i in ud["unknown_items_that_could_change_category"]],
        "rule": {
            "reading": sr["reading"],
            "status": STATUS_WORD.get(sr["truth"], sr["truth"]),
            "text": printable(sr["text"]),
        },
        "classified": words(ud["classified_as_iim"]),
        "minimum": words(ud["classification_minimum"]),
        "subgroup": words(ud["subgroup"]),
        "subgroup_note": printable(ud["subgroup_note"] or "") or None,
        "range_svg": bar,
        "choices": [printable(c) for c in ud["choices"]],
    }


def outcome_node(o: Outcome, depth: int = 99) -> View:
    """One node of a decision tree (ENMC 224): status, wording, evidence, what settles it, children."""
    evidence = [printable(str(e)) for e in dict.fromkeys(str(e) for e in o.evidence)]
    return {
        "symbol": STATUS_SYMBOL.get(o.truth.value, "?"),
        "status": STATUS_WORD.get(o.truth.value, o.truth.value),
        "text": printable(o.text),
        "evidence": evidence,
        "missing": [f"{m.ask} (test {m.test})" for m in o.missing] if not o.children else [],
        "children": [outcome_node(c, depth - 1) for c in o.children] if depth > 0 else [],
    }


def enmc_view(a: Assessment) -> View:
    from imnm.workup.enmc import subtype_label

    e = a.enmc
    tree = [outcome_node(e.outcomes["clinical"]), outcome_node(e.outcomes["biopsy_compatible"])]
    tree += [
        outcome_node(e.outcomes[n], depth=1)
        for n in ("anti_hmgcr_myopathy", "anti_srp_myopathy", "antibody_negative_imnm")
    ]
    return {
        "result": subtype_label(e.classification)
        if e.classification not in ("not_met", "unknown")
        else words(e.classification),
        "status": STATUS_WORD.get(e.status, e.status),
        "message": printable(e.message),
        "biopsy_note": printable(e.biopsy_note or "") or None,
        "tree": tree,
        "missing": [f"{m.label} ← {m.ask} (test {m.test})" for m in e.missing],
        "choices": [printable(c) for c in e.choices],
    }


def mimics_view(a: Assessment) -> View:
    rows = []
    for m in a.mimics:
        rows.append(
            {
                "label": printable(m["label"]),
                "verdict": words(m["verdict"]),
                "for_mimic": [
                    {
                        "symbol": STATUS_SYMBOL.get(f["truth"], "?"),
                        "text": printable(f["text"]),
                        "needs": ", ".join(words(t) for t in f["missing_tests"]),
                    }
                    for f in m["features_for_mimic"]
                    if f["truth"] != "not_met"
                ],
                "for_imnm": [printable(f["text"]) for f in m["features_for_imnm"] if f["truth"] == "met"],
                "source": printable(m["source"]),
            }
        )
    return {"rows": rows}


def safety_view(a: Assessment) -> View:
    items = []
    for w in a.workup:
        items.append(
            {
                "name": words(w["id"]).capitalize(),
                "status": words(w["status"]),
                "why": printable(w["why"]),
                "tests": ", ".join(words(t) for t in w["tests"]),
                "evidence": [printable(e) for e in w.get("evidence", [])]
                if w["id"] == "cancer_screening" and w["status"] != "not_flagged"
                else [],
                "source": printable(w["source"]),
            }
        )
    st = a.statin
    return {
        "items": items,
        "statin": printable(st["summary"]),
        "statin_review": printable(st["clinician_review"] or "") or None,
        "statin_notes": [printable(n) for n in st["notes"]],
    }


def next_tests_view(a: Assessment) -> View:
    return {
        "rows": [
            {
                "rank": t.get("rank", i + 1),
                "name": printable(t["name"]),
                "invasiveness": t["invasiveness"],
                "tier": words(t["tier"]),
                "why": printable(t["why"]),
                "could_change": ", ".join(words(c) for c in t["could_change"]),
            }
            for i, t in enumerate(a.next_tests)
        ]
    }


# ---------------------------------------------------------------- activity, TIS


def activity_view(result: Activity, response: Response | None, *, title: str | None = None) -> View:
    from imnm.render.activity import activity as render_activity
    from imnm.render.activity import response as render_response
    from imnm.render.charts import activity_chart, chart_data

    spec, lines = render_activity(result)
    notes = [printable(t) for style, t in lines if style != "warn"]
    tis: View | None = None
    if response is not None:
        tspec, tlines = render_response(response)
        tis = {
            "title": tspec.title,
            "headers": list(tspec.headers),
            "rows": [list(r) for r in tspec.rows],
            "lines": [{"style": s, "text": printable(t)} for s, t in tlines if s != "warn"],
        }
    data = chart_data(result, title=title)
    return {
        "title": spec.title if spec else f"{result.patient_id}: disease activity by visit",
        "headers": list(spec.headers) if spec else [],
        "rows": [list(r) for r in spec.rows] if spec else [],
        "notes": notes,
        "chart_svg": activity_chart(data, id_prefix="activity-chart"),
        "treatments": [{"date": m.day.isoformat(), "label": m.label} for m in data.treatments],
        "tis": tis,
        "visits": len(result.visits),
    }


# ---------------------------------------------------------------- trials


def status_text(trial: Any) -> str:
    """The trial's status with the date and source it was seen (`imnm trials` wording), and the
    completion date of a closed trial."""
    from imnm.render.trials import closing_date, status_line

    closed = closing_date(trial)
    return status_line(trial) + (f"; {closed}" if closed else "")


def trials_view(match: TrialMatch) -> View:
    from imnm.render.trials import group_missing, one_line
    from imnm.services.trials import TRIALS_NOTE

    rows = []
    for v in match.verdicts:
        r = v.result
        t = r.trial
        missing = [
            f"{ask}" + (f" ({'; '.join(details)})" if details else "")
            for ask, (details, _crits) in group_missing(r.missing).items()
        ]
        rows.append(
            {
                "id": t.id,
                "name": f"{t.id}{f' {t.acronym}' if t.acronym else ''}"
                + (f" [{r.cohort.label}]" if r.cohort else ""),
                "title": t.title,
                "verdict": words(r.verdict),
                "verdict_id": r.verdict,
                "pending": bool(r.pending),
                "failed": [f"{f.kind} {f.criterion.id}: {one_line(f.criterion.text)}" for f in r.failed],
                "missing": missing,
                "review": len(r.manual_review),
                "status": printable(status_text(t)),
                "open": bool(t.recruiting),
            }
        )
    counts = match.counts()
    return {
        "rows": rows,
        "open_rows": [r for r in rows if r["open"]],
        "closed_rows": [r for r in rows if not r["open"]],
        "counts": counts,
        "window": str(match.settings.screening_window),
        "note": TRIALS_NOTE,
    }
