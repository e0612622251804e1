"""Cantonese readings: Han → Jyutping → the *set* of Hong Kong and Macau spellings → a coarse key.

Hong Kong government romanization is "a system without a system": one Jyutping syllable has several
spellings in real use (zi → Chi / Tsz / Tze, oeng → eung / eong), and the choice is lexical (research
note chinese-names.md §1.5). So we generate every common spelling per syllable from initial and final
tables (§2.3, from cccconverter-ostrichb's table plus the endings it misses: ee, -ah, -or, Tsz, Lee)
and Macau's Portuguese-based forms (§1.6: w→v, y→i, eung→eong, au→ao, o→ou, yu→u), then collapse
each spelling with :func:`skeleton` to a coarse key. Latin input goes through the same
:func:`skeleton`, so "CHAN Tai Man", "Chan Tai-man" and 陳大文 meet on the key "can tai man".

Jyutping comes from ToJyutping (BSD-2), through a per-character table derived from it
(:func:`jyutping_readings`): it reads Simplified and Traditional alike (pycantonese returns None for
Simplified). Surname positions are overridden (區 au1, not keoi1; §1.10). The generated
spellings are cross-checked against the MIT chunlaw character table in tests/test_cantonese.py.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from importlib import resources

import opencc

# Simplified → Traditional for *reading* only (never for keys or display): ToJyutping reads
# Traditional input more reliably. One-to-many S→T choices do not matter for the reading.
_HK2S = opencc.OpenCC("hk2s")

# Jyutping surname readings where ToJyutping's default reading is not the surname one (§1.10 and the
# surname table §2.2): 區 Au, 單 Sin, 解 Haai, 曾 Tsang, 查 Cha, 仇 Kau, 覃 Tsam/Tam, 朴 Piu, 繆 Miu,
# 樂 Lok, 蓋 Koi, 翟 Chak, 尉 Wai. Keys are Simplified (the folded form).
SURNAME_JYUTPING: dict[str, tuple[str, ...]] = {
    "区": ("au1",),
    "单": ("sin6",),
    "解": ("haai6",),
    "曾": ("zang1",),
    "查": ("caa4",),
    "仇": ("kau4", "sau4"),
    "覃": ("cam4", "taam4"),
    "朴": ("piu4",),
    "缪": ("miu6",),
    "乐": ("lok6",),
    "盖": ("koi3",),
    "翟": ("zaak6",),
    "尉": ("wai3",),
    "长": ("zoeng2",),
    "燕": ("jin3",),
    "任": ("jam4",),
    "沈": ("sam2",),
    "华": ("waa4",),
}

_INITIALS = ("ng", "gw", "kw", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "w", "z", "c", "s", "j")

# Hong Kong spelling choices per Jyutping initial (aspiration is ignored in practice: 大 daai → Tai).
_HK_INITIAL: dict[str, tuple[str, ...]] = {
    "": ("",),
    "ng": ("ng",),
    "gw": ("kw",),
    "kw": ("kw",),
    "b": ("p",),
    "p": ("p",),
    "m": ("m",),
    "f": ("f",),
    "d": ("t",),
    "t": ("t",),
    "n": ("n",),
    "l": ("l",),
    "g": ("k",),
    "k": ("k",),
    "h": ("h",),
    "w": ("w",),
    "z": ("ch", "ts"),
    "c": ("ch", "ts"),
    "s": ("s", "sh"),
    "j": ("y",),
}

# Hong Kong spelling choices per Jyutping final.
_HK_FINAL: dict[str, tuple[str, ...]] = {
    "aa": ("a", "ah"),
    "aai": ("ai", "aai"),
    "aau": ("au", "aau"),
    "aam": ("am", "aam"),
    "aan": ("an", "aan"),
    "aang": ("ang", "aang"),
    "aap": ("ap", "aap"),
    "aat": ("at", "aat"),
    "aak": ("ak", "aak"),
    "ai": ("ai",),  # cccconverter also lists "ei", but HKID practice is Wai / Fai / Tai
    "au": ("au", "ow"),
    "am": ("am", "um"),
    "an": ("an", "un"),
    "ang": ("ang",),
    "ap": ("ap", "up"),
    "at": ("at",),
    "ak": ("ak",),
    "e": ("e", "eh"),
    "ei": ("ei", "i", "ee"),
    "eng": ("eng",),
    "ek": ("ek",),
    "eu": ("eu",),
    "i": ("i", "ee"),
    "iu": ("iu",),
    "im": ("im",),
    "in": ("in",),
    "ing": ("ing",),
    "ip": ("ip",),
    "it": ("it",),
    "ik": ("ik",),
    "o": ("o", "oh", "or"),
    "oi": ("oi",),
    "on": ("on",),
    "ong": ("ong",),
    "ot": ("ot",),
    "ok": ("ok",),
    "ou": ("o", "ou", "oo"),
    "oe": ("oe", "eur"),
    "oeng": ("eung", "eong"),
    "oek": ("euk", "eok"),
    "eoi": ("ui", "eui", "oi"),
    "eon": ("un", "eun"),
    "eot": ("ut", "eut"),
    "u": ("u", "oo"),
    "ui": ("ui", "ooi"),
    "un": ("un", "oon"),
    "ung": ("ung", "ong"),
    "ut": ("ut",),
    "uk": ("uk", "ok"),  # 鈺 Yok (曾鈺成 Tsang Yok-sing), 祿 Lok
    "yu": ("yu", "u", "ue"),
    "yun": ("uen", "un"),
    "yut": ("uet", "ut"),
    "m": ("m",),
    "ng": ("ng",),
}

_JYUTPING_RE = re.compile(r"^(ng|gw|kw|[bpmfdtnlgkhwzcsj])?([a-z]+?)([1-6])?$")


def split_jyutping(syllable: str) -> tuple[str, str]:
    """Split a Jyutping syllable (tone optional) into (initial, final). 'ng' alone is a final."""
    body = syllable.rstrip("123456")
    if body in ("m", "ng"):
        return "", body
    for ini in _INITIALS:
        if body.startswith(ini) and len(body) > len(ini):
            return ini, body[len(ini) :]
    return "", body


@lru_cache(maxsize=5_000)
def hk_spellings(syllable: str) -> tuple[str, ...]:
    """Hong Kong and Macau spellings in real use for one Jyutping syllable (tone ignored)."""
    ini, fin = split_jyutping(syllable)
    finals = _HK_FINAL.get(fin, (fin,))
    out: list[str] = []
    for i in _HK_INITIAL.get(ini, (ini,)):
        for f in finals:
            if i == "y" and f.startswith("y"):
                spelling = f  # jyu → yu, jyun → yuen
            elif i == "y" and f.startswith("u"):
                spelling = "y" + f
            else:
                spelling = i + f
            out.append(spelling)
    if fin == "i" and ini in ("z", "c"):
        out.extend(("tsz", "tsze", "tze"))  # 子 zi → Tsz / Tze / Chi: the HKID "z" endings (§2.3)
    elif fin == "i" and ini == "s":
        out.extend(("sze", "see"))  # 思 si → Sze / See
    out.extend(_macau(s) for s in list(out))
    return tuple(dict.fromkeys(out))


def _macau(spelling: str) -> str:
    """Macau's Portuguese-based spelling of a Hong Kong spelling (§1.6)."""
    s = spelling
    if s.startswith("w"):
        s = "v" + s[1:]
    if s.startswith(("yu", "yi")):
        s = s[1:]  # 袁 Yuen → Un, 葉 Yip → Ip
    elif s.startswith("y"):
        s = "i" + s[1:]  # 楊 Yeung → Ieong
    s = s.replace("eung", "eong")
    if s.endswith("au"):
        s = s[:-2] + "ao"
    if s.endswith("o") and not s.endswith(("ao", "oo")):
        s = s + "u"
    return s


# Ordered rewrite rules from any Latin Cantonese spelling to its skeleton. Each rule names the
# variants it merges; the test suite checks every HK/Macau surname pair in research note §2.2.
_SKELETON_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"^v", "w"),  # Macau Vong = HK Wong
        (r"^i(?=[aeo])", "y"),  # Macau Ieong = Yeong, Iam = Yam
        (r"^yi", "i"),  # Yip = Ip, Yiu = Iu
        (r"^yu", "u"),  # Yuen = Uen, Yu = U (Macau)
        (r"^(ts|t(?=z)|ch|c|z|j)", "c"),  # 陳 Chan / Tsan; 子 Tsz / Tze / Chi
        (r"^sh", "s"),  # 沈 Shum / Sum
        (r"^(gw|qu)", "kw"),
        (r"^b", "p"),
        (r"^d", "t"),
        (r"^g", "k"),
        (r"(?<=^[cs])(ze|zi|zu|z)$", "i"),  # Tsz, Sze, Tsze → ci, si
        (r"(eung|eong|oeng)", "eung"),
        (r"aa", "a"),
        (r"(?<=[aeiou])h$", ""),  # Ha / Hah, Lo / Loh
        (r"(?<=[ao])r(?=[kptmn])", ""),  # chunlaw's British-style r: Jark = Jaak, Hork = Hok, Harm = Haam
        (r"ay$", "ei"),  # 希 Hay = Hei
        (r"or$", "o"),  # 柯 Or, 娥 Ngor
        (r"(ee|ey|ei)$", "i"),  # 李 Lee / Li / Macau Lei
        (r"oo", "u"),
        (r"ou$", "o"),  # Macau Lou, Sou = HK Lo, So
        (r"(uen|oon|eun)$", "un"),
        (r"(uet|eut)$", "ut"),
        (r"(eui|oi)$", "ui"),  # 呂 Lui / Macau Loi; 徐 Tsui / Choi
        (r"(ao|ow)$", "au"),  # Macau Lao, Chow = Chau
        (r"eok$", "euk"),
        (r"ong$", "ung"),  # Macau Chong = HK Chung
        # Macau surname spellings (§2.2) that shared no key with their names (macau_romanized, seed 11):
        (r"^kuo", "kwo"),  # 郭 Kuok / Kuoc = Kwok
        (r"(?<=o)c$", "k"),  # 郭 Kuoc = Kuok
        (r"eang$", "eng"),  # 鄭 Cheang = Cheng
        (r"io$", "iu"),  # 趙 Chio, 肖 Sio = Chiu, Siu (Cantonese has no -io final)
        (r"ck$", "k"),  # 廸 Dick = Dik, 樂 Lock = Lok (朱凱廸 Eddie Chu Hoi-dick, LegCo)
        (r"op$", "ap"),  # 合 Hop = Hap (Hop Yick, Hopewell); Jyutping has no -op final in names
    )
)


@lru_cache(maxsize=50_000)
def skeleton(spelling: str) -> str:
    """Collapse one Latin Cantonese syllable to its coarse key: Chan, Tsan → can; Cheung, Cheong → ceung."""
    s = spelling.lower()
    for pattern, repl in _SKELETON_RULES:
        s = pattern.sub(repl, s)
    return s


@lru_cache(maxsize=5_000)
def jyutping_keys(syllable: str) -> tuple[str, ...]:
    """Distinct skeletons of every spelling of a Jyutping syllable, most common spelling first."""
    return tuple(dict.fromkeys(skeleton(s) for s in hk_spellings(syllable)))


@lru_cache(maxsize=1)
def _load_chunlaw() -> tuple[dict[str, tuple[str, ...]], frozenset[str]]:
    """The chunlaw table keyed by *Simplified* character: HK-style spellings per character (all
    readings merged), and the inventory of every spelling it lists or our tables generate."""
    hk2s = opencc.OpenCC("hk2s")
    spellings: dict[str, list[str]] = {}
    inventory: set[str] = set()
    text = resources.files("indexer.data").joinpath("chunlaw_cantonese_romanisation_chars.tsv")
    for line in text.read_text("utf-8").splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) < 3 or not parts[0]:
            continue
        romans = [p for p in parts[1].split() if p.isascii() and p.isalpha()]
        simplified = hk2s.convert(parts[0])
        spellings.setdefault(simplified, []).extend(r for r in romans if r not in spellings.get(simplified, []))
        inventory.update(romans)
        for jp in parts[2].split():
            inventory.update(hk_spellings(jp))
    frozen = {k: tuple(v) for k, v in spellings.items()}
    return frozen, frozenset(s for s in inventory if s.isascii() and s.isalpha())


# The tables below are built on first use, not at import (0.25 s): commands that read no name
# (--help, stats, keys, audit) must start in under 0.5 s (issue #15).


def chunlaw_spellings() -> dict[str, tuple[str, ...]]:
    """HK-style spellings per Simplified character, from the chunlaw table."""
    return _load_chunlaw()[0]


def spellings() -> frozenset[str]:
    """Every Cantonese romanized syllable spelling the tables know."""
    return _load_chunlaw()[1]


@lru_cache(maxsize=1)
def skeletons() -> frozenset[str]:
    """The skeleton of every known spelling."""
    return frozenset(skeleton(s) for s in spellings())


@lru_cache(maxsize=1)
def _s2hk() -> opencc.OpenCC:
    """The S→HK converter, made on first use (0.1 s)."""
    return opencc.OpenCC("s2hk")


# Readings kept per character: char_keys uses the first two.
READINGS_KEPT = 2


@lru_cache(maxsize=1)
def jyutping_readings() -> dict[str, tuple[str, ...]]:
    """Jyutping candidates per character, most likely first: ToJyutping's, as a table derived from
    it (data/jyutping_chars.tsv, kept equal to it by tests/test_jyutping_table.py). Importing
    ToJyutping builds its whole phrase trie, 1.1 s in every process that reads a name; the table
    reads in 0.03 s."""
    text = resources.files("indexer.data").joinpath("jyutping_chars.tsv").read_text("utf-8")
    out: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            ch, readings = line.split("\t")
            out[ch] = tuple(readings.split(","))
    return out


@lru_cache(maxsize=1)
def surname_rows() -> tuple[dict[str, str], ...]:
    """The one-character surnames of data/surname_spellings.tsv (research note §2.2), a row each:
    simplified, traditional, and the spellings per system ('/'-separated)."""
    text = resources.files("indexer.data").joinpath("surname_spellings.tsv").read_text("utf-8")
    rows = csv.DictReader([x for x in text.splitlines() if not x.startswith("#")], delimiter="\t")
    return tuple(row for row in rows if len(row["simplified"]) == 1)


def row_spellings(row: dict[str, str], *columns: str) -> tuple[str, ...]:
    """A surname row's spellings in these columns, lower-cased, in order."""
    return tuple(s.lower() for s in "/".join(row[c] for c in columns).split("/") if s.isalpha())


@lru_cache(maxsize=1)
def _load_surname_spellings() -> dict[str, tuple[str, ...]]:
    """HK and Macau spellings per surname, keyed by both the Simplified and the Traditional character."""
    out: dict[str, tuple[str, ...]] = {}
    for row in surname_rows():
        out[row["simplified"]] = out[row["traditional"]] = row_spellings(row, "hong_kong", "macau")
    return out


@lru_cache(maxsize=20_000)
def written_spellings(ch: str) -> frozenset[str]:
    """How Hong Kong and Macau write one (Simplified) character in names: the spellings of its
    first readings, those the chunlaw and surname tables list for it, and their Macau forms.
    Narrower than the skeletons of :func:`char_keys`, which also merge spellings nobody writes
    for it (春 Chun and Jun: one skeleton)."""
    trad = _s2hk().convert(ch)
    listed = [s for r in jyutping_readings().get(trad, ())[:READINGS_KEPT] for s in hk_spellings(r)]
    listed += [*chunlaw_spellings().get(ch, ()), *_load_surname_spellings().get(ch, ())]
    return frozenset(listed) | {_macau(s) for s in listed}


# Options kept per character: the first reading's two commonest spellings, the second reading's
# commonest, then the chunlaw table's spellings (香 Heung *and* Hong, 平 Ping and Peng).
MAX_CHAR_KEYS = 4


@lru_cache(maxsize=50_000)
def char_keys(ch: str, surname: bool = False) -> tuple[str, ...]:
    """Ordered Cantonese skeleton options for one character as written (most likely first).

    Readings are ToJyutping's candidates for the *Traditional* character: on Simplified input
    it reads 达 as dai3 rather than daat6 (measured), and names use the character reading, not a
    phrase reading. A surname position takes its surname reading first (区 Au, 曾 Tsang), then the
    spellings HK and Macau registries use for that surname (杜 To / Tao / Toe, 趙 Chiu / Chio)."""
    trad = _s2hk().convert(ch)
    table = jyutping_readings()
    readings = [r for c in trad for r in table.get(c, ())][:2]
    if surname and ch in SURNAME_JYUTPING:
        readings = [SURNAME_JYUTPING[ch][0], *readings]
    out: list[str] = []
    for i, reading in enumerate(readings):
        out.extend(jyutping_keys(reading)[: 2 if i == 0 else 1])
    if surname:
        out.extend(skeleton(sp) for sp in _load_surname_spellings().get(ch, ()))
    chunlaw = chunlaw_spellings()
    out.extend(skeleton(sp) for sp in chunlaw.get(ch, chunlaw.get(_HK2S.convert(ch), ())))
    return tuple(dict.fromkeys(out))[: MAX_CHAR_KEYS + (2 if surname else 0)] or (ch,)
