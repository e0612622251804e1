"""SQLite connections as every table of the embedded store opens them (WAL, NORMAL sync), and
one-connection-per-thread for the small stores beside the records (keys and audit, screening jobs)."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from search.errors import StoreUnavailable

logger = logging.getLogger(__name__)

# The kernel reads ahead 8 MB for one POSIX_FADV_WILLNEED over a whole file (a 977 MB store: 8 MB
# cached after it); asked for each 8 MB in turn it reads the whole file in the background (issued
# in 0.15 s, all of it cached about 2 s later, no CPU of ours).
_ADVISE_CHUNK = 8 << 20


def connect(path: Path, cache_mb: int) -> sqlite3.Connection:
    """An autocommit connection in WAL mode with ``synchronous=NORMAL``: a committed transaction
    survives a crash of the service (it is in the WAL before the call returns) but not a power
    cut; FULL put an fsync on every request (bench/load.py: /match p99 9 → 46 ms with FULL)."""
    try:
        conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
        # Only a new file takes this (before WAL mode writes its header): the pages a bulk load's
        # staging table frees go back to the file system (SQLiteStore._finish_staged), where they
        # stayed in the file as a third of it (1.12 GB against 0.78 GB per million records).
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"cannot open store {path}: {exc}") from exc
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA cache_size=-{cache_mb * 1024}")
    return conn


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, ``ROLLBACK`` on any error: one writer at a time."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def settle(conn: sqlite3.Connection) -> None:
    """After a table was rebuilt: fresh planner statistics, and the freed pages back to the file
    system (executescript, because execute() steps this pragma once, which frees one page)."""
    conn.execute("ANALYZE")
    conn.executescript("PRAGMA incremental_vacuum;")


class ThreadConnections:
    """One small-cache connection per thread, for the stores beside the records (keys and audit,
    screening jobs): few threads touch them, and each touch is one short statement."""

    def __init__(self, path: Path, cache_mb: int = 2) -> None:
        self.path = path
        self.cache_mb = cache_mb
        self._local = threading.local()

    def get(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, self.cache_mb)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection (the others close when their threads end)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class SQLiteTables:
    """A store of a few tables beside the records in the same SQLite file (keys and audit,
    screening jobs): its schema is created on opening, and each thread gets its own connection."""

    SCHEMA = ""  # CREATE … IF NOT EXISTS statements, run on every opening
    # (table, column, declaration) added after a table was first released: a file made before
    # gets them on opening (SQLite's CREATE … IF NOT EXISTS leaves an existing table as it was).
    ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = ()

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conns = ThreadConnections(self.path)
        conn = self._conn()
        conn.executescript(self.SCHEMA)
        for table, column, decl in self.ADDED_COLUMNS:
            have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")

    def _conn(self) -> sqlite3.Connection:
        return self._conns.get()

    def close(self) -> None:
        self._conns.close()


def schema_version(conn: sqlite3.Connection) -> int | None:
    """The schema version a store file was written with; None for a new file."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is None:
        return None
    row = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
    return int(row[0]) if row is not None else None


# The reading is asked for from a child process: closing a file descriptor on the store drops every
# POSIX lock this process holds on it, its SQLite connections' too (tests/backends.py copy_store),
# and a store written under lost locks is corrupted. Done in the server's own process, it was:
# three tests on a store shared by in-process servers failed with "database disk image is
# malformed" (a fresh clone's `make test`, 6 Dec).
_ADVISE = """
import os, sys
chunk = int(sys.argv[1])
for name in sys.argv[2:]:
    fd = os.open(name, os.O_RDONLY)
    try:
        for offset in range(0, os.fstat(fd).st_size, chunk):
            os.posix_fadvise(fd, offset, chunk, os.POSIX_FADV_WILLNEED)
    finally:
        os.close(fd)
"""


def prefetch(path: Path) -> int:
    """Ask the kernel to read the store file (and its WAL) into the page cache in the background;
    the bytes asked for. A server whose store other work had pushed out of the page cache answered
    its first 3,000 queries of the realistic million at p50 4.56-4.75 and p99 18.1-18.3 ms against
    2.93 and 11.16 ms warm (bench/HISTORY.md, 6 Dec). Skipped for files larger than half the
    machine's memory, whose reading would push out more than it brings in."""
    if not hasattr(os, "posix_fadvise"):  # not on macOS: a store there warms as it is read
        return 0
    files = [f for f in (path, path.with_name(path.name + "-wal")) if f.is_file()]
    size = sum(f.stat().st_size for f in files)  # stat opens no descriptor
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if not files or size > memory // 2:
        if files:
            logger.info("not prefetching %s: %d bytes, more than half the memory", path, size)
        return 0
    try:
        subprocess.run([sys.executable, "-c", _ADVISE, str(_ADVISE_CHUNK), *map(str, files)], check=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:  # a cold cache is slower, not wrong
        logger.warning("could not prefetch %s: %s", path, exc)
        return 0
    return size
