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
"chi", "liang" → "lang"), two vowels swapped or an h or s dropped or added (slips onto another
syllable: "Chai" for chia, "San" for shan), on one given-name syllable at a time. Any edit (rather
than these) gave about 100 extra keys for a three-syllable name; this gives 10 to 40 (the
realistic watchlist's queries: 21.1 → 21.5 keys on average with the slips).

A name that is Wade-Giles but for one part no system reads ("Chang Hung-lue" 張宏陸, "Chen
Hsuen-sheng" 陳雪生, "Hsu Tain-tsair" 許添財: Taiwan legislators) had no reading at all to look up:
pinyin names have their one-deletion keys ('ed'), Wade-Giles ones had nothing, so a slip of the
keyboard in a Taiwan-style name was a sure "not seen". That part is tried as every syllable one
slip away (:func:`slipped_names`). Unlike the neighbours, these readings are keys of records too
(:func:`indexer.keys.profile_keys`): they are few (only such names have them), and a query in
characters must find the slipped record.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from itertools import pairwise
from string import ascii_lowercase

from indexer.names import cantonese, mandarin, romanized, spellings

_VOWELS = "aeiouy"
_FINALS = "gh"


def _inventory(system: str) -> frozenset[str]:
    return cantonese.skeletons() if system == "ct" else mandarin.COARSE_SYLLABLES


@lru_cache(maxsize=20_000)
def syllable_neighbours(syllable: str, system: str) -> tuple[str, ...]:
    """Syllables of ``system`` ('ct' skeletons or coarse 'wg') one vowel or final edit, one swap of
    two vowels, or one h or s away."""
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
    # Slips of the keyboard that land on another real syllable, so no slip key repairs them
    # (bench/accuracy.py wade_giles_typo, dev seed 7: 6 of 18 unblocked pairs of 1,000): two
    # vowels swapped ("Chai" for 家 chia, "Chui" for 邱 chiu) and an h or s dropped or added
    # ("San" for 山 shan, "Huan" for 萱 hsuan, "Sao" for 邵 shao).
    for i in range(len(s) - 1):
        if s[i] in _VOWELS and s[i + 1] in _VOWELS:
            out.add(s[:i] + s[i + 1] + s[i] + s[i + 2 :])
    for i in range(len(s) + 1):
        out.update(s[:i] + c + s[i:] for c in "hs")
        if i < len(s) and s[i] in "hs":
            out.add(s[:i] + s[i + 1 :])
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


@lru_cache(maxsize=5_000)
def cantonese_surnames(spelling: str) -> tuple[str, ...]:
    """The Cantonese skeletons of the surnames a Mandarin surname spelling writes ("chiang" 蒋 江 →
    ceung, kong, ...): a Hong Kong name may spell the surname the Mandarin way and the given name
    the Cantonese way (蔣麗芸 Chiang Lai-wan, LegCo)."""
    out: list[str] = []
    for ch in _mandarin_surnames().get(spelling, ()):
        out.extend(cantonese.char_keys(ch, surname=True)[:1])
    return tuple(dict.fromkeys(out))


@lru_cache(maxsize=10_000)
def mix_surnames(name: romanized.LatinName) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """The words a romanized name may put first as its surname (one per token order), each with its
    Cantonese skeleton and :func:`cantonese_surnames` (empty for most words): where the Hong Kong
    mix is read, by the scorer (``similarity.hong_kong_mix``) and by a query's keys alike."""
    return tuple((o[0], cantonese.skeleton(o[0]), cantonese_surnames(o[0])) for o in romanized.orders(name))


def reading_neighbours(reading: tuple[str, ...], system: str) -> list[tuple[str, ...]]:
    """Readings one given-name syllable away from ``reading`` (its first element is the surname)."""
    out: list[tuple[str, ...]] = []
    for i in range(1, len(reading)):
        for alt in syllable_neighbours(reading[i], system):
            out.append((*reading[:i], alt, *reading[i + 1 :]))
    return out


def _one_slip(word: str) -> set[str]:
    """Every string one keyboard slip from ``word``: a letter dropped, added or changed, or two
    neighbours swapped (Damerau distance 1)."""
    out = {word[:i] + word[i + 1 :] for i in range(len(word))}
    out |= {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
    for i in range(len(word) + 1):
        for c in ascii_lowercase:
            out.add(word[:i] + c + word[i:])
            if i < len(word):
                out.add(word[:i] + c + word[i + 1 :])
    out.discard(word)
    return out


@lru_cache(maxsize=5_000)
def slip_syllables(part: str) -> tuple[str, ...]:
    """Coarse Wade-Giles syllables one slip from ``part``: a Wade-Giles syllable, or a pinyin one
    in its Wade-Giles spelling ("tain" is pinyin tian, Wade-Giles tien, one swap away)."""
    found: set[str] = set()
    for s in _one_slip(part):
        if s in mandarin.COARSE_SYLLABLES:
            found.add(s)
        if s in mandarin.PINYIN_SYLLABLES:
            found.add(mandarin.coarse(s))
    found.discard(part)
    return tuple(sorted(found))


def _reads(seg: tuple[str, ...] | None, hyphenated: bool) -> bool:
    # One syllable per part of a hyphenated word ("Hung-lue"); one or two in a word ("Dawen"),
    # never split inside a doubled vowel ("Weii" is no wei + i).
    if seg is None or len(seg) > (1 if hyphenated else 2):
        return False
    return not any(a[-1] == b[0] and b[0] in "aeiou" for a, b in pairwise(seg))


@lru_cache(maxsize=20_000)
def _reads_wg(part: str, hyphenated: bool) -> bool:
    # Cached: every part of every romanized record is checked at load time.
    return _reads(romanized.segment(part, "wg"), hyphenated)


@lru_cache(maxsize=1)
def _name_spellings() -> frozenset[str]:
    """Hong Kong spellings of the characters people are named with (the given-name table's and the
    surname table's characters): 697 of the 1,186 spellings the Cantonese tables list. The rest
    spell only characters no name uses ("Hng" is 哼), so a part written that way is a slip, not a
    Hong Kong name ("Ho Hng-yu" for 贺红玉 Ho Hung-yu: synthetic wade_giles_typo, seed 103)."""
    spelled = cantonese.chunlaw_spellings()
    chars = mandarin.name_characters() | {row["simplified"] for row in cantonese.surname_rows()}
    return frozenset(s for ch in chars for s in spelled.get(ch, ()))


def _cantonese(split: list[list[str]], i: int, j: int) -> bool:
    """Is the name Cantonese as Hong Kong writes it: every part a listed spelling, the odd part one
    syllable ("Hisung" is hi-sung only by a slip) and so is a one-word surname ("Kuo Tsiu" reads ku-o:
    a Wade-Giles surname and a slip, 郭崔 Kuo Tsui)?"""
    if not romanized.one_cantonese_syllable(split[i][j]) or split[i][j] not in _name_spellings():
        return False
    if len(split) > 1 and len(split[0]) == 1 and not romanized.one_cantonese_syllable(split[0][0]):
        return False
    return all(_reads(romanized.strict_cantonese(p), len(ps) > 1) for ps in split for p in ps if p)


@lru_cache(maxsize=20_000)
def _split_by_slip(part: str) -> bool:
    """Does a one-word given name read in Wade-Giles only by splitting off a syllable of one or two
    letters ("Hsio" hsi-o, "Chine" chi-ne, "Hsuna" hsun-a)? A slip usually makes such a word (of
    the unblocked wade_giles_typo pairs of dev seed 7, 9 of 18), while a given name written as one
    word spells two full syllables ("Tawen" ta-wen, "Chingkuo")."""
    seg = romanized.segment(part, "wg")
    return seg is not None and len(seg) == 2 and min(len(x) for x in seg) <= 2 and len(part) <= 6


def slipped_names(name: romanized.LatinName) -> list[romanized.LatinName]:
    """The name with its one unreadable part replaced by each syllable one slip away, when every
    other part reads in Wade-Giles; [] otherwise (a name with two odd parts is not one slip)."""
    odd: list[tuple[int, int]] = []
    split = [tok.replace("'", "").replace(":", "").split("-") for tok in name.tokens]
    split_off: list[tuple[int, int]] = []
    for i, parts in enumerate(split):
        for j, part in enumerate(parts):
            if part and not _reads_wg(part, len(parts) > 1):
                odd.append((i, j))
            elif part and i > 0 and len(parts) == 1 and _split_by_slip(part):
                split_off.append((i, j))
    odd = odd or split_off  # a part no system reads is the slip, if there is one
    if len(odd) != 1 or sum(len(p) for p in split) < 2:
        return []  # two odd parts are not one slip
    i, j = odd[0]
    doubled = any(a == b for a, b in pairwise(split[i][j]))
    if not doubled and _cantonese(split, i, j):
        # "Lau Chi-ming" is Cantonese, not a slip in Wade-Giles. A doubled letter is a slip's
        # mark even where Hong Kong spells that way ("Min-koo", "Wanng"): unblocked pairs of 400
        # wade_giles_typo, seed 101, 22 → 11; 1.5 % of bench/speed.py's romanized names slip.
        return []
    out: list[romanized.LatinName] = []
    for syllable in slip_syllables(split[i][j]):
        token = "-".join([*split[i][:j], syllable, *split[i][j + 1 :]])
        out.append(replace(name, tokens=(*name.tokens[:i], token, *name.tokens[i + 1 :])))
    return out


def personal_neighbour_names(name: romanized.LatinName) -> list[romanized.LatinName]:
    """The name with one given-name part that reads only as a personal spelling ("Yuh" for 玉 yu)
    replaced by each Wade-Giles syllable one vowel or final edit from it as written ("yueh").

    A personal spelling may itself be a slip: "Cheng Jui-yuh" is 程瑞悦 (yüeh) with its e dropped,
    but the part reads as the listed spelling of yu, so it had no slip keys, and its reading's
    neighbours (of "yu") are two edits from yueh: a sure "not seen" (bench/accuracy.py
    wade_giles_typo, seed 109). The written part is one edit away. Query side only."""
    split = [tok.replace("'", "").replace(":", "").split("-") for tok in name.tokens]
    out: list[romanized.LatinName] = []
    for i, parts in enumerate(split):
        for j, part in enumerate(parts):
            surname = i == name.surname_index or (name.surname_index is None and len(parts) == 1)
            if surname or part not in spellings.PERSONAL_SPELLINGS or not romanized.personal_read(part, "wg"):
                continue  # a surname's personal spelling (Lee) is the surname table's business
            for syllable in syllable_neighbours(part, "wg"):
                token = "-".join([*parts[:j], syllable, *parts[j + 1 :]])
                out.append(replace(name, tokens=(*name.tokens[:i], token, *name.tokens[i + 1 :])))
    return out
