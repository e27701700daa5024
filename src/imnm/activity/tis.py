"""2016 ACR/EULAR Total Improvement Score (TIS) and the IMACS definition of improvement.

Pure scoring over numbers: bands, points, thresholds and the DOI come from
`knowledge/data/tis_2016.yaml` (clinical.md §3). The percent change of each measure is the ⚠️
choice `percent_change_method`: the default (`range_normalised_relative_enzyme`, clinical.md
§3.3) range-normalises the bounded scales and takes the relative change of the enzyme; a
replacement function can be passed in (`method=`), and the result always names the method.

Missing measures never count as zero silently: `tis_min` scores them 0 and `tis_max` at their
maximum points, and the category becomes a range. With the default `zero_or_missing_baseline`
choice (`design_rule`) `tis` and `category` are `None` whenever a measure is missing; with
`missing_as_zero_points` they are the minimum, flagged as such.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from imnm import knowledge
from imnm.core.truth import Truth, and_, at_least, not_

MEASURES: tuple[str, ...] = (
    "physician_global",
    "patient_global",
    "mmt",
    "haq",
    "muscle_enzyme",
    "extramuscular_global",
)
CATEGORIES: tuple[str, ...] = ("none", "minimal", "moderate", "major")
Population = Literal["adult", "juvenile"]
MissingRule = Literal["design_rule", "missing_as_zero_points"]


@cache
def table() -> dict[str, Any]:
    return knowledge.load("tis_2016")


@cache
def _measures() -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in table()["measures"]}


def max_points(measure: str) -> float:
    return float(max(b["points"] for b in _measures()[measure]["bands"]))


def label(measure: str) -> str:
    return str(_measures()[measure]["label"]).split(" — ")[0]


def higher_is_better(measure: str) -> bool:
    return bool(_measures()[measure]["direction"] == "higher_is_better")


def scale_range(measure: str) -> tuple[float, float] | None:
    """(min, max) of a bounded scale from the table; MMT's max is the maximum MMT score (given)."""
    ranges = table()["percent_change"]["scale_ranges"]
    r = ranges.get(measure)
    if r is None or not isinstance(r.get("max"), int | float):
        return None
    return float(r["min"]), float(r["max"])


@dataclass(frozen=True, slots=True)
class Pair:
    """Baseline and follow-up of one measure, with what the percent-change method may need."""

    baseline: float
    followup: float
    scale_min: float | None = None  # bounded scales (VAS, HAQ, MMT)
    scale_max: float | None = None
    baseline_uln: float | None = None  # enzymes
    followup_uln: float | None = None


PercentChange = Callable[[str, Pair], float | None]
"""method(measure_id, pair) -> percent improvement (negative = worse), or None = not computable."""


def _bounded(measure: str, p: Pair) -> float | None:
    if p.scale_min is None or p.scale_max is None or p.scale_max <= p.scale_min:
        return None
    change = p.followup - p.baseline if higher_is_better(measure) else p.baseline - p.followup
    return change / (p.scale_max - p.scale_min) * 100.0


def range_normalised_relative_enzyme(measure: str, p: Pair) -> float | None:
    """clinical.md §3.3 (⚠️): bounded scales range-normalised; enzyme relative change of the value."""
    if measure == "muscle_enzyme":
        if p.baseline <= 0:
            return None
        return (p.baseline - p.followup) / p.baseline * 100.0
    return _bounded(measure, p)


def range_normalised_relative_enzyme_fold(measure: str, p: Pair) -> float | None:
    """As the default, with the enzyme's relative change taken on the fold over each result's ULN."""
    if measure == "muscle_enzyme":
        if p.baseline <= 0 or not p.baseline_uln or not p.followup_uln:
            return None
        b, f = p.baseline / p.baseline_uln, p.followup / p.followup_uln
        return (b - f) / b * 100.0
    return _bounded(measure, p)


METHODS: dict[str, PercentChange] = {
    "range_normalised_relative_enzyme": range_normalised_relative_enzyme,
    "range_normalised_relative_enzyme_fold": range_normalised_relative_enzyme_fold,
}


def default_method() -> str:
    return knowledge.choice_default("tis_2016", "percent_change_method")


def default_missing_rule() -> MissingRule:
    value = knowledge.choice_default("tis_2016", "zero_or_missing_baseline")
    assert value in ("design_rule", "missing_as_zero_points")
    return value  # type: ignore[return-value]


def method_description(name: str) -> str:
    for c in table()["choices"]:
        if c["id"] == "percent_change_method" and name in c["options"]:
            return str(c["options"][name])
    variants = knowledge.load("core_set")["percent_change_variants"]
    return str(variants.get(name, "a replacement function supplied by the caller (option 'pluggable')"))


def points_for(measure: str, percent: float) -> tuple[float, str]:
    """Points and band for a percent improvement; upper band edges inclusive, worsening → 0."""
    p = rounded(percent)
    for band in _measures()[measure]["bands"]:
        above, upto = band["above_percent"], band["up_to_percent"]
        if (above is None or p > above) and (upto is None or p <= upto):
            if above is None:
                text = f"worsening to {upto:g} %"
            elif upto is None:
                text = f"> {above:g} %"
            else:
                text = f"> {above:g} % to {upto:g} %"
            return float(band["points"]), text
    raise AssertionError(f"no band for {measure} at {p} %")  # the bands cover every number


def thresholds(population: Population) -> dict[str, float]:
    t = table()["thresholds"][population]
    return {k: float(v) for k, v in t.items()}


def category(score: float, population: Population) -> str:
    """none / minimal / moderate / major by the `>=` thresholds of the population."""
    t = thresholds(population)
    for name in ("major", "moderate", "minimal"):
        if score >= t[name]:
            return name
    return str(table()["thresholds"]["below_minimal_category"])


@dataclass(frozen=True, slots=True)
class MeasureScore:
    id: str
    label: str
    baseline: float | None
    followup: float | None
    percent_change: float | None
    band: str | None
    points: float | None
    max_points: float
    notes: tuple[str, ...] = ()

    @property
    def missing(self) -> bool:
        return self.points is None


@dataclass(frozen=True, slots=True)
class Doi:
    """IMACS preliminary definition of improvement (three-valued)."""

    truth: Truth
    improved: tuple[str, ...]
    unknown: tuple[str, ...]
    worsening_clause: bool
    worsened: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class TisResult:
    tis: float | None
    tis_min: float
    tis_max: float
    category: str | None
    category_min: str
    category_max: str
    population: Population | None
    method: str
    measures: dict[str, MeasureScore]
    doi: Doi
    missing_rule: MissingRule
    notes: tuple[str, ...] = field(default=())

    @property
    def complete(self) -> bool:
        return not any(m.missing for m in self.measures.values())


def rounded(percent: float) -> float:
    """A percent change rounded as the TIS bands compare it (`percent_rounding_decimals`), so that
    4.1 → 2.1 cm is exactly 20 % and not 19.999999999999996 %."""
    return round(percent, int(table()["percent_change"]["percent_rounding_decimals"]))


def _doi(measures: Mapping[str, MeasureScore], worsening_clause: bool) -> Doi:
    doi = table()["imacs_doi"]
    need, pct = int(doi["min_measures_improved"]), float(doi["min_improvement_percent"])

    def improved(m: MeasureScore) -> Truth:
        return Truth.UNKNOWN if m.percent_change is None else Truth.of(rounded(m.percent_change) >= pct)

    truths = {k: improved(m) for k, m in measures.items()}
    result = at_least(need, truths.values())
    worsened: list[str] = []
    text = f"IMACS DOI: ≥ {pct:g} % improvement in ≥ {need} of the {len(measures)} core set measures ✅"
    if worsening_clause:
        clause = doi["worsening_clause"]
        wp, most = float(clause["worsening_percent"]), int(clause["max_measures_worsened"])

        def worse(m: MeasureScore) -> Truth:
            return Truth.UNKNOWN if m.percent_change is None else Truth.of(rounded(m.percent_change) <= -wp)

        worse_t = {k: worse(m) for k, m in measures.items()}
        worsened = [k for k, t in worse_t.items() if t is Truth.MET]
        parts = [result, not_(at_least(most + 1, worse_t.values()))]
        if clause.get("mmt_may_not_worsen"):
            parts.append(not_(worse_t["mmt"]))
        result = and_(parts)
        text += f"; worsening clause ON (⚠️ unverified): no more than {most} measures worse by ≥ {wp:g} %, MMT not one of them"
    else:
        text += "; worsening clause off (⚠️ unverified recollection; option, off by default)"
    return Doi(
        result,
        tuple(k for k, t in truths.items() if t is Truth.MET),
        tuple(k for k, t in truths.items() if t is Truth.UNKNOWN),
        worsening_clause,
        tuple(worsened),
        text,
    )


def score(
    pairs: Mapping[str, Pair | None],
    *,
    population: Population | None,
    method: str | PercentChange | None = None,
    missing_rule: MissingRule | None = None,
    worsening_clause: bool = False,
    notes: Mapping[str, tuple[str, ...]] | None = None,
) -> TisResult:
    """Score the six measures. `pairs[m] is None` (or absent) = missing; `population=None` = unknown."""
    if method is None:
        method = default_method()
    if isinstance(method, str):
        if method not in METHODS:
            raise ValueError(f"unknown percent-change method {method!r}; use one of {', '.join(METHODS)}")
        method_name, fn = method, METHODS[method]
    else:
        method_name, fn = getattr(method, "__name__", "custom"), method
    missing_rule = missing_rule or default_missing_rule()
    notes = notes or {}
    scored: dict[str, MeasureScore] = {}
    for mid in MEASURES:
        p = pairs.get(mid)
        extra = tuple(notes.get(mid, ()))
        top = max_points(mid)
        if p is None:
            scored[mid] = MeasureScore(
                mid, label(mid), None, None, None, None, None, top, extra or ("missing",)
            )
            continue
        pc = fn(mid, p)
        if pc is None:
            why = "not computable (baseline 0 or a needed input is missing)"
            scored[mid] = MeasureScore(
                mid, label(mid), p.baseline, p.followup, None, None, None, top, (*extra, why)
            )
            continue
        pts, band = points_for(mid, pc)
        scored[mid] = MeasureScore(mid, label(mid), p.baseline, p.followup, pc, band, pts, top, extra)
    known = sum(m.points or 0.0 for m in scored.values())
    lost = sum(m.max_points for m in scored.values() if m.missing)
    tis_min, tis_max = known, known + lost
    pops: tuple[Population, ...] = (population,) if population else ("adult", "juvenile")
    order = CATEGORIES.index
    cat_min = min((category(tis_min, p) for p in pops), key=order)
    cat_max = max((category(tis_max, p) for p in pops), key=order)
    complete = lost == 0
    out_notes: list[str] = []
    if complete or missing_rule == "missing_as_zero_points":
        tis: float | None = tis_min
        cats = {category(tis_min, p) for p in pops}
        cat: str | None = cats.pop() if len(cats) == 1 else None
        if not complete:
            out_notes.append(
                "missing measures scored 0 (⚠️ choice zero_or_missing_baseline = missing_as_zero_points): "
                "TIS and category are minimums"
            )
    else:
        tis, cat = None, None
        out_notes.append(
            f"{sum(m.missing for m in scored.values())} measure(s) missing: TIS lies in "
            f"{tis_min:g}-{tis_max:g}; no single TIS or category (⚠️ choice zero_or_missing_baseline = design_rule)"
        )
    if population is None:
        out_notes.append(
            "population unknown (age at onset not known): adult and juvenile thresholds both applied"
        )
    return TisResult(
        tis,
        tis_min,
        tis_max,
        cat,
        cat_min,
        cat_max,
        population,
        method_name,
        scored,
        _doi(scored, worsening_clause),
        missing_rule,
        tuple(out_notes),
    )
