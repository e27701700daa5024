"""`imnm screen`: the interview end to end, files, JSON, errors (in process; the real process is run in
tests/test_cli_smoke.py and the pseudo-terminal tests)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from imnm.io.yaml import load_yaml_text
from tests.conftest import EXAMPLES, CliResult, run_cli

IMNM = [sys.executable, "-m", "imnm.cli.main"]
KEYS = {"level", "reasons", "tests_to_expect", "specialists", "notes", "unanswered_that_matter"}


def imnm(*args: str, stdin: str | None = None) -> CliResult:
    return run_cli(*args, stdin=stdin)


# Replies in interview order; skipped questions get no line.
TYPICAL = [
    "1",  # answering for: myself
    "58",  # age
    "y",  # stairs
    "y",  # chair
    "y",  # arms overhead
    "",  # after a fall: don't know
    "y",  # both sides (asked: there is weakness)
    "2",  # onset: weeks (asked: there is weakness)
    "n",  # swallowing -> choking is skipped
    "n",  # short of breath
    "n",  # dry cough
    "y",  # muscle pain
    "n",  # dark urine
    "n",  # rash
    "1",  # statin: current
    "3",  # red yeast rice: never
    "3",  # oyster mushrooms: never
    "y",  # known high CK -> the CK value is asked
    "7,000",  # CK value: read back ("Did you mean 7000?")
    "y",  # ... yes
    "n",  # family history
]


def test_interview_end_to_end_matches_the_saved_file(tmp_path: Path) -> None:
    saved = tmp_path / "saved.yaml"
    p = imnm("screen", "--save", str(saved), "--json", stdin="\n".join(TYPICAL) + "\n")
    assert p.returncode == 0, p.stderr
    interactive = json.loads(p.stdout)
    assert set(interactive) >= KEYS
    assert interactive["level"] == "soon"
    assert {r["id"] for r in interactive["reasons"]} >= {
        "typical_pattern",
        "weakness_with_statin",
        "ck_over_1000",
    }
    # the saved file holds exactly the questions asked (choking was skipped)
    data = load_yaml_text(saved.read_text())
    assert "choking" not in data and data["trouble_getting_up_after_fall"] == "dont_know"
    assert data["ck_value"] == 7000 and data["statin"] == "current" and data["weakness_both_sides"] is True
    f = imnm("screen", str(saved), "--json")
    assert f.returncode == 0, f.stderr
    assert json.loads(f.stdout) == interactive
    # prompts go to stderr, so stdout stays valid JSON; the skipped question was not asked
    assert "Is it hard to climb stairs?" in p.stderr
    assert "choke" not in p.stderr


def test_interview_skips_follow_ups_without_weakness_and_text_output(tmp_path: Path) -> None:
    replies = ["1", "35", "n", "n", "n", "n", "n", "n", "n", "n", "n", "n", "3", "3", "3", "n", "n"]
    saved = tmp_path / "none.yaml"
    p = imnm("screen", "--save", str(saved), stdin="\n".join(replies) + "\n")
    assert p.returncode == 0, p.stderr
    assert "How fast did the weakness come on?" not in p.stderr
    assert "Is the weakness on both sides" not in p.stderr
    assert "What was the highest CK number" not in p.stderr
    assert "(none)" in p.stdout and "It is not a diagnosis" in p.stdout
    f = imnm("screen", str(saved), "--json")
    assert json.loads(f.stdout)["level"] == "none"


def test_interview_reasks_a_bad_reply_and_uses_child_wording() -> None:
    replies = ["2", "9", "maybe", "y"] + [""] * 30  # a parent answering for a 9-year-old
    p = imnm("screen", "--json", stdin="\n".join(replies) + "\n")
    assert p.returncode == 0, p.stderr
    assert "Please type yes or no (y or n)" in p.stderr
    assert "Is it hard for your child to get up from the floor?" in p.stderr
    res = json.loads(p.stdout)
    assert res["level"] == "soon"  # weakness known, the rest don't know


def test_interview_with_input_ending_early_is_a_clear_error() -> None:
    p = imnm("screen", stdin="1\n58\ny\n")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "trouble_rising_from_chair" in p.stderr and "ended" in p.stderr


def test_example_file_text_output() -> None:
    p = imnm("screen", str(EXAMPLES / "screener" / "answers.yaml"))
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "See a doctor within one to two weeks (soon)" in out
    for needle in ("Why:", "Tests a doctor may do:", "CK blood test", "Muscle biopsy", "Rheumatologist"):
        assert needle in out
    assert "Never stop a medicine" in out and "It is not a diagnosis" in out


def test_all_dont_know_file_is_not_none(tmp_path: Path) -> None:
    f = tmp_path / "empty.yaml"
    f.write_text("# nothing answered\n")
    p = imnm("screen", str(f), "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["level"] == "routine" and d["possible_level"] == "urgent"
    assert len(d["unanswered_that_matter"]) >= 10
    p = imnm("screen", str(f), "--json", "--unknown-policy", "highest_possible")
    assert json.loads(p.stdout)["level"] == "urgent"


def test_invalid_answers_exit_2_with_every_problem(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text('trouble_climbing_stairs: maybe\nage: "58"\nstatn: current\n')
    p = imnm("screen", str(f))
    assert p.returncode == 2 and "Traceback" not in p.stderr
    for needle in (
        "trouble_climbing_stairs: 'maybe'",
        "use yes, no or dont_know",
        "age: '58'",
        "did you mean 'statin'",
    ):
        assert needle in p.stderr
    j = imnm("screen", str(f), "--json")
    assert j.returncode == 2 and len(json.loads(j.stdout)["problems"]) == 3
    p = imnm("screen", str(tmp_path / "missing.yaml"))
    assert p.returncode == 2 and "file not found" in p.stderr
    p = imnm("screen", str(EXAMPLES / "screener" / "answers.yaml"), "--urgent-flags", "never")
    assert p.returncode == 2 and "same_day" in p.stderr


def test_help() -> None:
    p = imnm("screen", "--help")
    assert p.returncode == 0 and "--save" in p.stdout and "--json" in p.stdout


def test_explain_shows_every_rule_with_its_source() -> None:
    p = imnm("screen", str(EXAMPLES / "screener" / "answers.yaml"), "--explain")
    assert p.returncode == 0, p.stderr
    assert "[soon] typical_pattern: met" in p.stdout
    assert "[urgent] weakness_with_breathing_trouble: not_met ⚠️ choice urgent_flags" in p.stdout
    assert "Choices: unknown_policy = at_least_routine, urgent_flags = same_day" in p.stdout
    j = json.loads(imnm("screen", str(EXAMPLES / "screener" / "answers.yaml"), "--json").stdout)
    truth = {t["id"]: t["truth"] for t in j["triggers"]}
    assert truth["typical_pattern"] == "met" and truth["dark_urine_with_muscle_trouble"] == "unknown"
    assert truth["swallowing_with_choking"] == "not_met"
