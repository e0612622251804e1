"""Person benchmark categories: how offices write the same person, and look-alike different people."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from indexer.names.mandarin import COMPOUND_SURNAMES
from indexer.synth import render
from indexer.synth.entities import Generator, Person, SurnameInfo
from indexer.synth.pair import Pair, _cap


def _record(
    p: Person, name: str | None = None, dob: bool = True, rid: bool = False, gender: bool = True
) -> dict[str, Any]:
    return {
        "entity_type": "person",
        "name": name or p.han,
        "birth_date": p.birth_date if dob else None,
        "id_number": p.rid if rid else None,
        "gender": p.gender if gender else None,
    }


def _query(name: str, **extra: Any) -> dict[str, Any]:
    return {"entity_type": "person", "name": name, **extra}


def _pinyin(p: Person) -> tuple[str, list[str]]:
    return _cap(p.surname.pinyin), render.pinyin_given(p)


def trad_simplified(g: Generator, r: random.Random) -> Pair | None:
    p = g.person()
    return Pair("trad_simplified", True, _query(render.traditional(p.han)), _record(p))


def _hk(g: Generator, r: random.Random, cat: str, layout: Callable[[str, list[str]], str]) -> Pair | None:
    p = g.person()
    hk = render.hk_syllables(r, p)
    if hk is None:
        return None
    sur, given = hk
    return Pair(cat, True, _query(layout(sur, given)), _record(p, render.traditional(p.han)))


def hk_romanized(g: Generator, r: random.Random) -> Pair | None:
    return _hk(g, r, "hk_romanized", lambda s, gv: f"{s.upper()} {' '.join(gv)}")


def hk_romanized_hyphen(g: Generator, r: random.Random) -> Pair | None:
    return _hk(g, r, "hk_romanized_hyphen", lambda s, gv: f"{s} {'-'.join([gv[0]] + [x.lower() for x in gv[1:]])}")


def hk_english_name(g: Generator, r: random.Random) -> Pair | None:
    eng = r.choice(render.ENGLISH_NAMES)
    layouts: list[Callable[[str, list[str]], str]] = [
        lambda s, gv: f"{eng} {s} {'-'.join([gv[0]] + [x.lower() for x in gv[1:]])}",
        lambda s, gv: f"{s} {' '.join(gv)}, {eng}",
        lambda s, gv: f"{s.upper()} {' '.join(gv)} {eng}",
    ]
    return _hk(g, r, "hk_english_name", r.choice(layouts))


def macau_romanized(g: Generator, r: random.Random) -> Pair | None:
    p = g.person()
    hk = render.hk_syllables(r, p)
    if hk is None:
        return None
    sur = r.choice(p.surname.macau)
    given = [render.macau(x) for x in hk[1]]
    return Pair("macau_romanized", True, _query(f"{sur.upper()} {' '.join(given)}"), _record(p))


def pinyin_spaced(g: Generator, r: random.Random) -> Pair | None:
    p = g.person()
    s, gv = _pinyin(p)
    return Pair("pinyin_spaced", True, _query(f"{s} {' '.join(_cap(x) for x in gv)}"), _record(p))


def pinyin_joined(g: Generator, r: random.Random) -> Pair | None:
    p = g.person()
    s, gv = _pinyin(p)
    name = f"{s} {_cap(''.join(gv))}"
    return Pair("pinyin_joined", True, _query(name.upper() if r.random() < 0.5 else name), _record(p))


def pinyin_reversed(g: Generator, r: random.Random) -> Pair | None:
    p = g.person()
    s, gv = _pinyin(p)
    given = _cap("".join(gv))
    name = f"{given} {s.upper()}" if r.random() < 0.5 else f"{given} {s}"
    return Pair("pinyin_reversed", True, _query(name), _record(p))


def pinyin_comma(g: Generator, r: random.Random) -> Pair | None:
    p = g.person()
    s, gv = _pinyin(p)
    return Pair("pinyin_comma", True, _query(f"{s.upper()}, {_cap(''.join(gv))}"), _record(p))


def pinyin_tones(g: Generator, r: random.Random) -> Pair | None:
    p = g.person()
    s, gv = render.pinyin_tones(p)
    if p.surname.simplified in ("曾", "单", "区", "解", "查", "仇", "覃", "朴", "缪", "乐", "盖"):
        return None  # the tone-marked surname would carry pypinyin's wrong reading
    return Pair("pinyin_tones", True, _query(f"{_cap(s)} {_cap(''.join(gv))}"), _record(p))


def wade_giles(g: Generator, r: random.Random) -> Pair | None:
    p = g.person()
    wg = render.wade_giles([p.surname.pinyin, *render.pinyin_given(p)])
    return Pair("wade_giles", True, _query(f"{_cap(wg[0])} {_cap('-'.join(wg[1:]))}"), _record(p))


def wade_giles_stripped(g: Generator, r: random.Random) -> Pair | None:
    p = g.person()
    wg = [x.replace("'", "") for x in render.wade_giles([p.surname.pinyin, *render.pinyin_given(p)])]
    return Pair(
        "wade_giles_stripped",
        True,
        _query(f"{wg[0].upper()} {_cap('-'.join(wg[1:]))}"),
        _record(p, render.traditional(p.han, taiwan=True)),
    )


def _homophone_typo(g: Generator, r: random.Random) -> tuple[Person, str] | None:
    p = g.person()
    i = r.randrange(len(p.given))
    alt = render.homophone(r, p.given[i])
    if alt is None:
        return None
    return p, p.surname.simplified + p.given[:i] + alt + p.given[i + 1 :]


def homophone_typo(g: Generator, r: random.Random) -> Pair | None:
    """A typist's homophone with nothing else: the same person, but as likely another one (李阳 / 李杨
    in a store of many records), so the right answer is "possible"."""
    made = _homophone_typo(g, r)
    if made is None:
        return None
    p, typo = made
    return Pair("homophone_typo", True, _query(typo), _record(p), expect="possible")


def homophone_typo_dated(g: Generator, r: random.Random) -> Pair | None:
    """The same homophone with the record's birth date: confirmed, a match."""
    made = _homophone_typo(g, r)
    if made is None:
        return None
    p, typo = made
    return Pair("homophone_typo_dated", True, _query(typo, birth_date=p.birth_date), _record(p))


_POLYPHONIC = ("曾", "单", "区", "解", "查", "仇", "覃", "朴", "缪", "乐", "盖", "翟", "尉")


def polyphonic_surname(g: Generator, r: random.Random) -> Pair | None:
    sn = {s.simplified: s for s in g._single}
    options = [sn[c] for c in _POLYPHONIC if c in sn]
    if options:
        info = r.choice(options)
    else:
        c = r.choice(_POLYPHONIC)
        info = SurnameInfo(
            c,
            c,
            {
                "曾": "zeng",
                "单": "shan",
                "区": "ou",
                "解": "xie",
                "查": "zha",
                "仇": "qiu",
                "覃": "qin",
                "朴": "piao",
                "缪": "miao",
                "乐": "yue",
                "盖": "ge",
                "翟": "zhai",
                "尉": "yu",
            }[c],
            (),
            (),
            (),
            1.0,
        )
    p = g.person(surname=info)
    s, gv = _pinyin(p)
    return Pair("polyphonic_surname", True, _query(f"{s} {_cap(''.join(gv))}"), _record(p))


def compound_surname(g: Generator, r: random.Random) -> Pair | None:
    p = g.person(surname=g.surname(compound=True))
    if p.surname.simplified not in COMPOUND_SURNAMES:
        return None
    if r.random() < 0.5:
        s, gv = _pinyin(p)
        return Pair("compound_surname", True, _query(f"{s} {_cap(''.join(gv))}"), _record(p))
    hk = render.hk_syllables(r, p)
    if hk is None:
        return None
    return Pair("compound_surname", True, _query(f"{hk[0]} {'-'.join(hk[1])}"), _record(p, render.traditional(p.han)))


def lyu_spelling(g: Generator, r: random.Random) -> Pair | None:
    sn = {s.simplified: s for s in g._single}
    p = g.person(surname=sn["吕"])
    form = r.choice(("LYU", "Lv", "Lu", "Lü"))
    return Pair("lyu_spelling", True, _query(f"{form} {_cap(''.join(render.pinyin_given(p)))}"), _record(p))


def surname_variant_char(g: Generator, r: random.Random) -> Pair | None:
    sn = {s.simplified: s for s in g._single}
    pairs = [("肖", "蕭"), ("闫", "閻"), ("钟", "鍾")]
    new, old = r.choice([x for x in pairs if x[0] in sn])
    p = g.person(surname=sn[new])
    return Pair("surname_variant_char", True, _query(old + render.traditional(p.given)), _record(p))


def fuzzy_pinyin_romanized(g: Generator, r: random.Random) -> Pair | None:
    p = g.person()
    s, gv = _pinyin(p)
    syls = [s.lower(), *gv]
    i = r.randrange(len(syls))
    changed = render.fuzzy_pinyin(r, syls[i])
    if changed == syls[i]:
        return None
    syls[i] = changed
    return Pair("fuzzy_pinyin_romanized", True, _query(f"{_cap(syls[0])} {_cap(''.join(syls[1:]))}"), _record(p))


def latin_typo(g: Generator, r: random.Random) -> Pair | None:
    p = g.person()
    s, gv = _pinyin(p)
    given = "".join(gv)
    if len(given) < 4:
        return None
    return Pair("latin_typo", True, _query(f"{s} {_cap(render.keyboard_typo(r, given))}"), _record(p))


def id_match_name_variant(g: Generator, r: random.Random) -> Pair | None:
    p = g.person()
    eng = r.choice(render.ENGLISH_NAMES)
    hk = render.hk_syllables(r, p)
    if hk is None:
        return None
    return Pair("id_match_name_variant", True, _query(f"{eng} {hk[0]}", id_number=p.rid), _record(p, rid=True))


def mixed_script_field(g: Generator, r: random.Random) -> Pair | None:
    p = g.person()
    hk = render.hk_syllables(r, p)
    if hk is None:
        return None
    s, gv = _pinyin(p)
    return Pair(
        "mixed_script_field",
        True,
        _query(f"{s} {_cap(''.join(gv))}"),
        _record(p, f"{render.traditional(p.han)} {hk[0].upper()} {' '.join(hk[1])}"),
    )


# ---- negatives -------------------------------------------------------------------------------


def namesake_dob_conflict(g: Generator, r: random.Random) -> Pair | None:
    p = g.person()
    other = g.birth_date()
    return Pair("namesake_dob_conflict", False, _query(p.han, birth_date=other), _record(p))


def namesake_id_conflict(g: Generator, r: random.Random) -> Pair | None:
    p, q = g.person(), g.person()
    return Pair(
        "namesake_id_conflict",
        False,
        _query(render.traditional(p.han), id_number=q.rid),
        _record(p, rid=True, dob=False),
    )


def namesake_gender_conflict(g: Generator, r: random.Random) -> Pair | None:
    p = g.person()
    other = "female" if p.gender == "male" else "male"
    return Pair("namesake_gender_conflict", False, _query(p.han, gender=other), _record(p, dob=False))


def one_char_off(g: Generator, r: random.Random) -> Pair | None:
    p = g.person()
    q = g.person(surname=p.surname, given=p.given[:-1] + g.given()[0])
    if q.given == p.given or render.pinyin_given(q) == render.pinyin_given(p):
        return None
    return Pair("one_char_off", False, _query(q.han), _record(p))


def surname_homophone(g: Generator, r: random.Random) -> Pair | None:
    groups = {
        "张": "章",
        "章": "张",
        "王": "汪",
        "汪": "王",
        "徐": "许",
        "许": "徐",
        "李": "黎",
        "黎": "李",
        "陈": "程",
        "程": "陈",
    }
    sn = {s.simplified: s for s in g._single}
    a = r.choice([k for k in groups if k in sn and groups[k] in sn])
    p = g.person(surname=sn[a])
    return Pair("surname_homophone", False, _query(groups[a] + p.given), _record(p))


def romanized_one_syllable_off(g: Generator, r: random.Random) -> Pair | None:
    p = g.person()
    q = g.person(surname=p.surname, given=p.given[:-1] + g.given()[0])
    s, gv = _pinyin(q)
    if render.pinyin_given(q) == render.pinyin_given(p):
        return None
    return Pair("romanized_one_syllable_off", False, _query(f"{s} {_cap(''.join(gv))}"), _record(p))


def other_person_same_surname(g: Generator, r: random.Random) -> Pair | None:
    p = g.person()
    q = g.person(surname=p.surname)
    hk = render.hk_syllables(r, q)
    if hk is None or q.given == p.given:
        return None
    return Pair(
        "other_person_same_surname",
        False,
        _query(f"{hk[0].upper()} {' '.join(hk[1])}"),
        _record(p, render.traditional(p.han)),
    )


def wade_giles_typo(g: Generator, r: random.Random) -> Pair | None:
    """A Taiwan-style Wade-Giles name with a slip of the keyboard in one given-name syllable
    ("Chang Hung-lue" for 張宏陸, a Taiwan legislator's own spelling)."""
    p = g.person()
    wg = [x.replace("'", "") for x in render.wade_giles([p.surname.pinyin, *render.pinyin_given(p)])]
    given = wg[1:]
    i = r.randrange(len(given))
    slipped = render.keyboard_typo(r, given[i])
    if slipped == given[i]:
        return None
    given[i] = slipped
    return Pair("wade_giles_typo", True, _query(f"{_cap(wg[0])} {_cap('-'.join(given))}"), _record(p))
