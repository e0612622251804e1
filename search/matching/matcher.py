"""The matcher: a query → keys → candidates from the store → scored, explained matches.

Backend-agnostic: it talks to any :class:`search.storage.base.Store`. Candidate profiles are cached by
(document id, content) so that popular records are normalized once, not once per query.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from indexer.keys import profile_keys
from indexer.records import EntityProfile, Record, record_profile
from search.errors import InvalidInput
from search.matching.entities import Entity, describe, group
from search.matching.query import DEFAULT_MAX_NAME_LENGTH, Query, QueryPlan, check_offices, query_profiles
from search.matching.scorer import Decision, score
from search.matching.similarity import cantonese_homophones, mandarin_homophones
from search.storage.base import Candidate, Store, doc_id

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Match:
    record: Record
    decision: Decision

    def to_dict(self) -> dict[str, Any]:
        r = self.record
        return {
            "office": r.office,
            "record_id": r.record_id,
            "entity_type": r.entity_type,
            "name": r.name,
            "birth_date": r.birth_date,
            "id_number": r.id_number,
            "gender": r.gender,
            "score": self.decision.score,
            "verdict": self.decision.verdict,
            **({"doubt": self.decision.doubt} if self.decision.doubt else {}),
            "explanation": [f.to_dict() for f in self.decision.features],
        }


@dataclass(slots=True)
class Result:
    """The answer for one query: judged matches (best first) and the offices that hold them."""

    query_id: str | None
    query: Query | None = None
    matches: list[Match] = field(default_factory=list)
    possible: list[Match] = field(default_factory=list)  # worth a human look, not confirmed
    candidates: int = 0
    entity_types: list[str] = field(default_factory=lambda: ["person"])
    assumed: str | None = None  # why these entity types, when the query named none
    entities: list[Entity] = field(default_factory=list)  # the matches grouped into distinct entities

    @property
    def seen(self) -> bool:
        return bool(self.matches)

    def offices(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for m in self.matches:
            out[m.record.office] = out.get(m.record.office, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        q = self.query
        out: dict[str, Any] = {
            "query_id": self.query_id,
            "query": None
            if q is None
            else {
                "name": q.name,
                "entity_type": q.entity_type,
                "id_number": q.id_number,
                "birth_date": q.birth_date,
                "gender": q.gender,
            },
            "seen": self.seen,
            "offices": self.offices(),
            "searched_as": self.entity_types,
            "matches": [m.to_dict() for m in self.matches],
            "possible": [m.to_dict() for m in self.possible],
            "entities": [e.to_dict(n) for n, e in enumerate(self.entities, start=1)],
            "summary": describe(self.entities),
        }
        if self.assumed:
            out["assumed"] = self.assumed
        return out


@dataclass(frozen=True, slots=True)
class Lookup:
    """One candidate lookup of a query: an untyped query makes one per entity type searched."""

    query: int  # index in the batch
    plan: QueryPlan
    profile: EntityProfile
    keys: dict[str, float]


class Matcher:
    """Answers queries against one store."""

    def __init__(
        self,
        store: Store,
        candidates: int = 50,
        max_name_length: int = DEFAULT_MAX_NAME_LENGTH,
        cache_size: int = 20_000,
    ) -> None:
        self.store = store
        self.candidates = candidates  # fetched from the store per query, before scoring
        self.max_name_length = max_name_length
        self._cache: OrderedDict[str, tuple[Record, EntityProfile]] = OrderedDict()
        self._cache_size = cache_size

    def _profiles(self, cands: Sequence[Candidate]) -> dict[str, tuple[Record, EntityProfile]]:
        out: dict[str, tuple[Record, EntityProfile]] = {}
        missing = [c.id for c in cands if c.id not in self._cache and c.record is None]
        fetched = self.store.get_many(missing) if missing else {}
        for c in cands:
            hit = self._cache.get(c.id)
            rec = c.record or fetched.get(c.id)
            if hit is not None and (rec is None or hit[0] == rec):
                self._cache.move_to_end(c.id)
                out[c.id] = hit
                continue
            if rec is None:
                continue  # withdrawn between retrieval and fetch
            entry = (rec, record_profile(rec))
            self._cache[c.id] = entry
            out[c.id] = entry
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return out

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
        lookups = [Lookup(i, plan, qp, profile_keys(qp)) for i, plan in enumerate(plans) for qp in plan.profiles]
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
        for lk, cands in zip(lookups, all_cands, strict=True):
            res = results[lk.query]
            for m in self._verdicts(lk.profile, cands, None):
                (res.matches if m.decision.match else res.possible).append(m)
            res.candidates += len(cands)
            res.entity_types = lk.plan.entity_types
            res.assumed = lk.plan.assumed
            query_profiles.setdefault(lk.query, []).append(lk.profile)
        for i, res in enumerate(results):
            if demote:
                demote_ambiguous(res, query_profiles.get(i, []), self.profile_of)
            res.matches.sort(key=_rank)
            res.possible.sort(key=_rank)
            del res.matches[limit:]
            del res.possible[limit:]
            res.entities = group([m.record for m in res.matches], self.profile_of)
        return results

    def profile_of(self, rec: Record) -> EntityProfile:
        """A record's profile, from the cache when it holds this version."""
        hit = self._cache.get(doc_id(rec.office, rec.record_id))
        return hit[1] if hit is not None and hit[0] == rec else record_profile(rec)

    def _verdicts(self, qp: EntityProfile, cands: list[Candidate], floor: float | None) -> list[Match]:
        """The scorer's verdict on each candidate: the matches, plus (with ``floor``) the near
        misses scoring at least that; matches first, then by score, office, record id."""
        profiles = self._profiles(cands)
        out: list[Match] = []
        for c in cands:
            entry = profiles.get(c.id)
            if entry is None:
                continue
            decision = score(qp, entry[1])
            kept = decision.verdict != "none" if floor is None else decision.score >= floor
            if kept:
                out.append(Match(entry[0], decision))
        out.sort(key=_rank)
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
        return sorted(found, key=_rank)[:limit]

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


def _rank(m: Match) -> tuple[int, float, str, str]:
    """Matches first, then by score, office, record id: a stable order for every answer."""
    return (-m.decision.match, -m.decision.score, m.record.office, m.record.record_id)


# How names met when a spelling was read as Chinese: pinyin, Wade-Giles, Cantonese.
READING_SYSTEMS = ("py", "wg", "ct")


def may_demote(profiles: Sequence[EntityProfile]) -> bool:
    """Can :func:`demote_ambiguous_spellings` change this query's answer? Only for a romanized name
    with nothing else: a name in characters, an ID number or a birth date decides on its own."""
    if not profiles or any(p.names and any(n.han for n in p.names) for p in profiles):
        return False
    return not any(p.identifiers or p.birth_date for p in profiles)


def basis(decision: Decision) -> str:
    """The scorer's own verdict, telling a match by reading a spelling as Chinese (``reading``:
    the kind a romanized query's demotion weighs) from the other matches."""
    if decision.match and decision.name_system in READING_SYSTEMS:
        return "reading"
    return decision.verdict


def reading_names(decision: Decision, profile: EntityProfile) -> tuple[str, ...]:
    """The Chinese names a match by reading stands for (its record's names in characters)."""
    if basis(decision) != "reading":
        return ()
    return tuple(sorted({n.han for n in profile.names if n.han}))


def pair_names(decision: Decision, profile: EntityProfile) -> tuple[str, ...]:
    """The Chinese names the watcher keeps with a pair: a match by reading's (as above), and a
    possible's (the homophones :func:`demote_sound_alike` weighs are among them)."""
    if basis(decision) != "reading" and decision.verdict != "possible":
        return ()
    return tuple(sorted({n.han for n in profile.names if n.han}))


def ambiguous(names: Iterable[tuple[str, ...]]) -> list[str]:
    """The different Chinese names the matches by reading stand for, when there are several
    (then none of them is confirmed); else nothing."""
    found = sorted({n for ns in names for n in ns})
    return found if len(found) >= 2 else []


def demote(match: Match, names: Sequence[str]) -> None:
    """A match by reading whose spelling fits several Chinese names becomes possible, saying which."""
    d = match.decision
    d.match, d.verdict = False, "possible"
    d.doubt = (
        f"the spelling fits {len(names)} different Chinese names ({', '.join(names)}): "
        "an ID number or birth date would decide"
    )


def demote_ambiguous_spellings(
    res: Result, profiles: Sequence[EntityProfile], profile_of: Callable[[Record], EntityProfile]
) -> None:
    """A romanized name with nothing else (no ID, no birth date) that reads as two different
    Chinese names among the matches confirms neither: "Wong Yuk-man" is 黃毓民 *and* 王育敏 in
    Cantonese (real-name benchmark). Those matches become possible, saying which names it fits."""
    if not may_demote(profiles):
        return
    by_reading = [m for m in res.matches if basis(m.decision) == "reading"]
    names = ambiguous(reading_names(m.decision, profile_of(m.record)) for m in by_reading)
    if not names:
        return
    for m in by_reading:
        demote(m, names)
        res.matches.remove(m)
        res.possible.append(m)


def may_demote_sound_alike(profiles: Sequence[EntityProfile]) -> bool:
    """Can :func:`demote_sound_alike` change this query's answer? Only for a name in characters
    with nothing else: an ID number or a birth date decides on its own."""
    if not profiles or not any(n.han for p in profiles for n in p.names):
        return False
    return not any(p.identifiers or p.birth_date for p in profiles)


# The language a match by reading heard the name in.
READING_LANGUAGE = {"py": "Mandarin", "wg": "Mandarin", "ct": "Cantonese"}
_SOUND_ALIKE = {"Mandarin": mandarin_homophones, "Cantonese": cantonese_homophones}


def demote_sound_alike(
    res: Result, profiles: Sequence[EntityProfile], profile_of: Callable[[Record], EntityProfile]
) -> None:
    """The other direction of :func:`demote_ambiguous_spellings`: a name in characters with
    nothing else, matched by reading to a romanized record, while the answer also holds a record
    of another Chinese name that sounds the same in that reading's language (a possible, as
    homophones are). The spelling cannot tell the two apart, so it confirms neither: 王育敏 met
    "Wong Yuk-man", who is 黃毓民 (real-name benchmark). The match becomes possible, naming the
    other record."""
    if not may_demote_sound_alike(profiles):
        return
    by_reading = [
        m for m in res.matches if basis(m.decision) == "reading" and not any(n.han for n in profile_of(m.record).names)
    ]
    if not by_reading:
        return
    mine = [n for p in profiles for n in p.names if n.han]
    alike: dict[str, list[Match]] = {lang: [] for lang in _SOUND_ALIKE}
    for other in res.possible:
        theirs = [n for n in profile_of(other.record).names if n.han]
        for lang, same_sound in _SOUND_ALIKE.items():
            if any(same_sound(a, b) for a in mine for b in theirs):
                alike[lang].append(other)
    for m in by_reading:
        lang = READING_LANGUAGE[m.decision.name_system or "py"]
        others = sorted(alike[lang], key=_rank)
        if not others:
            continue
        where: dict[str, list[str]] = {}
        for o in others:
            where.setdefault(o.record.name, []).append(f"{o.record.office} {o.record.record_id}")
        shown = ", ".join(f"{name} ({', '.join(at[:3])}{', …' if len(at) > 3 else ''})" for name, at in where.items())
        d = m.decision
        d.match, d.verdict = False, "possible"
        d.doubt = (
            f"the spelling fits {shown} as well, which sound the same in {lang}: "
            "an ID number or birth date would decide"
        )
        res.matches.remove(m)
        res.possible.append(m)


def demote_ambiguous(
    res: Result, profiles: Sequence[EntityProfile], profile_of: Callable[[Record], EntityProfile]
) -> None:
    """Both demotions of a spelling that fits more than one Chinese name."""
    demote_ambiguous_spellings(res, profiles, profile_of)
    demote_sound_alike(res, profiles, profile_of)
