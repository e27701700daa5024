"""Arranging results for the pages: figures' geometry and table rows from the services' documents.

Nothing here decides anything clinical: the numbers, categories and their cut-offs come from the
result (`Assessment.as_dict()`, the `--json` document) and the knowledge tables; this module only
places them on a page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

CATEGORY_TEXT = {"not_iim": "not IIM", "possible": "possible IIM", "probable": "probable IIM", "definite": "definite IIM"}


@dataclass(frozen=True)
class Band:
    id: str
    label: str
    x: float
    width: float
    start: float  # score where the band starts


@dataclass(frozen=True)
class RangeFigure:
    """The EULAR/ACR score range drawn over the category cut-offs (an SVG in the page)."""

    width: int
    height: int
    top: int
    scale_max: float
    bands: tuple[Band, ...]
    score_x: float | None
    low_x: float
    high_x: float
    ticks: tuple[tuple[float, str], ...]
    version: str
    text: str  # the same in words (the figure's text alternative)


def eular_range(ea: dict[str, Any]) -> RangeFigure:
    from imnm import knowledge

    version = "biopsy" if ea.get("version") == "biopsy" else "no_biopsy"
    cats = knowledge.load("eular_acr_2017")["categories"]
    lo = float(ea["score_min"])
    hi = float(ea["score_max"])
    score = ea.get("score")
    last_start = max(float(c[f"score_min_{version}"]) for c in cats)
    scale_max = max(12.0, math.ceil(hi + 0.5), math.ceil(last_start + 2))
    width, left, right = 640, 10, 10
    inner = width - left - right

    def x(v: float) -> float:
        return round(left + inner * min(max(v, 0.0), scale_max) / scale_max, 1)

    bands = []
    starts = sorted((float(c[f"score_min_{version}"]), c["id"]) for c in cats)
    for i, (start, cid) in enumerate(starts):
        end = starts[i + 1][0] - 0.1 if i + 1 < len(starts) else scale_max
        bands.append(Band(cid, CATEGORY_TEXT.get(cid, cid), x(start), round(x(end + 0.1) - x(start), 1), start))
    ticks = tuple((x(float(b.start)), f"{b.start:g}") for b in bands if b.start > 0)
    cat_lo, cat_hi = ea.get("category_min"), ea.get("category_max")
    words = (
        f"Score {score:g}" if isinstance(score, int | float) else "Score unknown"
    ) + (f", range {lo:g} to {hi:g}" if lo != hi else "")
    words += f"; category {CATEGORY_TEXT.get(str(ea.get('category')), ea.get('category'))}"
    if cat_lo != cat_hi:
        words += f" (range {CATEGORY_TEXT.get(str(cat_lo), cat_lo)} to {CATEGORY_TEXT.get(str(cat_hi), cat_hi)})"
    words += f". Cut-offs {'with' if version == 'biopsy' else 'without'} biopsy: " + ", ".join(
        f"{b.label} from {b.start:g}" for b in bands
    )
    return RangeFigure(
        width=width,
        height=74,
        top=18,
        scale_max=scale_max,
        bands=tuple(bands),
        score_x=x(float(score)) if isinstance(score, int | float) else None,
        low_x=x(lo),
        high_x=x(hi),
        ticks=ticks,
        version=version,
        text=words + ".",
    )


def outcome_open(node: dict[str, Any]) -> bool:
    """Whether a decision-tree node is shown open (met or unknown ones are, not-met ones folded)."""
    return str(node.get("truth")) != "not_met"


def enmc_nodes(enmc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    names = {
        "clinical": "Clinical requirement",
        "biopsy_compatible": "Biopsy compatible with IMNM",
        "anti_hmgcr_myopathy": "Anti-HMGCR myopathy",
        "anti_srp_myopathy": "Anti-SRP myopathy",
        "antibody_negative_imnm": "Antibody-negative IMNM",
        "both_positive": "Both antibodies positive (review)",
    }
    rules = enmc.get("rules") or {}
    return [(names.get(k, k), v) for k, v in rules.items()]
