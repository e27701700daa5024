"""The trials of trials-2026.md (issue 16 item 4) and the predicates they need.

Each trial comes out eligible, ineligible for the reason its text gives, and needs_information, with
the expectations worked out by hand from the criteria as the research notes give them
(../shared/knowledge/trials-2026.md), not from the code. Manual items are reviewed in the patient's
favour for the eligible cases (`review_all(..., record=...)`: what the tool asks a person about).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from imnm.trials.load import catalog
from tests.shared import shared
from tests.trials.patients import AS_OF, DROP, failed_ids, imnm_patient, one, review_all, with_

NEW = ("NCT07103746", "NCT06665256", "NCT06569472", "NCT05832034")


def test_every_new_trial_is_in_the_catalog_with_its_source() -> None:
    notes = shared("knowledge", "trials-2026.md").read_text(encoding="utf-8")
    by_id = {t.id: t for t in catalog()}
    for nct in NEW:
        assert f"**{nct}**" in notes  # the trial is in the research notes
        t = by_id[nct]
        assert t.source.reference == f"trials-2026.md ({nct})"
        # the notes summarise the posted criteria: none of the texts claims to be registry wording
        assert all(not c.verbatim for c in t.all_criteria())
        # the source URLs are those the notes give (the notes cut some with "…": the prefix is kept)
        assert any(u.rstrip("/") in notes for u in t.source.registry_urls)


def _early(data: dict[str, Any]) -> dict[str, Any]:
    """Weakness first found 2026-03-15; a normal CK (150, ULN 200) on 2026-01-10 before the high one."""
    out = with_(data, "weakness_onset", "2026-03-15")
    out["labs"].insert(0, {"test": "ck", "value": 150, "unit": "U/L", "uln": 200, "date": "2026-01-10"})
    return out


PRED = {"name": "prednisone", "dose_mg_per_day": 10, "start": "2026-06-01"}
MTX = {"name": "methotrexate", "dose_mg_per_week": 15, "start": "2026-06-15"}


def _meds(data: dict[str, Any], *meds: dict[str, Any]) -> dict[str, Any]:
    return with_(data, "medications", list(meds))


def _verdict(trial: str, data: dict[str, Any], *, reviewed: bool = True) -> Any:
    reviews = review_all(trial, record=data) if reviewed else None
    return one(data, trial, reviews=reviews)


# ---------------------------------------------------------------- NCT07103746 (IMNM only, early disease)

EARLY = _early(imnm_patient())

NCT07103746_CASES: list[tuple[str, dict[str, Any], str, set[str], set[str]]] = [
    # adult anti-HMGCR IMNM, onset (weakness 2026-03-15; CK rise after 2026-01-10) < 1 year, MMT-8 120/150,
    # CK 30 x ULN, PhGA 5 cm, methotrexate 15 mg/week for 23 weeks, prednisone 10 mg/day since June
    ("eligible", EARLY, "eligible", set(), set()),
    # "Exactly one background immunosuppressant": methotrexate and azathioprine together
    (
        "two immunosuppressants",
        _meds(EARLY, PRED, MTX, {"name": "azathioprine", "dose_mg_per_day": 100, "start": "2026-06-15"}),
        "ineligible",
        {"inc-5"},
        set(),
    ),
    # "methotrexate ≤25 mg/wk"
    (
        "methotrexate 30 mg/week",
        _meds(EARLY, PRED, dict(MTX, dose_mg_per_week=30)),
        "ineligible",
        {"inc-5"},
        set(),
    ),
    # "azathioprine ≤2.5 mg/kg/d": 200 mg/day for 70 kg = 2.86 mg/kg/day
    (
        "azathioprine 200 mg/day at 70 kg",
        _meds(EARLY, PRED, {"name": "azathioprine", "dose_mg_per_day": 200, "start": "2026-06-15"}),
        "ineligible",
        {"inc-5"},
        set(),
    ),
    # 150 mg/day for 70 kg = 2.14 mg/kg/day: within the limit
    (
        "azathioprine 150 mg/day at 70 kg",
        _meds(EARLY, PRED, {"name": "azathioprine", "dose_mg_per_day": 150, "start": "2026-06-15"}),
        "eligible",
        set(),
        set(),
    ),
    # "tacrolimus ≤0.2 mg/kg/d", prescribed per kg
    (
        "tacrolimus 0.25 mg/kg/day",
        _meds(EARLY, PRED, {"name": "tacrolimus", "dose_mg_per_kg_per_day": 0.25, "start": "2026-06-15"}),
        "ineligible",
        {"inc-5"},
        set(),
    ),
    # "type stable ≥12 wk": methotrexate started 2026-10-01, 8 weeks before
    (
        "methotrexate for 8 weeks",
        _meds(EARLY, PRED, dict(MTX, start="2026-09-30")),
        "ineligible",
        {"inc-5"},
        set(),
    ),
    # "Prednisone ≤20 mg/d"
    (
        "prednisone 30 mg/day",
        _meds(EARLY, dict(PRED, dose_mg_per_day=30), MTX),
        "ineligible",
        {"inc-6"},
        set(),
    ),
    # "onset ... within 1 year of consent": weakness since 2025-06-01 (almost 18 months)
    (
        "weakness since 2025-06-01",
        with_(EARLY, "weakness_onset", "2025-06-01"),
        "ineligible",
        {"inc-3"},
        set(),
    ),
    # "Age ≥18 at onset": symptoms began at 17; the 2017 EULAR/ACR score then has no age-at-onset points
    # (2.1 for onset at 40 or later, 1.3 at 18-39, none before 18), so "Definite/probable IIM" fails too
    (
        "onset at 17",
        with_(with_(EARLY, "birth_date", "2008-06-01"), "symptom_onset", "2026-03-01"),
        "ineligible",
        {"inc-1", "inc-2"},
        set(),
    ),
    # a weight-based dose without a body weight: the weight is asked for
    (
        "azathioprine mg/day, no weight",
        with_(
            _meds(EARLY, PRED, {"name": "azathioprine", "dose_mg_per_day": 150, "start": "2026-06-15"}),
            "weight_kg",
            DROP,
        ),
        "needs_information",
        set(),
        {"weight_kg"},
    ),
    # no date for the first weakness: the onset could be more than a year ago
    (
        "no weakness onset date",
        with_(EARLY, "weakness_onset", DROP),
        "needs_information",
        set(),
        {"weakness_onset"},
    ),
]


@pytest.mark.parametrize(
    ("case", "data", "verdict", "failed", "missing"), NCT07103746_CASES, ids=[c[0] for c in NCT07103746_CASES]
)
def test_nct07103746(
    case: str, data: dict[str, Any], verdict: str, failed: set[str], missing: set[str]
) -> None:
    r = _verdict("NCT07103746", data)
    assert r.verdict == verdict, r.note
    assert failed_ids(r) == failed
    assert missing <= {m.fact for m in r.missing}


def test_nct07103746_without_review_leaves_contraception_and_exclusions() -> None:
    r = _verdict("NCT07103746", EARLY, reviewed=False)
    assert r.verdict == "needs_information" and r.pending == "manual_review"
    assert {c.criterion.id for c in r.manual_review} == {"inc-7", "exc-rest"}


def test_mycophenolate_of_unknown_form() -> None:
    """MMF ≤3000 and mycophenolic acid ≤2160 mg/day: a mycophenolate whose form is not written is
    within the limit at 2000 mg/day (both limits hold) and open at 2500 mg/day (only MMF allows it)."""
    low = _meds(EARLY, PRED, {"name": "mycophenolate", "dose_mg_per_day": 2000, "start": "2026-06-15"})
    high = _meds(EARLY, PRED, {"name": "mycophenolate", "dose_mg_per_day": 2500, "start": "2026-06-15"})
    mmf = _meds(
        EARLY, PRED, {"name": "mycophenolate mofetil", "dose_mg_per_day": 2500, "start": "2026-06-15"}
    )
    mpa = _meds(EARLY, PRED, {"name": "mycophenolic acid", "dose_mg_per_day": 2500, "start": "2026-06-15"})
    assert one(low, "NCT07103746").criteria[4].status == "met"
    assert one(high, "NCT07103746").criteria[4].status == "unknown"
    assert one(mmf, "NCT07103746").criteria[4].status == "met"
    assert one(mpa, "NCT07103746").criteria[4].status == "not_met"


# ---------------------------------------------------------------- NCT06665256 (CAR-T; age limit changed)


def test_nct06665256_eligible_ineligible_needs_information() -> None:
    base = imnm_patient()  # 56 years old, BMI 70 / 1.65² = 25.7
    assert _verdict("NCT06665256", base).verdict == "eligible"
    obese = with_(base, "weight_kg", 100)  # BMI 36.7: "BMI ≤18.5 or ≥35"
    r = _verdict("NCT06665256", obese)
    assert r.verdict == "ineligible" and failed_ids(r) == {"exc-1"}
    old = with_(base, "birth_date", "1945-01-01")  # 81: "≥18 and ≤75"
    r = _verdict("NCT06665256", old)
    assert r.verdict == "ineligible" and failed_ids(r) == {"age"}
    r = _verdict("NCT06665256", with_(base, "height_cm", DROP))
    assert r.verdict == "needs_information"
    assert {m.fact: m.ask for m in r.missing}["bmi"] == "body weight and height (measurement)"


def test_nct06665256_age_depends_on_the_registry_version() -> None:
    """A 70-year-old meets "≥18 and ≤75" (version of 2026-01-22) but not ">18 and ≤65" (2024-12-10) nor
    18–65 (CenterWatch, May 2025): eligible, and the result names the versions that would say otherwise."""
    r = _verdict("NCT06665256", with_(imnm_patient(), "birth_date", "1956-06-01"))
    assert r.verdict == "eligible"
    age = next(c for c in r.criteria if c.criterion.id == "age")
    assert len(age.version_notes) == 2
    assert age.version_notes[0] == (
        "under the registry version of 2024-12-10 ('>18 and ≤65') this would be not met "
        "(it is met under the version in force)"
    )
    assert "2025-05" in age.version_notes[1]
    assert age.as_dict()["registry_versions"] == list(age.version_notes)
    # exactly 18: ">18" (2024-12-10) says no, "18–65" and "≥18" say yes
    eighteen = one(with_(imnm_patient(), "birth_date", "2008-01-01"), "NCT06665256")
    notes = next(c for c in eighteen.criteria if c.criterion.id == "age").version_notes
    assert len(notes) == 1 and "2024-12-10" in notes[0]
    # 56: every version agrees, nothing to say
    assert not next(
        c for c in one(imnm_patient(), "NCT06665256").criteria if c.criterion.id == "age"
    ).version_notes


# ---------------------------------------------------------------- NCT06569472 (juvenile; organ function)


def _child_srp() -> dict[str, Any]:
    """12 years old, anti-SRP positive IMNM, AST/ALT raised 4.5 x ULN (muscle enzymes), LVEF 60 %, ECG normal."""
    d = with_(imnm_patient(), "birth_date", "2014-05-01")
    d["antibodies"] = [
        {
            "target": "SRP",
            "result": "positive",
            "method": "line_blot",
            "band": "strong",
            "date": "2026-05-01",
        },
        {"target": "HMGCR", "result": "negative", "method": "ELISA", "date": "2026-05-01"},
    ]
    d["labs"] += [
        {"test": "ast", "value": 180, "unit": "U/L", "uln": 40, "date": "2026-11-20"},
        {"test": "alt", "value": 180, "unit": "U/L", "uln": 40, "date": "2026-11-20"},
    ]
    return d


def test_nct06569472_the_imnm_route_and_organ_function() -> None:
    child = with_(_child_srp(), "history.transaminases_from_myositis", True)
    r = _verdict("NCT06569472", child)
    assert r.verdict == "eligible", r.note
    # "LVEF ≥55%": 45 %
    low = with_(child, "cardiac", [{"date": "2026-10-01", "ecg": "normal", "lvef_percent": 45}])
    r = _verdict("NCT06569472", low)
    assert r.verdict == "ineligible" and failed_ids(r) == {"inc-5"}
    # "Age ≥5 and <17": an adult
    r = _verdict("NCT06569472", with_(child, "birth_date", "1990-01-01"))
    assert r.verdict == "ineligible" and "inc-1" in failed_ids(r)
    # "AST/ALT ≤3×ULN": 4.5 x ULN that a clinician says comes from the liver fails the limit ...
    liver = with_(_child_srp(), "history.transaminases_from_myositis", False)
    r = _verdict("NCT06569472", liver)
    assert r.verdict == "ineligible" and failed_ids(r) == {"inc-5"}
    # ... and without saying where it comes from, that question is asked (the limit ignores a rise from myositis)
    r = _verdict("NCT06569472", _child_srp())
    assert r.verdict == "needs_information"
    assert "history.transaminases_from_myositis" in {m.fact for m in r.missing}
    # AST/ALT within 3 x ULN need no attribution
    normal = _child_srp()
    for lab in normal["labs"]:
        if lab["test"] in ("ast", "alt"):
            lab["value"] = 100  # 2.5 x ULN
    assert _verdict("NCT06569472", normal).verdict == "eligible"


def test_nct06569472_a_child_without_the_imnm_route_is_left_to_a_person() -> None:
    """Without SRP/HMGCR-positive IMNM, the JDM criteria (features not retrieved) need a clinician."""
    d = _child_srp()
    d["antibodies"] = [{"target": "MDA5", "result": "positive", "date": "2026-05-01"}]
    d["history"]["transaminases_from_myositis"] = True
    r = one(d, "NCT06569472")
    statuses = {c.criterion.id: c.status for c in r.criteria}
    assert statuses["inc-4"] == "met"  # "MSA-positive (MDA-5, ...)"
    assert statuses["inc-2"] == "unknown" and statuses["inc-3"] == "unknown"


# ---------------------------------------------------------------- NCT05832034 (TIME IS MUSCLE; MMT of 13 groups)


def _mmt13(data: dict[str, Any], total: float, maximum: float = 130) -> dict[str, Any]:
    out = with_(data, "visits", list(data["visits"]))
    out["visits"].append(
        {"date": "2026-11-23", "mmt13": {"total": total, "maximum": maximum, "scale": "0-10 per group"}}
    )
    return out


def test_nct05832034() -> None:
    base = _mmt13(
        imnm_patient(), 108
    )  # loss 100 x 22 / 130 = 16.9 %; symptoms since 2026-03-01 (< 12 months)
    assert _verdict("NCT05832034", base).verdict == "eligible"
    # "≥10% loss on MMT of 13 muscle groups": 124 of 130 is a 4.6 % loss
    r = _verdict("NCT05832034", _mmt13(imnm_patient(), 124))
    assert r.verdict == "ineligible" and failed_ids(r) == {"inc-3"}
    # "symptom duration <12 months": symptoms since 2025-06-01
    r = _verdict("NCT05832034", with_(base, "symptom_onset", "2025-06-01"))
    assert r.verdict == "ineligible" and failed_ids(r) == {"inc-2"}
    # no 13-group test recorded
    r = _verdict("NCT05832034", imnm_patient())
    assert r.verdict == "needs_information"
    asked = {m.fact: m.ask for m in r.missing}
    assert "13 muscle groups" in asked["visit.mmt13_loss_percent"]


def test_mmt13_loss_is_the_shortfall_from_the_maximum() -> None:
    from imnm.facts import RecordFacts
    from imnm.record.load import parse_record

    rec = parse_record(_mmt13(imnm_patient(), 117, 130))
    obs = RecordFacts(rec, as_of=AS_OF).get("visit.mmt13_loss_percent")
    assert obs is not None and obs[0].value == pytest.approx(10.0)  # 13 / 130
    from imnm.errors import InputError

    with pytest.raises(InputError) as err:
        parse_record(_mmt13(imnm_patient(), 140, 130))
    assert "above maximum" in str(err.value)


# ---------------------------------------------------------------- the derived facts, by hand


def _facts(data: dict[str, Any], as_of: date = AS_OF) -> Any:
    from imnm.facts import RecordFacts
    from imnm.record.load import parse_record

    return RecordFacts(parse_record(data), as_of=as_of)


def _value(facts: Any, name: str) -> Any:
    obs = facts.get(name)
    return None if obs is None else obs[0].value


def test_weeks_on_joins_courses_without_a_gap() -> None:
    """Methotrexate 15 mg from 2026-06-15 to 2026-09-01, then 20 mg from 2026-09-02: one run of 23.3 weeks
    (2026-06-15 to 2026-11-25 = 163 days); a gap of a week starts a new run (2026-09-09: 11.0 weeks)."""
    joined = _meds(
        imnm_patient(),
        dict(MTX, stop="2026-09-01"),
        {"name": "methotrexate", "dose_mg_per_week": 20, "start": "2026-09-02"},
    )
    assert _value(_facts(joined), "medication.methotrexate.weeks_on") == pytest.approx(round(163 / 7, 1))
    gap = _meds(
        imnm_patient(),
        dict(MTX, stop="2026-09-01"),
        {"name": "methotrexate", "dose_mg_per_week": 20, "start": "2026-09-09"},
    )
    assert _value(_facts(gap), "medication.methotrexate.weeks_on") == pytest.approx(round(77 / 7, 1))
    assert _value(_facts(gap), "medication.methotrexate.dose_mg_per_week") == 20


def test_weight_based_dose() -> None:
    aza = _meds(imnm_patient(), {"name": "azathioprine", "dose_mg_per_day": 175, "start": "2026-06-01"})
    assert _value(_facts(aza), "medication.azathioprine.dose_mg_per_kg_per_day") == pytest.approx(2.5)
    assert (
        _value(_facts(with_(aza, "weight_kg", DROP)), "medication.azathioprine.dose_mg_per_kg_per_day")
        is None
    )
    per_kg = _meds(
        imnm_patient(), {"name": "azathioprine", "dose_mg_per_kg_per_day": 2, "start": "2026-06-01"}
    )
    assert (
        _value(_facts(with_(per_kg, "weight_kg", DROP)), "medication.azathioprine.dose_mg_per_kg_per_day")
        == 2
    )
    # not taking it: 0; no medication list: unknown
    assert _value(_facts(imnm_patient()), "medication.tacrolimus.dose_mg_per_kg_per_day") == 0
    assert (
        _value(
            _facts(with_(imnm_patient(), "medications", DROP)), "medication.tacrolimus.dose_mg_per_kg_per_day"
        )
        is None
    )


def test_onset_of_weakness_or_ck_rise() -> None:
    """Months = days / (365.25 / 12). EARLY: weakness 2026-03-15 (255 days: 8.4 months); CK rise after the
    normal CK of 2026-01-10 (319 days: 10.5) and by the high CK of 2026-11-20 (5 days: 0.2)."""
    from imnm.core.facts import NumRange

    m = 365.25 / 12
    v = _value(_facts(EARLY), "months_since_onset_weakness_or_ck")
    assert isinstance(v, NumRange)
    assert (v.lo, v.hi) == (pytest.approx(round(255 / m, 1)), pytest.approx(round(319 / m, 1)))
    # without the earlier normal CK the rise may go back to birth (1970-01-10)
    v = _value(
        _facts(with_(imnm_patient(), "weakness_onset", "2026-03-15")), "months_since_onset_weakness_or_ck"
    )
    assert isinstance(v, NumRange) and v.hi == pytest.approx(round((AS_OF - date(1970, 1, 10)).days / m, 1))
    # no proximal weakness: the CK alone counts; a normal CK only: no onset to date
    no_weak = with_(
        with_(EARLY, "findings.proximal_weakness_upper", False), "findings.proximal_weakness_lower", False
    )
    v = _value(_facts(with_(no_weak, "weakness_onset", DROP)), "months_since_onset_weakness_or_ck")
    assert isinstance(v, NumRange) and v.hi == pytest.approx(round(319 / m, 1))
