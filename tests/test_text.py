"""Text folding: width, brackets, separators, accents, script, surname substitution."""

from __future__ import annotations

import pytest

from indexer.names.text import fold, fold_surname, han_only, has_han, has_latin, to_simplified

FOLD_CASES = [
    ("陳大文", "陈大文"),
    ("張國榮", "张国荣"),
    ("衞詩雅", "卫诗雅"),  # HK variant 衞 only folds with hk2s
    ("溫家寶", "温家宝"),
    ("（广州）有限公司", "(广州)有限公司"),
    ("【广州】星辉", "(广州)星辉"),
    ("〔深圳〕腾达", "(深圳)腾达"),
    ("ＡＢＣ贸易", "abc贸易"),
    ("Ｃｏ．，Ｌｔｄ．", "co.,ltd."),
    ("张　三", "张 三"),
    ("买买提·艾力", "买买提·艾力"),
    ("买买提•艾力", "买买提·艾力"),
    ("买买提・艾力", "买买提·艾力"),
    ("买买提‧艾力", "买买提·艾力"),
    ("  CHAN   Tai  Man ", "chan tai man"),
    ("Chén Dàwén", "chen dawen"),
    ("Lǚ Xiùlián", "lv xiulian"),
    ("Hsü", "hsv"),
    ("Ch’en Ta‐wen", "ch'en ta-wen"),
    ("O\u200bU\u200fYANG", "ouyang"),  # zero-width space and right-to-left mark dropped
    ("\uf92f", "劳"),  # compatibility ideograph 勞 → 劳
    ("", ""),
]


@pytest.mark.parametrize(("raw", "expected"), FOLD_CASES)
def test_fold(raw: str, expected: str) -> None:
    assert fold(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [("萧", "肖"), ("阎", "闫"), ("锺", "钟"), ("张", "张"), ("傅", "傅")])
def test_fold_surname(raw: str, expected: str) -> None:
    assert fold_surname(raw) == expected


def test_script_detection() -> None:
    assert has_han("Peter陈") and has_latin("Peter陈")
    assert not has_han("Chan Tai Man")
    assert han_only("陈 Tai 大文") == "陈大文"
    assert to_simplified("Chan") == "Chan"


def test_never_simplified_to_traditional() -> None:
    # T→S only: surnames that S→T conversion corrupts stay as written (research note §1.1).
    for name in ("于丹", "余华", "范冰冰", "沈伟"):
        assert fold(name) == name


def test_variant_characters_opencc_leaves_fold_to_the_common_form() -> None:
    # Wikidata writes LegCo member 朱凱廸 also as 朱凱迪: one name, not two people.
    assert fold("朱凱廸") == fold("朱凱迪") == "朱凯迪"
    assert fold("淸眞") == fold("清真")
