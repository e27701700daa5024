"""Engine and sessions; schema version check and upgrade (Alembic, migrations inside the package).

SQLite: WAL journal, `synchronous=NORMAL`, foreign keys on, a 10 s busy timeout, and every
transaction starts with `BEGIN IMMEDIATE` so concurrent writers queue instead of failing on a
lock upgrade. PostgreSQL: `postgresql+psycopg://...` with pre-ping.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from imnm.errors import ImnmError, InputError, Problem

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class SchemaError(ImnmError):
    """The database schema is missing or older than the code; the message names the fix."""


def check_url(url: str) -> str:
    try:
        u = make_url(url)
    except ArgumentError:
        raise InputError(
            [
                Problem(
                    "IMNM_DATABASE_URL",
                    f"{url!r} is not a database URL",
                    "use sqlite:///path/to/imnm.db or postgresql+psycopg://user:password@host:port/db",
                    url,
                )
            ],
            what="database URL",
        ) from None
    if u.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise InputError(
            [
                Problem(
                    "IMNM_DATABASE_URL",
                    f"driver {u.drivername!r} is not supported",
                    "use sqlite:/// or postgresql+psycopg://",
                    u.drivername,
                )
            ],
            what="database URL",
        )
    return url


def make_engine(url: str, *, pooled: bool = True) -> Engine:
    """`pooled=False` (the command line): every connection closes when its transaction ends."""
    from sqlalchemy.pool import NullPool

    check_url(url)
    u = make_url(url)
    extra: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
    if u.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, **extra)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # Readers take no lock (WAL); writers queue for the write lock at BEGIN.
            conn.exec_driver_sql(
                "BEGIN" if conn.get_execution_options().get("imnm_read") else "BEGIN IMMEDIATE"
            )

        return engine
    if not pooled:
        return create_engine(url, **extra)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class _WriteQueue:
    """SQLite file databases: writers of this process (threads) and of other processes (workers) queue
    on a lock file before BEGIN IMMEDIATE. SQLite's own busy handler polls with sleeps of up to 100 ms,
    which shows as a long latency tail when two workers write audit events; a blocked `flock` wakes at
    once. Other programs (and this code without the lock) still wait on SQLite's busy timeout."""

    def __init__(self, path: str) -> None:
        self.path = path + ".writelock"
        self.local = threading.RLock()
        self.fd: int | None = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self.local:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - not POSIX
                yield
                return
            if self.fd is None:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, *, pooled: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url, pooled=pooled)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.readers = sessionmaker(self.engine.execution_options(imnm_read=True), expire_on_commit=False)
        path = make_url(url).database if self.engine.dialect.name == "sqlite" else None
        self.queue = (
            _WriteQueue(path) if path and path != ":memory:" and not path.startswith("file:") else None
        )

    @contextmanager
    def _queued(self) -> Iterator[None]:
        if self.queue is None:
            yield
        else:
            with self.queue.hold():
                yield

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on an exception."""
        with self._queued(), self.sessions() as s, s.begin():
            yield s

    @contextmanager
    def writer(self) -> Iterator[Connection]:
        """A Core connection in a write transaction (e.g. one audit event)."""
        with self._queued(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only transaction (on SQLite it takes no write lock; do not write in it)."""
        with self.readers() as s, s.begin():
            yield s

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()
        if self.queue is not None:
            self.queue.close()

    # -- schema ------------------------------------------------------------------------------

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def check_schema(self) -> None:
        """Raise `SchemaError` (naming the command that fixes it) unless the schema is at head."""
        current, head = self.current_revision(), head_revision()
        if current is not None and current != head and current not in known_revisions():
            raise SchemaError(
                f"the database {safe_url(self.url)} is at schema {current}, newer than this version of imnm "
                f"knows (it needs {head}): install the imnm version that created it, or a newer one"
            )
        if current != head:
            state = "has no IMNM schema" if current is None else f"is at schema {current}"
            raise SchemaError(
                f"the database {safe_url(self.url)} {state}; this version needs {head}. "
                f"Run: imnm db upgrade --database '{safe_url(self.url)}'"
            )

    def upgrade(self) -> tuple[str | None, str]:
        """Apply every migration; return (before, after)."""
        from alembic import command

        before = self.current_revision()
        with self.writer() as conn:
            cfg = alembic_config(self.url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        return before, head_revision()

    def secret(self, name: str = "secret_key") -> str:
        """A per-database secret, generated on first use and kept (used when IMNM_SECRET_KEY is unset)."""
        from sqlalchemy.exc import IntegrityError

        from imnm.store.models import AppSecret

        try:
            with self.session() as s:
                row = s.get(AppSecret, name)
                if row is None:
                    row = AppSecret(name=name, value=secrets.token_urlsafe(48))
                    s.add(row)
                return row.value
        except IntegrityError:  # another worker created it at the same moment
            with self.session() as s:
                found = s.get(AppSecret, name)
                assert found is not None
                return found.value


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


@lru_cache(maxsize=1)
def known_revisions() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    return frozenset(
        r.revision for r in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()
    )


def safe_url(url: str) -> str:
    """The URL with any password hidden (for messages and logs)."""
    return make_url(url).render_as_string(hide_password=True)
