"""Authentication and abuse limits for the HTTP API.

Every endpoint except ``/healthz`` and ``/readyz`` needs ``Authorization: Bearer <key>``: a missing
or bad key is 401, a role or office that may not do this is 403. Each key has a token bucket
(``rate_limit_per_minute`` refill, ``rate_limit_burst`` capacity): an empty bucket is 429 with
``Retry-After``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from search.access import KeyVerifier, Principal
from search.errors import RateLimited, Unauthorized

bearer = HTTPBearer(auto_error=False, description="An API key from `suspects keys create`.")


class RateLimiter:
    """One token bucket per key id."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key_id: str, cost: float = 1.0) -> None:
        """Spend ``cost`` tokens or raise RateLimited with the seconds until they are there."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < cost:
                wait = math.ceil((cost - tokens) / self.rate) if self.rate > 0 else 60
                self._buckets[key_id] = (tokens, now)
                raise RateLimited(f"rate limit: {self.rate * 60:.0f} requests per minute per key", retry_after=wait)
            self._buckets[key_id] = (tokens - cost, now)


def authenticate(request: Request, token: str) -> Principal:
    """The caller holding ``token``; 401 if it is not a valid key; 429 over the key's rate."""
    state = request.app.state.suspects
    verifier: KeyVerifier = state.verifier
    client = request.client.host if request.client else ""
    who = verifier.verify(token, client)
    limiter: RateLimiter = state.limiter
    limiter.take(who.key_id)
    return who


def principal(request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    """The authenticated caller; 401 without a valid key; 429 over the key's rate."""
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise Unauthorized("missing API key: send Authorization: Bearer <key>")
    return authenticate(request, creds.credentials)


def requires(permission: str) -> Callable[[Principal], Principal]:
    """A dependency: the caller, if its role has ``permission`` (403 otherwise)."""

    def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        who.require(permission)
        return who

    return check
