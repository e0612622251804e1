"""The alert writer's lock on Elasticsearch: alert numbers become searchable in the order given.

``GET /alerts`` pages by sequence number ("new since a cursor"). On Elasticsearch a number is
reserved first and its alert written after, so two processes screening at once (two offices'
loads) could make alert 105 searchable before 101 — a reader whose cursor passed 105 would never
be shown 101. SQLite numbers an alert inside its write transaction, so there they appear in order.
Here one writer at a time holds a lock document (in the counters index: its only field, ``value``,
is the holder's last heartbeat in epoch milliseconds) from reserving its numbers until its alerts
are written, so what any search sees is a prefix of the numbers given.

A writer waits for the lock (up to :data:`WAIT_UP_TO` seconds); a holder killed while holding it
stops beating, and after :data:`STALE_AFTER` seconds the next writer takes it over, with a write
conditional on the document's sequence number, so two cannot both take it over.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from search.errors import StoreUnavailable
from search.storage.elastic_client import unavailable

logger = logging.getLogger(__name__)

LOCK_ID = "alerts-writer"
BEAT_EVERY = 5.0  # seconds between heartbeats while the holder writes
STALE_AFTER = 60.0  # seconds without a heartbeat: the holder is gone
WAIT_UP_TO = 120.0  # seconds a writer waits for the lock before giving up (more than STALE_AFTER)


def _now_ms() -> int:
    return int(time.time() * 1000)


class WriterLock:
    """Held by one alert writer at a time across every process on one index prefix."""

    def __init__(self, es: Elasticsearch, index: str) -> None:
        self.es = es
        self.index = index
        self._seq: tuple[int, int] | None = None  # the lock document's (seq_no, primary_term) as we wrote it
        self._beat_at = 0.0

    @contextmanager
    def held(self) -> Iterator[None]:
        self._acquire()
        try:
            yield
        finally:
            self._release()

    def _took(self, resp: dict[str, int]) -> None:
        self._seq = (int(resp["_seq_no"]), int(resp["_primary_term"]))
        self._beat_at = time.monotonic()

    def _acquire(self) -> None:
        deadline = time.monotonic() + WAIT_UP_TO
        pause = 0.005
        while True:
            with unavailable():
                try:
                    self._took(dict(self.es.create(index=self.index, id=LOCK_ID, document={"value": _now_ms()})))
                    return
                except ConflictError:
                    pass
                try:
                    doc = self.es.get(index=self.index, id=LOCK_ID)
                except NotFoundError:
                    continue  # released in between: try again at once
                age = (_now_ms() - int(doc["_source"]["value"])) / 1000
                if age > STALE_AFTER:
                    try:
                        resp = self.es.index(
                            index=self.index,
                            id=LOCK_ID,
                            document={"value": _now_ms()},
                            if_seq_no=doc["_seq_no"],
                            if_primary_term=doc["_primary_term"],
                        )
                    except ConflictError:
                        continue  # another writer took it over first
                    logger.warning("took over the alert writer's lock, without a heartbeat for %.0f s", age)
                    self._took(dict(resp))
                    return
            if time.monotonic() > deadline:
                raise StoreUnavailable(f"another process has held the alert writer's lock for over {WAIT_UP_TO:.0f} s")
            time.sleep(pause)  # the holder writes one screening's alerts: usually well under a second
            pause = min(pause * 2, 0.2)

    def beat(self) -> None:
        """Keep the lock alive between bulk requests (one write per BEAT_EVERY at most); raises if
        another writer took it over meanwhile (this one was stale: its numbers may now interleave)."""
        if self._seq is None or time.monotonic() - self._beat_at < BEAT_EVERY:
            return
        with unavailable():
            try:
                resp = self.es.index(
                    index=self.index,
                    id=LOCK_ID,
                    document={"value": _now_ms()},
                    if_seq_no=self._seq[0],
                    if_primary_term=self._seq[1],
                )
            except (ConflictError, NotFoundError) as exc:
                raise StoreUnavailable("the alert writer's lock was taken over while this process held it") from exc
        self._took(dict(resp))

    def _release(self) -> None:
        if self._seq is None:
            return
        seq, self._seq = self._seq, None
        with unavailable():
            try:
                self.es.delete(index=self.index, id=LOCK_ID, if_seq_no=seq[0], if_primary_term=seq[1])
            except (ConflictError, NotFoundError):
                logger.warning("the alert writer's lock was no longer this process's to release")
