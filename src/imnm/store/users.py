"""Users, teams and roles; passwords (argon2id via pwdlib); login sessions; API tokens; throttling.

Secrets handed to a person (session cookies, API tokens, erasure tokens) are random and shown
once; the database keeps only their SHA-256 (they carry 256 bits of entropy, so a fast hash is
enough). Passwords are hashed with argon2id.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, delete, func, literal, select, union_all, update
from sqlalchemy.orm import Session

from imnm.errors import ImnmError, InputError, Problem
from imnm.store.models import (
    ROLES,
    SCOPES,
    ApiToken,
    LoginAttempt,
    LoginSession,
    Membership,
    Team,
    User,
    UserRole,
    utcnow,
)
from imnm.store.principal import Principal

MIN_PASSWORD = 12
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
TEAM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,98}$")


class NotFoundError(ImnmError):
    """The thing asked for does not exist (or is not visible to the asker)."""


class ConflictError(ImnmError):
    """The request conflicts with the current state (duplicate name, stale revision, ...)."""

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.extra = extra


class ThrottledError(ImnmError):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@lru_cache(maxsize=1)
def _hasher() -> Any:
    from pwdlib import PasswordHash

    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    return str(_hasher().hash(password))


def verify_password(password: str, hashed: str) -> bool:
    try:
        return bool(_hasher().verify(password, hashed))
    except Exception:
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def check_password(password: str, *, path: str = "password") -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(
            [
                Problem(
                    path,
                    f"the password has {len(password)} characters; at least {MIN_PASSWORD} are needed",
                    "use a longer passphrase (a few unrelated words)",
                )
            ],
            what="password",
        )


# -- teams and users ---------------------------------------------------------------------------


def create_team(s: Session, name: str) -> Team:
    if not TEAM.match(name):
        raise InputError(
            [
                Problem(
                    "name", f"{name!r} is not a team name", "use letters, digits, space . _ - (≤ 100)", name
                )
            ],
            what="team",
        )
    if s.execute(select(Team).where(Team.name == name)).scalar_one_or_none():
        raise ConflictError(f"team {name!r} exists already")
    team = Team(name=name)
    s.add(team)
    s.flush()
    return team


def team_by_name(s: Session, name: str) -> Team:
    team = s.execute(select(Team).where(Team.name == name)).scalar_one_or_none()
    if team is None:
        raise NotFoundError(f"no team {name!r} (create it with `imnm teams add {name}`)")
    return team


def list_teams(s: Session) -> list[Team]:
    return list(s.execute(select(Team).order_by(Team.name)).scalars())


def create_user(
    s: Session,
    username: str,
    password: str,
    *,
    roles: list[str],
    teams: list[str] = (),  # type: ignore[assignment]
    display_name: str | None = None,
) -> User:
    problems: list[Problem] = []
    if not USERNAME.match(username):
        problems.append(
            Problem(
                "username",
                f"{username!r} is not a user name",
                "use 2-63 lower-case letters, digits, . _ - (starting with a letter or digit)",
                username,
            )
        )
    for i, r in enumerate(roles):
        if r not in ROLES:
            problems.append(Problem(f"roles[{i}]", f"{r!r} is not a role", f"use {', '.join(ROLES)}", r))
    if not roles:
        problems.append(Problem("roles", "a user needs at least one role", f"use {', '.join(ROLES)}"))
    if len(password) < MIN_PASSWORD:
        problems.append(
            Problem(
                "password",
                f"the password has {len(password)} characters; at least {MIN_PASSWORD} are needed",
                "use a longer passphrase (a few unrelated words)",
            )
        )
    if problems:
        raise InputError(problems, what="user")
    if s.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise ConflictError(f"user {username!r} exists already")
    team_rows = [team_by_name(s, t) for t in dict.fromkeys(teams)]
    user = User(username=username, display_name=display_name, password_hash=hash_password(password))
    s.add(user)
    s.flush()
    for r in dict.fromkeys(roles):
        s.add(UserRole(user_id=user.id, role=r))
    for t in team_rows:
        s.add(Membership(user_id=user.id, team_id=t.id))
    s.flush()
    return user


def user_by_name(s: Session, username: str) -> User:
    u = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if u is None:
        raise NotFoundError(f"no user {username!r}")
    return u


def user_roles(s: Session, user_id: int) -> frozenset[str]:
    return frozenset(s.execute(select(UserRole.role).where(UserRole.user_id == user_id)).scalars())


def user_team_ids(s: Session, user_id: int) -> frozenset[int]:
    return frozenset(s.execute(select(Membership.team_id).where(Membership.user_id == user_id)).scalars())


def user_dict(s: Session, u: User) -> dict[str, Any]:
    names = {tid: name for tid, name in s.execute(select(Team.id, Team.name)).all()}
    return {
        "username": u.username,
        "display_name": u.display_name,
        "roles": sorted(user_roles(s, u.id)),
        "teams": sorted(names[t] for t in user_team_ids(s, u.id)),
        "active": u.active,
        "created_at": u.created_at.isoformat(),
        "disabled_at": u.disabled_at.isoformat() if u.disabled_at else None,
    }


def list_users(s: Session) -> list[User]:
    return list(s.execute(select(User).order_by(User.username)).scalars())


def set_user(
    s: Session, username: str, *, roles: list[str] | None = None, teams: list[str] | None = None
) -> User:
    u = user_by_name(s, username)
    if roles is not None:
        bad = [r for r in roles if r not in ROLES]
        if bad or not roles:
            raise InputError(
                [
                    Problem(
                        "roles", f"{bad or roles!r} is not a list of roles", f"use {', '.join(ROLES)}", bad
                    )
                ],
                what="user",
            )
        s.execute(delete(UserRole).where(UserRole.user_id == u.id))
        for r in dict.fromkeys(roles):
            s.add(UserRole(user_id=u.id, role=r))
    if teams is not None:
        rows = [team_by_name(s, t) for t in dict.fromkeys(teams)]  # a team named twice is one membership
        s.execute(delete(Membership).where(Membership.user_id == u.id))
        for t in rows:
            s.add(Membership(user_id=u.id, team_id=t.id))
    s.flush()
    return u


def disable_user(s: Session, username: str) -> User:
    """Disable an account: it can no longer log in; its sessions end and its tokens are revoked."""
    u = user_by_name(s, username)
    now = utcnow()
    u.active = False
    u.disabled_at = u.disabled_at or now
    s.execute(
        update(LoginSession)
        .where(LoginSession.user_id == u.id, LoginSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    s.execute(
        update(ApiToken).where(ApiToken.user_id == u.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    s.flush()
    return u


def principal_for(s: Session, u: User, **extra: Any) -> Principal:
    return Principal(
        user_id=u.id,
        username=u.username,
        roles=user_roles(s, u.id),
        team_ids=user_team_ids(s, u.id),
        **extra,
    )


def count_users(s: Session) -> int:
    return int(s.execute(select(func.count()).select_from(User)).scalar_one())


# -- login, throttling and sessions -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Throttle:
    max_account: int
    max_address: int
    window: timedelta


def check_throttle(s: Session, username: str, client: str | None, t: Throttle) -> None:
    now = utcnow()
    since = now - t.window
    last_ok = s.execute(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.username == username, LoginAttempt.success)
    ).scalar_one()
    start = max(since, last_ok) if last_ok else since
    by_account = s.execute(
        select(func.count(), func.min(LoginAttempt.at)).where(
            LoginAttempt.username == username, ~LoginAttempt.success, LoginAttempt.at > start
        )
    ).one()
    retry = int(t.window.total_seconds())
    if by_account[0] >= t.max_account:
        raise ThrottledError("too many failed logins for this account; try again later", retry)
    if client:
        by_address = s.execute(
            select(func.count()).where(
                LoginAttempt.client == client, ~LoginAttempt.success, LoginAttempt.at > since
            )
        ).scalar_one()
        if by_address >= t.max_address:
            raise ThrottledError("too many failed logins from this address; try again later", retry)


def authenticate(s: Session, username: str, password: str, client: str | None, t: Throttle) -> User | None:
    """Check a password (throttled); record the attempt. None when the login fails."""
    check_throttle(s, username, client, t)
    u = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
    ok = verify_password(password, u.password_hash if u else _dummy_hash()) and u is not None and u.active
    s.add(LoginAttempt(username=username[:200], client=client, success=ok))
    s.flush()
    return u if ok else None


def start_session(
    s: Session, user: User, client: str | None, *, max_age: timedelta, previous: str | None = None
) -> str:
    """A new session (the token goes in the cookie); any session presented with the login ends."""
    if previous:
        end_session(s, previous)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    s.add(
        LoginSession(
            token_hash=sha256(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + max_age,
            client=client,
        )
    )
    s.flush()
    return token


def end_session(s: Session, token: str) -> None:
    s.execute(
        update(LoginSession)
        .where(LoginSession.token_hash == sha256(token), LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


TOUCH_EVERY = timedelta(seconds=30)


def session_principal(
    s: Session, token: str, *, idle: timedelta, touch: bool = True
) -> tuple[Principal, bool] | None:
    """The principal of a live session, and whether its last use should be recorded (`touch_session`).

    With `touch` the last use is recorded here (the session must be writable)."""
    row = s.execute(select(LoginSession).where(LoginSession.token_hash == sha256(token))).scalar_one_or_none()
    now = utcnow()
    if row is None or row.ended_at is not None or row.expires_at <= now or row.last_seen_at + idle <= now:
        return None
    u = s.get(User, row.user_id)
    if u is None or not u.active:
        return None
    stale = now - row.last_seen_at > TOUCH_EVERY  # keep writes rare
    if stale and touch:
        row.last_seen_at = now
        stale = False
    return principal_for(s, u, session_id=row.id), stale


def touch_session(s: Session, session_id: int) -> None:
    s.execute(update(LoginSession).where(LoginSession.id == session_id).values(last_seen_at=utcnow()))


# -- API tokens -------------------------------------------------------------------------------

TOKEN_PREFIX = "imnm_"
MAX_TOKEN_DAYS = 366


def create_token(s: Session, user: User, *, name: str, scope: str, days: float) -> tuple[ApiToken, str]:
    problems: list[Problem] = []
    if scope not in SCOPES:
        problems.append(Problem("scope", f"{scope!r} is not a scope", f"use {', '.join(SCOPES)}", scope))
    if not (0 < days <= MAX_TOKEN_DAYS):
        problems.append(
            Problem("expires_in_days", f"{days!r} is out of range", f"use 1 to {MAX_TOKEN_DAYS} days", days)
        )
    if not name or len(name) > 200:
        problems.append(
            Problem("name", "a token needs a name (≤ 200 characters)", "say what it is for", name)
        )
    if problems:
        raise InputError(problems, what="token")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=sha256(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        scope=scope,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    s.add(row)
    s.flush()
    return row, secret


_T, _U = ApiToken.__table__, User.__table__
_TOKEN_LOOKUP = (
    select(_T.c.id, _T.c.scope, _T.c.expires_at, _T.c.revoked_at, _U.c.id, _U.c.username, _U.c.active)
    .join(_U, _U.c.id == _T.c.user_id)
    .where(_T.c.token_hash == bindparam("h"))
)
_GRANTS = union_all(
    select(
        literal("r").label("kind"), UserRole.__table__.c.role.label("role"), literal(None).label("team")
    ).where(UserRole.__table__.c.user_id == bindparam("u")),
    select(literal("t"), literal(None), Membership.__table__.c.team_id).where(
        Membership.__table__.c.user_id == bindparam("u")
    ),
)


def token_principal(s: Session, secret: str) -> Principal | None:
    """The principal of a live API token (hot path: three small Core queries per request)."""
    conn = s.connection()
    row = conn.execute(_TOKEN_LOOKUP, {"h": sha256(secret)}).first()
    if row is None:
        return None
    token_id, scope, expires_at, revoked_at, user_id, username, active = row
    if revoked_at is not None or not active or expires_at <= utcnow():
        return None
    roles, teams = set(), set()
    for kind, role, team in conn.execute(_GRANTS, {"u": user_id}):
        if kind == "r":
            roles.add(role)
        else:
            teams.add(int(team))
    return Principal(
        user_id=user_id,
        username=username,
        roles=frozenset(roles),
        team_ids=frozenset(teams),
        token_id=token_id,
        scope=scope,
    )


def revoke_token(s: Session, token_id: int, *, owner: int | None = None) -> ApiToken:
    row = s.get(ApiToken, token_id)
    if row is None or (owner is not None and row.user_id != owner):
        raise NotFoundError(f"no token {token_id}")
    row.revoked_at = row.revoked_at or utcnow()
    s.flush()
    return row


def list_tokens(s: Session, *, user_id: int | None = None) -> list[ApiToken]:
    stmt = select(ApiToken).order_by(ApiToken.id)
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    return list(s.execute(stmt).scalars())


def token_dict(s: Session, t: ApiToken) -> dict[str, Any]:
    u = s.get(User, t.user_id)
    now = utcnow()
    return {
        "id": t.id,
        "name": t.name,
        "user": u.username if u else None,
        "prefix": t.prefix,
        "scope": t.scope,
        "created_at": t.created_at.isoformat(),
        "expires_at": t.expires_at.isoformat(),
        "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
        "active": t.revoked_at is None and t.expires_at > now,
    }


def parse_time(value: str, *, path: str) -> datetime:
    """An ISO date or date-time (UTC when no zone is given)."""
    from datetime import UTC, date

    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        t = datetime.fromisoformat(value)
        return t if t.tzinfo else t.replace(tzinfo=UTC)
    except ValueError:
        raise InputError(
            [Problem(path, f"{value!r} is not an ISO date or date-time", "write YYYY-MM-DD", value)],
            what="query",
        ) from None
