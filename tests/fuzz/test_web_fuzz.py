"""Fuzzing the web app in process (TestClient over the real app on a real SQLite store): every form a person
fills in (the record's sections, a new patient, the screener's steps, saving and reopening the screener,
logging in, reviewing a criterion) and the uploaded files (a record or FHIR data as YAML, JSON or anything).

Properties (`web_failure`): never a 5xx, a traceback or an exception out of the app; redirects only after a
write (303); a 4xx is an HTML page (never a JSON document a person cannot read); a 422 names what to fix (a
field's error message, or the problem list of the error page); 2 s of CPU / 500 MB per request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import seeds
from tests.fuzz.harness import Cost, check_http, fuzz_settings
from tests.fuzz.mutate import NASTY_DATES, NASTY_STRINGS, Encoded, files

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.api.conftest import make_world

    w = make_world(tmp_path_factory.mktemp("fuzz-web"))
    yield w
    w.db.dispose()


def web_failure(r: Any, cost: Cost, error: str | None) -> str | None:
    if error is not None:
        return f"the app raised:\n{error}"
    if r.status_code >= 500 or r.status_code < 200:
        return f"status {r.status_code}:\n{r.text[:1500]}"
    if 300 <= r.status_code < 400 and r.status_code != 303:
        return f"a {r.status_code} redirect (pages redirect with 303 after a write)"
    limit = cost.problems()
    if limit:
        return limit
    if "Traceback (most recent call last)" in r.text:
        return f"a traceback in the page:\n{r.text[:1500]}"
    if r.status_code >= 400:
        ctype = r.headers.get("content-type", "")
        if not ctype.startswith("text/html"):
            return f"a {r.status_code} that is not a page ({ctype}): {r.text[:500]}"
        if r.status_code == 422 and not re.search(
            r'field-error|<li><code>|role="alert"|aria-invalid', r.text
        ):
            return f"a 422 page that names no field or problem: {r.text[:1500]}"
    return None


def check_web(kind: str, send: Any, *, shown: str, blob: bytes | None = None) -> Any:
    return check_http(kind, send, web_failure, ok_below=400, shown=shown, blob=blob)


def _current(w: Any) -> int:
    from imnm.store.models import Patient

    with w.db.session() as s:
        return int(s.get(Patient, w.patient).current_revision)


@cache
def _sections() -> dict[str, Any]:
    from imnm.web import forms

    return dict(forms.sections())


GOOD: dict[str, list[str]] = {
    "tri": ["yes", "no", "unknown", ""],
    "date": ["2025-03-01", "1970-01-01", ""],
    "number": ["1", "0", "12000", "5.5", ""],
    "integer": ["5", "10", ""],
    "grade": ["5", "4+", "3-", "0", ""],
    "text": ["ck", "U/L", "prednisone", ""],
}


@st.composite
def field_value(draw: st.DrawFn, field: Any) -> str:
    kind = getattr(field, "kind", "text")
    choice = draw(st.integers(0, 9))
    if choice <= 4:
        options = [str(o[0]) for o in (getattr(field, "options", None) or [])] + GOOD.get(kind, [""])
        return draw(st.sampled_from(options or [""]))
    if choice <= 6:
        return draw(st.sampled_from(NASTY_STRINGS))
    if choice == 7:
        return draw(st.sampled_from(NASTY_DATES))
    if choice == 8:
        return draw(st.sampled_from(["nan", "inf", "-inf", "1e309", "-1", "9" * 400, "0x10", "1,5", "١٢"]))
    return draw(st.text(max_size=50))


@st.composite
def form_data(draw: st.DrawFn, fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for f in fields:
        if draw(st.integers(0, 5)) == 0:
            continue  # a field left out of the form (never read as "no")
        value = draw(field_value(f))
        data[f.id] = [value, draw(field_value(f))] if draw(st.integers(0, 19)) == 0 else value
    if draw(st.integers(0, 9)) == 0:
        data[draw(st.text(min_size=1, max_size=20))] = draw(st.sampled_from(NASTY_STRINGS))
    return data


@st.composite
def web_forms(draw: st.DrawFn, w: Any) -> tuple[str, str, dict[str, Any], str]:
    """(method, url, form data, principal) for one of the web app's forms."""
    which = draw(
        st.sampled_from(["edit", "edit", "edit", "new", "screener", "save", "open", "login", "review"])
    )
    if which == "edit":
        name = draw(st.sampled_from(sorted(_sections())))
        sec = _sections()[name]
        data = draw(form_data(sec.fields))
        data["base"] = draw(st.sampled_from([str(_current(w)), str(_current(w)), "1", "0", "-1", "x", ""]))
        data["reason"] = draw(st.sampled_from(["fuzz", "", "é" * 5000, "<script>alert(1)</script>"]))
        if sec.kind == "list":
            data["action"] = draw(st.sampled_from(["add", "replace", "remove", "", "explode"]))
            data["item"] = draw(st.sampled_from(["0", "1", "99", "-1", "x", ""]))
        section = draw(st.sampled_from([name] * 9 + ["../patient", "nope", "%2e%2e"]))
        return "POST", f"/patients/{w.patient}/edit/{section}", data, "clinician"
    if which == "new":
        data = draw(form_data(_sections()["patient"].fields))
        data["team"] = draw(st.sampled_from(["neuro", "", "nope", "'; DROP TABLE patients; --"]))
        return "POST", "/patients/new", data, "clinician"
    if which == "screener":
        q = draw(st.sampled_from(["answering_for", "age", "weakness", "ck", "", "nope", "../x"]))
        data = {
            "go": draw(st.sampled_from(["next", "back", "finish", "", "x"])),
            "q": q,
            "answer": draw(
                st.one_of(st.sampled_from(["self", "yes", "no", "unknown", "58"]), st.text(max_size=20))
            ),
            "asked": draw(st.sampled_from(["answering_for", "answering_for,age", "", ",,,", "age," * 200])),
        }
        return "POST", "/screener/step", data, "anonymous"
    if which == "save":
        data = {"asked": draw(st.sampled_from(["answering_for,age", "", "x" * 5000]))}
        data["a.age"] = draw(st.one_of(st.sampled_from(["58", "-1", "1e400", "nan"]), st.text(max_size=20)))
        data["a.answering_for"] = draw(st.sampled_from(["self", "other", "", "\x00"]))
        path = draw(st.sampled_from(["/screener/save", "/screener/summary.pdf"]))
        return "POST", path, data, "anonymous"
    if which == "open":
        code = draw(st.one_of(st.sampled_from(["0000-0000-0000-0000", "", "x" * 5000]), st.text(max_size=40)))
        return "POST", "/screener/open", {"code": code}, "anonymous"
    if which == "login":
        data = {
            "username": draw(st.one_of(st.sampled_from(["clinician", "", "a" * 300]), st.text(max_size=30))),
            "password": draw(st.one_of(st.sampled_from(["", "x" * 2000]), st.text(max_size=30))),
            "next": draw(st.sampled_from(["/", "//evil.example", "https://evil.example/", "/patients", ""])),
        }
        return "POST", "/login", data, "anonymous_form"
    data = {
        "patient": draw(st.sampled_from([w.patient, "nope", ""])),
        "criterion": draw(st.sampled_from(["exc-1", "inc-1", "", "nope", "../x"])),
        "met": draw(st.sampled_from(["yes", "no", "unknown", "", "maybe"])),
        "note": draw(st.sampled_from(NASTY_STRINGS)),
    }
    trial = draw(st.sampled_from(["NCT04025632", "NCT00000000", "x"]))
    return "POST", f"/trials/{trial}/reviews", data, "coordinator"


def _client(w: Any, principal: str) -> tuple[Any, dict[str, str], dict[str, str]]:
    """(client, headers, extra form fields): a logged-in session sends its CSRF header; an anonymous
    visitor's form carries the token of the page it came from."""
    from fastapi.testclient import TestClient

    if principal in w.clients:
        return w.clients[principal], dict(w.headers[principal]), {}
    c = TestClient(w.app)
    html = c.get("/login").text
    token = re.search(r'name="csrftoken" value="([^"]+)"', html)
    return c, {}, {"csrftoken": token.group(1)} if token else {}


@fuzz_settings("web_form")
@given(data=st.data())
def test_web_forms(world: Any, data: st.DataObject) -> None:
    method, url, form, principal = data.draw(web_forms(world))
    client, headers, extra = _client(world, "anonymous" if principal == "anonymous_form" else principal)
    form = {**form, **extra}
    shown = f"{method} {url} as {principal}: {form!r}"[:3000]
    check_web(
        "web_form",
        lambda: client.request(method, url, data=form, headers=headers, follow_redirects=False),
        shown=shown,
    )


@cache
def _upload_seeds() -> tuple[Any, ...]:
    return seeds.records() + seeds.fhir_bundles()[:4]


UPLOAD_TYPES = (
    "application/yaml",
    "application/json",
    "application/fhir+json",
    "text/plain",
    "application/octet-stream",
    "image/png",
    "",
)


@fuzz_settings("upload")
@given(
    f=files(_upload_seeds()),
    name=st.sampled_from(
        ["record.yaml", "record.json", "bundle.json", "x.exe", "../../etc/passwd", "", "a\x00b"]
    ),
    ctype=st.sampled_from(UPLOAD_TYPES),
    where=st.sampled_from(["web", "web", "api"]),
)
def test_uploaded_files(world: Any, f: Encoded, name: str, ctype: str, where: str) -> None:
    client, headers, _ = _client(world, "clinician")
    shown = f"upload {name!r} ({ctype}) to {where}: {f.show()}"
    if where == "web":
        check_web(
            "upload",
            lambda: client.post(
                "/patients/upload",
                files={"file": (name, f.content, ctype)},
                data={"team": "neuro", "reason": "fuzz"},
                headers=headers,
                follow_redirects=False,
            ),
            shown=shown,
            blob=f.content,
        )
    else:
        from tests.fuzz.harness import check_api

        check_api(
            "upload",
            lambda: client.post(
                "/api/v1/patients?team=neuro",
                content=f.content,
                headers={**headers, "content-type": ctype or "application/octet-stream"},
            ),
            shown=shown,
            blob=f.content,
        )
