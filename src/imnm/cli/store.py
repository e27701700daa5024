"""Shared plumbing of the commands that work on the store (`db`, `users`, `tokens`, `patients`, `audit`).

Only typer is imported here; SQLAlchemy and the store load inside the commands.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

DatabaseOpt: Any = typer.Option(
    None,
    "--database",
    metavar="URL",
    envvar="IMNM_DATABASE_URL",
    help="Database URL (default: $IMNM_DATABASE_URL, else sqlite:///imnm.db in the working directory). "
    "PostgreSQL: postgresql+psycopg://user:password@host:port/db",
)


def open_db(url: str | None, *, check: bool = True) -> Any:
    """The database, its schema checked (SchemaError names `imnm db upgrade`)."""
    from imnm.store.config import DEFAULT_DATABASE_URL
    from imnm.store.db import Database

    db = Database(url or DEFAULT_DATABASE_URL, pooled=False)
    if check:
        db.check_schema()
    return db


def read_password(from_stdin: bool, *, confirm: bool = True) -> str:
    """The password from stdin (one line) or asked twice on the terminal; never a default."""
    from imnm.errors import InputError, Problem

    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
    elif sys.stdin.isatty():
        password = str(typer.prompt("Password", hide_input=True, confirmation_prompt=confirm))
    else:
        raise InputError(
            [
                Problem(
                    "--password-stdin",
                    "no terminal to ask for the password",
                    "pipe it in with --password-stdin (e.g. from a secrets manager)",
                )
            ],
            what="command line",
        )
    from imnm.store.users import check_password

    check_password(password)
    return password
