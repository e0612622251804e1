"""Company benchmark categories: the same firm written differently, and same-brand different firms."""

from __future__ import annotations

import random
from typing import Any

from pypinyin import lazy_pinyin

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
