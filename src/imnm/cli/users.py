"""`imnm users create-admin|add|list|disable|set` and `imnm teams add|list` (no default accounts)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from imnm.cli.common import JsonOpt, console, handle_errors, print_json
from imnm.cli.store import DatabaseOpt

users_app = typer.Typer(
    help="User accounts, roles (clinician, coordinator, auditor, admin) and teams.", no_args_is_help=True
)
teams_app = typer.Typer(help="Care teams: patients belong to one, users to any.", no_args_is_help=True)

StdinOpt: Any = typer.Option(
    False, "--password-stdin", help="Read the password from the first line of stdin."
)
RoleOpt: Any = typer.Option(..., "--role", help="clinician, coordinator, auditor or admin (repeatable).")
TeamOpt: Any = typer.Option([], "--team", help="A team the user belongs to (repeatable).")


def _audit(s: Any, action: str, detail: str) -> None:
    from imnm.store import audit
    from imnm.store.principal import operator

    audit.append(
        s,
        audit.Event(
            action, principal=operator(), route=f"cli: imnm {action.replace('.', ' ')}", detail=detail
        ),
    )


@users_app.command("create-admin")
@handle_errors()
def create_admin(
    username: str = typer.Argument(..., help="The admin's user name."),
    password_stdin: bool = StdinOpt,
    also: Annotated[
        list[str] | None, typer.Option("--also", help="Extra roles, e.g. --also clinician (with --team).")
    ] = None,
    team: list[str] = TeamOpt,
    database: str | None = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Create an admin account. Asks for the password (twice), or reads it with --password-stdin."""
    _create(username, ["admin", *(also or [])], team, password_stdin, database, as_json)


@users_app.command("add")
@handle_errors()
def add(
    username: str = typer.Argument(..., help="The new user name."),
    role: list[str] = RoleOpt,
    team: list[str] = TeamOpt,
    password_stdin: bool = StdinOpt,
    database: str | None = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Create a user with roles and teams (the password is asked for, or read from stdin)."""
    _create(username, role, team, password_stdin, database, as_json)


def _create(
    username: str, roles: list[str], teams: list[str], stdin: bool, database: str | None, as_json: bool
) -> None:
    from imnm.cli.store import open_db, read_password
    from imnm.store import users

    db = open_db(database)
    password = read_password(stdin)
    with db.session() as s:
        u = users.create_user(s, username, password, roles=roles, teams=teams)
        info = users.user_dict(s, u)
        _audit(s, "user.create", username)
    if as_json:
        print_json(info)
    else:
        console().print(
            f"✔ user {username}: roles {', '.join(info['roles'])}; teams {', '.join(info['teams']) or 'none'}",
            markup=False,
        )


@users_app.command("list")
@handle_errors()
def list_(database: str | None = DatabaseOpt, as_json: bool = JsonOpt) -> None:
    """List users with their roles, teams and state."""
    from imnm.cli.store import open_db
    from imnm.store import users

    db = open_db(database)
    with db.session() as s:
        rows = [users.user_dict(s, u) for u in users.list_users(s)]
    if as_json:
        print_json({"users": rows})
        return
    from rich.table import Table

    t = Table("user", "roles", "teams", "active")
    for r in rows:
        t.add_row(r["username"], ", ".join(r["roles"]), ", ".join(r["teams"]), "yes" if r["active"] else "no")
    console().print(t)


@users_app.command("set")
@handle_errors()
def set_(
    username: str = typer.Argument(...),
    role: Annotated[list[str] | None, typer.Option("--role", help="Replace the roles (repeatable).")] = None,
    team: Annotated[list[str] | None, typer.Option("--team", help="Replace the teams (repeatable).")] = None,
    database: str | None = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Replace a user's roles and/or teams."""
    from imnm.cli.store import open_db
    from imnm.store import users

    db = open_db(database)
    with db.session() as s:
        u = users.set_user(s, username, roles=role or None, teams=team or None)
        info = users.user_dict(s, u)
        _audit(s, "user.update", f"{username}: roles={role} teams={team}")
    if as_json:
        print_json(info)
    else:
        console().print(
            f"✔ {username}: roles {', '.join(info['roles'])}; teams {', '.join(info['teams'])}", markup=False
        )


@users_app.command("disable")
@handle_errors()
def disable(
    username: str = typer.Argument(...), database: str | None = DatabaseOpt, as_json: bool = JsonOpt
) -> None:
    """Disable an account: no more logins; its sessions end and its tokens are revoked."""
    from imnm.cli.store import open_db
    from imnm.store import users

    db = open_db(database)
    with db.session() as s:
        info = users.user_dict(s, users.disable_user(s, username))
        _audit(s, "user.disable", username)
    if as_json:
        print_json(info)
    else:
        console().print(f"✔ {username} disabled", markup=False)


@teams_app.command("add")
@handle_errors()
def team_add(
    name: str = typer.Argument(...), database: str | None = DatabaseOpt, as_json: bool = JsonOpt
) -> None:
    """Create a care team."""
    from imnm.cli.store import open_db
    from imnm.store import users

    db = open_db(database)
    with db.session() as s:
        users.create_team(s, name)
        _audit(s, "team.create", name)
    if as_json:
        print_json({"name": name})
    else:
        console().print(f"✔ team {name}", markup=False)


@teams_app.command("list")
@handle_errors()
def team_list(database: str | None = DatabaseOpt, as_json: bool = JsonOpt) -> None:
    """List care teams."""
    from imnm.cli.store import open_db
    from imnm.store import users

    db = open_db(database)
    with db.session() as s:
        names = [t.name for t in users.list_teams(s)]
    if as_json:
        print_json({"teams": names})
    else:
        for n in names:
            console().print(n, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(teams_app, name="teams")
