"""The patient screener use case (`imnm screen`, `POST /api/v1/screen`, the public screener pages)."""

from __future__ import annotations

from dataclasses import dataclass

from imnm.screen.answers import Answers
from imnm.screen.screener import Screener, ScreenResult
from imnm.settings import Settings, default_settings


@dataclass(frozen=True)
class Screening:
    """The screener's result together with the screener it came from (for wording)."""

    result: ScreenResult
    screener: Screener

    def as_dict(self) -> dict[str, object]:
        return self.result.as_dict(self.screener)


def screen(answers: Answers, *, settings: Settings | None = None) -> Screening:
    """Who should seek testing: the level, why, what to do and the questions that still matter."""
    from imnm.screen.screener import load_screener
    from imnm.screen.screener import screen as run

    s = settings or default_settings()
    screener = load_screener()
    return Screening(
        run(answers, unknown_policy=s.unknown_policy, urgent_flags=s.urgent_flags, screener=screener),
        screener,
    )
