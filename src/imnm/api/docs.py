"""The interactive API docs (/docs, Swagger UI) under a Content-Security-Policy with `script-src 'self'`.

Swagger UI is vendored (`imnm/api/swagger/`, see its VENDORED.md: name, version, source, licence and
digest of each file) and served by the app under `/docs/static/`; the deployment needs no CDN. The page
has no inline script: `init.js` (ours) starts Swagger UI from the page's data attributes.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

SWAGGER = Path(__file__).resolve().parent / "swagger"
STATIC_PREFIX = "/docs/static"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    # Swagger UI (React) sets style attributes; styles only, scripts stay 'self'
    "style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def docs_html(title: str, openapi_url: str, oauth2_redirect_url: str) -> str:
    s = STATIC_PREFIX
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{s}/swagger-ui.css">
</head>
<body>
<noscript>The interactive docs need JavaScript; the API is described by <a href="{escape(openapi_url)}">{
        escape(openapi_url)
    }</a>.</noscript>
<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}" data-oauth2-redirect-url="{
        escape(oauth2_redirect_url)
    }"></div>
<script src="{s}/swagger-ui-bundle.js"></script>
<script src="{s}/init.js"></script>
</body>
</html>
"""


def redirect_html() -> str:
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Swagger UI: OAuth2 redirect</title></head>
<body>
<script src="{STATIC_PREFIX}/oauth2-redirect.js"></script>
</body>
</html>
"""


def _page(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers={"content-security-policy": CSP})


def include(app: FastAPI, *, openapi_url: str = "/openapi.json", docs_url: str = "/docs") -> None:
    """Serve Swagger UI at `docs_url`, its OAuth2 redirect page and its vendored files."""
    from starlette.staticfiles import StaticFiles

    redirect = f"{docs_url}/oauth2-redirect"

    @app.get(docs_url, include_in_schema=False)
    def docs() -> Any:
        return _page(docs_html(f"{app.title} - docs", openapi_url, redirect))

    @app.get(redirect, include_in_schema=False)
    def oauth2_redirect() -> Any:
        return _page(redirect_html())

    app.mount(STATIC_PREFIX, StaticFiles(directory=str(SWAGGER)), name="docs-static")
