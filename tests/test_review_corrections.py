"""Issue 9, "corrections from the first review": one test (or a few) per numbered item not covered by
a test of its own elsewhere. Expected values come from the issue text, clinical.md and hand
arithmetic, never from the code under test. All patient data is synthetic.

Items tested elsewhere: 6 (tests/workup/test_interpretation.py: CK fold range without a ULN),
7 (tests/record/test_checks.py), 9, 22, 24 (tests/record, tests/test_cli_errors.py),
12 (tests/trials/test_catalog_verdicts.py, tests/activity/test_core_set.py), 13 (tests/trials/
test_cli_trials.py and here), 14, 16 (tests/trials), 18 (tests/trials/test_import_wordings.py),
19, 20 (tests/screen), 21, 23 (tests/test_newcomer.py, tests/test_cli_output.py).
"""

from __future__ import annotations

import copy
import csv
import io
import itertools
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from imnm import services
from imnm.activity import tis
from imnm.activity.tis import Pair
from imnm.core.truth import Truth
from imnm.record.load import parse_record
from imnm.settings import Settings
from tests.conftest import AS_OF, EXAMPLES, run_cli
from tests.workup import records as R


def _assess(data: dict[str, Any], **choices: str) -> dict[str, Any]:
    s = Settings.parse(choices) if choices else None
    return services.assess(parse_record(data), as_of=AS_OF, settings=s).as_dict()


def _example(name: str) -> dict[str, Any]:
    data = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# ------------------------------------------------------------------ 1. one statin-exposure fact


def test_1_a_statin_in_the_medication_list_is_read_by_the_work_up_and_the_trials() -> None:
    rec = R.e1()
    del rec["exposures"]
    rec["medications"] = [{"name": "atorvastatin", "start": "2023-01-01", "stop": "2026-11-10"}]
    statin = _assess(rec)["statin"]
    assert statin["status"] == "past"
    assert "atorvastatin" in statin["summary"] and "medication list" in statin["summary"]
    assert "not recorded" not in statin["summary"]
    # IMNM01 (NCT04025632) exc-5: statin use within 30 days before baseline. Stopped 15 days before.
    match = services.match_trials(parse_record(rec), as_of=AS_OF, trial_ids=["NCT04025632"])
    exc5 = next(c for c in match.results[0].criteria if c.criterion.id == "exc-5")
    assert exc5.status == "met" and exc5.effect == "failed"


def test_1_red_yeast_rice_in_the_medication_list_counts_as_that_exposure() -> None:
    rec = R.e1()
    rec["medications"] = [{"name": "Red yeast rice", "start": "2025-01-01"}]
    rec["exposures"] = {"statin": "never"}
    assert _assess(rec)["statin"]["red_yeast_rice"] == "current"


# ------------------------------------------------------------------ 2. a biopsy on file


def _texts(a: dict[str, Any]) -> str:
    return json.dumps(a, ensure_ascii=False)


def test_2_a_missing_report_item_is_asked_of_the_existing_biopsy_never_a_new_one() -> None:
    rec = R.n3()  # antibody-negative: ENMC 224 needs the biopsy's inflammation grade
    del rec["biopsy"]["inflammation"]
    rec["mri"] = {"date": "2026-01-05", "edema": True}
    a = _assess(rec)
    tests = [t["test"] for t in a["next_tests"]]
    assert "muscle_biopsy" not in tests
    ask = next(t for t in a["next_tests"] if t["test"] == "biopsy_report")
    assert ask["invasiveness"] == 0 and "ask the pathologist" in ask["why"]
    assert "inflammation" in ask["why"]
    # every unknown biopsy item in the explanations names the report, not a new biopsy
    assert "(test muscle_biopsy)" not in "\n".join(_render(rec))
    mri = a["interpretation"]["mri"]["summary"]
    assert "biopsy site" not in mri and "oedema" in mri.lower()


def test_2_mri_guides_a_biopsy_only_when_none_was_done() -> None:
    rec = R.e1()  # biopsy: performed false
    rec["mri"] = {"date": "2026-01-05", "edema": True}
    assert "helps choose a biopsy site" in _assess(rec)["interpretation"]["mri"]["summary"]


def _render(data: dict[str, Any]) -> list[str]:
    from imnm.render.assess import render

    return [t for _, t in render(services.assess(parse_record(data), as_of=AS_OF))]


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_2_no_record_says_both_no_biopsy_done_and_none_recorded(name: str) -> None:
    text = "\n".join(_render(_example(name))).lower()
    done_none = "no muscle biopsy done" in text or "none done yet" in text
    not_recorded = "not recorded whether a muscle biopsy" in text or "biopsy was done (not recorded)" in text
    assert not (done_none and not_recorded)
    if _example(name).get("biopsy", {}).get("performed") is True:
        assert "a muscle biopsy is needed" not in text and "before a biopsy" not in text


# ------------------------------------------------------------------ 3. EULAR/ACR and IMNM


def test_3_enmc_classifies_but_eular_acr_does_not_and_the_output_says_why() -> None:
    # clinical.md §1.8 E2b: necrosis/regeneration only → 6.4, not IIM; "ENMC still classifies".
    a = _assess(R.e2(perivascular=False))
    assert a["enmc"]["classification"] == "anti_hmgcr_myopathy"
    assert a["eular_acr"]["classified_as_iim"] is False
    flag = next(f for f in a["flags"] if f["id"] == "eular_not_classifiable")
    assert "ENMC 224 is the classification for IMNM" in flag["text"]
    assert "necrosis without inflammation" in flag["text"]
    assert "E2b" in flag["source"] and "clinical.md" in flag["source"]


# ------------------------------------------------------------------ 4. safety before classification


def test_4_dysphagia_and_anti_srp_tests_rank_before_classification_tests() -> None:
    nxt = _assess(_example("anti-srp-dysphagia.yaml"))["next_tests"]
    tiers = [t["tier"] for t in nxt]
    first_other = next(i for i, t in enumerate(tiers) if t != "safety")
    assert all(t != "safety" for t in tiers[first_other:])
    safety = {t["test"] for t in nxt if t["tier"] == "safety"}
    assert {"swallow_assessment", "pulmonary_function", "chest_ct", "ecg", "echocardiogram"} <= safety
    ranks = {t["test"]: t["rank"] for t in nxt}
    assert ranks["swallow_assessment"] < ranks["muscle_biopsy"]


def test_4_breathlessness_brings_lung_tests_first_and_classification_tests_stay_least_invasive_first() -> (
    None
):
    rec = R.n2()
    rec["findings"]["dyspnea"] = True
    nxt = _assess(rec)["next_tests"]
    head = [t["test"] for t in nxt if t["tier"] == "safety"]
    assert {"pulmonary_function", "chest_ct", "swallow_assessment"} <= set(head)
    assert [t["tier"] for t in nxt[: len(head)]] == ["safety"] * len(head)
    cls = [t["invasiveness"] for t in nxt if t["tier"] == "classification"]
    assert cls == sorted(cls)


# ------------------------------------------------------------------ 5. children


def test_5_cancer_screening_is_not_recommended_by_default_when_onset_is_before_18() -> None:
    child = R.e1()
    child["age_at_onset"] = 12
    item = next(w for w in _assess(child)["workup"] if w["id"] == "cancer_screening")
    assert item["status"] == "not_recommended_child"
    assert "adults" in item["why"] and "cancer_screening_children" in item["why"]
    same = _assess(child, cancer_screening_children="same_as_adults")
    assert next(w for w in same["workup"] if w["id"] == "cancer_screening")["status"] == "recommended"
    adult = next(w for w in _assess(R.e1())["workup"] if w["id"] == "cancer_screening")
    assert adult["status"] == "recommended"


# ------------------------------------------------------------------ 8. doses have dates


def test_8_a_dose_is_shown_with_its_start_date_not_as_measured_today() -> None:
    from imnm.facts import RecordFacts

    data = _example("anti-hmgcr.yaml")
    facts = RecordFacts(parse_record(data), as_of=AS_OF)
    (dose,) = facts.get("medication.glucocorticoid.dose") or ()
    assert dose.value == 10 and dose.date is None
    assert dose.note == "prednisone 10 mg/day since 2024-10-01"
    match = services.match_trials(parse_record(data), as_of=AS_OF, trial_ids=["NCT06599697"])
    exc1 = next(c for c in match.results[0].criteria if c.criterion.id == "exc-1")
    assert exc1.outcome is not None
    shown = [str(e) for e in exc1.outcome.all_evidence()]
    assert any("since 2024-10-01" in s for s in shown)
    assert not any(AS_OF.isoformat() in s for s in shown)


# ------------------------------------------------------------------ 10. DOI at exactly 20 %


def _globals_pairs(phys: tuple[float, float]) -> dict[str, Pair | None]:
    """Only the physician global changes; patient global and HAQ improve clearly, MMT unchanged."""
    return {
        "physician_global": Pair(phys[0], phys[1], 0, 10),
        "patient_global": Pair(6.0, 3.0, 0, 10),  # 30 %
        "haq": Pair(2.0, 1.0, 0, 3),  # 33.3 %
        "mmt": Pair(60, 60, 0, 80),
        "muscle_enzyme": Pair(1000, 1000),
        "extramuscular_global": Pair(1.0, 1.0, 0, 10),
    }


@pytest.mark.parametrize(
    ("phys", "improved"),
    [((4.1, 2.1), True), ((4.1, 2.11), False), ((5.0, 3.0), True), ((2.3, 0.3), True)],
)
def test_10_imacs_improvement_counts_exactly_20_percent(phys: tuple[float, float], improved: bool) -> None:
    # (4.1 − 2.1) / 10 × 100 = 20 % exactly (in floating point 19.999999999999996)
    r = tis.score(_globals_pairs(phys), population="adult")
    assert ("physician_global" in r.doi.improved) is improved
    assert r.doi.truth is (Truth.MET if improved else Truth.NOT_MET)


@pytest.mark.parametrize(("follow", "worse"), [(4.6, True), (4.59, False)])
def test_10_the_worsening_clause_counts_exactly_25_percent(follow: float, worse: bool) -> None:
    # extramuscular global 2.1 → 4.6 cm: −2.5 / 10 × 100 = −25 % exactly (float: −24.999999999999996)
    pairs = _globals_pairs((5.0, 3.0))
    pairs["extramuscular_global"] = Pair(2.1, follow, 0, 10)
    r = tis.score(pairs, population="adult", worsening_clause=True)
    assert ("extramuscular_global" in r.doi.worsened) is worse


BOUNDED = {"physician_global": 10.0, "patient_global": 10.0, "extramuscular_global": 10.0, "haq": 3.0}


@pytest.mark.parametrize("mid", sorted(BOUNDED))
def test_10_every_tis_band_edge_is_inclusive_in_both_directions(mid: str) -> None:
    """A change of exactly an upper band edge, reached by float arithmetic from a real baseline, lands
    in the band it closes; 0.1 point more lands in the next band; a worsening scores 0 [S50]."""
    top = BOUNDED[mid]
    bands = next(m for m in tis.table()["measures"] if m["id"] == mid)["bands"]
    for band, nxt in itertools.pairwise(bands):
        edge = band["up_to_percent"]
        for base in (top * 0.73, top * 0.91):
            drop = edge / 100 * top
            pct = tis.range_normalised_relative_enzyme(mid, Pair(base, base - drop, 0, top))
            assert pct is not None
            assert tis.points_for(mid, pct)[0] == band["points"], (mid, edge, base, pct)
            more = tis.range_normalised_relative_enzyme(mid, Pair(base, base - drop - top / 1000, 0, top))
            assert more is not None and tis.points_for(mid, more)[0] == nxt["points"]
        worse = tis.range_normalised_relative_enzyme(mid, Pair(top * 0.5, top * 0.5 + top / 4, 0, top))
        assert worse is not None and tis.points_for(mid, worse)[0] == 0


# ------------------------------------------------------------------ 11. HAQ aids


def _haq(**cats: dict[str, Any]) -> Any:
    from imnm.instruments import haq
    from imnm.instruments.core_set import HaqItems

    base = {c: {"items": [1]} for c in haq.CATEGORIES}
    base.update(cats)
    return haq.score(HaqItems.model_validate(base))


def test_11_a_device_raises_only_the_category_the_haq_maps_it_to() -> None:
    # all categories 1; a cane raises walking to 2 → (7 × 1 + 2) / 8 = 1.125
    assert _haq(walking={"items": [1], "aids": ["cane"]}).value == 1.125
    # help from another person raises any category, including activities (no device belongs there)
    assert _haq(activities={"items": [1], "help": True}).value == 1.125


@pytest.mark.parametrize(
    ("cat", "answers", "message"),
    [
        ("dressing", {"items": [1], "aids": ["cane"]}, "a HAQ aid for 'walking'"),
        ("activities", {"items": [1], "aids": True}, "no aid or device belongs"),
        ("grip", {"items": [1], "aids": ["tin opener"]}, "not an aid or device of the HAQ"),
    ],
)
def test_11_an_aid_in_the_wrong_category_is_an_error(cat: str, answers: dict[str, Any], message: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message):
        _haq(**{cat: answers})


def test_11_the_device_table_matches_clinical_md() -> None:
    """clinical.md §4.2 lists the HAQ aids and devices by category [S65] ("special/built-up chair" is
    two devices)."""
    import re

    from imnm.instruments.core_set import haq_devices
    from tests.shared import shared

    text = shared("knowledge", "clinical.md").read_text(encoding="utf-8")
    line = " ".join(text.split("Device ↔ category mapping", 1)[1].split("* Example", 1)[0].split())
    expected: dict[str, set[str]] = {}
    for part in line.split(":", 1)[1].split(";"):
        cat, _, devices = part.strip().rstrip(".").partition(" — ")
        names: set[str] = set()
        for d in devices.split(","):
            m = re.fullmatch(r"(\S+)/(\S+) (.+)", d.strip())
            names |= {f"{m[1]} {m[3]}", f"{m[2]} {m[3]}"} if m else {d.strip()}
        expected[cat.strip()] = names
    got = {c: set(ds) for c, ds in haq_devices().items() if ds}
    assert got == expected


def test_11_the_worked_example_of_clinical_md() -> None:
    # clinical.md §4.2: highest items 1 (dressing, button hook → 2), 2, 0, 1 (cane → 2), 1, 2, 0,
    # activities unanswered → (2+2+0+2+1+2+0)/7 = 1.29
    from imnm.instruments import haq
    from imnm.instruments.core_set import HaqItems

    answers = {
        "dressing": {"items": [1], "aids": ["button hook"]},
        "arising": {"items": [2]},
        "eating": {"items": [0]},
        "walking": {"items": [1], "aids": ["cane"]},
        "hygiene": {"items": [1]},
        "reach": {"items": [2]},
        "grip": {"items": [0]},
    }
    assert round(haq.score(HaqItems.model_validate(answers)).value or 0, 2) == 1.29


# ------------------------------------------------------------------ 13. ranking, on the bundled example


def test_13_might_ranks_above_every_closed_rollover_and_partial_trial_for_the_anti_hmgcr_example() -> None:
    match = services.match_trials(parse_record(_example("anti-hmgcr.yaml")), as_of=AS_OF)
    order = [v.result for v in match.verdicts]
    might = next(i for i, r in enumerate(order) if r.trial.id == "NCT06599697")
    for r in order[:might]:
        assert r.trial.source.completeness == "complete" and r.group == "open"
        assert "rollover" not in (r.trial.title or "").lower()
    assert order[might].verdict != "ineligible"


def test_13_with_prednisone_40_mg_now_might_is_ineligible_on_exc_1() -> None:
    data = copy.deepcopy(_example("anti-hmgcr.yaml"))
    data["medications"] = [{"name": "prednisone", "dose_mg_per_day": 40, "start": "2024-04-10"}]
    match = services.match_trials(parse_record(data), as_of=AS_OF, trial_ids=["NCT06599697"])
    assert match.results[0].verdict == "ineligible"
    assert [c.criterion.id for c in match.results[0].failed] == ["exc-1"]


# ------------------------------------------------------------------ 15. the baseline checklist


@pytest.mark.parametrize(
    ("biopsy", "shown"),
    [
        ({"performed": True, "date": "2025-03-01", "necrotic_fibers": "scattered"}, "on file (2025-03-01)"),
        ({"performed": False}, "recorded as not done"),
        (None, "not recorded"),
    ],
)
def test_15_the_checklist_never_shows_an_unknown_as_no(biopsy: dict[str, Any] | None, shown: str) -> None:
    from imnm.trials.checklist import criterion_assessments
    from imnm.trials.load import catalog

    rec = R.n3()
    if biopsy is None:
        del rec["biopsy"]
    else:
        rec["biopsy"] = biopsy
    trial = next(t for t in catalog() if any("biopsy" in criterion_assessments(c) for c in t.all_criteria()))
    match = services.match_trials(parse_record(rec), as_of=AS_OF, trial_ids=[trial.id])
    item = next(i for v in match.verdicts for i in v.checklist if i.assessment == "biopsy")
    assert item.shown() == shown
    from imnm.render.trials import render

    text = "\n".join(t for _, t in render(match))
    assert f"muscle biopsy: {shown}" in text
    assert ": no;" not in text and ": no\n" not in text and not text.rstrip().endswith(": no")


# ------------------------------------------------------------------ 17. many patients at once


def test_17_assess_a_folder_gives_one_line_per_patient(tmp_path: Path) -> None:
    names = sorted(p.name for p in EXAMPLES.glob("*.yaml"))
    r = run_cli("assess", str(EXAMPLES), "--json", "--as-of", AS_OF.isoformat())
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [Path(p["file"]).name for p in out["patients"]] == names
    assert out["summary"] == {"patients": len(names), "ok": len(names), "errors": 0}
    hmgcr = next(p for p in out["patients"] if p["file"].endswith("anti-hmgcr.yaml"))
    assert hmgcr["enmc_224"] == "anti_hmgcr_myopathy" and hmgcr["eular_acr_category"] == "probable"
    text = run_cli("assess", str(EXAMPLES / "anti-hmgcr.yaml"), str(EXAMPLES / "dermatomyositis.yaml"))
    assert text.returncode == 0
    assert "anti_hmgcr_myopathy" in text.stdout and "2 patient(s): 2 evaluated" in text.stdout


def test_17_trials_csv_and_a_bad_file_does_not_stop_the_batch(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nsex: woman\n", encoding="utf-8")
    good = EXAMPLES / "anti-hmgcr.yaml"
    r = run_cli("trials", str(good), str(bad), "--csv", "--as-of", AS_OF.isoformat())
    assert r.returncode == 2
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [row["status"] for row in rows] == ["ok", "error"]
    assert rows[0]["best_open_trial"] == "NCT06599697"
    assert "sex" in rows[1]["problems"] and "woman" in rows[1]["problems"]
    assert int(rows[0]["eligible"]) + int(rows[0]["needs_information"]) + int(rows[0]["ineligible"]) >= 20


@pytest.mark.parametrize(
    ("biopsy_date", "test"),
    [("2024-04-02", "muscle_biopsy"), ("2026-10-15", "biopsy_report")],
)
def test_2_a_report_question_only_when_the_biopsy_on_file_is_inside_the_rule_window(
    biopsy_date: str, test: str
) -> None:
    """ALKIVIA inc-4 wants a biopsy of the past 3 months: an old biopsy cannot answer it (a new one is
    needed); a recent one whose report lacks the item is asked of the pathologist."""
    data = copy.deepcopy(_example("anti-hmgcr.yaml"))
    data["biopsy"] = {"performed": True, "date": biopsy_date, "site": "deltoid"}  # no findings recorded
    match = services.match_trials(parse_record(data), as_of=AS_OF, trial_ids=["NCT05523167"])
    inc4 = next(c for c in match.results[0].criteria if c.criterion.id == "inc-4")
    biopsy_tests = {m.test for m in inc4.missing if m.fact.startswith("biopsy.")}
    assert biopsy_tests == {test}


# ------------------------------------------------------------------ unknown is a value: derived events


def _partial_medication_list() -> dict[str, Any]:
    """A medication list known complete only up to 2026-06-01 (coverage), evaluated on 2026-11-25."""
    data = copy.deepcopy(_example("anti-hmgcr.yaml"))
    data["medications"] = [
        {"name": "prednisone", "dose_mg_per_day": 20, "start": "2025-01-01", "stop": "2026-03-01"}
    ]
    data["coverage"] = {"medications": [{"start": "2020-01-01", "end": "2026-06-01"}]}
    del data["exposures"]
    return data


def test_derived_event_facts_inherit_the_medication_lists_coverage() -> None:
    from imnm.facts import RecordFacts

    facts = RecordFacts(parse_record(_partial_medication_list()), as_of=AS_OF)
    assert facts.coverage("medication.glucocorticoid") == ((date(2020, 1, 1), date(2026, 6, 1)),)
    assert facts.coverage("medication.glucocorticoid.start") == facts.coverage("medication.glucocorticoid")
    assert facts.coverage("exposure.statin") == facts.coverage("medication.statin")
    # IMNM01 exc-5: statin use within 30 days before baseline. The list says nothing after June: unknown.
    match = services.match_trials(
        parse_record(_partial_medication_list()), as_of=AS_OF, trial_ids=["NCT04025632"]
    )
    exc5 = next(c for c in match.results[0].criteria if c.criterion.id == "exc-5")
    assert exc5.status == "unknown"


def test_no_current_course_on_an_incomplete_list_is_an_unknown_dose_not_zero() -> None:
    from imnm.facts import RecordFacts

    facts = RecordFacts(parse_record(_partial_medication_list()), as_of=AS_OF)
    assert facts.get("medication.glucocorticoid.dose") is None
    assert facts.get("medication.glucocorticoid.weeks_on") is None
    full = _partial_medication_list()
    del full["coverage"]  # a list without coverage periods is complete at all times
    assert [
        o.value
        for o in RecordFacts(parse_record(full), as_of=AS_OF).get("medication.glucocorticoid.dose") or ()
    ] == [0.0]
