"""Fetch what the prefetch did not carry from the CDS client's `fhirServer` (httpx, bearer token).

One GET per missing prefetch key, short timeouts, no retries; searchset `next` links are followed only on
the same origin as `fhirServer` and at most `max_pages` pages. A failure is a `FetchError` (the service
answers 412, as the specification asks when it cannot get the data it needs).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

_TOKEN = re.compile(r"\{\{\s*context\.([A-Za-z]+)\s*\}\}")


class FetchError(Exception):
    pass


def render(template: str, context: dict[str, Any]) -> str | None:
    """A prefetch template with `{{context.X}}` tokens filled in (None when a token has no value)."""
    missing = False

    def sub(m: re.Match[str]) -> str:
        nonlocal missing
        v = context.get(m.group(1))
        if not isinstance(v, str) or not v:
            missing = True
            return ""
        return v

    out = _TOKEN.sub(sub, template)
    return None if missing else out


class FhirFetcher:
    def __init__(self, *, timeout: float = 3.0, max_pages: int = 5) -> None:
        self.timeout = timeout
        self.max_pages = max_pages

    def fetch(self, base: str, query: str, token: str | None) -> dict[str, Any]:
        import httpx

        if urlsplit(base).scheme not in ("http", "https"):
            raise FetchError("fhirServer must be an http(s) URL")
        headers = {"Accept": "application/fhir+json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        origin = urlsplit(base)[:2]
        url = base.rstrip("/") + "/" + query.lstrip("/")
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 2.0))
        transport = httpx.HTTPTransport(retries=0)
        try:
            with httpx.Client(timeout=timeout, transport=transport, follow_redirects=False) as client:
                doc = self._get(client, url, headers)
                if doc.get("resourceType") != "Bundle":
                    return doc
                entries = list(doc.get("entry") or [])
                pages = 1
                nxt = _next(doc)
                while nxt and pages < self.max_pages:
                    if urlsplit(nxt)[:2] != origin:
                        raise FetchError("a next link points outside fhirServer")
                    page = self._get(client, nxt, headers)
                    entries.extend(page.get("entry") or [])
                    pages += 1
                    nxt = _next(page)
                if nxt:
                    raise FetchError(f"more than {self.max_pages} pages of results")
                return {"resourceType": "Bundle", "type": "searchset", "entry": entries}
        except httpx.HTTPError as exc:
            raise FetchError(f"fhirServer request failed ({type(exc).__name__})") from None

    def _get(self, client: Any, url: str, headers: dict[str, str]) -> dict[str, Any]:
        r = client.get(url, headers=headers)
        if r.status_code == 404 and "?" not in url:
            return {}
        if r.status_code != 200:
            raise FetchError(f"fhirServer answered {r.status_code}")
        try:
            data: dict[str, Any] = r.json()
        except ValueError:
            raise FetchError("fhirServer did not answer JSON") from None
        return data


def _next(bundle: dict[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if link.get("relation") == "next" and link.get("url"):
            return str(link["url"])
    return None
