"""Mandarin readings: surname readings, compound surnames, Wade-Giles table."""

from __future__ import annotations

import pytest

from indexer.names.mandarin import (
    COARSE_TO_PINYIN,
    COMPOUND_SURNAMES,
    SURNAME_READINGS,
    coarse,
    given_readings,
    split_surname,
    surname_readings,
    wade_giles,
)
from indexer.names.persons import person_forms

POLYPHONIC = [
    ("曾国藩", "zeng"),
    ("单田芳", "shan"),
    ("区志航", "ou"),
    ("解缙", "xie"),
    ("查良镛", "zha"),
    ("仇英", "qiu"),
    ("翟丽", "zhai"),
    ("朴树", "piao"),
    ("覃世英", "qin"),
    ("缪其", "miao"),
    ("乐观", "yue"),
    ("盖世", "ge"),
    ("尉立", "yu"),
    ("员明", "yun"),
    ("种师道", "chong"),
    ("召明", "shao"),
    ("长江", "chang"),
    ("燕明", "yan"),
    ("任明", "ren"),
    ("沈伟", "shen"),
    ("万明", "wan"),
    ("冼星海", "xian"),
    ("华明", "hua"),
    ("过明", "guo"),
]


@pytest.mark.parametrize(("name", "reading"), POLYPHONIC)
def test_polyphonic_surname_reading(name: str, reading: str) -> None:
    form = person_forms(name)[0]
    assert form.py[0][0] == reading


@pytest.mark.parametrize("surname", sorted(SURNAME_READINGS))
def test_every_override_is_first(surname: str) -> None:
    assert surname_readings(surname)[0] == SURNAME_READINGS[surname][:1]


COMPOUND = [
    ("欧阳修", "欧阳", "ouyang"),
    ("司徒雷登", "司徒", "situ"),
    ("上官婉儿", "上官", "shangguan"),
    ("诸葛亮", "诸葛", "zhuge"),
    ("东方朔", "东方", "dongfang"),
    ("夏侯惇", "夏侯", "xiahou"),
    ("慕容复", "慕容", "murong"),
    ("皇甫嵩", "皇甫", "huangfu"),
    ("尉迟恭", "尉迟", "yuchi"),
    ("公孙瓒", "公孙", "gongsun"),
    ("令狐冲", "令狐", "linghu"),
    ("长孙无忌", "长孙", "zhangsun"),
    ("宇文泰", "宇文", "yuwen"),
    ("澹台灭明", "澹台", "tantai"),
    ("万俟卨", "万俟", "moqi"),
    ("司马光", "司马", "sima"),
]


@pytest.mark.parametrize(("name", "surname", "reading"), COMPOUND)
def test_compound_surname(name: str, surname: str, reading: str) -> None:
    assert split_surname(name)[0] == surname
    assert person_forms(name)[0].py[0][0] == reading


def test_every_compound_surname_splits() -> None:
    for surname in COMPOUND_SURNAMES:
        assert split_surname(surname + "明")[0] == surname


def test_married_double_surname() -> None:
    assert split_surname("林郑月娥") == ("林郑", "月娥")
    assert split_surname("陈方安生") == ("陈方", "安生")


WG = [
    ("zhang", "chang"),
    ("chang", "ch'ang"),
    ("xu", "hsu"),
    ("lai", "lai"),  # pypinyin's WADEGILES style says "lei"
    ("hai", "hai"),
    ("huo", "huo"),  # pypinyin says "ho"
    ("shuo", "shuo"),
    ("tie", "t'ieh"),  # corrected
    ("chua", "ch'ua"),  # corrected
    ("zi", "tzu"),
    ("ci", "tz'u"),
    ("si", "ssu"),
    ("ri", "jih"),
    ("ren", "jen"),
    ("qi", "ch'i"),
    ("ji", "chi"),
    ("zhi", "chih"),
    ("yan", "yen"),
    ("you", "yu"),
    ("lv", "lu"),
    ("nve", "nueh"),
    ("guo", "kuo"),
    ("kuo", "k'uo"),
    ("e", "o"),
    ("er", "erh"),
    ("dong", "tung"),
    ("xiong", "hsiung"),
    ("cai", "ts'ai"),
    ("zeng", "tseng"),
]


@pytest.mark.parametrize(("py", "wg"), WG)
def test_wade_giles(py: str, wg: str) -> None:
    assert wade_giles(py) == wg
    assert coarse(py) == wg.replace("'", "")


def test_coarse_key_merges_aspiration() -> None:
    assert set(COARSE_TO_PINYIN["chang"]) == {"chang", "zhang"}
    assert set(COARSE_TO_PINYIN["tsai"]) == {"cai", "zai"}


def test_given_readings_bounded() -> None:
    assert len(given_readings("长乐行")) <= 2
    assert given_readings("明")[0] == ("ming",)
