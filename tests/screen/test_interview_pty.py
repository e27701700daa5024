"""The interactive screener through a pseudo-terminal (issue 9 items 19 and 20): the real
`imnm screen --save ...` process, driven as a person at a terminal would drive it with pexpect:
save-path errors before the first question, Ctrl-C (SIGINT) with saving, `back`, typed variants,
numbers read back, a unit after the number, statin names, carers and children — and nothing lost.

Expected answers are written by hand from the replies typed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
import pytest

from imnm.io.yaml import read_document
from tests.conftest import ROOT

TIMEOUT = 10


def spawn(*args: str, cwd: Path = ROOT) -> pexpect.spawn:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200", "TERM": "dumb", "NO_COLOR": "1"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "imnm.cli.main", "screen", *args],
        cwd=str(cwd),
        env=env,
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(50, 200),
    )
    return child


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus is not None, child.signalstatus
    return int(child.exitstatus)


# ------------------------------------------------------------------ the --save path, before any question


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda tmp: tmp, "is a folder"),
        (lambda tmp: tmp / "no-such-folder" / "answers.yaml", "does not exist"),
        (lambda tmp: Path("/proc/imnm-answers.yaml"), "cannot write"),
        (lambda tmp: tmp / "answers.txt", "not a .yaml file name"),
    ],
    ids=["folder", "missing-folder", "unwritable", "not-yaml"],
)
def test_save_path_errors_come_before_the_first_question(tmp_path: Path, make, needle: str) -> None:  # type: ignore[no-untyped-def]
    child = spawn("--save", str(make(tmp_path)))
    out_index = child.expect([needle, "Are you answering"])
    assert out_index == 0, child.before
    assert finish(child) == 2
    assert "Are you answering" not in (child.before or "")


def test_an_existing_file_is_never_overwritten_silently(tmp_path: Path) -> None:
    keep = tmp_path / "mine.yaml"
    keep.write_text("age: 40\n", encoding="utf-8")
    child = spawn("--save", str(keep))
    child.expect("already exists")
    assert finish(child) == 2
    assert keep.read_text(encoding="utf-8") == "age: 40\n"


# ------------------------------------------------------------------ a whole interview


def test_interview_with_back_typed_variants_numbers_and_a_statin_name(tmp_path: Path) -> None:
    saved = tmp_path / "answers.yaml"
    c = spawn("--save", str(saved))
    c.expect("Are you answering for yourself")
    c.sendline("for myself")
    c.expect("How old are you")
    c.sendline("58 years")
    c.expect("climb stairs")
    c.sendline("Yeah")
    c.expect("stand up from a chair")
    c.sendline("maybe")  # not accepted: says what is
    c.expect("Please type yes or no")
    c.sendline("maybe not")
    c.expect("Please type yes or no")
    c.sendline("nope")
    c.expect("lift the arms")
    c.sendline("back")  # back to the chair question
    c.expect("stand up from a chair")
    c.sendline("YEP")
    c.expect("lift the arms")
    c.sendline("Don't know")
    c.expect("get up after a fall")
    c.sendline("dk")
    c.expect("both sides")
    c.sendline("y")
    c.expect("How fast")
    c.sendline("over weeks")
    c.expect("swallow")
    c.sendline("not sure")
    c.expect("choke")  # asked: swallowing is not known to be fine
    c.sendline("Nope.")
    c.expect("short of breath")
    c.sendline("n")
    c.expect("dry cough")
    c.sendline("N")
    c.expect("ache or hurt")
    c.sendline("?")
    c.expect("urine dark")
    c.sendline("no")
    c.expect("rash")
    c.sendline("no")
    c.expect("atorvastatin, simvastatin, rosuvastatin, pravastatin, lovastatin, fluvastatin, pitavastatin")
    c.sendline("Atorvastatin")  # a drug name as the answer
    c.expect("take it now")
    c.sendline("y")
    c.expect("red yeast rice")
    c.sendline("3")
    c.expect("oyster mushrooms")
    c.sendline("never")
    c.expect("high CK")
    c.sendline("yes")
    c.expect("highest CK number")
    c.sendline("9.000")  # never read silently as 9
    c.expect("Did you mean 9000")
    c.sendline("n")
    c.expect("highest CK number")
    c.sendline("15000 U/L")
    c.expect("family")
    c.sendline("no")
    c.expect("See a doctor within one to two weeks")
    assert finish(c) == 0
    assert read_document(saved) == {
        "answering_for": "self",
        "age": 58,
        "trouble_climbing_stairs": True,
        "trouble_rising_from_chair": True,
        "trouble_lifting_arms_overhead": "dont_know",
        "trouble_getting_up_after_fall": "dont_know",
        "weakness_both_sides": True,
        "onset": "weeks",
        "trouble_swallowing": "dont_know",
        "choking": False,
        "short_of_breath": False,
        "chronic_dry_cough": False,
        "muscle_pain": "dont_know",
        "dark_urine": False,
        "rash_eyelids_or_knuckles": False,
        "statin": "current",
        "red_yeast_rice": "never",
        "oyster_mushrooms": "never",
        "known_high_ck": True,
        "ck_value": 15000,
        "family_history_muscle_disease": False,
    }


def test_five_wrong_answers_never_end_the_interview() -> None:
    c = spawn()
    c.expect("Are you answering")
    for _ in range(7):
        c.sendline("banana")
        c.expect("Please type one of the numbers shown")
    c.sendline("1")
    c.expect("How old")
    c.sendintr()
    c.expect("save your answers so far")
    c.sendline("n")
    c.expect("not saved")
    assert finish(c) == 130


# ------------------------------------------------------------------ Ctrl-C


def test_ctrl_c_saves_to_the_save_path_and_loses_nothing(tmp_path: Path) -> None:
    saved = tmp_path / "partial.yaml"
    c = spawn("--save", str(saved))
    c.expect("Are you answering")
    c.sendline("2")
    c.expect("How old is the person with the symptoms")
    c.sendline("9")
    c.expect("Is it hard for your child to climb stairs")
    c.sendline("y")
    c.expect("Is it hard for your child to stand up from a chair")
    c.sendintr()  # SIGINT, as Ctrl-C at the terminal
    c.expect("save your answers so far")
    c.sendline("yes")
    c.expect("saved to this file")
    assert finish(c) == 130
    assert read_document(saved) == {
        "answering_for": "someone_else",
        "age": 9,
        "trouble_climbing_stairs": True,
    }
    # the saved answers are a valid answers file
    r = spawn(str(saved))
    r.expect("Rheumatologist for children \\(paediatric rheumatologist\\)")
    assert finish(r) == 0


def test_ctrl_c_without_save_asks_for_a_file_name(tmp_path: Path) -> None:
    c = spawn(cwd=tmp_path)
    c.expect("Are you answering")
    c.sendline("1")
    c.expect("How old")
    c.sendline("44")
    c.expect("climb stairs")
    c.sendintr()
    c.expect("save your answers so far")
    c.sendline("y")
    c.expect("Type a file name")
    c.sendline(str(tmp_path))  # a folder: said so, asked again
    c.expect("is a folder")
    c.expect("Type a file name")
    c.sendline("later.yaml")
    c.expect("saved to this file")
    assert finish(c) == 130
    assert read_document(tmp_path / "later.yaml") == {"answering_for": "self", "age": 44}


# ------------------------------------------------------------------ carers and urgent advice


def test_a_carer_hears_about_the_person_and_urgent_advice_comes_first(tmp_path: Path) -> None:
    import io

    c = spawn("--save", str(tmp_path / "mum.yaml"))
    seen = io.StringIO()
    c.logfile_read = seen
    c.expect("Are you answering")
    c.sendline("someone else")
    c.expect("How old is the person with the symptoms")
    c.sendline("70")
    c.expect("Is it hard for the person to climb stairs")
    c.sendline("y")
    for prompt in ("stand up from a chair", "lift their arms", "get up after a fall", "both sides"):
        c.expect(prompt)
        c.sendline("y")
    c.expect("How fast")
    c.sendline("1")  # over days
    for _ in range(20):
        i = c.expect(["\\? = don't know", "URGENT: Get medical care today"])
        if i == 1:
            break
        c.sendline("")
    c.expect(pexpect.EOF)
    rest = c.before
    c.close()
    out = seen.getvalue().split("URGENT:")[0]
    assert c.exitstatus == 0
    import re

    asked = [
        line for line in out.splitlines() if line.strip().endswith("?") and "Are you answering" not in line
    ]
    assert len(asked) >= 8
    assert not [line for line in asked if re.search(r"\byou\b|\byour\b", line)]
    assert "A doctor should check this soon" not in rest  # lower-level reasons are not advice
    assert "You answered for someone else" in rest
