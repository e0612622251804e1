"""The Elasticsearch backend: the same documents and keys as SQLite, on a cluster.

Official client (``elasticsearch`` 8.x, the major of the 8.17 server in docker-compose.yml).
Documents are indexed with ``_id = office:record_id`` (idempotent reloads). The candidate query is a
``bool`` whose ``should`` clauses are ``constant_score`` ``term`` queries on ``keys``, each boosted by
its key's weight, so a document's score is the same sum of weights the SQLite backend computes;
ties are broken by ``doc_id`` as in SQLite.

Index lifecycle: versioned indexes (``<prefix>-records-v<schema>-<timestamp>``) behind the alias
``<prefix>-records``. :meth:`ElasticsearchStore.reindex` builds a new index (no replicas, no refresh
while loading), restores its settings, swaps the alias in one ``update_aliases`` call and deletes the
old index; a lock document prevents two reindexes at once. Plain loads upsert into the live index.
Every failure to reach the cluster becomes :class:`StoreUnavailable` (HTTP 503 + Retry-After).
"""

from __future__ import annotations

import json
import logging
import re
import time
from base64 import b64decode
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch, NotFoundError

from indexer.keys import KEYS_VERSION, profile_keys
from indexer.records import Record, record_profile
from search.errors import Busy, NoRecords, StoreUnavailable
from search.storage.base import Candidate, KeyQuery, Rekeyed, Store, StoredRecord, UpsertResult, doc_id
from search.storage.codec import pack_postings
from search.storage.elastic_bodies import (
    candidate_of,
    candidate_query,
    candidates_from_msearch,
    document_json,
    health_details,
    msearch_body,
    record_of,
)
from search.storage.elastic_client import load_mapping, make_client, unavailable
from search.storage.elastic_lock import ReindexLock
from search.storage.elastic_rekey import rekey

logger = logging.getLogger(__name__)

_DIGESTS = ["docs._id", "docs._source.digest"]

# 2: fields read only from _source are neither indexed nor given doc values (load 3.9k → ? rec/s).
SCHEMA_VERSION = 2
# Bulk chunk: 500 documents of ~1.2 KB with their keys is ~0.6 MB per request, well under the
# 100 MB http.max_content_length and in the 5-15 MB band Elastic recommends when raised to 5,000;
# 500 keeps a rejected chunk's retry cheap and the client's memory flat.
BULK_CHUNK = 500
_KEYED = re.compile(r"-records-v\d+-k(\d+)-")
NDJSON = {"accept": "application/json", "content-type": "application/x-ndjson"}


class ElasticsearchStore:
    """Records and keys in an Elasticsearch index behind an alias."""

    write_batch = 2000  # one mget of digests, then bulk requests of BULK_CHUNK
    threaded_digests = True  # the client is thread-safe; a load looks digests up while it reads on
    pause_refresh_from = 20_000  # records a bulk load writes before it pauses refresh (see bulk)

    def __init__(
        self,
        url: str | None = None,
        prefix: str = "suspects",
        client: Elasticsearch | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.prefix = prefix
        self.alias = f"{prefix}-records"
        self.lock_index = f"{prefix}-locks"
        self.es = client or make_client(url, timeout)
        self._lock = ReindexLock(self.es, self.lock_index)
        self._write_index: str | None = None  # set while a reindex loads into a new index
        self._alias_ready = False  # the alias is known to exist (it is never removed, only moved)
        self._bulk_written: int | None = None  # records a bulk load has written (None: not in one)
        self._paused: str | None = None  # the index whose refresh a bulk load has paused

    def _unavailable(self) -> AbstractContextManager[None]:
        return unavailable()

    def _target(self) -> str:
        return self._write_index or self.alias

    def new_index_name(self) -> str:
        # To the microsecond: two reindexes in one second (a reload, then a rekey, on a small
        # index) once asked for the same name and the second failed with
        # resource_already_exists_exception (CI of stop 46, tests/test_es_spec.py).
        now = time.time_ns() // 1000
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(now // 1_000_000)) + f"{now % 1_000_000:06d}"
        return f"{self.prefix}-records-v{SCHEMA_VERSION}-k{KEYS_VERSION}-{stamp}"

    def ensure_index(self) -> None:
        """Create a first versioned index behind the alias if the alias does not exist yet. The
        first index has a fixed name and gets its alias in the same request, so two loaders
        starting at once on an empty cluster make one index, never two behind one alias."""
        if self._alias_ready:
            return
        with self._unavailable():
            if not self.es.indices.exists_alias(name=self.alias):
                name = f"{self.prefix}-records-v{SCHEMA_VERSION}-k{KEYS_VERSION}-first"
                mapping = load_mapping("records")
                try:
                    self.es.indices.create(
                        index=name, settings=mapping["settings"], mappings=mapping["mappings"], aliases={self.alias: {}}
                    )
                    logger.info("created index %s behind alias %s", name, self.alias)
                except BadRequestError as exc:
                    if exc.error != "resource_already_exists_exception":
                        raise
        self._alias_ready = True

    def alias_target(self) -> list[str]:
        with self._unavailable():
            try:
                return sorted(self.es.indices.get_alias(name=self.alias).body)
            except NotFoundError:
                return []

    def digests(self, ids: Sequence[str]) -> dict[str, str]:
        if self._write_index is not None or not ids:
            return {}  # a reindex writes every record into a new, empty index
        with self._unavailable():
            # Only ids and digests in the answer (a missing record has no _source): a reload asks
            # for every row's, and the full answer is 2.5 times the bytes to write and read back.
            found = self.es.mget(index=self._target(), ids=list(ids), source_includes=["digest"], filter_path=_DIGESTS)
        return {doc["_id"]: doc["_source"]["digest"] for doc in found.get("docs", []) if "_source" in doc}

    def stored_postings(self, ids: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        """The index keeps no postings (its keys are excluded from ``_source``): they are the keys
        of the kept profile, computed again (a profile unpacks in a few µs; the keys follow)."""
        if self._write_index is not None or not ids:
            return {}
        with self._unavailable():
            found = self.es.mget(index=self._target(), ids=list(ids))
        out: dict[str, tuple[str, bytes]] = {}
        for doc in found["docs"]:
            if doc.get("found"):
                record, kept = record_of(doc["_source"]), doc["_source"].get("profile")
                prof = Candidate(doc["_id"], 0.0, record, b64decode(kept) if kept else None).profile
                prof = prof or record_profile(record)
                out[doc["_id"]] = (prof.entity_type, pack_postings(profile_keys(prof)))
        return out

    def upsert(self, records: Sequence[StoredRecord]) -> UpsertResult:
        if self._write_index is None:
            self.ensure_index()
            self._refuse_during_reindex()
        else:
            with self._unavailable():
                self._lock.beat()
        target = self._target()
        existing = self.digests([r.id for r in records])  # none while a reindex fills a new index
        todo = [r for r in records if existing.get(r.id) != r.digest]
        unchanged = len(records) - len(todo)
        failed: list[tuple[str, str]] = []
        self._count_written(target, len(todo))
        for start in range(0, len(todo), BULK_CHUNK):
            failed.extend(self._bulk_index(target, todo[start : start + BULK_CHUNK]))
        bad = {f[0] for f in failed}
        inserted = sum(1 for r in todo if r.id not in existing and r.id not in bad)
        updated = sum(1 for r in todo if r.id in existing and r.id not in bad)
        return UpsertResult(inserted, updated, unchanged, tuple(failed))

    def _bulk_index(self, index: str, items: Sequence[StoredRecord]) -> list[tuple[str, str]]:
        """Index one chunk with a hand-built NDJSON body; retry items refused with 429 (the node is
        busy) after 1, 2, 4 s; raise StoreUnavailable for items refused with a 5xx (a node died, a
        shard is moving: not the record's fault, and reloading the file stores it); return the
        items refused as malformed, with the reason, to be reported as rejected rows."""
        pending = list(items)
        failed: list[tuple[str, str]] = []
        for attempt in range(4):
            lines = []
            for item in pending:
                lines.append(json.dumps({"index": {"_index": index, "_id": item.id}}, ensure_ascii=False))
                lines.append(document_json(item))
            with self._unavailable():
                # The client's bulk() takes documents to serialize; the body here is text already.
                resp = self.es.perform_request(
                    "PUT", "/_bulk", headers=NDJSON, body="\n".join(lines) + "\n", endpoint_id="bulk"
                )
            busy: list[StoredRecord] = []
            for item, answer in zip(pending, resp["items"], strict=True):
                info = answer.get("index", {})
                status = int(info.get("status", 0))
                if status < 300:
                    continue
                if status == 429 and attempt < 3:
                    busy.append(item)
                elif status == 429 or status >= 500:
                    raise StoreUnavailable(f"Elasticsearch refused a bulk item: {status}")
                else:
                    error = info.get("error", {})
                    failed.append((item.id, str(error.get("reason", error) if isinstance(error, dict) else error)))
            if not busy:
                break
            pending = busy
            time.sleep(2**attempt)  # back off before retrying what the busy node refused
        return failed

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Bulk load into the live index (or the new index while a reindex fills it), refreshed
        after. Refresh pauses only once the load has written :attr:`pause_refresh_from` records:
        pausing and restoring it are two cluster-state updates (0.27 and 0.29 s on a local node
        busy with another load), paid by every file's load, while a 5 %-changed reload of an
        office file writes a few thousand records."""
        if self._write_index is None:
            self.ensure_index()
        index = self._write_index or self.alias
        self._bulk_written = 0
        try:
            yield
        finally:
            self._bulk_written = None
            with self._unavailable():
                if self._paused is not None:
                    self.es.indices.put_settings(index=self._paused, settings={"index": {"refresh_interval": "1s"}})
                    self._paused = None
                self.es.indices.refresh(index=index)

    def _count_written(self, index: str, n: int) -> None:
        """Pause refresh once a bulk load has written enough for it to matter."""
        if self._bulk_written is None or self._write_index is not None:
            return  # not in a bulk load, or a reindex's new index, which never refreshes until done
        self._bulk_written += n
        if self._paused is None and self._bulk_written >= self.pause_refresh_from:
            with self._unavailable():
                self.es.indices.put_settings(index=index, settings={"index": {"refresh_interval": "-1"}})
            self._paused = index

    def reindex(self, load: Callable[[Store], None]) -> str:
        """Full reload with no downtime: ``load`` fills a new index; the alias then moves to it in
        one atomic call and the old index is deleted. Raises Busy if another reindex holds the lock."""
        with self._unavailable():
            self._lock.acquire()
        try:
            mapping = load_mapping("records")
            name = self.new_index_name()
            settings = {**mapping["settings"], "number_of_replicas": 0, "refresh_interval": "-1"}
            with self._unavailable():
                self.es.indices.create(index=name, settings=settings, mappings=mapping["mappings"])
            self._write_index = name
            try:
                load(self)
            finally:
                self._write_index = None
            old = self.alias_target()
            with self._unavailable():
                restored = {k: mapping["settings"][k] for k in ("number_of_replicas", "refresh_interval")}
                self.es.indices.put_settings(index=name, settings={"index": restored})
                self.es.indices.refresh(index=name)
                actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": self.alias}} for i in old]
                actions.append({"add": {"index": name, "alias": self.alias}})
                self.es.indices.update_aliases(actions=actions)
                for i in old:
                    self.es.indices.delete(index=i)
            logger.info("reindexed into %s; alias %s moved from %s", name, self.alias, old)
            return name
        finally:
            with self._unavailable():
                self._lock.release()

    def rekey(self, workers: int, progress: Callable[[int], None] | None = None) -> Rekeyed:
        """Key every stored record again with this version's keys, from the documents the index
        keeps, into a new index swapped in with no downtime (:mod:`.elastic_rekey`)."""
        with self._unavailable():
            was = self.keyed_with()
            if was is None:
                raise NoRecords(f"the index {self.alias} holds no records: load office files first")
            return rekey(self.es, self.alias, self.reindex, was, workers, progress)

    def _refuse_during_reindex(self) -> None:
        """A write into the live index while another process fills a new one would be lost at the
        swap (a withdrawn record would come back): refused, one lookup of the lock per batch."""
        with self._unavailable():
            running = self._lock.held_by_another()
        if running:
            raise Busy("a reindex or rekey is filling a new index: write again when it has finished")

    def withdraw(self, office: str, record_id: str) -> bool:
        self._refuse_during_reindex()
        with self._unavailable():
            try:
                self.es.delete(index=self.alias, id=doc_id(office, record_id), refresh="wait_for")
            except NotFoundError:
                return False
        return True

    def candidates(
        self,
        keys: dict[str, float],
        entity_type: str,
        offices: Sequence[str] | None,
        limit: int,
        records: bool = True,
    ) -> list[Candidate]:
        if not keys:
            return []
        with self._unavailable():
            resp = self.es.search(index=self.alias, **candidate_query(keys, entity_type, offices, limit, records))
        hits = resp["hits"]["hits"]
        if not records:
            return [Candidate(h["_id"], float(h["_score"])) for h in hits]
        return [candidate_of(h) for h in hits]

    def candidates_many(
        self, queries: Sequence[KeyQuery], offices: Sequence[str] | None, limit: int
    ) -> list[list[Candidate]]:
        """Candidates for a batch of queries in one msearch round trip."""
        with self._unavailable():
            resp = self.es.msearch(searches=msearch_body(self.alias, queries, offices, limit))
        return candidates_from_msearch(resp)

    def get_many(self, ids: Iterable[str]) -> dict[str, Record]:
        return {d: c.record for d, c in self.fetch(ids).items() if c.record is not None}

    def fetch(self, ids: Iterable[str]) -> dict[str, Candidate]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        with self._unavailable():
            resp = self.es.mget(index=self.alias, ids=wanted)
        return {d["_id"]: candidate_of({**d, "_score": 0.0}) for d in resp["docs"] if d.get("found")}

    def has_records(self) -> bool:
        try:
            with self._unavailable():
                resp = self.es.search(index=self.alias, size=0, terminate_after=1, track_total_hits=True)
        except NotFoundError:
            return False  # no index yet
        return int(resp["hits"]["total"]["value"]) > 0

    def keyed_with(self) -> int | None:
        """From the live index's name (``…-records-v2-k2-…``); an index named before the keys
        version was recorded (``…-records-v2-…``) holds version 1."""
        if not self.has_records():
            return None
        versions = {int(m.group(1)) if (m := _KEYED.search(name)) else 1 for name in self.alias_target()}
        return min(versions) if versions else None

    def counts(self) -> dict[str, dict[str, int]]:
        body: dict[str, Any] = {
            "size": 0,
            "aggs": {
                "office": {
                    "terms": {"field": "office", "size": 50},
                    "aggs": {"entity_type": {"terms": {"field": "entity_type", "size": 5}}},
                }
            },
        }
        try:
            with self._unavailable():
                resp = self.es.search(index=self.alias, **body)
        except NotFoundError:
            return {}  # no index yet: a store nothing was loaded into holds no records
        out: dict[str, dict[str, int]] = {}
        for bucket in resp["aggregations"]["office"]["buckets"]:
            out[bucket["key"]] = {b["key"]: int(b["doc_count"]) for b in bucket["entity_type"]["buckets"]}
        return out

    def ping(self) -> dict[str, object]:
        with self._unavailable():
            health = self.es.cluster.health()
        return health_details(health, self.alias, self.alias_target())

    def close(self) -> None:
        self.es.close()
