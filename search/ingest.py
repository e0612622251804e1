"""Ingest: read an office file, normalize its records (both cores on large files), write batches.

Reconciles every row: ``read = stored + rejected``. A record id that appears twice in one file is
stored once (the last row wins, as a reload would) and the earlier row is reported as superseded.
Reloading a file changes nothing: unchanged records are recognised by their content digest.
"""

from __future__ import annotations

import csv
import logging
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, overload

from indexer.intake.offices import OfficeProfile, Rejection, read_records
from indexer.intake.readers import FileError, check_row_count
from indexer.records import Record, warm_up
from search.storage.base import Hooked, RecordHook, Store, StoredRecord, doc_id, document, prepare
from search.workers import in_order

logger = logging.getLogger(__name__)

BATCH = 2000  # records per transaction / bulk request
# A file smaller than this (about 20,000 rows of ~100 bytes) loads faster in one process than the
# worker processes take to start.
PARALLEL_FROM_BYTES = 2_000_000
# With standing entries every record is also judged against them where it is normalized (the
# reverse lookup: CN-GD's workers 26.7 → 43.6 s of CPU with 10,000 entries, bench/HISTORY.md), so
# the workers pay off from a smaller file (bench/watching.py last --n 100000: CN-HK, 1.7 MB,
# watched 28.5-39.0 → 23.7-29.5 s).
PARALLEL_WATCHED_FROM_BYTES = 250_000


class Rejections:
    """Every rejected row of one load, in memory bounded by :data:`KEEP`: the first ``KEEP`` are
    held, and once there are more all of them go to a temporary CSV file that iteration reads
    back. (A 310 KB workbook of 1 M duplicate rows gave a 122 MB response and held every
    rejection in memory: issue #18.) ``len`` is the full count; indexing reads the held head."""

    KEEP = 1000

    def __init__(self) -> None:
        self.head: list[Rejection] = []
        self.count = 0
        self._spill: IO[str] | None = None

    def append(self, item: Rejection) -> None:
        self.count += 1
        if self._spill is None and len(self.head) < self.KEEP:
            self.head.append(item)
            return
        if self._spill is None:
            self._spill = tempfile.TemporaryFile("w+", newline="", encoding="utf-8")  # noqa: SIM115 (closed by close(), or when collected)
            csv.writer(self._spill).writerows(_cells(r) for r in self.head)
        csv.writer(self._spill).writerow(_cells(item))

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return self.count > 0

    @overload
    def __getitem__(self, index: int) -> Rejection: ...
    @overload
    def __getitem__(self, index: slice) -> list[Rejection]: ...
    def __getitem__(self, index: int | slice) -> Rejection | list[Rejection]:
        return self.head[index]

    def __iter__(self) -> Iterator[Rejection]:
        if self._spill is None:
            yield from list(self.head)
            return
        self._spill.flush()
        self._spill.seek(0)
        for file, line, reason, field_ in csv.reader(self._spill):
            yield Rejection(file, int(line), reason, field_ or None)
        self._spill.seek(0, 2)  # appends go on at the end

    @property
    def truncated(self) -> bool:
        return self.count > len(self.head)

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()
            self._spill = None


def _cells(r: Rejection) -> tuple[str, int, str, str]:
    return (r.file, r.line, r.reason, r.field or "")


@dataclass(slots=True)
class LoadReport:
    """What happened to every row of one file."""

    file: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: Rejections = field(default_factory=Rejections)
    seconds: float = 0.0
    rewrites: int = 0  # duplicates whose earlier row was already written in an earlier batch
    lines: dict[str, int] = field(default_factory=dict)  # document id → line of the row stored

    @property
    def stored(self) -> int:
        return self.inserted + self.updated + self.unchanged - self.rewrites

    @property
    def reconciled(self) -> bool:
        return self.read == self.stored + len(self.rejected)

    def to_dict(self, detail: int = Rejections.KEEP) -> dict[str, object]:
        """The counts and the first ``detail`` rejections (``rejections_truncated`` says if there
        are more: the CLI's --rejections FILE and an upload's ``Accept: text/csv`` give them all)."""
        return {
            "file": self.file,
            "read": self.read,
            "stored": self.stored,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected),
            "rejections": [
                {"file": r.file, "line": r.line, "reason": r.reason, "field": r.field} for r in self.rejected[:detail]
            ],
            "rejections_truncated": len(self.rejected) > detail,
            "seconds": round(self.seconds, 3),
        }


def _prepare_batch(records: list[Record], hook: RecordHook | None) -> list[StoredRecord]:
    return [prepare(r, hook) for r in records]


# Across the process boundary a prepared record travels as a tuple of plain strings and bytes:
# pickling 17 key strings in a dict per record cost more than computing them.
Packed = tuple[str, str, str, str, str, str, bytes, bytes, bytes, bytes]

# The store's record hook in a worker process: sent once, when the worker starts.
_hook: RecordHook | None = None


def _install(hook: RecordHook | None) -> None:
    global _hook
    _hook = hook


def _prepare_packed(records: list[Record]) -> list[Packed]:
    out: list[Packed] = []
    for r in records:
        p = prepare(r, _hook)
        out.append(
            (
                p.office,
                p.record_id,
                p.entity_type,
                p.body,
                p.digest,
                p.key_text,
                p.postings,
                p.packed,
                p.profile,
                p.extra,
            )
        )
    return out


def _unpack(rows: list[Packed]) -> list[StoredRecord]:
    return [StoredRecord(*row) for row in rows]


def _batches(
    rows: Iterator[tuple[int, Record | Rejection]], report: LoadReport, rewritten: set[str]
) -> Iterator[list[Record]]:
    """Group records into batches; duplicates within the file resolve to the last row. A record
    that supersedes a row of an earlier batch goes into ``rewritten``: that row may be written
    by the time it is, so the digest stored before the load says nothing about it."""
    seen: dict[str, int] = {}
    written: set[str] = set()
    batch: dict[str, Record] = {}
    for line, item in rows:
        report.read += 1
        if isinstance(item, Rejection):
            report.rejected.append(item)
            continue
        key = doc_id(item.office, item.record_id)
        if key in seen:
            report.rejected.append(
                Rejection(
                    report.file,
                    seen[key],
                    f"duplicate record_id {item.record_id!r}: superseded by line {line}",
                    "record_id",
                )
            )
            if key in written:
                report.rewrites += 1
                rewritten.add(key)
        seen[key] = line
        report.lines[key] = line
        batch.pop(key, None)
        batch[key] = item
        if len(batch) >= BATCH:
            written.update(batch)
            yield list(batch.values())
            batch = {}
    if batch:
        yield list(batch.values())


def _with_digests(
    store: Store, batches: Iterator[list[Record]]
) -> Iterator[tuple[list[Record], list[str], dict[str, str]]]:
    """Each batch with the digests stored for its records. Where the store allows
    (``threaded_digests``: a network round trip), a batch's lookup runs on a thread while the
    next batch is read: Elasticsearch answered 2,000 ids in about 45 ms, 4 s of a 7.9 s reload
    of an unchanged 181,383-row file, all of it spent waiting before (bench/realistic.py)."""
    if not store.threaded_digests:
        for batch in batches:
            ids = [doc_id(r.office, r.record_id) for r in batch]
            yield batch, ids, store.digests(ids)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="digests") as lookups:
        ahead: deque[tuple[list[Record], list[str], Future[dict[str, str]]]] = deque()
        for batch in batches:
            ids = [doc_id(r.office, r.record_id) for r in batch]
            ahead.append((batch, ids, lookups.submit(store.digests, ids)))
            if len(ahead) > 1:
                done, done_ids, known = ahead.popleft()
                yield done, done_ids, known.result()
        while ahead:
            done, done_ids, known = ahead.popleft()
            yield done, done_ids, known.result()


def load_file(
    store: Store,
    path: Path,
    office: str | None = None,
    profile: OfficeProfile | None = None,
    encoding: str | None = None,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
    max_rows: int | None = None,
) -> LoadReport:
    """Load one file into the store. Raises indexer.readers.FileError for an unreadable file, and
    FileTooLarge, before storing anything, for a file of more than ``max_rows`` rows."""
    t0 = time.perf_counter()
    report = LoadReport(str(path))
    if not path.is_file():
        raise FileError("no such file")
    if max_rows is not None:
        check_row_count(path, max_rows)
    rows = read_records(path, office, profile, encoding, max_rows)

    rewritten: set[str] = set()

    def changed(batches: Iterator[list[Record]]) -> Iterator[list[Record]]:
        """Each batch without the records stored unchanged: their digests are compared before
        any normalizing (a reload with 5 % of rows changed re-normalized every row and took 83 %
        of the first load's time, bench/realistic.py). A record superseding an earlier row of the
        file is compared at its write instead: skipped here for equalling what was stored before
        the load, it left the earlier row's content in the store."""
        for batch, ids, known in _with_digests(store, batches):
            todo = [
                r
                for r, i in zip(batch, ids, strict=True)
                if i not in known or i in rewritten or known[i] != document(r)[1]
            ]
            report.unchanged += len(batch) - len(todo)
            if todo:
                yield todo

    def write(prepared: list[StoredRecord]) -> None:
        result = store.upsert(prepared)
        report.inserted += result.inserted
        report.updated += result.updated
        report.unchanged += result.unchanged
        for doc, reason in result.failed:
            # Refused by the backend (e.g. an Elasticsearch mapping error): reported like a bad row.
            report.rejected.append(Rejection(report.file, report.lines.get(doc, 0), f"not stored: {reason}"))
        if progress is not None:
            progress(report.read)

    pending: dict[str, StoredRecord] = {}

    def gather(prepared: list[StoredRecord]) -> None:
        """Write in the store's own batch size (a SQLite transaction of 20,000 records)."""
        if any(p.id in pending for p in prepared):
            flush()  # a record id seen again: its earlier row is written first, as ever
        pending.update((p.id, p) for p in prepared)
        if len(pending) >= store.write_batch:
            flush()

    def flush() -> None:
        if pending:
            write(list(pending.values()))
            pending.clear()

    with store.bulk():
        hook = store.record_hook() if isinstance(store, Hooked) else None
        smallest = PARALLEL_FROM_BYTES if hook is None else PARALLEL_WATCHED_FROM_BYTES
        if workers > 1 and path.stat().st_size > smallest:
            # Enough batches in flight for the workers to go on normalizing while this process
            # commits a write batch (into a store that holds records, 20,000 records: ten of these
            # batches). With two batches a worker they idled through every commit: the realistic
            # HK file (150,728 rows) into the other ten offices' 841,623 records took 32.1-32.8 s,
            # 28.2-29.6 s with this (44.1-45.2 and 39.0-39.6 s with 10,000 standing entries), for
            # 50 MB more at its peak (261 → 308 MB RSS).
            ahead = store.write_batch // BATCH + workers * 2
            if hook is not None:
                # This process screens entries with the matcher at the load's end anyway: loading
                # the name tables before the workers fork saves each of them doing it (py-spy of a
                # 4,282-row file into a watched store: 2.2 s of its 24 s of CPU in the pinyin table).
                warm_up()
            with ProcessPoolExecutor(max_workers=workers, initializer=_install, initargs=(hook,)) as pool:
                for packed in in_order(pool, _prepare_packed, changed(_batches(rows, report, rewritten)), ahead):
                    gather(_unpack(packed))
        else:
            for batch in changed(_batches(rows, report, rewritten)):
                gather(_prepare_batch(batch, hook))
        flush()
    report.seconds = time.perf_counter() - t0
    logger.info(
        "loaded %s: read %d, stored %d (new %d, changed %d, unchanged %d), rejected %d in %.1f s",
        path,
        report.read,
        report.stored,
        report.inserted,
        report.updated,
        report.unchanged,
        len(report.rejected),
        report.seconds,
    )
    return report
