"""The work-up's view of the one settings object (`imnm.settings.Settings`).

`WorkupSettings` is the same class (kept as a name for callers of the work-up); `workup_settings`
gives the defaults when a caller passes none.
"""

from __future__ import annotations

from imnm.settings import (
    WORKUP_CHOICES,
    Settings,
    choice_meta,
    choice_options,
    default_settings,
    setting_names,
)

WorkupSettings = Settings
CHOICES = WORKUP_CHOICES

__all__ = ["CHOICES", "WorkupSettings", "choice_meta", "choice_options", "setting_names", "workup_settings"]


def workup_settings(settings: Settings | None) -> Settings:
    """The settings to use: those given, else the documented defaults."""
    return settings if settings is not None else default_settings()
