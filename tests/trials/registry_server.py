"""A registry on loopback for the tests: a real HTTP server (stdlib `http.server`, a free port chosen by
the OS) that answers the ClinicalTrials.gov API v2 paths with the records the test gives it.

    GET /api/v2/studies/{nctId}            one study record (or the failure the test sets)
    GET /api/v2/studies?query.cond=TERM    {"studies": [...], "nextPageToken": ...} (two pages when asked)

Each study path answers with a list of behaviours, one per request (the last repeats):
`("json", obj)`, `("status", code, headers, body)`, `("sleep", seconds, obj)`, `("raw", bytes)`.
Every request is recorded with its path, headers and time, so tests can check the user agent and
the pause between requests.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

Behaviour = tuple[Any, ...]


class Registry:
    def __init__(self) -> None:
        self.studies: dict[str, list[Behaviour]] = {}
        self.search_pages: list[list[dict[str, Any]]] = []
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                return

            def do_GET(self) -> None:
                registry._serve(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/api/v2"

    def start(self) -> Registry:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def serve(self, nct: str, *behaviours: Behaviour) -> None:
        self.studies[nct] = list(behaviours)

    def study_requests(self, nct: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].endswith(f"/studies/{nct}")]

    # ------------------------------------------------------------ handler

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(h.path)
        with self._lock:
            self.requests.append(
                {
                    "path": parsed.path,
                    "query": parse_qs(parsed.query),
                    "headers": dict(h.headers),
                    "time": time.monotonic(),
                }
            )
        if parsed.path == "/api/v2/studies":
            query = parse_qs(parsed.query)
            page = int(query.get("pageToken", ["0"])[0] or 0)
            studies = self.search_pages[page] if page < len(self.search_pages) else []
            body: dict[str, Any] = {"studies": studies}
            if page + 1 < len(self.search_pages):
                body["nextPageToken"] = str(page + 1)
            self._send(h, 200, {}, json.dumps(body).encode())
            return
        prefix = "/api/v2/studies/"
        nct = parsed.path[len(prefix) :] if parsed.path.startswith(prefix) else ""
        with self._lock:
            queue = self.studies.get(nct)
            if not queue:
                behaviour: Behaviour = ("status", 404, {}, b'{"message": "not found"}')
            else:
                behaviour = queue.pop(0) if len(queue) > 1 else queue[0]
        kind = behaviour[0]
        if kind == "json":
            self._send(h, 200, {}, json.dumps(behaviour[1]).encode())
        elif kind == "status":
            self._send(h, behaviour[1], behaviour[2], behaviour[3])
        elif kind == "sleep":
            time.sleep(behaviour[1])
            with contextlib.suppress(OSError):  # the client gave up
                self._send(h, 200, {}, json.dumps(behaviour[2]).encode())
        elif kind == "raw":
            self._send(h, 200, {}, behaviour[1])
        else:  # pragma: no cover
            raise ValueError(kind)

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, code: int, headers: dict[str, str], body: bytes) -> None:
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)
