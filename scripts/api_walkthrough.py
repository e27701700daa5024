#!/usr/bin/env python3
"""The records service end to end, over HTTP only (httpx): what issue 11's "done when" asks.

    python scripts/api_walkthrough.py http://127.0.0.1:8000 --admin NAME   # admin password on stdin

As the admin: create teams `neuro` and `rheum`, a clinician and a coordinator in `neuro`, a
clinician in `rheum` and an auditor. As the clinician: import examples/anti-hmgcr.yaml, add a CK
(PATCH with If-Match), read the assessment. The coordinator's PATCH gets 403; the other team's
clinician gets 404; the auditor lists the audit of the patient. Prints one JSON document with
the patient id, the updated record, the assessment and the audit events. All data synthetic.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-25"
NEW_CK = {"test": "ck", "value": 12000, "unit": "U/L", "uln": 200, "date": "2024-11-20"}


def session(base: str, username: str, password: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=30)
    r = c.post("/api/v1/auth/login", json={"username": username, "password": password})
    r.raise_for_status()
    c.headers["x-csrftoken"] = c.cookies["csrftoken"]  # double-submit CSRF for cookie-authenticated writes
    return c


def expect(r: httpx.Response, status: int, what: str) -> httpx.Response:
    if r.status_code != status:
        raise SystemExit(f"{what}: expected {status}, got {r.status_code}: {r.text}")
    return r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", help="e.g. http://127.0.0.1:8000")
    ap.add_argument("--admin", required=True, help="an admin user (imnm users create-admin)")
    ap.add_argument("--record", default=str(ROOT / "examples" / "anti-hmgcr.yaml"))
    args = ap.parse_args(argv)
    admin_password = sys.stdin.readline().rstrip("\n")
    pw = {name: secrets.token_urlsafe(12) for name in ("clin", "coord", "other", "audit")}

    admin = session(args.base, args.admin, admin_password)
    for team in ("neuro", "rheum"):
        expect(admin.post("/api/v1/teams", json={"name": team}), 201, f"create team {team}")
    for name, roles, teams in (
        ("clin", ["clinician"], ["neuro"]),
        ("coord", ["coordinator"], ["neuro"]),
        ("other", ["clinician"], ["rheum"]),
        ("audit", ["auditor"], []),
    ):
        body = {"username": name, "password": pw[name], "roles": roles, "teams": teams}
        expect(admin.post("/api/v1/users", json=body), 201, f"create user {name}")

    clin = session(args.base, "clin", pw["clin"])
    r = expect(
        clin.post(
            "/api/v1/patients",
            content=Path(args.record).read_bytes(),
            headers={"content-type": "application/yaml"},
        ),
        201,
        "import the record",
    )
    pid, etag = r.json()["id"], r.headers["etag"]
    r = expect(
        clin.patch(
            f"/api/v1/patients/{pid}",
            headers={"If-Match": etag},
            json={
                "reason": "CK from the follow-up visit",
                "operations": [{"op": "add_lab", "value": NEW_CK}],
            },
        ),
        200,
        "add a CK",
    )
    record = expect(clin.get(f"/api/v1/patients/{pid}"), 200, "read the record").json()["record"]
    assessment = expect(
        clin.get(f"/api/v1/patients/{pid}/assessment", params={"as_of": AS_OF}), 200, "assessment"
    ).json()

    coord = session(args.base, "coord", pw["coord"])
    denied = coord.patch(
        f"/api/v1/patients/{pid}",
        headers={"If-Match": r.headers["etag"]},
        json={"reason": "not allowed", "operations": [{"op": "add_lab", "value": NEW_CK}]},
    )
    other = session(args.base, "other", pw["other"])
    hidden = other.get(f"/api/v1/patients/{pid}")

    auditor = session(args.base, "audit", pw["audit"])
    events = expect(auditor.get("/api/v1/audit", params={"limit": 1000}), 200, "audit").json()["events"]
    print(
        json.dumps(
            {
                "patient": pid,
                "coordinator_patch": denied.status_code,
                "other_team_read": hidden.status_code,
                "record": record,
                "assessment": assessment,
                "audit": events,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
