"""Company benchmark categories: the same firm written differently, and same-brand different firms."""

from __future__ import annotations

import random
from functools import cache
from importlib import resources
from typing import Any

from pypinyin import lazy_pinyin

from indexer.names import company_terms
from indexer.names.regions import _short
from indexer.synth import render
from indexer.synth.entities import INDUSTRIES, Company, Generator
from indexer.synth.pair import Pair, _cap


def _crecord(c: Company, name: str | None = None, uscc: bool = False) -> dict[str, Any]:
    return {"entity_type": "company", "name": name or c.han, "id_number": c.uscc if uscc else None}


def _cquery(name: str, **extra: Any) -> dict[str, Any]:
    return {"entity_type": "company", "name": name, **extra}


def _short_city(c: Company) -> str:
    return c.city[:-1] if c.city.endswith("市") else c.city


def _latin_city(c: Company) -> str:
    return _cap("".join(lazy_pinyin(_short(c.city))))


def company_traditional(g: Generator, r: random.Random) -> Pair | None:
    c = g.company()
    return Pair("company_traditional", True, _cquery(render.traditional(c.han)), _crecord(c))


def company_region_bracket(g: Generator, r: random.Random) -> Pair | None:
    c = g.company()
    ind = INDUSTRIES[c.industry][0]
    return Pair(
        "company_region_bracket", True, _cquery(f"{c.brand}{ind}（{_short_city(c)}）{c.legal_form}"), _crecord(c)
    )


def company_no_region(g: Generator, r: random.Random) -> Pair | None:
    c = g.company()
    ind = INDUSTRIES[c.industry][0]
    return Pair("company_no_region", True, _cquery(f"{c.brand}{ind}{c.legal_form}"), _crecord(c))


def company_english_pinyin(g: Generator, r: random.Random) -> Pair | None:
    c = g.company()
    brand = _cap("".join(lazy_pinyin(c.brand)))
    eng = INDUSTRIES[c.industry][1]
    name = r.choice((f"{_latin_city(c)} {brand} {eng} Co., Ltd.", f"{brand} {eng} ({_latin_city(c)}) Co., Ltd"))
    return Pair("company_english_pinyin", True, _cquery(name.upper() if r.random() < 0.3 else name), _crecord(c))


def company_english_cantonese(g: Generator, r: random.Random) -> Pair | None:
    c = g.company()
    parts: list[str] = []
    for ch in render.traditional(c.brand):
        choices = render.HK_GIVEN.get(ch) or render._chunlaw().get(ch)
        if not choices:
            return None
        parts.append(r.choice(choices))
    eng = INDUSTRIES[c.industry][1]
    name = f"{' '.join(parts)} {eng} {r.choice(('Company Limited', 'Limited', 'Co., Ltd.'))}"
    return Pair("company_english_cantonese", True, _cquery(name), _crecord(c, render.traditional(c.han)))


def company_legal_form_swap(g: Generator, r: random.Random) -> Pair | None:
    c = g.company()
    _, _, synonym = INDUSTRIES[c.industry]
    legal = "有限责任公司" if c.legal_form != "有限责任公司" else "有限公司"
    return Pair("company_legal_form_swap", True, _cquery(f"{c.city}{c.brand}{synonym}{legal}"), _crecord(c))


def company_renamed_same_uscc(g: Generator, r: random.Random) -> Pair | None:
    c = g.company()
    new = g.company(city=c.city, industry=c.industry)
    return Pair("company_renamed_same_uscc", True, _cquery(new.han, id_number=c.uscc), _crecord(c, uscc=True))


def company_other_industry(g: Generator, r: random.Random) -> Pair | None:
    c = g.company()
    other = (c.industry + 1 + r.randrange(len(INDUSTRIES) - 1)) % len(INDUSTRIES)
    d = g.company(brand=c.brand, city=c.city, industry=other)
    return Pair("company_other_industry", False, _cquery(d.han), _crecord(c))


def company_other_city(g: Generator, r: random.Random) -> Pair | None:
    c = g.company()
    d = g.company(brand=c.brand, industry=c.industry)
    if d.city == c.city:
        return None
    return Pair("company_other_city", False, _cquery(d.han), _crecord(c))


def company_uscc_conflict(g: Generator, r: random.Random) -> Pair | None:
    c = g.company()
    d = g.company()
    return Pair("company_uscc_conflict", False, _cquery(c.han, id_number=d.uscc), _crecord(c, uscc=True))


@cache
def _trade_words() -> list[tuple[str, frozenset[str]]]:
    """English industry words seen in the IEEE registry's real names, with their sectors."""
    text = resources.files("indexer.data").joinpath("industry_words.tsv").read_text("utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and line[0] not in "#@"]
    return [(r[0], company_terms.INDUSTRY_LATIN[r[0]]) for r in rows if int(r[2]) > 0]


def _han_words(sectors: frozenset[str]) -> list[str]:
    """Chinese industry words that belong to one of ``sectors`` (two characters or more)."""
    return sorted(w for w, s in company_terms.INDUSTRY_HAN.items() if s & sectors and len(w) >= 2)


def company_english_trade_word(g: Generator, r: random.Random) -> Pair | None:
    """The English name uses one of the registry's trade words, the Chinese name a word of that trade."""
    word, sectors = r.choice(_trade_words())
    han = r.choice(_han_words(sectors))
    c = g.company()
    record = f"{c.city}{c.brand}{han}{c.legal_form}"
    brand = _cap("".join(lazy_pinyin(c.brand)))
    query = f"{_latin_city(c)} {brand} {_cap(word)} Co., Ltd."
    return Pair("company_english_trade_word", True, _cquery(query), _crecord(c, record))


def company_english_other_trade(g: Generator, r: random.Random) -> Pair | None:
    """Same city and brand, but the English name's trade shares no sector with the Chinese name's."""
    words = _trade_words()
    word, sectors = r.choice(words)
    _, other_sectors = r.choice(words)
    han_words = [w for w in _han_words(other_sectors) if not company_terms.INDUSTRY_HAN[w] & sectors]
    if not han_words:
        return None
    c = g.company()
    record = f"{c.city}{c.brand}{r.choice(han_words)}{c.legal_form}"
    query = f"{_latin_city(c)} {_cap(''.join(lazy_pinyin(c.brand)))} {_cap(word)} Co., Ltd."
    return Pair("company_english_other_trade", False, _cquery(query), _crecord(c, record))
