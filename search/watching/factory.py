"""Opening the watch features of the configured backend, and the records store writers use."""

from __future__ import annotations

from search.errors import InvalidInput
from search.matching.matcher import Matcher
from search.settings import Settings
from search.storage.base import Store
from search.storage.factory import open_store
from search.watching.screen import Watcher
from search.watching.service import Watching
from search.watching.sqlite import SQLiteWatch
from search.watching.store import WatchStore
from search.watching.watched import WatchedStore

NOT_ON_ELASTICSEARCH = "standing watchlists are kept in the SQLite backend only for now (issue #16)"


def open_watching(settings: Settings, records: Store) -> Watching | None:
    """The watch tables beside ``records`` (the same backend) and a watcher matching against them."""
    store: WatchStore
    if settings.es_url:
        # Imported only for a cluster: the client library costs 0.4 s of start-up (-X importtime)
        # that SQLite users and every `--help` would pay (issue #15: commands start in < 0.5 s).
        from search.watching.elastic import ElasticsearchWatch

        store = ElasticsearchWatch(settings.es_url, settings.es_index_prefix, timeout=settings.es_timeout)
    else:
        store = SQLiteWatch(settings.store)
    matcher = Matcher(records, settings.candidates, settings.max_name_length)
    return Watching(store, Watcher(store, matcher, settings.max_name_length))


def require_watching(watching: Watching | None) -> Watching:
    """The watch features, or the one error saying this backend has none."""
    if watching is None:
        raise InvalidInput(NOT_ON_ELASTICSEARCH, field="es_url")
    return watching


def watched(records: Store, watching: Watching | None) -> Store:
    """``records``, re-screening the standing entries after every write when there are any."""
    return records if watching is None else WatchedStore(records, watching)


def open_writable(settings: Settings) -> Store:
    """The records store for a writer (load, upload, withdraw, demo): every write re-screens."""
    records = open_store(settings)
    return watched(records, open_watching(settings, records))
