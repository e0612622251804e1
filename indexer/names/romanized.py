"""Latin-script names: tokens, surname position, English given names, syllable segmentation.

A romanized Chinese name carries no label saying which system wrote it ("Chi" is pinyin 吃 or
Wade-Giles 吉 or Cantonese 志), so we read it in every system (pinyin, coarse Wade-Giles, Cantonese)
and let the keys and the scorer find which reading meets the other record. Surname position comes
from layout when there is any ("CHEN, Dawen"; "Dawen CHEN"; "CHAN Tai Man"); otherwise both
orders are kept as hypotheses. English given names ("Peter Chan Tai-man") are set aside.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from indexer.names import cantonese, mandarin
from indexer.names.spellings import ENGLISH_NAMES, LATIN_ALIASES, PERSONAL_SPELLINGS, TITLES, WG_VARIANTS

_TOKEN_RE = re.compile(r"[A-Za-z\u00c0-\u024f':]+(?:-[A-Za-z':]+)*")
_CAPS_RE = re.compile(r"^[A-Z][A-Z':-]+$")


@lru_cache(maxsize=50_000)
def segment(token: str, system: str) -> tuple[str, ...] | None:
    """Split one lower-case token into syllables of ``system`` ('py', 'wg' or 'ct'), fewest
    syllables first (so 'xian' stays one syllable, 'dawen' becomes da wen). None if impossible."""
    if system == "py":
        parts = token.replace(":", "v").split("'")
        inventory: frozenset[str] = mandarin.PINYIN_SYLLABLES
    elif system == "wg":
        parts = [token.replace("'", "").replace(":", "")]
        inventory = mandarin.COARSE_SYLLABLES
    else:
        parts = [token.replace("'", "").replace(":", "")]
        inventory = cantonese.spellings()
    out: list[str] = []
    for part in parts:
        if not part:
            continue
        alias = LATIN_ALIASES.get(part)
        if alias is not None:
            out.extend(alias)
            continue
        found = _segment(part, inventory, system == "ct", system == "py", system == "wg")
        personal = PERSONAL_SPELLINGS.get(part) if system != "ct" else None
        # A listed personal spelling is one syllable, even where the table would split it
        # ("Kuen" is 焜 kun, not ku + en).
        if personal is not None and (found is None or len(found) > 1):
            out.append(personal if system == "py" else mandarin.coarse(personal))
            continue
        if found is None:
            return None
        out.extend((WG_VARIANTS.get(x, x) for x in found) if system == "wg" else found)
    return tuple(out) if out else None


def _known(piece: str, inventory: frozenset[str], by_skeleton: bool) -> bool:
    # Cantonese spellings vary without end (Chau / Chow / Jau / Jao); a piece is a syllable if it
    # is a listed spelling or collapses to the skeleton of one.
    return piece in inventory or (by_skeleton and cantonese.skeleton(piece) in cantonese.skeletons())


def _segment(
    word: str, inventory: frozenset[str], by_skeleton: bool = False, pinyin: bool = False, wade_giles: bool = False
) -> tuple[str, ...] | None:
    n = len(word)
    # best[i] = fewest-syllable split of word[i:], tie broken toward longer first syllables.
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[n] = ()
    for i in range(n - 1, -1, -1):
        for j in range(min(n, i + 7), i, -1):
            rest = best[j]
            # Pinyin orthography writes an apostrophe before a syllable starting with a, o or e
            # (Xi'an), so without one "yinan" is yi-nan, never yin-an.
            if pinyin and j < n and word[j] in "aoe":
                continue
            # Nor does a Wade-Giles name split a doubled vowel: "Weii" is a slip for Wei, not
            # wei + i, which the scorer took for a whole extra syllable (two guesses, so a slip
            # was never a match: bench/accuracy.py wade_giles_typo). Pinyin brands do ("Yiteer"
            # 意特尔, "Deenpu" 德恩普: a company name never writes pinyin's apostrophe).
            if wade_giles and j < n and word[j] == word[j - 1] and word[j] in "aeiou":
                continue
            if rest is not None and _known(word[i:j], inventory, by_skeleton):
                cand = (word[i:j], *rest)
                current = best[i]
                if current is None or len(cand) < len(current):
                    best[i] = cand
    return best[0]


@dataclass(frozen=True, slots=True)
class LatinName:
    """A parsed romanized name: ordered token groups, which one is the surname, English names."""

    tokens: tuple[str, ...]
    surname_index: int | None  # known surname position, None when the layout does not say
    english: tuple[str, ...]
    initials: tuple[str, ...]


def _tokens(raw: str) -> list[str]:
    return [m.group(0) for m in _TOKEN_RE.finditer(raw)]


def _is_syllabic(token: str) -> bool:
    return any(segment(token, s) is not None for s in ("py", "wg", "ct"))


def _single_syllable(token: str) -> bool:
    return any(segment(token, s) == (token,) for s in ("py", "wg", "ct"))


def parse_latin(raw: str) -> LatinName:
    """Parse the Latin part of a raw (unfolded) name; case is used to find the surname."""
    comma_surname: str | None = None
    comma_english: list[str] = []
    if "," in raw:
        head, _, tail = raw.partition(",")
        head_tokens, tail_tokens = _tokens(head), _tokens(tail)
        if len(head_tokens) == 1 and tail_tokens:
            comma_surname = head_tokens[0].lower()  # "CHAN, Tai Man"
        elif len(tail_tokens) == 1 and tail_tokens[0].lower() in ENGLISH_NAMES:
            comma_english = [tail_tokens[0].lower()]  # "Chan Tai Man, Peter"
            raw = head
    raw_tokens = _drop_titles(raw, _tokens(raw.replace(",", " ")))
    # A lone letter is an initial ("Peter T.M. Chan", "Chan T M") unless it is a syllable with no
    # dot after it (Macau's 余 is "U").
    dotted = set(re.findall(r"\b([A-Za-z])\.", raw))
    lone = [t for t in raw_tokens if len(t) == 1 and (t in dotted or not _is_syllabic(t.lower()))]
    initials = tuple(t.lower() for t in lone)
    raw_tokens = [t for t in raw_tokens if not (len(t) == 1 and t in lone)]
    mixed_case = any(not t.isupper() for t in raw_tokens)
    caps = [i for i, t in enumerate(raw_tokens) if _CAPS_RE.match(t)] if mixed_case else []

    english: list[str] = list(comma_english)
    kept: list[str] = []
    for i, tok in enumerate(raw_tokens):
        low = tok.lower()
        edge = i in (0, len(raw_tokens) - 1)
        # An English given name is set aside only from names of three or more tokens ("Peter Chan
        # Tai-man"): in a two-token name it is as likely a typo of a syllable ("Chen Dawne").
        english_name = low in ENGLISH_NAMES and i not in caps and "-" not in low and low != comma_surname
        if english_name and len(raw_tokens) >= 3 and edge and not _single_syllable(low):
            english.append(low)
            continue
        kept.append(tok)

    surname_index: int | None = None
    lowered = [t.lower() for t in kept]
    hyphenated = [i for i, t in enumerate(kept) if "-" in t.strip("-")]
    if comma_surname is not None and comma_surname in lowered:
        surname_index = lowered.index(comma_surname)
    else:
        kept_caps = [i for i, t in enumerate(kept) if _CAPS_RE.match(t)] if mixed_case else []
        if len(kept_caps) == 1:
            surname_index = kept_caps[0]
        elif len(kept) == 2 and len(hyphenated) == 1 and not _compound_surname(kept[hyphenated[0]]):
            # Taiwan and Hong Kong hyphenate the given name: in "Chih-ming Hsu" the other word is
            # the surname, whichever side it stands on.
            surname_index = 1 - hyphenated[0]
    return LatinName(tuple(lowered), surname_index, tuple(english), initials)


def orders(name: LatinName) -> list[tuple[str, ...]]:
    """Token orders with the surname first: the known one, or (unknown) as written and with the
    last token moved to the front ("Dawen Chen")."""
    toks = name.tokens
    if not toks:
        return []
    if name.surname_index is not None:
        i = name.surname_index
        return [(toks[i], *toks[:i], *toks[i + 1 :])]
    if len(toks) == 1:
        return [toks]
    return [toks, (toks[-1], *toks[:-1])]


def readings(name: LatinName, system: str, lenient: bool = False) -> list[tuple[tuple[str, ...], int]]:
    """Readings of a parsed name in one system, one per token order: the syllables (surname
    token's first) and how many of them the surname has. Empty if a token is unreadable.
    ``lenient``: pinyin without its apostrophe rule, for brand names, which never write it
    ("Jingermei" is jing-er-mei, "Paerduo" pa-er-duo)."""
    out: list[tuple[tuple[str, ...], int]] = []
    segs = {tok: _segment_hyphenated(tok, system) for tok in name.tokens}
    if lenient and system == "py":
        segs = {tok: seg or _lenient_pinyin(tok) for tok, seg in segs.items()}
    if not any(v is not None for v in segs.values()) and any(not _unreadable(tok) for tok in name.tokens):
        return []  # wholly another system's spelling ("Cheung Kwok Wing" has no pinyin reading)
    for order in orders(name):
        syllables: list[str] = []
        surname_len = 0
        for k, tok in enumerate(order):
            seg = segs[tok]
            if seg is None:
                # Unreadable in this system while the other tokens read: a typo ("Chen Dawne") or
                # a mixed spelling ("Kon Huichen"). Keep the token whole so the scorer can still
                # measure its distance to the other record's reading.
                seg = (tok.replace("-", "").replace("'", ""),)
            if k == 0:
                surname_len = len(seg)
            syllables.extend(seg)
        out.append((tuple(syllables), surname_len))
    return out


def _unreadable(token: str) -> bool:
    return all(_segment_hyphenated(token, s) is None for s in ("py", "wg", "ct"))


def _segment_hyphenated(token: str, system: str) -> tuple[str, ...] | None:
    out: list[str] = []
    for part in token.split("-"):
        if not part:
            continue
        seg = segment(part, system)
        if seg is None:
            return None
        out.extend(seg)
    return tuple(out)


@lru_cache(maxsize=10_000)
def full_systems(name: LatinName) -> frozenset[str]:
    """The systems ('py', 'wg', 'ct') in which every token of the name reads. Cantonese counts
    only listed spellings here, not the skeletons it otherwise accepts: almost any typo'd pinyin
    collapses to some Cantonese skeleton ("Haiihong")."""

    def plausible(seg: tuple[str, ...] | None) -> bool:
        # A word of a Chinese name is one or two syllables ("Dawen", "Tai-man"); a reading that
        # needs three for one word is a typo read by accident ("Haaoming" as ha-ao-ming).
        return seg is not None and len(seg) <= 2

    def reads(system: str) -> bool:
        if system == "ct":
            return not not_cantonese_words(name)
        return all(plausible(_segment_hyphenated(t, system)) for t in name.tokens)

    return frozenset(s for s in ("py", "wg", "ct") if reads(s))


def not_cantonese_words(name: LatinName) -> tuple[str, ...]:
    """The words of a name as Hong Kong and Macau never write them. They write one syllable a
    word or hyphenated part ("Chan Tai-man", "Chan Tai Man"), a compound surname aside
    ("Au-Yeung", "Szeto"): "Jiang" read as ji-ang is pinyin, not Cantonese, and so it must be
    compared (tw→tw "Jiang Wan-an" and "Chiang Wan-an" met only as Cantonese, two guesses)."""
    return tuple(
        t for t in name.tokens if not (_compound_surname(t) or all(_cantonese_part(p) for p in t.split("-") if p))
    )


def _cantonese_part(part: str) -> bool:
    """A word or hyphenated part Hong Kong writes: one listed Cantonese syllable, or an alias."""
    return part in LATIN_ALIASES or one_cantonese_syllable(part)


@lru_cache(maxsize=10_000)
def joined_words(name: LatinName) -> tuple[str, ...]:
    """Words (or hyphenated parts) of two or more pinyin or Wade-Giles syllables that are no
    Cantonese syllable, not even by skeleton (Macau's 趙 Chio, 鄭 Cheang are): "Panyu" is
    pinyin's way of writing a given name, never Hong Kong's. A Mandarin surname in a Hong Kong
    name ("Chiang Lai-wan", 蔣麗芸) is one syllable, and not one of these."""

    def joined(part: str) -> bool:
        if _cantonese_part(part) or cantonese.skeleton(part) in cantonese.skeletons():
            return False
        return any(len(segment(part, system) or ()) >= 2 for system in ("py", "wg"))

    return tuple(p for t in name.tokens if not _compound_surname(t) for p in t.split("-") if p and joined(p))


def uses_personal(name: LatinName, system: str) -> bool:
    """Does reading the name in ``system`` go through a personal spelling (Lee for li)?"""
    parts = [p for t in name.tokens for p in t.replace("'", "").split("-") if p]
    return any(p in PERSONAL_SPELLINGS and personal_read(p, system) for p in parts)


@lru_cache(maxsize=5_000)
def personal_read(part: str, system: str) -> bool:
    """Does ``part`` read in ``system`` only through its personal spelling (not as one syllable)?"""
    inventory = mandarin.PINYIN_SYLLABLES if system == "py" else mandarin.COARSE_SYLLABLES
    return len(_segment(part, inventory, False, system == "py") or ()) != 1


def one_cantonese_syllable(part: str) -> bool:
    """Is the word (or hyphenated part) one listed Cantonese spelling?"""
    seg = strict_cantonese(part.replace("'", "").replace(":", ""))
    return seg is not None and len(seg) == 1


@lru_cache(maxsize=50_000)
def strict_cantonese(part: str) -> tuple[str, ...] | None:
    """A word split into listed Cantonese spellings only (no skeletons)."""
    return _segment(part, cantonese.spellings())


@lru_cache(maxsize=20_000)
def _lenient_pinyin(token: str) -> tuple[str, ...] | None:
    """Pinyin syllables of a word that ignores the apostrophe rule, or None."""
    return _segment(token.replace("'", "").replace("-", ""), mandarin.PINYIN_SYLLABLES, False, False)


@lru_cache(maxsize=20_000)
def apostrophe_dropped(word: str) -> bool:
    """Does the word read as two pinyin syllables only when its apostrophe is put back ("Zhongao"
    zhong'ao, "Gaian" gai'an)? Such a word is a name, not a slip of the keyboard."""
    if segment(word, "py") is not None:
        return False
    seg = _lenient_pinyin(word)
    return seg is not None and len(seg) == 2 and not any(x in mandarin.INTERJECTIONS for x in seg)


# Compound surnames as Hong Kong and Macau write them, hyphenated or not (歐陽 Au-Yeung, 司徒 Sze-To).
_COMPOUND_LATIN = frozenset({"auyeung", "szeto", "seto", "sheungkwun", "wongfu", "chukot", "ouyeung"})


@lru_cache(maxsize=1)
def _compound_spellings() -> frozenset[str]:
    return _COMPOUND_LATIN | {"".join(r) for r in mandarin.COMPOUND_SURNAMES.values()}


def _compound_surname(token: str) -> bool:
    """Is this (hyphenated) word a compound surname ("Au-Yeung"), not a given name?"""
    return token.replace("-", "").lower() in _compound_spellings()


def _drop_titles(raw: str, tokens: list[str]) -> list[str]:
    """Leading titles and honorifics removed. "Hon" is also a surname (韓, "HON Po"): it is a
    title only written "Hon." with its dot, and each "Hon." drops one: "Hon. HON Kam Yum" lost
    its surname too (synthetic titled_name, seeds 53 and 83)."""
    out = list(tokens)
    dotted_hon = len(re.findall(r"\bHon\.", raw, re.IGNORECASE))
    while len(out) > 1:
        word = out[0].lower()
        if word not in TITLES:
            break
        if word == "hon":
            if not dotted_hon:
                break
            dotted_hon -= 1
        out.pop(0)
    return out


@lru_cache(maxsize=20_000)
def unwritten_syllables(raw: str, han: str) -> tuple[str, ...]:
    """The one-syllable words (or hyphenated parts) of a romanized name, as written, that Hong
    Kong and Macau write for none of the characters ``han`` (Simplified): "Li Jun" read as
    Cantonese meets 李春 only because its skeleton merges Jun with Chun, the spelling of 春."""
    written = frozenset().union(*(cantonese.written_spellings(ch) for ch in han))
    out: list[str] = []
    for token in parse_latin(raw).tokens:
        for part in token.lower().split("-"):
            seg = segment(part, "ct") if part else None
            if seg is not None and len(seg) == 1 and seg[0] not in written:
                out.append(seg[0])
    return tuple(out)


# Initials Hong Kong spellings do not write: Jyutping b, d, g are written p, t, k; z and c are
# ch or ts; q and x are pinyin only. Not j: Macau and some HK names write 周 Jao / Jau.
_NOT_HK = re.compile(r"^([bdgqxz]|c(?!h))")


@lru_cache(maxsize=20_000)
def not_hong_kong_syllables(raw: str) -> tuple[str, ...]:
    """The syllables of a romanized name, as written, whose initial Hong Kong spellings do not use."""
    return tuple(
        s
        for token in parse_latin(raw).tokens
        for part in token.split("-")
        for s in (segment(part.lower(), "ct") or ())
        if _NOT_HK.match(s)
    )
