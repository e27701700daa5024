"""Query options shared by the stateless compute routes and the per-patient computed routes.

Names are the CLI flags with `_` for `-` (`--as-of` → `as_of`, `--skin-biopsy-rule` →
`skin_biopsy_rule`, `--kendall-trace` → `kendall_trace`); `choice=SETTING=OPTION` (repeatable) sets
any other documented choice. Values, defaults and problems are those of the CLI (one `Settings`).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import Query

from imnm.api import compute
from imnm.api.problems import MAX_INT

T = TypeVar("T")
Choice = Annotated[
    list[str] | None, Query(description="SETTING=OPTION (repeatable), e.g. category_basis=probability")
]


def on_loop(cls: type[T]) -> Callable[..., Awaitable[T]]:
    """`Depends(on_loop(Options))`: the same query parameters, built on the event loop (FastAPI runs a
    class dependency in a worker thread, which costs more than parsing a few strings)."""

    async def dependency(**values: Any) -> T:
        return cls(**values)

    dependency.__signature__ = inspect.signature(cls)  # type: ignore[attr-defined]
    dependency.__name__ = f"{cls.__name__}_on_loop"
    return dependency


def _day(value: str | None, name: str) -> date | None:
    from imnm.store.patients import parse_day

    return None if value is None else parse_day(value, name)


ASSESS_NAMES = {
    "skin_biopsy_rule": "skin_or_biopsy_rule",
    "biopsy_seropositive": "biopsy_required_seropositive",
    "both_antibodies": "both_antibodies_positive",
}
ACTIVITY_NAMES = {
    "window_days": "enzyme_window_days",
    "kendall_trace": "kendall_trace_value",
    "method": "percent_change_method",
    "missing": "zero_or_missing_baseline",
    "doi_worsening_clause": "imacs_doi_worsening_clause",
}


@dataclass
class AssessOptions:
    as_of: Annotated[
        str | None, Query(description="Evaluate as of this date (YYYY-MM-DD); default today")
    ] = None
    default_uln: Annotated[str | None, Query(description="none (default), by_sex_common_lab or flat_200")] = (
        None
    )
    skin_biopsy_rule: Annotated[str | None, Query(description="strict (default) or lenient")] = None
    category_basis: Annotated[str | None, Query(description="score (default) or probability")] = None
    classification_minimum: Annotated[str | None, Query()] = None
    enzymes_value: Annotated[str | None, Query()] = None
    antibody_confirmation: Annotated[str | None, Query()] = None
    biopsy_seropositive: Annotated[str | None, Query()] = None
    both_antibodies: Annotated[str | None, Query()] = None
    cancer_screening: Annotated[str | None, Query()] = None
    choice: Choice = None

    def run(self, record: Any) -> dict[str, Any]:
        day = _day(self.as_of, "as_of") or date.today()
        values = {k: v for k, v in vars(self).items() if k not in ("as_of", "choice")}
        s = compute.settings(values, self.choice or (), names=ASSESS_NAMES)
        return compute.assess(record, as_of=day, settings=s)


@dataclass
class ActivityOptions:
    window_days: Annotated[
        int | None,
        Query(ge=0, le=MAX_INT, description="enzyme result up to N days from a visit (default 7)"),
    ] = None
    kendall_trace: Annotated[str | None, Query(description="zero (default), half, one or not_computable")] = (
        None
    )
    enzyme: Annotated[str | None, Query(description="ck, aldolase, ast, alt or ldh")] = None
    choice: Choice = None

    def run(self, record: Any) -> dict[str, Any]:
        values = {k: v for k, v in vars(self).items() if k != "choice"}
        return compute.activity(
            record, settings=compute.settings(values, self.choice or (), names=ACTIVITY_NAMES)
        )


@dataclass
class ResponseOptions:
    from_: Annotated[str | None, Query(alias="from", description="baseline visit date (default first)")] = (
        None
    )
    to: Annotated[str | None, Query(description="follow-up visit date (default last)")] = None
    method: Annotated[str | None, Query(description="percent change method (⚠️)")] = None
    population: Annotated[str | None, Query(description="auto, adult or juvenile")] = None
    missing: Annotated[str | None, Query(description="design_rule or missing_as_zero_points")] = None
    doi_worsening_clause: Annotated[bool, Query()] = False
    window_days: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None
    kendall_trace: Annotated[str | None, Query()] = None
    enzyme: Annotated[str | None, Query()] = None
    choice: Choice = None

    def run(self, record: Any) -> dict[str, Any]:
        values: dict[str, object] = {
            k: v for k, v in vars(self).items() if k not in ("from_", "to", "choice")
        }
        values["doi_worsening_clause"] = "enabled" if self.doi_worsening_clause else None
        s = compute.settings(values, self.choice or (), names=ACTIVITY_NAMES)
        return compute.response(record, start=_day(self.from_, "from"), end=_day(self.to, "to"), settings=s)


@dataclass
class TrialsOptions:
    as_of: Annotated[str | None, Query(description="YYYY-MM-DD; default today")] = None
    default_uln: Annotated[str | None, Query()] = None
    trial: Annotated[list[str] | None, Query(description="only these trial ids (repeatable)")] = None
    screening_window: Annotated[
        str | None, Query(description="how far back 'at screening' reaches (⚠️ 30d)")
    ] = None
    choice: Choice = None

    def run(self, record: Any, reviews: Any = ()) -> dict[str, Any]:
        day = _day(self.as_of, "as_of") or date.today()
        values = {"default_uln": self.default_uln, "screening_window": self.screening_window}
        s = compute.settings(values, self.choice or (), names={})
        return compute.match_trials(record, as_of=day, settings=s, trial=self.trial or (), reviews=reviews)


@dataclass
class ScreenOptions:
    unknown_policy: Annotated[
        str | None, Query(description="at_least_routine (default) or highest_possible")
    ] = None
    urgent_flags: Annotated[str | None, Query(description="same_day (default) or within_weeks")] = None
    choice: Choice = None

    def run(self, data: object) -> dict[str, Any]:
        values = {"unknown_policy": self.unknown_policy, "urgent_flags": self.urgent_flags}
        return compute.screen(data, settings=compute.settings(values, self.choice or (), names={}))
