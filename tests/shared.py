"""Where the shared reference material (../shared) is: IMNM_SHARED, else the sibling folder, else /work/shared.

A missing folder is a test failure with a clear message, never a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _find() -> Path:
    env = os.environ.get("IMNM_SHARED")
    if env:
        return Path(env)
    sibling = ROOT.parent / "shared"
    return sibling if sibling.exists() else Path("/work/shared")


SHARED = _find()


def shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"shared reference material missing: {path} (set IMNM_SHARED to the shared/ folder)")
    return path
