"""Choosing the records store from settings: SQLite by default, Elasticsearch when a URL is set."""

from __future__ import annotations

from search.settings import Settings
from search.storage.base import Store
from search.storage.elastic import ElasticsearchStore
from search.storage.sqlite import SQLiteStore


def open_store(settings: Settings) -> Store:
    """The configured records store."""
    if settings.es_url:
        return ElasticsearchStore(settings.es_url, settings.es_index_prefix, timeout=settings.es_timeout)
    return SQLiteStore(settings.store)
