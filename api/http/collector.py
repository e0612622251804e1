"""Garbage collection paced by requests, so that no request waits through a full collection.

The server's caches (candidate profiles, name forms, name agreements) fill with hundreds of
thousands of small objects while it serves. Python's full collection scans every one of them: on
1 M records, 3,300 single queries met 11 full collections of 160 ms (median) to 265 ms, and each
stalls every request in flight (the realistic benchmark's p99). Every ``every`` requests this
collects the young generations (about 2 ms) and then freezes what survived: the cache entries that
stay are moved out of the collector's sight, so later full collections scan only what is new
(measured on the same queries: 3 full collections of at most 29 ms; in-process p99 47.9 → 16.5 ms).

Frozen objects are still freed when their last reference goes, as cache entries are; only a
reference cycle that becomes garbage after it was frozen is never reclaimed. Requests in flight at
a freeze are the only such cycles seen, a few kilobytes per freeze (server RSS in the README).
"""

from __future__ import annotations

import gc

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

EVERY = 200  # requests between two collect-and-freeze steps


class CollectYoung:
    """Plain ASGI (see :class:`api.http.limits.BodyLimits`): after every ``every`` HTTP requests,
    collect the young generations and freeze the survivors."""

    def __init__(self, app: ASGIApp, every: int = EVERY) -> None:
        self.app = app
        self.every = every
        self.seen = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http":
                self.seen += 1  # on the event loop's one thread: no lock needed
                if self.seen % self.every == 0:
                    gc.collect(1)
                    gc.freeze()


def install_collector(app: FastAPI) -> None:
    """Pace garbage collection by requests (see the module's docstring)."""
    app.add_middleware(CollectYoung)
