"""A records store that re-screens the standing entries on every write.

Every writer opens the store through :func:`search.watching.factory.open_writable`, so a CLI load,
an HTTP upload (in the file worker's process), the demo and a withdrawal all pass here: after the
backend commits a batch, the batch is screened in reverse (:meth:`Watcher.records_written`). A
reindex rewrites every record into a new index that is not live until it replaces the old one, so
the entries are screened forward once it has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager

from indexer.records import Record
from search.storage.base import Candidate, KeyQuery, Store, StoredRecord, UpsertResult, doc_id
from search.watching.service import Watching


class WatchedStore:
    """:class:`~search.storage.base.Store` by delegation, screening what it writes."""

    def __init__(self, inner: Store, watching: Watching) -> None:
        self.inner = inner
        self.watching = watching
        self.write_batch = inner.write_batch

    def upsert(self, records: Sequence[StoredRecord]) -> UpsertResult:
        result = self.inner.upsert(records)
        refused = {doc for doc, _ in result.failed}
        self.watching.watcher.records_written([r for r in records if r.id not in refused])
        return result

    def bulk(self) -> AbstractContextManager[None]:
        return self.inner.bulk()

    def withdraw(self, office: str, record_id: str) -> bool:
        gone = self.inner.withdraw(office, record_id)
        if gone:
            self.watching.watcher.withdrawn(doc_id(office, record_id))
        return gone

    def digests(self, ids: Sequence[str]) -> dict[str, str]:
        return self.inner.digests(ids)

    def candidates(
        self, keys: dict[str, float], entity_type: str, offices: Sequence[str] | None, limit: int
    ) -> list[Candidate]:
        return self.inner.candidates(keys, entity_type, offices, limit)

    def candidates_many(
        self, queries: Sequence[KeyQuery], offices: Sequence[str] | None, limit: int
    ) -> list[list[Candidate]]:
        return self.inner.candidates_many(queries, offices, limit)

    def reindex(self, load: Callable[[Store], None]) -> str:
        name = self.inner.reindex(load)
        self.watching.rescreen()
        return name

    def get_many(self, ids: Iterable[str]) -> dict[str, Record]:
        return self.inner.get_many(ids)

    def has_records(self) -> bool:
        return self.inner.has_records()

    def counts(self) -> dict[str, dict[str, int]]:
        return self.inner.counts()

    def ping(self) -> dict[str, object]:
        return self.inner.ping()

    def close(self) -> None:
        self.inner.close()
        self.watching.store.close()
