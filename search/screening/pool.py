"""Running a screening: watchlist rows in, one result per row out, in input order, streamed, on
several cores.

A chunk of rows is matched in one call (the store answers a batch in one round trip where it can);
a row that cannot be checked yields its error result, so no row is ever dropped. With more than one
worker the chunks go to worker processes, each with its own store connection.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any

from indexer.records import warm_up
from search.errors import InvalidInput
from search.matching.matcher import Matcher
from search.matching.query import Query
from search.screening.watchlist import BadRow, Item, Output
from search.settings import Settings
from search.storage.factory import open_store
from search.workers import exit_with, in_order

CHUNK = 200  # queries per task: large enough to amortize the process hop, small enough to stream

_worker_matcher: Matcher | None = None  # this worker process's own matcher (set by init_worker)


def open_matcher(settings: Settings) -> Matcher:
    """A matcher over a newly opened store, with the settings' candidate count and query limits.
    The name tables load now, not inside the first chunk's timing (they load on first use)."""
    warm_up()
    return Matcher(open_store(settings), settings.candidates, settings.max_name_length)


def init_worker(settings: Settings, nice: int = 0, parent: int | None = None) -> None:
    """Open this worker process's own store; ``nice`` > 0 lowers its CPU priority (the server's
    background screening yields to interactive /match requests). With ``parent``, the worker ends
    when that process is gone (see :func:`search.workers.exit_with`)."""
    global _worker_matcher
    if nice:
        os.nice(nice)
    if parent is not None:
        threading.Thread(target=exit_with, args=(parent,), daemon=True).start()
    _worker_matcher = open_matcher(settings)


def error_result(query_id: str | None, line: int, reason: str) -> dict[str, Any]:
    """The output of a watchlist row that could not be checked: reported, never dropped."""
    return {
        "query_id": query_id,
        "line": line,
        "seen": None,  # no answer: the row was rejected (CSV says "rejected"), never a false "not seen"
        "offices": {},
        "matches": [],
        "error": f"line {line}: {reason}",
    }


def screen_chunk(matcher: Matcher, chunk: list[Item], limit: int, offices: list[str] | None = None) -> Output:
    """Results for a chunk of watchlist rows; a row that cannot be checked yields its error."""
    out: Output = []
    good = [(line, item) for line, item in chunk if isinstance(item, Query)]
    answers: dict[int, dict[str, Any]] = {}
    try:
        for (line, _), res in zip(good, matcher.match_many([q for _, q in good], offices, limit), strict=True):
            answers[line] = res.to_dict()
    except InvalidInput:
        for line, q in good:  # one bad query in the batch: check them one by one
            try:
                answers[line] = matcher.match(q, offices, limit).to_dict()
            except InvalidInput as exc:
                answers[line] = error_result(q.query_id, line, exc.message)
    for line, item in chunk:
        if isinstance(item, BadRow):
            out.append((line, "", error_result(item.query_id, line, item.reason)))
        else:
            result = answers[line]
            result["line"] = line
            out.append((line, item.name, result))
    return out


def run_chunk(chunk: list[Item], limit: int, offices: list[str] | None = None) -> Output:
    """Screen a chunk in a worker process started with :func:`init_worker`."""
    if _worker_matcher is None:
        raise RuntimeError("run_chunk outside a worker started with init_worker")
    return screen_chunk(_worker_matcher, chunk, limit, offices)


def chunks(rows: Iterator[Item], after: int = 0, size: int = CHUNK) -> Iterator[list[Item]]:
    """Rows after line ``after`` (done in an earlier, interrupted run) in chunks of ``size``."""
    chunk: list[Item] = []
    for line, item in rows:
        if line <= after:
            continue
        chunk.append((line, item))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run_screening(
    rows: Iterator[Item], settings: Settings, limit: int = 10, workers: int = 1, after: int = 0
) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(line, query name, result) for every row after line ``after``, in input order. With
    ``workers`` > 1 the rows are matched in that many processes, at most two chunks ahead of the
    writer per worker, so memory stays flat however long the watchlist."""
    if workers <= 1:
        matcher = open_matcher(settings)
        try:
            for chunk in chunks(rows, after):
                yield from screen_chunk(matcher, chunk, limit)
        finally:
            matcher.store.close()
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=init_worker, initargs=(settings,)) as pool:
        for output in in_order(pool, partial(run_chunk, limit=limit), chunks(rows, after), workers * 2):
            yield from output
