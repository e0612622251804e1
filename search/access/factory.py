"""Opening the keys-and-audit store of the configured backend."""

from __future__ import annotations

from search.access.sqlite import SQLiteAccess
from search.access.store import AccessStore
from search.settings import Settings


def open_access(settings: Settings) -> AccessStore:
    """Keys and audit trail, in the same backend as the records."""
    if settings.es_url:
        # Imported only for a cluster: the client library costs 0.4 s of start-up (-X importtime)
        # that SQLite users and every `--help` would pay (issue #15: commands start in < 0.5 s).
        from search.access.elastic import ElasticsearchAccess

        return ElasticsearchAccess(settings.es_url, settings.es_index_prefix, timeout=settings.es_timeout)
    return SQLiteAccess(settings.store)
