"""A polite client for the ClinicalTrials.gov API v2 (`imnm trials update`, `imnm trials search`).

Nothing in IMNM Navigator touches the network unless a person runs one of those two commands: the
catalog, matching and listing are offline. The client (httpx, imported only here):

- `GET {base}/studies/{nctId}` for one record, `GET {base}/studies?query.cond=...` for searches
  (`filter.advanced=AREA[StudyType]INTERVENTIONAL`, `pageSize`, `pageToken`); the base URL is
  configurable (`--registry-url`, or the `IMNM_REGISTRY_URL` environment variable; default
  `DEFAULT_URL`);
- sends a user agent naming the tool and its purpose, and `Accept: application/json`;
- waits at least `min_interval` seconds between requests (default 1.2 s, about 50 a minute, the
  limit the research notes give for the API: trials.md §2.1);
- times out connect and read after `timeout` seconds;
- retries timeouts, connection errors, 429 and 5xx answers up to `retries` times with exponential
  backoff (`backoff` × 2^attempt seconds), honouring a `Retry-After` header (seconds or an HTTP
  date) up to `max_retry_after` seconds; a longer wait is not taken: the trial is reported instead;
- never retries a 404 or another 4xx answer;
- turns every failure into a `RegistryError` whose message says what happened in words a
  coordinator can act on ("the registry has no study NCT... (404)", "no answer within 20 s after 3
  attempts", "the answer is not JSON").
"""

from __future__ import annotations

import email.utils
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from imnm.errors import InputError, Problem
from imnm.version import __version__

DEFAULT_URL = "https://clinicaltrials.gov/api/v2"
ENV_URL = "IMNM_REGISTRY_URL"
USER_AGENT = (
    f"IMNM-Navigator/{__version__} (open-source trial catalog freshness check; "
    "polite client: one request at a time, about 50 per minute at most)"
)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class RegistryError(Exception):
    """One record or search could not be read from the registry (the message says why)."""


@dataclass(frozen=True)
class RegistryOptions:
    url: str = DEFAULT_URL
    timeout: float = 20.0
    retries: int = 3
    backoff: float = 1.0
    min_interval: float = 1.2
    max_retry_after: float = 60.0
    max_pages: int = 10

    @staticmethod
    def from_cli(
        url: str | None,
        *,
        timeout: float | None = None,
        retries: int | None = None,
        min_interval: float | None = None,
    ) -> RegistryOptions:
        """Options from command-line values; a bad value is an `InputError` naming the flag."""
        chosen = url or os.environ.get(ENV_URL) or DEFAULT_URL
        problems = []
        if not chosen.startswith(("http://", "https://")):
            problems.append(
                Problem(
                    "--registry-url",
                    f"{chosen!r} is not an http(s) URL",
                    f"e.g. {DEFAULT_URL}",
                    chosen,
                )
            )
        for flag, value, lo, hi in (
            ("--timeout", timeout, 0.05, 600.0),
            ("--retries", retries, 0, 10),
            ("--min-interval", min_interval, 0.0, 60.0),
        ):
            if value is not None and not lo <= value <= hi:
                problems.append(Problem(flag, f"{value} is outside {lo:g} to {hi:g}", None, value))
        if problems:
            raise InputError(problems, what="command line")
        base = RegistryOptions()
        return RegistryOptions(
            url=chosen.rstrip("/"),
            timeout=timeout if timeout is not None else base.timeout,
            retries=retries if retries is not None else base.retries,
            min_interval=min_interval if min_interval is not None else base.min_interval,
        )


def study_url(base: str, nct: str) -> str:
    return f"{base.rstrip('/')}/studies/{nct}"


def public_url(nct: str) -> str:
    """The study's public page (what a person opens)."""
    return f"https://clinicaltrials.gov/study/{nct}"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class RegistryClient:
    """One client per command run (a context manager); see the module docstring."""

    def __init__(
        self,
        options: RegistryOptions,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            import httpx
        except ImportError:  # pragma: no cover - the extra is part of make test
            raise InputError(
                [
                    Problem(
                        "httpx",
                        "the registry client needs the registry extra",
                        "pip install 'imnm[registry]'",
                    )
                ],
                what="installation",
            ) from None

        self.options = options
        self._sleep = sleep
        self._clock = clock
        self._last: float | None = None
        self.requests = 0
        self._http = httpx.Client(
            timeout=httpx.Timeout(options.timeout),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=True,
        )

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------ requests

    def _polite_wait(self) -> None:
        if self._last is not None:
            wait = self.options.min_interval - (self._clock() - self._last)
            if wait > 0:
                self._sleep(wait)
        self._last = self._clock()

    def get_json(self, url: str, params: dict[str, str] | None = None, *, what: str) -> Any:
        """GET a JSON document with the retry policy; `what` names it in messages."""
        import httpx

        o = self.options
        attempts = o.retries + 1
        last = ""
        for attempt in range(attempts):
            self._polite_wait()
            self.requests += 1
            wait = o.backoff * (2**attempt)
            try:
                resp = self._http.get(url, params=params)
            except httpx.TimeoutException:
                last = f"no answer from {url} within {o.timeout:g} s"
            except httpx.TransportError as exc:
                last = f"cannot reach {url} ({type(exc).__name__}: {exc})"
            else:
                if resp.status_code == 200:
                    return _parse_json(resp.content, url, what)
                if resp.status_code == 404:
                    raise RegistryError(f"the registry has no {what} ({url} answered 404 Not Found)")
                reason = resp.reason_phrase or ""
                if resp.status_code not in RETRY_STATUSES:
                    raise RegistryError(
                        f"the registry refused the request for {what} (HTTP {resp.status_code} {reason})".rstrip()
                    )
                asked = _retry_after(resp.headers.get("Retry-After"))
                if resp.status_code == 429:
                    last = "the registry is limiting requests (429 Too Many Requests"
                    last += f"; Retry-After {resp.headers.get('Retry-After')})" if asked is not None else ")"
                else:
                    last = f"the registry failed (HTTP {resp.status_code} {reason})".replace(" )", ")")
                if asked is not None:
                    if asked > o.max_retry_after:
                        raise RegistryError(
                            f"{last}; it asks to wait {asked:.0f} s, longer than {o.max_retry_after:g} s: "
                            "try again later"
                        )
                    wait = max(wait, asked)
            if attempt + 1 < attempts:
                self._sleep(wait)
        raise RegistryError(f"{last} after {attempts} attempt{'s' if attempts > 1 else ''}; try again later")

    def study(self, nct: str) -> dict[str, Any]:
        """One study record (API v2 layout checked: wrong types are a `RegistryError`)."""
        from imnm.trials.ctgov import check_study

        url = study_url(self.options.url, nct)
        data = self.get_json(url, what=f"study {nct}")
        problems = check_study(data, file=url)
        if problems:
            shown = "; ".join(f"{p.path or '(top level)'}: {p.message}" for p in problems[:3])
            raise RegistryError(f"the answer for {nct} is not an API v2 study record ({shown})")
        assert isinstance(data, dict)
        found = (data.get("protocolSection") or {}).get("identificationModule", {}).get("nctId")
        if found and found != nct:
            raise RegistryError(f"asked for {nct}, the registry answered with {found}")
        return data

    def search(self, condition: str) -> Iterator[dict[str, Any]]:
        """Interventional studies for a condition term, page by page (at most `max_pages`)."""
        url = f"{self.options.url.rstrip('/')}/studies"
        params = {
            "query.cond": condition,
            "filter.advanced": "AREA[StudyType]INTERVENTIONAL",
            "pageSize": "100",
            "format": "json",
        }
        for _page in range(self.options.max_pages):
            data = self.get_json(url, params, what=f"search for {condition!r}")
            if not isinstance(data, dict) or not isinstance(data.get("studies", []), list):
                raise RegistryError(f"the answer to the search for {condition!r} has no list of studies")
            for study in data.get("studies") or []:
                if isinstance(study, dict):
                    yield study
            token = data.get("nextPageToken")
            if not isinstance(token, str) or not token:
                return
            params = {**params, "pageToken": token}


def _parse_json(content: bytes, url: str, what: str) -> Any:
    try:
        return json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        start = content[:60].decode("utf-8", "replace").replace("\n", " ")
        raise RegistryError(
            f"the answer for {what} from {url} is not JSON ({exc}); it begins {start!r}"
        ) from None
    except RecursionError:
        raise RegistryError(f"the answer for {what} from {url} is nested too deeply to read") from None
