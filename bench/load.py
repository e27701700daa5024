"""Load and soak (`make bench` stage, `make soak`): `imnm serve` in its own process on loopback, driven by an
open-loop load generator (this process, asyncio + httpx) at a fixed rate over a realistic mix:

| share | request |
|---|---|
| 20 % | `POST /api/v1/screen` (a bundled screener answers file) |
| 20 % | `POST /api/v1/assess` (a bundled record, stateless work-up) |
| 30 % | `GET /api/v1/patients/{id}` and `/assessment` (stored patients: auth, team check, audit event) |
| 15 % | `GET /api/v1/patients/{id}/trials` (trial matching of a stored patient) |
| 15 % | `POST /cds-services/imnm-patient-view` (a CDS Hooks call with full prefetch and a fresh ES384 JWT) |

Open loop: request i is due at start + i / rate whether or not earlier ones have answered, and its latency is
counted from when it was due (no coordinated omission). Figures: throughput (answers/s), p50 / p99 latency,
errors (any status other than the expected one, or no answer within 10 s).

- `python bench/load.py` (the `make bench` stage): finds the capacity (the highest rate in a series of
  steps whose run keeps up: achieved ≥ 95 % of the rate, p99 < 1 s, no error), then runs 30 s at it.
- `python bench/load.py --soak 600` (`make soak`): the capacity first (or `--rate`), then 10 minutes at 80 %
  of it, the server's resident memory (RSS, /proc) sampled every 10 s. Passes with 0 errors and flat memory
  (the mean of the last three samples within 10 % and 50 MB of the mean of samples 3 to 5, after warm-up).

Writes `out/bench/load.json` (or `--json PATH`). The server and the generator share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))
HOOK = "imnm-patient-view"
ISS = "https://ehr.load.invalid/"
PATIENTS = 20
MIX = (("screen", 20), ("assess", 20), ("read", 30), ("trials", 15), ("hook", 15))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class World:
    """A store with a team, a clinician's read token and PATIENTS patients; an EHR key for the hook."""

    def __init__(self, tmp: Path) -> None:
        import jwt
        from cryptography.hazmat.primitives.asymmetric import ec

        from imnm.adapters.fhir.write import record_to_bundle
        from imnm.record.load import load_record, parse_record
        from imnm.store import patients, users
        from imnm.store.db import Database
        from imnm.store.patients import canonical

        self.url = f"sqlite:///{tmp / 'load.db'}"
        db = Database(self.url)
        db.upgrade()
        examples = sorted((ROOT / "examples").glob("*.yaml"))
        self.patients: list[str] = []
        with db.session() as s:
            users.create_team(s, "load")
            u = users.create_user(s, "loader", "load password 12", roles=["clinician"], teams=["load"])
            self.token = users.create_token(s, u, name="load", scope="read", days=1)[1]
            who = users.principal_for(s, u)
            for i in range(PATIENTS):
                doc = canonical(load_record(examples[i % len(examples)]))
                doc["id"] = f"load-{i}"
                p, _ = patients.create(s, who, parse_record(doc), team="load", reason="load seed")
                self.patients.append(p.id)
        db.dispose()
        self.records = [
            json.dumps(canonical(load_record(p))).encode() for p in examples if "screener" not in str(p)
        ]
        self.answers = [p.read_bytes() for p in sorted((ROOT / "examples" / "screener").glob("*.yaml"))]
        self.key = ec.generate_private_key(ec.SECP384R1())
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key())) | {
            "kid": "l",
            "alg": "ES384",
        }
        self.clients_file = tmp / "cds-clients.json"
        self.clients_file.write_text(
            json.dumps({"clients": [{"iss": ISS, "jwks": {"keys": [jwk]}, "name": "load"}]})
        )
        self.hooks = []
        for p in examples[:6]:
            b = record_to_bundle(load_record(p))
            res = [e["resource"] for e in b["entry"]]
            patient = next(r for r in res if r["resourceType"] == "Patient")

            def ss(t: str, res: list[dict[str, Any]] = res) -> dict[str, Any]:
                return {
                    "resourceType": "Bundle",
                    "type": "searchset",
                    "entry": [{"resource": r} for r in res if r["resourceType"] == t],
                }

            self.hooks.append(
                {
                    "hook": "patient-view",
                    "context": {"userId": "Practitioner/load", "patientId": patient["id"]},
                    "prefetch": {
                        "patient": patient,
                        "observations": ss("Observation"),
                        "conditions": ss("Condition"),
                        "medications": ss("MedicationRequest"),
                    },
                }
            )


class Server:
    def __init__(self, world: World, tmp: Path, workers: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(tmp / "serve.log", "wb")  # noqa: SIM115 - open for the process's lifetime
        env = {**os.environ, "IMNM_CDS_BASE_URL": self.base, "IMNM_CDS_CLIENTS": str(world.clients_file)}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "imnm.cli.main",
                "serve",
                "--port",
                str(self.port),
                "--database",
                world.url,
                "--workers",
                str(workers),
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        import httpx

        end = time.monotonic() + 60
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise SystemExit(f"imnm serve exited: {(tmp / 'serve.log').read_text()[-2000:]}")
            try:
                if httpx.get(self.base + "/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("imnm serve did not start within 60 s")

    def rss_mb(self) -> float:
        """Resident memory of the server and its worker processes (MB)."""
        total = 0.0
        pids = [self.proc.pid]
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            pids += [int(c) for c in children]
        except OSError:
            pass
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
            except OSError:
                pass
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def _request(world: World, base: str, kind: str, rng: random.Random) -> tuple[str, str, dict[str, Any], int]:
    """(method, url, httpx kwargs, expected status)."""
    auth = {"authorization": f"Bearer {world.token}"}
    pid = rng.choice(world.patients)
    if kind == "screen":
        body = rng.choice(world.answers)
        return (
            "POST",
            "/api/v1/screen",
            {"content": body, "headers": {**auth, "content-type": "application/yaml"}},
            200,
        )
    if kind == "assess":
        body = rng.choice(world.records)
        return (
            "POST",
            "/api/v1/assess",
            {"content": body, "headers": {**auth, "content-type": "application/json"}},
            200,
        )
    if kind == "read":
        path = f"/api/v1/patients/{pid}" + rng.choice(["", "/assessment"])
        return "GET", path, {"headers": auth}, 200
    if kind == "trials":
        return "GET", f"/api/v1/patients/{pid}/trials", {"headers": auth}, 200
    import jwt

    url = f"{base}/cds-services/{HOOK}"
    now = int(time.time())
    token = jwt.encode(
        {"iss": ISS, "aud": url, "exp": now + 60, "iat": now, "jti": str(uuid.uuid4())},
        world.key,
        algorithm="ES384",
        headers={"kid": "l"},
    )
    body = {**rng.choice(world.hooks), "hookInstance": str(uuid.uuid4())}
    return (
        "POST",
        f"/cds-services/{HOOK}",
        {"json": body, "headers": {"authorization": f"Bearer {token}"}},
        200,
    )


def _kinds(n: int, rng: random.Random) -> list[str]:
    names = [k for k, w in MIX for _ in range(w)]
    return [rng.choice(names) for _ in range(n)]


async def _run(
    world: World, base: str, rate: float, seconds: float, seed: int, sample: Any = None
) -> dict[str, Any]:
    import httpx

    rng = random.Random(seed)
    n = max(1, int(rate * seconds))
    kinds = _kinds(n, rng)
    latencies: dict[str, list[float]] = {k: [] for k, _ in MIX}
    errors: dict[str, int] = {}
    done = 0
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as client:
        start = time.perf_counter() + 0.2

        async def one(i: int, kind: str) -> None:
            nonlocal done
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            method, url, kwargs, expected = _request(world, base, kind, rng)
            try:
                r = await client.request(method, url, **kwargs)
                status = str(r.status_code)
                ok = r.status_code == expected
            except httpx.HTTPError as exc:
                status, ok = type(exc).__name__, False
            latencies[kind].append(time.perf_counter() - due)
            done += 1
            if not ok:
                key = f"{kind} {status}"
                errors[key] = errors.get(key, 0) + 1

        sampler = asyncio.create_task(sample()) if sample else None
        await asyncio.gather(*(one(i, k) for i, k in enumerate(kinds)))
        wall = time.perf_counter() - start
        if sampler:
            sampler.cancel()
    every = sorted(x for v in latencies.values() for x in v)

    def pct(xs: list[float], q: float) -> float:
        return round(1000 * xs[min(len(xs) - 1, int(q * len(xs)))], 1) if xs else 0.0

    return {
        "rate": rate,
        "seconds": round(wall, 1),
        "requests": n,
        "answered_per_s": round(done / wall, 1),
        "p50_ms": pct(every, 0.50),
        "p99_ms": pct(every, 0.99),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "by_kind": {
            k: {"n": len(v), "p50_ms": pct(sorted(v), 0.5), "p99_ms": pct(sorted(v), 0.99)}
            for k, v in latencies.items()
        },
    }


def keeps_up(r: dict[str, Any]) -> bool:
    return r["errors"] == 0 and r["p99_ms"] < 1000 and r["answered_per_s"] >= 0.95 * r["rate"]


def capacity(
    world: World, base: str, steps: list[float], seconds: float
) -> tuple[float, list[dict[str, Any]]]:
    runs = []
    best = 0.0
    for rate in steps:
        r = asyncio.run(_run(world, base, rate, seconds, seed=int(rate)))
        runs.append(r)
        print(_line(f"step {rate:g}/s", r), flush=True)
        if not keeps_up(r):
            break
        best = rate
    return best, runs


def _line(name: str, r: dict[str, Any]) -> str:
    return (
        f"{name:18} {r['answered_per_s']:8.1f}/s  p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  "
        f"errors {r['errors']}{' ' + json.dumps(r['error_kinds']) if r['errors'] else ''}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", default="10,15,20,25,30,40,50,60,80,100,130,160", help="rates (requests/s) to try")
    ap.add_argument("--step-seconds", type=float, default=10)
    ap.add_argument("--seconds", type=float, default=30, help="the run at capacity")
    ap.add_argument("--rate", type=float, help="skip the capacity search: this is the capacity")
    ap.add_argument("--soak", type=float, default=0, help="soak for this many seconds at --share of capacity")
    ap.add_argument("--share", type=float, default=0.8)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--json", type=Path, default=ROOT / "out" / "bench" / "load.json")
    ns = ap.parse_args()

    out: dict[str, Any] = {"mix": dict(MIX), "workers": ns.workers, "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="imnm-load-") as d:
        tmp = Path(d)
        world = World(tmp)
        server = Server(world, tmp, ns.workers)
        try:
            asyncio.run(_run(world, server.base, 10, 3, seed=1))  # warm-up (imports, caches)
            if ns.rate:
                cap = ns.rate
            else:
                steps = [float(s) for s in ns.steps.split(",")]
                cap, out["steps"] = capacity(world, server.base, steps, ns.step_seconds)
                if cap == 0:
                    print("the server did not keep up with the lowest rate")
                    out["capacity"] = 0
                    return _write(ns.json, out, 1)
            out["capacity"] = cap
            print(
                f"capacity: {cap:g} requests/s (the highest step kept up: ≥95 % answered, p99 < 1 s, 0 errors)"
            )
            if not ns.soak:
                r = asyncio.run(_run(world, server.base, cap, ns.seconds, seed=7))
                out["at_capacity"] = r
                print(_line(f"{ns.seconds:g} s at {cap:g}/s", r))
                for k, v in r["by_kind"].items():
                    print(f"    {k:8} n={v['n']:5}  p50 {v['p50_ms']:7.1f} ms  p99 {v['p99_ms']:7.1f} ms")
                return _write(ns.json, out, 0)
            rate = round(cap * ns.share, 1)
            samples: list[tuple[float, float]] = []
            t0 = time.monotonic()

            async def sample() -> None:
                while True:
                    samples.append((round(time.monotonic() - t0, 1), round(server.rss_mb(), 1)))
                    print(f"  t={samples[-1][0]:6.0f} s  RSS {samples[-1][1]:7.1f} MB", flush=True)
                    await asyncio.sleep(10)

            r = asyncio.run(_run(world, server.base, rate, ns.soak, seed=11, sample=sample))
            rss = [m for _, m in samples]
            early = statistics.mean(rss[2:5]) if len(rss) >= 5 else rss[0]
            late = statistics.mean(rss[-3:])
            flat = late - early <= max(0.10 * early, 0) and late - early <= 50
            out["soak"] = {
                **r,
                "rss_mb": samples,
                "rss_early_mb": round(early, 1),
                "rss_late_mb": round(late, 1),
                "flat": flat,
            }
            print(_line(f"soak {ns.soak:g} s at {rate:g}/s", r))
            print(
                f"RSS {early:.1f} MB (samples 3-5) -> {late:.1f} MB (last 3): {'flat' if flat else 'GROWING'}"
            )
            return _write(ns.json, out, 0 if r["errors"] == 0 and flat else 1)
        finally:
            server.stop()


def _write(path: Path, out: dict[str, Any], code: int) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(f"written to {path}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
