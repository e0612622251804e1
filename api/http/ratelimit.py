"""The per-key rate limit: one token bucket per key id (``rate_limit_per_minute`` refill,
``rate_limit_burst`` capacity); an empty bucket is 429 with ``Retry-After``."""

from __future__ import annotations

import math
import threading
import time

from search.errors import RateLimited


class RateLimiter:
    """One token bucket per key id."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key_id: str) -> None:
        """Raise RateLimited if :meth:`take` would, without spending anything."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            wait = math.ceil((1.0 - tokens) / self.rate) if self.rate > 0 else 60
            raise RateLimited(f"rate limit: {self.rate * 60:.0f} queries per minute per key", retry_after=wait)

    def take(self, key_id: str, cost: float = 1.0) -> None:
        """Spend ``cost`` tokens or raise RateLimited with the seconds until there is one. Any
        request is admitted while a token is left and is charged in full, so a batch of 1,000
        queries leaves a debt that later requests wait out: a batch costs its queries."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < min(cost, 1.0):
                wait = math.ceil((1.0 - tokens) / self.rate) if self.rate > 0 else 60
                self._buckets[key_id] = (tokens, now)
                raise RateLimited(f"rate limit: {self.rate * 60:.0f} queries per minute per key", retry_after=wait)
            self._buckets[key_id] = (tokens - cost, now)
