"""What a question may be: the one validation point every entry point goes through.

``/match``, ``/reconcile``, the web page, screening rows and the CLI all build a :class:`Query` and
hand it to the matcher, which calls :func:`query_profile` before anything else, so a limit set here
(name length, entity type, birth date, office codes) holds everywhere at once. Violations raise
:class:`~search.errors.InvalidInput` naming the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from indexer.names.companies import legal_suffix
from indexer.records import ENTITY_TYPES, OFFICES, EntityProfile, clean_date, profile
from search.errors import InvalidInput

DEFAULT_MAX_NAME_LENGTH = 200  # characters; Settings.max_name_length overrides it


@dataclass(slots=True)
class Query:
    """One question: has any partner office seen this entity?"""

    name: str
    entity_type: str | None = None  # None: not given; see query_profiles
    query_id: str | None = None
    id_number: str | None = None
    birth_date: str | None = None
    gender: str | None = None


def unknown_offices(offices: Sequence[str]) -> list[str]:
    """The codes in ``offices`` that name no partner office."""
    return [o for o in offices if o not in OFFICES]


def check_offices(offices: Sequence[str] | None, field: str = "offices") -> list[str] | None:
    """The office filter in canonical form (codes in any case: cn-gd is CN-GD), or InvalidInput
    naming every unknown code."""
    if not offices:
        return None
    offices = [o.strip().upper() for o in offices]
    unknown = unknown_offices(offices)
    if unknown:
        raise InvalidInput(f"unknown office code(s): {', '.join(unknown)}; known: {', '.join(OFFICES)}", field=field)
    return list(offices)


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """What a query is searched as: one profile per entity type, and, when the query named no
    type, the reason for the types chosen (said in every answer)."""

    profiles: tuple[EntityProfile, ...]
    assumed: str | None = None

    @property
    def entity_types(self) -> list[str]:
        return [p.entity_type for p in self.profiles]


def query_profiles(q: Query, max_name_length: int = DEFAULT_MAX_NAME_LENGTH) -> QueryPlan:
    """Validate and normalize a query; raises InvalidInput naming the field.

    A query without an entity type is searched as a company when its name ends in a legal form
    (有限公司, "Co., Ltd.") and as both a person and a company otherwise: searching a firm's name
    as a person's answered "not seen" for a company that was in the store (issue #15)."""
    if q.entity_type is not None:
        return QueryPlan((query_profile(q, max_name_length),))
    # An over-long name is not folded here: query_profile refuses it before any work.
    legal = legal_suffix(q.name) if len(q.name) <= max_name_length else ""
    types = ("company",) if legal else ("person", "company")
    profiles = tuple(
        query_profile(Query(q.name, t, q.query_id, q.id_number, q.birth_date, q.gender), max_name_length) for t in types
    )
    if legal:
        return QueryPlan(profiles, f"no entity type given; searched as a company: the name ends in {legal!r}")
    return QueryPlan(profiles, "no entity type given; searched as a person and as a company")


def query_profile(q: Query, max_name_length: int = DEFAULT_MAX_NAME_LENGTH) -> EntityProfile:
    """Validate and normalize a query of one entity type; raises InvalidInput naming the field.

    The length check comes before any normalization: the cost of reading a name grows with its
    length, and a name past the limit must cost nothing (issue: a 10,000-character name through
    /reconcile took 33 s of CPU before this check reached it)."""
    if q.entity_type not in ENTITY_TYPES:
        raise InvalidInput("entity_type must be 'person' or 'company'", field="entity_type")
    if not q.name or not q.name.strip():
        raise InvalidInput("name must not be empty", field="name")
    if len(q.name) > max_name_length:
        raise InvalidInput(f"name is {len(q.name)} characters; at most {max_name_length}", field="name")
    try:
        dob = clean_date(q.birth_date)
    except ValueError as exc:
        raise InvalidInput(f"birth_date: {exc}", field="birth_date") from exc
    return profile(q.entity_type, q.name, (), q.id_number, dob, q.gender)
