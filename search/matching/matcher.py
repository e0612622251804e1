"""The matcher: a query → keys → candidates from the store → scored, explained matches.

Backend-agnostic: it talks to any :class:`search.storage.base.Store`. A candidate's profile comes
with it from the store (kept there by the load) and is cached by (document id, content), so that
popular records are not even unpacked once per query.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence

from indexer.keys import query_keys
from indexer.records import EntityProfile, Record, record_profile
from search.errors import InvalidInput
from search.matching.demotion import demote_ambiguous
from search.matching.entities import group
from search.matching.query import DEFAULT_MAX_NAME_LENGTH, Query, QueryPlan, check_offices, query_profiles
from search.matching.results import Lookup, Match, Result, rank
from search.matching.scorer import score
from search.storage.base import Candidate, Store, doc_id

logger = logging.getLogger(__name__)


class Matcher:
    """Answers queries against one store."""

    def __init__(
        self,
        store: Store,
        candidates: int = 50,
        max_name_length: int = DEFAULT_MAX_NAME_LENGTH,
        cache_size: int = 1_000,  # see _profiles
    ) -> None:
        self.store = store
        self.candidates = candidates  # fetched from the store per query, before scoring
        self.max_name_length = max_name_length
        self._cache: OrderedDict[str, tuple[Record, EntityProfile]] = OrderedDict()
        self._cache_size = cache_size

    def _profiles(self, cands: Sequence[Candidate]) -> dict[str, tuple[Record, EntityProfile]]:
        # The cache held 20,000 profiles until the load kept each record's profile in the store: its
        # hits then saved nothing measurable (2.18-2.29 ms of CPU a query with 20,000, 2.16-2.20 with
        # 1,000: 8,000 realistic queries on the million, in process), and it held about 55 MB in
        # every request process (two processes on the million: 494 MB PSS in all with 20,000, 387 MB
        # with 1,000; bench/realistic.py --skip-load --processes 2).
        out: dict[str, tuple[Record, EntityProfile]] = {}
        missing = [c.id for c in cands if c.id not in self._cache and c.record is None]
        fetched = self.store.fetch(missing) if missing else {}
        for cand in cands:
            c = cand if cand.record is not None else fetched.get(cand.id, cand)
            hit = self._cache.get(c.id)
            rec = c.record
            if hit is not None and (rec is None or hit[0] == rec):
                self._cache.move_to_end(c.id)
                out[c.id] = hit
                continue
            if rec is None:
                continue  # withdrawn between retrieval and fetch
            # The profile the load kept with the record, read back in a quarter of the time of
            # normalizing the record again (search/storage/profiles.py).
            kept = c.profile
            entry = (rec, kept if kept is not None else record_profile(rec))
            self._cache[c.id] = entry
            out[c.id] = entry
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return out

    def stored(self, ids: Sequence[str]) -> dict[str, tuple[Record, EntityProfile]]:
        """Stored records by document id with their profiles (those still stored)."""
        return self._profiles([Candidate(doc, 0.0) for doc in ids])

    def clear(self) -> None:
        """Drop every cached profile (after a load changed records)."""
        self._cache.clear()

    def forget(self, office: str, record_id: str) -> None:
        """Drop a cached profile after its record changed or was withdrawn."""
        self._cache.pop(doc_id(office, record_id), None)

    def match(self, q: Query, offices: Sequence[str] | None = None, limit: int = 10) -> Result:
        """Match one query: candidates by shared keys, then the scorer's verdicts."""
        return self.match_many([q], offices, limit)[0]

    def match_many(
        self, queries: Sequence[Query], offices: Sequence[str] | None = None, limit: int = 10
    ) -> list[Result]:
        """Match a batch; the store fetches every query's candidates in one round trip where it
        can (Elasticsearch msearch). Raises InvalidInput naming ``queries.<i>.<field>``."""
        offices = check_offices(offices)
        lookups, wanted = self.plan(queries, offices)
        if len(wanted) > 1:
            all_cands = self.store.candidates_many(wanted, offices, self.candidates)
        else:
            all_cands = [self.store.candidates(k, et, offices, self.candidates) for k, et in wanted]
        return self.judge(queries, lookups, all_cands, limit)

    def plan(
        self, queries: Sequence[Query], offices: Sequence[str] | None = None
    ) -> tuple[list[Lookup], list[tuple[dict[str, float], str]]]:
        """Validate and normalize a batch: its lookups (one per query and entity type searched)
        and each lookup's (keys, entity type). The first half of :meth:`match_many`, for callers
        that fetch candidates themselves (the API's async Elasticsearch path)."""
        check_offices(offices)
        plans: list[QueryPlan] = []
        for i, q in enumerate(queries):
            try:
                plans.append(query_profiles(q, self.max_name_length))
            except InvalidInput as exc:
                prefix = f"queries.{i}" if len(queries) > 1 else None
                if prefix:
                    exc.field = f"{prefix}.{exc.field}" if exc.field else prefix
                raise
        return self.lookups(plans)

    def lookups(self, plans: Sequence[QueryPlan]) -> tuple[list[Lookup], list[tuple[dict[str, float], str]]]:
        """The lookups of normalized queries (:meth:`plan` without the normalization)."""
        lookups = [Lookup(i, plan, qp, query_keys(qp)) for i, plan in enumerate(plans) for qp in plan.profiles]
        return lookups, [(lk.keys, lk.profile.entity_type) for lk in lookups]

    def judge(
        self,
        queries: Sequence[Query],
        lookups: Sequence[Lookup],
        all_cands: Sequence[list[Candidate]],
        limit: int,
        demote: bool = True,
    ) -> list[Result]:
        """The scorer's verdicts on every query's candidates: the second half of :meth:`match_many`.
        ``demote=False`` leaves ambiguous spellings as the scorer judged them (the watcher records
        those verdicts, then demotes by :func:`demote_ambiguous` itself)."""
        results = [Result(q.query_id, q) for q in queries]
        query_profiles: dict[int, list[EntityProfile]] = {}
        # The profiles of this call's candidates, for the demotion and the grouping below: a batch's
        # candidates outnumber the cache, which would forget the first queries' before their turn.
        known: dict[str, tuple[Record, EntityProfile]] = {}

        def profile_of(rec: Record) -> EntityProfile:
            hit = known.get(doc_id(rec.office, rec.record_id))
            return hit[1] if hit is not None and hit[0] == rec else self.profile_of(rec)

        for lk, cands in zip(lookups, all_cands, strict=True):
            res = results[lk.query]
            for m in self._verdicts(lk.profile, cands, None, known):
                (res.matches if m.decision.match else res.possible).append(m)
            res.candidates += len(cands)
            res.entity_types = lk.plan.entity_types
            res.assumed = lk.plan.assumed
            query_profiles.setdefault(lk.query, []).append(lk.profile)
        for i, res in enumerate(results):
            if demote:
                demote_ambiguous(res, query_profiles.get(i, []), profile_of)
            res.matches.sort(key=rank)
            res.possible.sort(key=rank)
            del res.matches[limit:]
            del res.possible[limit:]
            res.entities = group([m.record for m in res.matches], profile_of)
        return results

    def profile_of(self, rec: Record) -> EntityProfile:
        """A record's profile, from the cache when it holds this version."""
        hit = self._cache.get(doc_id(rec.office, rec.record_id))
        return hit[1] if hit is not None and hit[0] == rec else record_profile(rec)

    def _verdicts(
        self,
        qp: EntityProfile,
        cands: list[Candidate],
        floor: float | None,
        known: dict[str, tuple[Record, EntityProfile]] | None = None,
    ) -> list[Match]:
        """The scorer's verdict on each candidate: the matches, plus (with ``floor``) the near
        misses scoring at least that; matches first, then by score, office, record id. The
        candidates' profiles are added to ``known``."""
        profiles = self._profiles(cands)
        if known is not None:
            known.update(profiles)
        out: list[Match] = []
        for c in cands:
            entry = profiles.get(c.id)
            if entry is None:
                continue
            decision = score(qp, entry[1])
            kept = decision.verdict != "none" if floor is None else decision.score >= floor
            if kept:
                out.append(Match(entry[0], decision))
        out.sort(key=rank)
        return out

    def scored(self, q: Query, offices: Sequence[str] | None, limit: int, floor: float) -> list[Match]:
        """Every candidate scoring at least ``floor``, judged match or not, best first: for callers
        that show near misses too (OpenRefine reconciliation lets a person pick among them)."""
        offices = check_offices(offices)
        lookups, _ = self.plan([q], offices)
        found: list[Match] = []
        for lk in lookups:
            cands = self.store.candidates(lk.keys, lk.profile.entity_type, offices, self.candidates)
            found.extend(self._verdicts(lk.profile, cands, floor))
        return sorted(found, key=rank)[:limit]

    def same_entity(self, rec: Record) -> list[Match]:
        """Other records the scorer judges to be the same entity as ``rec``, best first (matched by
        its name and first two aliases, with its ID number and birth date)."""
        same: dict[tuple[str, str], Match] = {}
        for name in [rec.name, *rec.aliases][:3]:
            q = Query(name, rec.entity_type, None, rec.id_number, rec.birth_date, rec.gender)
            for m in self.match(q, None, 20).matches:
                key = (m.record.office, m.record.record_id)
                if key != (rec.office, rec.record_id) and key not in same:
                    same[key] = m
        return sorted(same.values(), key=lambda m: -m.decision.score)
