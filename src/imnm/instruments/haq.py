"""HAQ-DI from item answers (clinical.md §4.2, rules in `knowledge/data/core_set.yaml`).

8 categories; each item 0 (without any difficulty) … 3 (unable); category score = highest item;
aids/devices or help from another person raise a 0 or 1 to 2; index = sum of category scores /
number of categories answered, with at least 6 categories answered (☑️ [S64]).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from imnm import knowledge
from imnm.instruments.core_set import CATEGORIES, HaqCategory, HaqItems
from imnm.types import fail


@cache
def rules() -> dict[str, Any]:
    data: dict[str, Any] = knowledge.load("core_set")["haq_di"]
    return data


@dataclass(frozen=True, slots=True)
class HaqScore:
    """The index (None when fewer than the minimum categories were answered) and how it was built."""

    value: float | None
    answered: int
    categories: dict[str, int]
    notes: tuple[str, ...]


def category_score(cat: HaqCategory) -> tuple[int, bool]:
    """(score, raised): highest item, raised to 2 by aids/devices or help."""
    top = max(cat.items)
    raise_to = int(rules()["aids_or_help"]["raise_to"])
    if (cat.aids or cat.help) and top < raise_to:
        return raise_to, True
    return top, False


def score(items: HaqItems) -> HaqScore:
    scores: dict[str, int] = {}
    notes: list[str] = []
    for c in CATEGORIES:
        cat: HaqCategory | None = getattr(items, c)
        if cat is None:
            continue
        s, raised = category_score(cat)
        scores[c] = s
        if raised:
            how = " and ".join(w for w, used in (("aids/devices", cat.aids), ("help", cat.help)) if used)
            notes.append(f"{c}: {max(cat.items)} raised to {s} ({how})")
    need = int(rules()["index"]["min_categories"])
    missing = [c for c in CATEGORIES if c not in scores]
    if missing:
        notes.append(f"not answered: {', '.join(missing)}")
    if len(scores) < need:
        notes.append(f"only {len(scores)} of 8 categories answered; the index needs at least {need}")
        return HaqScore(None, len(scores), scores, tuple(notes))
    return HaqScore(sum(scores.values()) / len(scores), len(scores), scores, tuple(notes))


def check_agreement(given: float, items: HaqItems) -> None:
    """A given haq_di must agree with the index from the items (raises `fail`)."""
    s = score(items)
    tol = float(rules()["agreement_tolerance"])
    if s.value is not None and abs(s.value - given) > tol:
        fail(
            f"haq_di {given:g} disagrees with the HAQ items (index {s.value:.3f})",
            "correct haq_di or the items, or leave haq_di out",
        )
