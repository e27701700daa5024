"""`imnm patients import FILE...|export ID|list`: the store from the command line (audited as the operator)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from imnm.cli.common import JsonOpt, console, handle_errors, print_json
from imnm.cli.store import DatabaseOpt

patients_app = typer.Typer(help="Patients in the store.", no_args_is_help=True)


@patients_app.command("import")
@handle_errors()
def import_(
    files: Annotated[
        list[Path], typer.Argument(help="Record files (.yaml, .yml, .json).", metavar="FILE...")
    ],
    team: str = typer.Option(..., "--team", help="The care team the patients belong to."),
    reason: str = typer.Option("imported", "--reason", help="Why (kept with revision 1)."),
    database: str | None = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Validate every file first (all problems listed, nothing stored if one is invalid), then store each
    as a new patient in TEAM."""
    from imnm.cli.store import open_db
    from imnm.errors import InputError
    from imnm.record.load import load_record
    from imnm.store import audit, patients
    from imnm.store.principal import operator

    records, problems = [], []
    for f in files:
        try:
            records.append((f, load_record(f)))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems, what=f"{len(files)} file(s)")
    db = open_db(database)
    who = operator()
    out = []
    with db.session() as s:
        for f, rec in records:
            p, _ = patients.create(s, who, rec, team=team, reason=f"{reason} ({f.name})")
            audit.append(
                s,
                audit.Event(
                    "patient.create",
                    principal=who,
                    patient_id=p.id,
                    revision=1,
                    route="cli: imnm patients import",
                ),
            )
            out.append({"file": str(f), "id": p.id, "record_id": rec.id, "team": team, "revision": 1})
    if as_json:
        print_json({"imported": out})
        return
    for r in out:
        console().print(
            f"✔ {r['file']}: patient {r['id']} (record {r['record_id']}, team {team})", markup=False
        )


@patients_app.command("export")
@handle_errors()
def export(
    patient_id: str = typer.Argument(..., metavar="ID", help="The patient id (see imnm patients list)."),
    revision: int | None = typer.Option(None, "--revision", min=1, help="This revision (default: current)."),
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the record here (.yaml or .json) instead of stdout."),
    ] = None,
    database: str | None = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Print (or write) a stored record as YAML, or JSON with --json; it validates like any record file."""
    import json

    import yaml

    from imnm.cli.store import open_db
    from imnm.store import audit, patients
    from imnm.store.principal import operator

    db = open_db(database)
    who = operator()
    from imnm.store.users import NotFoundError

    try:
        with db.session() as s:
            p = patients.visible(s, who, patient_id)
            rev = patients.revision(s, p, revision)
            doc = patients.document_of(rev)
            audit.append(
                s,
                audit.Event(
                    "patient.export",
                    principal=who,
                    patient_id=p.id,
                    revision=rev.number,
                    route="cli: imnm patients export",
                ),
            )
    except NotFoundError:
        with db.session() as s:
            audit.append(
                s,
                audit.Event(
                    "patient.export",
                    outcome="denied",
                    principal=who,
                    patient_id=patient_id[:40],
                    route="cli: imnm patients export",
                ),
            )
        raise
    as_json = as_json or (out is not None and out.suffix == ".json")
    text = (
        json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        if as_json
        else yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    )
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console().print(f"✔ patient {patient_id} revision {rev.number} written to {out}", markup=False)


@patients_app.command("list")
@handle_errors()
def list_(
    q: str | None = typer.Option(None, "--search", help="Part of the record id."),
    team: str | None = typer.Option(None, "--team"),
    database: str | None = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """List stored patients (id, record id, team, revision)."""
    from imnm.cli.store import open_db
    from imnm.store import audit, patients
    from imnm.store.principal import operator

    db = open_db(database)
    who = operator()
    with db.session() as s:
        rows, total = patients.search(s, who, q=q, team=team, limit=10_000)
        items = [patients.summary(s, p) for p in rows]
        audit.append(s, audit.Event("patient.list", principal=who, route="cli: imnm patients list"))
    if as_json:
        print_json({"items": items, "total": total})
        return
    from rich.table import Table

    t = Table("id", "record id", "team", "revision")
    for r in items:
        t.add_row(r["id"], r["record_id"], r["team"], str(r["revision"]))
    console().print(t)


def register(app: typer.Typer) -> None:
    app.add_typer(patients_app, name="patients")
