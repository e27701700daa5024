"""Where the shared reference material is (`../shared`, else /work/shared; `IMNM_SHARED` overrides).

A missing folder is a test failure with a clear message, never a skip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_DEFAULT = ROOT.parent / "shared"
SHARED = Path(os.environ.get("IMNM_SHARED", _DEFAULT if _DEFAULT.exists() else "/work/shared"))


def shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"shared reference material missing: {path} (set IMNM_SHARED to the shared/ folder)")
    return path
