"""Prometheus metrics at ``/metrics`` and one structured access-log line per request.

Each app gets its own registry (tests build several apps in one process). Routes are labelled by
their template (``/records/{office}/{record_id}``), never the raw path, so a scan of random URLs
cannot blow up the label count; unmatched paths share the label ``unmatched``. ``/metrics`` needs no
key, like the health checks: it exposes counts and timings, never names or records.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("api.access")

# Latency buckets around the targets: single /match p50 ≤ 5 ms, p99 ≤ 25 ms; batches take longer.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


# prometheus_client leaves this constructor unannotated; it registers a collector that sums the
# values every process wrote under ``path`` into the registry it is given.
_collect_shared = cast(Callable[[CollectorRegistry, str], None], MultiProcessCollector)


class Metrics:
    """The service's counters and histograms, in one registry. With ``shared`` (a folder made by
    :func:`search.settings.share_metrics`), ``/metrics`` sums the values every request process of
    the server wrote there, not only those of the process that answers."""

    def __init__(self, shared: Path | None = None) -> None:
        self.shared = shared
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "suspects_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "suspects_http_request_duration_seconds",
            "Time to the response headers, per route",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.verdicts = Counter(
            "suspects_match_queries",
            "Queries answered, by verdict (seen / not_seen)",
            ["verdict"],
            registry=self.registry,
        )
        self.load_rows = Counter(
            "suspects_load_rows",
            "Rows of office uploads, by outcome (stored / rejected)",
            ["outcome"],
            registry=self.registry,
        )
        self.screening_rows = Counter(
            "suspects_screening_rows", "Watchlist rows submitted as screening jobs", registry=self.registry
        )

    def exposition(self) -> bytes:
        """The text ``/metrics`` answers."""
        if self.shared is None:
            return generate_latest(self.registry)
        summed = CollectorRegistry()
        _collect_shared(summed, str(self.shared))
        return generate_latest(summed)

    def verdict(self, seen: int, total: int) -> None:
        if seen:
            self.verdicts.labels("seen").inc(seen)
        if total - seen:
            self.verdicts.labels("not_seen").inc(total - seen)

    def loaded(self, stored: int, rejected: int) -> None:
        self.load_rows.labels("stored").inc(stored)
        self.load_rows.labels("rejected").inc(rejected)


# The only method labels: any other method string is answered 405 before it can become a label
# (issue #18: 3,000 junk methods grew /metrics to 62 MB).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class MeasureRequests:
    """Counts and times every request, plain ASGI (see :class:`api.http.limits.BodyLimits`). The
    route template is read from the scope, where the router leaves it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        metrics = self.metrics
        if method not in KNOWN_METHODS:
            metrics.requests.labels("other", "unmatched", "405").inc()
            body = {"error": {"code": "method_not_allowed", "message": "Method Not Allowed"}}
            await JSONResponse(body, status_code=405)(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - t0
            route = getattr(scope.get("route"), "path", None)
            if route is None:  # mounted static files have no route; anything else is a miss
                route = "/ui/static" if scope["path"].startswith("/ui/static/") else "unmatched"
            metrics.requests.labels(method, route, str(status)).inc()
            metrics.latency.labels(method, route).observe(elapsed)
            access_log.info(
                "%s %s %d %.1fms",
                method,
                route,
                status,
                elapsed * 1000,
                extra={"http": {"method": method, "route": route, "status": status, "ms": round(elapsed * 1000, 2)}},
            )


def install_metrics(app: FastAPI, metrics: Metrics) -> None:
    """Count and time every request; serve ``GET /metrics``."""
    app.add_middleware(MeasureRequests, metrics=metrics)

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
