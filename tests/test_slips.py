"""A slip of the keyboard in a Wade-Giles name (issue #14). Taiwan legislators write 張宏陸 "Chang
Hung-lue" and 陳雪生 "Chen Hsuen-sheng": one part no system reads. Before the slip keys such a
name had no Wade-Giles reading at all to look up or to be found by (pinyin names have their
one-deletion keys), so either side searching for the other was told "not seen"."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.keys import profile_keys, query_keys
from indexer.names.neighbours import slip_syllables, slipped_names
from indexer.names.romanized import parse_latin
from indexer.records import profile
from search.settings import Settings
from tests.backends import Backend
from tests.test_neighbours import answer, load_people


def test_slips_are_one_edit_and_reach_pinyin_spellings_too() -> None:
    assert "lu" in slip_syllables("lue")  # a letter added
    assert "hsueh" in slip_syllables("hsuen")  # a letter changed
    assert "tien" in slip_syllables("tain")  # pinyin tian, two letters swapped, is Wade-Giles tien
    assert "ming" not in slip_syllables("lue")


def test_only_a_name_with_one_unreadable_part_slips() -> None:
    assert [n.tokens for n in slipped_names(parse_latin("Chang Hung-lue"))][:1] == [("chang", "hung-chueh")]
    assert ("chang", "hung-lu") in [n.tokens for n in slipped_names(parse_latin("Chang Hung-lue"))]
    assert slipped_names(parse_latin("Chang Hung-lu")) == []  # nothing to repair
    assert slipped_names(parse_latin("Chiau Wen-Yan")) == []  # two odd parts are not one slip
    assert slipped_names(parse_latin("Lue")) == []  # one part alone is no name to repair
    assert slipped_names(parse_latin("Lau Chi-ming")) == []  # Lau is Cantonese, not a slip
    assert ("chang", "wei") in [n.tokens for n in slipped_names(parse_latin("Chang Weii"))]  # no wei + i


def test_the_slipped_name_and_its_chinese_name_share_keys_both_ways() -> None:
    for latin, han in (("Chang Hung-lue", "張宏陸"), ("Chen Hsuen-sheng", "陳雪生"), ("Hsu Tain-tsair", "許添財")):
        lp, hp = profile("person", latin), profile("person", han)
        assert set(profile_keys(lp)) & set(profile_keys(hp)), latin  # a record of either is found
        assert set(query_keys(hp)) & set(profile_keys(lp)), latin
    # A name that reads whole gets no slip keys: its keys are what they were.
    plain = profile_keys(profile("person", "Chang Hung-lu"))
    assert not [k for k in plain if k.startswith("wg:") and "chueh" in k]


def test_a_slip_that_splits_off_a_short_syllable_slips() -> None:
    """A slip can leave a word that reads, but only as a syllable and a letter or two ("Hsio" as
    hsi-o): such a word is repaired like one that does not read; a name written as one word is not."""
    assert ("li", "hsiao") in [n.tokens for n in slipped_names(parse_latin("Li Hsio"))]
    assert ("tsui", "hsien") in [n.tokens for n in slipped_names(parse_latin("Tsui Hsine"))]
    assert slipped_names(parse_latin("Chen Tawen")) == []  # ta-wen: two whole syllables
    assert slipped_names(parse_latin("Chiang Ching-kuo")) == []
    # Every part spells Cantonese, but "Kuo" is no Cantonese surname (ku-o): Wade-Giles and a slip.
    assert ("kuo", "tsui") in [n.tokens for n in slipped_names(parse_latin("Kuo Tsiu"))]
    assert ("yang", "hsiung") in [n.tokens for n in slipped_names(parse_latin("Yang Hisung"))]
    assert slipped_names(parse_latin("Chan Tai-man")) == []
    # "Hng" is a Cantonese spelling, but of 哼 only, which no name uses: a slip, not Hong Kong's way.
    assert ("ho", "hung-yu") in [n.tokens for n in slipped_names(parse_latin("Ho Hng-yu"))]
    assert slipped_names(parse_latin("Ho Hung-yu")) == []
    for latin, han in (
        ("Li Hsio", "李曉"),
        ("Kuo Tsiu", "郭崔"),
        ("Yang Hisung", "楊雄"),
        ("Liu Chio", "劉嬌"),
        ("Ho Hng-yu", "賀紅玉"),
    ):
        lp, hp = profile("person", latin), profile("person", han)
        assert set(query_keys(lp)) & set(profile_keys(hp)), latin
        assert set(query_keys(hp)) & set(profile_keys(lp)), latin


@pytest.fixture()
def offices(backend: Backend, tmp_path: Path) -> Settings:
    gd = {"g1": "張宏陸", "g2": "陳雪生", "g3": "張洪路", "g4": "李曉"}
    return load_people(backend, tmp_path, {"CN-GD": gd, "CN-MO": {"m1": "Chang Hung-lue", "m2": "Li Hsio"}})


def test_a_slipped_query_finds_the_chinese_record(offices: Settings) -> None:
    matches, possible, body = answer("Chang Hung-lue", offices)
    assert "g1" in matches | possible, body
    matches, possible, body = answer("Chen Hsuen-sheng", offices)
    assert "g2" in possible and "g2" not in matches, body  # a slip and a changed syllable: worth a look only


def test_the_chinese_query_finds_the_slipped_record(offices: Settings) -> None:
    matches, possible, body = answer("張宏陸", offices)
    assert "m1" in matches | possible, body
    assert "g3" not in matches, body  # 張洪路 reads the same in Wade-Giles, but its characters differ


def test_a_word_split_by_a_slip_is_found_both_ways(offices: Settings) -> None:
    matches, possible, body = answer("Li Hsio", offices)
    assert "g4" in matches | possible, body
    matches, possible, body = answer("李曉", offices)
    assert "m2" in matches | possible, body
