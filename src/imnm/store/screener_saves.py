"""Screener answers kept at a person's request, opened again with a random code.

The code (16 characters of Crockford's base 32, 80 random bits, shown as `K7QD-3M9P-X2HA-8TRC`) is
given to the person once and stored only as its SHA-256, so the table alone does not let anyone open
the answers. Saves expire (`IMNM_SCREENER_SAVE_DAYS`, 30 days by default); expired rows are deleted
whenever a new save is made and are never returned. Nothing ties a save to a user or a patient.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from imnm.store.models import ScreenerSave, utcnow
from imnm.store.users import sha256

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
CODE_LENGTH = 16
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise(code: str) -> str | None:
    """The code as stored (no separators, upper case, O read as 0 and I/L as 1), or None when it
    cannot be a code."""
    text = re.sub(r"[\s\-_.]", "", code.upper()).translate(_READ_AS)
    if len(text) != CODE_LENGTH or any(c not in ALPHABET for c in text):
        return None
    return text


def save(s: Session, answers: dict[str, object], *, days: float) -> tuple[str, datetime]:
    """Keep the answers; return the code (shown once) and when they expire."""
    now = utcnow()
    s.execute(delete(ScreenerSave).where(ScreenerSave.expires_at <= now))
    code = new_code()
    expires = now + timedelta(days=days)
    s.add(
        ScreenerSave(
            code_hash=sha256(normalise(code) or ""),
            answers=json.dumps(answers, ensure_ascii=False, sort_keys=True),
            created_at=now,
            expires_at=expires,
        )
    )
    s.flush()
    return code, expires


def open_saved(s: Session, code: str) -> tuple[dict[str, object], datetime] | None:
    """The answers saved under this code and when they expire, or None (unknown or expired)."""
    key = normalise(code)
    if key is None:
        return None
    row = s.execute(select(ScreenerSave).where(ScreenerSave.code_hash == sha256(key))).scalar_one_or_none()
    if row is None or row.expires_at <= utcnow():
        return None
    data = json.loads(row.answers)
    return (data if isinstance(data, dict) else {}), row.expires_at
