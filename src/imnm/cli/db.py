"""`imnm db upgrade|current`: apply the store's migrations, show the schema version."""

from __future__ import annotations

import typer

from imnm.cli.common import JsonOpt, console, handle_errors, print_json
from imnm.cli.store import DatabaseOpt

db_app = typer.Typer(help="The store's database schema (migrations ship with imnm).", no_args_is_help=True)


@db_app.command("upgrade")
@handle_errors()
def upgrade(database: str | None = DatabaseOpt, as_json: bool = JsonOpt) -> None:
    """Create or upgrade the schema to this version (safe to run again)."""
    from imnm.cli.store import open_db
    from imnm.store.db import safe_url

    db = open_db(database, check=False)
    before, after = db.upgrade()
    if as_json:
        print_json({"database": safe_url(db.url), "before": before, "after": after})
        return
    what = "already at" if before == after else f"upgraded from {before or 'empty'} to"
    console().print(f"✔ {safe_url(db.url)}: {what} schema {after}", markup=False)


@db_app.command("current")
@handle_errors()
def current(database: str | None = DatabaseOpt, as_json: bool = JsonOpt) -> None:
    """Show the schema version of the database and the version this code needs (exit 2 when they differ)."""
    from imnm.cli.common import EXIT_INVALID
    from imnm.cli.store import open_db
    from imnm.store.db import head_revision, safe_url

    db = open_db(database, check=False)
    cur, head = db.current_revision(), head_revision()
    if as_json:
        print_json({"database": safe_url(db.url), "current": cur, "head": head, "up_to_date": cur == head})
    else:
        state = "up to date" if cur == head else "out of date: run imnm db upgrade"
        console().print(
            f"{safe_url(db.url)}: schema {cur or 'none'} (this version needs {head}): {state}", markup=False
        )
    if cur != head:
        raise typer.Exit(EXIT_INVALID)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
