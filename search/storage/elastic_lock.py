"""The reindex lock on Elasticsearch: one document in ``<prefix>-locks`` with a heartbeat.

A reindex or rekey fills a new index and then swaps the alias; while it runs, a second reindex is
refused, and so is any write by another process (it would land in the old index and vanish at the
swap). A process killed mid-reindex cannot delete its lock, and since writes wait on it, a lock
without a heartbeat for :data:`STALE_AFTER` seconds counts as gone: the next reindex takes it over
(only if nobody else did in between: a conditional write on the document's sequence number).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from search.errors import Busy

logger = logging.getLogger(__name__)

LOCK_ID = "reindex"
BEAT_EVERY = 30.0  # seconds between heartbeats while a reindex writes
STALE_AFTER = 300.0  # seconds without one: the holder is gone (ten missed beats)


class ReindexLock:
    """Acquire, keep alive and release the reindex lock; tell whether another process holds it."""

    def __init__(self, es: Elasticsearch, index: str) -> None:
        self.es = es
        self.index = index
        self._last_beat = 0.0

    def _held(self) -> tuple[dict[str, Any], float] | None:
        """The lock document (with its sequence numbers) and its heartbeat's age, or None."""
        try:
            doc = self.es.get(index=self.index, id=LOCK_ID)
        except NotFoundError:
            return None
        source = doc["_source"]
        age = time.time() - float(source.get("beat", source.get("since", 0.0)))
        return dict(doc), age

    def acquire(self) -> None:
        """Take the lock, or take over a stale one; Busy if a live reindex holds it."""
        now = time.time()
        try:
            self.es.create(index=self.index, id=LOCK_ID, document={"since": now, "beat": now}, refresh=True)
        except ConflictError:
            held = self._held()
            if held is not None and held[1] < STALE_AFTER:
                raise Busy("another reindex or rekey is running (its lock has a heartbeat)") from None
            try:
                kwargs = {"if_seq_no": held[0]["_seq_no"], "if_primary_term": held[0]["_primary_term"]} if held else {}
                self.es.index(
                    index=self.index, id=LOCK_ID, document={"since": now, "beat": now}, refresh=True, **kwargs
                )
            except ConflictError as exc:
                raise Busy("another reindex or rekey took the lock first") from exc
            logger.warning("took over a reindex lock without a heartbeat for %.0f s", held[1] if held else 0.0)
        self._last_beat = now

    def beat(self) -> None:
        """Keep the lock alive (called as the reindex writes; at most one update per BEAT_EVERY)."""
        now = time.time()
        if now - self._last_beat >= BEAT_EVERY:
            self.es.update(index=self.index, id=LOCK_ID, doc={"beat": now})
            self._last_beat = now

    def held_by_another(self) -> bool:
        """Is a live reindex (not this process's) filling a new index?"""
        held = self._held()
        return held is not None and held[1] < STALE_AFTER

    def release(self) -> None:
        self.es.delete(index=self.index, id=LOCK_ID, refresh=True)
