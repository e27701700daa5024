"""Rule windows have a documented maximum (issue 9 item 24: huge durations overflowed dates)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from imnm.core.rules import MAX_DURATION, Window
from tests.conftest import EXAMPLES, ROOT


@pytest.mark.parametrize("ok", ["100y", "1200mo", "5217w", "36525d", "0d", "30d"])
def test_windows_up_to_100_years_are_accepted(ok: str) -> None:
    assert Window(before=ok).before == ok


@pytest.mark.parametrize("bad", ["101y", "1201mo", "5218w", "36526d", "99999999999y", "9" * 5000 + "d"])
def test_longer_windows_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        Window(after=bad)
    assert MAX_DURATION in str(info.value)


def test_cli_rule_with_a_huge_window_exits_2(tmp_path: Path) -> None:
    rule = tmp_path / "rule.json"
    rule.write_text(
        json.dumps({"event": {"fact": "medication.rituximab", "window": {"before": "999999999999y"}}})
    )
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "imnm.cli.main",
            "rule",
            str(rule),
            str(EXAMPLES / "anti-hmgcr.yaml"),
            "--as-of",
            "2026-01-01",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr and "100 years" in p.stderr
