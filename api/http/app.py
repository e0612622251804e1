"""The application factory: it only wires. Routes live in one module per router, dependencies in
:mod:`api.http.deps`, shared objects in :class:`~api.http.state.State` (built in the lifespan)."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.http import admin, match, reconcile, screening, watching
from api.http.collector import install_collector
from api.http.docs import TAGS, DocumentedAPI, install_docs
from api.http.errors import install_error_handlers
from api.http.limits import install_limits
from api.http.metrics import Metrics, install_metrics
from api.http.models import ErrorResponse
from api.http.state import State
from api.web import pages, watch_pages
from indexer.records import warm_up
from search.access.buckets import BucketTable
from search.access.elastic import ElasticsearchAccess
from search.access.elastic_async import AsyncAccess
from search.access.factory import open_access
from search.access.store import purge_expired
from search.errors import StoreUnavailable
from search.screening.factory import open_jobs
from search.settings import Settings, get_settings
from search.storage.base import Store
from search.storage.elastic_async import AsyncCandidates
from search.storage.factory import open_store, warm_store

logger = logging.getLogger(__name__)

# Matching holds the GIL, so more request threads add memory (a SQLite connection and a malloc
# arena each), not throughput: bench/concurrency.py, 50 clients for 300 s.
REQUEST_THREADS = 8
ERRORS: dict[int | str, dict[str, Any]] = {
    c: {"model": ErrorResponse} for c in (400, 401, 403, 404, 413, 422, 429, 503)
}
STATIC = Path(pages.__file__).parent / "static"


def create_app(
    settings: Settings | None = None,
    store: Store | None = None,
    buckets: BucketTable | None = None,
    metrics_folder: Path | None = None,
) -> FastAPI:
    """Build the API. Tests pass their own settings (and may pass an open store); `suspects serve`
    passes the rate limits' table and the metrics' folder when its processes share them."""
    cfg = settings or get_settings()
    metrics = Metrics(metrics_folder)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
        await anyio.to_thread.run_sync(warm_up)
        await anyio.to_thread.run_sync(warm_store, cfg)
        # The name tables are ~500,000 objects that live as long as the process: out of the
        # collector's sight, a full collection takes 0.003 ms instead of 194 ms (measured after
        # warm_up), a pause every request in flight used to wait through (bench/abuse.py p99).
        gc.freeze()
        opened = store or open_store(cfg)
        access, jobs = open_access(cfg), open_jobs(cfg)
        async_es = (
            AsyncCandidates(cfg.es_url, cfg.es_index_prefix, cfg.es_timeout) if cfg.es_url and not store else None
        )
        async_access = (
            AsyncAccess(access, async_es.es)
            if async_es is not None and isinstance(access, ElasticsearchAccess)
            else None
        )
        state = app.state.suspects = State(cfg, opened, access, jobs, metrics, async_es, buckets, async_access)
        try:
            purge_expired(access, cfg.audit_retention_days)
        except StoreUnavailable as exc:  # retried at the next start; requests still get 503s
            logger.warning("audit purge skipped: %s", exc.message)
        try:
            logger.info("serving with %s", opened.ping())
        except StoreUnavailable as exc:  # serve anyway: /readyz says 503 until the store answers
            logger.warning("store not ready at start: %s", exc.message)
        state.runner.start()  # continues any job a previous server left unfinished
        if state.deliverer is not None:
            state.deliverer.start()  # sends what the outbox owes, including alerts of earlier loads
        try:
            yield
        finally:
            if state.deliverer is not None:
                state.deliverer.stop()
            state.close_watching()
            state.runner.stop()
            state.files.close()
            jobs.close()
            if store is None:
                opened.close()
            access.close()
            if async_es is not None:
                await async_es.close()

    app = DocumentedAPI(
        title="suspects",
        openapi_tags=TAGS,
        version="0.1.0",
        summary="Has any partner office seen this entity? Record linkage across the PPRD IP-enforcement offices.",
        lifespan=lifespan,
        responses=ERRORS,
        docs_url=None,  # served by install_docs from a vendored Swagger UI: no CDN
        redoc_url=None,
    )
    install_error_handlers(app)
    install_docs(app)
    install_limits(app, cfg)
    install_collector(app)
    install_metrics(app, metrics)  # outermost: counts the 413s of the limits too
    for router in (
        match.router,
        admin.router,
        screening.router,
        watching.router,
        watching.hooks_router,
        reconcile.router,
        reconcile.keyed_router,
    ):
        app.include_router(router)
    app.include_router(pages.router)
    app.include_router(watch_pages.router)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="static")
    app.add_api_route("/", lambda: RedirectResponse("/ui/search", status_code=303), include_in_schema=False)
    return app
