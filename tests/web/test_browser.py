"""The web app in a real browser: Debian's chromium through Playwright (`tests/browser.py`, one browser
for the session), against `imnm serve` (uvicorn) on a free loopback port with a fresh SQLite store.

- A patient completes the screener by keyboard only, for every bundled scenario, with JavaScript on
  (htmx swaps the question) and off (plain form posts), and sees the expected level.
- A clinician creates a patient through the forms (fixing one validation error on the page), sees
  the assessment, adds a CK and sees the trend and the EULAR/ACR item change, opens the revisions.
- A coordinator opens NCT04025632, sees the candidates, records a manual review and exports the CSV.
- Every page passes axe-core (no serious or critical violation) without console errors, and is
  photographed at 390 × 844 and 1280 × 800 into `build/screenshots/` (the README's tour pictures
  are copied to `docs/screenshots/` when IMNM_DOCS_SCREENSHOTS=1).
"""

from __future__ import annotations

import csv
import glob
import io
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.browser import axe_violations, browser, format_violations  # noqa: F401  (fixtures)
from tests.conftest import EXAMPLES, ROOT

PASSWORD = "synthetic password 1"
SHOTS = ROOT / "build" / "screenshots"
DOCS_SHOTS = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SCENARIOS = {  # the levels written down from the rules' sources (tests/screen/test_scenarios.py)
    "answers.yaml": "soon",
    "carer-child.yaml": "soon",
    "none.yaml": "none",
    "routine-high-ck.yaml": "routine",
    "urgent-breathing.yaml": "urgent",
}


@dataclass
class Site:
    url: str
    patients: dict[str, str] = field(default_factory=dict)  # record id -> patient id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from imnm.record.load import load_record
    from imnm.store import patients, users
    from imnm.store.db import Database
    from tests.servers import Server

    tmp = tmp_path_factory.mktemp("web-browser")
    url = f"sqlite:///{tmp / 'store.db'}"
    db = Database(url)
    db.upgrade()
    ids: dict[str, str] = {}
    with db.session() as s:
        users.create_team(s, "neuro")
        users.create_user(s, "doc", PASSWORD, roles=["clinician"], teams=["neuro"])
        users.create_user(s, "coord", PASSWORD, roles=["coordinator"], teams=["neuro"])
        who = users.principal_for(s, users.user_by_name(s, "doc"))
        for f in sorted(glob.glob(str(EXAMPLES / "*.yaml"))):
            rec = load_record(f)
            ids[rec.id] = patients.create(s, who, rec, team="neuro", reason="bundled example")[0].id
    db.dispose()
    server = Server(url, log_dir=tmp)
    try:
        yield Site(server.url, ids)
    finally:
        server.stop()


class Tab:
    """One page of its own browser context, with the console errors it saw."""

    def __init__(self, chromium: Any, *, js: bool = True, viewport: dict[str, int] = DESKTOP) -> None:
        self.context = chromium.new_context(viewport=viewport, java_script_enabled=js, accept_downloads=True)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tabs(browser: Any) -> Iterator[Any]:  # noqa: F811 - the shared fixture of tests/browser.py
    opened: list[Tab] = []

    def make(**kw: Any) -> Tab:
        t = Tab(browser, **kw)
        opened.append(t)
        return t

    yield make
    for t in opened:
        t.close()


def log_in(tab: Tab, site: Site, user: str) -> None:
    page = tab.page
    page.goto(site.url + "/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("form.narrow button[type=submit]")
    page.wait_for_url(re.compile(r".*/(?!login)[^/]*$"))


# ---------------------------------------------------------------- the screener by keyboard


def active(page: Any) -> dict[str, Any]:
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return {tag: e.tagName, type: e.type || null, value: e.value || null, id: e.id || null,"
        " text: (e.textContent || '').trim()}; }"
    )


def tab_to(page: Any, predicate: Any, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if predicate(active(page)):
            return
    raise AssertionError(f"Tab never reached the element; at {active(page)}")


def keyboard_screener(page: Any, site: Site, answers: dict[str, Any]) -> str:
    """Answer the screener with the keyboard only; the level shown."""
    from imnm.screen.screener import load_screener

    qs = load_screener().questions_by_id
    page.goto(site.url + "/screener")
    tab_to(page, lambda a: a["id"] == "start")
    page.keyboard.press("Enter")
    previous = None
    for _ in range(40):
        page.wait_for_selector("fieldset[data-question], .level")
        fs = page.query_selector("fieldset[data-question]")
        if fs is None:
            break
        q = fs.get_attribute("data-question")
        if q == previous:  # htmx has not swapped yet
            page.wait_for_function(
                "(q) => { const f = document.querySelector('fieldset[data-question]'); return !f || f.dataset.question !== q; }",
                arg=q,
            )
            continue
        previous = q
        question = qs[q]
        raw = answers.get(q)
        # the new question takes the focus (autofocus; htmx applies it once the swap has settled)
        page.wait_for_function("() => document.activeElement && document.activeElement.tagName === 'INPUT'")
        focus = active(page)
        if question.kind == "number":
            assert focus["id"] == "answer", (q, focus)  # focus is in the answer box
            if raw not in (None, "dont_know"):
                page.keyboard.type(f"{raw:g}" if isinstance(raw, float | int) else str(raw))
            page.keyboard.press("Enter")
            continue
        values = ["yes", "no", "dont_know"] if question.kind == "yes_no" else [*question.values, "dont_know"]
        want = (
            {True: "yes", False: "no", None: "dont_know"}.get(raw, raw) if not isinstance(raw, str) else raw
        )
        index = values.index(want)
        assert focus["tag"] == "INPUT" and focus["type"] == "radio" and focus["value"] == values[0], (
            q,
            focus,
        )
        if index == 0:
            page.keyboard.press("Space")
        for _ in range(index):
            page.keyboard.press("ArrowDown")
        assert active(page)["value"] == want
        page.keyboard.press("Tab")
        assert active(page)["text"] == "Next", active(page)
        page.keyboard.press("Enter")
    level = page.wait_for_selector(".level")
    cls = level.get_attribute("class") or ""
    assert level.get_attribute("role") == "status"
    return cls.split("level-")[-1]


@pytest.mark.parametrize("js", [True, False], ids=["javascript", "no-javascript"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_screener_by_keyboard_only(site: Site, tabs: Any, scenario: str, js: bool) -> None:
    tab = tabs(js=js, viewport=PHONE)
    answers = yaml.safe_load((EXAMPLES / "screener" / scenario).read_text())
    level = keyboard_screener(tab.page, site, answers)
    assert level == SCENARIOS[scenario]
    text = tab.page.inner_text("main")
    assert "This is a guide to help you talk to a doctor. It is not a diagnosis." in text
    if level == "urgent":
        assert tab.page.inner_text(".level h1").startswith("URGENT: Get medical care today")
    if level != "none":
        assert "Tests a doctor may do" in text
    if js:
        assert not tab.errors, tab.errors


# ---------------------------------------------------------------- the clinician


def test_clinician_creates_a_patient_and_follows_a_ck(site: Site, tabs: Any) -> None:
    tab = tabs()
    page = tab.page
    log_in(tab, site, "doc")
    page.goto(site.url + "/patients/new")
    page.fill("#f-id", "browser-case-1")
    page.select_option("#f-sex", "female")
    page.fill("#f-birth-date", "1961-05-02")
    page.fill("#f-symptom-onset", "1955-01-10")  # before birth: refused, at the field
    page.click("text=Create the patient")
    error = page.wait_for_selector("#f-symptom-onset-error")
    assert "symptom_onset" in error.inner_text() and "before" in error.inner_text()
    assert page.get_attribute("#f-symptom-onset", "aria-invalid") == "true"
    assert "f-symptom-onset-error" in (page.get_attribute("#f-symptom-onset", "aria-describedby") or "")
    assert page.is_visible("#error-summary")
    assert tab.errors == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    ]
    tab.errors.clear()  # the browser logs the page's own 422 status (the form came back with its problems)
    page.fill("#f-symptom-onset", "2024-01-10")
    page.click("text=Create the patient")
    page.wait_for_selector("text=Saved: the new patient")
    pid = page.url.split("/patients/")[1].split("?")[0].split("#")[0]

    page.goto(f"{site.url}/patients/{pid}/edit/findings")
    page.check("input[name=f-proximal-weakness-upper][value=yes]")
    page.check("input[name=f-proximal-weakness-lower][value=yes]")
    page.click("text=Save findings")
    page.wait_for_selector("text=Saved: findings")

    def add_ck(value: str, when: str) -> None:
        page.goto(f"{site.url}/patients/{pid}/edit/labs")
        page.select_option("#f-test", "ck")
        page.fill("#f-value", value)
        page.fill("#f-unit", "U/L")
        page.fill("#f-uln", "200")
        page.fill("#f-date", when)
        page.fill("#reason", f"CK {when}")
        page.click("text=Save labs")
        page.wait_for_selector("text=Saved: labs")

    add_ck("150", "2024-02-01")  # within the ULN
    page.goto(f"{site.url}/patients/{pid}/assessment?as_of=2024-06-01")
    assert (
        page.get_attribute("#item-11", "data-status") == "unknown"
    )  # LDH, AST, ALT not known: could be high
    add_ck("4200", "2024-03-01")
    page.goto(f"{site.url}/patients/{pid}/assessment?as_of=2024-06-01")
    assert page.get_attribute("#item-11", "data-status") == "present"
    interp = page.inner_text("section[aria-labelledby=interp-heading]")
    assert "rising" in interp  # the trend between the two results
    page.click("#item-11 summary")  # the item opens to its evidence
    assert "labs[1]" in page.inner_text("#item-11")
    page.goto(f"{site.url}/patients/{pid}/activity")
    assert page.query_selector(".chart svg") is not None
    page.click("text=Revisions")
    rows = page.query_selector_all("table.revisions tbody tr")
    assert len(rows) == 4  # created, findings, two CKs
    assert "CK 2024-03-01" in page.inner_text("table.revisions")
    assert "labs[1]" in page.inner_text("table.diff")
    assert not tab.errors, tab.errors


# ---------------------------------------------------------------- the coordinator


def test_coordinator_reviews_a_candidate_and_exports_the_csv(site: Site, tabs: Any) -> None:
    tab = tabs()
    page = tab.page
    log_in(tab, site, "coord")
    page.goto(site.url + "/trials")
    page.click("a[href='/trials/NCT04025632']")
    page.click("nav.subnav >> text=Candidates")
    page.wait_for_selector("table.candidates")
    rows = page.query_selector_all("tr.candidate")
    assert len(rows) >= len(site.patients)
    pid = site.patients["example-anti-hmgcr"]
    cand = f"#cand-{pid}"
    page.click(f"{cand} details.reviews summary")
    item = f"#review-{pid}-all-exc-1"
    page.check(f"{item} input[name=met][value=no]")
    page.fill(f"{item} input[name=note]", "no meningococcal disease (asked at visit)")
    page.click(f"{item} button[type=submit]")
    page.wait_for_selector("text=Review of exc-1 saved")
    assert "Latest review: not met, by coord" in page.inner_text(item)
    shown = {
        r.get_attribute("id")[5:]: r.get_attribute("data-verdict")
        for r in page.query_selector_all("tr.candidate")
    }
    with page.expect_download() as dl:
        page.click("#csv-link")
    path = dl.value.path()
    assert dl.value.suggested_filename.startswith("candidates-NCT04025632-")
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))
    assert {r["patient_id"]: r["verdict"] for r in rows} == shown
    mine = next(r for r in rows if r["patient_id"] == pid)
    assert "exc-1=not met (coord" in mine["reviews"]
    assert not tab.errors, tab.errors


# ---------------------------------------------------------------- every page: axe, console, screenshots


def _pages(site: Site) -> list[tuple[str, str, str | None]]:
    """(name, path, user) of every page, logged in as the user who would open it."""
    pid = site.patients["example-anti-hmgcr"]
    srp = site.patients["example-anti-srp-grades"]
    out: list[tuple[str, str, str | None]] = [
        ("home", "/", None),
        ("login", "/login", None),
        ("screener-start", "/screener", None),
        ("screener-question", "/screener/step", None),
        ("not-found", "/patients/nope", "doc"),
        ("patients", "/patients", "doc"),
        ("patient-new", "/patients/new", "doc"),
        ("record", f"/patients/{pid}", "doc"),
        ("assessment", f"/patients/{pid}/assessment", "doc"),
        ("assessment-ranges", f"/patients/{srp}/assessment", "doc"),
        ("activity", f"/patients/{srp}/activity", "doc"),
        ("history", f"/patients/{pid}/history", "doc"),
        ("patient-trials", f"/patients/{pid}/trials", "doc"),
        ("trials", "/trials", "coord"),
        ("trial", "/trials/NCT04025632", "coord"),
        ("candidates", "/trials/NCT04025632/candidates", "coord"),
    ]
    from imnm.web.forms import sections

    out += [(f"edit-{s}", f"/patients/{pid}/edit/{s}", "doc") for s in sections()]
    return out


def _check(tab: Tab, name: str, viewport: dict[str, int]) -> None:
    page = tab.page
    folder = SHOTS / f"{viewport['width']}x{viewport['height']}"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)  # as a person first sees it
    page.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    found = axe_violations(page)  # with every folded part open, so that axe sees it all
    assert not found, f"{name}: {format_violations(found)}"
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= viewport["width"], (
        f"{name}: the page is {wide} px wide at {viewport['width']} px (no sideways scrolling)"
    )


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1280x800"])
def test_every_page_passes_axe_without_console_errors(
    site: Site, tabs: Any, viewport: dict[str, int]
) -> None:
    visitors: dict[str | None, Tab] = {}
    for name, path, user in _pages(site):
        if user not in visitors:
            visitors[user] = tabs(viewport=viewport)
            if user:
                log_in(visitors[user], site, user)
        tab = visitors[user]
        response = tab.page.goto(site.url + path)
        assert response is not None and response.status == (404 if name == "not-found" else 200), name
        _check(tab, name, viewport)
        if name == "not-found":
            tab.errors.clear()  # the browser reports the 404 status of the page itself
    # pages reached by posting forms: a form with errors, a screener result, a saved code
    doc = visitors["doc"].page
    doc.goto(site.url + "/patients/new")
    doc.fill("#f-id", "x")
    doc.fill("#f-age-at-onset", "200")
    doc.click("text=Create the patient")
    doc.wait_for_selector("#error-summary")
    _check(visitors["doc"], "patient-new-errors", viewport)
    visitors["doc"].errors.remove(
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    )
    anon = visitors[None]
    answers = yaml.safe_load((EXAMPLES / "screener" / "urgent-breathing.yaml").read_text())
    keyboard_screener(anon.page, site, answers)
    _check(anon, "screener-result-urgent", viewport)
    anon.page.click("text=Save my answers and get a code")
    anon.page.wait_for_selector("#saved-code")
    _check(anon, "screener-saved", viewport)
    for tab in visitors.values():
        assert not tab.errors, tab.errors


TOUR = (
    ("patient-result", None, "urgent-breathing.yaml"),
    ("clinician-assessment", "doc", "example-anti-hmgcr"),
    ("coordinator-candidates", "coord", "NCT04025632"),
)


def test_the_readme_tour_pictures(site: Site, tabs: Any) -> None:
    """The three pictures of the README tour, at 1280 × 800 (the visible part of each page)."""
    folder = SHOTS / "tour"
    folder.mkdir(parents=True, exist_ok=True)
    for name, user, what in TOUR:
        tab = tabs(viewport=DESKTOP)
        if user:
            log_in(tab, site, user)
        page = tab.page
        if name == "patient-result":
            keyboard_screener(page, site, yaml.safe_load((EXAMPLES / "screener" / what).read_text()))
        elif name == "clinician-assessment":
            page.goto(f"{site.url}/patients/{site.patients[what]}/assessment")
            page.locator("#eular-heading").scroll_into_view_if_needed()
            page.evaluate("() => window.scrollBy(0, -20)")
        else:
            page.goto(f"{site.url}/trials/{what}/candidates")
        page.screenshot(path=str(folder / f"{name}.png"))
        assert (folder / f"{name}.png").stat().st_size > 10_000
        if os.environ.get("IMNM_DOCS_SCREENSHOTS") == "1":
            DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(folder / f"{name}.png", DOCS_SHOTS / f"{name}.png")
        assert not tab.errors, tab.errors
