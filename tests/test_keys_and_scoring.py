"""Blocking keys and the scorer on named cases: what must meet, what must not, and why."""

from __future__ import annotations

import pytest

from indexer.keys import KEY_WEIGHTS, MAX_KEYS, key_type, profile_keys
from indexer.records import Record, profile, record_profile
from search.matching.scorer import THRESHOLD, score

SAME_PERSON = [
    ("陈大文", "陳大文"),
    ("陈大文", "CHAN Tai Man"),
    ("陈大文", "Chan Tai-man"),
    ("陈大文", "Peter Chan Tai-man"),
    ("陈大文", "Chen Dawen"),
    ("陈大文", "Dawen CHEN"),
    ("陈大文", "CHEN, Dawen"),
    ("陈大文", "Ch'en Ta-wen"),
    ("陈大文", "Chen Ta-wen"),
    ("陈大文", "Chén Dàwén"),
    ("张伟", "張偉"),
    ("习近平", "Xi Jinping"),
    ("曾国藩", "Zeng Guofan"),
    ("曾蔭權", "Tsang Yam-kuen"),
    ("区志航", "Au Chi Hong"),
    ("欧阳修", "Ouyang Xiu"),
    ("吕秀莲", "LYU Xiulian"),
    ("吕秀莲", "Lu Hsiu-lien"),
    ("蕭亞軒", "肖亚轩"),
    ("黃志強", "WONG Chi Keung"),
    ("張國榮", "Leslie Cheung Kwok-wing"),
    ("楊大文", "IEONG Tai Man"),
    # Real names (Wikidata LegCo / Taiwan legislators) that shared no key before this list had them:
    ("朱凱廸", "Eddie Chu Hoi-dick"),  # HK "Dick" for dik; 廸 is a variant of 迪
    ("陳賴素美", "Chen Lai Su-mei"),  # married double surname written as two words
    ("張廖萬堅", "Chang Liao Wan-chien"),
    ("林鄭月娥", "Lam Cheng Yuet-ngor"),
    ("歐陽家明", "Au Yeung Ka Ming"),  # compound surname split in two
    ("黃偉哲", "Huang Wei-cher"),  # Taiwan personal spelling of 哲
    ("郭勇双", "KUOC Ung Sheong"),  # Macau spellings: Kuoc = Kwok, Cheang = Cheng, Sio = Siu
    ("郑含继", "CHEANG Hom Gai"),
    ("肖宇圣", "SIO U Sing"),
    # Taiwan legislators whose spelling drops or adds a -g (-ng/-n merged): no key but the
    # Wade-Giles fuzzy one ('wz') meets them.
    ("顏清標", "Chin-piao Yen"),
    ("楊鎮浯", "Yang Cheng-wu"),
    ("許忠信", "Hsu Chun-hsin"),
    # One person in pinyin and in Wade-Giles (蔣萬安, Taiwan legislators): one conversion, one guess.
    ("Jiang Wan-an", "Chiang Wan-an"),
]


@pytest.mark.parametrize(("a", "b"), SAME_PERSON)
def test_same_person_matches_and_shares_a_key(a: str, b: str) -> None:
    pa, pb = profile("person", a), profile("person", b)
    assert set(profile_keys(pa)) & set(profile_keys(pb))
    decision = score(pa, pb)
    assert decision.match, decision
    assert decision.score >= THRESHOLD


DIFFERENT_PERSON = [
    ("陈大文", "陈大武"),
    ("张伟", "章伟"),
    ("王志强", "黄志强"),
    ("陈大文", "Chen Dewen"),
    ("陈大文", "Chan Siu Ming"),
    ("张伟", "Zhang Wen"),
    # Both pinyin: a pinyin name is compared in pinyin ("Cheng" is 程, not Wade-Giles 鄭 Zheng).
    ("Zheng Ping", "Cheng Ping"),
    ("Jiang Wan-an", "Qiang Wan-an"),
]


@pytest.mark.parametrize(("a", "b"), DIFFERENT_PERSON)
def test_different_person_does_not_match(a: str, b: str) -> None:
    assert not score(profile("person", a), profile("person", b)).match


def test_a_homophone_is_possible_alone_and_a_match_when_a_birth_date_or_id_confirms_it() -> None:
    # Other characters that sound the same: a typist's slip, or another person. In a store of
    # many records mostly the latter (bench/store_precision.py), so the name alone never confirms it.
    alone = score(profile("person", "陈大文"), profile("person", "陈达文", birth_date="1971-02-11"))
    assert (alone.verdict, alone.match) == ("possible", False)
    assert alone.doubt == (
        "other characters that sound the same (homophone 大/达): an ID number or birth date would confirm it"
    )
    dated = score(
        profile("person", "陈大文", birth_date="1971-02-11"), profile("person", "陈达文", birth_date="1971-02-11")
    )
    assert dated.verdict == "match" and dated.score >= THRESHOLD
    rid = "110101197102111235"
    ided = score(profile("person", "陈大文", id_number=rid), profile("person", "陈达文", id_number=rid))
    assert ided.verdict == "match"
    # A different birth date is a namesake: not even possible.
    other = score(
        profile("person", "陈大文", birth_date="1971-02-11"), profile("person", "陈达文", birth_date="1980-05-02")
    )
    assert other.verdict == "none"


def test_characters_rank_above_homophones_above_romanization() -> None:
    q = profile("person", "陈大文")
    exact = score(q, profile("person", "陈大文")).score
    homophone = score(q, profile("person", "陈达文")).score
    romanized = score(q, profile("person", "Chen Dawen")).score
    assert exact > romanized > homophone or exact > homophone
    assert exact == 1.0 and homophone < exact


def test_namesake_with_conflicting_birth_date_is_explained() -> None:
    q = profile("person", "陈大文", birth_date="1971-02-11")
    c = profile("person", "陳大文", birth_date="1980-05-02")
    decision = score(q, c)
    assert not decision.match
    details = [f.detail for f in decision.features]
    assert "birth date conflicts: 1971-02-11 vs 1980-05-02" in details


def test_namesake_with_conflicting_id_is_not_a_match() -> None:
    q = profile("person", "陈大文", id_number="11010519491231002X")
    c = profile("person", "陈大文", id_number="440106198005025612")
    decision = score(q, c)
    assert not decision.match
    assert any(f.feature == "id_number" and f.value == -1.0 for f in decision.features)


def test_same_id_matches_whatever_the_name() -> None:
    q = profile("person", "Peter Chan", id_number="110105 19491231 002x")
    c = profile("person", "陈大文", id_number="11010519491231002X")
    assert score(q, c).match
    assert "id:cn_rid:11010519491231002X" in set(profile_keys(q)) & set(profile_keys(c))


def test_explanation_names_the_bridge() -> None:
    decision = score(profile("person", "Chan Tai Man"), profile("person", "陳大文"))
    name = decision.features[0]
    assert name.feature == "name"
    assert "Cantonese" in name.detail and "陳大文" in name.detail and "Chan Tai Man" in name.detail


COMPANIES_SAME = [
    ("广州市星辉贸易有限公司", "星辉贸易（广州）有限公司"),
    ("广州市星辉贸易有限公司", "星輝貿易有限公司"),
    ("广州市星辉贸易有限公司", "Guangzhou Xinghui Trading Co., Ltd."),
    ("广州市星辉贸易有限公司", "Sing Fai Trading Company Limited"),
    ("广州市星辉贸易有限公司", "广州市星辉商贸有限责任公司"),
]


@pytest.mark.parametrize(("a", "b"), COMPANIES_SAME)
def test_same_company(a: str, b: str) -> None:
    pa, pb = profile("company", a), profile("company", b)
    assert set(profile_keys(pa)) & set(profile_keys(pb))
    assert score(pa, pb).match


COMPANIES_DIFFERENT = [
    ("广州鑫源贸易有限公司", "泉州鑫源贸易有限公司"),
    ("广州市星辉贸易有限公司", "广州市星辉电子有限公司"),
]


@pytest.mark.parametrize(("a", "b"), COMPANIES_DIFFERENT)
def test_different_company(a: str, b: str) -> None:
    decision = score(profile("company", a), profile("company", b))
    assert not decision.match
    assert any(f.value == -1.0 for f in decision.features)


def test_renamed_company_keeps_its_uscc() -> None:
    q = profile("company", "深圳市新名字科技有限公司", id_number="91440300708461136T")
    c = profile("company", "深圳市腾达电子有限公司", id_number="91440300708461136T")
    assert score(q, c).match


def test_keys_are_bounded_typed_and_never_surname_only() -> None:
    for name in ("陈大文", "CHAN Tai Man", "Peter Chan Tai-man", "欧阳修", "林鄭月娥"):
        keys = profile_keys(profile("person", name, birth_date="1971-02-11", id_number="A123456(3)"))
        assert 0 < len(keys) <= MAX_KEYS
        for key, weight in keys.items():
            assert KEY_WEIGHTS[key_type(key)] == weight
            value = key.split(":", 1)[1]
            assert value not in ("陈", "chen", "can", "chan")  # no surname-only key
    company = profile_keys(profile("company", "广州市星辉贸易有限公司"))
    assert "cn:有限公司" not in company and all(not k.endswith(":有限公司") for k in company)


@pytest.mark.parametrize(
    ("query", "record"),
    [("Li Ding", "李婷"), ("Hou Bing-ning", "侯萍宁"), ("Li Ci", "李子")],
)
def test_a_pinyin_name_read_as_cantonese_through_an_initial_hong_kong_does_not_write_is_not_confirmed(
    query: str, record: str
) -> None:
    decision = score(profile("person", query), profile("person", record))
    assert not decision.match
    assert decision.verdict == "possible" and "not how Hong Kong writes Cantonese" in (decision.doubt or "")


@pytest.mark.parametrize(("query", "record"), [("Chan Bo Ling", "陳寶玲"), ("Li Ding", "李丁"), ("Ho Bing", "何炳")])
def test_initials_people_do_write_for_the_character_still_match(query: str, record: str) -> None:
    assert score(profile("person", query), profile("person", record)).match


@pytest.mark.parametrize(
    ("query", "record", "why"),
    [
        # Jun and Chun share one Cantonese skeleton, but Hong Kong and Macau write 春 Chun.
        ("Li Jun", "李春", "jun is not how Hong Kong or Macau writes 李春"),
        # "Panyu" is a pinyin given name: Hong Kong writes one syllable a word (Pan Yu, Pan-yu).
        ("Tong Panyu", "董攀瑜", "panyu is one word of two syllables"),
    ],
)
def test_a_pinyin_name_read_as_cantonese_through_a_spelling_hong_kong_does_not_write_is_not_confirmed(
    query: str, record: str, why: str
) -> None:
    decision = score(profile("person", query), profile("person", record))
    assert decision.verdict == "possible" and why in (decision.doubt or "")


@pytest.mark.parametrize(
    ("query", "record"),
    [
        ("Chan Tai-man", "陳大文"),
        ("Tong Pan-yu", "董攀瑜"),
        ("Chiang Lai-wan", "蔣麗芸"),  # a Mandarin surname in a Hong Kong name (LegCo, Wikidata)
        ("CHIO Lung Ho", "趙龍可"),  # Macau's 趙 Chio: no listed syllable, but a listed skeleton
        ("CHEANG Hoi", "鄭凱"),
    ],
)
def test_hong_kong_and_macau_spellings_of_the_characters_still_match(query: str, record: str) -> None:
    assert score(profile("person", query), profile("person", record)).match


def test_a_letter_typed_twice_in_a_one_letter_syllable_is_worth_a_look() -> None:
    # Wade-Giles i (怡 yi) typed "Ii": one slip, as "Weii" for wei is.
    decision = score(profile("person", "Liu Ii"), profile("person", "刘怡"))
    assert decision.verdict == "possible"
    assert score(profile("person", "Liu Ii"), profile("person", "刘艺")).verdict == "possible"
    assert score(profile("person", "Liu Ii"), profile("person", "刘安")).verdict == "none"


def test_a_word_written_without_its_apostrophe_is_syllables_not_a_slip() -> None:
    # "Zhongao" is zhong'ao: against 王冲澳 (chong ao) it is another syllable, two guesses, not one slip.
    other = score(profile("person", "Wang Zhongao"), profile("person", "王冲澳"))
    assert other.verdict == "possible" and "differs by a whole syllable" in (other.doubt or ""), other
    assert score(profile("person", "Wang Zhongao"), profile("person", "王中奥")).match


def test_wade_giles_szu_is_ssu() -> None:
    # 思 si is Wade-Giles ssu or szu (Szechwan): one spelling, not another syllable.
    assert score(profile("person", "Wu Szu-yao"), profile("person", "吳思瑤")).match
    assert score(profile("person", "Wu Ssu-yao"), profile("person", "吳思瑤")).match


def test_a_record_s_chinese_alias_names_its_region_for_the_english_name() -> None:
    # A Hong Kong record keeps the firm's Chinese name as an alias: its place counts even when the
    # name agreement came through the English name (the Zhaotong firm is not the Shenzhen one).
    query = profile("company", "维尔逊眼镜（深圳）有限责任公司")
    hk = record_profile(
        Record("CN-HK", "h1", "company", "Wai Yi Shun Optical Limited", aliases=["昭通市維爾遜眼鏡股份有限公司"])
    )
    decision = score(query, hk)
    assert decision.verdict == "none", decision
    assert "region conflicts: 深圳 vs 昭通" in [f.detail for f in decision.features]
    same = record_profile(
        Record("CN-HK", "h2", "company", "Wai Yi Shun Optical Limited", aliases=["深圳市維爾遜眼鏡有限責任公司"])
    )
    assert score(query, same).match


def test_the_same_letters_with_another_word_marked_as_the_surname_are_another_person() -> None:
    # Capitals mark the surname: "Guo CHEN" is 陈国, "GUO Chen" 郭臣 (a record's alias).
    other = score(profile("person", "Guo CHEN"), profile("person", "GUO Chen"))
    assert other.verdict == "none", other
    same = score(profile("person", "Chan Tai Man"), profile("person", "CHAN Tai Man"))
    assert same.match and same.features[0].detail == "Chan Tai Man = CHAN Tai Man (spelling: identical)"
    reordered = score(profile("person", "Guo CHEN"), profile("person", "CHEN Guo"))
    assert reordered.match


def test_a_company_brand_that_only_sounds_the_same_is_possible() -> None:
    # 祥源 / 乡元 (xiang yuan): on the realistic million every such match was another firm.
    alone = score(profile("company", "来宾市祥源食品有限公司"), profile("company", "乡元食品有限公司"))
    assert alone.verdict == "possible", alone
    assert alone.doubt is not None and alone.doubt.startswith(
        "other characters that sound the same (homophone 祥源/乡元)"
    )
    uscc = "91440101MA59TEST5X"
    same = score(
        profile("company", "来宾市祥源食品有限公司", id_number=uscc),
        profile("company", "乡元食品有限公司", id_number=uscc),
    )
    assert same.match, same
