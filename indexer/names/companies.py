"""Company names → :class:`CompanyForm`: region, brand (字号), industry, legal form, branch.

PRC names follow 行政区划 + 字号 + 行业 + 组织形式, with the region also allowed in brackets after the
字号 (企业名称登记管理规定 art. 6; research note §1.11). We strip the parts from the ends inwards:
brackets, legal form, leading regions, trailing industry words; what is left is the brand, the part
that identifies the firm. English names ("Guangzhou Xinghui Trading Co., Ltd.", "Sing Fai Trading
Company Limited") are parsed the same way, their region words mapped back to Chinese and their brand
read as pinyin, Wade-Giles or Cantonese syllables, so both scripts meet on the brand's readings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from indexer.names import cantonese, company_terms, mandarin, regions, romanized
from indexer.names.ranked import ranked_product
from indexer.names.regions import Region
from indexer.names.text import fold, han_only, has_han, name_cache

Reading = tuple[str, ...]

_BRACKETS = re.compile(r"\(([^()]*)\)")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
_LONGEST_INDUSTRY = max(map(len, company_terms.INDUSTRY_HAN))


@dataclass(frozen=True, slots=True)
class CompanyForm:
    """One written form of a company name, parsed and read."""

    original: str
    folded: str  # folded full name (Simplified; lower-case Latin)
    brand: str  # brand in Han characters ("" for an English name)
    brand_latin: str  # brand as written in Latin letters, joined ("" for a Han name)
    industries: frozenset[str]
    region: Region | None
    legal_form: str
    branch: bool
    wg: tuple[Reading, ...]  # brand readings, coarse Wade-Giles
    ct: tuple[Reading, ...]  # brand readings, Cantonese skeletons
    py: tuple[Reading, ...]  # brand readings, pinyin
    # Every place an English region word may name ("Fuzhou" is 福州 in Fujian *and* 抚州 in Jiangxi).
    region_alternatives: tuple[Region, ...] = ()

    def region_relation(self, other: CompanyForm) -> str | None:
        """'same', 'within' or 'conflict' between the two firms' regions; None if one is unknown.
        An ambiguous English region conflicts only if every place it may name conflicts."""
        if self.region is None or other.region is None:
            return None
        mine = self.region_alternatives or (self.region,)
        theirs = other.region_alternatives or (other.region,)
        relations = {a.relation(b) for a in mine for b in theirs}
        for rel in ("same", "within"):
            if rel in relations:
                return rel
        return "conflict"

    @property
    def is_han(self) -> bool:
        return bool(self.brand) or has_han(self.folded)


def _ends_in_industry(text: str, legal: str) -> bool:
    """The shop word ending ``text`` is the end of an industry word: 金草地酒店 is a hotel (酒店),
    not a 酒 shop (店)."""
    for size in range(len(legal) + 1, min(_LONGEST_INDUSTRY, len(text)) + 1):
        if text[-size:] in company_terms.INDUSTRY_HAN and text[-size:].endswith(legal):
            return True
    return False


def _industry_suffix(text: str, shortest: int, left: int) -> str | None:
    """The longest industry word ending ``text`` with at least ``shortest`` characters that leaves
    ``left`` characters before it (dictionary look-ups of each suffix, longest first)."""
    for size in range(min(_LONGEST_INDUSTRY, len(text) - left), shortest - 1, -1):
        if text[-size:] in company_terms.INDUSTRY_HAN:
            return text[-size:]
    return None


def _strip_legal(text: str) -> tuple[str, str, bool]:
    legal = ""
    branch = False
    changed = True
    while changed and text:
        changed = False
        for word, cls in company_terms.LEGAL_FORMS_HAN:
            if text.endswith(word) and len(text) > len(word) and not _ends_in_industry(text, word):
                text = text[: -len(word)]
                branch = branch or cls == "branch"
                legal = legal or cls
                changed = True
                break
    return text, legal, branch


def _strip_industry(text: str) -> tuple[str, set[str]]:
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        # Leave at least one character; a one-character remainder sends the caller back to the
        # name without its region (金昌利文化传播: 金昌 is a city, but here the brand). Once one
        # industry word is off, another comes off only if it has two characters and two are left:
        # 新资本软件 is the brand 新资本 in software, 水晶鞋工控 the brand 水晶鞋 (synthetic benchmark,
        # company_english_trade_word, where these stripped the brand to 新 and 水晶).
        shortest, left = (1, 1) if not found else (2, 2)
        word = _industry_suffix(text, shortest, left)
        if word is not None:
            text = text[: -len(word)]
            found |= company_terms.INDUSTRY_HAN[word]
            changed = True
        for word in company_terms.MODIFIERS_HAN:
            if text.endswith(word) and len(text) > len(word) + 1:
                text = text[: -len(word)]
                changed = True
    return text, found


@name_cache(maxsize=20_000)
def _han_company(original: str, folded: str) -> CompanyForm:
    region: Region | None = None
    body = folded
    for inner in _BRACKETS.findall(folded):
        r = regions.han_region(han_only(inner))
        if r is not None:
            region = r
    body = han_only(_BRACKETS.sub("", body))
    body, legal, branch = _strip_legal(body)
    if branch:
        # 深圳市腾达电子科技有限公司东莞分公司: the parent is what precedes the last legal form.
        body, _, _ = _strip_legal(_cut_branch_location(body))
    # The region stands either in front or in brackets, not both: with a bracketed region, a
    # place name in front is the brand (拉萨情服饰（宜春）有限公司: 拉萨 is part of the brand).
    lead, rest = (None, body) if region is not None else regions.leading_region(body)
    region = region or lead
    unmodified = rest
    for word in company_terms.MODIFIERS_HAN:
        if rest.startswith(word) and len(rest) > len(word) + 1:
            rest = rest[len(word) :]
    brand, industries = _strip_industry(rest)
    if len(brand) < 2:
        # 环球行科技: 环球 ("global") is part of the brand when without it one character is left.
        brand, industries = _strip_industry(unmodified)
    if len(brand) < 2 or brand in company_terms.INDUSTRY_HAN:
        # 东方电子有限公司, 福田玩具有限公司: the "region" (东方 a Hainan city, 福田 a Shenzhen
        # district) was the brand itself.
        brand, industries = _strip_industry(body)
        region = None if lead is not None and region is lead else region
    if len(brand) < 2:
        brand = body
    py = (mandarin.text_readings(brand),)
    wg = (tuple(mandarin.coarse(s) for s in py[0]),)
    # Eight Cantonese readings, not four: an English name spells each character one of several
    # ways (吉 Kat / Gut, 圖 To / Tao). Synthetic company_english_cantonese, 1,000 pairs on seeds
    # 3 and 5: blocking recall 0.975 / 0.982 with four, 0.992 / 0.992 with eight, for 9.8 → 10.6
    # keys per Chinese company name.
    ct = tuple(ranked_product([cantonese.char_keys(ch) for ch in brand], 8))
    return CompanyForm(original, folded, brand, "", frozenset(industries), region, legal, branch, wg, ct, py)


def _cut_branch_location(body: str) -> str:
    for word, _ in company_terms.LEGAL_FORMS_HAN:
        idx = body.rfind(word)
        if idx > 0 and word != "分公司":
            return body[: idx + len(word)]
    return body


@name_cache(maxsize=20_000)
def _latin_company(original: str, folded: str) -> CompanyForm:
    region: Region | None = None
    text = folded.replace("h.k.", "hk").replace("hong kong", "hongkong").replace("&", " ")
    alternatives: tuple[Region, ...] = ()
    for inner in _BRACKETS.findall(text):
        found = regions.latin_regions(inner.replace(" ", ""))
        if found:
            region, alternatives = found[0], found
    words = _LATIN_WORD.findall(_BRACKETS.sub(" ", text))
    legal = ""
    branch = False
    while words and words[-1] in company_terms.LEGAL_TOKENS_LATIN:
        cls = company_terms.LEGAL_TOKENS_LATIN[words.pop()]
        branch = branch or cls == "branch"
        legal = cls if legal in ("", "ltd") else legal
    industries: set[str] = set()
    brand_words: list[str] = []
    for i, w in enumerate(words):
        found = regions.latin_regions(w)
        r = found[0] if found else None
        # A place word is the region only where a brand follows it ("Guangzhou Xinghui Trading");
        # before an industry word it is the brand ("Zhongwei Technology": 中尾, not the city 中卫).
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if r is not None and (i == 0 or not brand_words) and nxt and nxt not in company_terms.INDUSTRY_LATIN:
            region, alternatives = (region, alternatives) if region else (r, found)
            continue
        if r is not None and i == len(words) - 1 and brand_words:
            region, alternatives = (region, alternatives) if region else (r, found)
            continue
        if w in company_terms.INDUSTRY_LATIN and brand_words:
            industries |= company_terms.INDUSTRY_LATIN[w]
            continue
        if w in company_terms.MODIFIERS_LATIN or w in company_terms.LEGAL_TOKENS_LATIN:
            continue
        brand_words.append(w)
    brand_latin = "".join(brand_words)
    name = romanized.LatinName(tuple(brand_words), 0, (), ())
    py = tuple(dict.fromkeys(r for r, _ in romanized.readings(name, "py", lenient=True)))[:2]
    wg = tuple(
        dict.fromkeys(
            [tuple(mandarin.coarse(s) for s in r) for r in py] + [r for r, _ in romanized.readings(name, "wg")]
        )
    )[:2]
    ct = tuple(dict.fromkeys(tuple(cantonese.skeleton(s) for s in r) for r, _ in romanized.readings(name, "ct")))[:2]
    return CompanyForm(
        original, folded, "", brand_latin, frozenset(industries), region, legal, branch, wg, ct, py, alternatives
    )


def company_forms(raw: str) -> list[CompanyForm]:
    """The parsed form of one raw company name; [] for text with no name in it. Never raises."""
    if not raw or not raw.strip():
        return []
    folded = fold(raw)
    if has_han(folded):
        return [_han_company(raw, folded)]
    if _LATIN_WORD.search(folded):
        return [_latin_company(raw, folded)]
    return []


def legal_suffix(raw: str) -> str:
    """The legal-form words a name ends with ("有限公司", "co ltd"), or "" if none.

    A query without an entity type that ends in a legal form names a company, so it is searched as
    one. One-character Han forms (店, 厂) count only after a name of at least three characters, and a
    lone "Co" not at all ("Co" is also a surname, 许 in the Philippines), so that no person's name is
    taken for a firm by its last syllable."""
    if not raw or not raw.strip():
        return ""
    folded = fold(raw)
    if has_han(folded):
        body = folded.replace(" ", "")
        for word, _ in company_terms.LEGAL_FORMS_HAN:
            if body.endswith(word) and len(body) - len(word) >= (3 if len(word) == 1 else 2):
                return word
        return ""
    words = _LATIN_WORD.findall(_BRACKETS.sub(" ", folded))
    tail: list[str] = []
    while len(words) > 1 and words[-1] in company_terms.LEGAL_TOKENS_LATIN:
        tail.insert(0, words.pop())
    return "" if tail == ["co"] else " ".join(tail)


@lru_cache(maxsize=20_000)
def pinyin_splits(word: str, limit: int = 6) -> tuple[tuple[str, ...], ...]:
    """Up to ``limit`` ways to split one word into pinyin syllables, ignoring the apostrophe rule
    (a brand never writes it), fewest syllables first: "jilian" is ji-lian *and* ji-li-an (吉丽安),
    "lianan" lian-an and li-an-an. :func:`romanized.readings` keeps the fewest only."""
    n = len(word)
    if n == 0 or n > _SPLIT_LETTERS:
        return ()
    # tails[i]: splits of word[i:], each capped so that a long word stays cheap.
    tails: list[list[tuple[str, ...]]] = [[] for _ in range(n + 1)]
    tails[n] = [()]
    for i in range(n - 1, -1, -1):
        found = [
            (word[i:j], *rest)
            for j in range(i + 1, min(n, i + 6) + 1)
            if word[i:j] in mandarin.PINYIN_SYLLABLES and word[i:j] not in mandarin.INTERJECTIONS
            for rest in tails[j]
        ]
        tails[i] = sorted(found, key=len)[: limit * 2]
    return tuple(sorted(tails[0], key=len)[:limit])


# Longer words are not split every way: a brand word is two to four syllables.
_SPLIT_LETTERS = 24
