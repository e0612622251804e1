"""Two readings compared syllable by syllable: a spelling's distance, whether a syllable is a real
one in some system, how close two syllables are (identical, one fuzzy class, or another syllable),
two whole readings, and the uncertain steps between them (:mod:`search.matching.similarity`
weighs those steps as guesses)."""

from __future__ import annotations

from functools import lru_cache

import jellyfish

from indexer.keys import fuzzy
from indexer.names.cantonese import skeletons
from indexer.names.mandarin import COARSE_SYLLABLES, INTERJECTIONS, PINYIN_SYLLABLES, coarse
from indexer.names.persons import Reading
from indexer.names.romanized import apostrophe_dropped

# Weight of the joined-spelling similarity of two given names of equally many syllables.
JOINED_DISCOUNT = 0.875  # dev seeds 7, 11: latin_typo recall 0.965 / 0.935, one-syllable-off FA 0.02 / 0.02


# One real syllable for another weighs as two guesses on its own (see similarity.guesses).
DIFFERENT_SYLLABLE = "differs by a whole syllable"


def string_similarity(a: str, b: str) -> float:
    """1 - Damerau-Levenshtein / longer length. Stricter than Jaro-Winkler on short romanized
    strings: JW gives zhang wei / zhang wen 0.96 (research note §3), this gives 0.89."""
    if a == b:
        return 1.0
    n, m = len(a), len(b)
    longest = n if n > m else m  # not max(): called for every reading pair the scorer compares
    if longest == 0:
        return 1.0
    return 1.0 - jellyfish.damerau_levenshtein_distance(a, b) / longest


def is_syllable(s: str) -> bool:
    """A real syllable in some system (pinyin, coarse Wade-Giles, Cantonese skeleton)."""
    return s in PINYIN_SYLLABLES or s in COARSE_SYLLABLES or s in skeletons()


@lru_cache(maxsize=200_000)
def syllable_similarity(a: str, b: str, system: str = "any") -> float:
    """Two syllables: identical 1.0, same fuzzy-pinyin class (chen/cheng, zhang/zang) 0.85,
    else half their string similarity: two different syllables are two different characters, so
    "Chen Dewen" must not reach 陈大文 (benchmark: romanized_one_syllable_off)."""
    if a == b:
        return 1.0
    # Two pinyin syllables are close only in the pinyin fuzzy classes; merging them through coarse
    # Wade-Giles as well (jin/qin are both "chin") let "Jin Ming" reach 覃明 (issue #14).
    if fuzzy(a) == fuzzy(b) or (system == "any" and fuzzy(coarse(a)) == fuzzy(coarse(b))):
        return 0.85
    if system == "py" and a.replace("v", "u") == b.replace("v", "u"):
        return 0.85  # ü written u (吕 Lu): the pre-2012 passport form, ambiguous with 卢 lu
    if not (is_syllable(a) and is_syllable(b)):
        sim = string_similarity(a, b)  # a typo'd token ("yng" for yang) is not another syllable
        if sim < DOUBLED_LETTER and (_undoubled(a) == b or _undoubled(b) == a):
            return DOUBLED_LETTER
        return sim
    return 0.5 * string_similarity(a, b)


# A letter typed twice is one slip however short the syllable: "Liu Ii" for 刘怡 (Wade-Giles i)
# was 0.5 from i and scored 0.64, while "Weii" is 0.75 from wei (synthetic wade_giles_typo,
# seeds 53, 61, 83, 97: 8 such pairs none, not even possible).
DOUBLED_LETTER = 0.75


def _undoubled(s: str) -> str:
    """``s`` without its first doubled letter ("ii" → "i"), or ``s`` if it has none."""
    for i in range(1, len(s)):
        if s[i] == s[i - 1]:
            return s[:i] + s[i + 1 :]
    return s


def reading_similarity(a: Reading, b: Reading, system: str = "any") -> float:
    """Two readings (surname, given syllables...): a third surname, two thirds given name. The
    given name is compared joined, which absorbs different syllable splits (dawen / da wen)."""
    if a == b:
        return 1.0
    n, m = len(a), len(b)
    if n - m in (1, -1):
        a, b = join_double_surname(a, b)
        n, m = len(a), len(b)
    surname = syllable_similarity(a[0], b[0], system)
    # Written out for one and two given syllables, the usual names: the scorer compares every
    # reading pair of two names this way (a third of its time on the watch bench's pairs).
    if n == m == 2:
        x, y = a[1], b[1]
        joined = string_similarity(x, y)
        aligned, discounted = syllable_similarity(x, y, system), JOINED_DISCOUNT * joined
        given = aligned if aligned >= discounted else discounted
    elif n == m == 3:
        x1, x2, y1, y2 = a[1], a[2], b[1], b[2]
        joined = string_similarity(x1 + x2, y1 + y2)
        aligned = (syllable_similarity(x1, y1, system) + syllable_similarity(x2, y2, system)) / 2
        discounted = JOINED_DISCOUNT * joined
        given = aligned if aligned >= discounted else discounted
    else:
        ga, gb = a[1:], b[1:]
        joined = string_similarity("".join(ga), "".join(gb))
        if len(ga) == len(gb) and ga:
            aligned = sum(syllable_similarity(x, y, system) for x, y in zip(ga, gb, strict=True)) / len(ga)
            # A dropped letter can leave another valid syllable ("xinlan" → "xilan"): the joined
            # spelling, slightly discounted, keeps such typos in reach (benchmark: latin_typo).
            given = max(aligned, JOINED_DISCOUNT * joined)
        else:
            given = joined
    return (surname + 2.0 * given) / 3.0


def join_double_surname(a: Reading, b: Reading) -> tuple[Reading, Reading]:
    """Two surnames written apart on one side and as one on the other (張廖 changliao / "Chang
    Liao Wan-chien", 林鄭 / "Lam Cheng Yuet-ngor"): compare them joined."""
    if len(a) == len(b) + 1 and a[0] + a[1] == b[0]:
        return (a[0] + a[1], *a[2:]), b
    if len(b) == len(a) + 1 and b[0] + b[1] == a[0]:
        return a, (b[0] + b[1], *b[2:])
    return a, b


def reading_steps(a: Reading, b: Reading, system: str = "any") -> tuple[str, ...]:
    """The uncertain steps between two readings compared syllable by syllable: each fuzzy-class
    syllable pair (chen/cheng, fan/han), and a spelling that only meets as a slip of the keyboard
    (the joined given name rescued it where the syllables differ)."""
    if a == b:
        return ()
    a, b = join_double_surname(a, b)
    if a == b:
        return ()
    steps: list[str] = []
    pairs = [(a[0], b[0])]
    ga, gb = a[1:], b[1:]
    aligned = len(ga) == len(gb) and bool(ga)
    if aligned:
        pairs += list(zip(ga, gb, strict=True))
    for x, y in pairs:
        if x != y and syllable_similarity(x, y, system) == 0.85:
            steps.append(f"fuzzy {x}/{y}")
    if ga != gb and "".join(ga) != "".join(gb):
        joined = JOINED_DISCOUNT * string_similarity("".join(ga), "".join(gb))
        syllables = (
            sum(syllable_similarity(x, y, system) for x, y in zip(ga, gb, strict=True)) / len(ga) if aligned else 0.0
        )
        if joined > syllables:
            # Only the joined spelling brings them close. If every syllable on both sides is a
            # real one, it is another syllable (晶 jing for 明 ming: another character), not a
            # slip of the keyboard, and it weighs as two guesses.
            # A word written without its apostrophe is real syllables too: "Wang Zhongao" (zhong'ao)
            # met 王冲澳 chong ao as one slip, a match (pinyin_wg_collision, seed 7 of 5 Dec).
            real = all((is_syllable(x) and x not in INTERJECTIONS) or apostrophe_dropped(x) for x in (*ga, *gb))
            what = DIFFERENT_SYLLABLE if real else "taken for a slip"
            steps.append(f"spelling {''.join(ga)}/{''.join(gb)} {what}")
    return tuple(steps)
