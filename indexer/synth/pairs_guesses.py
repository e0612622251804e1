"""Benchmark categories for issue #14: Taiwan and Hong Kong conventions (positives), and different
people whose names meet only through stacked guesses or a system the name is not written in (hard
negatives)."""

from __future__ import annotations

import random

from indexer.names.cantonese import written_spellings
from indexer.names.mandarin import (
    COARSE_SYLLABLES,
    COARSE_TO_PINYIN,
    NAME_POLYPHONES,
    PINYIN_SYLLABLES,
    char_readings,
    coarse,
)
from indexer.synth import render
from indexer.synth.entities import Generator
from indexer.synth.pair import Pair, _cap
from indexer.synth.pairs_people import _pinyin, _query, _record

TITLES = ("Dr", "Mr", "Mrs", "Ms", "Miss", "Madam", "Prof.", "Hon.", "Sir")


def taiwan_passport(g: Generator, r: random.Random) -> Pair | None:
    """A Taiwan document: the surname's Taiwan spelling (Lee, Hsieh, Tsai, Kuo, Hsiao, Tseng), the
    given name in apostrophe-less Wade-Giles, hyphenated, and as often given name first."""
    p = g.person()
    if not p.surname.taiwan:
        return None
    given = [x.replace("'", "") for x in render.wade_giles(render.pinyin_given(p))]
    sur = _cap(r.choice(p.surname.taiwan).lower())
    hyphen = _cap("-".join(given))
    name = f"{hyphen} {sur}" if r.random() < 0.5 else f"{sur} {hyphen}"
    return Pair("taiwan_passport", True, _query(name), _record(p, render.traditional(p.han, taiwan=True)))


def titled_name(g: Generator, r: random.Random) -> Pair | None:
    """A title or honorific before the name ("Dr CHAN Tai Man", "Madam Chen Dawen")."""
    p = g.person()
    hk = render.hk_syllables(r, p)
    if hk is not None and r.random() < 0.5:
        sur, given = hk
        name = f"{sur.upper()} {' '.join(given)}"
    else:
        s, gv = _pinyin(p)
        name = f"{s} {_cap(''.join(gv))}"
    return Pair("titled_name", True, _query(f"{r.choice(TITLES)} {name}"), _record(p))


def _other_syllable(r: random.Random, syllable: str, pool: list[str]) -> str | None:
    # Only syllables that cannot be Wade-Giles themselves: "Chang" is how Taiwan writes 张, so a
    # query "Chang Wei" for 张伟 is no negative; "Zheng" and "Jin" are pinyin only.
    options = [x for x in pool if x != syllable and x in PINYIN_SYLLABLES and x not in COARSE_SYLLABLES]
    return r.choice(options) if options else None


def stacked_fuzzy_other_person(g: Generator, r: random.Random) -> Pair | None:
    """Another person whose pinyin differs from the record's in two syllables, each by a fuzzy
    merge (韓振 han zhen and 范成 "Fan Cheng"): two guesses stacked, no birth date."""
    p = g.person()
    s, gv = _pinyin(p)
    syls = [s.lower(), *gv]
    positions = [i for i, x in enumerate(syls) if render.fuzzy_pinyin(random.Random(0), x) != x]
    if len(positions) < 2:
        return None
    for i in r.sample(positions, 2):
        syls[i] = render.fuzzy_pinyin(r, syls[i])
    query = f"{_cap(syls[0])} {_cap(''.join(syls[1:]))}"
    return Pair("stacked_fuzzy_other_person", False, _query(query), _record(p))


def rare_reading_other_name(g: Generator, r: random.Random) -> Pair | None:
    """Another person whose pinyin is the record's only through a reading its characters rarely
    have in names ("Wang Xiang" for 王洋, where 洋 is yang)."""
    p = g.person()
    s, gv = _pinyin(p)
    spots = [
        (i, alt)
        for i, ch in enumerate(p.given)
        if ch not in NAME_POLYPHONES and len(rs := char_readings(ch)) > 1 and rs[0] == gv[i]
        for alt in rs[1:2]
        if alt != gv[i]
    ]
    # Not a spelling the record has in another system: "Ma Tuwen" is Wade-Giles for 马杜文 (du is
    # tu) and "Gu Dai" how Hong Kong writes 顾大, so neither is another person's name (seeds 41,
    # 53, 61, 109, 113 counted such pairs as false alarms). A joined two-syllable given name is
    # never Hong Kong's way ("Panyu"), so only a one-syllable one can be its spelling.
    spots = [
        (i, alt)
        for i, alt in spots
        if coarse(alt) != coarse(gv[i])
        and not _written_in_cantonese([s.lower(), *gv[:i], alt, *gv[i + 1 :]], [p.surname.simplified, *p.given])
    ]
    if not spots:
        return None
    i, alt = r.choice(spots)
    given = [*gv[:i], alt, *gv[i + 1 :]]
    return Pair("rare_reading_other_name", False, _query(f"{s} {_cap(''.join(given))}"), _record(p))


def _written_in_cantonese(syllables: list[str], chars: list[str]) -> bool:
    """Is every syllable a spelling Hong Kong or Macau writes for the character it stands for?"""
    if len(chars) != 2 or len(chars[0]) != 1 or len(syllables) != 2:
        return False  # a compound surname or two given syllables written as one word
    return all(x in written_spellings(ch) for x, ch in zip(syllables, chars, strict=True))


def pinyin_wg_collision(g: Generator, r: random.Random) -> Pair | None:
    """Another person written in pinyin whose name meets the record's only if the pinyin is read
    as Wade-Giles with the apostrophes lost ("Jin Ming" and 覃明 qin ming are both "chin ming")."""
    p = g.person()
    s, gv = _pinyin(p)
    syls = [s.lower(), *gv]
    han = p.surname.simplified + p.given
    collide = [(i, COARSE_TO_PINYIN.get(coarse(x), ())) for i, x in enumerate(syls)]
    # Not another reading of the same character (传 chuan / zhuan), and not ü written u (吕 "Lu"
    # is a real spelling of lü, so 陆 lu against "Lv" is no clean negative either way).
    spots = [
        (i, [y for y in ys if y != syls[i] and y not in char_readings(han[i] if i < len(han) else "")
             and y.replace("v", "u") != syls[i].replace("v", "u")])
        for i, ys in collide
    ]  # fmt: skip
    spots = [(i, ys) for i, ys in spots if ys]
    if not spots:
        return None
    i, ys = r.choice(spots)
    other = _other_syllable(r, syls[i], list(ys))
    if other is None:
        return None
    syls[i] = other
    return Pair("pinyin_wg_collision", False, _query(f"{_cap(syls[0])} {_cap(''.join(syls[1:]))}"), _record(p))
