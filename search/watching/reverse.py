"""The reverse lookup: a written record's keys find the standing entries that share them, and the
scorer judges each (entry, record) pair as /match would (the entry is the query).

It runs where a load normalizes its records (:class:`~search.storage.base.RecordHook`): in the
load's worker processes, on every core, with the record's profile at hand. Before, the process
writing the store looked the entries up in SQL per batch and normalized each record a second time
to score it: on a 119,075-record office file with 10,000 entries that was 22.8 s of an 82 s load,
in the one process every batch waits for (py-spy, bench/watching.py).

The entries and their keys come from a :class:`Snapshot` taken when the load begins; an entry
added or changed after it is screened forward at the load's end (:mod:`search.watching.watched`).

A pair is scored only if /match for the entry could score it. /match scores an entry's K best
candidates, ranked by key weight and then document id; the snapshot holds, per entry and entity
type, the weight and document id of its K-th candidate when it was last looked up (its *floor*).
Writing records only adds candidates or raises their weights, so the K-th candidate never ranks
below the floor while no stored record loses weight: a record that ranks below it (sharing less
weight, or as much with a later document id) is not among the K, and is not scored. A write that
lowers a stored record's weight for an entry it was at or above the floor of (a change, a
withdrawal) may let another record into the K: that entry is screened in full
(:meth:`ReverseJudge.lowered`), which looks its floor up anew. On the realistic million, 75 % of
the (entry, record) pairs that share keys lie beyond the entry's 50 best (1,000 watchlist
queries): the reverse lookup scored each.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from indexer.keys import KEYS_VERSION, QUERY_KEYS_VERSION
from indexer.records import EntityProfile, Record
from search.matching.demotion import pair_names
from search.matching.query import QueryPlan, query_profiles
from search.matching.scorer import Decision, score
from search.storage.base import StoredRecord, doc_id
from search.storage.codec import posting_hashes
from search.storage.profiles import unpack_profiles
from search.watching.model import Entry
from search.watching.store import Snapshot


class Hit(NamedTuple):
    """An entry sharing keys with a written record: the summed weight of the shared keys (the
    record's rank among the entry's candidates) and the scorer's verdict when it is not ``none``,
    with the Chinese names a match by reading or a possible stands for (demotion.pair_names).

    A tuple, not a slotted dataclass: the writing process unpickles every written record's hits,
    and py-spy put a dataclass's ``__setstate__`` at 2.3 s of CN-GD's load (181,383 records into
    a store of 10,000 entries); measured without the profiler, that process's CPU 19.5 / 19.7 →
    18.9 / 19.0 s and the load 35.7 / 36.1 → 35.2 / 35.6 s."""

    entry_id: str
    weight: float
    decision: Decision | None = None
    names: tuple[str, ...] = ()


# Entries' query plans by (entry, version).
Plans = dict[tuple[str, int], QueryPlan]


@dataclass(slots=True)
class Entering:
    """Written records an entry's kept K best candidates may take in (see Watcher.screen): by entity
    type, record → key weight shared, each at least the entry's floor. ``tag``: the floor tag the
    kept K best must carry to be the ones that floor was the last of."""

    tag: str
    docs: dict[str, dict[str, float]] = field(default_factory=dict)

    def merge(self, other: Entering, k: int) -> None:
        """Add a later batch's (a record written again: the later weight). Keeps the K best of each
        type once it holds many: the K best of the kept and these are among them."""
        for etype, docs in other.docs.items():
            mine = self.docs.setdefault(etype, {})
            mine.update(docs)
            if len(mine) > 4 * k:
                self.docs[etype] = dict(sorted(mine.items(), key=by_rank)[:k])


def by_rank(item: tuple[str, float]) -> tuple[float, str]:
    """/match's order of candidates: key weight descending, then document id (both backends)."""
    return -item[1], item[0]


_NO_FLOOR = (0.0, "")  # an entry with no floor that holds: every record sharing a key is scored


def floor_tag(entry: Entry, k: int) -> str:
    """What a floor holds for: the entry's version, this code's query and record keys, and K."""
    return f"v{entry.version}:q{QUERY_KEYS_VERSION}:r{KEYS_VERSION}:K{k}"


class ReverseJudge:
    """The standing entries' verdicts on each record a load writes (a ``RecordHook``). Pickled to
    each worker as its snapshot; the lookup table is built there, and the entries' profiles are
    read there from those the watch store keeps with each entry (``Snapshot.kept``).

    An entry kept without them (by an older version, until the next write re-keys it) is
    normalized in the worker, and travels back to the writing process once, with the first record
    it judged there, so that the load's end does not normalize it yet again: with 10,000 entries
    that was 4.3 s of an 18,158-row office load, in the one process the end waits for (py-spy),
    against about 0.6 s to read 10,000 plans back (pickle)."""

    def __init__(self, snapshot: Snapshot, max_name_length: int, k: int) -> None:
        self.__setstate__((snapshot, max_name_length, k, os.getpid()))

    def __getstate__(self) -> tuple[Snapshot, int, int, int]:
        return self.snapshot, self.max_name_length, self.k, self._home

    def __setstate__(self, state: tuple[Snapshot, int, int, int]) -> None:
        self.snapshot, self.max_name_length, self.k, self._home = state  # _home: the writing process
        self._by_key: dict[str, dict[int, list[tuple[str, int]]]] | None = None
        # (entry, entity type) → floor (weight, document id of the K-th), those that hold
        self._held: dict[tuple[str, str], tuple[float, str]] | None = None
        self._entries: dict[str, Entry] = {}
        self._plans: dict[str, QueryPlan] = {}
        self._unsent: list[str] = []  # normalized in a worker, not yet sent back

    def plans(self, entry_ids: Iterable[str] | None = None) -> Plans:
        """The entries' query plans by (entry, version): those of ``entry_ids`` (read from the
        snapshot's kept profiles, else normalized), else all this process has made."""
        if entry_ids is None:
            return {(e, self._entries[e].version): p for e, p in self._plans.items()}
        self._valid_floors()  # the entries by id
        return {(e, x.version): self._plan(x) for e in entry_ids if (x := self._entries.get(e)) is not None}

    def _valid_floors(self) -> dict[tuple[str, str], tuple[float, str]]:
        """The floors that hold, by (entry, entity type), and the entries by id; built without the
        key table, which the writing process of a load does not need."""
        if self._held is None:
            self._entries = {e.entry_id: e for e in self.snapshot.entries}
            self._held = {
                (entry_id, etype): (w, last)
                for entry_id, etype, tag, w, last in self.snapshot.floors
                if (e := self._entries.get(entry_id)) is not None
                and e.keyed == QUERY_KEYS_VERSION  # its stored keys are the ones the floor was looked up with
                and tag == floor_tag(e, self.k)
            }
        return self._held

    def _table(self) -> dict[str, dict[int, list[tuple[str, int]]]]:
        """Entity type → key hash → the entries holding that key, with its weight."""
        if self._by_key is None:
            self._valid_floors()
            table: dict[str, dict[int, list[tuple[str, int]]]] = {}
            for entry_id, h, etype, w in self.snapshot.keys:
                table.setdefault(etype, {}).setdefault(h, []).append((entry_id, w))
            self._by_key = table
        return self._by_key

    def _shared(self, postings: bytes, entity_type: str) -> dict[str, float]:
        """The entries sharing keys with a record: the summed weight of the shared keys."""
        # One dict per entity type, read with the record's hashes alone: 0.26-0.27 s for 30,000
        # records of the realistic HK file against 0.33-0.35 s with a (hash, type) tuple a key
        # (10,000 entries; the lookup runs on every written record).
        table = self._table().get(entity_type)
        shared: dict[str, float] = {}
        if table is None:
            return shared
        for h in posting_hashes(postings):
            found = table.get(h)
            if found is not None:
                for entry_id, w in found:
                    shared[entry_id] = shared.get(entry_id, 0.0) + w
        return shared

    def floorless(self, entry_ids: set[str]) -> set[str]:
        """Those of the entries that keep no floor above 0."""
        kept = {e for (e, _), (w, _) in self._valid_floors().items() if w > 0}
        return {e for e in entry_ids if e not in kept and e in self._entries}

    def has_floors(self) -> bool:
        return bool(self._valid_floors())

    def entering(self, records: Sequence[StoredRecord], hits: Sequence[list[Hit]]) -> dict[str, Entering]:
        """Of written records' hits, those an entry's kept K best may take in: sharing at least the
        entry's floor (which holds: the snapshot's entry is the one it was looked up for)."""
        floors = self._valid_floors()
        out: dict[str, Entering] = {}
        for rec, found in zip(records, hits, strict=True):
            if not found:
                continue
            etype, doc = rec.entity_type, rec.id  # once a record, not once a hit
            for entry_id, weight, _, _ in found:
                f = floors.get((entry_id, etype))
                if f is not None and weight >= f[0]:
                    if (e := out.get(entry_id)) is None:
                        e = out[entry_id] = Entering(floor_tag(self._entries[entry_id], self.k))
                    e.docs.setdefault(etype, {})[doc] = weight
        return out

    def lowered(self, office: str, before: tuple[str, bytes], after: tuple[str, bytes] | None) -> set[str]:
        """The entries whose K best candidates a write may change by lowering a stored record's
        weight (``before``: its entity type and postings; ``after``: the same once written, None
        when it is withdrawn): those it shared at least their floor with, and now less."""
        was = self._shared(before[1], before[0])
        now = self._shared(after[1], after[0]) if after is not None and after[0] == before[0] else {}
        floors = self._valid_floors()
        # A floor of 0 (fewer than K candidates) too: the record sits among its kept K best.
        return {
            e
            for e, w in was.items()
            if (f := floors.get((e, before[0]))) is not None
            and f[0] <= w
            and now.get(e, 0.0) < w
            and self._entries[e].office != office
        }

    def _plan(self, entry: Entry) -> QueryPlan:
        found = self._plans.get(entry.entry_id)
        if found is None:
            blob = self.snapshot.kept.get(entry.entry_id)
            kept = unpack_profiles(blob, entry.entry_id, entry.name) if blob is not None else None
            if kept is not None:
                found = self._plans[entry.entry_id] = QueryPlan(*kept)
            else:  # an entry kept by an older version (rekey gives it this version's at the next write)
                found = self._plans[entry.entry_id] = query_profiles(entry.query(), self.max_name_length)
                if os.getpid() != self._home:
                    self._unsent.append(entry.entry_id)
        return found

    def _profile(self, entry: Entry, entity_type: str) -> EntityProfile | None:
        return next((p for p in self._plan(entry).profiles if p.entity_type == entity_type), None)

    def hits(self, record: Record, profile: EntityProfile, postings: bytes) -> list[Hit]:
        """The entries of other offices sharing keys with the record at least as heavily as their
        floor (those /match may score for them), each with its verdict."""
        shared = self._shared(postings, record.entity_type)
        floors = self._valid_floors()
        out: list[Hit] = []
        doc = ""
        for entry_id, weight in shared.items():
            entry = self._entries[entry_id]
            if entry.office == record.office:
                continue  # an office is told what others hold, not what it wrote
            floor, last = floors.get((entry_id, record.entity_type), _NO_FLOOR)
            if weight == floor and last and not doc:
                doc = doc_id(record.office, record.record_id)
            if weight < floor or (weight == floor and last and doc > last):
                # Not among the entry's K best: /match does not score it, and the writing process
                # has no use for it either (it can outrank no pair, whose weight is at least the
                # floor, nor enter the kept K best, and an entry with a floor is not floorless).
                # 70 % of the hits on 30,000 records of the HK file were these, each pickled in a
                # worker and read back by the one process every batch waits for. Weights are whole
                # numbers, so many tie with the K-th: of the 12,175 hits left on those records,
                # 4,475 (2,691 with a verdict) tied with it and ranked after it by document id.
                continue
            qp = self._profile(entry, record.entity_type)
            decision = score(qp, profile) if qp is not None else None
            if decision is None or decision.verdict == "none":
                out.append(Hit(entry_id, weight))
            else:
                out.append(Hit(entry_id, weight, decision, pair_names(decision, profile)))
        return out

    def __call__(self, record: Record, profile: EntityProfile, postings: bytes) -> bytes:
        found = self.hits(record, profile, postings)
        plans: Plans = {}
        if self._unsent:
            plans, self._unsent = self.plans(self._unsent), []
        return pickle.dumps((found, plans), pickle.HIGHEST_PROTOCOL) if found or plans else b""


def hits_of(extra: bytes) -> tuple[list[Hit], Plans]:
    """What :class:`ReverseJudge` computed for one record, read back in the writing process: its
    hits, and the entries first normalized in a worker for it."""
    if not extra:
        return [], {}
    found: tuple[list[Hit], Plans] = pickle.loads(extra)  # written by ReverseJudge in this load's own workers
    return found
