"""Text renderings of every result, in one home.

Each module turns one result type into renderer-neutral lines: `(style, text)` pairs, style one of
`h1`, `h2`, `text`, `dim`, `warn` (and `urgent` for the screener). The CLI styles them with rich;
the web pages and PDF reports reuse the same wording.
"""

from __future__ import annotations

Line = tuple[str, str]

__all__ = ["Line", "plain"]


def plain(lines: list[Line]) -> str:
    """The lines as plain text."""
    return "\n".join(text for _style, text in lines)
