"""Screener answers kept at a person's request, opened again with a random code.

The code (16 characters of Crockford's base 32, 80 random bits, shown as `K7QD-3M9P-X2HA-8TRC`) is
given to the person once and never stored. The row is found by a SHA-256 of the code, and the answers
are encrypted (AES-256-GCM) with a key derived from the code (HKDF-SHA256, a different label), so
the database alone — a backup, a leaked copy, an administrator — cannot read them. Saves expire
(`IMNM_SCREENER_SAVE_DAYS`, 30 days by default); expired rows are deleted whenever a new save is made
and are never returned. Nothing ties a save to a user or a patient.
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


_SEALED = "aesgcm1:"


def _key(code: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"imnm screener answers v1").derive(
        code.encode()
    )


def seal(code: str, text: str) -> str:
    """The answers encrypted with the key of this (normalised) code."""
    import base64
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    box = AESGCM(_key(code)).encrypt(nonce, text.encode(), b"screener_saves")
    return _SEALED + base64.b64encode(nonce + box).decode()


def unseal(code: str, stored: str) -> str | None:
    """The answers' JSON text, or None when the code does not open them."""
    import base64

    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not stored.startswith(_SEALED):
        return None
    raw = base64.b64decode(stored[len(_SEALED) :])
    try:
        return AESGCM(_key(code)).decrypt(raw[:12], raw[12:], b"screener_saves").decode()
    except InvalidTag:
        return None


def save(s: Session, answers: dict[str, object], *, days: float) -> tuple[str, datetime]:
    """Keep the answers; return the code (shown once) and when they expire."""
    now = utcnow()
    s.execute(delete(ScreenerSave).where(ScreenerSave.expires_at <= now))
    code = new_code()
    key = normalise(code) or ""
    expires = now + timedelta(days=days)
    s.add(
        ScreenerSave(
            code_hash=sha256(key),
            answers=seal(key, json.dumps(answers, ensure_ascii=False, sort_keys=True)),
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
    text = unseal(key, row.answers)
    if text is None:
        return None
    data = json.loads(text)
    return (data if isinstance(data, dict) else {}), row.expires_at
