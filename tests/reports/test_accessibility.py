"""The report HTML in a real browser (Debian's chromium through Playwright): axe-core finds no serious or
critical violation, nothing is logged as an error, and the patient summary's type is large."""

from __future__ import annotations

import pytest

from tests.browser import axe_violations, browser, format_violations, page  # noqa: F401  (fixtures)
from tests.reports.helpers import built


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("anti-hmgcr", "clinician"),
        ("seronegative-biopsy", "clinician"),
        ("anti-hmgcr", "patient"),
        ("answers", "patient"),
    ],
)
def test_no_serious_accessibility_violation(page, name: str, kind: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page.set_content(built(name, kind).html)
    violations = axe_violations(page)
    assert not violations, format_violations(violations)
    assert page.console_errors == []
    assert page.evaluate("() => document.documentElement.lang") == "en"


def test_the_check_can_fail(page) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page.set_content(
        '<html><body><img src="data:,"><p style="color:#eee;background:#fff">faint</p></body></html>'
    )
    ids = {v["id"] for v in axe_violations(page)}
    assert {"image-alt", "color-contrast"} & ids, ids


def test_patient_text_is_large_in_the_browser(page) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page.set_content(built("answers", "patient").html)
    size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('main li')).fontSize)")
    page.set_content(built("anti-hmgcr").html)
    clinician = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('main p')).fontSize)")
    assert size >= 15.5 > clinician  # 12 pt = 16 px
