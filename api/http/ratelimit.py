"""The per-key rate limit: one token bucket per key id (``rate_limit_per_minute`` refill,
``rate_limit_burst`` capacity); an empty bucket is 429 with ``Retry-After``. The buckets live in
the server's :class:`~search.access.buckets.BucketTable`, shared by all its processes."""

from __future__ import annotations

from search.access.buckets import BucketTable, Rate


class RateLimiter:
    """One token bucket per key id."""

    def __init__(self, per_minute: int, burst: int, table: BucketTable | None = None) -> None:
        self.rate = Rate(per_minute, burst, f"rate limit: {per_minute} queries per minute per key")
        self.table = table if table is not None else BucketTable()

    def check(self, key_id: str) -> None:
        """Raise RateLimited if :meth:`take` would, without spending anything."""
        self.rate.check(self.table, f"rate:{key_id}")

    def take(self, key_id: str, cost: float = 1.0) -> None:
        """Spend ``cost`` tokens or raise RateLimited with the seconds until there is one. Any
        request is admitted while a token is left and is charged in full, so a batch of 1,000
        queries leaves a debt that later requests wait out: a batch costs its queries."""
        self.rate.take(self.table, f"rate:{key_id}", cost)
