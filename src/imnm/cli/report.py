"""`imnm report FILE -o report.pdf|report.html`: the clinician's work-up report or the patient's summary.

Thin: it reads the file, checks the options and calls `imnm.reports.report` (the same call the API and
the web app make). Only typer is imported at module level (cold start).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from imnm.cli.common import AsOfOpt, DefaultUlnOpt, JsonOpt, console, handle_errors, parse_as_of, print_json
from imnm.errors import InputError, Problem


def _answers_file(path: Path) -> bool:
    """Is this a screener answers file (a mapping of question ids, without a record's `id`)?"""
    if path.is_dir() or path.suffix.lower() not in (".yaml", ".yml", ".json"):
        return False
    from imnm.io.sources import is_fhir

    if is_fhir(path):
        return False
    from imnm.io.yaml import read_document
    from imnm.screen.answers import QUESTION_IDS

    data = read_document(path)
    if data is None:
        return False
    return isinstance(data, dict) and "id" not in data and all(k in QUESTION_IDS for k in data)


def _revision(path: Path) -> str:
    """A file's revision: its name and the start of its SHA-256 (the store's revision numbers come with the API)."""
    import hashlib

    if path.is_dir():
        digest = hashlib.sha256()
        for f in sorted(path.rglob("*")):
            if f.is_file():
                digest.update(f.relative_to(path).as_posix().encode() + b"\0" + f.read_bytes())
    else:
        digest = hashlib.sha256(path.read_bytes())
    return f"file {path.name}, sha256 {digest.hexdigest()[:12]}"


def _format(out: Path) -> str:
    suffix = out.suffix.lower()
    if suffix in (".pdf", ".html", ".htm"):
        return "pdf" if suffix == ".pdf" else "html"
    raise InputError(
        [
            Problem(
                "-o",
                f"{out.name!r} is not a .pdf or .html file name",
                "name the output report.pdf or report.html",
                value=str(out),
            )
        ],
        what="command line",
    )


@handle_errors()
def report(
    file: Annotated[
        Path,
        typer.Argument(
            help="A patient record (.yaml/.json), a FHIR R4 Bundle or NDJSON folder, or (with --for patient) "
            "a screener answers file.",
            metavar="FILE",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "-o",
            "--output",
            metavar="OUT.pdf|OUT.html",
            help="Where to write the report (PDF or HTML by the name).",
        ),
    ],
    kind: Annotated[
        str,
        typer.Option(
            "--for",
            metavar="clinician|patient",
            help="clinician (default): the work-up report; patient: a plain-language summary in large type.",
        ),
    ] = "clinician",
    as_of: str | None = AsOfOpt,
    paper: Annotated[
        str, typer.Option("--paper", metavar="a4|letter", help="Paper size (default a4).")
    ] = "a4",
    share: Annotated[
        list[str],
        typer.Option(
            "--share",
            metavar="results|diagnosis|trials",
            help="Patient summary of a record: what the clinician shares (repeat the option; default: results). "
            "The tests to expect, questions to ask and when to get care at once are always in it.",
        ),
    ] = [],  # noqa: B006 - typer reads the default
    default_uln: str | None = DefaultUlnOpt,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output file.")] = False,
    as_json: bool = JsonOpt,
) -> None:
    """Write a printable report: the clinician's work-up report (header, summary, test interpretation,
    EULAR/ACR items with the range figure, ENMC 224, mimics, safety work-up, next tests, the CK and
    MMT-8 chart with the activity table and TIS, trials, choices, sources) or the patient's summary.

    The same input gives the same bytes (PDF dates from --as-of). Exit code 0 when written, 2 for
    invalid input or options.
    """
    from imnm import reports

    problems = []
    try:
        fmt = _format(output)
    except InputError as exc:
        problems.extend(exc.problems)
        fmt = "pdf"
    if kind not in reports.KINDS:
        problems.append(
            Problem("--for", f"{kind!r} is not a report kind", "use clinician or patient", value=kind)
        )
    if paper not in reports.PAPERS:
        problems.append(Problem("--paper", f"{paper!r} is not a paper size", "use a4 or letter", value=paper))
    from imnm.reports.patient import SHARE_OPTIONS

    for item in share:
        if item not in SHARE_OPTIONS:
            problems.append(
                Problem(
                    "--share",
                    f"{item!r} is not something to share",
                    f"use {', '.join(SHARE_OPTIONS)}",
                    value=item,
                )
            )
    if share and kind != "patient":
        problems.append(
            Problem("--share", "only the patient summary has --share", "add --for patient", value=share[0])
        )
    if output.exists() and not overwrite:
        problems.append(
            Problem(
                "-o",
                f"{output} exists",
                "pass --overwrite to replace it, or choose another name",
                value=str(output),
            )
        )
    if output.parent != Path("") and not output.parent.is_dir():
        problems.append(
            Problem("-o", f"the folder {output.parent} does not exist", "create it first", value=str(output))
        )
    if problems:
        raise InputError(problems, what="command line")
    day = parse_as_of(as_of)
    from imnm.cli.common import settings_from

    settings = settings_from(default_uln)
    subject: Any
    if not file.exists():
        raise InputError(
            [Problem("FILE", "file not found", "check the path", value=str(file))], what=str(file)
        )
    if _answers_file(file):
        from imnm.screen.answers import load_answers

        subject = load_answers(file)
        if kind != "patient":
            raise InputError(
                [
                    Problem(
                        "--for",
                        f"{file.name} is a screener answers file: it gives only a patient summary",
                        "add --for patient (or give a patient record for the clinician report)",
                        value=kind,
                    )
                ],
                what="command line",
            )
    else:
        from imnm import services

        subject = services.load_patient(file)
    built = reports.build(
        subject,
        kind=kind,
        as_of=day,
        settings=settings,
        paper=paper,
        revision=_revision(file),
        share=tuple(share) if share else None,
    )
    pages = None
    if fmt == "pdf":
        data, pages = built.pdf_and_pages()
    else:
        data = built.html.encode("utf-8")
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(output)  # atomic: a failed run never leaves half a report
    info: dict[str, Any] = {
        "ok": True,
        "file": str(output),
        "format": fmt,
        "kind": built.kind,
        "patient_id": built.patient_id,
        "as_of": day.isoformat(),
        "paper": paper,
        "bytes": len(data),
        "sections": list(built.sections),
        "contents": built.facts,
    }
    if pages is not None:
        info["pages"] = pages
    if as_json:
        print_json(info)
        return
    console().print(
        f"{'work-up report' if built.kind == 'clinician' else 'patient summary'} for {built.patient_id} "
        f"(as of {day.isoformat()}) written to {output} "
        f"({fmt.upper()}, {len(data):,} bytes)",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.command("report")(report)
