"""The IMACS core set instruments' data: MMT-8 (total with its scale, or per-muscle grades) and HAQ-DI items.

Scoring lives in `imnm.instruments.mmt8` and `imnm.instruments.haq`; the group and category names
match `knowledge/data/core_set.yaml` (checked by the tests).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, model_validator

from imnm.types import fail

AXIAL = "neck_flexors"
GROUPS: tuple[str, ...] = (
    "neck_flexors",
    "deltoid",
    "biceps",
    "wrist_extensors",
    "gluteus_maximus",
    "gluteus_medius",
    "quadriceps",
    "ankle_dorsiflexors",
)
CATEGORIES: tuple[str, ...] = (
    "dressing",
    "arising",
    "eating",
    "walking",
    "hygiene",
    "reach",
    "grip",
    "activities",
)


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)


def _kendall(value: object) -> float | Literal["T"]:
    if value == "T" and isinstance(value, str):
        return "T"
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(
            f"{value!r} is not a Kendall grade",
            "write a number from 0 to 10, or T for trace (no movement)",
        )
    if not 0 <= value <= 10:
        fail(f"{value!r} is out of range: a Kendall grade is 0 to 10", "check the grade (0-10, or T)")
    return float(value)


KendallGrade = Annotated[float | Literal["T"], BeforeValidator(_kendall)]
"""A Kendall 0–10 grade, or "T" for trace."""


class SidePair(_Strict):
    """Grades of one paired muscle group on each side (bilateral testing)."""

    right: KendallGrade | None = None
    left: KendallGrade | None = None


def _group_grade(value: object) -> object:
    if isinstance(value, dict):
        extra = [k for k in value if k not in ("right", "left")]
        if extra:
            fail(f"unknown side(s) {', '.join(map(repr, extra))}", "use right and left")
        return SidePair(
            right=None if value.get("right") is None else _kendall(value["right"]),
            left=None if value.get("left") is None else _kendall(value["left"]),
        )
    if isinstance(value, SidePair):
        return value
    return _kendall(value)


GroupGrade = Annotated[float | Literal["T"] | SidePair, BeforeValidator(_group_grade)]


class Mmt8Grades(_Strict):
    """Per-muscle Kendall 0–10 grades of the 8 IMACS groups.

    Unilateral testing (`side: right` or `left`): one grade per group. Bilateral testing
    (`side: bilateral`): neck flexors once (axial), every other group as `{right: 7, left: 8}`.
    A group left out was not graded (the total becomes a range).
    """

    neck_flexors: GroupGrade | None = None
    deltoid: GroupGrade | None = None
    biceps: GroupGrade | None = None
    wrist_extensors: GroupGrade | None = None
    gluteus_maximus: GroupGrade | None = None
    gluteus_medius: GroupGrade | None = None
    quadriceps: GroupGrade | None = None
    ankle_dorsiflexors: GroupGrade | None = None


def _item(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value not in (0, 1, 2, 3):
        fail(
            f"{value!r} is not a HAQ item answer",
            "write 0 (no difficulty), 1 (some), 2 (much) or 3 (unable)",
        )
    return int(value)


HaqItem = Annotated[int, BeforeValidator(_item)]


class HaqCategory(_Strict):
    """Answers in one HAQ category: the items answered (0-3 each) and whether aids or help were used.

    `aids` is true/false, or the devices used (`[cane]`); a device raises only the category the HAQ maps
    it to (`knowledge/data/core_set.yaml` haq_di.devices [S65])."""

    items: list[HaqItem] = Field(min_length=1, max_length=3, description="Answered items, 0-3 each")
    aids: bool | list[str] | None = Field(
        None, description="Uses aids or devices for this category: true/false, or the devices, e.g. [cane]"
    )
    help: bool | None = Field(None, description="Needs help from another person for this category")


def haq_devices() -> dict[str, list[str]]:
    """HAQ category → the aids and devices the HAQ maps to it (core_set.yaml, [S65])."""
    from imnm import knowledge

    devices: dict[str, list[str]] = knowledge.load("core_set")["haq_di"]["devices"]
    return devices


class HaqItems(_Strict):
    """HAQ-DI answers by category; a category left out was not answered. An aid or device counts only in
    the category the HAQ maps it to; help from another person counts in every category."""

    @model_validator(mode="after")
    def _aids_fit_their_category(self) -> HaqItems:
        devices = haq_devices()
        where = {d: c for c, ds in devices.items() for d in ds}
        for cat in CATEGORIES:
            answers: HaqCategory | None = getattr(self, cat)
            if answers is None or not answers.aids:
                continue
            if answers.aids is True and not devices.get(cat):
                fail(
                    f"no aid or device belongs to the HAQ category '{cat}' [S65]",
                    "record help from another person as help: true, or leave aids out",
                )
            if isinstance(answers.aids, list):
                for d in answers.aids:
                    home = where.get(d.strip().lower())
                    if home is None:
                        fail(
                            f"{d!r} is not an aid or device of the HAQ",
                            f"use one of: {', '.join(sorted(where))} (or aids: true)",
                        )
                    if home != cat:
                        fail(
                            f"{d!r} is a HAQ aid for '{home}', not for '{cat}'",
                            f"list it under {home}: aids (it raises only that category)",
                        )
        return self

    dressing: HaqCategory | None = None
    arising: HaqCategory | None = None
    eating: HaqCategory | None = None
    walking: HaqCategory | None = None
    hygiene: HaqCategory | None = None
    reach: HaqCategory | None = None
    grip: HaqCategory | None = None
    activities: HaqCategory | None = None


class Mmt8(_Strict):
    """MMT-8 total with the scale it was scored on (/80 unilateral, /150 bilateral, /160),
    or per-muscle Kendall 0-10 grades with the side tested (see `imnm.instruments.mmt8`)."""

    total: Annotated[float, Strict(), Field(ge=0)] | None = None
    scale: Literal[80, 150, 160] | None = None
    side: Literal["right", "left", "bilateral"] | None = Field(
        None, description="Side tested: right or left (unilateral, /80) or bilateral (/150)"
    )
    grades: Mmt8Grades | None = Field(
        None, description="Per-muscle Kendall 0-10 grades (or T) of the 8 groups"
    )

    @model_validator(mode="after")
    def _within_scale(self) -> Mmt8:
        from imnm.instruments.mmt8 import validate

        validate(self)
        return self
