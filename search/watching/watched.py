"""A records store that re-screens the standing entries on every write.

Every writer opens the store through :func:`search.watching.factory.open_writable`, so a CLI load,
an HTTP upload (in the file worker's process), the demo and a withdrawal all pass here. A load
asks the store for its record hook inside ``bulk()``: a :class:`ReverseJudge` over a snapshot of
the entries, which judges each record where the load normalizes it (its worker processes). When
the backend has committed a batch, the hits become what the batch concerns
(:meth:`Watcher.affected_by`), screened once when the load's ``bulk()`` ends
(:meth:`Watcher.screen`), with every entry added or changed since the snapshot screened forward.
A reindex rewrites every record into a new index that is not live until it replaces the old one,
so the entries are screened forward once it has.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

from indexer.records import Record, record_profile
from search.storage.base import Candidate, KeyQuery, RecordHook, Rekeyed, Store, StoredRecord, UpsertResult, doc_id
from search.watching.reverse import Hit, Plans, ReverseJudge, hits_of
from search.watching.rules import Affected
from search.watching.service import Watching

logger = logging.getLogger(__name__)


class WatchedStore:
    """:class:`~search.storage.base.Store` by delegation, screening what it writes."""

    def __init__(self, inner: Store, watching: Watching) -> None:
        self.inner = inner
        self.watching = watching
        self._depth = 0  # nested bulk() contexts
        self._pending = Affected()  # what to screen when the outermost bulk() ends
        self._judge: ReverseJudge | None = None  # this bulk()'s record hook (None: no entries)
        self._versions: dict[str, int] | None = None  # the entries its snapshot holds
        self._shipped: Plans = {}  # entries the load's workers normalized (see ReverseJudge)
        self._counts: Counter[str] = Counter()  # this load's records sharing keys, by entry

    @property
    def write_batch(self) -> int:
        """The backend's own, read at each use: SQLite's changes inside ``bulk()`` (20,000 records a
        transaction into a store that holds records, else 2,000). A copy taken once kept 2,000 and
        made the 1 M realistic load of 11 office files 443.8 s instead of 282.1 s (an 82,223-row
        file into the full store: 44.4 s, 26.8 s with the wrapper reading it through)."""
        return self.inner.write_batch

    @property
    def threaded_digests(self) -> bool:
        return self.inner.threaded_digests

    def record_hook(self) -> RecordHook | None:
        """The standing entries' verdicts on each record, from a snapshot of the entries taken now
        (once per outermost bulk()); None when there are no entries."""
        return self._snapshot_judge()

    def _snapshot_judge(self) -> ReverseJudge | None:
        if self._versions is None:
            snap = self.watching.store.snapshot()
            if self.watching.rekey(snap.entries, snap.kept):
                snap = self.watching.store.snapshot()
            self._versions = snap.versions()
            k = self.watching.watcher.matcher.candidates
            self._judge = ReverseJudge(snap, self.watching.max_name_length, k) if snap.entries else None
        return self._judge

    def _hits(self, records: Sequence[StoredRecord], judge: ReverseJudge | None) -> list[list[Hit]]:
        """Each written record's hits: from the load's workers, or judged here (``judge``, a write
        outside a load, with the profile made again)."""
        if judge is not None:
            return [judge.hits(r.record, record_profile(r.record), r.postings) for r in records]
        out: list[list[Hit]] = []
        for r in records:
            found, plans = hits_of(r.extra)
            out.append(found)
            self._shipped.update(plans)
        return out

    def _lowered(self, judge: ReverseJudge | None, records: Sequence[StoredRecord]) -> tuple[set[str], set[str]]:
        """The entries whose K best candidates these writes may change by lowering a stored
        record's key weight (see search.watching.reverse): screened in full; and the records whose
        entity type changes (an entry paired with one is screened in full too: the record leaves
        its K best of that type, whatever it shares with the entry now)."""
        if judge is None:
            return set(), set()
        stored = self.inner.stored_postings([r.id for r in records])
        changed = [(r, old) for r in records if (old := stored.get(r.id)) and old != (r.entity_type, r.postings)]
        retyped = {r.id for r, old in changed if old[0] != r.entity_type}
        if not changed or not judge.has_floors():  # a new record lowers nothing: no key table built for it
            return set(), retyped
        out: set[str] = set()
        for r, old in changed:
            out |= judge.lowered(r.office, old, (r.entity_type, r.postings))
        return out, retyped

    def upsert(self, records: Sequence[StoredRecord]) -> UpsertResult:
        outside = self._versions is None  # a write outside a load: judged here, from a snapshot taken now
        judge = self._snapshot_judge() if outside else self._judge
        if outside:
            self._versions, self._judge = None, None
        lowered, retyped = self._lowered(judge, records)
        result = self.inner.upsert(records)
        refused = {doc for doc, _ in result.failed}
        written = [r for r in records if r.id not in refused]
        hits = self._hits(written, judge if outside else None)
        affected = self.watching.watcher.affected_by(written, hits, retyped)
        affected.full |= lowered
        if judge is not None:
            affected.entering = judge.entering(written, hits)
        if self._depth:
            self._pending.merge(affected, self.watching.watcher.matcher.candidates)
            self._counts.update(h.entry_id for found in hits for h in found)
        else:
            self.watching.watcher.screen(affected, "load")
        return result

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """The backend's bulk context; the entries the load concerns are screened forward once, at
        its end: the records are all searchable then (a bulk load into an empty SQLite store puts
        its keys in place only at the end), and an entry several batches concern runs once."""
        self._depth += 1
        try:
            with self.inner.bulk():
                yield
        except BaseException:
            self._depth -= 1
            if not self._depth:
                self._flush_after_failure()
            raise
        self._depth -= 1
        if not self._depth:
            t0 = time.perf_counter()
            floorless = self._floorless()
            pending = self._take_pending()
            self.watching.watcher.screen(pending, "load")
            floorless -= pending.full | pending.ranked | set(pending.direct) | set(pending.rewritten)  # looked up
            self.watching.watcher.look_up_floors(floorless)
            logger.info(
                "screened the standing entries the load concerns (%d in full, %d by short cut; %d floors "
                "looked up) in %.1f s",
                len(pending.full),
                len((set(pending.direct) | pending.ranked | set(pending.rewritten)) - pending.full),
                len(floorless),
                time.perf_counter() - t0,
            )

    def _floorless(self) -> set[str]:
        """Entries this load gave at least K records sharing keys that keep no floor: without one
        each such record is scored at every load (a name nobody stored, of a common surname, meets
        thousands and is never screened); one lookup keeps it."""
        counts, self._counts = self._counts, Counter()
        if self._judge is None:
            return set()
        many = {e for e, n in counts.items() if n >= self._judge.k}
        return self._judge.floorless(many)

    def _take_pending(self) -> Affected:
        """What the load concerns, with the entries added or changed since its snapshot (the
        workers judged the records without them, or with their old names) screened in full."""
        pending, self._pending = self._pending, Affected()
        if self._judge is not None:
            # The entries the end screens, from the kept profiles (the workers read their own).
            concerned = set(pending.direct) | pending.ranked | pending.full | set(pending.rewritten)
            self.watching.watcher.adopt(self._judge.plans(concerned))
            self.watching.watcher.adopt(self._judge.plans())
        self.watching.watcher.adopt(self._shipped)
        self._shipped = {}
        before, self._versions, self._judge = self._versions, None, None
        if before is not None:
            now = self.watching.store.entry_versions()
            pending.full |= {e for e, v in now.items() if before.get(e) != v}
            pending.entering = {e: x for e, x in pending.entering.items() if e in now}  # not one deleted since
        pending.drop_full()
        return pending

    def _flush_after_failure(self) -> None:
        # What the failed load did commit still concerns the entries; a failure here too must not
        # hide the load's own error (`suspects watch rescreen` catches up).
        try:
            self.watching.watcher.screen(self._take_pending(), "load")
        except Exception:
            logger.exception("screening after a failed load failed: run `suspects watch rescreen`")

    def withdraw(self, office: str, record_id: str) -> bool:
        doc = doc_id(office, record_id)
        old = self.inner.stored_postings([doc]).get(doc)
        lowered: set[str] = set()
        if old is not None:
            fresh = self._versions is None  # outside a load: a snapshot taken now
            judge = self._snapshot_judge() if fresh else self._judge
            if fresh:
                self._versions, self._judge = None, None
            lowered = judge.lowered(office, old, None) if judge is not None else set()
        gone = self.inner.withdraw(office, record_id)
        if gone:
            self.watching.watcher.withdrawn(doc, lowered)
        return gone

    def digests(self, ids: Sequence[str]) -> dict[str, str]:
        return self.inner.digests(ids)

    def stored_postings(self, ids: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        return self.inner.stored_postings(ids)

    def candidates(
        self,
        keys: dict[str, float],
        entity_type: str,
        offices: Sequence[str] | None,
        limit: int,
        records: bool = True,
    ) -> list[Candidate]:
        return self.inner.candidates(keys, entity_type, offices, limit, records)

    def candidates_many(
        self, queries: Sequence[KeyQuery], offices: Sequence[str] | None, limit: int
    ) -> list[list[Candidate]]:
        return self.inner.candidates_many(queries, offices, limit)

    def reindex(self, load: Callable[[Store], None]) -> str:
        name = self.inner.reindex(load)
        self.watching.rescreen()
        return name

    def rekey(self, workers: int, progress: Callable[[int], None] | None = None) -> Rekeyed:
        done = self.inner.rekey(workers, progress)
        self.watching.rescreen()  # the new keys can put other records among an entry's candidates
        return done

    def get_many(self, ids: Iterable[str]) -> dict[str, Record]:
        return self.inner.get_many(ids)

    def fetch(self, ids: Iterable[str]) -> dict[str, Candidate]:
        return self.inner.fetch(ids)

    def has_records(self) -> bool:
        return self.inner.has_records()

    def keyed_with(self) -> int | None:
        return self.inner.keyed_with()

    def counts(self) -> dict[str, dict[str, int]]:
        return self.inner.counts()

    def ping(self) -> dict[str, object]:
        return self.inner.ping()

    def close(self) -> None:
        self.inner.close()
        self.watching.store.close()
