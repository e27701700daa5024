"""ClinicalTrials.gov API v2 import: splitting the eligibility text and recognizing common criteria.

Layouts and defects come from trials.md §2.3; the texts below are copied from trials.md §1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from imnm.trials.ctgov import draft_from_study, split_criteria, summary
from imnm.trials.load import parse_trial
from imnm.trials.recognize import recognize

DATA = Path(__file__).resolve().parent.parent / "data" / "trials"


def _study(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


def _texts(text: str) -> list[tuple[str | None, str | None, list[str]]]:
    return [(s.cohort, s.kind, [i.full_text() for i in s.items]) for s in split_criteria(text)]


# ------------------------------------------------------------------ the real v2 record


def test_real_record_splits_into_5_inclusion_and_12_exclusion_items() -> None:
    text = _study("NCT05013879.ctgov-v2.trimmed.json")["protocolSection"]["eligibilityModule"][
        "eligibilityCriteria"
    ]
    [(c1, k1, inc), (c2, k2, exc)] = _texts(text)
    assert (c1, k1, c2, k2) == (None, "inclusion", None, "exclusion")
    assert len(inc) == 5 and len(exc) == 12
    assert inc[0].startswith("admitted to Burke Rehabilitation Hospital")
    assert inc[4] == "able to tolerate an active rehabilitation program."
    assert exc[5] == "prior history of lower extremity lymphedema;3"  # footnote digit kept verbatim
    assert exc[8] == "partial joint arthroplasty or revision arthroplasty of one or both knees;1,5"
    assert exc[11] == "inability to tolerate an active rehabilitation program."


def test_real_record_draft_loads_and_counts() -> None:
    draft = draft_from_study(
        _study("NCT05013879.ctgov-v2.trimmed.json"), file="x.json", imported_on="2026-11-25"
    )
    trial = parse_trial(draft, file="x.json")
    assert trial.draft and trial.status == "COMPLETED" and trial.phases == ["NA"]
    assert trial.source.version == "API v2 versionHolder 2024-12-19"
    info = summary(draft)
    # structured age + "50-85 years of age;" + "age less than 50 years or over 85 years;"
    assert (info["criteria"], info["encoded"], info["manual_review"]) == (18, 3, 15)
    exc11 = next(c for c in trial.exclusion if c.id == "exc-11")
    assert exc11.text == "age less than 50 years or over 85 years;"
    assert exc11.rule is not None and exc11.rule.model_dump(exclude_none=True) == {
        "any": [
            {"compare": {"fact": "age", "op": "<", "value": 50.0, "unit": "years", "select": "latest"}},
            {"compare": {"fact": "age", "op": ">", "value": 85.0, "unit": "years", "select": "latest"}},
        ]
    }


def test_transcribed_zilucoplan_is_fully_encoded() -> None:
    info = summary(
        draft_from_study(_study("NCT04025632.transcribed-v2.json"), file="z.json", imported_on="2026-11-25")
    )
    assert (info["criteria"], info["encoded"], info["manual_review"]) == (13, 13, 0)


# ------------------------------------------------------------------ layouts (trials.md §2.3)

ALKIVIA_PLUS = """Inclusion Criteria:
- Has completed trial ARGX-113-2007.
- Being capable of providing signed informed consent and complying with protocol requirements.
Exclusion Criteria:
- Intention to have major surgery during the study period; or any other medical condition that has arisen since enrollment in study ARGX-113-2007, that in the investigator's opinion, would confound the results of the study or put the participant at undue risk.
- Known hypersensitivity reaction to investigational medicinal product or 1 of its excipients Development of any malignancy, either new or recurrent, other than basal cell carcinoma of the skin, regardless of relatedness
- Permanent discontinuation of IMP in ARGX-113-2007, or met the permanent discontinuation criteria at the rollover visit
- Diagnosis with a deselected subtype of myositis based on the analysis of the phase 2 stage data in ARGX-113-2007, unless the investigator determines that the participant is benefiting from IMP as defined by a score of "much better" or "moderately better" on the 'Clinical Global Impression of Change' and 'Patient Global
- Impression of Change' assessments for at least 12 weeks, and that enrolling in the study is in the participant's best interest"""


def test_merged_bullet_is_split_and_split_bullet_rejoined() -> None:
    inc, exc = split_criteria(ALKIVIA_PLUS)
    assert len(inc.items) == 2
    texts = [i.text for i in exc.items]
    assert len(texts) == 5
    assert (
        texts[1]
        == "Known hypersensitivity reaction to investigational medicinal product or 1 of its excipients"
    )
    assert texts[2].startswith("Development of any malignancy")
    assert exc.items[1].note and "merged" in exc.items[1].note
    assert texts[4].endswith(
        "'Patient Global Impression of Change' assessments for at least 12 weeks, and that "
        "enrolling in the study is in the participant's best interest"
    )
    assert exc.items[4].note and "split" in exc.items[4].note
    # an apostrophe inside a word does not open a quotation
    assert texts[0].endswith("undue risk.")


RESET = """Adult Cohorts

Inclusion Criteria:

* Age ≥18 and ≤75
* Presence of muscle weakness

Exclusion Criteria:

* Contraindication to leukapheresis
* Previous CAR T cell therapy

Juvenile Cohort

Inclusion Criteria:

* Age ≥6 and ≤17 years at enrollment"""


def test_cohort_headings_above_inclusion_and_exclusion() -> None:
    assert _texts(RESET) == [
        ("Adult Cohorts", "inclusion", ["Age ≥18 and ≤75", "Presence of muscle weakness"]),
        ("Adult Cohorts", "exclusion", ["Contraindication to leukapheresis", "Previous CAR T cell therapy"]),
        ("Juvenile Cohort", "inclusion", ["Age ≥6 and ≤17 years at enrollment"]),
    ]
    draft = draft_from_study(
        {
            "protocolSection": {
                "identificationModule": {"nctId": "NCT06154252", "briefTitle": "RESET"},
                "eligibilityModule": {"eligibilityCriteria": RESET},
            }
        },
        file="r.json",
        imported_on="2026-11-25",
    )
    trial = parse_trial(draft, file="r.json")
    assert [c.id for c in trial.cohorts] == ["adult-cohorts", "juvenile-cohort"]
    adult = trial.cohorts[0]
    assert [c.id for c in adult.inclusion] == ["adult-cohorts-inc-1", "adult-cohorts-inc-2"]
    assert adult.inclusion[0].rule is not None  # age ≥18 and ≤75 recognized


CARTIMMUNE = """Inclusion criteria – Idiopathic inflammatory myopathy (including dermatomyositis, antisynthetase syndrome, immune mediated necrotizing myopathy, and polymyositis)
1. Diagnosis of probable or definite (>55%) idiopathic inflammatory myopathy.
2. Disease severity and minimal core set measure criteria: MMT-8 score <136/150, with at least 2 other abnormal core set measures (CSMs) from the following:
   - Patient global VAS≥3 on a 1-10 scale (Appendix 3).
   - HAQ-DI≥0.25 (Appendix 7).
3. Active disease as per one of the following:
   - Creatine kinase ≥4×ULN."""


def test_dash_cohort_heading_numbered_items_and_nested_sub_items() -> None:
    [(cohort, kind, items)] = _texts(CARTIMMUNE)
    assert cohort is not None and cohort.startswith("Idiopathic inflammatory myopathy (including")
    assert kind == "inclusion" and len(items) == 3
    assert items[1].endswith(
        "\n  * Patient global VAS≥3 on a 1-10 scale (Appendix 3).\n  * HAQ-DI≥0.25 (Appendix 7)."
    )
    assert items[2] == "Active disease as per one of the following:\n  * Creatine kinase ≥4×ULN."


def test_key_criteria_lowercase_headings_parenthesised_and_circled_numbers() -> None:
    text = "Key Inclusion Criteria:\n(1) Age ≥ 5 years;\n(2) CMAS < 48;\nkey exclusion criteria:\n① pregnancy\n② LVEF < 50%"
    assert _texts(text) == [
        (None, "inclusion", ["Age ≥ 5 years;", "CMAS < 48;"]),
        (None, "exclusion", ["pregnancy", "LVEF < 50%"]),
    ]


def test_free_paragraph_after_the_heading() -> None:
    text = "Inclusion Criteria: Adults with definite or probable dermatomyositis or polymyositis."
    assert _texts(text) == [
        (None, "inclusion", ["Adults with definite or probable dermatomyositis or polymyositis."])
    ]


def test_text_without_headings_is_read_as_inclusion_and_flagged() -> None:
    draft = draft_from_study(
        {
            "protocolSection": {
                "identificationModule": {"nctId": "NCT00000001", "briefTitle": "x"},
                "eligibilityModule": {"eligibilityCriteria": "* Age > 16 years\n* Muscle weakness"},
            }
        },
        file="n.json",
        imported_on="2026-11-25",
    )
    assert [c["id"] for c in draft["inclusion"]] == ["inc-1", "inc-2"]
    assert all("read as inclusion" in c["note"] for c in draft["inclusion"])


# ------------------------------------------------------------------ recognizers

CK_WINDOW = {"before": "screening"}  # the loader puts in the configured window


@pytest.mark.parametrize(
    ("text", "kind", "rule"),
    [
        (
            "Creatine kinase (CK) of >1000 U/L at Screening",
            "inclusion",
            {
                "compare": {
                    "fact": "lab.ck",
                    "op": ">",
                    "value": 1000,
                    "unit": "U/L",
                    "select": "latest",
                    "window": CK_WINDOW,
                }
            },
        ),
        (
            "Serum CK > 5x upper limit of normal",
            "inclusion",
            {
                "compare": {
                    "fact": "lab.ck.fold",
                    "op": ">",
                    "value": 5,
                    "unit": "xULN",
                    "select": "latest",
                    "window": CK_WINDOW,
                }
            },
        ),
        (
            "Creatine kinase ≥4×ULN.",
            "inclusion",
            {
                "compare": {
                    "fact": "lab.ck.fold",
                    "op": ">=",
                    "value": 4,
                    "unit": "xULN",
                    "select": "latest",
                    "window": CK_WINDOW,
                }
            },
        ),
        (
            "Anti-HMGCR antibody positive",
            "inclusion",
            {"compare": {"fact": "antibody.HMGCR", "op": "==", "value": "positive", "select": "any"}},
        ),
        (
            "MMT-8 score < 142 (range 0-160)",
            "inclusion",
            {
                "compare": {
                    "fact": "visit.mmt8_160",
                    "op": "<",
                    "value": 142,
                    "select": "latest",
                    "window": CK_WINDOW,
                }
            },
        ),
        (
            "Bilateral MMT-8 score of ≤142/150",
            "inclusion",
            {
                "compare": {
                    "fact": "visit.mmt8_150",
                    "op": "<=",
                    "value": 142,
                    "select": "latest",
                    "window": CK_WINDOW,
                }
            },
        ),
        (
            "Age > 16 years",
            "inclusion",
            {"compare": {"fact": "age", "op": ">", "value": 16, "unit": "years"}},
        ),
        (
            "Participants will be ≥18 years old.",
            "inclusion",
            {"compare": {"fact": "age", "op": ">=", "value": 18, "unit": "years"}},
        ),
        (
            "Rituximab < 6 months prior to screening",
            "exclusion",
            {"event": {"fact": "medication.rituximab", "window": {"before": "6mo"}}},
        ),
        (
            "Use of statin medication at screening",
            "exclusion",
            {
                "any": [
                    {"event": {"fact": "medication.statin", "window": {"before": "0d"}}},
                    {"event": {"fact": "exposure.statin", "window": {"before": "0d"}}},
                ]
            },
        ),
        ("Prior IVIG treatment for anti-HMGCR IMNM", "exclusion", {"event": {"fact": "medication.ivig"}}),
        (
            "Plasma exchange, cyclophosphamide, or biologic immunosuppressive medication < 3 months prior to screening",
            "exclusion",
            {
                "any": [
                    {"event": {"fact": f"medication.{c}", "window": {"before": "3mo"}}}
                    for c in ("plasma_exchange", "cyclophosphamide", "biologic")
                ]
            },
        ),
        (
            "Change in oral GC dose < 2 weeks prior to screening",
            "exclusion",
            {"event": {"fact": "medication.glucocorticoid.change", "window": {"before": "2w"}}},
        ),
        (
            "Change in concomitant DMARD dose < 4 weeks prior to screening",
            "exclusion",
            {"event": {"fact": "medication.csdmard.change", "window": {"before": "4w"}}},
        ),
        (
            "Females of child-bearing potential who are pregnant, breastfeeding, or are unwilling to practice a highly "
            "effective method of contraception",
            "exclusion",
            {  # issue 9 item 18: "Females of child-bearing potential" limits it to women (as the catalog does)
                "all": [
                    {"compare": {"fact": "sex", "op": "==", "value": "female"}},
                    {
                        "any": [
                            {"is_true": "history.pregnant"},
                            {"is_true": "history.breastfeeding"},
                            {"const": "unknown", "label": "contraception plans (clinician to ask)"},
                        ]
                    },
                ]
            },
        ),
    ],
)
def test_recognizer(text: str, kind: Any, rule: dict[str, Any]) -> None:
    found = recognize(text, kind)
    assert found is not None
    assert found.rule == rule


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("MMT-8 <142", "inclusion"),  # no scale stated
        ("History of anaphylactic reaction to IVIG", "exclusion"),
        (
            "Antibody positivity criteria: Any 1 of the myositis-specific antibodies (MSAs) positive: anti-Mi-2, "
            "anti-SRP and anti-HMGCR",
            "inclusion",
        ),
        (
            "Elevated Creatine Kinase (CK) or Aldolase (more than 1.5 x the upper limit of normal) at screening",
            "inclusion",
        ),
        ("Ability to consent in the jurisdiction in which the study is taking place", "inclusion"),
    ],
)
def test_not_recognized_goes_to_manual_review(text: str, kind: Any) -> None:
    assert recognize(text, kind) is None


def test_unindented_group_is_kept_together_and_flagged() -> None:
    """ALKIVIA as shown on a mirror: the sub-items of a lead line are not indented (trials.md §1.3)."""
    text = (
        "Inclusion Criteria:\n- A definite or probable clinical diagnosis of idiopathic inflammatory myopathy (IIM)\n"
        "One of the following medical histories:\n- Diagnosis of polymyositis (PM)\n"
        "- Diagnosis of immune-mediated necrotizing myopathy (IMNM)"
    )
    [sec] = split_criteria(text)
    assert [i.text for i in sec.items] == [
        "A definite or probable clinical diagnosis of idiopathic inflammatory myopathy (IIM)",
        "One of the following medical histories:",
    ]
    group = sec.items[1]
    assert [c.text for c in group.children] == [
        "Diagnosis of polymyositis (PM)",
        "Diagnosis of immune-mediated necrotizing myopathy (IMNM)",
    ]
    assert group.note is not None and "guess" in group.note
