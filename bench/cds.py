"""`make bench` stage: CDS Hooks patient-view calls with full prefetch over real HTTP (uvicorn on loopback).

The prefetch holds each bundled example record exported to FHIR (and a Synthea bundle); every call carries a
fresh ES384 JWT, so signature, aud, exp and jti checks are timed too. Reports median and p95 latency per call
(client-measured, end to end). Goal (issue 14): p95 < 200 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import threading
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=300, help="hook calls")
    ns = ap.parse_args()

    import httpx
    import jwt
    import uvicorn
    from cryptography.hazmat.primitives.asymmetric import ec

    from imnm.adapters.fhir.write import record_to_bundle
    from imnm.cds.security import TrustedClient
    from imnm.cds.service import CdsConfig, create_app
    from imnm.record.load import load_record

    key = ec.generate_private_key(ec.SECP384R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key())) | {"kid": "b", "alg": "ES384"}
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    iss = "https://ehr.bench.invalid/"
    app = create_app(
        CdsConfig(
            public_base_url=base, clients=[TrustedClient(iss=iss, jwks={"keys": [jwk]})], today=date.today
        )
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.01)

    bodies = []
    bundles = [record_to_bundle(load_record(p)) for p in sorted((ROOT / "examples").glob("*.yaml"))]
    synthea = ROOT.parent / "shared" / "data" / "fhir" / "synthea-r4-Maria_Luisa_Razo.json"
    if synthea.exists():
        bundles.append(json.loads(synthea.read_text()))
    for b in bundles:
        res = [e["resource"] for e in b["entry"]]
        patient = next(r for r in res if r["resourceType"] == "Patient")

        def ss(t: str, res: list[dict[str, Any]] = res) -> dict[str, Any]:
            return {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [{"resource": r} for r in res if r["resourceType"] == t],
            }

        bodies.append(
            {
                "hook": "patient-view",
                "hookInstance": str(uuid.uuid4()),
                "context": {"userId": "Practitioner/bench", "patientId": patient["id"]},
                "prefetch": {
                    "patient": patient,
                    "observations": ss("Observation"),
                    "conditions": ss("Condition"),
                    "medications": ss("MedicationRequest"),
                },
            }
        )
    url = f"{base}/cds-services/imnm-patient-view"
    times: list[float] = []
    with httpx.Client(timeout=30) as client:
        for i in range(ns.n + 10):
            now = int(time.time())
            token = jwt.encode(
                {"iss": iss, "aud": url, "exp": now + 60, "iat": now, "jti": str(uuid.uuid4())},
                key,
                algorithm="ES384",
                headers={"kid": "b"},
            )
            t0 = time.perf_counter()
            r = client.post(url, json=bodies[i % len(bodies)], headers={"Authorization": f"Bearer {token}"})
            dt = (time.perf_counter() - t0) * 1000
            if r.status_code != 200:
                print(f"hook call failed: {r.status_code} {r.text[:200]}")
                return 1
            if i >= 10:  # warm-up calls are not counted
                times.append(dt)
    server.should_exit = True
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    ok = p95 < 200
    print(
        f"{'cds patient-view (HTTP, JWT)':32} {statistics.median(times):10.2f} {p95:10.2f} {1000 / statistics.mean(times):11.0f}"
        f"  < 200 ms p95: {'met' if ok else 'MISSED'}  ({len(times)} calls over {len(bodies)} patients)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
