"""A tiny read-only FHIR R4 server for tests (stdlib http.server), serving the resources of some bundles.

    python tests/cds/fhir_server.py BUNDLE.json... [--token T]   prints "PORT <n>" then serves on 127.0.0.1

GET [base]/Patient/{id} -> the resource (404 if unknown); GET [base]/{Type}?patient={id}[&code=a,b] -> a
searchset Bundle (codes as `system|code` or `code`), paged by `_count` (default 50) with `next` links.
With --token, requests without `Authorization: Bearer <token>` get 401. Every request is logged to stderr.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

RESOURCES: list[dict[str, Any]] = []
TOKEN: str | None = None


def _subject(r: dict[str, Any]) -> str | None:
    for key in ("subject", "patient"):
        ref = (r.get(key) or {}).get("reference")
        if ref:
            return str(ref).split("/")[-1].replace("urn:uuid:", "")
    return None


def _codes(r: dict[str, Any]) -> set[str]:
    out = set()
    for key in ("code", "medicationCodeableConcept", "vaccineCode"):
        for c in (r.get(key) or {}).get("coding") or []:
            out.add(str(c.get("code")))
            out.add(f"{c.get('system')}|{c.get('code')}")
    return out


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt: str, *args: Any) -> None:
        sys.stderr.write("fhir-server: " + fmt % args + "\n")

    def send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if TOKEN and self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send(
                401, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "login"}]}
            )
            return
        parts = urlsplit(self.path)
        segs = [s for s in parts.path.split("/") if s]
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if len(segs) == 2:
            rtype, rid = segs
            found = [r for r in RESOURCES if r.get("resourceType") == rtype and r.get("id") == rid]
            if found:
                self.send(200, found[0])
            else:
                self.send(
                    404,
                    {
                        "resourceType": "OperationOutcome",
                        "issue": [{"severity": "error", "code": "not-found"}],
                    },
                )
            return
        if len(segs) != 1:
            self.send(400, {"resourceType": "OperationOutcome"})
            return
        rtype = segs[0]
        hits = [r for r in RESOURCES if r.get("resourceType") == rtype]
        if "patient" in q:
            hits = [r for r in hits if _subject(r) == q["patient"]]
        if "code" in q:
            wanted = set(q["code"].split(","))
            hits = [r for r in hits if _codes(r) & wanted]
        count = int(q.get("_count", 50))
        page = int(q.get("_page", 0))
        chunk = hits[page * count : (page + 1) * count]
        host = f"http://{self.headers.get('Host')}"
        bundle: dict[str, Any] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(hits),
            "entry": [{"resource": r} for r in chunk],
            "link": [{"relation": "self", "url": host + self.path}],
        }
        if (page + 1) * count < len(hits):
            nq = dict(q, _page=str(page + 1))
            bundle["link"].append({"relation": "next", "url": f"{host}/{rtype}?{urlencode(nq)}"})
        self.send(200, bundle)


def main(argv: list[str]) -> None:
    global TOKEN
    files = []
    it = iter(argv)
    for a in it:
        if a == "--token":
            TOKEN = next(it)
        else:
            files.append(a)
    for f in files:
        with open(f) as fh:
            doc = json.load(fh)
        RESOURCES.extend(e["resource"] for e in doc.get("entry") or [])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
