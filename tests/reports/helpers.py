"""Reports under test: built once per session, with the poppler tools (Debian poppler-utils) to read them."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AS_OF, EXAMPLES, ROOT

ARTIFACTS = ROOT / "build" / "test-artifacts" / "reports"
RECORDS = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))
ANSWERS = EXAMPLES / "screener" / "answers.yaml"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: install Debian poppler-utils (make test does it when it is missing)")
    return path


def run(*args: str, data: bytes | None = None) -> str:
    p = subprocess.run(list(args), input=data, capture_output=True, check=True, timeout=120)
    return p.stdout.decode("utf-8")


def write_pdf(pdf: bytes, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / f"{name}.pdf"
    out.write_bytes(pdf)
    return out


def pdftotext(pdf: bytes, *, layout: bool = True) -> str:
    args = [tool("pdftotext"), *(["-layout"] if layout else []), "-enc", "UTF-8", "-", "-"]
    return run(*args, data=pdf)


def pages_text(pdf: bytes) -> list[str]:
    """The text of each page (pdftotext separates pages with a form feed)."""
    return pdftotext(pdf).split("\f")[:-1]


def pdfinfo(pdf: bytes) -> dict[str, str]:
    out = run(tool("pdfinfo"), "-", data=pdf)
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines()) if k}


def pdffonts(pdf: bytes) -> list[dict[str, str]]:
    """One row per font: name, type, emb, sub, uni (the table `pdffonts` prints)."""
    out = run(tool("pdffonts"), "-", data=pdf).splitlines()
    rows = []
    for line in out[2:]:
        parts = line.split()
        # name type [type...] encoding emb sub uni object ID: read from the right
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return rows


def page1_png(pdf_path: Path, name: str, *, dpi: int = 80) -> Path:
    """Render page 1 to PNG with pdftoppm (kept as a test artifact)."""
    prefix = ARTIFACTS / f"{name}-page1"
    subprocess.run(
        [
            tool("pdftoppm"),
            "-png",
            "-r",
            str(dpi),
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf_path),
            str(prefix),
        ],
        check=True,
        timeout=120,
    )
    return prefix.with_suffix(".png")


@cache
def record(name: str) -> Any:
    from imnm import services

    return services.load_patient(EXAMPLES / f"{name}.yaml")


@cache
def long_record(visits: int = 30, labs: int = 200) -> Any:
    from imnm.record.load import parse_record
    from imnm.synthetic import long_followup_record

    return parse_record(long_followup_record(visits=visits, labs=labs))


@cache
def built(
    name: str,
    kind: str = "clinician",
    paper: str = "a4",
    as_of: date = AS_OF,
    share: tuple[str, ...] | None = None,
) -> Any:
    from imnm import reports
    from imnm.screen.answers import load_answers

    subject = (
        load_answers(ANSWERS) if name == "answers" else long_record() if name == "long" else record(name)
    )
    return reports.build(subject, kind=kind, as_of=as_of, paper=paper, share=share)


@cache
def pdf(name: str, kind: str = "clinician", paper: str = "a4", share: tuple[str, ...] | None = None) -> bytes:
    data: bytes = built(name, kind, paper, share=share).pdf()
    return data
