"""Vendored front-end files (htmx and simple.css for the web app, Swagger UI for /docs): each listed in its
folder's VENDORED.md with package, version, licence and SHA-256, the digest matching the file, the licence
shipped beside it, and nothing loaded from a CDN (the deployment is offline)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

SRC = Path(__file__).resolve().parents[2] / "src" / "imnm"
FOLDERS = {"web": SRC / "web" / "static", "docs": SRC / "api" / "swagger"}
ROW = re.compile(r"^\| `([^`]+)` \| `([^`]+)`[^|]*\| ([\d.]+) \| ([^|]+) \| ([0-9a-f]{64}) \|$", re.M)


def rows(folder: Path) -> list[tuple[str, str, str, str, str]]:
    return ROW.findall((folder / "VENDORED.md").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(FOLDERS))
def test_every_vendored_file_matches_its_recorded_digest_and_ships_its_licence(name: str) -> None:
    folder = FOLDERS[name]
    found = rows(folder)
    assert found, f"{folder / 'VENDORED.md'} lists no vendored file"
    for file, package, version, licence, digest in found:
        assert hashlib.sha256((folder / file).read_bytes()).hexdigest() == digest, (
            f"{file} ({package} {version}) changed: a new version needs its row in VENDORED.md updated"
        )
        shipped = re.findall(r"`([^`]+\.txt)`", licence)
        assert shipped and all((folder / f).is_file() for f in shipped), (file, licence)


def test_swagger_ui_is_the_pinned_release() -> None:
    assert {(f, v) for f, _, v, _, _ in rows(FOLDERS["docs"])} == {
        ("swagger-ui-bundle.js", "5.35.0"),
        ("swagger-ui.css", "5.35.0"),
        ("oauth2-redirect.js", "5.35.0"),
    }


def test_docs_pages_load_only_our_own_files_and_have_no_inline_script(tmp_path: Path) -> None:
    from imnm.api.app import create_app
    from imnm.store.db import Database

    db = Database(f"sqlite:///{tmp_path / 's.db'}")
    db.upgrade()
    c = TestClient(create_app(db=db))
    for page in ("/docs", "/docs/oauth2-redirect"):
        r = c.get(page)
        assert r.status_code == 200
        html = r.text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), page  # no inline script
        assert not re.search(r"\son[a-z]+=", html), page
        urls = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert urls and all((u.startswith("/") and not u.startswith("//")) or u == "data:," for u in urls), (
            urls
        )
        for u in urls:
            if u.startswith("/docs/static/"):
                assert c.get(u).status_code == 200, u
        script = r.headers["content-security-policy"].split("script-src")[1].split(";")[0].split()
        assert script == ["'self'"], r.headers["content-security-policy"]
    db.dispose()
