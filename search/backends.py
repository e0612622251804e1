"""Choosing a storage backend from settings: SQLite by default, Elasticsearch when a URL is set."""

from __future__ import annotations

from search.access import AccessStore
from search.settings import Settings
from search.sqlite_store import SQLiteStore
from search.store import Store


def open_store(settings: Settings) -> Store:
    """The configured store. The Elasticsearch backend is imported only when asked for."""
    if settings.es_url:
        from search.es_store import ElasticsearchStore

        return ElasticsearchStore(settings.es_url, settings.es_index_prefix, timeout=settings.es_timeout)
    return SQLiteStore(settings.store)


def open_access(settings: Settings) -> AccessStore:
    """Keys and audit trail. Kept in the SQLite file (with Elasticsearch, in the file named by
    ``store`` beside the cluster: see the README's Security section)."""
    from search.sqlite_access import SQLiteAccess

    return SQLiteAccess(settings.store)
