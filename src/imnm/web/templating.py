"""Jinja2 templates of the web pages, and the response every page goes out with.

Pages are rendered on the server (no clinical logic in templates: they arrange what the services and
`imnm.render` give them). Every page response carries its own Content-Security-Policy (scripts,
styles and images from this server only; no inline script) and `Cache-Control: no-store`.
An htmx request (`HX-Request` header) gets the page's fragment template instead of the whole page
when the route names one.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# 'unsafe-inline' for style attributes only (inline SVG charts carry presentation styles); no inline script.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HTMX_CONFIG = {
    # no <style> injected (the CSP allows none), no eval, and no copies of pages (patient data) in
    # the browser's localStorage history cache
    "includeIndicatorStyles": False,
    "allowEval": False,
    "allowScriptTags": False,
    "historyCacheSize": 0,
    "refreshOnHistoryMiss": True,
    "selfRequestsOnly": True,
}


def num(value: object, digits: int = 3) -> str:
    """A number as people write it (no trailing zeros); '—' when there is none."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{round(float(value), digits):g}"
    return str(value)


def words(value: object) -> str:
    """`anti_hmgcr_myopathy` → `anti hmgcr myopathy` (identifiers shown as words)."""
    return "—" if value is None else str(value).replace("_", " ")


def tri(value: object) -> str:
    """true / false / unknown as a person reads them."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return "unknown"


_LINK = re.compile(
    r"(https?://[^\s<>()\"']+[^\s<>()\"'.,;:])|doi:(10\.\d{4,9}/[^\s<>()\"']+[^\s<>()\"'.,;:])|PubMed (\d{5,9})"
)


def linkify(value: object) -> Any:
    """Text with its web addresses, DOIs and PubMed ids as links (everything else escaped)."""
    from markupsafe import Markup, escape

    text = str(value)
    out: list[str] = []
    last = 0
    for m in _LINK.finditer(text):
        out.append(str(escape(text[last : m.start()])))
        url, doi, pmid = m.groups()
        href = url or (f"https://doi.org/{doi}" if doi else f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/")
        out.append(f'<a href="{escape(href)}" rel="noopener noreferrer">{escape(m.group(0))}</a>')
        last = m.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


@cache
def env() -> Any:
    import jinja2

    from imnm.reports import template_dir

    e = jinja2.Environment(
        # the web pages' own templates, then the report partials they include (issue 15)
        loader=jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(str(TEMPLATES)), jinja2.FileSystemLoader(str(template_dir()))]
        ),
        autoescape=jinja2.select_autoescape(["html", "svg"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    e.filters.update(num=num, words=words, tri=tri, linkify=linkify)
    e.globals.update(htmx_config=json.dumps(HTMX_CONFIG, separators=(",", ":")))
    return e


def viewer(request: Request) -> Any:
    """Who is looking (a `Principal`), or None for an anonymous visitor or an ended session."""
    from imnm.api.auth import resolve
    from imnm.api.problems import ApiError

    try:
        return resolve(request)
    except ApiError:
        return None


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    fragment: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page (or, for an htmx request, `fragment`) as an HTML response."""
    from imnm.version import __version__

    who = getattr(request.state, "principal", None)
    if who is None and "viewer" not in (context or {}):
        who = viewer(request)
    ctx: dict[str, Any] = {
        "request": request,
        "path": request.url.path,
        "csrf": getattr(request.state, "csrf_token", "") or "",
        "viewer": who,
        "perms": {p.value for p in who.perms} if who is not None else set(),
        "version": __version__,
        "title": "IMNM Navigator",
    }
    ctx.update(context or {})
    name = fragment if fragment is not None and is_htmx(request) else template
    html = env().get_template(name).render(ctx)
    out = HTMLResponse(html, status_code=status, headers=headers)
    out.headers["content-security-policy"] = CSP
    out.headers["cache-control"] = "no-store"
    if fragment is not None:
        out.headers["vary"] = "HX-Request"
    return out
