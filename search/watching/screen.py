"""Screening standing entries: forward when an entry is added or changed, in reverse when records
are written, and one rule for what each screening changes.

The reverse direction turns the /match lookup around: a written record's keys find the entries
that share them (the weighted key lookup over the entries' keys), and the scorer judges each
(entry, record) pair exactly as /match would (the entry is the query): :mod:`search.watching.reverse`,
in the load's worker processes. An entry that had a verdict on a written record that now shares
less key weight with it is then screened forward by the matcher itself; one with a new verdict,
with a paired record written again at no less weight, or outranked, takes the short cut of
:meth:`Watcher._short_cut`, which rebuilds /match's answer from the candidates' ranks, the written
records' new verdicts and the verdicts kept with its other pairs. So an alert exists exactly
when /match for the entry (partner offices, every candidate) reports the record, including the
top-K candidate cut and the demotion of a spelling that fits several Chinese names
(bench/watching.py compares the two on 10,000 entries). What each verdict changes is the rule of :mod:`search.watching.rules`.

The candidates' ranks: each entry keeps its K best candidates of each type with its floor (the
K-th's weight). Writing records only adds candidates or raises their weights, unless a write
lowers a kept candidate's (which screens the entry in full: ReverseJudge.lowered); so /match's K
best after a load are the K best of the kept ones and the written records sharing at least the
floor, which the load's workers weighed (:func:`~search.watching.rules.ranked_top`). Looking each
concerned entry up again instead was most of a load's end: about 5,000 entries an office file of
the realistic million, 2.3 ms each (py-spy, 3 Dec).

Only partner offices' records alert: an office is told what others hold, not what it wrote.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence

from indexer.keys import QUERY_KEYS_VERSION
from indexer.records import OFFICES, EntityProfile
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
from search.matching.query import QueryPlan, query_profiles
from search.matching.results import Lookup, Match
from search.matching.scorer import score
from search.storage.base import Candidate, KeyQuery, StoredRecord, doc_id, document
from search.watching.model import Entry, Pair
from search.watching.reverse import Entering, Hit, floor_tag
from search.watching.rules import Affected, Found, Seen, ranked_top, sound_alike_at_stake, transition
from search.watching.store import Change, ClosePair, KeptFloor, Top, WatchStore

logger = logging.getLogger(__name__)
# Entries whose lookups go to the store together when entries are screened forward: up to about
# 200 searches of K candidates with their documents in one Elasticsearch msearch answer.
LOOKUP_BATCH = 100


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
        self._floors: list[KeptFloor] = []  # looked up or ranked since the last _apply (see screen)
        self.on_alert: Callable[[list[int]], None] | None = None  # wakes the webhook worker

    def forward(self, entry: Entry, cands: list[list[Candidate]] | None = None) -> dict[str, Seen]:
        """/match for the entry over the partner offices, every candidate: record → verdict, with
        the summed weight of the keys the record shares with the entry (its rank among the
        candidates). ``cands``: its lookups' candidates if already looked up (:meth:`_looked_up`)."""
        m = self.matcher
        lookups, wanted = self._plan(entry)
        if cands is None:
            cands = self._looked_up([entry])[0]
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
        for i in range(0, len(entries), LOOKUP_BATCH):
            batch = entries[i : i + LOOKUP_BATCH]
            for entry, cands in zip(batch, self._looked_up(batch), strict=True):
                changes.extend(self._reconciled(entry, self.forward(entry, cands), pairs, trigger))
        return self._apply(changes)

    def _looked_up(self, entries: list[Entry]) -> list[list[list[Candidate]]]:
        """Each entry's candidates by lookup, as /match looks them up (its partner offices, every
        record), in one batch per office: an Elasticsearch msearch, where a search per lookup was
        2,712 round trips for 2,000 new entries, 23.8 s of 52 s (cProfile, 5 Dec, night)."""
        m = self.matcher
        out: dict[int, list[list[Candidate]]] = {}
        for office in dict.fromkeys(e.office for e in entries):
            mine = [(i, self._plan(e)[1]) for i, e in enumerate(entries) if e.office == office]
            partners = [o for o in OFFICES if o != office]
            queries = [q for _, w in mine for q in w]
            found = iter(m.store.candidates_many(queries, partners, m.candidates) if queries else [])
            out.update((i, [next(found) for _ in w]) for i, w in mine)
        return [out[i] for i in range(len(entries))]

    def _reconciled(
        self, entry: Entry, seen: dict[str, Seen], pairs: dict[str, list[Pair]], trigger: str
    ) -> list[Change]:
        """What the entry's forward screening changes in its pairs."""
        old = {p.doc: p for p in pairs.get(entry.entry_id, [])}
        found = (transition(old.get(doc), entry, doc, seen.get(doc), trigger) for doc in sorted(set(seen) | set(old)))
        return [ch for ch in found if ch is not None]

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
        """Note each lookup's K best candidates and floor: its K-th candidate's weight (0 with fewer than K)."""
        tag = floor_tag(entry, self.matcher.candidates)
        for t, c in zip(etypes, cands, strict=True):
            self._keep(entry.entry_id, t, tag, tuple((x.id, x.weight) for x in c))

    def _keep(self, entry_id: str, etype: str, tag: str, top: Top) -> None:
        k = self.matcher.candidates
        self._floors.append((entry_id, etype, tag, top[k - 1][1] if len(top) >= k else 0.0, top[:k]))

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

    def _profiles(self, entry: Entry) -> tuple[EntityProfile, ...]:
        """The entry normalized, without its keys (a short cut with the K best kept needs no lookup)."""
        key = (entry.entry_id, entry.version)
        hit = self._plans.get(key)
        if hit is not None:
            return tuple(lk.profile for lk in hit[0])
        normalized = self._normalized.get(key)
        if normalized is None:
            normalized = self._normalized[key] = query_profiles(entry.query(), self.max_name_length)
        return normalized.profiles

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

    def affected_by(
        self, records: Sequence[StoredRecord], hits: Sequence[list[Hit]], retyped: set[str] | None = None
    ) -> Affected:
        """The entries whose /match answer a written batch may have changed, given the reverse
        lookup's hits on each record (:mod:`search.watching.reverse`): an entry with a pair on one
        of the records, screened in full unless the record still shares at least the weight the
        pair was ranked at (it then lets no other record into the entry's K best, and its new
        verdict, or none, replaces the pair's: ``rewritten``); an entry sharing keys with one of
        them at least as heavily as with a record it has a pair on (a new candidate ranked above an
        alerted one can push it past the top-K cut); an entry the scorer gives a verdict on a
        record, with that verdict (see :meth:`screen`). ``retyped``: records whose entity type
        changed, which leave the K best of their old type (their entries are screened in full)."""
        out = Affected()
        if not records:
            return out
        # Pairs first: a record changed away from an entry shares no key with it any more. Before,
        # every entry with a pair on a written record was screened in full: 714 /match lookups at
        # the end of the HK file's 5 %-changed reload into the watched ten offices, 5.8 s of 12.9.
        shares = {(h.entry_id, rec.id): h.weight for rec, found in zip(records, hits, strict=True) for h in found}
        for p in self.watch.pairs_of_docs([r.id for r in records]):
            if shares.get((p.entry_id, p.doc), -1.0) < p.weight or (retyped and p.doc in retyped):
                out.full.add(p.entry_id)
            else:
                out.rewritten.setdefault(p.entry_id, set()).add(p.doc)  # screen() skips those in full
        sharing = sorted({h.entry_id for found in hits for h in found} - out.full)
        lightest = self.watch.lightest_pairs(sharing) if sharing else {}
        full, ranked, never = out.full, out.ranked, float("inf")
        for rec, found in zip(records, hits, strict=True):
            record = None
            for entry_id, weight, decision, names in found:
                if entry_id in full:
                    continue
                if weight >= lightest.get(entry_id, never):
                    ranked.add(entry_id)
                if decision is not None:
                    record = record or rec.record
                    out.direct.setdefault(entry_id, {})[rec.id] = Found(Match(record, decision), names, rec.digest)
        return out

    def screen(self, affected: Affected, trigger: str) -> list[int]:
        """Screen what a write concerns. An entry with a pair on a written record that shares less
        weight with it now is screened forward in full. One concerned only through the scorer's
        verdicts on written records (paired ones written again included), or because a written
        record may outrank a paired one, takes a short cut (:meth:`_short_cut`)."""
        full = set(affected.full)
        changes: list[Change] = []
        short = sorted((set(affected.direct) | affected.ranked | set(affected.rewritten)) - full)
        entries = self.watch.entries_by_id(short)
        kept = self.watch.tops(sorted((set(short) | set(affected.entering)) - full))
        pairs = self.watch.pairs_of_entries(list(entries))  # changed only by the _apply after the loop
        for entry_id, entry in entries.items():
            top = self._ranked(entry, kept, affected.entering.get(entry_id))
            written = affected.rewritten.get(entry_id, set())
            found = self._short_cut(
                entry, pairs.get(entry_id, []), affected.direct.get(entry_id, {}), written, trigger, top
            )
            if found is None:
                full.add(entry_id)
            else:
                changes.extend(found)
        k = self.matcher.candidates
        for entry_id, e in affected.entering.items():
            if entry_id not in full and entry_id not in entries:
                for t, docs in e.docs.items():
                    if (held := kept.get((entry_id, t))) is not None and held[0] == e.tag:
                        self._keep(entry_id, t, e.tag, ranked_top(held[1], docs, k))
        new = self._apply(changes)
        return new + self.screen_ids(full, trigger)

    def _ranked(
        self, entry: Entry, kept: dict[tuple[str, str], tuple[str, Top]], e: Entering | None
    ) -> dict[str, Top] | None:
        """The entry's K best candidates after a write, by entity type, from those kept and the
        written records sharing at least the floor (``e``); None unless every type's are kept for
        this entry version and these keys (the entry is then looked up)."""
        k = self.matcher.candidates
        tag = floor_tag(entry, k)
        etypes = [p.entity_type for p in self._profiles(entry)]
        if entry.keyed != QUERY_KEYS_VERSION or any(kept.get((entry.entry_id, t), ("",))[0] != tag for t in etypes):
            return None
        out: dict[str, Top] = {}
        for t in etypes:
            out[t] = ranked_top(kept[(entry.entry_id, t)][1], e.docs.get(t, {}) if e is not None else {}, k)
            self._keep(entry.entry_id, t, tag, out[t])
        return out

    def _short_cut(
        self,
        entry: Entry,
        pairs: list[Pair],
        found: dict[str, Found],
        rewritten: set[str],
        trigger: str,
        top: dict[str, Top] | None,
    ) -> list[Change] | None:
        """/match's answer for the entry, rebuilt without scoring its candidates again: its top-K
        candidates (``top``, else looked up as /match looks them up); the written records among them take the
        scorer's verdicts (``found``; a paired record written again, in ``rewritten``, without one is
        closed), its other paired records among them keep the scorer's verdicts kept with the
        pair, and a paired record no longer among them is closed, as /match no longer scores it.
        A romanized name's demotion is then decided over those verdicts as /match decides it. None
        when a pair predates the kept verdicts (the entry is then screened in full)."""
        profiles = self._profiles(entry)
        if top is not None:
            weights = {doc: w for t in top.values() for doc, w in t}
        else:
            weights = {c.id: c.weight for cands in self._top_k(entry) for c in cands}
        demoting = may_demote(profiles)
        if demoting and any(p.raw is None for p in pairs):
            return None
        changes: list[Change] = []
        kept: list[Pair] = []
        for p in pairs:
            if p.doc not in weights:
                changes.append(ClosePair(entry.entry_id, p.doc, p.alert_seq, "outranked: /match no longer scores it"))
            elif p.doc not in rewritten:
                kept.append(p)
            elif p.doc not in found and (ch := transition(p, entry, p.doc, None, trigger)) is not None:
                changes.append(ch)  # written again, and the scorer has no verdict on it now
        paired = {p.doc: p for p in pairs}
        fresh = {
            doc: f for doc, f in sorted(found.items()) if doc in weights and (doc not in paired or doc in rewritten)
        }
        if may_demote_sound_alike(profiles) and sound_alike_at_stake(kept, fresh):
            return None
        names: list[str] = []
        if demoting:
            by_reading = [p.names for p in kept if p.raw == "reading"]
            by_reading += [f.names for f in fresh.values() if basis(f.match.decision) == "reading"]
            names = ambiguous(by_reading)
        # A kept pair's record was not written (a written one is in ``fresh``, or closed above): only
        # a demotion decided differently changes its verdict, and the new alert needs the scorer's words.
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
            ch = transition(paired.get(doc), entry, doc, seen, trigger)
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
        profiles = self._profiles(entry)
        # With the profiles the load kept, not the records normalized again in the writing process
        # (this rescoring and its normalizing: 56 of the 224 py-spy samples of the HK file's load end).
        for doc, (record, kept) in self.matcher.stored(docs).items() if docs else ():
            for p in profiles:
                if p.entity_type == record.entity_type:
                    out[doc] = Match(record, score(p, kept))
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
