"""Static files (htmx, the stylesheets) served by the app with a day of caching."""

from __future__ import annotations

from typing import Any

from starlette.staticfiles import StaticFiles as _StaticFiles
from starlette.types import Receive, Scope, Send

from imnm.web.templating import STATIC


class StaticFiles(_StaticFiles):
    def __init__(self) -> None:
        super().__init__(directory=str(STATIC))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                headers.append((b"cache-control", b"public, max-age=86400"))
                message["headers"] = headers
            await send(message)

        await super().__call__(scope, receive, sending)
