"""CDS Hooks 2.0 client authentication: the EHR signs a JWT per call (`Authorization: Bearer <jwt>`).

Checked (PyJWT with `cryptography`): the signature against the JWKS configured for the token's `iss` (keys
chosen by `kid`; an untrusted `jku` header is ignored), an asymmetric algorithm the client is allowed
(ES384 / RS384 by default, never `none` or HMAC), `aud` = the URL of the endpoint being called, `exp` (and
`iat` if present) with a small leeway, and `jti` not seen before (replay cache until the token expires).
PyJWT: widely used, maintained, typed, and its `PyJWKSet` reads a JWKS directly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

DEFAULT_ALGORITHMS = ("ES384", "RS384", "ES256", "RS256", "ES512", "RS512", "PS384")


class AuthError(Exception):
    """A refused token; the message says why (no token content is echoed)."""


@dataclass(frozen=True)
class TrustedClient:
    """An EHR allowed to call the service: its `iss` and its public keys (inline JWKS or a JWKS URL)."""

    iss: str
    jwks: dict[str, Any] | None = None
    jwks_url: str | None = None
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    name: str = ""


class ReplayCache(Protocol):
    """Where used `jti`s are kept: `check_and_add` is False when (iss, jti) was seen before. The
    in-process `JtiCache` suits one process; the records service shares one in its database."""

    def check_and_add(self, iss: str, jti: str, exp: float, now: float) -> bool: ...


@dataclass
class JtiCache:
    """Seen `jti`s until their token's expiry (thread-safe, bounded by expiry)."""

    _seen: dict[tuple[str, str], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check_and_add(self, iss: str, jti: str, exp: float, now: float) -> bool:
        with self._lock:
            if len(self._seen) > 1000:
                for k in [k for k, e in self._seen.items() if e < now]:
                    del self._seen[k]
            key = (iss, jti)
            if key in self._seen and self._seen[key] >= now:
                return False
            self._seen[key] = exp
            return True


class Verifier:
    def __init__(
        self,
        clients: list[TrustedClient],
        *,
        leeway: float = 30.0,
        clock: Callable[[], float] = time.time,
        fetch_jwks: Callable[[str], dict[str, Any]] | None = None,
        replay: ReplayCache | None = None,
    ) -> None:
        self.clients = {c.iss: c for c in clients}
        self.leeway = leeway
        self.clock = clock
        self.jti: ReplayCache = replay or JtiCache()
        self._fetch = fetch_jwks or _fetch_jwks
        self._jwks_cache: dict[str, tuple[float, Any]] = {}

    def _keyset(self, client: TrustedClient) -> Any:
        import jwt

        if client.jwks is not None:
            return jwt.PyJWKSet.from_dict(client.jwks)
        assert client.jwks_url
        now = self.clock()
        cached = self._jwks_cache.get(client.jwks_url)
        if cached and cached[0] > now:
            return cached[1]
        ks = jwt.PyJWKSet.from_dict(self._fetch(client.jwks_url))
        self._jwks_cache[client.jwks_url] = (now + 300, ks)
        return ks

    def verify(self, authorization: str | None, *, audience: str | list[str]) -> dict[str, Any]:
        """The verified claims, or `AuthError`."""
        import jwt

        if not authorization or not authorization.startswith("Bearer "):
            raise AuthError("missing bearer token (Authorization: Bearer <JWT>)")
        token = authorization[len("Bearer ") :].strip()
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise AuthError("malformed JWT") from None
        iss = unverified.get("iss")
        client = self.clients.get(str(iss)) if iss else None
        if client is None:
            raise AuthError("untrusted issuer")
        alg = header.get("alg")
        if alg not in client.algorithms:
            raise AuthError(f"algorithm {alg!r} not allowed for this client")
        try:
            keyset = self._keyset(client)
        except Exception:
            raise AuthError("the client's JWKS could not be read") from None
        kid = header.get("kid")
        keys = [k for k in keyset.keys if kid is None or k.key_id == kid]
        if not keys:
            raise AuthError("no key in the client's JWKS matches the token's kid")
        last: Exception | None = None
        for k in keys:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key=k.key,
                    algorithms=[alg],
                    audience=audience,
                    issuer=client.iss,
                    leeway=self.leeway,
                    options={"require": ["iss", "aud", "exp", "jti"]},
                )
                break
            except jwt.ExpiredSignatureError:
                raise AuthError("token expired") from None
            except jwt.InvalidAudienceError:
                raise AuthError("wrong audience (aud must be the URL of the endpoint called)") from None
            except jwt.MissingRequiredClaimError as exc:
                raise AuthError(f"missing claim {exc.claim!r}") from None
            except jwt.PyJWTError as exc:
                last = exc
        else:
            raise AuthError(f"invalid token ({type(last).__name__})")
        if not self.jti.check_and_add(
            client.iss, str(claims["jti"]), float(claims["exp"]) + self.leeway, self.clock()
        ):
            raise AuthError("jti already used (replayed token)")
        return claims


def _fetch_jwks(url: str) -> dict[str, Any]:
    import httpx

    r = httpx.get(url, timeout=httpx.Timeout(3.0), follow_redirects=False)
    r.raise_for_status()
    data: dict[str, Any] = r.json()
    return data
