"""The server reads the embedded store into the page cache before it answers: a store that other
work had pushed out of the cache answered its first 3,000 queries of the realistic million at p99
18 ms against 11 ms warm (bench/HISTORY.md, 6 Dec). Checked with the kernel's own account of which
pages of the file are cached (mincore), on a file whose pages were first dropped; and without
touching the locks this process's SQLite connections hold on the store."""

from __future__ import annotations

import ctypes
import mmap
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from search.settings import Settings
from search.storage.factory import warm_store
from search.storage.sqlite_conn import prefetch


def cached_share(path: Path) -> float:
    """The share of the file's pages in the page cache (mincore over a private mapping of it)."""
    size = path.stat().st_size
    page = mmap.PAGESIZE
    pages = (size + page - 1) // page
    vec = (ctypes.c_ubyte * pages)()
    libc = ctypes.CDLL(None, use_errno=True)
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), size, access=mmap.ACCESS_COPY) as mapped:
        view = ctypes.c_char.from_buffer(mapped)
        try:
            if libc.mincore(ctypes.c_void_p(ctypes.addressof(view)), ctypes.c_size_t(size), vec) != 0:
                raise OSError(ctypes.get_errno(), "mincore failed")
        finally:
            del view  # the mapping cannot close while ctypes holds it
    return sum(v & 1 for v in vec) / pages


def dropped(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no posix_fadvise on this platform")
def test_prefetch_brings_a_dropped_store_file_back_into_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "suspects.db"
    path.write_bytes(os.urandom(48 << 20))  # 48 MB: six of the chunks asked for
    dropped(path)
    if cached_share(path) > 0.5:
        pytest.skip("this file system keeps files in memory (tmpfs): nothing to drop")
    assert prefetch(path) == 48 << 20
    deadline = time.monotonic() + 20
    while (share := cached_share(path)) < 0.99 and time.monotonic() < deadline:
        time.sleep(0.05)  # polling the kernel's account, with a deadline
    assert share >= 0.99, f"{share:.0%} of the file cached 20 s after prefetch"


def test_warm_store_only_for_an_embedded_store_that_exists(tmp_path: Path) -> None:
    path = tmp_path / "suspects.db"
    assert warm_store(Settings(store=path)) == 0  # not there: nothing to read
    path.write_bytes(b"x" * 4096)
    (tmp_path / "suspects.db-wal").write_bytes(b"y" * 8192)
    expected = 4096 + 8192 if hasattr(os, "posix_fadvise") else 0
    assert warm_store(Settings(store=path)) == expected
    assert warm_store(Settings(store=path, es_url="http://127.0.0.1:9")) == 0  # a cluster keeps its own


TRY_WRITE = (
    "import sqlite3, sys; sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None).execute('BEGIN IMMEDIATE')"
)


def test_prefetch_keeps_the_locks_this_process_holds_on_the_store(tmp_path: Path) -> None:
    """Closing any descriptor on a file drops every POSIX lock the process holds on it: a prefetch
    that opened and closed the store in the server's process let a connection's write lock go, and
    three tests on a store shared by in-process servers found it malformed. A connection here
    holds the write lock; after the prefetch another process still cannot take it."""
    path = tmp_path / "suspects.db"
    conn = sqlite3.connect(path, isolation_level=None)  # a rollback journal: the lock is on this file
    conn.execute("CREATE TABLE t (x)")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO t VALUES (1)")
    try:
        prefetch(path)
        other = subprocess.run([sys.executable, "-c", TRY_WRITE, str(path)], capture_output=True, text=True, timeout=60)
        assert other.returncode != 0 and "database is locked" in other.stderr, other.stderr
    finally:
        conn.execute("ROLLBACK")
        conn.close()
