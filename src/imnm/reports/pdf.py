"""HTML → PDF with WeasyPrint, reproducibly.

The same HTML and `as_of` give the same bytes: the PDF's creation and modification dates are the
evaluation date (midnight UTC, set through the `dcterms.created` / `dcterms.modified` metadata the
templates write and checked here), WeasyPrint's font subsets and object ids are derived from the
content, and no URL is fetched (a url_fetcher that refuses everything: the HTML is self-contained).
Fonts come from the system (Debian `fonts-dejavu-core`); the stylesheet names DejaVu Sans only, so
no other installed font is picked up.
"""

from __future__ import annotations

from datetime import date

from imnm.errors import InputError, Problem


def _no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    raise ValueError(f"reports are self-contained; refusing to fetch {url!r}")


def html_to_pdf(html: str, *, as_of: date, title: str = "") -> bytes:
    """Lay out the report's HTML as a PDF (fonts embedded) with metadata dates from `as_of`."""
    return render_pdf(html, as_of=as_of)[0]


def render_pdf(html: str, *, as_of: date) -> tuple[bytes, int]:
    """The PDF and its number of pages."""
    stamp = f"{as_of.isoformat()}T00:00:00Z"
    if f'name="dcterms.created" content="{stamp}"' not in html:
        raise ValueError("the report HTML must carry dcterms.created from as_of (templates/_head.html)")
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the Pango libraries are missing
        raise InputError(
            [
                Problem(
                    "",
                    f"making a PDF needs WeasyPrint and the Pango libraries ({type(exc).__name__}: {exc})",
                    "pip install 'imnm[reports]'; on Debian apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
                    "fonts-dejavu-core (or write HTML: -o report.html)",
                )
            ],
            what="reports",
        ) from None
    document = weasyprint.HTML(string=html, url_fetcher=_no_fetch, base_url=".").render()
    pdf: bytes = document.write_pdf()
    return pdf, len(document.pages)
