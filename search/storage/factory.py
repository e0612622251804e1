"""Choosing the records store from settings: SQLite by default, Elasticsearch when a URL is set."""

from __future__ import annotations

from collections.abc import Callable

from indexer.keys import KEYS_VERSION
from search.errors import NoRecords, StaleKeys
from search.settings import Settings
from search.storage.base import Rekeyed, Store
from search.storage.sqlite import SQLiteStore
from search.storage.sqlite_conn import prefetch


def open_store(settings: Settings) -> Store:
    """The configured records store."""
    if settings.es_url:
        # Imported only for a cluster: the client library costs 0.4 s of start-up (-X importtime)
        # that SQLite users and every `--help` would pay (issue #15: commands start in < 0.5 s).
        from search.storage.elastic import ElasticsearchStore

        return ElasticsearchStore(settings.es_url, settings.es_index_prefix, timeout=settings.es_timeout)
    return SQLiteStore(settings.store)


def warm_store(settings: Settings) -> int:
    """Before a server answers: the embedded store's file read into the page cache in the
    background (:func:`~search.storage.sqlite_conn.prefetch`); a cluster keeps its own. The bytes
    asked for."""
    if settings.es_url or not settings.store.exists():
        return 0
    return prefetch(settings.store)


def open_records(settings: Settings) -> Store:
    """The configured store for reading, refusing one that does not exist or holds no records.

    A mistyped ``--store`` path, or running from another folder, used to create an empty store and
    answer "not seen by any partner office" with exit 0 (issue #15). Only ``load`` and ``demo``
    create a store; every reading command and the server open it through here."""
    if not settings.es_url and not settings.store.exists():
        raise NoRecords(f"no store at {settings.store}: load office files first (suspects load FILE...)")
    store = open_store(settings)
    try:
        # Not counts(): a GROUP BY over a million records took 7 s on a cold cache.
        empty = not store.has_records()
    except BaseException:
        store.close()
        raise
    where = f"index {settings.es_index_prefix}-records at {settings.es_url}" if settings.es_url else settings.store
    if empty:
        store.close()
        raise NoRecords(f"the store ({where}) holds no records: load office files first (suspects load FILE...)")
    keyed = store.keyed_with()
    if keyed is not None and keyed != KEYS_VERSION:
        store.close()
        raise StaleKeys(
            f"the records in the store ({where}) were keyed by keys version {keyed}, this version keys names "
            f"with version {KEYS_VERSION} and could miss them: run suspects rekey"
        )
    return store


def rekey_records(settings: Settings, progress: Callable[[int], None] | None = None) -> Rekeyed:
    """Key the stored records again with this version's keys, from the documents the store keeps:
    SQLite in place, keeping everything else the file holds (watchlists, alerts, API keys, audit);
    Elasticsearch into a new index swapped in behind the alias (no office file needed)."""
    if settings.es_url:
        store = open_store(settings)
    elif not settings.store.exists():
        raise NoRecords(f"no store at {settings.store}: load office files first (suspects load FILE...)")
    else:
        store = SQLiteStore(settings.store)
    try:
        return store.rekey(settings.workers, progress)
    finally:
        store.close()
