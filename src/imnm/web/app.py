"""Mounting the web pages in the records service's application.

| path | who | what |
|---|---|---|
| `/` | everyone | start page |
| `/screener`, `/screener/step`, `/screener/save`, `/screener/open` | everyone | the patient screener, one question per step; save a code to reopen |
| `/login` (GET, POST), `/logout` (POST) | everyone / logged in | form login with the API's session cookie |
| `/patients`, `/patients/new`, `/patients/upload` | clinician, coordinator (new, upload: clinician) | list with badges, new record by form or file |
| `/patients/{id}` and `/patients/{id}/{assessment,activity,history,trials}` | clinician, coordinator | record, work-up, disease activity, revisions, ranked trials |
| `/patients/{id}/edit/{section}` (GET, POST) | clinician | a form per record section |
| `/trials`, `/trials/{id}` | every logged-in role | catalog with filters, criteria verbatim with their encoding |
| `/trials/{id}/candidates` (+ `.csv`), `/trials/{id}/reviews` (POST) | clinician, coordinator | candidates across one's teams, manual reviews |
| `/static/...` | everyone | htmx, the stylesheets |

Every route is protected with `imnm.api.auth.need` (the same roles, teams and audit as the API) and
has a row in the role × route matrix (`tests/api/test_matrix.py`, rows in `tests/web/matrix.py`).
"""

from __future__ import annotations

import importlib
from typing import Any

PAGES = ("home", "login", "screener", "records", "patients", "trials")  # records first: /patients/new


def include(app: Any) -> None:
    """Add the page routers and the static files; wrap the error handlers for pages (call after
    `imnm.api.problems.install`)."""
    from imnm.web import errors
    from imnm.web.static import StaticFiles

    for name in PAGES:
        module = importlib.import_module(f"imnm.web.{name}")
        app.include_router(module.router)
    app.mount("/static", StaticFiles(), name="static")
    errors.install(app)
