"""Text rendering of an assessment (`imnm assess`): every section, every criterion with its status,
evidence and source.

`render(assessment)` returns (style, text) lines (see `imnm.render`); the CLI styles them with rich,
`Assessment.explain()` joins the plain text, the web pages and reports reuse the wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from imnm.core.evaluate import Outcome
from imnm.render import Line
from imnm.workup.results import AntibodyResult, CkRow, CkTrend

if TYPE_CHECKING:
    from imnm.workup.assess import Assessment

_MARK = {"met": "✔", "not_met": "✘", "unknown": "?", "present": "✔", "absent": "✘"}


def ck_value_text(row: CkRow) -> str:
    """'8000 U/L (ULN 200)'."""
    uln = f"{row['uln']:g}" if row["uln"] is not None else "?"
    value = f"{row['value']:g}" if isinstance(row["value"], float | int) else str(row["value"])
    return f"{value} {row['unit']} (ULN {uln})"


def ck_fold_text(row: CkRow) -> str:
    """'40 × ULN', a range when the ULN was not reported, or 'fold unknown (no ULN)'."""
    if row["fold"] is not None:
        return f"{row['fold']:g} × ULN"
    if row["fold_min"] is not None and row["fold_max"] is not None:
        return f"{row['fold_min']:g}–{row['fold_max']:g} × ULN (ULN not reported)"
    return "fold unknown (no ULN)"


def trend_text(tr: CkTrend) -> str:
    """'trend (fold over ULN): 2024-03-01→2024-04-10 stable (+14.3 %), ...'."""
    return f"trend ({tr['measure']}): " + ", ".join(
        f"{s['from']}→{s['to']} {s['direction']} ({s['change_percent']:+g} %)" for s in tr["steps"]
    )


def antibody_text(ab: AntibodyResult) -> str:
    """'anti-HMGCR positive by ELISA 180 U; strength strong (...)' with its notes."""
    val = f" {ab['value']:g} {ab['unit'] or ''}".rstrip() if ab["value"] is not None else ""
    band = f", band {ab['band']}" if ab["band"] else ""
    strength = f"; strength {ab['strength']} ({ab['strength_basis']})" if ab["strength"] else ""
    return (
        f"anti-{ab['target']} {ab['result']} by {ab['method'] or 'method not recorded'}{val}{band}{strength}"
        + "".join(f"; {n}" for n in ab["notes"])
    )


def eular_summary(ud: Mapping[str, Any]) -> str:
    """The one-line EULAR/ACR summary: version, score (range), probability, category (range), classified, subgroup."""
    rng = f" (range {ud['score_min']:g}–{ud['score_max']:g})" if ud["score_min"] != ud["score_max"] else ""
    cat_rng = (
        f" (range {ud['category_min']}–{ud['category_max']})"
        if ud["category_min"] != ud["category_max"]
        else ""
    )
    prob = f", probability {ud['probability']:g} %" if ud["probability"] is not None else ""
    return (
        f"EULAR/ACR 2017 ({ud['version'].replace('_', ' ')}): score {ud['score']:g}{rng}{prob}, category {ud['category']}{cat_rng}; "
        f"classified as IIM: {ud['classified_as_iim']}; subgroup: {ud['subgroup'] or '—'}"
    )


def _outcome_lines(o: Outcome, indent: int = 1, depth: int = 99) -> list[Line]:
    """One line per node (status, text), its evidence and, for unknown leaves, what settles it."""
    pad = "  " * indent
    lines: list[Line] = [("text", f"{pad}{o.truth.symbol} {o.text} → {o.truth.value}")]
    seen: set[str] = set()
    for e in o.evidence:
        if str(e) not in seen:
            seen.add(str(e))
            lines.append(("dim", f"{pad}    · {e}"))
    if not o.children:
        for m in o.missing:
            lines.append(("dim", f"{pad}    ? needs {m.ask} (test {m.test})"))
    if depth > 0:
        for c in o.children:
            lines.extend(_outcome_lines(c, indent + 1, depth - 1))
    return lines


def render(a: Assessment) -> list[Line]:
    out: list[Line] = []

    def h1(t: str) -> None:
        out.append(("h1", t))

    def h2(t: str) -> None:
        out.append(("h2", t))

    def tx(t: str) -> None:
        out.append(("text", t))

    def dim(t: str) -> None:
        out.append(("dim", t))

    e, u, it = a.enmc, a.eular, a.interpretation
    ud = u.as_dict()

    h1(f"IMNM work-up: {a.record_id} (as of {a.as_of.isoformat()})")
    out.append(("warn", a.as_dict()["disclaimer"]))

    h2("Summary")
    tx(f"ENMC 224: {e.classification} — {e.message}")
    rng = f" (range {ud['score_min']:g}–{ud['score_max']:g})" if ud["score_min"] != ud["score_max"] else ""
    cat_rng = (
        f" (range {ud['category_min']}–{ud['category_max']})"
        if ud["category_min"] != ud["category_max"]
        else ""
    )
    tx(eular_summary(ud))

    h2("1. Test interpretation")
    ck = it["ck"]
    tx(ck["summary"])
    for row in ck["results"]:
        dim(f"  {row['date'] or 'undated'}: {ck_value_text(row)} = {ck_fold_text(row)} [{row['source']}]")
    tr = ck["trend"]
    if tr:
        dim("  " + trend_text(tr))
    context = ck.get("context")
    if context:
        dim("  " + context)
    for target, st in it["antibodies"]["targets"].items():
        tx(
            f"Anti-{target}: {st['status'] or 'not tested'} — {st['meaning']}"
            + ("".join(f"; {n}" for n in st["notes"]))
        )
    for ab in it["antibodies"]["results"]:
        dim(f"  {ab['source']}: {antibody_text(ab)}")
    em = it["emg"]
    tx(
        "EMG: "
        + em["summary"]
        + (f" Does not tell: {em['does_not_tell']}" if em.get("does_not_tell") else "")
    )
    for n in em.get("notes", []):
        dim("  " + n)
    bx = it["biopsy"]
    tx("Muscle biopsy: " + bx["summary"])
    for p in bx.get("patterns", []):
        dim(
            f"  {_MARK[p['truth']]} {p['label']} → {p['truth']}"
            + (f" ({p['meaning']})" if p["truth"] == "met" else "")
            + f" {p['source']}"
        )
    mr = it["mri"]
    tx("MRI: " + mr["summary"])

    h2("2. ENMC 224 IMNM classification (criteria ⚠️: ENMC wording not verified)")
    tx(f"Result: {e.classification} ({e.status}). {e.message}")
    if e.biopsy_note:
        dim("  " + e.biopsy_note)
    out.extend(_outcome_lines(e.outcomes["clinical"]))
    out.extend(_outcome_lines(e.outcomes["biopsy_compatible"]))
    for name in ("anti_hmgcr_myopathy", "anti_srp_myopathy", "antibody_negative_imnm"):
        out.extend(_outcome_lines(e.outcomes[name], depth=1))
    if e.missing:
        tx("To settle it:")
        for m in e.missing:
            tx(f"  • {m.label} ← {m.ask} (test {m.test})")
    dim("  Choices: " + ", ".join(e.choices))

    h2("3. 2017 EULAR/ACR classification criteria for IIM")
    tx(
        f"Version: {ud['version'].replace('_', ' ')} (biopsy {ud['biopsy_status'].replace('_', ' ')})"
        + (f". {ud['version_note']}" if ud["version_note"] else "")
    )
    for item in ud["items"]:
        if not item["scored"]:
            continue
        weight = f"{item['weight']:g}"
        line = f"  {_MARK[item['status']]} {item['number']:>3} {item['label']} [{weight}] → {item['status']} {item['source']}"
        if item["could_change_category"]:
            line += " (could change the category)"
        tx(line)
        for ev in dict.fromkeys(item["evidence"]):
            dim(f"        · {ev}")
        for m in item["missing"]:
            dim(f"        ? needs {m['ask']} (test {m['test']})")
    tx(
        f"Score {ud['score']:g}"
        + (f", range {ud['score_min']:g}–{ud['score_max']:g}" if rng else "")
        + (
            f"; probability {ud['probability']:g} %"
            + (f" ({ud['probability_min']:g}–{ud['probability_max']:g} %)" if rng else "")
            if ud["probability"] is not None
            else ""
        )
    )
    dim("  " + ud["probability_note"])
    tx(
        f"Category ({ud['category_basis']} cut-offs): {ud['category']}"
        + (f", range {ud['category_min']}–{ud['category_max']}" if cat_rng else "")
    )
    for d in ud["category_disagreements"]:
        out.append(
            (
                "warn",
                f"  ❗ score {d['score']:g}: {d['by_score']} by score, {d['by_probability']} by probability ({d['probability']:g} %); used {d['used']}",
            )
        )
    if ud["unknown_items_that_could_change_category"]:
        tx(
            "Unknown items that could change the category: "
            + ", ".join(ud["unknown_items_that_could_change_category"])
        )
    sr = ud["skin_or_biopsy_rule"]
    tx(f"Skin-or-biopsy rule ({sr['reading']}): {sr['truth']} — {sr['text']}")
    tx(f"Classified as IIM (minimum {ud['classification_minimum']}): {ud['classified_as_iim']}")
    tx(f"Subgroup: {ud['subgroup'] or '—'}" + (f" ({ud['subgroup_note']})" if ud["subgroup_note"] else ""))
    dim("  Choices: " + ", ".join(ud["choices"]))

    h2("4. Mimics")
    for mim in a.mimics:
        tx(f"{mim['label']}: {mim['verdict'].replace('_', ' ')}")
        for feat in mim["features_for_mimic"]:
            if feat["truth"] != "not_met":
                dim(
                    f"  {_MARK[feat['truth']]} for the mimic: {feat['text']}"
                    + (f" (needs {', '.join(feat['missing_tests'])})" if feat["missing_tests"] else "")
                )
        for feat in mim["features_for_imnm"]:
            if feat["truth"] == "met":
                dim(f"  ✔ for IMNM: {feat['text']}")

    h2("5. Extramuscular and safety work-up")
    for w in a.workup:
        tx(
            f"{w['id'].replace('_', ' ')}: {w['status'].replace('_', ' ')} — {w['why']}"
            + (f" Tests: {', '.join(w['tests'])}." if w["tests"] else "")
        )
        if w["id"] == "cancer_screening" and w["status"] != "not_flagged":
            for ev in w["evidence"]:
                dim("  · " + ev)
    tx("Statin: " + a.statin["summary"])
    review = a.statin["clinician_review"]
    if review:
        out.append(("warn", "  " + review))
    for n in a.statin["notes"]:
        dim("  · " + n)

    h2("Flags")
    if not a.flags:
        tx("  ! none")
    for flag in a.flags:
        tx(f"  ! {flag['text']}" + (f" [{flag['source']}]" if flag["source"] else ""))

    h2("6. Next tests (most informative and least invasive first)")
    if not a.next_tests:
        tx("  none")
    for test in a.next_tests:
        changes = f" — could change: {', '.join(test['could_change'])}" if test["could_change"] else ""
        tx(f"  {test['rank']}. {test['name']} (invasiveness {test['invasiveness']}, {test['tier']}){changes}")
        dim(f"     {test['why']}")

    if a.overrides:
        h2("Values accepted although implausible (record overrides)")
        for note in a.overrides:
            out.append(("warn", "  " + note))

    h2("Choices used")
    for choice in a.settings.choices_used():
        flag_default = "" if choice["default"] else "  (not the default)"
        dim(f"  {choice['table']}.{choice['choice']} {choice['mark']} = {choice['value']}{flag_default}")
    h2("Sources")
    for src in a.sources:
        dim("  " + src)
    return out
