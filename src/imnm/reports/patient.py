"""The patient summary's view: plain language only (Flesch–Kincaid grade ≤ 8, tested), large type.

Every sentence comes from a knowledge table: `screener.yaml` (levels, reasons, notes, specialists),
`tests.yaml` (each test's plain name and what it is like) and `patient_summary.yaml` (headings,
questions to ask, when to get care at once, and the results a clinician chose to share). Nothing
here tells anyone to stop a medicine; the summary always says never to stop one without the
prescriber.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from imnm.reports.views import View

if TYPE_CHECKING:
    from imnm.services.activity import Activity
    from imnm.services.screen import Screening
    from imnm.services.trials import TrialMatch
    from imnm.workup.assess import Assessment

SHARE_OPTIONS = ("results", "diagnosis", "trials")
DEFAULT_SHARE = ("results",)
MAX_TESTS = 6  # the most informative next tests (the work-up ranks them); the rest are said to exist


def texts() -> dict[str, Any]:
    from imnm import knowledge

    return knowledge.load("patient_summary")


def _questions(*, statin: bool, trials: bool, record: bool) -> list[str]:
    when = {"statin": statin, "trials": trials, "record": record}
    return [q["text"] for q in texts()["questions"] if when.get(q.get("when", ""), True)]


def _care_now() -> View:
    t = texts()
    return {"intro": t["texts"]["care_now_intro"], "items": list(t["care_now"]), "emergency": t["emergency"]}


def screening_view(screening: Screening, *, as_of: date) -> View:
    """The summary of a screener result (the person's own answers)."""
    from imnm.render.screen import result_view

    t = texts()["texts"]
    r = result_view(screening.result, screening.screener)
    answers = screening.result.answers
    statin = answers.statin in ("current", "past") or answers.red_yeast_rice in ("current", "past")
    emergency = texts()["emergency"]
    notes = [n for n in r["notes"] if n != emergency]  # the emergency line is in the care-now box
    if t["medicine"] not in notes:
        notes.append(t["medicine"])
    return {
        "kind": "screener",
        "title": t["title_screener"],
        "prepared": f"{t['prepared']} {as_of.isoformat()}",
        "for": None,
        "intro": t["intro_screener_carer"] if screening.result.carer else t["intro_screener"],
        "level": {
            "id": r["level"],
            "urgent": r["urgent"],
            "title": r["title"],
            "advice": r["advice"],
            "prefix": r["texts"]["urgent_prefix"] if r["urgent"] else None,
            "carer_note": r["carer_note"],
            "possible": (
                f"{r['texts']['possible_level']} {r['possible_level']}." if r["possible_level"] else None
            ),
        },
        "reasons": [x["text"] for x in r["reasons"]],
        "open_questions": [u["question"] for u in r["unanswered"]],
        "results": [],
        "diagnosis": None,
        "tests": [{"name": x["name"], "description": x["description"]} for x in r["tests"]],
        "tests_heading": t["tests_heading"],
        "no_tests": t["no_next_tests"],
        "more_tests": None,
        "specialists": r["specialists"],
        "specialists_intro": r["texts"]["specialists_intro"],
        "questions": _questions(statin=statin, trials=False, record=False),
        "care_now": _care_now(),
        "trials": None,
        "notes": notes,
        "disclaimer": r["disclaimer"],
        "texts": t,
    }


def _fmt(x: float) -> str:
    return f"{x:.0f}" if x >= 10 else f"{x:.1f}".removesuffix(".0")


def _results(a: Assessment, act: Activity | None) -> list[str]:
    from imnm import knowledge

    res = texts()["results"]
    it = a.interpretation
    out: list[str] = []
    ck = it["ck"]
    rows = [r for r in ck["results"] if r["date"] is not None] or list(ck["results"])
    if not rows:
        out.append(res["ck_none"])
    else:
        last = rows[-1]
        if last["fold"] is None:
            out.append(res["ck_no_limit"])
        elif last["fold"] <= 1:
            out.append(res["ck_normal"])
        else:
            out.append(res["ck_high"].format(fold=_fmt(last["fold"])))
        trend = ck["trend"]
        if trend and len(rows) > 1:
            key = {"falling": "ck_falling", "rising": "ck_rising"}.get(trend["overall"], "ck_stable")
            out.append(res[key])
    plain = {t["id"]: t["plain_name"] for t in knowledge.load("tests")["tests"]}
    for target, test_id in (("HMGCR", "anti_hmgcr"), ("SRP", "anti_srp")):
        st = it["antibodies"]["targets"].get(target)
        name = plain.get(test_id, f"{target} antibody blood test")
        status = st["status"] if st else None
        if status == "positive" and st is not None and st["confirmed_positive"]:
            out.append(res["antibody_positive"].format(name=name))
        elif status == "negative":
            out.append(res["antibody_negative"].format(name=name))
        elif status is None:
            out.append(res["antibody_none"].format(name=name))
        else:
            out.append(res["antibody_unclear"].format(name=name))
    for key, done in (("emg", "emg_done"), ("mri", "mri_done"), ("biopsy", "biopsy_done")):
        if it[key]["status"] in ("known", "performed"):  # type: ignore[literal-required]
            out.append(res[done])
    if act is not None:
        pts = [
            (v.mmt.total, v.mmt.scale) for v in act.visits if v.mmt is not None and v.mmt.total is not None
        ]
        if len(pts) >= 2 and pts[0][1] == pts[-1][1]:
            out.append(res["strength"].format(first=_fmt(pts[0][0]), last=_fmt(pts[-1][0]), scale=pts[-1][1]))
        elif pts:
            out.append(res["strength_one"].format(last=_fmt(pts[-1][0]), scale=pts[-1][1]))
    return out


def record_view(
    a: Assessment,
    *,
    activity: Activity | None,
    match: TrialMatch | None,
    share: tuple[str, ...],
    patient_id: str,
) -> View:
    """The summary a clinician hands a patient: the shared results, the next tests and what each is
    like, questions to ask, when to get care at once."""
    data = texts()
    t = data["texts"]
    statin = a.statin["status"] in ("current", "past")
    trials: View | None = None
    if "trials" in share and match is not None:
        open_ = [v.result.verdict for v in match.verdicts if v.result.trial.recruiting]  # open trials only
        eligible, maybe = open_.count("eligible"), open_.count("needs_information")
        if eligible:
            line = data["trials"]["eligible"].format(n=eligible)
        elif maybe:
            line = data["trials"]["needs_information"].format(n=maybe)
        else:
            line = data["trials"]["none"]
        trials = {"lines": [line, data["trials"]["ask"]]}
    diagnosis = None
    if "diagnosis" in share:
        diagnosis = data["diagnosis"].get(a.enmc.classification, data["diagnosis"]["unknown"])
    tests = [
        {"name": x["plain_name"], "description": x["plain_description"]} for x in a.next_tests[:MAX_TESTS]
    ]
    from imnm.screen.screener import load_screener

    s = load_screener()
    return {
        "kind": "record",
        "title": t["title_record"],
        "prepared": f"{t['prepared']} {a.as_of.isoformat()}",
        "for": patient_id,
        "intro": t["intro_record"],
        "level": None,
        "reasons": [],
        "open_questions": [],
        "results": _results(a, activity) if "results" in share else [],
        "diagnosis": diagnosis,
        "tests": tests,
        "tests_heading": t["next_tests_heading"],
        "no_tests": t["no_next_tests"],
        "more_tests": t["more_tests"] if len(a.next_tests) > MAX_TESTS else None,
        "specialists": [],
        "specialists_intro": s.texts["specialists_intro"],
        "questions": _questions(statin=statin, trials=trials is not None, record=True),
        "care_now": _care_now(),
        "trials": trials,
        "notes": [t["medicine"]],
        "disclaimer": s.texts["disclaimer"],
        "texts": t,
    }
