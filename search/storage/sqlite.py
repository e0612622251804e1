"""The embedded backend: one SQLite file (stdlib ``sqlite3``, WAL), zero set-up.

Tables: ``records`` (one row per office record: the document, compressed; a content digest; the
hashes of its keys; the profile the load made, ``profiles.py``) and ``postings`` (key hash, record rowid, weight), a ``WITHOUT ROWID`` table
whose primary key is the lookup index (``codec.py`` says why and how). Candidate retrieval
is the same weighted key lookup the Elasticsearch backend runs: sum the weights of the shared
keys, best first, ties by document id.

A small pool of connections, each used by one thread at a time; writers take a
``BEGIN IMMEDIATE`` transaction per batch, so a reader never sees half a batch and two loaders
queue rather than corrupt each other.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pydantic_core

from indexer.keys import KEYS_VERSION
from indexer.records import Record
from search.errors import InvalidInput, StoreUnavailable
from search.storage.base import Candidate, KeyQuery, Rekeyed, Store, StoredRecord, UpsertResult, doc_id, prepare
from search.storage.codec import decompress, key_hash, unpack_postings
from search.storage.sqlite_conn import connect, schema_version
from search.storage.sqlite_load import STAGING, finish_staged, is_staging, load_lock
from search.storage.sqlite_rekey import rekey

logger = logging.getLogger(__name__)

# 2: key hashes in a WITHOUT ROWID postings table, compressed documents (issue #17).
SCHEMA_VERSION = 2

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    rid INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL UNIQUE,
    office TEXT NOT NULL,
    record_id TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    digest TEXT NOT NULL,
    postings BLOB NOT NULL,
    body BLOB NOT NULL,
    profile BLOB
);
CREATE INDEX IF NOT EXISTS records_office ON records (office, entity_type);
CREATE TABLE IF NOT EXISTS postings (
    h INTEGER NOT NULL, rid INTEGER NOT NULL, w INTEGER NOT NULL, PRIMARY KEY (h, rid)
) WITHOUT ROWID;
"""


class StaleStore(StoreUnavailable):
    """A store file written by another version of the schema."""


class SQLiteStore:
    """Records and keys in one SQLite file."""

    # A transaction writes every B-tree page its postings land on: 2,000 records a batch into a million
    # wrote ~100 MB a batch (an 82,000-row file 56 s vs 17 s bulk, bench/realistic.py); 20,000 a batch
    # into a store with records touch them ten times less often. A bulk load into an empty one appends.
    write_batch = 2000
    threaded_digests = False  # a local read, and a pooled connection stays on its thread

    def __init__(self, path: Path | str, pool_size: int = 4) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # A small pool, not a connection per thread: 40 API threads' page caches cost more memory
        # than the GIL-bound matcher can use (bench/load.py).
        self._idle: list[sqlite3.Connection] = []
        self._slots = threading.BoundedSemaphore(pool_size)
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        with self._connection() as conn:
            version = schema_version(conn)
            if version is not None and version != SCHEMA_VERSION:
                raise StaleStore(
                    f"the store {self.path} was written by schema version {version}, this version reads "
                    f"{SCHEMA_VERSION}: load the office files into a new --store file"
                )
            conn.executescript(_TABLES)
            if not any(c[1] == "profile" for c in conn.execute("PRAGMA table_info(records)")):
                conn.execute("ALTER TABLE records ADD COLUMN profile BLOB")  # keys v4: rekey fills it
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            if not conn.execute("SELECT EXISTS (SELECT 1 FROM records)").fetchone()[0]:
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('keys_version', ?)", (str(KEYS_VERSION),))

    def _open(self) -> sqlite3.Connection:
        conn = connect(self.path, cache_mb=16)
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """Borrow a pooled connection (at most ``pool_size`` at once; others wait)."""
        self._slots.acquire()
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = self._open()
            try:
                yield conn
            finally:
                with self._lock:
                    self._idle.append(conn)
        finally:
            self._slots.release()

    def upsert(self, records: Sequence[StoredRecord]) -> UpsertResult:
        with self._connection() as conn:
            return self._upsert(conn, records)

    def _upsert(self, conn: sqlite3.Connection, records: Sequence[StoredRecord]) -> UpsertResult:
        inserted = updated = unchanged = 0
        staging = is_staging(conn)
        conn.execute("BEGIN IMMEDIATE")
        try:
            existing: dict[str, tuple[int, str, bytes]] = {}
            ids = [r.id for r in records]
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                q = f"SELECT doc_id, rid, digest, postings FROM records WHERE doc_id IN ({','.join('?' * len(chunk))})"
                existing.update((d, (rid, dig, hs)) for d, rid, dig, hs in conn.execute(q, chunk))
            new_rows = []
            gone: list[tuple[int, int]] = []
            retired: list[tuple[int]] = []
            rows: list[tuple[int, int, int]] = []
            for item in records:
                row = existing.get(item.id)
                if row is None:
                    new_rows.append(item)
                    continue
                if row[1] == item.digest:
                    unchanged += 1
                    continue
                updated += 1
                rid = row[0]
                if staging:
                    # Staged postings have no index to delete from: the changed record takes a
                    # new rid, and the move into place leaves the retired rid's postings behind.
                    retired.append((rid,))
                    new_rows.append(item)
                    continue
                conn.execute(
                    "UPDATE records SET entity_type = ?, digest = ?, postings = ?, body = ?, profile = ? WHERE rid = ?",
                    (item.entity_type, item.digest, item.postings, item.packed, item.profile, rid),
                )
                if row[2] != item.postings:  # only the postings that differ: most edits keep the names
                    before, after = set(unpack_postings(row[2])), set(unpack_postings(item.postings))
                    gone.extend((h, rid) for h, _ in before - after)
                    rows.extend((h, rid, w) for h, w in after - before)
            conn.executemany("DELETE FROM postings WHERE h = ? AND rid = ?", sorted(gone))
            if retired:  # postings_retired exists only while a bulk load stages
                conn.executemany("INSERT OR IGNORE INTO postings_retired VALUES (?)", retired)
                conn.executemany("DELETE FROM records WHERE rid = ?", retired)
            if new_rows:
                # Never a retired rid again: its staged postings are left behind at the move.
                sql = "SELECT COALESCE((SELECT MAX(rid) FROM records), 0) + 1"
                if staging:
                    sql = "SELECT MAX(COALESCE((SELECT MAX(rid) FROM records), 0), COALESCE((SELECT MAX(rid) FROM postings_retired), 0)) + 1"
                first = conn.execute(sql).fetchone()[0]
                values = []
                for i, r in enumerate(new_rows):
                    rows.extend((h, first + i, w) for h, w in unpack_postings(r.postings))
                    values.append(
                        (first + i, r.id, r.office, r.record_id, r.entity_type, r.digest, r.postings, r.packed,
                         r.profile)
                    )  # fmt: skip
                conn.executemany("INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?)", values)
                inserted = len(new_rows) - len(retired)
            # In key order: neighbouring inserts land on the same B-tree pages.
            target = "postings_load" if staging else "postings"
            conn.executemany(f"INSERT INTO {target} VALUES (?, ?, ?)", sorted(rows))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return UpsertResult(inserted, updated, unchanged)

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Into an empty store, stage the postings and sort them into place once at the end: the
        records become findable when the load finishes. Into a store that already holds records,
        an ordinary load (every batch findable once committed).

        One load at a time per store file: a second one fails at once with Busy (exit code 2 /
        HTTP 409) rather than interleaving its batches. The lock is an advisory file lock, so
        the operating system releases it when a load is killed."""
        with load_lock(self.path), self._bulk():
            yield

    @contextmanager
    def _bulk(self) -> Iterator[None]:
        with self._connection() as conn:
            finish_staged(conn)  # a killed bulk load's postings first
            empty = conn.execute("SELECT NOT EXISTS (SELECT 1 FROM records)").fetchone()[0]
            if empty:
                conn.executescript(STAGING)
        self.write_batch = 2000 if empty else 20_000
        try:
            yield
        finally:
            self.write_batch = 2000
            if empty:
                with self._connection() as conn:
                    finish_staged(conn)

    def _by_id(self, columns: str, ids: Sequence[str]) -> list[tuple[str, str, bytes]]:  # doc_id, a text, a blob
        out: list[tuple[str, str, bytes]] = []
        with self._connection() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                q = f"SELECT doc_id, {columns} FROM records WHERE doc_id IN ({','.join('?' * len(chunk))})"
                out.extend(conn.execute(q, chunk).fetchall())
        return out

    def digests(self, ids: Sequence[str]) -> dict[str, str]:
        return {d: digest for d, digest, _ in self._by_id("digest, X''", ids)}

    def stored_postings(self, ids: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        return {d: (etype, postings) for d, etype, postings in self._by_id("entity_type, postings", ids)}

    def withdraw(self, office: str, record_id: str) -> bool:
        with self._connection() as conn:
            return self._withdraw(conn, office, record_id)

    def _withdraw(self, conn: sqlite3.Connection, office: str, record_id: str) -> bool:
        staging = is_staging(conn)
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                "SELECT rid, postings FROM records WHERE doc_id = ?", (doc_id(office, record_id),)
            ).fetchone()
            if row is not None and staging:
                conn.execute("INSERT OR IGNORE INTO postings_retired VALUES (?)", (row[0],))
            elif row is not None:
                conn.executemany(
                    "DELETE FROM postings WHERE h = ? AND rid = ?", [(h, row[0]) for h, _ in unpack_postings(row[1])]
                )
            if row is not None:
                conn.execute("DELETE FROM records WHERE rid = ?", (row[0],))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return row is not None

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
        hashes = list({key_hash(k) for k in keys})
        params: list[object] = [*hashes, entity_type]
        office_sql = ""
        if offices:
            office_sql = f" AND r.office IN ({','.join('?' * len(offices))})"
            params.extend(offices)
        params.append(limit)
        match = f"SELECT rid, SUM(w) AS s FROM postings WHERE h IN ({','.join('?' * len(hashes))}) GROUP BY rid"
        # Only records scoring at least the limit-th best sum are joined to their rows (reading each
        # row is the costly part). Exact when that leaves ``limit`` rows of the wanted type and offices
        # (every better record and tie is among them) or there is no cut; else the full query, once more.
        body = "r.body, r.profile" if records else "NULL, NULL"  # a watch screening wants ids and weights only
        fast = (
            f"WITH c AS MATERIALIZED ({match}), cut AS (SELECT s FROM c ORDER BY s DESC LIMIT 1 OFFSET ?) "
            f"SELECT r.doc_id, c.s, (SELECT s FROM cut), {body} FROM c JOIN records r ON r.rid = c.rid "
            f"WHERE c.s >= COALESCE((SELECT s FROM cut), 0) AND r.entity_type = ?{office_sql} "
            "ORDER BY c.s DESC, r.doc_id LIMIT ?"
        )
        full = (
            f"WITH c AS ({match}) SELECT r.doc_id, c.s, NULL, {body} FROM c JOIN records r ON r.rid = c.rid "
            f"WHERE r.entity_type = ?{office_sql} ORDER BY c.s DESC, r.doc_id LIMIT ?"
        )
        try:
            with self._connection() as conn:
                rows = conn.execute(fast, [*hashes, limit - 1, *params[len(hashes) :]]).fetchall()
                if len(rows) < limit and (not rows or rows[0][2] is not None):
                    rows = conn.execute(full, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"store query failed: {exc}") from exc
        if not records:
            return [Candidate(r[0], float(r[1])) for r in rows]
        return [_candidate(r[0], r[1], r[3], r[4]) for r in rows]

    def candidates_many(
        self, queries: Sequence[KeyQuery], offices: Sequence[str] | None, limit: int
    ) -> list[list[Candidate]]:
        # One process, one file: a batch is its queries one by one (no round trip to save).
        return [self.candidates(keys, etype, offices, limit) for keys, etype in queries]

    def rekey(self, workers: int, progress: Callable[[int], None] | None = None) -> Rekeyed:
        """Key every stored record again with this version's keys, in place (:mod:`.sqlite_rekey`);
        one writer at a time, as a load."""
        with load_lock(self.path), self._connection() as conn:
            finish_staged(conn)  # a killed bulk load's postings first
            row = conn.execute("SELECT value FROM meta WHERE name = 'keys_version'").fetchone()
            return rekey(conn, int(row[0]) if row else 1, workers, progress)

    def reindex(self, load: Callable[[Store], None]) -> str:
        raise InvalidInput(
            "reindex needs Elasticsearch (--es-url); with SQLite, load into a new --store file instead", field="store"
        )

    def get_many(self, ids: Iterable[str]) -> dict[str, Record]:
        return {d: c.record for d, c in self.fetch(ids).items() if c.record is not None}

    def fetch(self, ids: Iterable[str]) -> dict[str, Candidate]:
        wanted = list(dict.fromkeys(ids))
        out: dict[str, Candidate] = {}
        with self._connection() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                q = f"SELECT doc_id, body, profile FROM records WHERE doc_id IN ({','.join('?' * len(chunk))})"
                for doc, body, kept in conn.execute(q, chunk):
                    out[doc] = _candidate(doc, 0.0, body, kept)
        return out

    def keys_of(self, office: str, record_id: str) -> dict[str, float]:
        """The stored keys of one record (for tests and the parity check): the store keeps their
        hashes, so these are the record's keys as this version computes them, each of which must
        be stored (an empty dict when the store holds none of them)."""
        with self._connection() as conn:
            row = conn.execute(
                "SELECT rid, postings, body FROM records WHERE doc_id = ?", (doc_id(office, record_id),)
            ).fetchone()
            if row is None:
                return {}
            stored = {h for (h,) in conn.execute("SELECT h FROM postings WHERE rid = ?", (row[0],))}
        if stored != {h for h, _ in unpack_postings(row[1])}:
            return {}
        keys = prepare(_record(row[2])).keys
        return keys if {key_hash(k) for k in keys} == stored else {}

    def has_records(self) -> bool:
        with self._connection() as conn:
            return bool(conn.execute("SELECT EXISTS (SELECT 1 FROM records)").fetchone()[0])

    def keyed_with(self) -> int | None:
        with self._connection() as conn:
            if not conn.execute("SELECT EXISTS (SELECT 1 FROM records)").fetchone()[0]:
                return None
            row = conn.execute("SELECT value FROM meta WHERE name = 'keys_version'").fetchone()
        return int(row[0]) if row else 1  # files from before the version was recorded

    def counts(self) -> dict[str, dict[str, int]]:
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT office, entity_type, COUNT(*) FROM records GROUP BY office, entity_type"
            ).fetchall()
        out: dict[str, dict[str, int]] = {}
        for office, entity_type, n in rows:
            out.setdefault(office, {})[entity_type] = int(n)
        return out

    def key_count(self) -> int:
        """Number of key rows (for the performance table)."""
        with self._connection() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM postings").fetchone()[0])

    def ping(self) -> dict[str, object]:
        try:
            with self._connection() as conn:
                n = conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"store unavailable: {exc}") from exc
        return {"backend": "sqlite", "path": str(self.path), "records": int(n)}

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
            self._idle.clear()


def _record(body: bytes) -> Record:
    # pydantic-core's JSON reader: 5 µs a document against json.loads's 19 (the realistic
    # million's documents); a query decodes every candidate's.
    return Record.from_dict(pydantic_core.from_json(decompress(body)))


def _candidate(doc: str, weight: float, body: bytes, kept: bytes | None) -> Candidate:
    return Candidate(doc, float(weight), _record(body), kept)
