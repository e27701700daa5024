"""JSON responses serialized once with the standard library (what the CLI prints with --json).

FastAPI's default path walks the whole document through `jsonable_encoder` first, which costs more
than the assessment itself for a 50 kB work-up; the documents here are plain JSON already.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from starlette.responses import Response


def _default(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_response(
    data: Any,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    media_type: str = "application/json",
) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_default).encode()
    return Response(body, status_code=status, media_type=media_type, headers=headers)
