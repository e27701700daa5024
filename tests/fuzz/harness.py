"""The fuzz properties, the budgets and the tally.

Properties, for every input:

- the command line exits 0 or 2, never 1 and never with a traceback (run in process with
  `IMNM_DEBUG=1`, so an unexpected exception surfaces with its traceback instead of exit 1);
- an API call answers 2xx or 4xx, never 5xx; a 4xx is `application/problem+json` whose `status` is the
  answer's and, for bad input (422), every problem has a `path` and a message;
- on exit 2 the output names the place: with `--json` a document whose problems each have `path` and
  `message` (or click's usage error naming the option); in text a problem line or an error line;
- `--json` output is always valid JSON (strict: no NaN or Infinity);
- no input takes more than 2 s of CPU (`time.thread_time`, immune to a busy machine) or raises peak
  memory by more than 500 MB (`ru_maxrss` against the resident size before the input); a hard wall-clock
  guard of 60 s stops a hang.

Budgets: `make test` runs a small, seeded (derandomized) number of inputs per kind, about a minute in all.
`IMNM_FUZZ_INPUTS=N` (what `make fuzz` sets, 100,000) spreads N inputs over the kinds by their weights;
then inputs are random (`IMNM_FUZZ_SEED` to replay a run), failures are collected rather than stopping
the run (`IMNM_FUZZ_COLLECT=1`, the smallest input of each crash kind is saved under
`IMNM_FUZZ_DIR`), and the tally is written to `IMNM_FUZZ_REPORT` (JSON) and printed. Failing inputs are
not shrunk (an input can cost seconds); `IMNM_FUZZ_SHRINK=1` asks Hypothesis to shrink one.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, settings

CPU_LIMIT_S = 2.0
MEMORY_LIMIT_MB = 500.0
WALL_GUARD_S = 60.0

# kind -> (inputs in `make test`, weight of the kind in a big run)
KINDS: dict[str, tuple[int, float]] = {
    "record_yaml": (60, 2.0),
    "record_json": (40, 1.5),
    "answers": (50, 1.0),
    "interview": (25, 0.5),
    "rule": (50, 1.0),
    "catalog": (25, 1.0),
    "reviews": (30, 0.7),
    "ctgov": (40, 1.0),
    "fhir_bundle": (40, 1.5),
    "fhir_ndjson": (20, 0.5),
    "cli_options": (50, 1.0),
    "api_body": (60, 2.0),
    "api_query": (50, 1.0),
    "cds_hook": (30, 1.0),
    "omop": (8, 0.3),
    "web_form": (60, 1.5),
    "upload": (30, 0.7),
}


def big_run() -> bool:
    return bool(os.environ.get("IMNM_FUZZ_INPUTS"))


def collect() -> bool:
    return bool(os.environ.get("IMNM_FUZZ_COLLECT"))


def budget(kind: str) -> int:
    small, weight = KINDS[kind]
    total = os.environ.get("IMNM_FUZZ_INPUTS")
    if not total:
        return small
    weights = sum(w for _, w in KINDS.values())
    return max(1, round(int(total) * weight / weights))


def fuzz_settings(kind: str) -> settings:
    """Seeded and bounded in `make test`; random (or IMNM_FUZZ_SEED) and large in `make fuzz`."""
    shrink = bool(os.environ.get("IMNM_FUZZ_SHRINK")) and not collect()
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])
    return settings(
        max_examples=budget(kind),
        deadline=None,
        database=None,
        derandomize=not big_run(),
        phases=phases,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


# ------------------------------------------------------------------ the tally


@dataclass
class Tally:
    inputs: int = 0
    ok: int = 0  # exit 0 / 2xx
    invalid: int = 0  # exit 2 / 4xx
    failures: int = 0  # tracebacks, exit 1, 5xx, broken properties
    max_cpu_s: float = 0.0
    max_mem_mb: float = 0.0
    cpu_s: float = 0.0  # in all
    wall_s: float = 0.0  # in all
    by_status: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    crashes: dict[str, dict[str, Any]] = field(default_factory=dict)  # signature -> smallest example


TALLY: dict[str, Tally] = defaultdict(Tally)


def report() -> dict[str, Any]:
    return {
        kind: {
            "inputs": t.inputs,
            "ok": t.ok,
            "invalid": t.invalid,
            "failures": t.failures,
            "max_cpu_s": round(t.max_cpu_s, 3),
            "cpu_s": round(t.cpu_s, 1),
            "wall_s": round(t.wall_s, 1),
            "max_mem_mb": round(t.max_mem_mb, 1),
            "by_status": dict(sorted(t.by_status.items())),
            "crashes": {sig: {k: v for k, v in c.items() if k != "input"} for sig, c in t.crashes.items()},
        }
        for kind, t in sorted(TALLY.items())
    }


def markdown() -> str:
    """The tally as a Markdown table (written beside the JSON report)."""
    lines = [
        "| input kind | inputs | exit 0 / 2xx | exit 2 / 4xx | tracebacks (exit 1, 5xx, broken property) "
        "| max CPU s | max memory MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    total = Tally()
    for kind, t in sorted(TALLY.items()):
        lines.append(
            f"| {kind} | {t.inputs:,} | {t.ok:,} | {t.invalid:,} | {t.failures:,} | {t.max_cpu_s:.2f} "
            f"| {t.max_mem_mb:.0f} |"
        )
        total.inputs += t.inputs
        total.ok += t.ok
        total.invalid += t.invalid
        total.failures += t.failures
    lines.append(
        f"| **all** | **{total.inputs:,}** | {total.ok:,} | {total.invalid:,} | **{total.failures:,}** | | |"
    )
    crashes = [(k, s, c) for k, t in sorted(TALLY.items()) for s, c in t.crashes.items()]
    if crashes:
        lines += ["", "Crashes (smallest input of each kind saved under IMNM_FUZZ_DIR):", ""]
        lines += [f"- {k}: `{s}` x{c['count']} {c.get('saved', '')}" for k, s, c in crashes]
    return "\n".join(lines) + "\n"


def summary_lines() -> list[str]:
    rows = [
        f"{'input kind':14} {'inputs':>8} {'exit 0/2xx':>11} {'exit 2/4xx':>11} {'tracebacks':>11} "
        f"{'max CPU s':>10} {'CPU s':>7}"
    ]
    total = Tally()
    for kind, t in sorted(TALLY.items()):
        rows.append(
            f"{kind:14} {t.inputs:8} {t.ok:11} {t.invalid:11} {t.failures:11} {t.max_cpu_s:10.2f} {t.cpu_s:7.1f}"
        )
        total.inputs += t.inputs
        total.ok += t.ok
        total.invalid += t.invalid
        total.failures += t.failures
        total.max_cpu_s = max(total.max_cpu_s, t.max_cpu_s)
        total.cpu_s += t.cpu_s
    rows.append(
        f"{'all':14} {total.inputs:8} {total.ok:11} {total.invalid:11} {total.failures:11} "
        f"{total.max_cpu_s:10.2f} {total.cpu_s:7.1f}"
    )
    return rows


def _signature(failure: str) -> str:
    """What kind of crash this is: the exception type and the innermost frame in src/imnm (or the property)."""
    frames = re.findall(r'File "([^"]*src/imnm/[^"]*)", line (\d+), in (\w+)', failure)
    exc = re.findall(r"^(\w+(?:\.\w+)*(?:Error|Exception|Exit|Interrupt|Warning)?):", failure, re.M)
    where = f"{Path(frames[-1][0]).name}:{frames[-1][2]}" if frames else ""
    head = failure.splitlines()[0][:80] if failure else "?"
    return f"{exc[-1] if exc else head} @ {where}" if where else head


def _save(kind: str, sig: str, shown: str, failure: str, blob: bytes | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"count": 1, "example": shown[:2000], "failure": failure[-3000:]}
    out = os.environ.get("IMNM_FUZZ_DIR")
    if out and blob is not None:
        d = Path(out) / kind
        d.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", sig)[:100]
        (d / f"{name}.input").write_bytes(blob)
        (d / f"{name}.txt").write_text(f"{shown}\n\n{failure}\n", encoding="utf-8", errors="replace")
        entry["saved"] = str(d / f"{name}.input")
    entry["size"] = len(blob) if blob is not None else len(shown)
    return entry


def settle(
    kind: str, status: str, failure: str | None, *, ok: bool, shown: str, blob: bytes | None = None
) -> None:
    """Count one input (`ok`: exit 0 / 2xx); a broken property raises (make test) or is collected (make fuzz)."""
    t = TALLY[kind]
    t.inputs += 1
    t.by_status[status] += 1
    if failure is None:
        if ok:
            t.ok += 1
        else:
            t.invalid += 1
        return
    t.failures += 1
    if not collect():
        raise AssertionError(f"{kind}: {failure}\n--- input ---\n{shown}")
    sig = _signature(failure)
    old = t.crashes.get(sig)
    size = len(blob) if blob is not None else len(shown)
    if old is None or size < old["size"]:
        entry = _save(kind, sig, shown, failure, blob)
        entry["count"] = (old or {}).get("count", 0) + 1
        t.crashes[sig] = entry
    else:
        old["count"] += 1


# ------------------------------------------------------------------ limits


class WallGuard(BaseException):
    """Raised in the main thread when one input runs past WALL_GUARD_S (a hang)."""


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # kB on Linux


@dataclass
class Cost:
    cpu_s: float = 0.0
    wall_s: float = 0.0
    mem_mb: float = 0.0

    def problems(self) -> str | None:
        if self.cpu_s > CPU_LIMIT_S:
            return f"took {self.cpu_s:.2f} s of CPU (limit {CPU_LIMIT_S} s)"
        if self.mem_mb > MEMORY_LIMIT_MB:
            return f"raised peak memory by {self.mem_mb:.0f} MB (limit {MEMORY_LIMIT_MB:.0f} MB)"
        return None


@contextmanager
def limits(kind: str, clock: Callable[[], float] = time.thread_time) -> Iterator[Cost]:
    """Measure one input: CPU by `clock` (this thread's for the CLI; the process's for the API, whose app
    runs in the test client's thread), wall time, and the rise in peak memory."""
    cost = Cost()
    rss0, peak0 = _rss_mb(), _maxrss_mb()
    main = threading.current_thread() is threading.main_thread()
    if main:

        def _hang(signum: int, frame: Any) -> None:
            raise WallGuard(f"no answer within {WALL_GUARD_S:.0f} s")

        old = signal.signal(signal.SIGALRM, _hang)
        signal.setitimer(signal.ITIMER_REAL, WALL_GUARD_S)
    t0, c0 = time.perf_counter(), clock()
    try:
        yield cost
    finally:
        cost.cpu_s = clock() - c0
        cost.wall_s = time.perf_counter() - t0
        if main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        peak = _maxrss_mb()
        cost.mem_mb = max(0.0, peak - rss0) if peak > peak0 else 0.0
        t = TALLY[kind]
        t.max_cpu_s = max(t.max_cpu_s, cost.cpu_s)
        t.cpu_s += cost.cpu_s
        t.wall_s += cost.wall_s
        t.max_mem_mb = max(t.max_mem_mb, cost.mem_mb)


# ------------------------------------------------------------------ the command line, in process

_COMMAND: Any = None


def _command() -> Any:
    """The click command behind `imnm`, built once (typer rebuilds it on every CliRunner.invoke)."""
    global _COMMAND
    if _COMMAND is None:
        import typer.main

        from imnm.cli.main import app

        _COMMAND = typer.main.get_command(app)
    return _COMMAND


@dataclass
class CliOutcome:
    code: int
    stdout: str
    stderr: str
    error: str | None  # a traceback, when the command raised
    cost: Cost


def run(kind: str, argv: list[str], *, stdin: str | None = None) -> CliOutcome:
    """`imnm ARGV` in this process with IMNM_DEBUG=1 (unexpected exceptions keep their traceback)."""
    from click.testing import CliRunner

    runner = CliRunner()
    os.environ["IMNM_DEBUG"] = "1"
    error = None
    try:
        with limits(kind) as cost:
            try:
                result = runner.invoke(_command(), argv, input=stdin, prog_name="imnm", catch_exceptions=True)
            except WallGuard as exc:
                return CliOutcome(-1, "", "", f"hang: {exc}", cost)
    finally:
        os.environ.pop("IMNM_DEBUG", None)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        error = (
            "".join(traceback.format_exception(*result.exc_info))
            if result.exc_info
            else repr(result.exception)
        )
    return CliOutcome(result.exit_code, result.stdout, result.stderr, error, cost)


def _strict_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def problem_dicts(doc: Any) -> Iterator[dict[str, Any]]:
    if isinstance(doc, dict):
        if "path" in doc and "message" in doc:
            yield doc
        for v in doc.values():
            yield from problem_dicts(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from problem_dicts(v)


_USAGE = re.compile(r"(Error: |Usage: )", re.M)
_TEXT_PROBLEM = re.compile(r"(problem\(s\) in |^error: |^  • |^✘ |Error: )", re.M)


def cli_failure(out: CliOutcome, *, as_json: bool, json_always: bool = False) -> str | None:
    """Why this run breaks a property (None when it keeps them all)."""
    if out.error is not None:
        return f"exit {out.code} with an exception:\n{out.error}"
    if out.code not in (0, 2):
        return (
            f"exit {out.code} (expected 0 or 2)\nstdout: {out.stdout[-1500:]}\nstderr: {out.stderr[-1500:]}"
        )
    if "Traceback (most recent call last)" in out.stdout + out.stderr:
        return f"a traceback in the output:\n{out.stderr[-2000:]}"
    limit = out.cost.problems()
    if limit:
        return limit
    if as_json or (json_always and out.code == 0):
        if out.code == 2 and not out.stdout.strip() and _USAGE.search(out.stderr):
            return None  # click's usage error (a bad option value): names the option, no JSON
        try:
            doc = _strict_json(out.stdout)
        except ValueError as exc:
            return (
                f"--json output is not valid JSON ({exc}):\n{out.stdout[:1500]}\nstderr: {out.stderr[-500:]}"
            )
        if out.code == 2 and as_json:
            found = list(problem_dicts(doc))
            if not found:
                return f"exit 2 without a problem naming a path:\n{out.stdout[:1500]}"
            bad = [p for p in found if not isinstance(p.get("path"), str) or not p.get("message")]
            if bad:
                return f"a problem without a path or message: {bad[:3]}"
    elif out.code == 2 and not _TEXT_PROBLEM.search(out.stderr + out.stdout):
        return f"exit 2 without a message naming the place:\nstdout: {out.stdout[-800:]}\nstderr: {out.stderr[-800:]}"
    return None


MAX_INPUT_BYTES = 60_000_000  # an input the strategies should never make (a bug in them, not a finding)


def check_cli(
    kind: str,
    argv: list[str],
    *,
    shown: str,
    blob: bytes | None = None,
    stdin: str | None = None,
    json_always: bool = False,
) -> CliOutcome:
    assert blob is None or len(blob) < MAX_INPUT_BYTES, f"the strategy made a {len(blob):,}-byte input"
    out = run(kind, argv, stdin=stdin)
    failure = cli_failure(out, as_json="--json" in argv, json_always=json_always)
    if failure is not None:
        failure = f"imnm {' '.join(argv)}: {failure}"
    settle(kind, str(out.code), failure, ok=out.code == 0, shown=shown, blob=blob)
    return out


# ------------------------------------------------------------------ the API, in process


def api_failure(r: Any, cost: Cost, *, error: str | None = None) -> str | None:
    if error is not None:
        return f"the app raised:\n{error}"
    if r.status_code >= 500 or r.status_code < 200 or 300 <= r.status_code < 400:
        return f"status {r.status_code}:\n{r.text[:1500]}"
    limit = cost.problems()
    if limit:
        return limit
    if r.status_code >= 400:
        ctype = r.headers.get("content-type", "")
        if not ctype.startswith("application/problem+json") and not ctype.startswith("application/json"):
            return f"a {r.status_code} that is not problem+json ({ctype}): {r.text[:500]}"
        try:
            doc = _strict_json(r.text)
        except ValueError as exc:
            return f"a {r.status_code} whose body is not valid JSON ({exc}): {r.text[:500]}"
        if ctype.startswith("application/problem+json"):
            if doc.get("status") != r.status_code or not (doc.get("detail") or doc.get("title")):
                return f"a problem document without status/detail: {r.text[:500]}"
            if not doc.get("instance") and not doc.get("problems"):
                return f"a {r.status_code} that names no place (instance or problems): {r.text[:500]}"
            if r.status_code == 422:
                found = doc.get("problems") or []
                if not found or any(
                    not isinstance(p.get("path"), str) or not p.get("message") for p in found
                ):
                    return f"a 422 whose problems do not all have a path and a message: {r.text[:800]}"
    else:
        if r.headers.get("content-type", "").startswith(("application/json", "application/fhir+json")):
            try:
                _strict_json(r.text)
            except ValueError as exc:
                return f"a {r.status_code} whose body is not valid JSON ({exc})"
    return None


def check_http(
    kind: str,
    send: Callable[[], Any],
    failure_of: Callable[[Any, Cost, str | None], str | None],
    *,
    ok_below: int,
    shown: str,
    blob: bytes | None = None,
) -> Any:
    """Send one fuzz request under the limits, judge its answer with `failure_of` and tally it
    (`ok_below`: the status under which an answer counts as accepted)."""
    error = None
    r = None
    with limits(kind, time.process_time) as cost:
        try:
            r = send()
        except WallGuard as exc:
            error = f"hang: {exc}"
        except Exception:
            error = traceback.format_exc()
    failure = failure_of(r, cost, error) if r is not None or error else "no response"
    status = str(r.status_code) if r is not None else "exception"
    settle(kind, status, failure, ok=r is not None and r.status_code < ok_below, shown=shown, blob=blob)
    return r


def check_api(kind: str, send: Callable[[], Any], *, shown: str, blob: bytes | None = None) -> Any:
    return check_http(
        kind, send, lambda r, c, e: api_failure(r, c, error=e), ok_below=300, shown=shown, blob=blob
    )
