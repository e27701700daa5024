"""Query options shared by the stateless compute routes and the per-patient computed routes.

Names are the CLI flags with `_` for `-` (`--as-of` → `as_of`, `--skin-biopsy-rule` →
`skin_biopsy_rule`); values are the same, and so are the problems for wrong ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Query

from imnm.api import compute
from imnm.errors import InputError


def _day(value: str | None, name: str) -> date | None:
    from imnm.store.patients import parse_day

    return None if value is None else parse_day(value, name)


@dataclass
class AssessOptions:
    as_of: Annotated[
        str | None, Query(description="Evaluate as of this date (YYYY-MM-DD); default today")
    ] = None
    default_uln: Annotated[str, Query(description="none (default), by_sex_common_lab or flat_200")] = "none"
    skin_biopsy_rule: Annotated[str | None, Query(description="strict (default) or lenient")] = None
    category_basis: Annotated[str | None, Query(description="score (default) or probability")] = None
    classification_minimum: Annotated[str | None, Query()] = None
    enzymes_value: Annotated[str | None, Query()] = None
    antibody_confirmation: Annotated[str | None, Query()] = None
    biopsy_seropositive: Annotated[str | None, Query()] = None
    both_antibodies: Annotated[str | None, Query()] = None
    cancer_screening: Annotated[str | None, Query()] = None
    choice: Annotated[list[str], Query(description="SETTING=OPTION, repeatable")] = None  # type: ignore[assignment]

    def run(self, record: Any) -> dict[str, Any]:
        day = _day(self.as_of, "as_of") or date.today()
        opts = {flag: getattr(self, flag) for flag, _ in compute.ASSESS_OPTIONS}
        try:
            return compute.assess(
                record, as_of=day, default_uln=self.default_uln, options=opts, choice=self.choice or []
            )
        except InputError as exc:
            raise compute.as_query_errors(exc) from None


@dataclass
class ActivityOptions:
    window_days: Annotated[
        int | None, Query(description="enzyme result up to N days from a visit (default 7)")
    ] = None
    kendall_trace: Annotated[str | None, Query(description="zero (default), half, one or not_computable")] = (
        None
    )
    enzyme: Annotated[str | None, Query(description="ck, aldolase, ast, alt or ldh")] = None

    def run(self, record: Any) -> dict[str, Any]:
        try:
            return compute.activity(
                record, window_days=self.window_days, kendall_trace=self.kendall_trace, enzyme=self.enzyme
            )
        except InputError as exc:
            raise compute.as_query_errors(exc) from None


@dataclass
class ResponseOptions:
    from_: Annotated[str | None, Query(alias="from", description="baseline visit date (default first)")] = (
        None
    )
    to: Annotated[str | None, Query(description="follow-up visit date (default last)")] = None
    method: Annotated[str | None, Query()] = None
    population: Annotated[str, Query(description="auto, adult or juvenile")] = "auto"
    missing: Annotated[str | None, Query(description="design_rule or missing_as_zero_points")] = None
    doi_worsening_clause: Annotated[bool, Query()] = False
    window_days: Annotated[int | None, Query()] = None
    kendall_trace: Annotated[str | None, Query()] = None
    enzyme: Annotated[str | None, Query()] = None

    def run(self, record: Any) -> dict[str, Any]:
        try:
            return compute.response(
                record,
                start=_day(self.from_, "from"),
                end=_day(self.to, "to"),
                method=self.method,
                population=self.population,
                missing=self.missing,
                doi_worsening_clause=self.doi_worsening_clause,
                window_days=self.window_days,
                kendall_trace=self.kendall_trace,
                enzyme=self.enzyme,
            )
        except InputError as exc:
            raise compute.as_query_errors(exc) from None


@dataclass
class TrialsOptions:
    as_of: Annotated[str | None, Query(description="YYYY-MM-DD; default today")] = None
    default_uln: Annotated[str, Query()] = "none"
    trial: Annotated[list[str], Query(description="only these trial ids (repeatable)")] = None  # type: ignore[assignment]
    screening_window: Annotated[str, Query(description="how far back 'at screening' reaches (⚠️ 30d)")] = "30d"

    def run(self, record: Any, reviews: dict[tuple[str, str], Any] | None = None) -> dict[str, Any]:
        day = _day(self.as_of, "as_of") or date.today()
        try:
            return compute.match_trials(
                record,
                as_of=day,
                default_uln=self.default_uln,
                trial=self.trial or [],
                screening_window=self.screening_window,
                reviews=reviews,
            )
        except InputError as exc:
            raise compute.as_query_errors(exc) from None


@dataclass
class ScreenOptions:
    unknown_policy: Annotated[
        str | None, Query(description="at_least_routine (default) or highest_possible")
    ] = None
    urgent_flags: Annotated[str | None, Query(description="same_day (default) or within_weeks")] = None
