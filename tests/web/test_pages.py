"""The clinician's and coordinator's pages, in process: what they show is what the services compute,
choices change per view, every page names its revision, date and choices, the candidate list and its
CSV agree with the matcher, reviews are stored and audited, and page responses carry their policy."""

from __future__ import annotations

import csv
import html as h
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import World, login
from tests.conftest import AS_OF
from tests.web.conftest import csrf_of
from tests.web.matrix import WEB_MATRIX

SRC = Path(__file__).resolve().parents[2] / "src" / "imnm" / "web"


def text_of(html: str) -> str:
    return h.unescape(re.sub(r"<[^>]+>", " ", html))


def _record(w: World) -> Any:
    from imnm.store import patients as store

    with w.db.session() as s:
        return store.record_for(s, _principal(w, "clinician"), w.patient)[0]


def _principal(w: World, name: str) -> Any:
    from imnm.store import users

    with w.db.session() as s:
        return users.principal_for(s, users.user_by_name(s, name))


def test_the_assessment_page_shows_what_the_service_computes(web: World) -> None:
    from imnm import services

    c, _ = login(web.app, "coordinator")  # reading is enough
    r = c.get(f"/patients/{web.patient}/assessment?as_of={AS_OF.isoformat()}")
    assert r.status_code == 200
    page = text_of(r.text)
    from imnm.reports.views import printable  # the report partials write the marks in printable glyphs

    a = services.assess(_record(web), as_of=AS_OF).as_dict()
    assert printable(a["enmc"]["message"]) in page
    ea = a["eular_acr"]
    assert f"Score {ea['score']:g}" in page and ea["category"] in page
    for item in ea["items"]:  # every scored item with its status, expandable to its evidence
        if item["scored"]:
            assert re.search(
                rf'id="item-{re.escape(str(item["number"]))}" data-status="{item["status"]}"', r.text
            )
            for ev in item["evidence"]:
                assert printable(ev) in page
    for t in a["next_tests"]:
        assert t["name"] in page
    # the notice, the date, the revision, the choices and links to the sources
    assert "Decision support, not a diagnosis" in page
    assert f"As of {AS_OF.isoformat()}" in page and "record revision" in page
    assert "eular_acr_2017.category_basis" in page
    assert 'href="https://doi.org/10.1136/annrheumdis-2017-211468"' in r.text
    assert "<svg" in r.text and "range-bar" in r.text  # the range figure over the cut-offs


def test_a_choice_changes_the_view_only(web: World) -> None:
    from imnm import services
    from imnm.settings import Settings

    c, _ = login(web.app, "clinician")
    url = f"/patients/{web.patient}/assessment?as_of={AS_OF.isoformat()}"
    r = c.get(url + "&category_basis=probability")
    page = text_of(r.text)
    assert "(not the default)" in page and "probability cut-offs" in page
    expected = services.assess(
        _record(web), as_of=AS_OF, settings=Settings.parse({"category_basis": "probability"})
    )
    assert "Category (probability cut-offs" in page and expected.as_dict()["eular_acr"]["category"] in page
    assert "(not the default)" not in text_of(c.get(url).text).split("Choices used")[1].split("Sources")[0]
    bad = c.get(url + "&category_basis=guess")
    assert bad.status_code == 422 and "category_basis" in text_of(bad.text)


def test_the_assessment_of_an_older_revision_and_htmx_fragments(web: World) -> None:
    c, _ = login(web.app, "clinician")
    r = c.get(f"/patients/{web.patient}/assessment?revision=1", headers={"hx-request": "true"})
    assert r.status_code == 200 and r.text.lstrip().startswith('<div id="assessment-body">')
    assert "<html" not in r.text and r.headers["vary"] == "HX-Request"
    assert "record revision 1" in text_of(r.text)


def test_activity_chart_measures_and_the_tis_between_two_visits(web: World) -> None:
    from imnm import services

    c, _ = login(web.app, "clinician")
    rec = _record(web)
    visits = [v.date.isoformat() for v in services.activity(rec).visits]
    assert len(visits) >= 2
    r = c.get(f"/patients/{web.patient}/activity?from={visits[0]}&to={visits[-1]}")
    assert r.status_code == 200
    assert 'class="activity-chart"' in r.text or "activity-chart" in r.text
    expected = services.response(rec, start=date.fromisoformat(visits[0]), end=date.fromisoformat(visits[-1]))
    tis = expected.result
    shown = (
        f"TIS {tis.tis:g} / 100" if tis.tis is not None else f"between {tis.tis_min:g} and {tis.tis_max:g}"
    )
    assert shown in text_of(r.text)
    same = c.get(f"/patients/{web.patient}/activity?from={visits[0]}&to={visits[0]}")
    assert same.status_code == 200 and "the two visits are the same" in text_of(same.text)


def _visible_records(w: World, who: str) -> list[tuple[str, Any]]:
    from imnm.store import patients as store

    p = _principal(w, who)
    with w.db.session() as s:
        rows, _ = store.search(s, p, limit=1000)
        return [(x.id, store.record_for(s, p, x.id)[0]) for x in rows]


def test_candidates_and_their_csv_agree_with_the_matcher(web: World) -> None:
    from imnm import services

    c, _ = login(web.app, "coordinator")
    trial = "NCT04025632"
    r = c.get(f"/trials/{trial}/candidates?as_of={AS_OF.isoformat()}")
    assert r.status_code == 200
    got = dict(re.findall(r'<tr id="cand-([0-9a-f]+)" class="candidate" data-verdict="(\w+)"', r.text))
    records = _visible_records(web, "coordinator")
    expected = {
        pid: services.match_trials(rec, as_of=AS_OF, trial_ids=[trial]).verdicts[0].result.verdict
        for pid, rec in records
    }
    assert got == expected
    csv_r = c.get(f"/trials/{trial}/candidates.csv?as_of={AS_OF.isoformat()}")
    assert csv_r.headers["content-type"].startswith("text/csv")
    assert f'filename="candidates-{trial}-{AS_OF.isoformat()}.csv"' in csv_r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(csv_r.content.decode("utf-8-sig"))))
    assert {row["patient_id"]: row["verdict"] for row in rows} == expected
    assert all(row["trial"] == trial and row["as_of"] == AS_OF.isoformat() for row in rows)


def test_a_review_is_stored_audited_and_counts(fresh: World) -> None:
    from imnm.store import audit

    c, _ = login(fresh.app, "coordinator")
    trial, pid = "NCT04025632", fresh.patient
    page = c.get(f"/trials/{trial}/candidates?as_of={AS_OF.isoformat()}").text
    assert 'name="criterion" value="exc-1"' in page  # an open criterion a person can settle
    before = fresh.events()
    r = c.post(
        f"/trials/{trial}/reviews",
        data={
            "patient": pid,
            "criterion": "exc-1",
            "met": "no",
            "note": "no history",
            "csrftoken": csrf_of(c),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith(f"#cand-{pid}")
    with fresh.db.session() as s:
        events = audit.query(s, after_id=before)
        assert [(e.action, e.patient_id, e.actor, e.outcome) for e in events] == [
            ("review.create", pid, "coordinator", "allowed")
        ]
    api = c.get(f"/api/v1/patients/{pid}/reviews").json()["reviews"]
    assert [(x["trial"], x["criterion"], x["met"], x["by"]) for x in api] == [
        (trial, "exc-1", False, "coordinator")
    ]
    page = c.get(r.headers["location"]).text
    assert re.search(
        r'Latest review: <strong>not met</strong>, by coordinator on \d{4}-\d\d-\d\d \("no history"\)', page
    )
    trials = c.get(f"/api/v1/patients/{pid}/trials?trial={trial}&as_of={AS_OF.isoformat()}").json()
    crit = next(x for x in trials["trials"][0]["criteria"] if x["id"] == "exc-1")
    assert crit["reviewed"]["met"] is False  # the stored review feeds the matcher
    bad = c.post(
        f"/trials/{trial}/reviews",
        data={"patient": pid, "criterion": "exc-99", "met": "no", "csrftoken": csrf_of(c)},
        follow_redirects=False,
    )
    assert bad.status_code == 422 and "exc-99" in text_of(bad.text)


def test_pages_showing_several_patients_audit_each_one(fresh: World) -> None:
    from imnm.store import audit

    c, _ = login(fresh.app, "coordinator")
    before = fresh.events()
    assert c.get("/patients").status_code == 200
    with fresh.db.session() as s:
        events = audit.query(s, after_id=before)
    shown = [e for e in events if e.action == "patient.summary"]
    assert [e.patient_id for e in shown] == [fresh.patient]
    assert [e.action for e in events if e.action == "patient.list"] == ["patient.list"]


def test_the_patient_list_badges_and_search(web: World) -> None:
    from imnm import services

    c, _ = login(web.app, "clinician")
    page = text_of(c.get("/patients").text)
    a = services.assess(_record(web), as_of=date.today()).as_dict()
    assert a["enmc"]["classification"].replace("_", " ") in page
    assert "eligible" in page and "need information" in page
    assert "0 patient(s) matching" in text_of(c.get("/patients?q=no-such-record").text)


def test_the_trial_pages(web: World) -> None:
    from imnm import services

    c, _ = login(web.app, "auditor")  # the catalog is open to every role
    r = c.get("/trials")
    assert r.status_code == 200
    assert len(re.findall(r'<a href="/trials/[^"]+">', r.text)) == len(services.list_trials().trials)
    open_only = c.get("/trials?open=1").text
    for t in services.list_trials().trials:
        shown = f'<a href="/trials/{t.trial.id}">' in open_only
        assert shown == t.trial.recruiting, t.trial.id
    page = c.get("/trials/NCT04025632")
    trial = services.get_trial("NCT04025632")
    body = text_of(page.text)
    for crit in trial.all_criteria():
        assert " ".join(crit.text.split()) in " ".join(body.split())
    assert "latest creatine kinase (CK) > 1000 U/L" in body  # how inc-4 is encoded, in the evaluator's words
    assert "MRC grade 4 = Kendall 8" in body  # its assumption
    assert "University of California Los Angeles" in body  # catalog details (sites) are listed too
    assert (
        "Candidates" not in page.text.split('aria-label="This trial"')[1].split("</nav>")[0]
    )  # no patients for an auditor
    assert c.get("/trials/NCT00000000").status_code == 404


def test_a_patient_s_trials_ranked_with_the_checklist(web: World) -> None:
    from imnm import services

    c, _ = login(web.app, "clinician")
    r = c.get(f"/patients/{web.patient}/trials?as_of={AS_OF.isoformat()}")
    match = services.match_trials(_record(web), as_of=AS_OF)
    ids = re.findall(r'<h2 id="t-\d+"><a href="/trials/([^"]+)">', r.text)
    assert ids == [v.result.trial.id for v in match.verdicts]
    assert "Baseline checklist" in r.text


def test_anonymous_visitors_reach_only_the_screener_the_login_page_and_static_files(web: World) -> None:
    c = TestClient(web.app)
    for (method, path), (_, _, build) in WEB_MATRIX.items():
        if method != "GET":
            continue
        spec = build(web, "anonymous")
        url = path.replace("{patient_id}", web.patient)
        for k, v in (spec.get("path") or {}).items():
            url = url.replace("{" + k + "}", v)
        r = c.get(url, follow_redirects=False)
        public = path in ("/", "/login") or path.startswith("/screener")
        if public:
            assert r.status_code == 200, path
        else:
            assert r.status_code == 303, path
            assert r.headers["location"].startswith("/login?next=" + url.split("?")[0]), (
                path,
                r.headers["location"],
            )
    assert c.get("/static/htmx.min.js").status_code == 200


def test_every_patient_page_is_audited() -> None:
    for (_, path), (_, audited, _) in WEB_MATRIX.items():
        if path.startswith(("/patients/{patient_id}", "/trials/{trial_id}/candidates")):
            assert audited, path


def test_pages_carry_their_own_policy_and_no_inline_script(web: World) -> None:
    r = TestClient(web.app).get("/screener")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert r.headers["cache-control"] == "no-store" and r.headers["x-frame-options"] == "DENY"
    api = TestClient(web.app).get("/api/v1/health")
    from imnm.api.middleware import API_CSP

    assert api.headers["content-security-policy"] == API_CSP
    assert "default-src 'none'" in API_CSP and "frame-ancestors 'none'" in API_CSP
    for tpl in (SRC / "templates").rglob("*.html"):
        text = tpl.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), tpl  # no inline script
        assert not re.search(r"\son[a-z]+=", text), tpl  # no inline event handlers
        assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', text), tpl  # no CDN


def test_the_assessment_page_links_the_printable_reports(web: World) -> None:
    c, _ = login(web.app, "clinician")
    page = c.get(f"/patients/{web.patient}/assessment").text
    links = re.findall(
        r'<a href="(/api/v1/patients/[^"]+/report\.pdf\?for=(?:clinician|patient)[^"]*)" download>', page
    )
    assert len(links) == 2
    for href in links:
        r = c.get(h.unescape(href))
        assert r.status_code == 200 and r.content.startswith(b"%PDF")


def test_a_cds_card_link_lands_on_the_patient_imported_from_the_ehr(web: World) -> None:
    """The hook's cards link to /ehr/patients/{EHR patient id}: the stored patient with that record id
    (in the caller's teams) opens at its assessment or trials; anyone else lands on a search."""
    from imnm.cds import cards

    link = cards._link("http://app.test", "example-anti-hmgcr", "trials", "x")[0]["url"]
    path = link.removeprefix("http://app.test")
    c, h = web.clients["clinician"], web.headers["clinician"]
    r = c.get(path, headers=h, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/patients/{web.patient}/trials"
    r = c.get("/ehr/patients/example-anti-hmgcr", headers=h, follow_redirects=False)
    assert r.headers["location"] == f"/patients/{web.patient}/assessment"
    other = web.clients["other"].get(
        "/ehr/patients/example-anti-hmgcr", headers=web.headers["other"], follow_redirects=False
    )
    assert other.status_code == 303 and other.headers["location"] == "/patients?q=example-anti-hmgcr"
