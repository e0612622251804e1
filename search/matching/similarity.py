"""Name similarity: how close two person or company name forms are, and through which system.

Each comparison returns a :class:`NameMatch`: a similarity in [0, 1], the system that bridged the two
forms (characters, pinyin, Wade-Giles, Cantonese), and the two readings compared, so the explanation
can say "chan tai man (Cantonese) = 陳大文". Characters outrank sound: identical characters score
1.0, the same pinyin with other characters (a homophone, 陈大文/陈达文) 0.90, and a romanized form
that reads exactly like the Han form 0.95.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import jellyfish

from indexer.keys import fuzzy
from indexer.names.cantonese import skeletons
from indexer.names.companies import CompanyForm
from indexer.names.mandarin import COARSE_SYLLABLES, PINYIN_SYLLABLES, coarse
from indexer.names.persons import NameForm, Reading

SYSTEM_LABELS = {
    "chars": "characters",
    "py": "pinyin",
    "wg": "Wade-Giles",
    "ct": "Cantonese",
    "latin": "spelling",
}

# Similarity given to an exact reading match across scripts, per system. Pinyin and Wade-Giles are
# deterministic from the characters; Cantonese spellings collide more (王 and 黃 are both Wong),
# but a cross-script match must still clear the threshold on its own (benchmark: hk_cantonese).
EXACT_READING = {"py": 0.96, "wg": 0.95, "ct": 0.95, "latin": 0.97}
HOMOPHONE = 0.90  # same pinyin, different given-name characters (陈大文 / 陈达文): IME typo
SURNAME_HOMOPHONE = 0.72  # same pinyin, different surname (张伟 / 章伟): usually another person

# Readings compared per side and system; exact matches are found over all of them first.
_FUZZY_READINGS = 2

# Weight of the joined-spelling similarity of two given names of equally many syllables.
JOINED_DISCOUNT = 0.875  # dev seeds 7, 11: latin_typo recall 0.965 / 0.935, one-syllable-off FA 0.02 / 0.02


@dataclass(frozen=True, slots=True)
class NameMatch:
    """The best agreement found between two name forms."""

    similarity: float
    system: str
    query: str
    candidate: str
    query_reading: str = ""
    candidate_reading: str = ""


def string_similarity(a: str, b: str) -> float:
    """1 - Damerau-Levenshtein / longer length. Stricter than Jaro-Winkler on short romanized
    strings: JW gives zhang wei / zhang wen 0.96 (research note §3), this gives 0.89."""
    if a == b:
        return 1.0
    longest = max(len(a), len(b))
    if longest == 0:
        return 1.0
    return 1.0 - jellyfish.damerau_levenshtein_distance(a, b) / longest


def is_syllable(s: str) -> bool:
    """A real syllable in some system (pinyin, coarse Wade-Giles, Cantonese skeleton)."""
    return s in PINYIN_SYLLABLES or s in COARSE_SYLLABLES or s in skeletons()


@lru_cache(maxsize=200_000)
def syllable_similarity(a: str, b: str) -> float:
    """Two syllables: identical 1.0, same fuzzy-pinyin class (chen/cheng, zhang/zang) 0.85,
    else half their string similarity: two different syllables are two different characters, so
    "Chen Dewen" must not reach 陈大文 (benchmark: romanized_one_syllable_off)."""
    if a == b:
        return 1.0
    if fuzzy(a) == fuzzy(b) or fuzzy(coarse(a)) == fuzzy(coarse(b)):
        return 0.85
    if not (is_syllable(a) and is_syllable(b)):
        return string_similarity(a, b)  # a typo'd token ("yng" for yang) is not another syllable
    return 0.5 * string_similarity(a, b)


def reading_similarity(a: Reading, b: Reading) -> float:
    """Two readings (surname, given syllables...): a third surname, two thirds given name. The
    given name is compared joined, which absorbs different syllable splits (dawen / da wen)."""
    if a == b:
        return 1.0
    surname = syllable_similarity(a[0], b[0])
    ga, gb = a[1:], b[1:]
    joined = string_similarity("".join(ga), "".join(gb))
    if len(ga) == len(gb) and ga:
        aligned = sum(syllable_similarity(x, y) for x, y in zip(ga, gb, strict=True)) / len(ga)
        # A dropped letter can leave another valid syllable ("xinlan" → "xilan"): the joined
        # spelling, slightly discounted, keeps such typos in reach (benchmark: latin_typo).
        given = max(aligned, JOINED_DISCOUNT * joined)
    else:
        given = joined
    return (surname + 2.0 * given) / 3.0


def sets_similarity(reading: Reading, sets: tuple[tuple[str, ...], ...]) -> float:
    """A romanized reading against a Han name's per-syllable Cantonese options: each syllable
    takes its best option, so any real spelling of each character counts (Chow / Chau / Jau)."""
    if len(reading) != len(sets):
        return 0.0
    per = [max(syllable_similarity(x, o) for o in opts) for x, opts in zip(reading, sets, strict=True)]
    given = per[1:]
    return (per[0] + 2.0 * (sum(given) / len(given) if given else 0.0)) / 3.0 if given else per[0] / 3.0


def _shown(r: Reading) -> str:
    return " ".join(r)


def _best_reading(a: NameForm, b: NameForm, systems: tuple[str, ...]) -> NameMatch | None:
    best: NameMatch | None = None
    for system in systems:
        ra, rb = a.readings(system), b.readings(system)
        if not ra or not rb:
            continue
        shared = set(ra) & set(rb)
        if shared:
            r = next(x for x in ra if x in shared)
            sim = EXACT_READING[system]
            if best is None or sim > best.similarity:
                best = NameMatch(sim, system, a.original, b.original, _shown(r), _shown(r))
            continue
        for x in ra[:_FUZZY_READINGS]:
            for y in rb[:_FUZZY_READINGS]:
                sim = reading_similarity(x, y) * EXACT_READING[system]
                if best is None or sim > best.similarity:
                    best = NameMatch(sim, system, a.original, b.original, _shown(x), _shown(y))
        if system == "ct" and (a.han or b.han):
            han, latin, flip = (a, b, False) if a.han else (b, a, True)
            for x in latin.ct[:_FUZZY_READINGS]:
                sim = sets_similarity(x, han.ct_sets)
                if sim >= 1.0 or sim * EXACT_READING[system] > (best.similarity if best else 0.0):
                    shown_han = " ".join(o[0] for o in han.ct_sets)
                    sim = EXACT_READING[system] if sim >= 1.0 else sim * EXACT_READING[system]
                    qa, qc = (_shown(x), shown_han) if not flip else (shown_han, _shown(x))
                    if sim >= 1.0 * EXACT_READING[system]:
                        qa = qc = _shown(x)
                    best = NameMatch(sim, system, a.original, b.original, qa, qc)
    return best


def person_similarity(a: NameForm, b: NameForm) -> NameMatch:
    """Best agreement between two person name forms."""
    if a.han and b.han:
        if a.han == b.han:
            return NameMatch(1.0, "chars", a.original, b.original, a.han, b.han)
        if a.py and b.py and a.py[0] == b.py[0]:
            # Primary readings only: 潘 may also read bo, but 王曦潘 and 王曦博 are not homophones
            # to a typist (benchmark: one_char_off).
            sim = HOMOPHONE if a.surname == b.surname else SURNAME_HOMOPHONE
            return NameMatch(sim, "py", a.original, b.original, _shown(a.py[0]), _shown(b.py[0]))
        char_sim = string_similarity(a.han, b.han)
        sound_sim = reading_similarity(a.py[0], b.py[0]) * EXACT_READING["py"] if a.py and b.py else 0.0
        # One character off in writing *and* in sound is another person (陈大文 / 陈大武), so the
        # character and sound evidence are averaged rather than maxed.
        sim = 0.5 * char_sim + 0.5 * sound_sim
        return NameMatch(sim, "chars", a.original, b.original, a.han, b.han)
    if not a.han and not b.han and a.folded == b.folded:
        return NameMatch(1.0, "latin", a.original, b.original, a.folded, b.folded)
    found = _best_reading(a, b, ("py", "wg", "ct"))
    if found is None:
        return NameMatch(0.0, "latin", a.original, b.original)
    return found


def company_similarity(a: CompanyForm, b: CompanyForm) -> NameMatch:
    """Best agreement between the brands (字号) of two company forms."""
    if a.folded == b.folded:
        return NameMatch(1.0, "chars", a.original, b.original, a.folded, b.folded)
    if a.brand and b.brand:
        if a.brand == b.brand:
            return NameMatch(0.97, "chars", a.original, b.original, a.brand, b.brand)
        if a.py == b.py:
            return NameMatch(HOMOPHONE - 0.05, "py", a.original, b.original, a.brand, b.brand)
        return NameMatch(string_similarity(a.brand, b.brand), "chars", a.original, b.original, a.brand, b.brand)
    best = NameMatch(0.0, "latin", a.original, b.original)
    if not a.brand and not b.brand:
        sim = string_similarity(a.brand_latin, b.brand_latin)
        best = NameMatch(sim * EXACT_READING["latin"], "latin", a.original, b.original, a.brand_latin, b.brand_latin)
    for system in ("py", "wg", "ct"):
        for x in _company_readings(a, system):
            for y in _company_readings(b, system):
                sim = string_similarity("".join(x), "".join(y)) * EXACT_READING[system]
                if sim > best.similarity:
                    best = NameMatch(sim, system, a.original, b.original, _shown(x), _shown(y))
    return best


def _company_readings(form: CompanyForm, system: str) -> tuple[Reading, ...]:
    if system == "py":
        return form.py
    if system == "wg":
        return form.wg
    return form.ct
