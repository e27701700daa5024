"""`imnm tokens create|list|revoke`: API tokens (shown once, stored hashed, scoped, expiring)."""

from __future__ import annotations

import typer

from imnm.cli.common import JsonOpt, console, handle_errors, print_json
from imnm.cli.store import DatabaseOpt

tokens_app = typer.Typer(help="API tokens for scripts and integrations.", no_args_is_help=True)


@tokens_app.command("create")
@handle_errors()
def create(
    user: str = typer.Option(..., "--user", help="The user the token acts as."),
    scope: str = typer.Option(..., "--scope", help="read, write or compute (compute-only: no patient data)."),
    name: str = typer.Option(..., "--name", help="What the token is for."),
    days: float = typer.Option(30, "--days", help="Expires after this many days (≤ 366)."),
    database: str | None = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Create a token and print it once (it is stored hashed and cannot be shown again)."""
    from imnm.cli.store import open_db
    from imnm.cli.users import _audit
    from imnm.store import users

    db = open_db(database)
    with db.session() as s:
        u = users.user_by_name(s, user)
        row, secret = users.create_token(s, u, name=name, scope=scope, days=days)
        info = {**users.token_dict(s, row), "token": secret}
        _audit(s, "token.create", f"token {row.id} for {user} scope {scope}")
    if as_json:
        print_json(info)
        return
    c = console()
    c.print(f"✔ token {info['id']} for {user} (scope {scope}, expires {info['expires_at']}):", markup=False)
    c.print(secret, markup=False)
    c.print("Keep it now: it is not shown again. Use it as: Authorization: Bearer <token>", markup=False)


@tokens_app.command("list")
@handle_errors()
def list_(
    user: str | None = typer.Option(None, "--user", help="Only this user's tokens."),
    database: str | None = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """List tokens (never their secrets)."""
    from imnm.cli.store import open_db
    from imnm.store import users

    db = open_db(database)
    with db.session() as s:
        uid = users.user_by_name(s, user).id if user else None
        rows = [users.token_dict(s, t) for t in users.list_tokens(s, user_id=uid)]
    if as_json:
        print_json({"tokens": rows})
        return
    from rich.table import Table

    t = Table("id", "user", "name", "scope", "prefix", "expires", "state")
    for r in rows:
        state = "active" if r["active"] else ("revoked" if r["revoked_at"] else "expired")
        t.add_row(
            str(r["id"]), r["user"], r["name"], r["scope"], r["prefix"] + "…", r["expires_at"][:10], state
        )
    console().print(t)


@tokens_app.command("revoke")
@handle_errors()
def revoke(
    token_id: int = typer.Argument(..., help="The token's id."),
    database: str | None = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Revoke a token (it stops working at once)."""
    from imnm.cli.store import open_db
    from imnm.cli.users import _audit
    from imnm.store import users

    db = open_db(database)
    with db.session() as s:
        users.revoke_token(s, token_id)
        _audit(s, "token.revoke", f"token {token_id}")
    if as_json:
        print_json({"revoked": token_id})
    else:
        console().print(f"✔ token {token_id} revoked", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(tokens_app, name="tokens")
