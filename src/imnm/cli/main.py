"""`imnm`: IMNM Navigator on the command line."""

from __future__ import annotations

import os

# The command line loads no pydantic plugins unless asked to: scanning every installed package's
# entry points costs ~20 ms of cold start. Set PYDANTIC_DISABLE_PLUGINS yourself to override.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from pathlib import Path
from typing import Annotated, Any

import typer

from imnm.cli.activity import register as register_activity
from imnm.cli.common import (
    DISCLAIMER,
    EXIT_INVALID,
    AsOfOpt,
    DefaultUlnOpt,
    JsonOpt,
    ascii_fallback,
    console,
    handle_errors,
    parse_as_of,
    print_json,
    report_problems,
    settings_from,
    table,
)

app = typer.Typer(
    name="imnm",
    help="IMNM Navigator: decision support for immune-mediated necrotizing myopathy.\n\n" + DISCLAIMER,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from imnm.version import __version__

        console().print(f"imnm {__version__}", markup=False)
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """IMNM Navigator: decision support for immune-mediated necrotizing myopathy."""


Files = Annotated[
    list[Path],
    typer.Argument(
        help="Record files (.yaml, .yml or .json) or FHIR R4 Bundles / NDJSON folders.", metavar="FILE..."
    ),
]


@app.command()
@handle_errors()
def schema(
    what: Annotated[str, typer.Argument(help="record (default) or rule")] = "record",
    as_json: bool = JsonOpt,
) -> None:
    """Print the JSON Schema of the patient record (or of a rule tree)."""
    import json

    if what == "record":
        from imnm.record.model import Record

        data = Record.model_json_schema()
    elif what == "rule":
        from imnm.core.rules import Rule

        data = Rule.model_json_schema()
    else:
        from imnm.errors import InputError, Problem

        raise InputError([Problem("WHAT", f"{what!r} is not a schema", "use record or rule", value=what)])
    print(json.dumps(data, indent=2, ensure_ascii=False))


@app.command()
@handle_errors()
def validate(files: Files, as_json: bool = JsonOpt) -> None:
    """Check record files and report every problem with its path, value and fix.

    Exit code 0 when all are valid, 2 when any is not.
    """
    from imnm.errors import InputError
    from imnm.io.sources import load_patient
    from imnm.record.checks import override_notes

    results: list[dict[str, Any]] = []
    for f in files:
        try:
            rec = load_patient(f)
            results.append(
                {"file": str(f), "ok": True, "id": rec.id, "problems": [], "overrides": override_notes(rec)}
            )
        except InputError as exc:
            results.append(
                {
                    "file": str(f),
                    "ok": False,
                    "problems": [p.as_dict() for p in exc.problems],
                    "_problems": exc.problems,
                }
            )
    bad = [r for r in results if not r["ok"]]
    if as_json:
        print_json(
            {"ok": not bad, "files": [{k: v for k, v in r.items() if k != "_problems"} for r in results]}
        )
    else:
        c = console()
        for r in results:
            if r["ok"]:
                c.print(f"✔ {r['file']}: valid (id {r['id']})", markup=False)
                for note in r["overrides"]:
                    c.print(f"  ⚠️ override: {note}", markup=False)
            else:
                report_problems(r["_problems"], as_json=False, what=r["file"])
    if bad:
        raise typer.Exit(EXIT_INVALID)


@app.command()
@handle_errors()
def facts(
    file: Annotated[Path | None, typer.Argument(help="A record file; omit with --list.")] = None,
    as_of: str | None = AsOfOpt,
    default_uln: str | None = DefaultUlnOpt,
    list_: bool = typer.Option(False, "--list", help="List the fact vocabulary rules can use."),
    as_json: bool = JsonOpt,
) -> None:
    """Show what a record says for every fact rules can test (unknown ones named with their test)."""
    from imnm.facts import REGISTRY, RecordFacts

    if list_ or file is None:
        specs = list(REGISTRY.specs())
        if as_json:
            print_json(
                [
                    {
                        "name": s.name,
                        "kind": s.kind,
                        "label": s.label,
                        "unit": s.unit,
                        "values": s.values,
                        "dated": s.dated,
                        "test": s.test,
                        "ask": s.ask,
                    }
                    for s in specs
                ]
            )
            return
        t = table("fact", "kind", "unit/values", "supplied by")
        for s in specs:
            t.add_row(
                s.name,
                s.kind + (" (dated)" if s.dated else ""),
                s.unit or (", ".join(s.values) if s.values else ""),
                s.ask,
            )
        console().print(t)
        return
    from imnm.io.sources import load_patient
    from imnm.record.checks import override_notes

    rec = load_patient(file)
    day = parse_as_of(as_of)
    _refuse_as_of(rec, day, file)
    src = RecordFacts(rec, as_of=day, settings=settings_from(default_uln))
    rows = []
    for s in REGISTRY.specs():
        obs = src.get(s.name)
        rows.append((s, obs))
    if as_json:
        print_json(
            {
                "id": rec.id,
                "as_of": day.isoformat(),
                "settings": src.context.settings.describe(("default_uln",)),
                "overrides": override_notes(rec),
                "facts": {
                    s.name: None
                    if obs is None
                    else [
                        {"value": _plain(o.value), "date": o.date, "source": o.source, "note": o.note}
                        for o in obs
                    ]
                    for s, obs in rows
                },
            }
        )
        return
    from rich.text import Text

    t = table("fact", "value", title=f"{rec.id} as of {day.isoformat()}")
    unknown = 0
    for s, obs in rows:
        if obs is None:
            unknown += 1
            continue
        shown = "; ".join(_show(o, s.unit) for o in obs) or "none recorded"
        # Text, not a str: values are data, never console markup, and a fact with 10,000 observations is
        # not highlighted span by span (rich's styling is quadratic in the spans of one cell: 6.9 s).
        t.add_row(s.name, Text(shown))
    c = console()
    c.print(t)
    for note in override_notes(rec):
        c.print(f"⚠️ override: {note}", markup=False)
    c.print(f"{unknown} facts unknown (run with --json to see them all). {DISCLAIMER}", markup=False)


def _refuse_as_of(rec: Any, day: Any, file: Path) -> None:
    """Birth, onset or diagnosis after the evaluation date is an error (imnm.record.checks.check_as_of)."""
    from imnm.errors import Problem, RecordError
    from imnm.record.checks import check_as_of

    problems = check_as_of(rec, day)
    if problems:
        raise RecordError(
            [Problem(p.path, p.message, p.fix, p.value, str(file)) for p in problems], what=str(file)
        )


def _plain(value: object) -> object:
    from imnm.core.facts import Interval, NumRange, OneOf

    if isinstance(value, Interval):
        return {"start": value.start, "stop": value.stop, "ongoing": value.ongoing}
    if isinstance(value, NumRange):
        return {"lo": value.lo, "hi": value.hi}
    if isinstance(value, OneOf):
        return {"one_of": value.sorted()}
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json", exclude_none=True)
    return value


def _show(o: Any, unit: str | None) -> str:
    from imnm.core.facts import Interval, NumRange, OneOf

    v = o.value
    if isinstance(v, Interval):
        text = f"{v.start or '?'} to {'ongoing' if v.ongoing else (v.stop or '?')}"
    elif isinstance(v, NumRange):
        text = f"between {v.lo:g} and {v.hi:g}" + (f" {unit}" if unit else "")
    elif isinstance(v, OneOf):
        text = "one of " + ", ".join(v.sorted())
    elif hasattr(v, "model_dump"):
        text = ", ".join(f"{k}: {x}" for k, x in v.model_dump(exclude_none=True).items())
    elif isinstance(v, float):
        text = f"{v:g}" + (f" {unit}" if unit else "")
    else:
        text = str(v)
    if o.date:
        text += f" ({o.date})"
    if o.note:
        text += f" [{o.note}]"
    return text


@app.command()
@handle_errors()
def rule(
    rule_file: Annotated[Path, typer.Argument(help="A YAML/JSON file holding one rule tree.")],
    record_file: Annotated[Path, typer.Argument(help="A record file.")],
    as_of: str | None = AsOfOpt,
    default_uln: str | None = DefaultUlnOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Evaluate one rule tree against a record: met / not met / unknown, with evidence and missing tests."""
    from pydantic import ValidationError

    from imnm.core.evaluate import evaluate, missing_dict, require_valid
    from imnm.core.rules import Rule, parse_rule
    from imnm.errors import RuleError
    from imnm.facts import REGISTRY, RecordFacts
    from imnm.io.sources import load_patient
    from imnm.io.yaml import read_document
    from imnm.record.load import problems_from

    data = read_document(rule_file)
    try:
        node = parse_rule(data.get("rule", data) if isinstance(data, dict) else data)
    except ValidationError as exc:
        raise RuleError(problems_from(exc, Rule, file=str(rule_file)), what=str(rule_file)) from None
    require_valid(node, REGISTRY, file=str(rule_file))
    rec = load_patient(record_file)
    day = parse_as_of(as_of)
    _refuse_as_of(rec, day, record_file)
    out = evaluate(
        node, RecordFacts(rec, as_of=day, settings=settings_from(default_uln)), as_of=day, registry=REGISTRY
    )
    if as_json:
        print_json(
            {
                "id": rec.id,
                "as_of": day.isoformat(),
                "truth": out.truth.value,
                "missing": [missing_dict(m) for m in out.missing],
                "outcome": out.as_dict(),
            }
        )
        return
    c = console()
    c.print(out.explain(), markup=False)
    if out.missing:
        c.print("\nTo settle it:", markup=False)
        for m in out.missing:
            c.print(f"  • {m}", markup=False)


register_activity(app)  # imnm activity, imnm response (src/imnm/cli/activity.py)
from imnm.cli.screen import screen as _screen  # noqa: E402  (issue 3: patient screener)

app.command(name="screen")(_screen)
app.command("assess")(
    __import__("imnm.cli.assess", fromlist=["assess"]).assess
)  # issue 4: diagnostic work-up
from imnm.cli.trials import register as register_trials  # noqa: E402  (issue 6: trials)

register_trials(app)
from imnm.cli.fhir import register as register_fhir  # noqa: E402  (issue 14: FHIR in and out)

register_fhir(app)
from imnm.cli.report import register as register_report  # noqa: E402  (issue 15: printable reports)

register_report(app)

# issue 11: the records service (store, API) -- each module imports only typer at load time
from imnm.cli import audit as _audit_cli  # noqa: E402
from imnm.cli import db as _db_cli  # noqa: E402
from imnm.cli import patients as _patients_cli  # noqa: E402
from imnm.cli import serve as _serve_cli  # noqa: E402
from imnm.cli import tokens as _tokens_cli  # noqa: E402
from imnm.cli import users as _users_cli  # noqa: E402

for _m in (_serve_cli, _db_cli, _users_cli, _tokens_cli, _patients_cli, _audit_cli):
    _m.register(app)
from imnm.cli.cohort import register as register_cohort  # noqa: E402  (issue 13: OMOP registry screening)

register_cohort(app)

# --help lists the commands in the order of the care path, then the record and rule tools.
_ORDER = (
    "screen",
    "assess",
    "activity",
    "response",
    "trials",
    "validate",
    "facts",
    "rule",
    "schema",
    "fhir",
    "serve",
)


def _order_key(info: Any) -> int:
    name = info.name or (info.callback.__name__ if info.callback else "")
    return _ORDER.index(name) if name in _ORDER else len(_ORDER)


app.registered_commands.sort(key=_order_key)


def run() -> None:
    """Console-script entry point."""
    ascii_fallback()  # a terminal that cannot show ✔ ≥ → gets OK >= -> (also in --help)
    app()


if __name__ == "__main__":  # pragma: no cover
    run()
