"""What every route shares, typed: settings, the stores, the matcher, the screening runner, the
watch features and their webhook worker, the key verifier, the rate limiter and the metrics. Built once in the app's lifespan."""

from __future__ import annotations

from typing import Any

import anyio

from api.http.metrics import Metrics
from api.http.ratelimit import RateLimiter
from search.access.buckets import BucketTable
from search.access.elastic_async import AsyncAccess
from search.access.keys import KeyVerifier, Principal
from search.access.store import AccessStore, AuditEvent
from search.matching.matcher import Matcher
from search.screening.jobs import JobStore
from search.screening.runner import Runner
from search.settings import Settings
from search.storage.base import Store
from search.storage.elastic_async import AsyncCandidates
from search.uploads import FileWorker
from search.watching.factory import open_watching, require_watching, watched
from search.watching.service import Watching
from search.watching.webhooks import Deliverer


class State:
    """The service's shared objects for one app."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        access: AccessStore,
        jobs: JobStore,
        metrics: Metrics,
        async_es: AsyncCandidates | None = None,
        buckets: BucketTable | None = None,
        async_access: AsyncAccess | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        # Writes through the server (a withdrawal) re-screen the standing entries like any load.
        self._watching = open_watching(settings, store)
        self.store = watched(store, self._watching)
        self.matcher = Matcher(store, settings.candidates, settings.max_name_length)
        self.access = access
        self.jobs = jobs
        self.runner = Runner(jobs, settings, self.matcher, access)
        # One bucket table for both limits: shared by every process of the server (serve_processes).
        buckets = buckets if buckets is not None else BucketTable()
        self.verifier = KeyVerifier(access, settings.auth_failures_per_minute, buckets)
        self.limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst, buckets)
        self.async_es = async_es  # the async read path, with Elasticsearch
        self.async_access = async_access  # and its key reads and audit writes
        self.files = FileWorker(settings)  # reads uploads in a child process
        self.deliverer: Deliverer | None = None
        if self._watching is not None:
            self.deliverer = Deliverer(
                self._watching.store,
                settings.webhook_timeout,
                settings.webhook_max_attempts,
                settings.webhook_backoff_seconds,
                settings.webhook_backoff_cap_seconds,
                settings.webhook_poll_seconds,
            )
            self._watching.watcher.on_alert = self.deliverer.wake

    def close_watching(self) -> None:
        if self._watching is not None:
            self._watching.store.close()

    @property
    def watching_or_none(self) -> Watching | None:
        return self._watching

    @property
    def watching(self) -> Watching:
        """The watch features, or the error saying this backend has none yet."""
        return require_watching(self._watching)

    def audit(self, who: Principal, action: str, terms: list[str], detail: dict[str, Any]) -> None:
        """Record one action of one caller in the append-only audit trail."""
        self.access.record(AuditEvent(action, who.key_id, who.office, who.role, who.client, terms, detail))

    async def audit_awaited(self, who: Principal, action: str, terms: list[str], detail: dict[str, Any]) -> None:
        """:meth:`audit` from the event loop: awaited on the async client with Elasticsearch."""
        event = AuditEvent(action, who.key_id, who.office, who.role, who.client, terms, detail)
        if self.async_access is not None:
            await self.async_access.record(event)
        else:
            await anyio.to_thread.run_sync(self.access.record, event)
