"""CSRF for cookie-authenticated writes: the X-CSRFToken header (API clients, htmx) as before, and now
also a hidden `csrftoken` form field (forms that work without JavaScript), urlencoded and multipart."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.api.conftest import PASSWORD, World, login
from tests.web.conftest import csrf_of

STEP = "/screener/step"
FORM = {"go": "next", "q": "answering_for", "answer": "self"}


def _asked_age(html: str) -> bool:
    return 'data-question="age"' in html


def test_a_logged_in_form_post_needs_the_token_in_the_header_or_the_form(web: World) -> None:
    c, _ = login(web.app, "clinician")
    token = csrf_of(c)
    # no token: refused, as an HTML page (a form was sent from a page)
    r = c.post(STEP, data=FORM)
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "security token" in r.text
    # the hidden form field
    r = c.post(STEP, data={**FORM, "csrftoken": token})
    assert r.status_code == 200 and _asked_age(r.text)  # the body reached the route intact
    # the header (htmx hx-headers, API clients)
    r = c.post(STEP, data=FORM, headers={"x-csrftoken": token})
    assert r.status_code == 200 and _asked_age(r.text)
    # a forged field, or a forged header next to a good field (the header wins): refused
    assert c.post(STEP, data={**FORM, "csrftoken": "forged"}).status_code == 403
    assert (
        c.post(STEP, data={**FORM, "csrftoken": token}, headers={"x-csrftoken": "forged"}).status_code == 403
    )


def test_the_api_keeps_the_header_rule(web: World) -> None:
    c, headers = login(web.app, "clinician")
    url = f"/api/v1/patients/{web.patient}/reviews"
    body = {"trial": "NCT05523167", "criterion": "inc-1", "met": True}
    r = c.post(url, json=body)
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert c.post(url, json=body, headers=headers).status_code == 201


def test_a_multipart_form_carries_the_token_in_a_field(web: World) -> None:
    c, _ = login(web.app, "clinician")
    files = {"file": ("record.yaml", b"id: csrf-multipart-1\nsex: female\n", "application/yaml")}
    assert c.post("/patients/upload", files=files, follow_redirects=False).status_code == 403
    r = c.post("/patients/upload", data={"csrftoken": csrf_of(c)}, files=files, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith("/patients/")


def test_without_a_session_there_is_no_check_except_on_the_login_form(web: World) -> None:
    c = TestClient(web.app)
    assert c.post(STEP, data=FORM).status_code == 200  # the public screener, anonymous
    page = c.get("/login")
    field = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
    assert field is not None and field.group(1) == csrf_of(c)  # the cookie's token is in the form at once
    creds = {"username": "clinician", "password": PASSWORD, "next": "/patients"}
    assert c.post("/login", data=creds, follow_redirects=False).status_code == 403  # a forged login
    r = c.post("/login", data={**creds, "csrftoken": field.group(1)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/patients"
    assert "imnm_session" in c.cookies


def test_a_token_signed_with_another_key_is_replaced() -> None:
    """A csrftoken cookie that does not verify (the secret changed) is replaced by a good one."""
    import tempfile
    from pathlib import Path

    from tests.api.conftest import make_world

    w = make_world(Path(tempfile.mkdtemp()))
    try:
        c = TestClient(w.app)
        r = c.get("/login", headers={"cookie": "csrftoken=not-a-signed-token"})
        assert r.status_code == 200
        set_cookie = r.headers["set-cookie"]
        new = set_cookie.split("csrftoken=", 1)[1].split(";", 1)[0]
        assert new != "not-a-signed-token" and f'value="{new}"' in r.text
    finally:
        w.db.dispose()
