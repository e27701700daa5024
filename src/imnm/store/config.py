"""Settings of the store and the server, read from the environment (never hard-coded secrets).

| variable | default | meaning |
|---|---|---|
| `IMNM_DATABASE_URL` | `sqlite:///imnm.db` (in the working directory) | SQLAlchemy URL; PostgreSQL: `postgresql+psycopg://user:pw@host/db` |
| `IMNM_SECRET_KEY` | generated once and kept in the database | signs CSRF tokens; set it when several servers share a database |
| `IMNM_SESSION_IDLE_MINUTES` | 30 | a session unused this long ends |
| `IMNM_SESSION_MAX_HOURS` | 12 | a session ends this long after login, used or not |
| `IMNM_COOKIE_SECURE` | `auto` | `auto`: Secure cookies when the request came over HTTPS (proxy headers trusted from `--forwarded-allow-ips`); `always`; `never` |
| `IMNM_MAX_BODY_BYTES` | 2000000 | larger request bodies get 413 |
| `IMNM_LOGIN_MAX_FAILURES_ACCOUNT` | 5 | failed logins per account in the window before 429 |
| `IMNM_LOGIN_MAX_FAILURES_ADDRESS` | 20 | failed logins per client address in the window before 429 |
| `IMNM_LOGIN_WINDOW_MINUTES` | 15 | the throttling window |
| `IMNM_SCREENER_SAVE_DAYS` | 30 | how long the web screener keeps answers a person chose to save |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from imnm.errors import InputError, Problem

DEFAULT_DATABASE_URL = "sqlite:///imnm.db"


@dataclass(frozen=True, slots=True)
class ServerSettings:
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str | None = None
    session_idle_minutes: float = 30.0
    session_max_hours: float = 12.0
    cookie_secure: Literal["auto", "always", "never"] = "auto"
    max_body_bytes: int = 2_000_000
    login_max_failures_account: int = 5
    login_max_failures_address: int = 20
    login_window_minutes: float = 15.0
    screener_save_days: float = 30.0
    check_schema: bool = True

    def with_database(self, url: str | None) -> ServerSettings:
        return self if url is None else replace(self, database_url=url)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerSettings:
        e = os.environ if env is None else env
        problems: list[Problem] = []

        def num(name: str, default: float, *, integer: bool = False) -> float:
            raw = e.get(name)
            if raw is None or raw == "":
                return default
            try:
                value = int(raw) if integer else float(raw)
            except ValueError:
                problems.append(Problem(name, f"{raw!r} is not a number", "write a plain number", raw))
                return default
            if value <= 0:
                problems.append(Problem(name, f"{raw!r} must be positive", "write a number above 0", raw))
                return default
            return value

        secure = e.get("IMNM_COOKIE_SECURE", "auto") or "auto"
        if secure not in ("auto", "always", "never"):
            problems.append(
                Problem(
                    "IMNM_COOKIE_SECURE", f"{secure!r} is not allowed", "use auto, always or never", secure
                )
            )
            secure = "auto"
        out = cls(
            database_url=e.get("IMNM_DATABASE_URL") or DEFAULT_DATABASE_URL,
            secret_key=e.get("IMNM_SECRET_KEY") or None,
            session_idle_minutes=num("IMNM_SESSION_IDLE_MINUTES", 30.0),
            session_max_hours=num("IMNM_SESSION_MAX_HOURS", 12.0),
            cookie_secure=secure,  # type: ignore[arg-type]
            max_body_bytes=int(num("IMNM_MAX_BODY_BYTES", 2_000_000, integer=True)),
            login_max_failures_account=int(num("IMNM_LOGIN_MAX_FAILURES_ACCOUNT", 5, integer=True)),
            login_max_failures_address=int(num("IMNM_LOGIN_MAX_FAILURES_ADDRESS", 20, integer=True)),
            login_window_minutes=num("IMNM_LOGIN_WINDOW_MINUTES", 15.0),
            screener_save_days=num("IMNM_SCREENER_SAVE_DAYS", 30.0),
        )
        if problems:
            raise InputError(problems, what="environment")
        return out
