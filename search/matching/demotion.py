"""Demotions: when the scorer's match on a name is only worth a look, because the spelling or
the sound that made it fits other stored Chinese names as well (issue #14). /match, screening and
the watcher's forward screening all decide them here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from indexer.records import EntityProfile, Record
from search.matching.results import Match, Result, rank
from search.matching.scorer import Decision
from search.matching.similarity import cantonese_homophones, mandarin_homophones

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
        others = sorted(alike[lang], key=rank)
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
