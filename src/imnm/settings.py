"""One settings object for every documented choice (⚠️/❗ items of the knowledge tables) and option.

`Settings` holds every choice a result can depend on: the work-up's (EULAR/ACR, ENMC 224, antibodies,
CK), disease activity's (TIS, core set), the screener's and the trials' (screening window). Each
choice field names its knowledge table and choice id in `CHOICES`; its default is read from that
table and its value is checked against the table's options. The few options that are not table
choices (`enzyme`, `population`, `percent_change_method`, `screening_window`, ...) are checked here.

Every caller (CLI, API, web, reports) builds settings the same way: `Settings.parse({"name": "value"})`
reports every unknown name or bad value at once as `Problem`s; `choices_used()` lists every choice
with its table, mark, value and whether it is the default, so outputs can say what they depend on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from imnm import knowledge
from imnm.errors import InputError, Problem

# field name -> (knowledge table, choice id)
CHOICES: dict[str, tuple[str, str]] = {
    "default_uln": ("ck", "default_uln"),
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
    "cancer_screening_children": ("enmc_224", "cancer_screening_children"),
    "confirmatory_methods": ("antibodies", "confirmatory_methods"),
    "unknown_antibody_method": ("workup", "unknown_antibody_method"),
    "ck_trend_stable_band": ("workup", "ck_trend_stable_band"),
    "ck_seed_claim": ("ck", "seed_claim_10_100x"),
    "antibody_second_method_offered": ("tests", "antibody_second_method_offered"),
    "kendall_trace_value": ("core_set", "kendall_trace_value"),
    "mmt8_scale_conversion": ("core_set", "mmt8_scale_conversion"),
    "zero_or_missing_baseline": ("tis_2016", "zero_or_missing_baseline"),
    "imacs_doi_worsening_clause": ("tis_2016", "imacs_doi_worsening_clause"),
    "unknown_policy": ("screener", "unknown_policy"),
    "urgent_flags": ("screener", "urgent_flags"),
}

WORKUP_CHOICES: tuple[str, ...] = tuple(
    n
    for n in CHOICES
    if n
    not in (
        "default_uln",
        "kendall_trace_value",
        "mmt8_scale_conversion",
        "zero_or_missing_baseline",
        "imacs_doi_worsening_clause",
        "unknown_policy",
        "urgent_flags",
    )
)
"""The choices an assessment reports (in this order)."""

ACTIVITY_CHOICES: tuple[str, ...] = (
    "kendall_trace_value",
    "zero_or_missing_baseline",
    "imacs_doi_worsening_clause",
)
SCREENER_CHOICES: tuple[str, ...] = ("unknown_policy", "urgent_flags")

PERCENT_CHANGE_METHODS: tuple[str, ...] = (
    "range_normalised_relative_enzyme",
    "range_normalised_relative_enzyme_fold",
)
ENZYMES: tuple[str, ...] = ("ck", "aldolase", "ast", "alt", "ldh")
POPULATIONS: tuple[str, ...] = ("auto", "adult", "juvenile")
_DURATION = re.compile(r"^(\d{1,4})\s*(d|w|mo|y)$")
MAX_WINDOW_DAYS = 366


def _default(name: str) -> Any:
    table, choice = CHOICES[name]
    return field(default_factory=lambda: knowledge.choice_default(table, choice))


def _default_window_days() -> int:
    for c in knowledge.load("core_set")["choices"]:
        if c["id"] == "enzyme_visit_window_days":
            return 0 if c["default"] == "same_day" else int(c["default_window_days"])
    raise KeyError("core_set.yaml lacks the enzyme_visit_window_days choice")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Settings:
    """Every choice and option; defaults are the knowledge tables' documented defaults."""

    default_uln: str = _default("default_uln")
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
    cancer_screening_children: str = _default("cancer_screening_children")
    confirmatory_methods: str = _default("confirmatory_methods")
    unknown_antibody_method: str = _default("unknown_antibody_method")
    ck_trend_stable_band: str = _default("ck_trend_stable_band")
    ck_seed_claim: str = _default("ck_seed_claim")
    antibody_second_method_offered: str = _default("antibody_second_method_offered")
    kendall_trace_value: str = _default("kendall_trace_value")
    mmt8_scale_conversion: str = _default("mmt8_scale_conversion")
    zero_or_missing_baseline: str = _default("zero_or_missing_baseline")
    imacs_doi_worsening_clause: str = _default("imacs_doi_worsening_clause")
    unknown_policy: str = _default("unknown_policy")
    urgent_flags: str = _default("urgent_flags")
    # options that are not knowledge-table choices
    percent_change_method: str = field(
        default_factory=lambda: knowledge.choice_default("tis_2016", "percent_change_method")
    )
    enzyme_window_days: int = field(default_factory=_default_window_days)
    enzyme: str | None = None  # follow this enzyme (tis_2016 enzyme_most_abnormal_by = clinician_selected)
    population: str = "auto"  # TIS thresholds: auto (juvenile when onset < 18), adult or juvenile
    screening_window: str = "30d"  # ⚠️ how far back a result counts as taken "at screening" (trials)

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise InputError(problems, what="settings")

    def problems(self) -> list[Problem]:
        out: list[Problem] = []
        for name, (table, choice) in CHOICES.items():
            value = getattr(self, name)
            options = choice_options(table, choice)
            if value not in options:
                out.append(
                    Problem(
                        name,
                        f"{value!r} is not an option of {table}.{choice}",
                        f"use one of {', '.join(options)}",
                        value=value,
                    )
                )

        def bad(name: str, value: object, allowed: str) -> None:
            out.append(Problem(name, f"{value!r} is not allowed", allowed, value=value))

        if self.percent_change_method not in PERCENT_CHANGE_METHODS:
            bad(
                "percent_change_method",
                self.percent_change_method,
                f"use one of {', '.join(PERCENT_CHANGE_METHODS)}",
            )
        if self.enzyme is not None and self.enzyme not in ENZYMES:
            bad("enzyme", self.enzyme, f"use one of {', '.join(ENZYMES)}")
        if self.population not in POPULATIONS:
            bad("population", self.population, f"use one of {', '.join(POPULATIONS)}")
        if (
            isinstance(self.enzyme_window_days, bool)
            or not isinstance(self.enzyme_window_days, int)
            or not 0 <= self.enzyme_window_days <= MAX_WINDOW_DAYS
        ):
            bad(
                "enzyme_window_days",
                self.enzyme_window_days,
                f"use a whole number of days from 0 to {MAX_WINDOW_DAYS}",
            )
        m = _DURATION.match(self.screening_window.strip()) if isinstance(self.screening_window, str) else None
        if m is None:
            bad("screening_window", self.screening_window, "write a duration such as 30d, 4w or 1mo")
        return out

    # ------------------------------------------------------------ building

    @classmethod
    def parse(
        cls, values: Mapping[str, object], *, base: Settings | None = None, where: str = ""
    ) -> Settings:
        """Settings from names and (string) values, e.g. the CLI's `--choice NAME=OPTION` or query
        parameters; every unknown name and bad value is reported at once."""
        names = {f.name for f in fields(cls)}
        problems: list[Problem] = []
        update: dict[str, Any] = {}
        for key, raw in values.items():
            if key not in names:
                from difflib import get_close_matches

                close = get_close_matches(key, sorted(names), n=1)
                problems.append(
                    Problem(
                        f"{where}{key}",
                        f"{key!r} is not a setting",
                        f"did you mean {close[0]!r}?" if close else f"settings: {', '.join(sorted(names))}",
                        value=key,
                    )
                )
                continue
            if raw is None:
                continue
            if key == "enzyme_window_days":
                try:
                    update[key] = int(str(raw))
                except ValueError:
                    problems.append(
                        Problem(f"{where}{key}", f"{raw!r} is not a whole number of days", "e.g. 7", raw)
                    )
                    continue
            elif key == "imacs_doi_worsening_clause" and isinstance(raw, bool):
                update[key] = "enabled" if raw else "disabled"
            else:
                update[key] = str(raw).strip() if isinstance(raw, str) else raw
        candidate = replace_unchecked(base or default_settings(), update)
        problems += [Problem(f"{where}{p.path}", p.message, p.fix, p.value) for p in candidate.problems()]
        if problems:
            raise InputError(problems, what="settings")
        return candidate

    def with_(self, **changes: Any) -> Settings:
        """A copy with some settings changed (checked)."""
        return replace(self, **changes)

    # ------------------------------------------------------------ describing

    def describe(self, names: tuple[str, ...] | None = None) -> dict[str, str]:
        """Setting names and values (all, or those named)."""
        keys = names or tuple(f.name for f in fields(self))
        return {k: str(getattr(self, k)) for k in keys}

    def choices_used(self, names: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """Every choice (or those named) with its value, table, mark and whether it is the default."""
        out = []
        for name in names or WORKUP_CHOICES:
            table, choice = CHOICES[name]
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


def replace_unchecked(settings: Settings, update: Mapping[str, Any]) -> Settings:
    """A copy with `update` applied without raising (call `problems()` on the result)."""
    obj = object.__new__(Settings)
    for f in fields(Settings):
        object.__setattr__(obj, f.name, update.get(f.name, getattr(settings, f.name)))
    return obj


_DEFAULTS: list[Settings] = []


def default_settings() -> Settings:
    """The documented defaults (built once)."""
    if not _DEFAULTS:
        _DEFAULTS.append(Settings())
    return _DEFAULTS[0]


def choice_meta(table: str, choice: str) -> dict[str, Any]:
    for c in knowledge.load(table).get("choices") or []:
        if c["id"] == choice:
            return dict(c)
    raise KeyError(f"{table}.{choice}")


def choice_options(table: str, choice: str) -> list[str]:
    return list(choice_meta(table, choice)["options"])


def setting_names() -> list[str]:
    return [f.name for f in fields(Settings)]
