"""Real parts for the tests: a throwaway PostgreSQL cluster and a uvicorn process, on loopback.

PostgreSQL: initdb + pg_ctl in a temporary directory on 127.0.0.1 and a free port (as the
`postgres` user when running as root), stopped by its PID at the end. `make test` installs the
Debian package when `/usr/lib/postgresql/*/bin/initdb` is missing; set `IMNM_TEST_POSTGRES_URL`
(a superuser URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres) to use a running
server instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_gone(pid: int, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


@dataclass
class Cluster:
    url: str  # superuser URL to the `postgres` database
    pid: int | None
    tmp: Path | None

    def server_url(self, database: str) -> str:
        return self.url.rsplit("/", 1)[0] + "/" + database

    def create_database(self, template: str | None = None) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        plain = self.url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.server_url(name)

    def stop(self) -> None:
        if self.pid is None:
            return
        os.kill(self.pid, signal.SIGQUIT)  # PostgreSQL's "immediate" shutdown: the cluster is thrown away
        _wait_gone(self.pid)
        self.pid = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)


def start_cluster() -> Cluster:
    given = os.environ.get("IMNM_TEST_POSTGRES_URL")
    if given:
        return Cluster(given, None, None)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail(
            "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb missing): `make test` installs the "
            "Debian package `postgresql`; or set IMNM_TEST_POSTGRES_URL to a server's superuser URL"
        )
    bindir = Path(found[-1]).parent
    tmp = Path(tempfile.mkdtemp(prefix="imnm-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run as the postgres user
        shutil.chown(tmp, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    data = tmp / "data"
    subprocess.run(
        [
            *prefix,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp} -c fsync=off -c full_page_writes=off"
    subprocess.run(
        [
            *prefix,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(tmp / "pg.log"),
            "-o",
            opts,
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    pid = int((data / "postmaster.pid").read_text().splitlines()[0])
    return Cluster(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", pid, tmp)


class Server:
    """`imnm serve` in its own process on a free loopback port, stopped by PID."""

    def __init__(
        self,
        database_url: str,
        *,
        env: dict[str, str] | None = None,
        workers: int = 1,
        log_dir: Path | None = None,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "imnm.cli.main"]
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept open for the process's lifetime
            prefix="imnm-serve-", suffix=".log", delete=False, dir=log_dir
        )
        self.proc = subprocess.Popen(
            [*cmd, "serve", "--port", str(self.port), "--database", database_url, "--workers", str(workers)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
        self._wait()

    def _wait(self, timeout: float = 30.0) -> None:
        import httpx

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                self.log.close()
                raise RuntimeError(f"imnm serve exited with {self.proc.returncode}: {self.output()}")
            try:
                if httpx.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"imnm serve did not answer within {timeout} s: {self.output()}")

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if not self.log.closed:
            self.log.close()
