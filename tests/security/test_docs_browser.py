"""/docs in a real browser (Debian chromium): the vendored Swagger UI starts under the page's
Content-Security-Policy (`script-src 'self'`, no inline script, no CDN), lists the API's operations, and the
console shows no error (a CSP violation would be one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser import browser, page  # noqa: F401  (fixtures)
from tests.servers import Server


def test_swagger_ui_runs_under_the_docs_policy(page: Any, tmp_path: Path) -> None:  # noqa: F811
    from imnm.store.db import Database

    url = f"sqlite:///{tmp_path / 'docs.db'}"
    Database(url).upgrade()
    server = Server(url, log_dir=tmp_path)
    try:
        requests: list[str] = []
        failed: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.goto(server.url + "/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=30_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert any("/api/v1/patients" in p for p in paths), paths[:5]
        assert page.locator(".info .title").inner_text().startswith("IMNM Navigator")
        assert all(u.startswith(server.url) for u in requests), [
            u for u in requests if not u.startswith(server.url)
        ]
        assert not failed and not page.console_errors, (failed, page.console_errors)
    finally:
        server.stop()
