"""The storage interface both backends implement: documents plus weighted keys.

Recall lives in the store, precision in Python. A store keeps each office's records (keyed by
office and record id) and their blocking keys, and answers one retrieval question: which records
share keys with these, ranked by the sum of the shared keys' weights? Ties are broken by document
id so both backends return the same candidates in the same order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from indexer.keys import profile_keys, weight
from indexer.records import EntityProfile, Record, record_profile
from search.storage.codec import compress, pack_postings
from search.storage.profiles import pack as pack_profile
from search.storage.profiles import unpack as unpack_profile

# One query's candidate question: its weighted keys and its entity type.
KeyQuery = tuple[dict[str, float], str]


def doc_id(office: str, record_id: str) -> str:
    """The document id of a record: ``office:record_id`` (the Elasticsearch ``_id`` too)."""
    return f"{office}:{record_id}"


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A record ready to store: its document as JSON, its keys, and a digest of the document to
    detect unchanged reloads; plus what the SQLite backend writes, the postings and the deflated
    document, computed here so that a load's worker processes do it rather than the one process
    writing the file (it was a fifth of that process's time, bench/realistic.py). Plain strings
    and bytes, so worker processes hand it back cheaply."""

    office: str
    record_id: str
    entity_type: str
    body: str
    digest: str
    key_text: str  # the keys, one per line
    postings: bytes  # codec.pack_postings of the keys
    packed: bytes  # codec.compress of the body
    profile: bytes  # profiles.pack of its profile: a query reads it instead of normalizing again
    extra: bytes = b""  # what the store's RecordHook computed for it (never stored)

    @property
    def id(self) -> str:
        return doc_id(self.office, self.record_id)

    @property
    def keys(self) -> dict[str, float]:
        return {k: weight(k) for k in self.key_text.split("\n") if k}

    @property
    def record(self) -> Record:
        return Record.from_dict(json.loads(self.body))


# json.dumps with these options builds an encoder on every call: one kept encoder writes the same
# text in 5.7 µs instead of 9.5 µs a record (a reload digests every row of every file).
_DOCUMENT = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


def document(record: Record) -> tuple[str, str]:
    """A record's stored document (JSON) and its content digest: cheap beside normalizing it,
    so a reload compares digests first and normalizes only what changed."""
    body = _DOCUMENT.encode(record.to_dict())
    return body, hashlib.sha1(body.encode("utf-8")).hexdigest()


class RecordHook(Protocol):
    """More work on each record while it is normalized, where its profile is at hand and in the
    load's worker processes (every core): the standing entries' verdicts on it
    (:mod:`search.watching.reverse`). Returns bytes the store reads back when the record reaches
    its ``upsert``. Pickled once per worker process."""

    def __call__(self, record: Record, profile: EntityProfile, postings: bytes) -> bytes: ...


def prepare(record: Record, hook: RecordHook | None = None) -> StoredRecord:
    """Normalize a record once: compute its keys, postings and content digest (and what ``hook``
    computes from them)."""
    body, digest = document(record)
    profile = record_profile(record)
    keys = profile_keys(profile)
    postings = pack_postings(keys)
    extra = hook(record, profile, postings) if hook is not None else b""
    return StoredRecord(
        record.office,
        record.record_id,
        record.entity_type,
        body,
        digest,
        "\n".join(keys),
        postings,
        compress(body),
        pack_profile(record, profile),
        extra,
    )


@dataclass(frozen=True, slots=True)
class Candidate:
    """A record id with the summed weight of the keys it shares with the query, and the record
    itself when the backend returned it with the hit (saving a second round trip), with the
    profile the load kept for it (saving its normalization)."""

    id: str
    weight: float
    record: Record | None = None
    kept: bytes | None = None  # the record's packed profile, when the backend keeps it

    @property
    def profile(self) -> EntityProfile | None:
        """The kept profile, read back on asking: the matcher asks only for records its cache
        does not hold (a fifth of them on the realistic million were held)."""
        return unpack_profile(self.kept, self.record) if self.kept and self.record is not None else None


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """Counts for one batch: new records, changed records, unchanged records (skipped), and the
    documents the backend refused, with its reason (reported like rejected rows)."""

    inserted: int
    updated: int
    unchanged: int
    failed: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Rekeyed:
    """What a rekey did (``suspects rekey``, either backend): records keyed again, from which keys
    version, in how long."""

    records: int
    was: int
    seconds: float


class Store(Protocol):
    """What the service needs from a storage backend."""

    @property
    def write_batch(self) -> int:
        """Records per write (one transaction / bulk request) that a load gathers before calling
        upsert; read at each use, since a backend may change it inside ``bulk()``."""
        ...

    @property
    def threaded_digests(self) -> bool:
        """May :meth:`digests` run on another thread while a load reads its file? (A network
        round trip is then hidden behind the reading; a SQLite connection is its thread's.)"""
        ...

    def upsert(self, records: Sequence[StoredRecord]) -> UpsertResult:
        """Insert or replace records by (office, record_id), in one transaction per batch."""
        ...

    def bulk(self) -> AbstractContextManager[None]:
        """A context for loading many records at once; backends may defer index upkeep to its end."""
        ...

    def withdraw(self, office: str, record_id: str) -> bool:
        """Remove one record and its keys; False if it was not there."""
        ...

    def digests(self, ids: Sequence[str]) -> dict[str, str]:
        """The content digests of the stored records among ``ids`` (where a load writes)."""
        ...

    def stored_postings(self, ids: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        """The entity type and packed postings of the stored records among ``ids``: what a write
        replaces or a withdrawal removes (search.watching.watched)."""
        ...

    def candidates(
        self,
        keys: dict[str, float],
        entity_type: str,
        offices: Sequence[str] | None,
        limit: int,
        records: bool = True,
    ) -> list[Candidate]:
        """Records of ``entity_type`` (in ``offices`` if given) sharing keys, best first, at most
        ``limit``. ``records=False``: only their ids and weights are wanted (a backend may still
        return the records; SQLite then skips decoding each document)."""
        ...

    def candidates_many(
        self, queries: Sequence[KeyQuery], offices: Sequence[str] | None, limit: int
    ) -> list[list[Candidate]]:
        """:meth:`candidates` for a batch, in one round trip where the backend can (Elasticsearch
        msearch); the same answers as asking one by one."""
        ...

    def reindex(self, load: Callable[[Store], None]) -> str:
        """Full reload with no downtime: ``load`` fills a new index that then replaces the live one.
        Returns the new index's name; raises InvalidInput where the backend cannot (SQLite)."""
        ...

    def rekey(self, workers: int, progress: Callable[[int], None] | None = None) -> Rekeyed:
        """Key every stored record again with this version's keys, from the stored documents
        (SQLite in place; Elasticsearch into a new index swapped in, as :meth:`reindex`)."""
        ...

    def get_many(self, ids: Iterable[str]) -> dict[str, Record]:
        """Records by document id (missing ids are left out)."""
        ...

    def fetch(self, ids: Iterable[str]) -> dict[str, Candidate]:
        """:meth:`get_many` with the profile the load kept for each record (weight 0): what the
        scorer needs without normalizing the record again."""
        ...

    def has_records(self) -> bool:
        """Does the store hold any record? (Cheap: the server asks it at start-up.)"""
        ...

    def keyed_with(self) -> int | None:
        """The keys version (:data:`indexer.keys.KEYS_VERSION`) the stored records were keyed
        with; None for a store without records."""
        ...

    def counts(self) -> dict[str, dict[str, int]]:
        """Record counts per office and entity type."""
        ...

    def ping(self) -> dict[str, object]:
        """Health details; raises StoreUnavailable when the store cannot answer."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class Hooked(Protocol):
    """A store that wants more work done on each record it is given, beside its normalization
    (the store that re-screens standing entries, :class:`search.watching.watched.WatchedStore`).
    A load asks once, inside the store's ``bulk()``; None: nothing to do this time."""

    def record_hook(self) -> RecordHook | None: ...
