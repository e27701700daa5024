"""`imnm serve`: the records service and API over HTTP (uvicorn)."""

from __future__ import annotations

import typer

from imnm.cli.common import console, handle_errors
from imnm.cli.store import DatabaseOpt


@handle_errors()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port (0 = any free port)."),
    database: str | None = DatabaseOpt,
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Worker processes."),
    forwarded_allow_ips: str | None = typer.Option(
        None,
        "--forwarded-allow-ips",
        metavar="IPS",
        help="Trust X-Forwarded-Proto/For from these proxy addresses (HTTPS behind a proxy → Secure cookies).",
    ),
) -> None:
    """Start the API (OpenAPI at /openapi.json, docs at /docs, routes under /api/v1).

    Refuses to start when the database schema is out of date (run `imnm db upgrade`). Secrets and
    settings come from the environment (IMNM_SECRET_KEY, IMNM_SESSION_*; see imnm.store.config).
    """
    import os

    from imnm.cli.store import open_db
    from imnm.store.config import DEFAULT_DATABASE_URL, ServerSettings
    from imnm.store.db import safe_url

    url = database or DEFAULT_DATABASE_URL
    ServerSettings.from_env()  # bad settings fail here, with every problem named
    db = open_db(url)  # refuses an out-of-date schema, naming `imnm db upgrade`
    from imnm.store import users

    with db.session() as s:
        n = users.count_users(s)
    db.dispose()
    os.environ["IMNM_DATABASE_URL"] = url
    c = console()
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    c.print(f"IMNM Navigator on http://{shown}:{port}/  (web app /, API /api/v1, docs /docs)", markup=False)
    c.print(f"Database: {safe_url(url)}", markup=False)
    if n == 0:
        c.print(
            "No users yet. Create the first admin: imnm users create-admin NAME "
            f"--database '{safe_url(url)}' (asks for the password, or --password-stdin)",
            markup=False,
        )
    import uvicorn

    uvicorn.run(
        "imnm.api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # our own access log has no query strings or patient ids
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level="info",
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
