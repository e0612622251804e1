"""Uploaded files are read in a child process, never in the server's.

Reading a 50 MB watchlist held the server's GIL for seconds and left its memory high after the
413 (bench/abuse.py: a legitimate client's p50 went from 12 ms to 457 ms during two such uploads,
and the server kept 519 MB of its 293 MB baseline). One niced child process, started on the first
upload, reads watchlists and loads office exports; the server waits on it without holding the
GIL, and what the child allocated stays in the child, which returns it to the system after each
file (``malloc_trim``, glibc). Office exports are loaded by the child into the same store (its own
connection), as ``suspects load`` would be from another process.
"""

from __future__ import annotations

import csv
import ctypes
import ctypes.util
import functools
import gc
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer.intake.offices import load_profile, profile_names
from search.ingest import load_file
from search.screening.jobs import decode_rows, encode_rows
from search.screening.watchlist import Rows, read_watchlist
from search.settings import Settings
from search.storage.base import Store
from search.watching.factory import open_writable
from search.workers import exit_with

logger = logging.getLogger(__name__)

NICE = 10  # below the server's request threads, as the screening workers
# Smaller text files are read in the server (see in_process): the child is for the large ones.
IN_PROCESS_BYTES = 1_000_000
# Rejections a load's summary carries back; the child writes every one to a CSV file.
SUMMARY_REJECTIONS = 100

_child_settings: Settings | None = None
_child_store: Store | None = None


@dataclass(frozen=True, slots=True)
class LoadSummary:
    """A load's counts and its first rejections (the rest are in the CSV the child wrote)."""

    counts: dict[str, Any]
    rejections: list[dict[str, Any]]
    truncated: bool


def _init_child(settings: Settings, parent: int) -> None:
    global _child_settings
    os.nice(NICE)
    _child_settings = settings
    threading.Thread(target=exit_with, args=(parent,), daemon=True).start()


def give_back_memory() -> None:
    """Return the heap's free pages to the system (glibc's ``malloc_trim``; elsewhere nothing).
    CPython's freed objects otherwise stay in glibc's heap: after a burst of maximum-length batches
    the server stayed 41 % above its baseline, 12 % with this after each large batch (bench/abuse.py
    and the test of it in tests/test_memory.py)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    libc = ctypes.util.find_library("c")
    found: Callable[[int], int] | None = getattr(ctypes.CDLL(libc), "malloc_trim", None) if libc else None
    return found


def _give_back() -> None:
    gc.collect()
    give_back_memory()


def _read(path: Path, max_name: int, max_rows: int) -> list[list[Any]]:
    try:
        return encode_rows(list(read_watchlist(path, max_name, max_rows)))
    finally:
        _give_back()


def _load(path: Path, office: str, max_rows: int, rejections_csv: Path) -> LoadSummary:
    global _child_store
    assert _child_settings is not None  # set by _init_child
    try:
        if _child_store is None:
            _child_store = open_writable(_child_settings)  # its loads re-screen the standing entries
        return load_into(_child_store, path, office, max_rows, rejections_csv)
    finally:
        _give_back()


def load_into(store: Store, path: Path, office: str, max_rows: int, rejections_csv: Path) -> LoadSummary:
    """Load an office export; every rejection goes to ``rejections_csv`` (line, field, reason)."""
    # The office's shipped profile reads its own export's headers and spellings, as
    # `suspects load cn-gd.csv` does.
    prof = load_profile(office.lower()) if office.lower() in profile_names() else None
    report = load_file(store, path, office, prof, None, 1, max_rows=max_rows)
    with rejections_csv.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        for r in report.rejected:
            out.writerow([r.line, r.field or "", r.reason])
    counts = report.to_dict(detail=0)
    head = [{"line": r.line, "reason": r.reason, "field": r.field} for r in report.rejected[:SUMMARY_REJECTIONS]]
    report.rejected.close()
    del counts["rejections"], counts["rejections_truncated"]
    return LoadSummary(counts, head, len(report.rejected) > SUMMARY_REJECTIONS)


def in_process(path: Path) -> bool:
    """A text file under :data:`IN_PROCESS_BYTES` is read in the server: parsing it takes
    milliseconds, less than handing it to the child. Workbooks always go to the child (a small
    one may unpack a hundredfold)."""
    return path.suffix.lower() not in (".xlsx", ".xlsm") and path.stat().st_size < IN_PROCESS_BYTES


class FileWorker:
    """The child process that reads uploads; started on first use, one file at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _ensure(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # spawn, not fork: the server process has threads (a forked lock could be held forever).
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_child,
                    initargs=(self.settings, os.getpid()),
                )
            return self._pool

    def read_watchlist(self, path: Path, max_name: int, max_rows: int) -> Rows:
        """The watchlist's rows (raises FileError / FileTooLarge as read_watchlist does)."""
        if in_process(path):
            return list(read_watchlist(path, max_name, max_rows))
        return decode_rows(self._ensure().submit(_read, path, max_name, max_rows).result())

    def load(self, store: Store, path: Path, office: str, max_rows: int, rejections_csv: Path) -> LoadSummary:
        """Load an office export into the store (``store`` itself when read here, the child's own
        connection to it otherwise); every rejection is written to ``rejections_csv``."""
        if in_process(path):
            return load_into(store, path, office, max_rows, rejections_csv)
        return self._ensure().submit(_load, path, office, max_rows, rejections_csv).result()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
