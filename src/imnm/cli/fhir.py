"""`imnm fhir`: FHIR R4 import and export.

imnm fhir import BUNDLE.json|NDJSON_DIR [-o record.yaml] [--report] [--json]
imnm fhir export record FILE [-o bundle.json]          a record (YAML/JSON/FHIR) as a FHIR Bundle
imnm fhir export assessment FILE [--as-of D] [-o ...]   the assessment as a Bundle of Observations
imnm fhir export questionnaire [-o ...]                 the screener as a FHIR Questionnaire
imnm fhir export answers ANSWERS.yaml [-o ...]          screener answers as a QuestionnaireResponse
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from imnm.cli.common import DISCLAIMER, AsOfOpt, JsonOpt, console, handle_errors, parse_as_of, print_json

fhir_app = typer.Typer(
    name="fhir",
    help="FHIR R4 in and out: import a Bundle or bulk-export folder as a record; export records, "
    "assessments and the screener as FHIR resources.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    app.add_typer(fhir_app, name="fhir")


OutOpt = typer.Option(None, "--out", "-o", metavar="FILE", help="Write here instead of standard output.")


@fhir_app.command("import")
@handle_errors()
def import_(
    source: Annotated[
        Path,
        typer.Argument(
            help="A FHIR R4 Bundle JSON (collection, searchset, transaction, "
            "batch), one resource, or a bulk-export NDJSON folder.",
            metavar="BUNDLE.json|NDJSON_DIR",
        ),
    ],
    out: Path | None = OutOpt,
    report: bool = typer.Option(
        False, "--report", help="List every resource: mapped, flagged, not mapped (and why)."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Turn one patient's FHIR data into a record (YAML), keeping each item's source in `ref`.

    Codes are mapped by knowledge/data/fhir_codes.yaml (LOINC, SNOMED CT, ICD-10-CM, RxNorm, UCUM).
    Nothing is guessed: a lab without a unit the units table knows, an antibody without a coded result,
    an unconfirmed condition stay unknown and are listed in the report with the reason.
    """
    from imnm.adapters.fhir import import_path, record_from_result
    from imnm.io.yaml_out import dump_record_yaml

    result = import_path(source)
    rec = record_from_result(result)
    doc = {k: v for k, v in rec.model_dump(mode="json", exclude_none=True).items() if v != {}}
    rep = result.report.as_dict()
    if out is not None:
        out.write_text(
            dump_record_yaml(doc, header=f"Imported from {source} by imnm fhir import"), encoding="utf-8"
        )
    if as_json:
        print_json({"record": doc, "report": rep, "written": str(out) if out else None})
        return
    c = console()
    if out is None and not report:
        c.print(
            dump_record_yaml(doc, header=f"Imported from {source} by imnm fhir import"), markup=False, end=""
        )
    s = rep["summary"]
    c.print(
        f"{rec.id}: {sum(rep['resources'].values())} resources; {s['mapped']} mapped, {s['flagged']} flagged, "
        f"{s['not_mapped']} not mapped, {s['ignored']} ignored"
        + (f"; record written to {out}" if out else ""),
        markup=False,
    )
    if report:
        from rich.table import Table

        t = Table("resource", "outcome", "field", "reason")
        for i in rep["items"]:
            t.add_row(i["resource"], i["outcome"], i["field"] or "", i["reason"])
        c.print(t)
    c.print(codes_notice(), markup=False)


def codes_notice() -> str:
    from imnm.adapters.fhir.codes import loinc_notice

    return loinc_notice()


def _emit(data: dict[str, Any], out: Path | None) -> None:
    # indented for reading; a bundle of thousands of resources is written compact (Python's indenting
    # encoder takes seconds for 10,000 resources; the compact one is ten times faster)
    big = len(data.get("entry") or ()) > 2000
    text = json.dumps(data, indent=None if big else 2, ensure_ascii=False) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console().print(f"wrote {out} ({data['resourceType']})", markup=False)


@fhir_app.command("export")
@handle_errors()
def export(
    what: Annotated[
        str,
        typer.Argument(
            help="record | assessment | questionnaire | answers",
            metavar="record|assessment|questionnaire|answers",
        ),
    ],
    file: Annotated[
        Path | None,
        typer.Argument(
            help="The record (record, assessment) or the screener answers file (answers).", metavar="FILE"
        ),
    ] = None,
    as_of: str | None = AsOfOpt,
    out: Path | None = OutOpt,
) -> None:
    """Write FHIR R4 JSON: a record as a Bundle, an assessment as a Bundle of Observations that reference the
    Observations they came from, the screener as a Questionnaire, screener answers as a QuestionnaireResponse.
    Every resource is checked with fhir.resources (R4B) before it is written.
    """
    from imnm.adapters.fhir import write
    from imnm.errors import InputError, Problem

    kinds = ("record", "assessment", "questionnaire", "answers")
    if what not in kinds:
        raise InputError(
            [Problem("WHAT", f"{what!r} is not an export", f"use one of {', '.join(kinds)}", value=what)],
            what="command line",
        )
    if what in ("record", "assessment", "answers") and file is None:
        raise InputError(
            [Problem("FILE", f"`export {what}` needs a file", "give the record or answers file")],
            what="command line",
        )
    if what == "questionnaire":
        data = write.screener_questionnaire()
    elif what == "answers":
        from imnm.screen.answers import load_answers

        assert file is not None
        data = write.answers_response(load_answers(file))
    else:
        from imnm.io.sources import load_patient

        assert file is not None
        rec = load_patient(file)
        if what == "record":
            data = write.record_to_bundle(rec)
        else:
            from imnm import services
            from imnm.adapters.fhir.assessment import assessment_bundle
            from imnm.errors import InputError

            assessment = services.assess(rec, as_of=parse_as_of(as_of)).as_dict()
            try:
                tis: dict[str, Any] | None = services.response(rec).as_dict()
            except InputError:
                tis = None  # fewer than two visits: no TIS to export
            data = assessment_bundle(rec, assessment=assessment, response=tis)
    problems = write.validate_bundle(data) if data["resourceType"] == "Bundle" else _one(data)
    if problems:  # pragma: no cover - a bug in the writer, never the user's input
        raise RuntimeError("export does not validate as FHIR R4B: " + "; ".join(problems[:3]))
    _emit(data, out)


def _one(resource: dict[str, Any]) -> list[str]:
    from imnm.adapters.fhir.read import validation_problem

    p = validation_problem(resource, "export")
    return [p] if p else []


__all__ = ["DISCLAIMER", "fhir_app", "register"]
