"""A real browser for the tests: Debian's chromium driven by Playwright, and axe-core in it.

Use it from a test module by importing the fixtures (no conftest change needed):

    from tests.browser import axe_violations, browser, page  # noqa: F401  (fixtures)

    def test_no_serious_violation(page):
        page.set_content(html)                    # or page.goto("http://127.0.0.1:PORT/...")
        assert not axe_violations(page), format_violations(axe_violations(page))

- `browser` (session scope): one headless chromium for the whole run (shared by every module that
  imports the fixture), launched from
  `/usr/bin/chromium` (`IMNM_CHROMIUM` overrides) with the flags that work here. Never
  `playwright install`: the browser comes from Debian (`make test` installs the `chromium` package
  when it is missing). A missing browser is a test failure with the fix, never a skip.
- `page` (function scope): a fresh context and page (1280 × 800 unless the test module has a
  `viewport` fixture, e.g. parametrized over 390 × 844 and 1280 × 800), with `page.console_errors` collecting console errors and uncaught page errors.
- `axe_violations(page, impacts=...)`: injects the vendored axe-core (`tests/vendor/axe-core`,
  version `AXE_VERSION`) into the page, runs it over the whole document and returns the violations
  whose impact is serious or critical (or the impacts asked for), each as axe reports it
  (`id`, `impact`, `help`, `helpUrl`, `nodes` with their `target` and `failureSummary`).
- `format_violations(violations)`: a readable assertion message.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("IMNM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE_DIR = Path(__file__).resolve().parent / "vendor" / "axe-core"
AXE_JS = AXE_DIR / "axe.min.js"
AXE_VERSION = "4.14.1"
SERIOUS = ("serious", "critical")


_SHARED: dict[str, Any] = {}  # one Playwright and one chromium for the whole run


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """The session's chromium. Every test module that imports this fixture gets the same browser: the
    first one to ask starts it, the last one to finish stops it (pytest keeps a session fixture imported
    into two modules as two fixtures, and Playwright's sync API cannot run twice in one thread)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests use Debian's chromium "
            "(make test installs it: apt-get install --no-install-recommends chromium)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install -e '.[dev]' (never `playwright install`)")
    if not _SHARED:
        pw = sync_playwright().start()
        try:
            b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        except Exception:
            pw.stop()
            raise
        _SHARED.update(playwright=pw, browser=b, users=0)
    _SHARED["users"] += 1
    try:
        yield _SHARED["browser"]
    finally:
        _SHARED["users"] -= 1
        if _SHARED["users"] == 0:
            try:
                _SHARED["browser"].close()
            finally:
                _SHARED["playwright"].stop()
                _SHARED.clear()


DEFAULT_VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    try:  # a test module may define a `viewport` fixture (or parametrize it) for phone sizes
        viewport = request.getfixturevalue("viewport")
    except pytest.FixtureLookupError:
        viewport = DEFAULT_VIEWPORT
    context = browser.new_context(viewport=viewport)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.console_errors = errors
    try:
        yield pg
    finally:
        context.close()


def axe_violations(
    page: Any, *, impacts: tuple[str, ...] = SERIOUS, options: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Run axe-core over the page; the violations with one of these impacts."""
    if not AXE_JS.exists():
        pytest.fail(f"vendored axe-core missing: {AXE_JS} (see {AXE_DIR / 'README.md'})")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # evaluated through the DevTools protocol, not as a <script> tag: pages with a Content-Security-
        # Policy (the web app allows scripts from itself only) would refuse an inline script
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    version = page.evaluate("() => window.axe.version")
    assert version == AXE_VERSION, f"axe-core {version} loaded, {AXE_VERSION} expected"
    result = page.evaluate(
        "async (options) => await window.axe.run(document, options)",
        options or {"resultTypes": ["violations"]},
    )
    return [v for v in result["violations"] if v.get("impact") in impacts]


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['impact']}: {v['id']} — {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target']}: {node.get('failureSummary', '')}".replace("\n", " "))
    return "\n".join(lines) or "no violations"
