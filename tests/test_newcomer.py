"""A newcomer gets going (issue 9 item 21): after `make run` the README says how to run `imnm`,
`make run` ends with one "what next" line, and the plotting extra is installed there."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def _recipe(target: str) -> list[str]:
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"^{re.escape(target)}\s*:", line))
    out = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        out.append(line.strip())
    return out


def test_make_run_installs_the_plotting_extra() -> None:
    installs = [line for line in _recipe("$(STAMP)") if "pip install" in line]
    # plots (imnm activity --plot) and the reports make run writes (issue 15)
    assert installs and all('".[plot,reports]"' in line for line in installs)
    assert "$(STAMP)" in (ROOT / "Makefile").read_text().split("\nrun:")[1].splitlines()[0]


def test_make_run_ends_with_one_short_what_next_line() -> None:
    last = _recipe("run")[-1]
    assert last.startswith("@echo") and "What next" in last
    assert len(last) < 120
    assert ".venv/bin/imnm" in last


def test_readme_says_how_to_run_imnm_after_make_run() -> None:
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    assert ".venv/bin/imnm" in setup
    assert ". .venv/bin/activate" in setup
    assert "imnm --version" in setup and "--plot" in setup
