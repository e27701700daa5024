"""`imnm audit [--patient P] [--user U] [--since D]` and `imnm audit verify`."""

from __future__ import annotations

import typer

from imnm.cli.common import JsonOpt, console, handle_errors, print_json
from imnm.cli.store import DatabaseOpt

audit_app = typer.Typer(
    help="The audit log of every access to patient data (hash-chained, append-only).",
    invoke_without_command=True,
)


@audit_app.callback()
@handle_errors()
def show(
    ctx: typer.Context,
    patient: str | None = typer.Option(
        None, "--patient", metavar="ID", help="Only events about this patient."
    ),
    user: str | None = typer.Option(None, "--user", metavar="NAME", help="Only events by this user."),
    since: str | None = typer.Option(
        None, "--since", metavar="DATE", help="Only events from this date or time on."
    ),
    action: str | None = typer.Option(None, "--action", help="Only this action, e.g. patient.update."),
    limit: int = typer.Option(1000, "--limit", min=1, help="At most this many events."),
    database: str | None = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """List audit events, oldest first (run `imnm audit verify` to check the chain)."""
    if ctx.invoked_subcommand is not None:
        return
    from imnm.cli.store import open_db
    from imnm.store import audit
    from imnm.store.users import parse_time

    start = parse_time(since, path="--since") if since else None
    db = open_db(database)
    with db.session() as s:
        rows = [
            audit.event_dict(r)
            for r in audit.query(s, patient=patient, user=user, since=start, action=action, limit=limit)
        ]
    if as_json:
        print_json({"events": rows})
        return
    from rich.table import Table

    t = Table("id", "time (UTC)", "who", "role", "action", "patient", "rev", "route", "client", "outcome")
    for r in rows:
        t.add_row(
            str(r["id"]),
            r["at"][:19],
            r["actor"] or "-",
            r["roles"] or "-",
            r["action"],
            r["patient"] or "-",
            "-" if r["revision"] is None else str(r["revision"]),
            r["route"] or "-",
            r["client"] or "-",
            f"{r['outcome']} {r['status'] or ''}".strip(),
        )
    console().print(t)


@audit_app.command("verify")
@handle_errors()
def verify(database: str | None = DatabaseOpt, as_json: bool = JsonOpt) -> None:
    """Check the hash chain: exit 0 when intact, 1 when an event was edited or deleted."""
    from imnm.cli.common import EXIT_FAILURE
    from imnm.cli.store import open_db
    from imnm.store import audit

    db = open_db(database)
    with db.session() as s:
        result = audit.verify(s)
    if as_json:
        print_json(result.as_dict())
    elif result.ok:
        console().print(f"✔ audit chain intact: {result.events} events, head {result.head}", markup=False)
    else:
        c = console()
        c.print(
            f"✘ audit chain broken ({len(result.problems)} problem(s) in {result.events} events):",
            markup=False,
        )
        for p in result.problems:
            c.print(f"  • {p}", markup=False)
    if not result.ok:
        raise typer.Exit(EXIT_FAILURE)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
