"""The two requests every ``/match`` makes to the access indexes, on the async client: the caller's
key (revocation and expiry are read on every request) and the audit entry.

On the sync client each ran in the thread pool, a hop each way and a turn at the GIL among the
request threads; here they are awaited on the event loop like the candidates' msearch
(:mod:`search.storage.elastic_async`, whose client they share). The realistic 100k workload on one
local node, three rounds alternated with the thread-pool version after a warm-up (5 Dec, night):
single queries 13.77 / 14.42 / 13.74 ms of server CPU against 15.60 / 16.17 / 15.59 (p50 19.6 /
19.5 / 18.2 ms against 20.9 / 21.2 / 20.8); 8 connections 78 / 75 / 77 queries/s against 62 / 62
/ 63.

The documents are the sync store's (:class:`~search.access.elastic.ElasticsearchAccess`), which
also creates the indexes: a create on a missing audit index would otherwise make one without its
strict mapping.
"""

from __future__ import annotations

import asyncio
import contextlib

from elasticsearch import AsyncElasticsearch, ConflictError, NotFoundError

from search.access.elastic import ElasticsearchAccess
from search.access.store import ApiKey, AuditEvent
from search.storage.elastic_client import unavailable


class AsyncAccess:
    """Key reads and audit writes of :class:`ElasticsearchAccess`, awaited."""

    def __init__(self, access: ElasticsearchAccess, es: AsyncElasticsearch) -> None:
        self.access = access
        self.es = es

    async def _ready(self) -> None:
        if not self.access.ready:  # once per process: the indexes' mappings checked or created
            await asyncio.to_thread(self.access.ensure)

    async def get_key(self, key_id: str) -> ApiKey | None:
        await self._ready()
        with unavailable():
            try:
                src = (await self.es.get(index=self.access.keys_index, id=key_id))["_source"]
            except NotFoundError:
                return None
        return ApiKey(**src)

    async def record(self, event: AuditEvent) -> None:
        """As :meth:`ElasticsearchAccess.record`: created once under a fresh id, no refresh wait."""
        await self._ready()
        doc_id, doc = self.access.audit_document(event)
        with unavailable(), contextlib.suppress(ConflictError):
            await self.es.create(index=self.access.audit_index, id=doc_id, document=doc)
