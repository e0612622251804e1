"""The read path of the Elasticsearch backend on the async client, for the API's event loop.

The API answers ``/match`` and ``/readyz`` without tying up a thread per request while the cluster
works: candidates for a whole batch come from one ``msearch`` (the same body the sync backend
builds, see :func:`search.storage.elastic_bodies.msearch_body`), with hits carrying their documents. Loads and
reindexes stay on the sync client in :mod:`search.storage.elastic`. Created once in the API's lifespan and
closed on shutdown.
"""

from __future__ import annotations

from collections.abc import Sequence

from elasticsearch import NotFoundError

from search.storage.base import Candidate
from search.storage.elastic_bodies import candidates_from_msearch, health_details, msearch_body
from search.storage.elastic_client import make_async_client, unavailable


class AsyncCandidates:
    """Async candidate retrieval and health against the records alias."""

    def __init__(self, url: str, prefix: str = "suspects", timeout: float = 10.0) -> None:
        self.alias = f"{prefix}-records"
        self.es = make_async_client(url, timeout)

    async def candidates_many(
        self, queries: Sequence[tuple[dict[str, float], str]], offices: Sequence[str] | None, limit: int
    ) -> list[list[Candidate]]:
        if not queries:
            return []
        with unavailable():
            resp = await self.es.msearch(searches=msearch_body(self.alias, queries, offices, limit))
        return candidates_from_msearch(resp)

    async def ping(self) -> dict[str, object]:
        with unavailable():
            health = await self.es.cluster.health()
            try:
                targets = sorted((await self.es.indices.get_alias(name=self.alias)).body)
            except NotFoundError:
                targets = []
        return health_details(health, self.alias, targets)

    async def close(self) -> None:
        await self.es.close()
