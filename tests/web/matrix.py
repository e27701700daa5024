"""Rows of the role × route matrix (`tests/api/test_matrix.py`) for the web pages.

A page that needs a login sends an anonymous visitor (or a revoked token) to the login page (303);
a role without the permission gets 403 and a patient of another team 404, as in the API. Pages that
show several patients' data write one audit event for each patient shown besides the request's own
(`expected_events`)."""

from __future__ import annotations

import re
from typing import Any

from tests.api.conftest import PASSWORD, World

KINDS = (
    "anonymous",
    "clinician",
    "coordinator",
    "auditor",
    "admin",
    "other",
    "token_compute",
    "token_read",
    "token_revoked",
)


def row(default: int, **overrides: int) -> dict[str, int]:
    out = dict.fromkeys(KINDS, default)
    out.update(anonymous=303, token_revoked=303)
    out.update(overrides)
    return out


PUBLIC = dict.fromkeys(KINDS, 200)
CATALOG = row(200)
READ = row(200, auditor=403, admin=403, other=404, token_compute=403)
LIST = row(200, auditor=403, admin=403, token_compute=403)
WRITE_FORM = row(200, coordinator=403, auditor=403, admin=403, other=404, token_compute=403, token_read=403)
WRITE = row(303, coordinator=403, auditor=403, admin=403, other=404, token_compute=403, token_read=403)
NEW_FORM = row(200, coordinator=403, auditor=403, admin=403, token_compute=403, token_read=403)
CREATE = row(303, coordinator=403, auditor=403, admin=403, token_compute=403, token_read=403)
REVIEW = row(303, auditor=403, admin=403, other=404, token_compute=403, token_read=403)

READERS = ("clinician", "coordinator", "other", "token_read")  # kinds that may read patients


def user_of(kind: str) -> str:
    return "clinician" if kind.startswith("token") or kind == "anonymous" else kind


def visible_patients(w: World, kind: str, limit: int | None = None) -> int:
    """How many patients this kind of caller may see (counted in the store, not by the page)."""
    from sqlalchemy import func, select

    from imnm.store import users
    from imnm.store.models import Patient

    with w.db.session() as s:
        teams = users.user_team_ids(s, users.user_by_name(s, user_of(kind)).id)
        n = int(
            s.execute(
                select(func.count())
                .select_from(Patient)
                .where(Patient.erased_at.is_(None), Patient.team_id.in_(sorted(teams) or [-1]))
            ).scalar_one()
        )
    return min(n, limit) if limit else n


def one_per_patient(limit: int | None = None) -> Any:
    def expected(w: World, kind: str) -> int:
        return 1 + (visible_patients(w, kind, limit) if kind in READERS else 0)

    return expected


def _current(w: World) -> int:
    from imnm.store.models import Patient

    with w.db.session() as s:
        return s.get(Patient, w.patient).current_revision  # type: ignore[union-attr]


def _form_login(w: World, kind: str) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    c = TestClient(w.app)
    html = c.get("/login").text
    token = re.search(r'name="csrftoken" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    password = "wrong password!!" if kind == "anonymous" else PASSWORD
    return {
        "client": c,
        "data": {"username": user_of(kind), "password": password, "next": "/", "csrftoken": token},
        "headers_replace": True,
    }


def _form_logout(w: World, kind: str) -> dict[str, Any]:
    if kind == "anonymous" or kind.startswith("token"):
        return {}
    from tests.api.conftest import login

    client, headers = login(w.app, kind)
    return {"client": client, "headers": headers}


def _saved_code(w: World) -> str:
    from imnm.store import screener_saves

    with w.db.session() as s:
        code, _ = screener_saves.save(s, {"asked": ["age"], "answers": {"age": "58"}}, days=1)
    return code


def _new_record(w: World) -> dict[str, Any]:
    return {"data": {"f-id": f"web-new-{w.fresh()}", "f-sex": "female", "f-birth-date": "1970-01-02"}}


def _upload(w: World) -> dict[str, Any]:
    body = f"id: web-upload-{w.fresh()}\nsex: male\nfindings:\n  dysphagia: true\n".encode()
    return {"files": {"file": ("record.yaml", body, "application/yaml")}}


P = "{patient_id}"
WEB_MATRIX: dict[tuple[str, str], tuple[dict[str, int], Any, Any]] = {
    ("GET", "/"): (PUBLIC, False, lambda w, k: {}),
    ("GET", "/login"): (PUBLIC, False, lambda w, k: {}),
    ("POST", "/login"): ({**dict.fromkeys(KINDS, 303), "anonymous": 401}, True, _form_login),
    ("POST", "/logout"): (row(303, token_compute=403, token_read=403), True, _form_logout),
    ("GET", "/screener"): (PUBLIC, False, lambda w, k: {}),
    ("GET", "/screener/step"): (PUBLIC, False, lambda w, k: {}),
    ("POST", "/screener/step"): (
        PUBLIC,
        False,
        lambda w, k: {"data": {"go": "next", "q": "answering_for", "answer": "self"}},
    ),
    ("POST", "/screener/save"): (
        PUBLIC,
        True,
        lambda w, k: {"data": {"asked": "answering_for", "a.answering_for": "self"}},
    ),
    ("GET", "/screener/open"): (PUBLIC, False, lambda w, k: {}),
    ("POST", "/screener/summary.pdf"): (
        PUBLIC,
        False,
        lambda w, k: {"data": {"asked": "answering_for,age", "a.answering_for": "self", "a.age": "58"}},
    ),
    ("POST", "/screener/open"): (PUBLIC, True, lambda w, k: {"data": {"code": _saved_code(w)}}),
    ("GET", "/patients"): (LIST, one_per_patient(20), lambda w, k: {}),
    ("GET", "/ehr/patients/{record_id}"): (
        row(303, auditor=403, admin=403, token_compute=403),
        True,
        lambda w, k: {"path": {"record_id": "example-anti-hmgcr"}},
    ),
    ("GET", "/patients/new"): (NEW_FORM, False, lambda w, k: {}),
    ("POST", "/patients/new"): (CREATE, True, lambda w, k: _new_record(w)),
    ("POST", "/patients/upload"): (CREATE, True, lambda w, k: _upload(w)),
    ("GET", f"/patients/{P}"): (READ, True, lambda w, k: {}),
    ("GET", f"/patients/{P}/assessment"): (READ, True, lambda w, k: {"query": "?as_of=2026-11-25"}),
    ("GET", f"/patients/{P}/activity"): (READ, True, lambda w, k: {}),
    ("GET", f"/patients/{P}/history"): (READ, True, lambda w, k: {}),
    ("GET", f"/patients/{P}/trials"): (READ, True, lambda w, k: {"query": "?as_of=2026-11-25"}),
    ("GET", f"/patients/{P}/edit/{{section}}"): (
        WRITE_FORM,
        True,
        lambda w, k: {"path": {"section": "findings"}},
    ),
    ("POST", f"/patients/{P}/edit/{{section}}"): (
        WRITE,
        True,
        lambda w, k: {
            "path": {"section": "findings"},
            "data": {"base": str(_current(w)), "f-fever": "no", "reason": "matrix"},
        },
    ),
    ("GET", "/trials"): (CATALOG, False, lambda w, k: {}),
    ("GET", "/trials/{trial_id}"): (CATALOG, False, lambda w, k: {"path": {"trial_id": "NCT04025632"}}),
    ("GET", "/trials/{trial_id}/candidates"): (
        LIST,
        one_per_patient(),
        lambda w, k: {"path": {"trial_id": "NCT04025632"}, "query": "?as_of=2026-11-25"},
    ),
    ("GET", "/trials/{trial_id}/candidates.csv"): (
        LIST,
        one_per_patient(),
        lambda w, k: {"path": {"trial_id": "NCT04025632"}, "query": "?as_of=2026-11-25"},
    ),
    ("POST", "/trials/{trial_id}/reviews"): (
        REVIEW,
        True,
        lambda w, k: {
            "path": {"trial_id": "NCT04025632"},
            "data": {"patient": w.patient, "criterion": "exc-1", "met": "no", "note": "matrix"},
        },
    ),
}
