"""What an answer is made of: a judged record (:class:`Match`), the answer for one query
(:class:`Result`) and one candidate lookup of a query (:class:`Lookup`), with the order every
answer lists its matches in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from indexer.records import EntityProfile, Record
from search.matching.entities import Entity, describe
from search.matching.query import Query, QueryPlan
from search.matching.scorer import Decision


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


def rank(m: Match) -> tuple[int, float, str, str]:
    """Matches first, then by score, office, record id: a stable order for every answer."""
    return (-m.decision.match, -m.decision.score, m.record.office, m.record.record_id)
