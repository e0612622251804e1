"""English industry words: taken from a real list of company names, and used end to end.

The vocabulary (indexer/data/industry_words.tsv) records, for each English word, how many
organizations of the IEEE registry's public listing carry it; these tests recount them from the
shipped copy of that listing, so a word the list does not hold cannot pass for one it does.
"""

from __future__ import annotations

import collections
import csv
import json
import re
from importlib import resources
from pathlib import Path

import pytest

from indexer.names import company_terms
from indexer.names.companies import company_forms
from tests.backends import Backend
from tests.test_cli import run

PPRD = {"CN", "HK", "MO", "TW"}


def _rows() -> list[list[str]]:
    text = resources.files("indexer.data").joinpath("industry_words.tsv").read_text("utf-8")
    return [line.split("\t") for line in text.splitlines() if line and line[0] not in "#@"]


def test_at_least_300_words_come_from_the_registry_and_their_counts_are_true() -> None:
    text = resources.files("indexer.data").joinpath("ieee_registry_organizations.csv").read_text("utf-8")
    everywhere: collections.Counter[str] = collections.Counter()
    pprd: collections.Counter[str] = collections.Counter()
    for row in csv.DictReader(text.splitlines()):
        for word in set(re.findall(r"[a-z0-9]+", row["organization"].lower())):
            everywhere[word] += 1
            pprd[word] += row["country"] in PPRD
    rows = _rows()
    assert [(r[0], int(r[2]), int(r[3])) for r in rows] == [(r[0], everywhere[r[0]], pprd[r[0]]) for r in rows]
    assert sum(1 for r in rows if int(r[2]) > 0) >= 300


def test_every_sector_has_chinese_words_and_no_word_is_also_a_legal_form() -> None:
    sectors = {s for r in _rows() for s in r[1].split("|")}
    han_sectors = {s for found in company_terms.INDUSTRY_HAN.values() for s in found}
    assert sectors == han_sectors
    assert not set(company_terms.INDUSTRY_LATIN) & set(company_terms.LEGAL_TOKENS_LATIN)
    assert not set(company_terms.INDUSTRY_LATIN) & company_terms.MODIFIERS_LATIN


@pytest.mark.parametrize(
    ("english", "chinese", "sector"),
    [
        ("Shenzhen Xinghui Furniture Co., Ltd.", "深圳市星辉家具有限公司", "furniture"),
        ("Dongguan Xinghui Lighting Co., Ltd.", "东莞市星辉照明有限公司", "lighting"),
        ("Xiamen Tengda Semiconductor Co., Ltd.", "厦门市腾达半导体有限公司", "electronics"),
        ("Guangzhou Jinhui Pharmaceutical Co., Ltd.", "广州市金辉制药有限公司", "pharma"),
        ("Foshan Jinhui Plastic Co., Ltd.", "佛山市金辉塑胶有限公司", "chemical"),
        ("Qujing Jincaodi Hotel Co., Ltd.", "曲靖市金草地酒店有限公司", "hotel"),
    ],
)
def test_an_english_trade_word_meets_its_chinese_word(english: str, chinese: str, sector: str) -> None:
    latin, han = company_forms(english)[0], company_forms(chinese)[0]
    assert sector in latin.industries & han.industries
    assert set(latin.wg) & set(han.wg), (latin.brand_latin, han.brand)


def test_a_second_trade_word_does_not_eat_the_brand() -> None:
    assert company_forms("阳江市新资本软件股份有限公司")[0].brand == "新资本"
    assert company_forms("龙岩市水晶鞋工控股份有限公司")[0].brand == "水晶鞋"


def test_an_english_name_with_a_registry_trade_word_is_seen(backend: Backend, tmp_path: Path) -> None:
    src = tmp_path / "cn-gd.csv"
    src.write_text(
        "record_id,entity_type,name\n"
        "f1,company,深圳市星辉家具有限公司\n"
        "f2,company,深圳市星辉电子有限公司\n"
        "p1,company,广州市金辉制药有限公司\n",
        encoding="utf-8",
    )
    store = backend.settings(tmp_path)
    assert run("load", str(src), "--office", "CN-GD", store=store).returncode == 0
    answer = json.loads(run("search", "Shenzhen Xinghui Furniture Co., Ltd.", "--json", store=store).stdout)
    assert [m["record_id"] for m in answer["matches"]] == ["f1"]
    # The same brand in another trade is not the firm: at most worth a look, with the reason.
    assert all(m["record_id"] != "f2" for m in answer["matches"])
    drug = json.loads(run("search", "Guangzhou Jinhui Pharmaceutical Co., Ltd.", "--json", store=store).stdout)
    assert [m["record_id"] for m in drug["matches"]] == ["p1"]
