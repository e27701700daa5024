"""`make bench` web stage: the server-side render time of the assessment page (issue 12: p95 < 100 ms).

Each request is `GET /patients/{id}/assessment` of a stored patient, logged in with the session
cookie, through the whole application in process (ASGI, middleware, session and team checks, the
revision read, the work-up, the report partials and the page template, one audit event written):
everything the server does, without the network. Patients: the bundled examples and seeded
synthetic records (`imnm.synthetic`). Also timed: the activity page (chart and TIS) and the
candidate list of NCT04025632 across all the stored patients.

Usage: python bench/web.py [--n 200] [--rounds 3] [--seed 42] [--json out.json]
"""

from __future__ import annotations

import argparse
import glob
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
GOAL_P95_MS = 100.0
PASSWORD = "bench password 12345"


def _setup(tmp: Path, n: int, seed: int) -> tuple[Any, Any, list[str]]:
    from imnm.api.app import create_app
    from imnm.record.load import load_record, parse_record
    from imnm.store import patients, users
    from imnm.store.config import ServerSettings
    from imnm.store.db import Database
    from imnm.synthetic import synthetic_records

    url = f"sqlite:///{tmp / 'web-bench.db'}"
    db = Database(url)
    db.upgrade()
    ids: list[str] = []
    with db.session() as s:
        users.create_team(s, "bench")
        users.create_user(s, "doc", PASSWORD, roles=["clinician"], teams=["bench"])
        who = users.principal_for(s, users.user_by_name(s, "doc"))
        records = [load_record(f) for f in sorted(glob.glob(str(ROOT / "examples" / "*.yaml")))]
        records += [parse_record(r) for r in synthetic_records(n, seed=seed)]
        for rec in records:
            ids.append(patients.create(s, who, rec, team="bench", reason="bench")[0].id)
    app = create_app(ServerSettings(database_url=url, login_max_failures_address=10_000), db=db)
    return app, db, ids


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _time(client: Any, urls: list[str], rounds: int) -> dict[str, float]:
    for u in urls[: min(10, len(urls))]:  # warm caches (templates, parsed records, catalog)
        client.get(u)
    samples: list[float] = []
    for _ in range(rounds):
        for u in urls:
            t0 = time.perf_counter()
            r = client.get(u)
            samples.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                raise SystemExit(f"{u}: HTTP {r.status_code}")
    return {
        "requests": len(samples),
        "median_ms": statistics.median(samples),
        "p95_ms": _percentile(samples, 95),
        "max_ms": max(samples),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="synthetic patients besides the examples")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json", type=Path)
    ns = ap.parse_args()
    warnings.filterwarnings("ignore")
    import logging

    logging.disable(logging.INFO)
    from fastapi.testclient import TestClient

    with tempfile.TemporaryDirectory(prefix="imnm-web-bench-") as tmp:
        app, db, ids = _setup(Path(tmp), ns.n, ns.seed)
        with TestClient(app) as client:
            r = client.post("/api/v1/auth/login", json={"username": "doc", "password": PASSWORD})
            assert r.status_code == 200, r.text
            as_of = "?as_of=2026-11-25"
            results = {
                "assessment page": _time(
                    client, [f"/patients/{i}/assessment{as_of}" for i in ids], ns.rounds
                ),
                "activity page": _time(client, [f"/patients/{i}/activity" for i in ids[:60]], 1),
                f"candidates page ({len(ids)} patients)": _time(
                    client, [f"/trials/NCT04025632/candidates{as_of}"], 3
                ),
            }
        db.dispose()
    print(f"Web pages, server side (in process, {len(ids)} stored patients: examples + {ns.n} synthetic)")
    print(f"{'page':40} {'requests':>8} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for name, res in results.items():
        print(
            f"{name:40} {res['requests']:8d} {res['median_ms']:10.1f} {res['p95_ms']:8.1f} {res['max_ms']:8.1f}"
        )
    p95 = results["assessment page"]["p95_ms"]
    met = p95 < GOAL_P95_MS
    print(f"goal: assessment page p95 < {GOAL_P95_MS:g} ms: {'met' if met else 'MISSED'} ({p95:.1f} ms)")
    if ns.json:
        ns.json.write_text(json.dumps({"stages": results, "goal_met": met}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
