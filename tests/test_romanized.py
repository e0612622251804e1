"""Romanized names: layout, surname position, English names, segmentation."""

from __future__ import annotations

import pytest

from indexer.names.romanized import orders, parse_latin, segment

PARSES = [
    ("CHAN Tai Man", ("chan", "tai", "man"), 0, ()),
    ("Chan Tai-man", ("chan", "tai-man"), 0, ()),  # the hyphenated word is the given name
    ("Chih-ming Hsu", ("chih-ming", "hsu"), 1, ()),  # whichever side it stands on
    ("Dr Lee Teng-hui", ("lee", "teng-hui"), 0, ()),  # titles dropped
    ("Hon. Mrs Chan Tai Man", ("chan", "tai", "man"), None, ()),
    ("HON Po", ("hon", "po"), 0, ()),  # 韓: "Hon" is a title only as "Hon."
    ("Au-Yeung Tsang", ("au-yeung", "tsang"), None, ()),  # a hyphenated compound surname
    ("CHEN, Dawen", ("chen", "dawen"), 0, ()),
    ("Dawen CHEN", ("dawen", "chen"), 1, ()),
    ("Peter Chan Tai-man", ("chan", "tai-man"), 0, ("peter",)),
    ("Chan Tai Man, Peter", ("chan", "tai", "man"), None, ("peter",)),
    ("CHAN Tai Man Peter", ("chan", "tai", "man"), 0, ("peter",)),
    ("Chen Dawne", ("chen", "dawne"), None, ()),
    ("Ch'en Ta-wen", ("ch'en", "ta-wen"), 0, ()),
    ("U Uk Ho", ("u", "uk", "ho"), None, ()),
]


@pytest.mark.parametrize(("raw", "tokens", "surname_index", "english"), PARSES)
def test_parse(raw: str, tokens: tuple[str, ...], surname_index: int | None, english: tuple[str, ...]) -> None:
    parsed = parse_latin(raw)
    assert parsed.tokens == tokens
    assert parsed.surname_index == surname_index
    assert parsed.english == english


def test_initials_are_set_aside() -> None:
    parsed = parse_latin("Peter T.M. Chan")
    assert parsed.initials == ("t", "m")
    assert "t" not in parsed.tokens


def test_unknown_order_gives_both_orders() -> None:
    assert orders(parse_latin("Dawen Chen")) == [("dawen", "chen"), ("chen", "dawen")]


SEGMENTS = [
    ("dawen", "py", ("da", "wen")),
    ("xian", "py", ("xian",)),
    ("xi'an", "py", ("xi", "an")),
    ("yinan", "py", ("yi", "nan")),  # never yin-an without an apostrophe
    ("xiulian", "py", ("xiu", "lian")),
    ("lyu", "py", ("lv",)),
    ("taiman", "ct", ("tai", "man")),
    ("szeto", "ct", ("sze", "to")),
    ("hsiulien", "wg", ("hsiu", "lien")),
    ("peter", "py", None),
]


@pytest.mark.parametrize(("token", "system", "expected"), SEGMENTS)
def test_segment(token: str, system: str, expected: tuple[str, ...] | None) -> None:
    assert segment(token, system) == expected


def test_a_dotted_hon_drops_the_title_not_the_surname_hon() -> None:
    assert parse_latin("Hon. HON Kam Yum").tokens == ("hon", "kam", "yum")
    assert parse_latin("HON Kam Yum").tokens == ("hon", "kam", "yum")
    assert parse_latin("Hon. Lee Wai-king").tokens == ("lee", "wai-king")
