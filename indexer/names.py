"""Person names → :class:`NameForm`: folded characters plus readings in three systems.

One function, :func:`person_forms`, serves indexing and querying. A name in Chinese script is split
into surname and given name and read in pinyin (surname readings), coarse Wade-Giles and Cantonese; a
romanized name is parsed (:mod:`indexer.romanized`) and read in the same three systems, so that the
two meet on shared readings. Every reading is a tuple of syllables with the surname first.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from indexer import cantonese, mandarin, romanized
from indexer.text import fold, fold_keep_case, fold_surname, fold_width, han_only, has_han, has_latin, is_han

Reading = tuple[str, ...]

# Readings kept per system and name. Eight covers a three-syllable Han name with a heteronym
# surname and two Cantonese spellings per syllable; more only adds near-duplicate keys.
MAX_READINGS = 8


@dataclass(frozen=True, slots=True)
class NameForm:
    """One written form of a person name, normalized for keys and scoring.

    A reading is ``(surname, given_syllable, ...)`` with a compound surname's syllables joined
    (欧阳 → "ouyang"), so the first element is always the whole surname."""

    original: str
    folded: str
    han: str  # Simplified Han characters, surname folded ("" for a romanized name)
    surname: str  # Han surname ("" if romanized)
    py: tuple[Reading, ...]  # pinyin readings
    wg: tuple[Reading, ...]  # coarse (apostrophe-less Wade-Giles) readings
    ct: tuple[Reading, ...]  # Cantonese skeleton readings
    english: tuple[str, ...] = ()  # English given names set aside ("peter")
    initials: tuple[str, ...] = ()
    # Han names only: Cantonese skeleton options per position (surname first, a compound surname's
    # options joined), so the scorer can accept any real spelling of each syllable.
    ct_sets: tuple[tuple[str, ...], ...] = ()

    @property
    def is_han(self) -> bool:
        return bool(self.han)

    def readings(self, system: str) -> tuple[Reading, ...]:
        """Readings in one system: 'py', 'wg' or 'ct'."""
        if system == "py":
            return self.py
        if system == "wg":
            return self.wg
        return self.ct


def _dedupe(items: list[Reading]) -> tuple[Reading, ...]:
    return tuple(dict.fromkeys(r for r in items if r))[:MAX_READINGS]


def _join(syllables: tuple[str, ...], surname_len: int) -> Reading:
    return ("".join(syllables[:surname_len]), *syllables[surname_len:])


@lru_cache(maxsize=100_000)
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
    py_raw = [s + g for s in mandarin.surname_readings(surname) for g in mandarin.given_readings(written[n:])]
    py = _dedupe([_join(r, n) for r in py_raw])
    wg = _dedupe([_join(tuple(mandarin.coarse(x) for x in r), n) for r in py_raw])
    ct_sets = _ct_sets(surname + written[n:], n)
    ct = _dedupe(cantonese.ranked_product(list(ct_sets), MAX_READINGS))
    return NameForm(original, han, han, surname, py, wg, ct, ct_sets=ct_sets)


def _ct_sets(han: str, surname_len: int) -> tuple[tuple[str, ...], ...]:
    per_char = [cantonese.char_keys(ch, surname=i < surname_len) for i, ch in enumerate(han)]
    if surname_len == 1:
        return tuple(per_char)
    joined = tuple("".join(c) for c in cantonese.ranked_product(per_char[:surname_len], 4))
    return (joined, *per_char[surname_len:])


@lru_cache(maxsize=100_000)
def latin_form(original: str) -> NameForm | None:
    """Normalize a romanized person name; None if it holds no name token at all."""
    parsed = romanized.parse_latin(original)
    if not parsed.tokens:
        return None
    py_r = romanized.readings(parsed, "py")
    wg_r = romanized.readings(parsed, "wg")
    ct_r = romanized.readings(parsed, "ct")
    py = _dedupe([_join(r, n) for r, n in py_r])
    wg = _dedupe([_join(tuple(mandarin.coarse(x) for x in r), n) for r, n in py_r] + [_join(r, n) for r, n in wg_r])
    ct = _dedupe([_join(tuple(cantonese.skeleton(x) for x in r), n) for r, n in ct_r])
    folded = " ".join(parsed.tokens)
    return NameForm(original, folded, "", "", py, wg, ct, parsed.english, parsed.initials)


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
