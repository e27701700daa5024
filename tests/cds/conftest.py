"""The CDS router in a minimal FastAPI app, served by a real uvicorn on a free loopback port; an EHR key pair;
the small FHIR server process (tests/cds/fhir_server.py) serving bundles on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from imnm.cds.security import TrustedClient

ISS = "https://ehr.test.invalid/"
HERE = Path(__file__).resolve().parent


class Ehr:
    """Signs CDS Hooks JWTs as an EHR would (ES384)."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP384R1())
        pub = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = {"keys": [pub | {"kid": "k1", "use": "sig", "alg": "ES384"}]}

    def token(self, aud: str, **over: Any) -> str:
        now = int(time.time())
        claims = {"iss": ISS, "aud": aud, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4())} | over
        return jwt.encode(
            {k: v for k, v in claims.items() if v is not None},
            self.key,
            algorithm="ES384",
            headers={"kid": "k1"},
        )


@pytest.fixture(scope="session")
def ehr() -> Ehr:
    return Ehr()


class Served:
    def __init__(self, base: str, feedback: Any, audit: list[dict[str, Any]]) -> None:
        self.base, self.feedback, self.audit = base, feedback, audit

    def url(self, service: str = "") -> str:
        return f"{self.base}/cds-services" + (f"/{service}" if service else "")


@pytest.fixture(scope="session")
def cds(ehr: Ehr, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    import socket

    import uvicorn

    from imnm.cds.service import CdsConfig, SQLiteFeedbackSink, create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    audit: list[dict[str, Any]] = []
    sink = SQLiteFeedbackSink(tmp_path_factory.mktemp("cds") / "feedback.sqlite")
    config = CdsConfig(
        public_base_url=base,
        clients=[TrustedClient(iss=ISS, jwks=ehr.jwks)],
        app_base_url="https://imnm.test.invalid",
        today=lambda: date(2026, 11, 25),
    )
    app = create_app(config, feedback=sink, audit=audit.append)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield Served(base, sink, audit)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="session")
def fhir_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, bearer token) of the small FHIR server serving the anti-HMGCR example and a Synthea bundle."""
    from imnm.adapters.fhir.write import record_to_bundle
    from imnm.record.load import load_record
    from tests.conftest import EXAMPLES
    from tests.shared import shared

    d = tmp_path_factory.mktemp("fhir")
    own = d / "anti-hmgcr.json"
    own.write_text(json.dumps(record_to_bundle(load_record(EXAMPLES / "anti-hmgcr.yaml"))))
    token = "test-access-token-" + uuid.uuid4().hex
    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "fhir_server.py"),
            str(own),
            str(shared("data", "fhir", "synthea-r4-Maria_Luisa_Razo.json")),
            "--token",
            token,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("PORT "), line
        base = f"http://127.0.0.1:{int(line.split()[1])}"
        httpx.get(base + "/Patient/x", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        yield base, token
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
