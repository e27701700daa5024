"""`imnm assess RECORD...`: the diagnostic work-up of one record (text report or --json), or of many
(several files or a folder: one line per patient, as a table, --json or --csv).

Only typer and the shared CLI plumbing are imported at module level (cold start); the work-up
engine is imported inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from imnm.cli.batch import CsvOpt, is_batch
from imnm.cli.common import AsOfOpt, DefaultUlnOpt, JsonOpt, handle_errors, parse_as_of, print_json

ASSESS_COLUMNS = (
    ("enmc_224", "ENMC 224"),
    ("eular_acr_category", "EULAR/ACR"),
    ("eular_acr_category_range", "range"),
    ("eular_acr_probability_percent", "P %"),
    ("classified_as_iim", "IIM"),
    ("flags", "flags"),
    ("next_test", "next test"),
)


def _opt(flag: str, table_choice: str) -> Any:
    return typer.Option(None, flag, metavar="OPTION", help=f"Choice {table_choice} (default from the table).")


ChoiceOpt: Any = typer.Option(
    [],
    "--choice",
    metavar="SETTING=OPTION",
    help="Any other documented choice, e.g. --choice biopsy_compatible_definition=necrosis_plus_supporting. "
    "The JSON output lists every setting with its table, mark and meaning.",
)


@handle_errors()
def assess(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="A record file (.yaml, .yml, .json or FHIR), several, or a folder of them "
            "(then one line per patient).",
            metavar="FILE...",
        ),
    ],
    as_of: str | None = AsOfOpt,
    default_uln: str | None = DefaultUlnOpt,
    skin_biopsy_rule: str | None = typer.Option(
        None,
        "--skin-biopsy-rule",
        metavar="strict|lenient",
        help="EULAR/ACR: without heliotrope/Gottron, require ≥ 1 scored biopsy item (strict, default) "
        "or only a biopsy performed (lenient).",
    ),
    category_basis: str | None = typer.Option(
        None,
        "--category-basis",
        metavar="score|probability",
        help="EULAR/ACR category by the published score cut-offs (default) or by probability.",
    ),
    classification_minimum: str | None = _opt(
        "--classification-minimum", "eular_acr_2017.classification_minimum"
    ),
    enzymes_value: str | None = _opt("--enzymes-value", "eular_acr_2017.enzymes_value"),
    antibody_confirmation: str | None = _opt("--antibody-confirmation", "enmc_224.antibody_confirmation"),
    biopsy_seropositive: str | None = _opt("--biopsy-seropositive", "enmc_224.biopsy_required_seropositive"),
    both_antibodies: str | None = _opt("--both-antibodies", "enmc_224.both_antibodies_positive"),
    cancer_screening: str | None = _opt("--cancer-screening", "enmc_224.cancer_screening"),
    choice: list[str] = ChoiceOpt,
    as_json: bool = JsonOpt,
    as_csv: bool = CsvOpt,
) -> None:
    """Work-up of one record: test interpretation, ENMC 224 subtype, 2017 EULAR/ACR score and category,
    mimics, safety work-up and the next tests (most informative, least invasive first).

    With several files or a folder, each patient gets one summary line (ENMC 224 subtype, EULAR/ACR
    category, flags, first next test) as a table, --json or --csv; a progress bar shows on a terminal.

    Decision support, not a diagnosis: the treating clinician decides.
    """
    from imnm import services
    from imnm.cli.common import print_lines, settings_from
    from imnm.render.assess import render

    settings = settings_from(
        default_uln,
        choices=choice,
        skin_or_biopsy_rule=skin_biopsy_rule,
        category_basis=category_basis,
        classification_minimum=classification_minimum,
        enzymes_value=enzymes_value,
        antibody_confirmation=antibody_confirmation,
        biopsy_required_seropositive=biopsy_seropositive,
        both_antibodies_positive=both_antibodies,
        cancer_screening=cancer_screening,
    )
    day = parse_as_of(as_of)
    if is_batch(files) or as_csv:
        from imnm.cli import batch
        from imnm.services.batch import assess_summary

        batch.run(
            files,
            lambda p: assess_summary(services.assess(p, as_of=day, settings=settings)),
            what="work-up",
            columns=ASSESS_COLUMNS,
            as_json=as_json,
            as_csv=as_csv,
            extra={"as_of": day.isoformat()},
        )
        return
    record = services.load_patient(files[0])
    result = services.assess(record, as_of=day, settings=settings)
    if as_json:
        print_json(result.as_dict())
        return
    print_lines(render(result))
