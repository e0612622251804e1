"""How a load writes into the SQLite store: one load at a time per file, and the staged bulk load.

A bulk load into an empty store appends its postings to ``postings_load``, unordered, and moves
them into ``postings`` in one sorted pass at the end: inserting 17 M postings in key order into the
B-tree is several times faster than in arrival order (bench/load.py). A record changed or withdrawn
during such a load leaves its rid in ``postings_retired``, whose staged postings the move leaves
behind. A load killed before the move leaves both tables; the next load finishes the move first.
"""

from __future__ import annotations

import fcntl
import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from search.errors import Busy
from search.storage.sqlite_conn import immediate, settle

logger = logging.getLogger(__name__)

STAGING = """
CREATE TABLE IF NOT EXISTS postings_load (h INTEGER NOT NULL, rid INTEGER NOT NULL, w INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS postings_retired (rid INTEGER PRIMARY KEY);
"""


@contextmanager
def load_lock(path: Path) -> Iterator[None]:
    """One load at a time per store file: a second one fails at once with Busy (exit code 2 /
    HTTP 409) rather than interleaving its batches. An advisory file lock, so the operating
    system releases it when a load is killed."""
    if str(path) == ":memory:":
        yield
        return
    with open(f"{path}.load-lock", "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # No file path: this message also reaches HTTP clients (issue #18).
            raise Busy("another load is writing to the store; run this one when it has finished") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def is_staging(conn: sqlite3.Connection) -> bool:
    """Is a bulk load staging its postings (``postings_load`` exists)?"""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'postings_load'").fetchone() is not None


def finish_staged(conn: sqlite3.Connection) -> None:
    """Move staged postings into place in key order, then give the staging pages back."""
    if not is_staging(conn):
        return
    t0 = time.perf_counter()
    with immediate(conn):
        conn.execute(
            "INSERT OR IGNORE INTO postings SELECT h, rid, w FROM postings_load "
            "WHERE rid NOT IN (SELECT rid FROM postings_retired) ORDER BY h, rid"
        )
        conn.execute("DROP TABLE postings_load")
        conn.execute("DROP TABLE postings_retired")
    settle(conn)  # the staging table's pages (a third of the file) back to the file system
    logger.info("sorted the staged postings into place in %.1f s", time.perf_counter() - t0)
