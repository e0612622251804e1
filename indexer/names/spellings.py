"""The spelling tables a romanized name is read with: spellings no syllable table derives (LYU,
Seto), Wade-Giles's second spellings, Taiwan and Hong Kong personal spellings, titles, and English
given names. Data only; :mod:`indexer.names.romanized` reads names with them."""

from __future__ import annotations

from importlib import resources

# Spellings that no syllable table derives but that records use (research note §1.3, §1.5, §2.2):
# LYU is the PRC passport form of 吕 since 2012; Seto/Seetoh are 司徒; Auyeung/Owyang 欧阳.
LATIN_ALIASES: dict[str, tuple[str, ...]] = {
    "lyu": ("lv",),
    "nyu": ("nv",),
    "lyue": ("lve",),
    "nyue": ("nve",),
    "seto": ("sze", "to"),
    "seetoh": ("sze", "to"),
    "owyang": ("ou", "yang"),
}

# Wade-Giles's own second spelling of a syllable, read as the first: 思 si is ssu or szu (research
# note §2.1's table: "si=ssu (also szu)"; Szechwan), and Taiwan writes szu at least as often
# ("Szu-yu"). "Wu Szu-yao" met 吳思瑤 only as a different syllable (0.78, possible, no shared key).
WG_VARIANTS: dict[str, str] = {"szu": "ssu"}


def _load_personal_spellings() -> dict[str, str]:
    """Taiwan and Hong Kong personal spellings → the pinyin syllable they write (data/
    personal_spellings.tsv: Lee 李 li, Jyh 志 zhi, Jeou 九 jiu), read in pinyin and Wade-Giles."""
    text = resources.files("indexer.data").joinpath("personal_spellings.tsv").read_text("utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    return {r[0]: r[1] for r in rows if len(r) >= 2}


PERSONAL_SPELLINGS: dict[str, str] = _load_personal_spellings()

# Titles and honorifics, dropped from a romanized name ("Dr Chan Tai Man", "Hon. Lee Wai-king").
TITLES = frozenset(
    {"sir", "dr", "prof", "professor", "mr", "mrs", "ms", "miss", "madam", "madame", "hon", "dame", "lady", "rev"}
)


def _load_english_names() -> frozenset[str]:
    text = resources.files("indexer.data").joinpath("wainshine_english_given_names.txt")
    return frozenset(w.strip() for w in text.read_text("utf-8").splitlines() if w.strip().isalpha())


ENGLISH_NAMES: frozenset[str] = _load_english_names()
