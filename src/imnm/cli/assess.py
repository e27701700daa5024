"""`imnm assess RECORD`: the diagnostic work-up of one record (text report or --json).

Only typer and the shared CLI plumbing are imported at module level (cold start); the work-up
engine is imported inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from imnm.cli.common import AsOfOpt, DefaultUlnOpt, JsonOpt, handle_errors, parse_as_of, print_json


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
    file: Annotated[Path, typer.Argument(help="A record file (.yaml, .yml or .json).")],
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
) -> None:
    """Work-up of one record: test interpretation, ENMC 224 subtype, 2017 EULAR/ACR score and category,
    mimics, safety work-up and the next tests (most informative, least invasive first).

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
    record = services.load_patient(file)
    result = services.assess(record, as_of=parse_as_of(as_of), settings=settings)
    if as_json:
        print_json(result.as_dict())
        return
    print_lines(render(result))
