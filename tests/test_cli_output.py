"""Terminal output and the error handler (issue 9 items 21, 23, 24): what a person sees is complete,
readable in any terminal encoding, and errors never break on the text they quote."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from imnm.cli import common
from imnm.errors import Problem
from tests.conftest import EXAMPLES, ROOT

IMNM = [sys.executable, "-m", "imnm.cli.main"]
SYMBOLS = "✔✘👁×≥≤→…•⚠❗✅"


def imnm(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*IMNM, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        env={**os.environ, **(env or {})},
        encoding="utf-8",
        errors="strict",  # any byte the child could not encode would show up here
    )


def _strict_json(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


# ------------------------------------------------------------------ item 24: the error handler


def test_markup_characters_in_a_file_path_reach_the_user_verbatim(tmp_path: Path) -> None:
    folder = tmp_path / "[b]red["
    folder.mkdir()
    bad = folder / "b].yaml"  # the path reads .../[b]red[/b].yaml
    bad.write_text("id: '[/b]'\nsex: '[bold]x'\n", encoding="utf-8")
    p = imnm("validate", str(bad))
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr and "unexpected failure" not in p.stderr
    assert f"problem(s) in {bad}" in p.stderr
    assert "'[bold]x' is not allowed" in p.stderr
    missing = imnm("validate", str(tmp_path / "[/b]missing.yaml"))
    assert missing.returncode == 2 and "[/b]missing.yaml" in missing.stderr


def test_nan_in_a_problem_keeps_json_output_valid(capsys: pytest.CaptureFixture[str]) -> None:
    common.report_problems(
        [Problem("labs[0].value", "odd", value=float("nan")), Problem("x", "odd", value=float("-inf"))],
        as_json=True,
    )
    data = _strict_json(capsys.readouterr().out)
    assert isinstance(data, dict)
    assert [p["value"] for p in data["problems"]] == ["NaN", "-Infinity"]
    common.print_json({"a": [float("inf"), 1.5], "b": {"c": float("nan")}})
    assert _strict_json(capsys.readouterr().out) == {"a": ["Infinity", 1.5], "b": {"c": "NaN"}}


# ------------------------------------------------------------------ item 23: no ellipsis, ASCII fallback


def test_piped_output_is_never_cut() -> None:
    p = imnm("facts", "--list")
    assert p.returncode == 0, p.stderr
    assert "…" not in p.stdout
    for name in ("antibody.HMGCR.positive", "visit.mmt8_min_proximal_grade", "visit.muscle_enzyme_fold"):
        assert name in p.stdout
    f = imnm("facts", str(EXAMPLES / "anti-hmgcr.yaml"), "--as-of", "2026-11-25")
    assert f.returncode == 0 and "…" not in f.stdout


def test_tables_in_a_narrow_terminal_wrap_instead_of_cutting() -> None:
    for cell in ("visit.mmt8_min_proximal_grade", "123456789.123456789"):
        buf = io.StringIO()
        c = common.console(file=buf, width=16, force_terminal=True, color_system=None)
        t = common.table("fact")
        t.add_row(cell)
        c.print(t)
        out = buf.getvalue()
        assert "…" not in out and len(out.splitlines()) > 5  # folded over several lines
        assert cell in "".join(ch for ch in out if ch.isalnum() or ch in "._")


@pytest.mark.parametrize(
    "args",
    [
        ("validate", str(EXAMPLES / "anti-hmgcr.yaml")),
        ("facts", str(EXAMPLES / "anti-hmgcr.yaml"), "--as-of", "2026-11-25"),
        ("facts", "--list"),
        ("screen", str(EXAMPLES / "screener" / "answers.yaml")),
        ("screen", str(EXAMPLES / "screener" / "answers.yaml"), "--explain"),
        ("--help",),
    ],
)
def test_ascii_terminal_gets_ascii_symbols(args: tuple[str, ...]) -> None:
    p = imnm(*args, env={"PYTHONIOENCODING": "ascii"})
    assert p.returncode == 0, p.stderr
    assert "UnicodeEncodeError" not in p.stderr and "Traceback" not in p.stderr
    assert p.stdout.isascii() and p.stderr.isascii()


def test_ascii_terminal_symbols_are_readable_words(tmp_path: Path) -> None:
    ok = imnm("validate", str(EXAMPLES / "anti-hmgcr.yaml"), env={"PYTHONIOENCODING": "ascii"})
    assert ok.stdout.startswith("OK ")
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nsex: f\n", encoding="utf-8")
    p = imnm("validate", str(bad), env={"PYTHONIOENCODING": "ascii"})
    assert p.returncode == 2 and p.stderr.isascii()
    assert "X 1 problem(s)" in p.stderr and "  * " in p.stderr
    assert common.ascii_text("CK ≥ 10 × ULN → biopsy… ⚠️ µkat/L") == "CK >= 10 x ULN -> biopsy... (!) ukat/L"


def test_ascii_terminal_json_stays_lossless() -> None:
    p = imnm(
        "screen", str(EXAMPLES / "screener" / "answers.yaml"), "--json", env={"PYTHONIOENCODING": "ascii"}
    )
    assert p.returncode == 0 and p.stdout.isascii()
    utf8 = imnm("screen", str(EXAMPLES / "screener" / "answers.yaml"), "--json")
    assert _strict_json(p.stdout) == _strict_json(utf8.stdout)


def test_utf8_terminal_keeps_the_symbols() -> None:
    p = imnm("validate", str(EXAMPLES / "anti-hmgcr.yaml"), env={"PYTHONIOENCODING": "utf-8"})
    assert p.stdout.startswith("✔ ")
    assert not set(SYMBOLS) & set(common.ascii_text(SYMBOLS))


# ------------------------------------------------------------------ item 21: --version


def test_version_matches_the_package_metadata() -> None:
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    p = imnm("--version")
    assert p.returncode == 0 and p.stdout.strip() == f"imnm {expected}"
