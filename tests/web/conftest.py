"""Fixtures of the web tests: the API world of tests/api (users of every role, a stored patient) and
helpers to use its pages as a browser would, in process (TestClient)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.conftest import World, make_world

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden fields of the first form on a page (the screener's state)."""
    import html as h

    start = html.find("<form", html.find('id="main"'))
    end = html.find("</form>", start)
    return {k: h.unescape(v) for k, v in HIDDEN.findall(html[start:end])}


def csrf_of(client: Any) -> str:
    return str(client.cookies.get("csrftoken"))


@pytest.fixture(scope="module")
def web(tmp_path_factory):  # type: ignore[no-untyped-def]
    w = make_world(tmp_path_factory.mktemp("web"))
    yield w
    w.db.dispose()


@pytest.fixture
def fresh(tmp_path):  # type: ignore[no-untyped-def]
    w: World = make_world(tmp_path)
    yield w
    w.db.dispose()
