"""The embedded backend: one SQLite file (stdlib ``sqlite3``, WAL), zero set-up.

Tables: ``records`` (one row per office record, the document as JSON, a content digest) and
``keys`` (key, record rowid, weight) — a WITHOUT ROWID table whose primary key (key, rid) is
itself the lookup index. Candidate retrieval is the same weighted key lookup the Elasticsearch
backend runs: sum the weights of the shared keys, best first, ties by document id.

One connection per thread (SQLite connections are not shared across threads); writers take a
``BEGIN IMMEDIATE`` transaction per batch, so a reader never sees half a batch and two loaders
queue rather than corrupt each other.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from indexer.records import Record
from search.errors import StoreUnavailable
from search.store import Candidate, StoredRecord, UpsertResult, doc_id

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    rid INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL UNIQUE,
    office TEXT NOT NULL,
    record_id TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    digest TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_office ON records (office, entity_type);
CREATE TABLE IF NOT EXISTS keys (
    key TEXT NOT NULL,
    rid INTEGER NOT NULL,
    weight REAL NOT NULL,
    PRIMARY KEY (key, rid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS keys_rid ON keys (rid);
"""


class SQLiteStore:
    """Records and keys in one SQLite file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        conn = self._conn()
        with conn:
            conn.executescript(_SCHEMA)
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"cannot open store {self.path}: {exc}") from exc
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA cache_size=-65536")  # 64 MB page cache per connection
            self._local.conn = conn
        return conn

    def upsert(self, records: Sequence[StoredRecord]) -> UpsertResult:
        conn = self._conn()
        inserted = updated = unchanged = 0
        conn.execute("BEGIN IMMEDIATE")
        try:
            for item in records:
                rec = item.record
                row = conn.execute("SELECT rid, digest FROM records WHERE doc_id = ?", (item.id,)).fetchone()
                body = json.dumps(rec.to_dict(), ensure_ascii=False)
                if row is not None and row[1] == item.digest:
                    unchanged += 1
                    continue
                if row is not None:
                    rid = row[0]
                    conn.execute("DELETE FROM keys WHERE rid = ?", (rid,))
                    conn.execute(
                        "UPDATE records SET entity_type = ?, digest = ?, body = ? WHERE rid = ?",
                        (rec.entity_type, item.digest, body, rid),
                    )
                    updated += 1
                else:
                    cur = conn.execute(
                        "INSERT INTO records (doc_id, office, record_id, entity_type, digest, body) VALUES (?,?,?,?,?,?)",
                        (item.id, rec.office, rec.record_id, rec.entity_type, item.digest, body),
                    )
                    rid = cur.lastrowid
                    inserted += 1
                conn.executemany("INSERT INTO keys VALUES (?, ?, ?)", [(k, rid, w) for k, w in item.keys.items()])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return UpsertResult(inserted, updated, unchanged)

    def withdraw(self, office: str, record_id: str) -> bool:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT rid FROM records WHERE doc_id = ?", (doc_id(office, record_id),)).fetchone()
            if row is not None:
                conn.execute("DELETE FROM keys WHERE rid = ?", (row[0],))
                conn.execute("DELETE FROM records WHERE rid = ?", (row[0],))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return row is not None

    def candidates(
        self, keys: dict[str, float], entity_type: str, offices: Sequence[str] | None, limit: int
    ) -> list[Candidate]:
        if not keys:
            return []
        key_list = list(keys)
        params: list[object] = [*key_list, entity_type]
        office_sql = ""
        if offices:
            office_sql = f" AND r.office IN ({','.join('?' * len(offices))})"
            params.extend(offices)
        params.append(limit)
        sql = (
            "SELECT r.doc_id, SUM(k.weight) AS s FROM keys k JOIN records r ON r.rid = k.rid "
            f"WHERE k.key IN ({','.join('?' * len(key_list))}) AND r.entity_type = ?{office_sql} "
            "GROUP BY k.rid ORDER BY s DESC, r.doc_id LIMIT ?"
        )
        try:
            rows = self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"store query failed: {exc}") from exc
        return [Candidate(r[0], float(r[1])) for r in rows]

    def get_many(self, ids: Iterable[str]) -> dict[str, Record]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        out: dict[str, Record] = {}
        conn = self._conn()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = conn.execute(
                f"SELECT doc_id, body FROM records WHERE doc_id IN ({','.join('?' * len(chunk))})", chunk
            ).fetchall()
            for doc, body in rows:
                out[doc] = Record.from_dict(json.loads(body))
        return out

    def keys_of(self, office: str, record_id: str) -> dict[str, float]:
        """The stored keys of one record (for tests and the parity check)."""
        rows = (
            self._conn()
            .execute(
                "SELECT k.key, k.weight FROM keys k JOIN records r ON r.rid = k.rid WHERE r.doc_id = ?",
                (doc_id(office, record_id),),
            )
            .fetchall()
        )
        return {k: float(w) for k, w in rows}

    def counts(self) -> dict[str, dict[str, int]]:
        rows = self._conn().execute("SELECT office, entity_type, COUNT(*) FROM records GROUP BY office, entity_type")
        out: dict[str, dict[str, int]] = {}
        for office, entity_type, n in rows:
            out.setdefault(office, {})[entity_type] = int(n)
        return out

    def key_count(self) -> int:
        """Number of key rows (for the performance table)."""
        return int(self._conn().execute("SELECT COUNT(*) FROM keys").fetchone()[0])

    def ping(self) -> dict[str, object]:
        try:
            n = self._conn().execute("SELECT COUNT(*) FROM records").fetchone()[0]
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"store unavailable: {exc}") from exc
        return {"backend": "sqlite", "path": str(self.path), "records": int(n)}

    def close(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
