"""The work-up's documented choices (⚠️/❗ items of the knowledge tables) as one settings object.

`WorkupSettings` extends the core `Settings`, so it can be handed to `RecordFacts` and reaches
the derived facts. Every field is one knowledge-table choice; its default is read from the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from imnm import knowledge
from imnm.core.settings import Settings
from imnm.errors import InputError, Problem

# field name -> (knowledge table, choice id)
CHOICES: dict[str, tuple[str, str]] = {
    "category_basis": ("eular_acr_2017", "category_basis"),
    "skin_or_biopsy_rule": ("eular_acr_2017", "skin_or_biopsy_rule"),
    "classification_minimum": ("eular_acr_2017", "classification_minimum"),
    "enzymes_value": ("eular_acr_2017", "enzymes_value"),
    "probability_constants": ("eular_acr_2017", "probability_constants"),
    "subgroup_tree_use": ("eular_acr_2017", "subgroup_tree_use"),
    "biopsy_required_seropositive": ("enmc_224", "biopsy_required_seropositive"),
    "biopsy_required_seronegative": ("enmc_224", "biopsy_required_seronegative"),
    "biopsy_compatible_definition": ("enmc_224", "biopsy_compatible_definition"),
    "antibody_confirmation": ("enmc_224", "antibody_confirmation"),
    "both_antibodies_positive": ("enmc_224", "both_antibodies_positive"),
    "cancer_screening": ("enmc_224", "cancer_screening"),
    "confirmatory_methods": ("antibodies", "confirmatory_methods"),
    "unknown_antibody_method": ("workup", "unknown_antibody_method"),
    "ck_trend_stable_band": ("workup", "ck_trend_stable_band"),
    "ck_seed_claim": ("ck", "seed_claim_10_100x"),
    "antibody_second_method_offered": ("tests", "antibody_second_method_offered"),
}


def _default(name: str) -> Any:
    table, choice = CHOICES[name]
    return field(default_factory=lambda: knowledge.choice_default(table, choice))


@dataclass(frozen=True, slots=True)
class WorkupSettings(Settings):
    """Choices used by the work-up; each default is the knowledge table's documented default."""

    category_basis: str = _default("category_basis")
    skin_or_biopsy_rule: str = _default("skin_or_biopsy_rule")
    classification_minimum: str = _default("classification_minimum")
    enzymes_value: str = _default("enzymes_value")
    probability_constants: str = _default("probability_constants")
    subgroup_tree_use: str = _default("subgroup_tree_use")
    biopsy_required_seropositive: str = _default("biopsy_required_seropositive")
    biopsy_required_seronegative: str = _default("biopsy_required_seronegative")
    biopsy_compatible_definition: str = _default("biopsy_compatible_definition")
    antibody_confirmation: str = _default("antibody_confirmation")
    both_antibodies_positive: str = _default("both_antibodies_positive")
    cancer_screening: str = _default("cancer_screening")
    confirmatory_methods: str = _default("confirmatory_methods")
    unknown_antibody_method: str = _default("unknown_antibody_method")
    ck_trend_stable_band: str = _default("ck_trend_stable_band")
    ck_seed_claim: str = _default("ck_seed_claim")
    antibody_second_method_offered: str = _default("antibody_second_method_offered")

    def __post_init__(self) -> None:
        problems = []
        for name, (table, choice) in CHOICES.items():
            value = getattr(self, name)
            options = choice_options(table, choice)
            if value not in options:
                problems.append(
                    Problem(
                        name,
                        f"{value!r} is not an option of {table}.{choice}",
                        f"use one of {', '.join(options)}",
                        value=value,
                    )
                )
        if problems:
            raise InputError(problems, what="work-up settings")

    def choices_used(self) -> list[dict[str, Any]]:
        """Every choice with its value, its table, its mark and whether it is the default."""
        out = []
        for name, (table, choice) in CHOICES.items():
            meta = choice_meta(table, choice)
            value = getattr(self, name)
            out.append(
                {
                    "setting": name,
                    "table": table,
                    "choice": choice,
                    "mark": meta["mark"],
                    "value": value,
                    "default": value == meta["default"],
                    "meaning": meta["options"][value],
                }
            )
        return out


def choice_meta(table: str, choice: str) -> dict[str, Any]:
    for c in knowledge.load(table).get("choices") or []:
        if c["id"] == choice:
            return dict(c)
    raise KeyError(f"{table}.{choice}")


def choice_options(table: str, choice: str) -> list[str]:
    return list(choice_meta(table, choice)["options"])


def workup_settings(settings: Settings | None) -> WorkupSettings:
    """The work-up settings carried by a context (defaults when it carries only core settings)."""
    if isinstance(settings, WorkupSettings):
        return settings
    if settings is None:
        return _defaults(Settings().default_uln)
    return _defaults(settings.default_uln)


_CACHE: dict[str, WorkupSettings] = {}


def _defaults(default_uln: str) -> WorkupSettings:
    ws = _CACHE.get(default_uln)
    if ws is None:
        ws = _CACHE[default_uln] = WorkupSettings(default_uln=default_uln)
    return ws


def setting_names() -> list[str]:
    return [f.name for f in fields(WorkupSettings)]
