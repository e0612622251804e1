"""Keying an Elasticsearch index again from its own documents (``suspects rekey``).

A new keys version (7 on 5 Dec: Wade-Giles *szu* read as *ssu*) left an Elasticsearch user one way
on: loading every office's files again (``suspects reindex FILE...``), files a joint service does not
hold for its partners. The index keeps every record's document, so this version can key the records
again from it, as SQLite's rekey does (:mod:`.sqlite_rekey`).

The documents are read from the live index in ``doc_id`` order (``search_after`` on the field's doc
values; the scroll and point-in-time APIs are not in the specification subset the backend is held
to), normalized by the load's own :func:`~search.storage.base.prepare` in worker processes, and
written into a new index by :meth:`ElasticsearchStore.reindex`, which swaps the alias in one call:
readers go on with the old keys until then. A record loaded into the live index by another process
while the rekey runs is not in the new index (as with a reindex from files): rekey between loads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from elasticsearch import Elasticsearch

from indexer.keys import KEYS_VERSION
from search.errors import StoreUnavailable
from search.storage.base import Rekeyed, Store, StoredRecord, prepare
from search.storage.elastic_bodies import record_of
from search.workers import in_order

logger = logging.getLogger(__name__)


def documents(es: Elasticsearch, index: str, batch: int) -> Iterator[list[dict[str, Any]]]:
    """Every document of ``index`` (its kept profile left out: the rekey makes it anew), in
    ``doc_id`` order, ``batch`` at a time."""
    after: list[Any] | None = None
    while True:
        extra: dict[str, Any] = {"search_after": after} if after is not None else {}
        resp = es.search(
            index=index,
            size=batch,
            sort=[{"doc_id": "asc"}],
            source_excludes=["profile"],
            track_total_hits=False,
            **extra,
        )
        hits = resp["hits"]["hits"]
        if not hits:
            return
        after = list(hits[-1]["sort"])
        yield [hit["_source"] for hit in hits]


def prepare_chunk(sources: list[dict[str, Any]]) -> list[StoredRecord]:
    """In a worker: each stored document as this version keys it."""
    return [prepare(record_of(source)) for source in sources]


def rekey(
    es: Elasticsearch,
    alias: str,
    reindex: Callable[[Callable[[Store], None]], str],
    was: int,
    workers: int,
    progress: Callable[[int], None] | None = None,
    batch: int = 2000,
) -> Rekeyed:
    """Key every record behind ``alias`` again with this version's keys, into a new index that
    ``reindex`` fills and swaps in."""
    t0 = time.perf_counter()
    done = 0

    def fill(target: Store) -> None:
        def write(prepared: list[StoredRecord]) -> None:
            nonlocal done
            result = target.upsert(prepared)
            if result.failed:
                # The documents were stored once: the same mapping cannot refuse them now unless
                # the cluster does, and a rekey that drops records is worse than none.
                raise StoreUnavailable(
                    f"the new index refused {len(result.failed)} stored records: {result.failed[:3]}"
                )
            done += len(prepared)
            if progress is not None:
                progress(done)

        chunks = documents(es, alias, batch)
        if workers > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                for prepared in in_order(pool, prepare_chunk, chunks, workers * 2):
                    write(prepared)
        else:
            for chunk in chunks:
                write(prepare_chunk(chunk))

    name = reindex(fill)
    out = Rekeyed(done, was, time.perf_counter() - t0)
    logger.info(
        "keyed %d records again into %s (keys version %d → %d) in %.1f s", done, name, was, KEYS_VERSION, out.seconds
    )
    return out
