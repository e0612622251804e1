"""How each office writes a name: scripts, romanizations, layouts, typos.

The renderings deliberately use sources *independent* of the normalizer where they exist, so the
benchmark measures the normalizer rather than echoing it: Hong Kong and Macau surname spellings from
the surname table (research note §2.2), HK given-name spellings from the curated list (§2.3) or the
chunlaw character table, pinyin from pypinyin's phrase-aware ``lazy_pinyin`` (the normalizer reads
characters one by one), Traditional script from OpenCC ``s2hk`` / ``s2tw``.
"""

from __future__ import annotations

import csv
import random
from functools import lru_cache
from importlib import resources

import opencc
from pypinyin import Style, lazy_pinyin

from indexer.names.mandarin import PINYIN_SYLLABLES, WADE_GILES
from indexer.synth.entities import Person, given_chars

_S2HK = opencc.OpenCC("s2hk")
_S2TW = opencc.OpenCC("s2tw")

# Hong Kong spellings of common given-name characters, checked against HKID practice (research
# note §2.3). Keys are Traditional.
HK_GIVEN: dict[str, tuple[str, ...]] = {
    "偉": ("Wai",),
    "強": ("Keung",),
    "明": ("Ming",),
    "文": ("Man",),
    "華": ("Wah",),
    "志": ("Chi",),
    "國": ("Kwok",),
    "家": ("Ka",),
    "嘉": ("Ka",),
    "俊": ("Chun", "Tsun"),
    "美": ("Mei",),
    "玲": ("Ling",),
    "麗": ("Lai",),
    "儀": ("Yee",),
    "義": ("Yee",),
    "欣": ("Yan",),
    "仁": ("Yan",),
    "婷": ("Ting",),
    "詩": ("Sze", "Si"),
    "思": ("Sze",),
    "子": ("Tsz", "Chi"),
    "梓": ("Tsz",),
    "浩": ("Ho",),
    "樂": ("Lok",),
    "穎": ("Wing",),
    "榮": ("Wing",),
    "永": ("Wing",),
    "雄": ("Hung",),
    "鴻": ("Hung",),
    "輝": ("Fai",),
    "峰": ("Fung",),
    "健": ("Kin",),
    "傑": ("Kit",),
    "德": ("Tak",),
    "達": ("Tat",),
    "發": ("Fat",),
    "成": ("Shing", "Sing"),
    "秀": ("Sau",),
    "淑": ("Shuk",),
    "慧": ("Wai",),
    "燕": ("Yin",),
    "月": ("Yuet",),
    "娥": ("Ngor",),
    "安": ("On",),
    "寶": ("Po",),
    "蓮": ("Lin",),
    "芳": ("Fong",),
    "雪": ("Suet",),
    "敏": ("Man",),
    "玉": ("Yuk",),
    "英": ("Ying",),
    "小": ("Siu",),
    "少": ("Siu",),
    "耀": ("Yiu",),
    "宗": ("Chung",),
    "忠": ("Chung",),
    "振": ("Chun",),
    "天": ("Tin",),
    "錦": ("Kam",),
    "光": ("Kwong",),
    "大": ("Tai",),
    "一": ("Yat",),
    "日": ("Yat",),
    "晴": ("Ching",),
    "正": ("Ching",),
    "清": ("Ching",),
    "朗": ("Long",),
    "鵬": ("Pang",),
    "斌": ("Pan",),
    "宇": ("Yu",),
    "軒": ("Hin",),
    "智": ("Chi",),
    "卓": ("Cheuk",),
    "海": ("Hoi",),
    "東": ("Tung",),
    "興": ("Hing",),
    "昌": ("Cheong",),
    "祥": ("Cheung",),
    "坤": ("Kwan",),
    "生": ("Sang",),
    "翠": ("Chui",),
    "萍": ("Ping",),
    "霞": ("Ha",),
    "琳": ("Lam",),
}

ENGLISH_NAMES = (
    "Peter",
    "David",
    "Michael",
    "Winnie",
    "Carrie",
    "Tony",
    "Kelvin",
    "Jacky",
    "Ivy",
    "Rachel",
    "Alan",
    "Eric",
)


@lru_cache(maxsize=1)
def _chunlaw() -> dict[str, tuple[str, ...]]:
    text = resources.files("indexer.data").joinpath("chunlaw_cantonese_romanisation_chars.tsv").read_text("utf-8")
    out: dict[str, tuple[str, ...]] = {}
    for row in csv.reader(text.splitlines()[1:], delimiter="\t"):
        if len(row) >= 2 and row[1]:
            out[row[0]] = tuple(p.capitalize() for p in row[1].split() if p.isalpha())
    return out


def traditional(text: str, taiwan: bool = False) -> str:
    """Simplified → Traditional as an HK (or Taiwan) office writes it."""
    return str((_S2TW if taiwan else _S2HK).convert(text))


def pinyin_given(person: Person) -> list[str]:
    return [p.replace("ü", "v") for p in lazy_pinyin(person.given, v_to_u=False)]


def pinyin_tones(person: Person) -> tuple[str, list[str]]:
    sur = lazy_pinyin(person.surname.simplified, style=Style.TONE)
    return "".join(sur), lazy_pinyin(person.given, style=Style.TONE)


def wade_giles(syllables: list[str]) -> list[str]:
    return [WADE_GILES.get(s, s) for s in syllables]


def hk_syllables(rng: random.Random, person: Person) -> tuple[str, list[str]] | None:
    """HK spelling of surname and given syllables; None if a character has no known spelling."""
    sur = rng.choice(person.surname.hong_kong)
    out: list[str] = []
    for ch in traditional(person.given):
        choices = HK_GIVEN.get(ch) or _chunlaw().get(ch)
        if not choices:
            return None
        out.append(rng.choice(choices))
    return sur, out


def macau(spelling: str) -> str:
    """Macau's Portuguese-based form of a Hong Kong spelling (research note §1.6)."""
    s = spelling.lower()
    if s.startswith("w"):
        s = "v" + s[1:]
    if s.startswith(("yu", "yi")):
        s = s[1:]
    elif s.startswith("y"):
        s = "i" + s[1:]
    s = s.replace("eung", "eong")
    if s.endswith("au"):
        s = s[:-2] + "ao"
    if s in ("lo", "so", "ko", "to", "mo", "po"):
        s += "u"
    return s.capitalize()


def homophone(rng: random.Random, ch: str) -> str | None:
    """Another common given-name character with the same toneless pinyin (an IME typo)."""
    target = lazy_pinyin(ch)[0]
    chars, _ = given_chars()
    same = [c for c in chars[:800] if c != ch and lazy_pinyin(c)[0] == target]
    return rng.choice(same) if same else None


def keyboard_typo(rng: random.Random, word: str) -> str:
    """Swap two adjacent letters, drop one, or double one (never the first letter)."""
    if len(word) < 4:
        return word + word[-1]
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(3)
    if op == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == 1:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def fuzzy_pinyin(rng: random.Random, syllable: str) -> str:
    """A southern-accent / fuzzy-IME respelling: zh→z, ch→c, sh→s, -ng→-n, n→l (research §1.9)."""
    options: list[str] = []
    for a, b in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if syllable.startswith(a):
            options.append(b + syllable[2:])
    if syllable.endswith("ng"):
        options.append(syllable[:-1])
    if syllable.startswith("n"):
        options.append("l" + syllable[1:])
    if syllable.startswith("l"):
        options.append("n" + syllable[1:])
    # Only respellings that are themselves pinyin: an IME offers real syllables ("yang" → "yan").
    real = [o for o in options if o in PINYIN_SYLLABLES]
    return rng.choice(real) if real else syllable
