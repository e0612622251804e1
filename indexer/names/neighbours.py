"""Query-side spelling neighbours of a romanized name: the readings a record may hold when the
query's writer spelled one syllable their own way, or wrote the surname in Mandarin and the given
name in Cantonese.

Why: on the real-name benchmark (Wikidata Hong Kong LegCo and Taiwan legislators) the scorer
already calls "Chan Han-pan" ~ 陳恒鑌 (恒 is Hang), "Leung Che-cheung" ~ 梁志祥 (志 is Chi) and
"Tsai Huang-liang" ~ 蔡煌瑯 (瑯 is Lang) possible, and "Chiang Lai-wan" ~ 蔣麗芸 (a Mandarin
surname before a Cantonese given name, a common Hong Kong mix) a match, but none of them shared a
single key with its record, so the store never proposed them: a wrong "not seen". The keys of a
stored record do not change; only a query (and a standing entry, which is a query) looks up these
extra readings, so the store's size and the load's speed do not move.

Only the edits personal spellings make are tried, each within the system's syllable inventory:
one vowel changed, added or dropped, or a final g or h added or dropped ("han" → "hang", "che" →
"chi", "liang" → "lang"), on one given-name syllable at a time. Any edit (rather than vowels and
finals) gave about 100 extra keys for a three-syllable name; this gives 10 to 35.
"""

from __future__ import annotations

from functools import lru_cache

from indexer.names import cantonese, mandarin

_VOWELS = "aeiouy"
_FINALS = "gh"


def _inventory(system: str) -> frozenset[str]:
    return cantonese.skeletons() if system == "ct" else mandarin.COARSE_SYLLABLES


@lru_cache(maxsize=20_000)
def syllable_neighbours(syllable: str, system: str) -> tuple[str, ...]:
    """Syllables of ``system`` ('ct' skeletons or coarse 'wg') one vowel or final edit away."""
    out: set[str] = set()
    s = syllable
    for i in range(len(s) + 1):
        for v in _VOWELS:
            out.add(s[:i] + v + s[i:])
            if i < len(s) and s[i] in _VOWELS:
                out.add(s[:i] + v + s[i + 1 :])
        if i < len(s) and s[i] in _VOWELS:
            out.add(s[:i] + s[i + 1 :])
    for f in _FINALS:
        out.add(s + f)
        if s.endswith(f):
            out.add(s[:-1])
    out.discard(s)
    inventory = _inventory(system)
    return tuple(sorted(x for x in out if x in inventory))


@lru_cache(maxsize=1)
def _mandarin_surnames() -> dict[str, tuple[str, ...]]:
    """Mandarin spellings of a surname (the pinyin and Taiwan columns of the surname table) → the
    surname characters they write."""
    out: dict[str, tuple[str, ...]] = {}
    for row in cantonese.surname_rows():
        for spelling in cantonese.row_spellings(row, "pinyin", "taiwan"):
            out[spelling] = tuple(dict.fromkeys((*out.get(spelling, ()), row["simplified"])))
    return out


def cantonese_surnames(spelling: str) -> tuple[str, ...]:
    """The Cantonese skeletons of the surnames a Mandarin surname spelling writes ("chiang" 蒋 江 →
    ceung, kong, ...): a Hong Kong name may spell the surname the Mandarin way and the given name
    the Cantonese way (蔣麗芸 Chiang Lai-wan, LegCo)."""
    out: list[str] = []
    for ch in _mandarin_surnames().get(spelling, ()):
        out.extend(cantonese.char_keys(ch, surname=True)[:1])
    return tuple(dict.fromkeys(out))


def reading_neighbours(reading: tuple[str, ...], system: str) -> list[tuple[str, ...]]:
    """Readings one given-name syllable away from ``reading`` (its first element is the surname)."""
    out: list[tuple[str, ...]] = []
    for i in range(1, len(reading)):
        for alt in syllable_neighbours(reading[i], system):
            out.append((*reading[:i], alt, *reading[i + 1 :]))
    return out
