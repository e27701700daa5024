"""Documented, configurable choices that change results (⚠️/❗ items in the knowledge tables).

Every output that depends on a non-default setting says so (see `Settings.describe`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class Settings:
    """Choices for evaluation. Defaults are the knowledge tables' documented defaults."""

    default_uln: str = "none"  # ck.yaml choice default_uln: none | by_sex_common_lab | flat_200

    def describe(self) -> dict[str, str]:
        return {f.name: str(getattr(self, f.name)) for f in fields(self)}
