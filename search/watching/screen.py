"""Screening standing entries: forward when an entry is added or changed, in reverse when records
are written, and one rule for what each screening changes.

The reverse direction turns the /match lookup around: a written record's keys find the entries
that share them (the weighted key lookup over the entries' keys), and the scorer judges each
(entry, record) pair exactly as /match would (the entry is the query): :mod:`search.watching.reverse`,
in the load's worker processes. An entry that had a verdict on a written record is then screened
forward by the matcher itself; one with a new verdict, or outranked, takes the short cut of
:meth:`Watcher._short_cut`, which rebuilds /match's answer from the candidates' ranks and the
verdicts kept with its pairs. So an alert exists exactly when /match for the entry (partner
offices, every candidate) reports the record, including the top-K candidate cut and the demotion
of a spelling that fits several Chinese names (bench/watching.py compares the two on 10,000
entries).

Only partner offices' records alert: an office is told what others hold, not what it wrote.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from indexer.records import OFFICES
from search.clock import iso, now_utc
from search.matching.demotion import (
    ambiguous,
    basis,
    demote,
    demote_ambiguous,
    may_demote,
    may_demote_sound_alike,
    pair_names,
    reading_names,
)
from search.matching.matcher import Matcher
from search.matching.query import QueryPlan
from search.matching.results import Lookup, Match
from search.matching.scorer import score
from search.storage.base import Candidate, KeyQuery, StoredRecord, doc_id, document
from search.watching.model import Alert, Entry, Pair
from search.watching.reverse import Hit, floor_tag
from search.watching.store import Change, ClosePair, Floor, NewAlert, UpdatePair, WatchStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Found:
    """The scorer's own verdict on a written record (before any demotion), and the Chinese names a
    match by reading stands for."""

    match: Match
    names: tuple[str, ...]
    digest: str  # the written record's content digest (the load computed it)


@dataclass(slots=True)
class Affected:
    """What a write concerns: entries to screen forward in full, and entries concerned only
    because the scorer gave a verdict on written records (those verdicts, by record)."""

    full: set[str] = field(default_factory=set)
    ranked: set[str] = field(default_factory=set)  # a written record may outrank a paired one
    direct: dict[str, dict[str, Found]] = field(default_factory=dict)

    def merge(self, other: Affected) -> None:
        self.full |= other.full
        self.ranked |= other.ranked
        for entry_id, found in other.direct.items():
            self.direct.setdefault(entry_id, {}).update(found)

    def __bool__(self) -> bool:
        return bool(self.full or self.ranked or self.direct)


@dataclass(frozen=True, slots=True)
class Seen:
    """What the forward screening of one entry said about one record."""

    verdict: str
    match: Match
    digest: str
    weight: float  # summed weight of the keys the record shares with the entry
    raw: str  # see Pair.raw, Pair.names
    names: tuple[str, ...]


def transition(old: Pair | None, entry: Entry, doc: str, seen: Seen | None, trigger: str) -> Change | None:
    """The one rule: what a screening's verdict on (entry, record) changes.

    - a new positive verdict alerts; a positive verdict on a pair that had none before too;
    - the same verdict again alerts nobody, on the same record version or a changed one
      (a reload of an unchanged file, or an edit that leaves the verdict as it was);
    - a changed verdict (possible → match) alerts again and supersedes the earlier alert;
    - a dismissed pair stays silent until the record changes;
    - no verdict any more (the record changed away, or was withdrawn) closes the open alert."""
    if seen is None:
        if old is None:
            return None
        return ClosePair(entry.entry_id, doc, old.alert_seq, "the record no longer matches")
    if old is not None:
        dismissed_here = old.dismissed_digest is not None and old.dismissed_digest == seen.digest
        unchanged = old.verdict == seen.verdict and (old.digest == seen.digest or old.dismissed_digest is None)
        if dismissed_here or unchanged:
            if (old.verdict, old.digest, old.weight, old.raw, old.names) == (
                seen.verdict, seen.digest, seen.weight, seen.raw, seen.names
            ):  # fmt: skip
                return None
            return UpdatePair(entry.entry_id, doc, seen.verdict, seen.digest, seen.weight, seen.raw, seen.names)
    rec = seen.match.record
    detail = {
        "entry": {
            k: v
            for k, v in entry.to_dict().items()
            if k in ("name", "entity_type", "id_number", "birth_date", "reference", "note")
        },
        "record": seen.match.to_dict(),
        "trigger": trigger,
    }
    alert = Alert(0, entry.office, entry.list_id, entry.entry_id, rec.office, rec.record_id, seen.digest,
                  seen.verdict, round(seen.match.decision.score, 4), "open", "", "", detail)  # fmt: skip
    return NewAlert(alert, old.alert_seq if old is not None else None, seen.weight, seen.raw, seen.names)


def _sound_alike_at_stake(kept: list[Pair], fresh: dict[str, Found]) -> bool:
    """Could :func:`demote_sound_alike` decide this entry's answer? When it holds a match by
    reading on a record without Chinese names and a possible on a record with some (the only kind
    of pair that can sound alike; its names are kept with it). The pairs do not keep which names
    sound alike, so such an entry is screened in full."""
    read = any(p.raw is None or (p.raw == "reading" and not p.names) for p in kept) or any(
        basis(f.match.decision) == "reading" and not f.names for f in fresh.values()
    )
    alike = any(p.raw is None or (p.raw == "possible" and p.names) for p in kept) or any(
        f.match.decision.verdict == "possible" and f.names for f in fresh.values()
    )
    return read and alike


class Watcher:
    """Keeps every office's standing entries screened against the records."""

    def __init__(self, watch: WatchStore, matcher: Matcher, max_name_length: int) -> None:
        self.watch = watch
        self.matcher = matcher
        self.max_name_length = max_name_length
        # Each entry's lookups as /match plans them, by (entry, version): a load's short cuts and
        # forward runs meet the same entries again (query_profiles was a quarter of the short cut).
        self._plans: dict[tuple[str, int], tuple[list[Lookup], list[KeyQuery]]] = {}
        self._normalized: dict[tuple[str, int], QueryPlan] = {}  # see adopt
        self._lock = threading.Lock()  # one reconcile at a time in this process
        self._floors: list[Floor] = []  # looked up since the last _apply (see search.watching.reverse)
        self.on_alert: Callable[[list[int]], None] | None = None  # wakes the webhook worker

    def forward(self, entry: Entry) -> dict[str, Seen]:
        """/match for the entry over the partner offices, every candidate: record → verdict, with
        the summed weight of the keys the record shares with the entry (its rank among the candidates)."""
        partners = [o for o in OFFICES if o != entry.office]
        m = self.matcher
        lookups, wanted = self._plan(entry)
        cands = [m.store.candidates(keys, etype, partners, m.candidates) for keys, etype in wanted]
        self._floor(entry, [etype for _, etype in wanted], cands)
        weights = {c.id: c.weight for found in cands for c in found}
        # Every candidate's verdict: the limit is the candidates of all lookups (a query of no
        # entity type is looked up as a person and as a company). The scorer's own verdicts are
        # kept with each pair before the demotion, so a later screening can decide it without
        # scoring the pairs again (see screen).
        result = m.judge([entry.query()], lookups, cands, m.candidates * len(lookups), demote=False)[0]
        own = {id(x): (basis(x.decision), reading_names(x.decision, m.profile_of(x.record))) for x in result.matches}
        demote_ambiguous(result, [lk.profile for lk in lookups], m.profile_of)
        out: dict[str, Seen] = {}
        for match in [*result.matches, *result.possible]:
            rec = match.record
            doc = doc_id(rec.office, rec.record_id)
            raw, names = own.get(id(match)) or (match.decision.verdict, pair_names(match.decision, m.profile_of(rec)))
            out[doc] = Seen(match.decision.verdict, match, document(rec)[1], weights.get(doc, 0.0), raw, names)
        return out

    def screen_entries(self, entries: Iterable[Entry], trigger: str) -> list[int]:
        """Screen entries forward and reconcile each one's pairs with the answer; new alerts' numbers."""
        changes: list[Change] = []
        entries = list(entries)
        pairs = self.watch.pairs_of_entries([e.entry_id for e in entries])
        for entry in entries:
            seen = self.forward(entry)
            old = {p.doc: p for p in pairs.get(entry.entry_id, [])}
            for doc in sorted(set(seen) | set(old)):
                ch = transition(old.get(doc), entry, doc, seen.get(doc), trigger)
                if ch is not None:
                    changes.append(ch)
        return self._apply(changes)

    def _top_k(self, entry: Entry) -> list[list[Candidate]]:
        """The entry's K best candidates by lookup, as /match looks them up (ids and weights), its
        floors noted."""
        m = self.matcher
        partners = [o for o in OFFICES if o != entry.office]
        _, wanted = self._plan(entry)
        looked = [m.store.candidates(keys, etype, partners, m.candidates, records=False) for keys, etype in wanted]
        self._floor(entry, [etype for _, etype in wanted], looked)
        return looked

    def _floor(self, entry: Entry, etypes: list[str], cands: list[list[Candidate]]) -> None:
        """Note each lookup's floor: its K-th candidate's weight (0 with fewer than K)."""
        k = self.matcher.candidates
        tag = floor_tag(entry, k)
        self._floors.extend(
            (entry.entry_id, t, tag, c[k - 1].weight if len(c) >= k else 0.0)
            for t, c in zip(etypes, cands, strict=True)
        )

    def _apply(self, changes: list[Change]) -> list[int]:
        with self._lock:
            new = self.watch.apply(changes, iso(now_utc()))
            floors, self._floors = self._floors, []
            self.watch.set_floors(floors)
        if new:
            logger.info("%d new alert(s)", len(new))
            if self.on_alert is not None:
                self.on_alert(new)
        return new

    def adopt(self, plans: dict[tuple[str, int], QueryPlan]) -> None:
        """Entries normalized by a load's reverse lookup in this process, by (entry, version): their
        lookups need not normalize them again (that was 4.3 s of an 18,158-row office load's end
        with 10,000 entries, py-spy)."""
        if len(self._normalized) > 50_000:
            self._normalized.clear()
        self._normalized.update(plans)

    def _plan(self, entry: Entry) -> tuple[list[Lookup], list[KeyQuery]]:
        key = (entry.entry_id, entry.version)
        hit = self._plans.get(key)
        if hit is None:
            if len(self._plans) > 50_000:
                self._plans.clear()
            normalized = self._normalized.pop(key, None)
            if normalized is not None:
                hit = self._plans[key] = self.matcher.lookups([normalized])
            else:
                hit = self._plans[key] = self.matcher.plan([entry.query()], [o for o in OFFICES if o != entry.office])
        return hit

    def affected_by(self, records: Sequence[StoredRecord], hits: Sequence[list[Hit]]) -> Affected:
        """The entries whose /match answer a written batch may have changed, given the reverse
        lookup's hits on each record (:mod:`search.watching.reverse`): an entry with a pair on one
        of the records (screened in full); an entry sharing keys with one of them at least as
        heavily as with a record it has a pair on (a new candidate ranked above an alerted one can
        push it past the top-K cut); an entry the scorer gives a verdict on a record, with that
        verdict (see :meth:`screen`)."""
        out = Affected()
        if not records:
            return out
        # Pairs first: a record changed away from an entry shares no key with it any more.
        out.full = {p.entry_id for p in self.watch.pairs_of_docs([r.id for r in records])}
        sharing = sorted({h.entry_id for found in hits for h in found} - out.full)
        lightest = self.watch.lightest_pairs(sharing) if sharing else {}
        for rec, found in zip(records, hits, strict=True):
            record = None
            for hit in found:
                if hit.entry_id in out.full:
                    continue
                if hit.weight >= lightest.get(hit.entry_id, float("inf")):
                    out.ranked.add(hit.entry_id)
                if hit.decision is not None:
                    record = record or rec.record
                    out.direct.setdefault(hit.entry_id, {})[rec.id] = Found(
                        Match(record, hit.decision), hit.names, rec.digest
                    )
        return out

    def screen(self, affected: Affected, trigger: str) -> list[int]:
        """Screen what a write concerns. An entry with a pair on a written record is screened
        forward in full. One concerned only through the scorer's verdicts on written records, or
        because a written record may outrank a paired one, takes a short cut (:meth:`_short_cut`)."""
        full = set(affected.full)
        changes: list[Change] = []
        entries = self.watch.entries_by_id(sorted((set(affected.direct) | affected.ranked) - full))
        pairs = self.watch.pairs_of_entries(list(entries))  # changed only by the _apply after the loop
        for entry_id, entry in entries.items():
            found = self._short_cut(entry, pairs.get(entry_id, []), affected.direct.get(entry_id, {}), trigger)
            if found is None:
                full.add(entry_id)
            else:
                changes.extend(found)
        new = self._apply(changes)
        return new + self.screen_ids(full, trigger)

    def _short_cut(self, entry: Entry, pairs: list[Pair], found: dict[str, Found], trigger: str) -> list[Change] | None:
        """/match's answer for the entry, rebuilt without scoring its candidates again: its top-K
        candidates are looked up as /match looks them up; the written records among them take the
        scorer's verdicts, its paired records among them keep the scorer's verdicts kept with the
        pair, and a paired record no longer among them is closed, as /match no longer scores it.
        A romanized name's demotion is then decided over those verdicts as /match decides it. None
        when a pair predates the kept verdicts (the entry is then screened in full)."""
        lookups, _ = self._plan(entry)
        weights = {c.id: c.weight for cands in self._top_k(entry) for c in cands}
        demoting = may_demote([lk.profile for lk in lookups])
        if demoting and any(p.raw is None for p in pairs):
            return None
        changes: list[Change] = []
        kept: list[Pair] = []
        for p in pairs:
            if p.doc not in weights:
                changes.append(ClosePair(entry.entry_id, p.doc, p.alert_seq, "outranked: /match no longer scores it"))
            else:
                kept.append(p)
        paired = {p.doc for p in pairs}
        fresh = {doc: f for doc, f in sorted(found.items()) if doc in weights and doc not in paired}
        if may_demote_sound_alike([lk.profile for lk in lookups]) and _sound_alike_at_stake(kept, fresh):
            return None
        names: list[str] = []
        if demoting:
            by_reading = [p.names for p in kept if p.raw == "reading"]
            by_reading += [f.names for f in fresh.values() if basis(f.match.decision) == "reading"]
            names = ambiguous(by_reading)
        # A kept pair was not written in this batch (the entry would be screened in full): only a
        # demotion decided differently changes its verdict, and the new alert needs the scorer's words.
        turned = {
            p.doc: (p, v)
            for p in kept
            if p.raw is not None
            and (v := "possible" if names and p.raw == "reading" else "match" if p.raw == "reading" else p.raw)
            != p.verdict
        }
        for doc, match in self._rescore(entry, list(turned)).items():
            p, verdict = turned[doc]
            if names and p.raw == "reading":
                demote(match, names)
            seen = Seen(verdict, match, p.digest, weights[doc], p.raw or verdict, p.names)
            ch = transition(p, entry, doc, seen, trigger)
            if ch is not None:
                changes.append(ch)
        for doc, f in fresh.items():
            raw = basis(f.match.decision)
            if names and raw == "reading":
                demote(f.match, names)
            seen = Seen(f.match.decision.verdict, f.match, f.digest, weights[doc], raw, f.names)
            ch = transition(None, entry, doc, seen, trigger)
            if ch is not None:
                changes.append(ch)
        return changes

    def look_up_floors(self, entry_ids: set[str]) -> None:
        """Look up these entries' K best candidates for their floors alone (see WatchedStore)."""
        for entry in self.watch.entries_by_id(sorted(entry_ids)).values():
            self._top_k(entry)
        self._apply([])

    def _rescore(self, entry: Entry, docs: list[str]) -> dict[str, Match]:
        """The scorer's verdicts on stored records for the entry (those still stored)."""
        out: dict[str, Match] = {}
        lookups, _ = self._plan(entry)
        for doc, record in self.matcher.store.get_many(docs).items() if docs else ():
            for lk in lookups:
                if lk.profile.entity_type == record.entity_type:
                    out[doc] = Match(record, score(lk.profile, self.matcher.profile_of(record)))
                    break
        return out

    def screen_ids(self, entry_ids: Iterable[str], trigger: str) -> list[int]:
        """Screen these entries forward (those that still exist), 500 at a time."""
        ids = sorted(entry_ids)
        new: list[int] = []
        for start in range(0, len(ids), 500):
            new.extend(self.screen_entries(self.watch.entries_by_id(ids[start : start + 500]).values(), trigger))
        return new

    def withdrawn(self, doc: str, lowered: set[str]) -> list[int]:
        """A record left the store: its open alerts close, and the entries that had it are screened
        again (its absence can change their other verdicts: a spelling that fitted two Chinese
        names fits one again, and a candidate beyond the top-K cut moves up), with those it was
        among the K best candidates of (``lowered``: a record beyond the cut moves up)."""
        pairs = self.watch.pairs_of_docs([doc])
        changes: list[Change] = [ClosePair(p.entry_id, p.doc, p.alert_seq, "the record was withdrawn") for p in pairs]
        return self._apply(changes) + self.screen_ids({p.entry_id for p in pairs} | lowered, "withdrawal")

    def entry_removed(self, entry: Entry) -> None:
        """An entry was deleted: its open alerts close, then it goes."""
        changes: list[Change] = [
            ClosePair(p.entry_id, p.doc, p.alert_seq, "the watch entry was deleted")
            for p in self.watch.pairs_of_entries([entry.entry_id]).get(entry.entry_id, [])
        ]
        self._apply(changes)
        self.watch.delete_entry(entry.entry_id)
