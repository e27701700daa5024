"""Importer wordings (issue 9 item 18) and importer robustness (item 24).

Each expected rule is written by hand from the criterion text; the catalog share is measured by
`imnm.trials.coverage` against the hand-written catalog entries (independent of the importer).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from imnm.core.rules import parse_rule
from imnm.errors import InputError
from imnm.trials.coverage import measure, normalize
from imnm.trials.ctgov import draft_from_study
from imnm.trials.load import parse_trial
from imnm.trials.recognize import recognize

DATA = Path(__file__).resolve().parent.parent / "data" / "trials"
S = {"before": "screening"}


def pos(target: str) -> dict[str, Any]:
    return {"compare": {"fact": f"antibody.{target}", "op": "==", "value": "positive", "select": "any"}}


def cmp(fact: str, op: str, value: object, unit: str | None = None, **extra: Any) -> dict[str, Any]:
    c: dict[str, Any] = {"fact": fact, "op": op, "value": value, **extra}
    if unit:
        c["unit"] = unit
    return {"compare": c}


def unchanged(cls: str, window: str) -> dict[str, Any]:
    return {"not": {"event": {"fact": f"medication.{cls}.change", "window": {"before": window}}}}


PROXIMAL = {
    "any": [{"is_true": "findings.proximal_weakness_upper"}, {"is_true": "findings.proximal_weakness_lower"}]
}
CATEGORY = cmp("eular_acr.category", "in", ["probable", "definite"])

WORDINGS = [
    ("anti-HMGCR or anti-SRP antibodies", "inclusion", {"any": [pos("HMGCR"), pos("SRP")]}),
    ("Anti-SRP or anti-HMGCR antibody positive", "inclusion", {"any": [pos("HMGCR"), pos("SRP")]}),
    ("stable prednisone dose for 4 weeks", "inclusion", unchanged("glucocorticoid", "4w")),
    (
        "Stable prednisone dose for at least 8 weeks before screening",
        "inclusion",
        unchanged("glucocorticoid", "8w"),
    ),
    ("stable IS ≥8 weeks", "inclusion", unchanged("immunosuppressant", "8w")),
    (
        "Hydroxychloroquine (HCQ) doses should be stable for at least 12 weeks prior to enrollment.",
        "inclusion",
        unchanged("hydroxychloroquine", "12w"),
    ),
    (
        "Oral glucocorticoid (GC) daily dose > 15mg at screening",
        "exclusion",
        cmp("medication.glucocorticoid.dose", ">", 15, "mg/day"),
    ),
    ("body weight ≥30 kg", "inclusion", cmp("weight_kg", ">=", 30, "kg")),
    (
        "body weight 40–≤100 kg",
        "inclusion",
        {"all": [cmp("weight_kg", ">=", 40, "kg"), cmp("weight_kg", "<=", 100, "kg")]},
    ),
    ("BMI ≤40", "inclusion", cmp("bmi", "<=", 40, "kg/m2")),
    ("18–75 y", "inclusion", {"all": [cmp("age", ">=", 18, "years"), cmp("age", "<=", 75, "years")]}),
    ("age 25–72", "inclusion", {"all": [cmp("age", ">=", 25, "years"), cmp("age", "<=", 72, "years")]}),
    (
        "FVC ≤45%, DLCO ≤40%",
        "exclusion",
        {"any": [cmp("pft.fvc_percent", "<=", 45, "%"), cmp("pft.dlco_percent", "<=", 40, "%")]},
    ),
    ("Presence of muscle weakness", "inclusion", PROXIMAL),
    (
        "Existing diagnosis of inclusion body myositis (IBM)",
        "exclusion",
        cmp("eular_acr.subgroup", "==", "IBM"),
    ),
    ("Previous CAR T cell therapy", "exclusion", {"event": {"fact": "medication.car_t"}}),
    (
        "prior immunosuppressant use excluded",
        "exclusion",
        {"event": {"fact": "medication.immunosuppressant"}},
    ),
    (
        "A clinical diagnosis of IIM, based on the 2017 The European League Against Rheumatism/American College of Rheumatology classification criteria",
        "inclusion",
        CATEGORY,
    ),
    (
        "probable/definite DM by 2017 EULAR/ACR",
        "inclusion",
        {"all": [CATEGORY, cmp("eular_acr.subgroup", "==", "DM"), {"not": {"is_true": "enmc.imnm"}}]},
    ),
    (
        "enzyme ≥1.3×ULN",
        "inclusion",
        cmp("lab.muscle_enzyme.fold", ">=", 1.3, "xULN", select="any", window=S),
    ),
    (
        "Active infection requiring medical intervention at screening",
        "exclusion",
        {"event": {"fact": "infection.systemic", "window": {"before": "0d"}}},
    ),
    (
        "No history of dermatomyositis rash",
        "inclusion",
        {
            "not": {
                "any": [
                    {"is_true": "findings.heliotrope_rash"},
                    {"is_true": "findings.gottron_papules"},
                    {"is_true": "findings.gottron_sign"},
                ]
            }
        },
    ),
    (
        "Prior solid organ (heart, liver, kidney, lung) transplant",
        "exclusion",
        {"is_true": "history.organ_transplant"},
    ),
    (
        "disease duration under 9 months",
        "inclusion",
        cmp("disease_duration_months", "<", 9, "months"),
    ),
]


def _same(got: Any, expected: dict[str, Any]) -> bool:
    from imnm.trials.load import _screening

    a = parse_rule(_screening(copy.deepcopy(got), "30d"))
    b = parse_rule(_screening(copy.deepcopy(expected), "30d"))
    return normalize(a) == normalize(b)


@pytest.mark.parametrize(("text", "kind", "expected"), WORDINGS, ids=[w[0][:40] for w in WORDINGS])
def test_wordings_are_recognized(text: str, kind: Any, expected: dict[str, Any]) -> None:
    found = recognize(text, kind)
    assert found is not None, text
    assert _same(found.rule, expected), json.dumps(found.rule)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("MDI muscle damage ≤5", "inclusion"),  # "damage" is not an age
        (
            "(Further exclusions known only as a summary — infections within 60 days; cancer within 5 years)",
            "exclusion",
        ),
        ("Anti-HMGCR or anti-SRP antibody negative", "inclusion"),
        ("Diagnosis of probable or definite IIM at least 6 weeks prior to first administration", "inclusion"),
        ("MMT-8 <142", "inclusion"),  # no scale stated: /150 or /160 is a guess
    ],
)
def test_wordings_left_to_a_person(text: str, kind: Any) -> None:
    assert recognize(text, kind) is None


# The importer reproduced 65 of the 90 hand-written rules (72.2 %) when this floor was set (it was 27
# of 90, 30.0 %, before issue 9); `python -m imnm.trials.coverage` prints every criterion that differs.
SHARE_FLOOR = 0.72


def test_importer_reproduces_the_hand_written_catalog() -> None:
    cov = measure()
    assert cov.encoded_by_hand >= 90  # the catalog did not lose criteria
    assert cov.share >= SHARE_FLOOR, cov.as_dict()
    assert cov.count("extra") == 0  # never encodes what the catalog leaves to a person


# ------------------------------------------------------------------ item 24: robustness


@pytest.mark.parametrize(
    "text",
    [
        "CK > " + "9" * 400 + " U/L at screening",
        "CK > " + "9" * 5000 + " U/L at screening",
        "Rituximab use within 99999999999 weeks prior to Baseline",
        "Statin use within " + "9" * 5000 + " days prior to Baseline",
        "Age ≥ " + "9" * 400,
        "No change in corticosteroid dose for at least 9999999 days prior to Baseline",
    ],
)
def test_huge_numbers_and_durations_are_left_to_a_person(text: str) -> None:
    kind = "inclusion" if text.startswith(("Age", "No change", "CK")) else "exclusion"
    assert recognize(text, kind) is None


def _zilucoplan() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "NCT04025632.transcribed-v2.json").read_text(encoding="utf-8"))
    return data


def test_huge_numbers_in_a_study_record_still_give_a_loadable_draft() -> None:
    study = _zilucoplan()
    elig = study["protocolSection"]["eligibilityModule"]
    elig["eligibilityCriteria"] += "\n* Rituximab use within 99999999999 weeks prior to Baseline"
    elig["minimumAge"] = "9" * 400 + " Years"
    draft = draft_from_study(study, file="z.json", imported_on="2026-11-25")
    parse_trial(draft, file="z.json")


def _put(data: dict[str, Any], path: tuple[str, ...], value: object) -> dict[str, Any]:
    out = copy.deepcopy(data)
    cur = out
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value
    return out


BAD_TYPES = [
    (("protocolSection",), ["not", "a", "mapping"], "protocolSection"),
    (("protocolSection", "identificationModule"), "NCT1", "protocolSection.identificationModule"),
    (("protocolSection", "eligibilityModule"), 7, "protocolSection.eligibilityModule"),
    (
        ("protocolSection", "eligibilityModule", "minimumAge"),
        18,
        "protocolSection.eligibilityModule.minimumAge",
    ),
    (
        ("protocolSection", "eligibilityModule", "eligibilityCriteria"),
        ["x"],
        "protocolSection.eligibilityModule.eligibilityCriteria",
    ),
    (
        ("protocolSection", "conditionsModule", "conditions"),
        "IMNM",
        "protocolSection.conditionsModule.conditions",
    ),
    (
        ("protocolSection", "conditionsModule", "conditions"),
        [1, 2],
        "protocolSection.conditionsModule.conditions[0]",
    ),
    (("protocolSection", "statusModule", "overallStatus"), 5, "protocolSection.statusModule.overallStatus"),
    (("protocolSection", "statusModule"), None, None),  # null is "not given", not an error
]


@pytest.mark.parametrize(("path", "value", "where"), BAD_TYPES)
def test_study_records_with_wrong_types_are_clear_errors(
    path: tuple[str, ...], value: object, where: str | None
) -> None:
    study = _put(_zilucoplan(), path, value)
    if where is None:
        parse_trial(draft_from_study(study, file="z.json", imported_on="2026-11-25"), file="z.json")
        return
    with pytest.raises(InputError) as info:
        draft_from_study(study, file="z.json", imported_on="2026-11-25")
    got = {p.path: p for p in info.value.problems}
    assert where in got, got
    assert got[where].fix


def test_cli_import_of_a_wrong_typed_study_exits_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    f = tmp_path / "study.json"
    f.write_text(json.dumps(_put(_zilucoplan(), ("protocolSection", "eligibilityModule", "minimumAge"), 18)))
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "imnm.cli.main",
            "trials",
            "import",
            str(f),
            "--out",
            str(tmp_path / "d.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 2, p.stderr
    assert "minimumAge" in p.stderr and "Traceback" not in p.stderr
