"""Mandarin readings: Han → pinyin with surname readings, pinyin → Wade-Giles, and the coarse key.

pypinyin has no surname mode (mozillazg/python-pinyin#297): it reads 曾 as "ceng", 单 as "dan", 区 as
"qu". We read each character from pypinyin's single-character dictionary (not its phrase segmenter,
which captures names as words: 解放 → jie fang, 谢长廷 → xie *zhang* ting) and override the surname
position from ``SURNAME_READINGS`` (CLDR Han_Latin_Names rules plus the list in research note §1.10).

Wade-Giles comes from a corrected copy of pypinyin's syllable table (data/wadegiles.tsv): pypinyin's
own ``Style.WADEGILES`` turns lai into "lei" and huo into "ho" (research note §2.1). The *coarse key*
is Wade-Giles without apostrophes or umlauts: it merges exactly the contrasts that Taiwan and old
records lose (zhang/chang → chang, ji/qi → chi, cai/zai → tsai), so it serves as the Mandarin
phonetic key for blocking.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources
from itertools import product

from indexer.names.text import _strip_accents

# Surname readings (pinyin, u-umlaut as v). The first entry is the surname reading used for keys.
# Sources: CLDR Han_Latin_Names (曾 zeng, 单 shan, 区 ou, 解 xie, 查 zha, 仇 qiu, 翟 zhai) and
# research note §1.10 (朴 piao, 覃 qin/tan, 缪 miao, 乐 yue, 盖 ge); the rest are standard surname
# readings checked against pypinyin's heteronym list, which holds every one of them.
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "曾": ("zeng",),
    "单": ("shan",),
    "区": ("ou",),
    "解": ("xie",),
    "查": ("zha",),
    "仇": ("qiu",),
    "翟": ("zhai",),
    "朴": ("piao",),
    "覃": ("qin", "tan"),
    "缪": ("miao",),
    "乐": ("yue", "le"),
    "盖": ("ge", "gai"),
    "尉": ("yu", "wei"),
    "员": ("yun",),
    "贲": ("ben",),
    "秘": ("bi",),
    "种": ("chong",),
    "重": ("chong",),
    "召": ("shao",),
    "祭": ("zhai",),
    "柏": ("bai",),
    "薄": ("bo",),
    "卜": ("bu",),
    "藏": ("zang",),
    "车": ("che",),
    "长": ("chang",),
    "晟": ("cheng",),
    "澹": ("tan",),
    "都": ("du",),
    "繁": ("po",),
    "莘": ("shen",),
    "燕": ("yan",),
    "阚": ("kan",),
    "宓": ("mi",),
    "能": ("nai",),
    "宁": ("ning",),
    "任": ("ren",),
    "沈": ("shen",),
    "石": ("shi",),
    "宿": ("su",),
    "万": ("wan",),
    "洗": ("xian",),
    "冼": ("xian",),
    "相": ("xiang",),
    "颉": ("xie",),
    "尹": ("yin",),
    "于": ("yu",),
    "曲": ("qu",),
    "折": ("she",),
    "谌": ("chen",),
    "卒": ("zu",),
    "纪": ("ji",),
    "句": ("gou",),
    "那": ("na",),
    "阿": ("a",),
    "华": ("hua",),
    "过": ("guo",),
    "黑": ("he",),
    "隗": ("wei",),
}

# Compound surnames and their readings; checked before single-character surnames.
COMPOUND_SURNAMES: dict[str, tuple[str, ...]] = {
    "欧阳": ("ou", "yang"),
    "司徒": ("si", "tu"),
    "上官": ("shang", "guan"),
    "诸葛": ("zhu", "ge"),
    "东方": ("dong", "fang"),
    "夏侯": ("xia", "hou"),
    "慕容": ("mu", "rong"),
    "皇甫": ("huang", "fu"),
    "尉迟": ("yu", "chi"),
    "公孙": ("gong", "sun"),
    "令狐": ("ling", "hu"),
    "长孙": ("zhang", "sun"),
    "宇文": ("yu", "wen"),
    "澹台": ("tan", "tai"),
    "万俟": ("mo", "qi"),
    "司马": ("si", "ma"),
    "西门": ("xi", "men"),
    "南宫": ("nan", "gong"),
    "端木": ("duan", "mu"),
    "轩辕": ("xuan", "yuan"),
    "呼延": ("hu", "yan"),
    "闻人": ("wen", "ren"),
    "申屠": ("shen", "tu"),
    "公冶": ("gong", "ye"),
    "太史": ("tai", "shi"),
    "赫连": ("he", "lian"),
    "钟离": ("zhong", "li"),
    "宗政": ("zong", "zheng"),
    "濮阳": ("pu", "yang"),
    "淳于": ("chun", "yu"),
    "单于": ("chan", "yu"),
    "百里": ("bai", "li"),
    "第五": ("di", "wu"),
    "拓跋": ("tuo", "ba"),
    "司空": ("si", "kong"),
    "巫马": ("wu", "ma"),
    "公羊": ("gong", "yang"),
}


def _load_wade_giles() -> dict[str, str]:
    table: dict[str, str] = {}
    text = resources.files("indexer.data").joinpath("wadegiles.tsv").read_text("utf-8")
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        py, wg = line.split("\t")
        table[py] = wg
    return table


WADE_GILES: dict[str, str] = _load_wade_giles()
# Pinyin syllables no given name or brand uses (嗯 n, ng; 呣 m): a typo or a split that lands on
# one is still a typo ("longai" is not lo-n-gai).
INTERJECTIONS = frozenset({"n", "ng", "m", "hm", "hng"})
PINYIN_SYLLABLES: frozenset[str] = frozenset(WADE_GILES) | INTERJECTIONS | {"ei"}


def wg_strip(wg: str) -> str:
    """Wade-Giles without apostrophes and umlauts: the Taiwan-passport form and our coarse key."""
    return wg.replace("'", "")


# Coarse (apostrophe-less Wade-Giles) syllables and the pinyin syllables each one may stand for.
COARSE_TO_PINYIN: dict[str, tuple[str, ...]] = {}
for _py, _wg in sorted(WADE_GILES.items()):
    COARSE_TO_PINYIN.setdefault(wg_strip(_wg), ())
    COARSE_TO_PINYIN[wg_strip(_wg)] += (_py,)
COARSE_SYLLABLES: frozenset[str] = frozenset(COARSE_TO_PINYIN) | {"szu", "hsu", "ssu"}


def coarse(py: str) -> str:
    """Pinyin syllable → coarse key syllable (apostrophe-less Wade-Giles). Unknown syllables pass."""
    wg = WADE_GILES.get(py)
    return wg_strip(wg) if wg is not None else py


def wade_giles(py: str) -> str:
    """Pinyin syllable → Wade-Giles with aspiration apostrophes (张 zhang → chang, 陈 chen → ch'en)."""
    return WADE_GILES.get(py, py)


@lru_cache(maxsize=1)
def _pinyin_dict() -> dict[int, str]:
    # Imported on first use: importing pypinyin loads its phrase dictionary (0.48 s, -X importtime),
    # and commands that read no name (--help, stats, keys, audit) must start in < 0.5 s (issue #15).
    from pypinyin.pinyin_dict import pinyin_dict

    return dict(pinyin_dict)


@lru_cache(maxsize=50_000)
def char_readings(ch: str) -> tuple[str, ...]:
    """Toneless pinyin readings of one Simplified character, most common first ('' if none)."""
    raw = _pinyin_dict().get(ord(ch))
    if raw is None:
        return ()
    out: list[str] = []
    for reading in raw.split(","):
        plain = _strip_accents(reading).lower()
        if plain and plain not in out:
            out.append(plain)
    return tuple(out)


def split_surname(han: str) -> tuple[str, str]:
    """Split a Simplified Han person name into (surname, given). Compound surnames first (欧阳);
    four-character names whose first two characters are both common surnames (林郑月娥) keep the
    double surname together. Single-character names have no given name."""
    if len(han) >= 3 and han[:2] in COMPOUND_SURNAMES:
        return han[:2], han[2:]
    if len(han) == 4 and han[0] in _COMMON_SURNAMES and han[1] in _COMMON_SURNAMES:
        return han[:2], han[2:]
    return han[:1], han[1:]


# The most frequent single-character surnames; only used to recognise married double surnames in
# four-character HK names (林鄭月娥, 陳方安生), where the second character is a surname as well.
_COMMON_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃"
    "武戴莫孔向汤区麦关温甘岑冼伍阮翁骆简文游庄洪赖柯施凌梅邝卓容傅颜"
)


def surname_readings(surname: str) -> list[tuple[str, ...]]:
    """Pinyin readings of a (folded) surname, surname reading first."""
    if surname in COMPOUND_SURNAMES:
        return [COMPOUND_SURNAMES[surname]]
    per_char: list[tuple[str, ...]] = []
    for ch in surname:
        readings = SURNAME_READINGS.get(ch) or char_readings(ch)[:1] or (ch,)
        per_char.append(readings)
    return [tuple(p) for p in product(*per_char)][:2]


@lru_cache(maxsize=1)
def _name_readings() -> dict[str, str]:
    """The reading each character has in given names (allenai/sinonym's ORCID given-name table,
    2,525 characters with their reading in names; data/sinonym_givenname_orcid.csv)."""
    text = resources.files("indexer.data").joinpath("sinonym_givenname_orcid.csv").read_text("utf-8")
    rows = csv.DictReader(text.splitlines())
    return {r["character"]: _strip_accents(r["pinyin"].rstrip("012345")).lower() for r in rows if r["character"]}


def name_characters() -> frozenset[str]:
    """The characters of the given-name table (Simplified): the characters people are named with."""
    return frozenset(_name_readings())


def name_char_readings(ch: str) -> tuple[str, ...]:
    """A given-name character's readings, the reading names use first: the name table's where it
    lists the character (洋 yang, not xiang), else the dictionary's order."""
    readings = char_readings(ch)
    usual = _name_readings().get(ch)
    if usual and usual in readings and readings[0] != usual:
        return (usual, *(r for r in readings if r != usual))
    return readings


# Given-name characters whose two readings are both common in names, so neither is a guess:
# 长 chang (谢长廷 Changting) / zhang, 乐 le / yue, 朝 chao / zhao, 重 zhong / chong, 行 xing / hang,
# 传 chuan / zhuan (research note §1.10; the name table lists one reading per character).
NAME_POLYPHONES = frozenset("长乐朝重行传")


def given_readings(given: str, limit: int = 2) -> list[tuple[str, ...]]:
    """Pinyin readings of a given name: the reading names use for every character, plus at most
    ``limit - 1`` alternatives where one character is read its second way (bounded heteronym
    expansion: 长 chang/zhang, 乐 le/yue). The alternatives are *secondary* readings: a match
    through one is a guess (see search/matching/similarity.py)."""
    first = tuple((name_char_readings(ch)[:1] or (ch,))[0] for ch in given)
    out = [first]
    for i, ch in enumerate(given):
        if len(out) >= limit:
            break
        alts = name_char_readings(ch)
        if len(alts) > 1:
            out.append((*first[:i], alts[1], *first[i + 1 :]))
    return out


def text_readings(han: str) -> tuple[str, ...]:
    """Most common reading per character for non-name text (company brand, region)."""
    return tuple((char_readings(ch)[:1] or (ch,))[0] for ch in han)
