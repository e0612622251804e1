"""Company anatomy in Chinese and English."""

from __future__ import annotations

import pytest

from indexer.names.companies import company_forms

CASES = [
    # raw, brand (Han or Latin), industries, region name, legal form
    ("广州市星辉贸易有限公司", "星辉", {"trade"}, "广州", "ltd"),
    ("星辉贸易（广州）有限公司", "星辉", {"trade"}, "广州", "ltd"),
    ("星輝貿易有限公司", "星辉", {"trade"}, None, "ltd"),
    ("广东省广州市白云区星辉贸易有限责任公司", "星辉", {"trade"}, "白云", "ltd"),
    ("深圳市腾达电子科技股份有限公司", "腾达", {"electronics"}, "深圳", "joint_stock"),
    ("深圳市腾达电子科技有限公司东莞分公司", "腾达", {"electronics"}, "深圳", "branch"),
    ("南宁市青秀区金辉日用品店（个体工商户）", "金辉", {"daily_goods"}, "青秀", "shop"),
    ("香港鑫源國際貿易有限公司", "鑫源", {"trade"}, "香港", "ltd"),
    ("九江市环球行科技股份有限公司", "环球行", {"tech"}, "九江", "joint_stock"),
    ("东方电子有限公司", "东方", {"electronics"}, None, "ltd"),
    ("福田玩具有限公司", "福田", {"toys"}, None, "ltd"),
    ("拉萨情服饰（宜春）有限公司", "拉萨情", {"apparel"}, "宜春", "ltd"),
    ("昆明市桃源谷电子有限责任公司", "桃源谷", {"electronics"}, "昆明", "ltd"),
    ("佛山市顺德区美华皮具厂", "美华", {"leather"}, "顺德", "factory"),
    ("Guangzhou Xinghui Trading Co., Ltd.", "xinghui", {"trade"}, "广州", "ltd"),
    ("GUANGZHOU XINGHUI TRADING CO.,LTD", "xinghui", {"trade"}, "广州", "ltd"),
    ("Xinghui Trading (Guangzhou) Co., Ltd", "xinghui", {"trade"}, "广州", "ltd"),
    ("Sing Fai Trading Company Limited", "singfai", {"trade"}, None, "ltd"),
    ("Xin Yuan International Trading (HK) Limited", "xinyuan", {"trade"}, "香港", "ltd"),
    ("ZHONGWEI TECHNOLOGY (NEIJIANG) CO., LTD", "zhongwei", {"tech"}, "内江", "ltd"),
    ("Chengdu Naifu Footwear Co., Ltd.", "naifu", {"shoes"}, "成都", "ltd"),
    ("Tak Fat Electronics Limited", "takfat", {"electronics"}, None, "ltd"),
    ("Companhia de Comercio Kam Lung, Limitada", "companhiadecomerciokamlung", set(), None, "ltd"),
]


@pytest.mark.parametrize(("raw", "brand", "industries", "region", "legal"), CASES)
def test_anatomy(raw: str, brand: str, industries: set[str], region: str | None, legal: str) -> None:
    form = company_forms(raw)[0]
    assert (form.brand or form.brand_latin) == brand
    assert set(form.industries) == industries
    assert (form.region.name if form.region else None) == region
    assert form.legal_form == legal


def test_english_brand_reads_like_the_characters() -> None:
    han = company_forms("广州市星辉贸易有限公司")[0]
    pinyin = company_forms("Guangzhou Xinghui Trading Co., Ltd.")[0]
    cantonese = company_forms("Sing Fai Trading Company Limited")[0]
    assert set(han.wg) & set(pinyin.wg)
    assert set(han.ct) & set(cantonese.ct)


def test_ambiguous_english_region_keeps_alternatives() -> None:
    form = company_forms("Fuzhou Minhao Leather Co., Ltd.")[0]
    names = {r.name for r in form.region_alternatives}
    assert {"福州", "抚州"} <= names
    other = company_forms("抚州市民昊皮具股份有限公司")[0]
    assert form.region_relation(other) == "same"


def test_empty_names() -> None:
    assert company_forms("") == []
    assert company_forms("   ") == []
    assert company_forms("（）") == []
