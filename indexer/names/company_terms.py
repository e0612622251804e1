"""Company vocabulary: legal forms and industry words in Chinese and English, each mapped to a class.

Industry words are mapped to sectors so that offices that write 贸易, 商贸 or "Trading" agree,
while 贸易 and 电子 conflict (the "same brand, other industry" hard negative).
Legal forms are classes too, but the scorer treats them as weak evidence: offices write
有限公司 / 有限责任公司 / "Co., Ltd." for the same firm (research note §1.11).
"""

from __future__ import annotations

from importlib import resources

# Chinese legal forms and shop types, longest first so 股份有限公司 wins over 有限公司.
LEGAL_FORMS_HAN: tuple[tuple[str, str], ...] = tuple(
    sorted(
        {
            "股份有限公司": "joint_stock",
            "股份公司": "joint_stock",
            "有限责任公司": "ltd",
            "有限公司": "ltd",
            "集团有限公司": "ltd",
            "集团公司": "ltd",
            "总公司": "ltd",
            "分公司": "branch",
            "子公司": "ltd",
            "公司": "ltd",
            "个人独资企业": "sole",
            "个体工商户": "sole",
            "普通合伙": "partnership",
            "有限合伙": "partnership",
            "合伙企业": "partnership",
            "合作社": "cooperative",
            "商行": "shop",
            "经营部": "shop",
            "门市部": "shop",
            "工作室": "shop",
            "商店": "shop",
            "商铺": "shop",
            "店": "shop",
            "档": "shop",
            "厂": "factory",
            "工厂": "factory",
            "企业": "ltd",
            "集团": "ltd",
        }.items(),
        key=lambda kv: -len(kv[0]),
    )
)

# English (and Portuguese, for Macau) legal-form tokens, removed from the end of a name.
LEGAL_TOKENS_LATIN: dict[str, str] = {
    "co": "ltd",
    "company": "ltd",
    "ltd": "ltd",
    "limited": "ltd",
    "llc": "ltd",
    "corp": "ltd",
    "corporation": "ltd",
    "inc": "ltd",
    "incorporated": "ltd",
    "plc": "joint_stock",
    "group": "ltd",
    "lda": "ltd",
    "limitada": "ltd",
    "sociedade": "ltd",
    "unipessoal": "ltd",
    "firm": "shop",
    "store": "shop",
    "shop": "shop",
    "factory": "factory",
    "branch": "branch",
    # Legal forms of other places that partner firms' names carry; the IEEE registry's most frequent
    # ones after the English forms (GmbH 1,944 names, Pty 266, Srl 244, Pvt 143, Pte 127, Ltda 115).
    "gmbh": "ltd",
    "pty": "ltd",
    "pte": "ltd",
    "pvt": "ltd",
    "srl": "ltd",
    "ltda": "ltd",
    "sarl": "ltd",
    "sas": "ltd",
    "bhd": "ltd",
    "sdn": "ltd",
    "jsc": "joint_stock",
    "llp": "partnership",
}


def _load_industry_words() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """data/industry_words.tsv → (English word → sectors, Chinese word → sectors). The English words
    were chosen from the IEEE registry's real company names (the file says how); a Chinese word
    listed under two sectors (光电: electronics and optics) belongs to both."""
    text = resources.files("indexer.data").joinpath("industry_words.tsv").read_text("utf-8")
    latin: dict[str, frozenset[str]] = {}
    han: dict[str, set[str]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        first, rest = line.split("\t")[:2]
        if first.startswith("@"):
            for word in rest.split():
                han.setdefault(word, set()).add(first[1:])
        else:
            latin[first] = frozenset(rest.split("|"))
    return latin, {word: frozenset(sectors) for word, sectors in han.items()}


# Industry / business words → sectors. Chinese words are matched longest first at the end of the name.
INDUSTRY_LATIN, INDUSTRY_HAN = _load_industry_words()

# Words that qualify a firm but identify neither brand nor industry; dropped from both ends.
MODIFIERS_HAN: tuple[str, ...] = ("国际", "中国", "香港", "澳门", "环球", "集团")


# English words that qualify a firm; dropped wherever they stand.
# "Products" and "Solutions" describe what a firm sells without naming a trade (IEEE registry: 160 and
# 383 names); left in, they would join the brand ("Xinghui Electronic Products": brand xinghuiproducts).
MODIFIERS_LATIN: frozenset[str] = frozenset(
    {
        "international",
        "intl",
        "china",
        "global",
        "and",
        "the",
        "of",
        "e",
        "hk",
        "products",
        "product",
        "solutions",
        "solution",
    }
)
