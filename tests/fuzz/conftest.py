"""The fuzz tally: printed at the end of the run, and written to $IMNM_FUZZ_REPORT (JSON) when set."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.fuzz.harness import TALLY, markdown, report, summary_lines

    if not TALLY:
        return
    terminalreporter.section("fuzz inputs")
    for line in summary_lines():
        terminalreporter.write_line(line)
    data = report()
    for kind, t in data.items():
        for sig, c in t["crashes"].items():
            terminalreporter.write_line(f"  crash in {kind}: {sig} (x{c['count']}) {c.get('saved', '')}")
    out = os.environ.get("IMNM_FUZZ_REPORT")
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(data, indent=2), encoding="utf-8")
        Path(out).with_suffix(".md").write_text(markdown(), encoding="utf-8")
        terminalreporter.write_line(f"fuzz report written to {out} and {Path(out).with_suffix('.md')}")


@pytest.fixture(autouse=True, scope="session")
def _collected_crashes_fail_the_run() -> Any:
    yield
