"""Re-keying a SQLite store in place (``suspects rekey``).

A new keys version (the slip keys of 3 Dec made it 4) used to leave a SQLite user one way on:
loading every office file into a new store file, which left the standing watchlists, their alerts,
the API keys and the audit behind in the old one. The store keeps every record's document, so this
version can key the records again from it, in place.

Every record's keys are computed by the load's own normalizer in worker processes and staged beside
the live postings (``rekey_postings`` rows, ``rekey_records`` blobs), while readers go on with the
old keys; one transaction then swaps them in key order, with each record's kept profile
(:mod:`.profiles`), and records the version. A rekey killed
before the swap leaves the store as it was (the next rekey drops the staging tables first).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

from indexer.keys import KEYS_VERSION, profile_keys
from indexer.records import Record, record_profile
from search.storage.base import Rekeyed
from search.storage.codec import decompress, pack_postings, unpack_postings
from search.storage.profiles import pack as pack_profile
from search.storage.sqlite_conn import immediate, settle
from search.workers import in_order

logger = logging.getLogger(__name__)

_STAGING = """
DROP TABLE IF EXISTS rekey_postings;
DROP TABLE IF EXISTS rekey_records;
CREATE TABLE rekey_postings (h INTEGER NOT NULL, rid INTEGER NOT NULL, w INTEGER NOT NULL);
CREATE TABLE rekey_records (rid INTEGER PRIMARY KEY, postings BLOB NOT NULL, profile BLOB NOT NULL);
"""

Keyed = list[tuple[int, bytes, bytes]]  # (rid, packed postings, packed profile)


def _chunks(conn: sqlite3.Connection, size: int) -> Iterator[list[tuple[int, bytes]]]:
    last = 0
    while True:
        rows = conn.execute("SELECT rid, body FROM records WHERE rid > ? ORDER BY rid LIMIT ?", (last, size)).fetchall()
        if not rows:
            return
        last = rows[-1][0]
        yield [(int(rid), bytes(body)) for rid, body in rows]


def key_chunk(chunk: list[tuple[int, bytes]]) -> Keyed:
    """In a worker: each record's postings and profile as this version makes them, from its stored
    document."""
    out: Keyed = []
    for rid, body in chunk:
        record = Record.from_dict(json.loads(decompress(body)))
        profile = record_profile(record)
        out.append((rid, pack_postings(profile_keys(profile)), pack_profile(record, profile)))
    return out


def rekey(
    conn: sqlite3.Connection, was: int, workers: int, progress: Callable[[int], None] | None = None, chunk: int = 2000
) -> Rekeyed:
    """Key every record of the store again with this version's keys (the caller holds the load lock)."""
    t0 = time.perf_counter()
    conn.executescript(_STAGING)
    done = 0

    def stage(keyed: Keyed) -> None:
        nonlocal done
        with immediate(conn):
            conn.executemany("INSERT INTO rekey_records VALUES (?, ?, ?)", keyed)
            conn.executemany(
                "INSERT INTO rekey_postings VALUES (?, ?, ?)",
                [(h, rid, w) for rid, packed, _ in keyed for h, w in unpack_postings(packed)],
            )
        done += len(keyed)
        if progress is not None:
            progress(done)

    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for keyed in in_order(pool, key_chunk, _chunks(conn, chunk), workers * 2):
                stage(keyed)
    else:
        for rows in _chunks(conn, chunk):
            stage(key_chunk(rows))
    with immediate(conn):
        conn.execute("DELETE FROM postings")
        conn.execute("INSERT OR IGNORE INTO postings SELECT h, rid, w FROM rekey_postings ORDER BY h, rid")
        conn.execute(
            "UPDATE records SET postings = k.postings, profile = k.profile FROM rekey_records AS k"
            " WHERE records.rid = k.rid"
        )
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('keys_version', ?)", (str(KEYS_VERSION),))
        conn.execute("DROP TABLE rekey_postings")
        conn.execute("DROP TABLE rekey_records")
    settle(conn)  # the staging tables' pages back to the file system
    out = Rekeyed(done, was, time.perf_counter() - t0)
    logger.info("keyed %d records again (keys version %d → %d) in %.1f s", done, was, KEYS_VERSION, out.seconds)
    return out
