"""Person names → :class:`NameForm`: folded characters plus readings in three systems.

One function, :func:`person_forms`, serves indexing and querying. A name in Chinese script is split
into surname and given name and read in pinyin (surname readings), coarse Wade-Giles and Cantonese; a
romanized name is parsed (:mod:`indexer.romanized`) and read in the same three systems, so that the
two meet on shared readings. Every reading is a tuple of syllables with the surname first.
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.names import cantonese, mandarin, romanized
from indexer.names.ranked import ranked_product
from indexer.names.text import (
    fold,
    fold_keep_case,
    fold_surname,
    fold_width,
    han_only,
    has_han,
    has_latin,
    is_han,
    name_cache,
)

Reading = tuple[str, ...]

# Readings kept per system and name. Eight covers a three-syllable Han name with a heteronym
# surname and two Cantonese spellings per syllable; more only adds near-duplicate keys.
MAX_READINGS = 8


@dataclass(frozen=True, slots=True)
class Guesses:
    """Where a form's readings are guesses, so the scorer can count the guesses a match stacks
    (issue #14)."""

    surname_last: frozenset[Reading] = frozenset()  # romanized: read with the last token as surname
    converted: frozenset[Reading] = frozenset()  # romanized: Wade-Giles converted from a pinyin spelling
    secondary: frozenset[Reading] = frozenset()  # Han: a character read its secondary way (洋 as xiang)
    personal: frozenset[Reading] = frozenset()  # romanized: through a personal spelling (Lee, Jyh)
    systems: frozenset[str] = frozenset()  # romanized: the systems that read every token (none: a typo)


@dataclass(frozen=True, slots=True)
class NameForm:
    """One written form of a person name, normalized for keys and scoring.

    A reading is ``(surname, given_syllable, ...)`` with a compound surname's syllables joined
    (欧阳 → "ouyang"), so the first element is always the whole surname.

    For a Han name the Cantonese readings are computed on first use (``ct_seed`` holds what they
    are computed from): scoring a Han candidate against a Han query never needs them, and they are
    the dearest part of a profile (half the /match time on 1 M records went to building them)."""

    original: str
    folded: str
    han: str  # Simplified Han characters, surname folded ("" for a romanized name)
    surname: str  # Han surname ("" if romanized)
    py: tuple[Reading, ...]  # pinyin readings
    wg: tuple[Reading, ...]  # coarse (apostrophe-less Wade-Giles) readings
    _ct: tuple[Reading, ...] | None = None  # Cantonese skeleton readings (see ``ct``)
    english: tuple[str, ...] = ()  # English given names set aside ("peter")
    initials: tuple[str, ...] = ()
    ct_seed: tuple[str, int] | None = None  # (written characters, surname length) for a Han name
    _ct_sets: tuple[tuple[str, ...], ...] | None = None
    parsed: romanized.LatinName | None = None  # a romanized name as parsed
    _guesses: Guesses | None = None  # computed on first use (see ``guesses``)

    @property
    def is_han(self) -> bool:
        return bool(self.han)

    @property
    def ct(self) -> tuple[Reading, ...]:
        """Cantonese skeleton readings, most likely first."""
        if self._ct is None:
            ct = _dedupe(ranked_product(list(self.ct_sets), MAX_READINGS)) if self.ct_seed is not None else ()
            object.__setattr__(self, "_ct", ct)
        assert self._ct is not None
        return self._ct

    @property
    def ct_sets(self) -> tuple[tuple[str, ...], ...]:
        """Han names only: Cantonese skeleton options per position (surname first, a compound
        surname's options joined), so the scorer can accept any real spelling of each syllable."""
        if self._ct_sets is None:
            object.__setattr__(self, "_ct_sets", _ct_sets(*self.ct_seed) if self.ct_seed is not None else ())
        assert self._ct_sets is not None
        return self._ct_sets

    @property
    def ct_first(self) -> Reading | None:
        """The most likely Cantonese reading (``ct[0]``), without building the others: comparing
        two names in characters needs only this one, and the ranked product of every reading was
        a sixth of a candidate's profile on 1 M records (20 of 126 µs a person, bench/realistic.py
        watchlist). The product's first is every position's first option, so this equals ``ct[0]``
        (tests/test_stored_profiles.py checks it on the real name lists)."""
        if self.ct_seed is None:
            return self.ct[0] if self.ct else None
        sets = self.ct_sets
        return tuple(o[0] for o in sets) if sets and all(sets) else None

    @property
    def guesses(self) -> Guesses:
        """Which readings are guesses. Computed on first use, by the scorer only: building them
        for every record slowed loading by a quarter (bench/speed.py)."""
        if self._guesses is None:
            object.__setattr__(self, "_guesses", _latin_guesses(self) if self.parsed else _han_guesses(self))
        assert self._guesses is not None
        return self._guesses

    def readings(self, system: str) -> tuple[Reading, ...]:
        """Readings in one system: 'py', 'wg' or 'ct'."""
        if system == "py":
            return self.py
        if system == "wg":
            return self.wg
        return self.ct


def _dedupe(items: list[Reading]) -> tuple[Reading, ...]:
    return tuple(dict.fromkeys(r for r in items if r))[:MAX_READINGS]


def join_surname(syllables: tuple[str, ...], surname_len: int) -> Reading:
    """A reading with a compound surname's syllables joined (ou, yang, ... → ouyang, ...)."""
    return ("".join(syllables[:surname_len]), *syllables[surname_len:])


@name_cache(maxsize=30_000)
def han_form(original: str, han: str) -> NameForm:
    """Normalize a Han person name. ``han`` is the folded (Simplified) character string, used for
    character comparison; readings are taken from the characters as *written*, because T→S folding
    is lossy for names: 乾 (qian, as in 乾隆) folds to 干 (gan)."""
    written = han_only(fold_width(original))
    if len(written) != len(han):
        written = han
    surname, given = mandarin.split_surname(han)
    n = len(surname)
    if n == 1:
        surname = fold_surname(surname)
    han = surname + given
    surnames, givens = mandarin.surname_readings(surname), mandarin.given_readings(written[n:])
    py_raw = [s + g for s in surnames for g in givens]
    py = _dedupe([join_surname(r, n) for r in py_raw])
    wg = _dedupe([join_surname(tuple(mandarin.coarse(x) for x in r), n) for r in py_raw])
    return NameForm(original, han, han, surname, py, wg, ct_seed=(surname + written[n:], n))


def _han_guesses(form: NameForm) -> Guesses:
    """A Han name's secondary readings: a character read its rarer way. Both readings of the
    usual name polyphones (长 chang / zhang) count as primary."""
    if form.ct_seed is None:
        return Guesses()
    written, n = form.ct_seed
    given = written[n:]
    givens = mandarin.given_readings(given)
    if len(givens) < 2:
        return Guesses()
    usual = [givens[0], *(g for g in givens[1:] if _usual_alternative(given, givens[0], g))]
    first = [s + g for s in mandarin.surname_readings(form.surname) for g in usual]
    primary = {join_surname(r, n) for r in first} | {
        join_surname(tuple(mandarin.coarse(x) for x in r), n) for r in first
    }
    return Guesses(secondary=frozenset(r for r in (*form.py, *form.wg) if r not in primary))


def _usual_alternative(given: str, first: Reading, other: Reading) -> bool:
    """Does ``other`` differ from ``first`` only at name polyphones (长 chang / zhang)?"""
    for i, syllable in enumerate(other):
        if syllable != first[i] and given[i] not in mandarin.NAME_POLYPHONES:
            return False
    return True


def _ct_sets(han: str, surname_len: int) -> tuple[tuple[str, ...], ...]:
    per_char = [cantonese.char_keys(ch, surname=i < surname_len) for i, ch in enumerate(han)]
    if surname_len == 1:
        return tuple(per_char)
    joined = tuple("".join(c) for c in ranked_product(per_char[:surname_len], 4))
    return (joined, *per_char[surname_len:])


@name_cache(maxsize=30_000)
def latin_form(original: str) -> NameForm | None:
    """Normalize a romanized person name; None if it holds no name token at all."""
    parsed = romanized.parse_latin(original)
    if not parsed.tokens:
        return None
    # A name is read in every system here (the keys need all of them: a typo can make a pinyin
    # name readable only in Cantonese, and the store must still find it); which system it is
    # written in, and so which readings are guesses, is worked out by the scorer (``guesses``).
    py_r = romanized.readings(parsed, "py")
    wg_r = romanized.readings(parsed, "wg")
    ct_r = romanized.readings(parsed, "ct")
    py = _dedupe([join_surname(r, n) for r, n in py_r])
    # Pinyin converted to coarse Wade-Giles, for the keys and for comparing two romanized records
    # (Zhang / Chang); never to reach a Chinese-script record (see ``_latin_guesses``).
    wg = _dedupe(
        [join_surname(r, n) for r, n in wg_r] + [join_surname(tuple(mandarin.coarse(x) for x in r), n) for r, n in py_r]
    )
    ct = _dedupe([join_surname(tuple(cantonese.skeleton(x) for x in r), n) for r, n in ct_r])
    folded = " ".join(parsed.tokens)
    return NameForm(original, folded, "", "", py, wg, ct, parsed.english, parsed.initials, parsed=parsed)


def _latin_guesses(form: NameForm) -> Guesses:
    """A romanized name's guesses: the systems it is written in (a name that reads whole in pinyin
    is not "Jin Ming" for 覃明 through Wade-Giles), readings that assume the surname is last,
    Wade-Giles converted from pinyin, readings through a personal spelling."""
    parsed = form.parsed
    if parsed is None:
        return Guesses()
    py_r, wg_r, ct_r = (romanized.readings(parsed, s) for s in ("py", "wg", "ct"))
    true_wg = {join_surname(r, n) for r, n in wg_r}
    converted = frozenset(join_surname(tuple(mandarin.coarse(x) for x in r), n) for r, n in py_r) - true_wg
    last = (
        [r[1] for r in (py_r, wg_r, ct_r) if len(r) == 2 and r[1] != r[0]]
        if parsed.surname_index is None and len(parsed.tokens) >= 2
        else []
    )
    surname_last = frozenset(
        {join_surname(r, n) for r, n in last}
        | {join_surname(tuple(mandarin.coarse(x) for x in r), n) for r, n in last}
        | {join_surname(tuple(cantonese.skeleton(x) for x in r), n) for r, n in last}
    )
    personal = frozenset(
        (*(form.py if romanized.uses_personal(parsed, "py") else ()),
         *(form.wg if romanized.uses_personal(parsed, "wg") else ()))
    )  # fmt: skip
    return Guesses(surname_last, converted, frozenset(), personal, frozenset(romanized.full_systems(parsed)))


def person_forms(raw: str) -> list[NameForm]:
    """All forms in one raw name field: a Han form, a Latin form, or both ("陳大文 CHAN Tai Man").
    Never raises; returns [] for text with no name in it."""
    if not raw or not raw.strip():
        return []
    forms: list[NameForm] = []
    folded = fold(raw)
    if has_han(folded):
        forms.append(han_form(raw, "".join(ch for ch in folded if is_han(ch))))
    if has_latin(folded):
        latin_part = "".join(" " if is_han(ch) else ch for ch in fold_keep_case(raw))
        form = latin_form(latin_part)
        if form is not None:
            forms.append(form)
    return forms
