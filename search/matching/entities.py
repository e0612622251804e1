"""Hits grouped into distinct entities: one name, several people.

A name alone matches every namesake: 陳大文 with no birth date matched four records at 1.00, three
of one man born 1971 and the Fujian namesake born 1980 (issue #15). The hits are grouped by running
the scorer on the hits themselves, so the rule that keeps a namesake out of a query's matches
(conflicting birth date, ID number or gender; different characters) also keeps two hits apart.

Grouping is complete-link: a hit joins a group only if the scorer judges it the same entity as
every member. A hit that fits several groups (a record with no birth date, when the others
disagree) is not forced into one: it gets its own group, marked undecided.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from indexer.records import EntityProfile, Record
from search.matching.scorer import Decision, score

MAX_GROUPED = 20  # hits grouped per answer: pairwise scoring costs ~40 µs a pair (20 hits: 8 ms)


@dataclass(slots=True)
class Entity:
    """One distinct entity among a query's hits."""

    members: list[int]  # positions in the answer's matches
    records: list[Record]
    undecided_between: list[int] = field(default_factory=list)  # other groups (1-based) it may be
    separated_by: list[str] = field(default_factory=list)  # why it is not the groups before it

    def _values(self, attr: str) -> list[str]:
        return sorted({v for r in self.records if (v := getattr(r, attr))})

    def summary(self) -> str:
        """ "held by CN-GD, CN-HK (born 1971-02-11)"."""
        offices = list(dict.fromkeys(r.office for r in self.records))
        facts = [f"born {d}" for d in self._values("birth_date")]
        facts += [f"ID {i}" for i in self._values("id_number")]
        tail = f" ({'; '.join(facts)})" if facts else ""
        return f"held by {', '.join(offices)}{tail}"

    def to_dict(self, number: int) -> dict[str, Any]:
        return {
            "entity": number,
            "matches": self.members,
            "offices": list(dict.fromkeys(r.office for r in self.records)),
            "names": list(dict.fromkeys(r.name for r in self.records)),
            "birth_dates": self._values("birth_date"),
            "id_numbers": self._values("id_number"),
            "genders": self._values("gender"),
            "summary": self.summary(),
            "separated_by": self.separated_by,
            "undecided_between": self.undecided_between,
        }


def _why_apart(d: Decision) -> str:
    conflicts = [f.detail for f in d.features if isinstance(f.value, float | int) and f.value < 0]
    if conflicts:
        return "; ".join(conflicts)
    name = next((f for f in d.features if f.feature == "name"), None)
    return f"names differ: {name.detail}" if name is not None else "the scorer does not judge them the same"


def group(records: Sequence[Record], profile_of: Callable[[Record], EntityProfile]) -> list[Entity]:
    """Distinct entities among ``records`` (best hit first), in order of their best hit."""
    records = list(records)[:MAX_GROUPED]
    profiles = [profile_of(r) for r in records]
    groups: list[Entity] = []
    for i, (rec, prof) in enumerate(zip(records, profiles, strict=True)):
        fits: list[int] = []
        apart: list[str] = []
        for g, ent in enumerate(groups):
            verdicts = [score(prof, profiles[m]) for m in ent.members]
            against = next((d for d in verdicts if not d.match), None)
            if against is None:
                fits.append(g)
            elif not ent.undecided_between:
                apart.append(f"not entity {g + 1}: {_why_apart(against)}")
        if len(fits) == 1 and not groups[fits[0]].undecided_between:
            groups[fits[0]].members.append(i)
            groups[fits[0]].records.append(rec)
            continue
        undecided = [g + 1 for g in fits if not groups[g].undecided_between] if len(fits) > 1 else []
        groups.append(Entity([i], [rec], undecided, [] if undecided else apart))
    return groups


_NOUNS = {"person": ("person", "people"), "company": ("company", "companies")}


def describe(entities: Sequence[Entity]) -> str:
    """One sentence for the answer: how many distinct entities the hits are, and which is which."""
    if not entities:
        return ""
    kinds = {r.entity_type for e in entities for r in e.records}
    one, many = _NOUNS[kinds.pop()] if len(kinds) == 1 else ("entity", "entities")
    if len(entities) == 1:
        return f"one {one}, {entities[0].summary()}"
    parts = []
    for n, e in enumerate(entities, start=1):
        maybe = f", could be the same as {' or '.join(map(str, e.undecided_between))}" if e.undecided_between else ""
        parts.append(f"{n}. {e.summary()}{maybe}")
    return f"{len(entities)} different {many} match this name: " + "; ".join(parts)
