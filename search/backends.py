"""Choosing a storage backend from settings: SQLite by default, Elasticsearch when a URL is set."""

from __future__ import annotations

from search.access import AccessStore
from search.jobs import JobStore
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
    """Keys and audit trail, in the same backend as the records."""
    if settings.es_url:
        from search.es_access import ElasticsearchAccess

        return ElasticsearchAccess(settings.es_url, settings.es_index_prefix, timeout=settings.es_timeout)
    from search.sqlite_access import SQLiteAccess

    return SQLiteAccess(settings.store)


def open_jobs(settings: Settings) -> JobStore:
    """Screening jobs, in the same backend as the records."""
    if settings.es_url:
        from search.es_jobs import ElasticsearchJobs

        return ElasticsearchJobs(settings.es_url, settings.es_index_prefix, timeout=settings.es_timeout)
    from search.sqlite_jobs import SQLiteJobs

    return SQLiteJobs(settings.store)
