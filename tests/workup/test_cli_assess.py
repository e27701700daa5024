"""`imnm assess` run as a user would (a real subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import EXAMPLES
from tests.test_cli import imnm


def test_text_report_has_every_section_and_the_disclaimer() -> None:
    p = imnm("assess", str(EXAMPLES / "anti-hmgcr.yaml"), "--as-of", "2026-11-25")
    assert p.returncode == 0, p.stderr
    for needle in (
        "Decision support, not a diagnosis",
        "1. Test interpretation",
        "2. ENMC 224 IMNM classification",
        "3. 2017 EULAR/ACR classification criteria for IIM",
        "4. Mimics",
        "5. Extramuscular and safety work-up",
        "6. Next tests",
        "Choices used",
        "Sources",
        "Anti-HMGCR myopathy",
        "doi:10.1136/annrheumdis-2017-211468",
    ):
        assert needle in p.stdout, needle


def test_json_has_the_contract_fields() -> None:
    p = imnm("assess", str(EXAMPLES / "unconfirmed-srp.yaml"), "--as-of", "2026-11-25", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert set(d["enmc"]) >= {"classification", "status", "missing"}
    assert set(d["eular_acr"]) >= {
        "version", "score", "score_min", "score_max", "probability", "probability_min", "probability_max",
        "category", "category_min", "category_max", "skin_or_biopsy_rule", "classified_as_iim", "subgroup", "items",
    }  # fmt: skip
    assert set(d["interpretation"]) == {"ck", "antibodies", "emg", "biopsy", "mri"}
    assert isinstance(d["flags"], list)
    assert all({"test", "why", "could_change"} <= set(t) for t in d["next_tests"])
    assert d["eular_acr"]["classified_as_iim"] == "unknown" and d["eular_acr"]["subgroup"] is None
    assert {c["setting"] for c in d["choices"]} >= {"skin_or_biopsy_rule", "category_basis"}


def test_choices_on_the_command_line(tmp_path: Path) -> None:
    args = ["assess", str(EXAMPLES / "anti-hmgcr.yaml"), "--as-of", "2026-11-25", "--json"]
    d = json.loads(imnm(*args, "--skin-biopsy-rule", "lenient", "--category-basis", "probability").stdout)
    used = {c["setting"]: c for c in d["choices"]}
    assert used["skin_or_biopsy_rule"]["value"] == "lenient" and not used["skin_or_biopsy_rule"]["default"]
    assert d["eular_acr"]["skin_or_biopsy_rule"]["truth"] == "met"  # a biopsy was performed
    d = json.loads(imnm(*args, "--choice", "biopsy_compatible_definition=necrosis_plus_supporting").stdout)
    assert "enmc_224.biopsy_compatible_definition=necrosis_plus_supporting" in d["enmc"]["choices"]


def test_bad_options_and_bad_records_exit_2_without_traceback(tmp_path: Path) -> None:
    p = imnm("assess", str(EXAMPLES / "anti-hmgcr.yaml"), "--skin-biopsy-rule", "loose")
    assert p.returncode == 2 and "skin_or_biopsy_rule" in p.stderr and "strict, lenient" in p.stderr
    p = imnm("assess", str(EXAMPLES / "anti-hmgcr.yaml"), "--choice", "nonsense")
    assert p.returncode == 2 and "--choice" in p.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nlabs:\n  - {test: ck, value: '7000', unit: U/L}\n")
    p = imnm("assess", str(bad))
    assert p.returncode == 2 and "labs[0].value" in p.stderr and "Traceback" not in p.stderr


def test_every_example_assesses() -> None:
    for f in sorted(EXAMPLES.glob("*.yaml")):
        p = imnm("assess", str(f), "--as-of", "2026-11-25", "--json")
        assert p.returncode == 0, (f, p.stderr)
        assert json.loads(p.stdout)["id"]
