"""Text folding shared by every normalizer: Unicode, width, brackets, separators, script.

Folding is the first step for both indexing and querying. It never raises: any Unicode string in, a
folded string out, and folding a folded string changes nothing (tested with hypothesis).

Script: Traditional and Hong Kong variant characters are converted to Simplified with OpenCC's
``hk2s`` configuration (the C++ ``opencc`` wheel, Apache-2.0). We only ever convert T→S, never S→T:
S→T is one-to-many and gets surnames wrong in isolation (于→於, 余→餘, 范→範; research note
chinese-names.md §1.1). ``hk2s`` rather than ``t2s`` because only ``hk2s`` folds HK variants such as
衞. After OpenCC a small surname table folds mainland substitution characters (萧→肖, 阎→闫, 锺→钟),
which OpenCC leaves alone.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Generic, TypeVar

import opencc

_HK2S = opencc.OpenCC("hk2s")

# Mainland substitution surnames: the registry writes the right-hand form, older and HK/TW records the
# left-hand one (research note §1.1, "Mainland substitution surnames"). 傅/付 are distinct surnames and
# are deliberately *not* folded: folding them made 傅 and 付 namesakes collide in the benchmark.
SURNAME_FOLD: dict[str, str] = {
    "萧": "肖",
    "阎": "闫",
    "锺": "钟",
    "钟": "钟",
    "於": "于",
    "銭": "钱",
    "嶽": "岳",
}

# Variant characters that OpenCC hk2s leaves as they are, though names write them for the common
# form (Unihan kSemanticVariant / kZVariant): Wikidata lists LegCo member 朱凱廸 also as 朱凱迪, and
# treating the two as different names made "Chu Hoi-dick" ambiguous between them.
_VARIANTS = str.maketrans({"廸": "迪", "淸": "清", "眞": "真", "姸": "妍", "靑": "青", "緖": "绪"})

# Every bracket, interpunct and separator variant seen in records, mapped to one ASCII form.
# NFKC already turns full-width （） into (), but not 【】〔〕, and it leaves ·•・‧ alone (§1.2).
_TRANSLATE = str.maketrans(
    {
        "【": "(",
        "】": ")",
        "〔": "(",
        "〕": ")",
        "［": "(",
        "］": ")",
        "[": "(",
        "]": ")",
        "{": "(",
        "}": ")",
        "<": "(",
        ">": ")",
        "《": "(",
        "》": ")",
        "〈": "(",
        "〉": ")",
        "「": "",
        "」": "",
        "『": "",
        "』": "",
        '"': "",
        "“": "",
        "”": "",
        "·": "·",
        "•": "·",
        "・": "·",
        "‧": "·",
        "∙": "·",
        "⋅": "·",
        "．": ".",
        "。": ".",
        "，": ",",
        "、": ",",
        "；": ";",
        "：": ":",
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
        "―": "-",
        "－": "-",
        "‘": "'",
        "’": "'",
        "`": "'",
        "´": "'",
        "ʼ": "'",
        "ʻ": "'",
        "\u00a0": " ",
        "\u3000": " ",
        "\t": " ",
        "\r": " ",
        "\n": " ",
    }
)

_SPACES = re.compile(r"\s+")
_PLAIN = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9 .,()'&/·-]*$")
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_LATIN_RE = re.compile(r"[A-Za-z]")


def is_han(ch: str) -> bool:
    """True for a CJK unified ideograph (any extension block)."""
    return bool(_HAN_RE.match(ch))


def has_han(text: str) -> bool:
    """True if the text holds at least one Han character."""
    return _HAN_RE.search(text) is not None


def has_latin(text: str) -> bool:
    """True if the text holds at least one ASCII letter."""
    return _LATIN_RE.search(text) is not None


def _strip_controls(text: str) -> str:
    # Control, format (bidi marks, zero-width joiners) and unassigned/surrogate code points carry no
    # name information and break downstream tools; drop them.
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")


def _strip_accents(text: str) -> str:
    # Tone marks and umlauts: "Chén", "Lǚ", "Hsü". ü becomes "v" first so the pinyin u/ü contrast
    # survives (lv = 吕, lu = 卢); the Wade-Giles key later merges them on purpose.
    text = text.replace("ü", "v").replace("Ü", "V").replace("ǖ", "v").replace("ǘ", "v")
    text = text.replace("ǚ", "v").replace("ǜ", "v").replace("Ǖ", "V").replace("Ǘ", "V")
    text = text.replace("Ǚ", "V").replace("Ǜ", "V")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn"))


# Names longer than this are normalized afresh every time, never cached: a real name or company
# name is far shorter (the longest in the shipped real lists is 38 characters), and the cached form
# of a 200-character name is tens of kilobytes, so caches of tens of thousands of entries grew by
# 50 MB per burst of 1,100 maximum-length names and never shrank (issue #18: 9.9 GB after four
# 10,000-character reconcile queries; measured again before this rule, 263 → 625 MB in six bursts).
CACHED_NAME_CHARS = 64

R = TypeVar("R")


class NameCache(Generic[R]):
    """``lru_cache(maxsize)`` for a function of strings, for inputs of at most
    :data:`CACHED_NAME_CHARS` characters each; longer inputs are computed without the cache."""

    def __init__(self, func: Callable[..., R], maxsize: int) -> None:
        self.func = func
        self.cached = lru_cache(maxsize=maxsize)(func)
        functools.update_wrapper(self, func)

    def __call__(self, *args: str) -> R:
        if any(len(a) > CACHED_NAME_CHARS for a in args):
            return self.func(*args)
        return self.cached(*args)

    def cache_clear(self) -> None:
        self.cached.cache_clear()


def name_cache(maxsize: int) -> Callable[[Callable[..., R]], NameCache[R]]:
    """Decorate a name-normalizing function (of strings only) with a :class:`NameCache`."""

    def wrap(func: Callable[..., R]) -> NameCache[R]:
        return NameCache(func, maxsize)

    return wrap


# Not cached: only ``fold`` calls it, with the text ``fold`` was just asked for and missed in its
# own cache (1 M-record realistic queries: 0 hits in 61,394 calls, 12 MB of server memory).
def to_simplified(text: str) -> str:
    """Traditional / HK-variant → Simplified (OpenCC hk2s). Non-Han text passes through."""
    if not has_han(text):
        return text
    return str(_HK2S.convert(text))


@name_cache(maxsize=50_000)
def fold(text: str) -> str:
    """Fold a raw name for comparison: NFKC, one bracket/separator form, no accents, lower case,
    Simplified script, single spaces. Idempotent."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_TRANSLATE)
    if not _PLAIN.match(text):  # the common case (Han, ASCII letters) needs neither pass
        text = _strip_accents(_strip_controls(text))
    text = to_simplified(text).translate(_VARIANTS)
    # OpenCC may emit characters that NFKC would change again; fold once more to stay idempotent.
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    text = _SPACES.sub(" ", text).strip().lower()
    return text


def fold_width(text: str) -> str:
    """NFKC only (full-width → half-width, compatibility ideographs → unified): the characters as
    written, without script conversion."""
    return unicodedata.normalize("NFKC", text)


def fold_keep_case(text: str) -> str:
    """Fold width, separators and accents but keep letter case (case marks the surname in
    "CHAN Tai Man"); used only to parse romanized names."""
    text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub(" ", _strip_accents(_strip_controls(text.translate(_TRANSLATE)))).strip()


def fold_surname(chars: str) -> str:
    """Fold a Simplified surname through the mainland substitution table (萧→肖)."""
    return "".join(SURNAME_FOLD.get(ch, ch) for ch in chars)


def han_only(text: str) -> str:
    """The Han characters of a folded string, in order (drops spaces, dots, Latin, digits)."""
    return "".join(ch for ch in text if is_han(ch))
