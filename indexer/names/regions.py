"""Administrative regions: Chinese names (with and without 省/市/区/县) and English spellings.

Built from the National Bureau of Statistics 2023 division list (modood/Administrative-divisions-of-
China, WTFPL; copied to data/, see data/README.md): every province and prefecture city of China, the
districts and counties of the nine PPRD provinces, and the Hong Kong and Macau districts. A region is
reported at its most specific level together with its city and province, so that two company records
can be compared: same city agrees, Guangzhou vs Quanzhou conflicts, a province and a city inside it
agree.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from indexer.names import mandarin

_SUFFIXES = (
    "特别行政区",
    "壮族自治区",
    "回族自治区",
    "维吾尔自治区",
    "自治区",
    "自治州",
    "自治县",
    "新区",
    "省",
    "市",
    "区",
    "县",
    "盟",
    "旗",
)


@dataclass(frozen=True, slots=True)
class Region:
    """A place: its most specific name and the city and province it belongs to ('' if above)."""

    name: str
    city: str
    province: str

    def relation(self, other: Region) -> str:
        """'same', 'within' (one contains the other), or 'conflict'."""
        if self.name == other.name:
            return "same"
        mine = {self.name, self.city, self.province} - {""}
        theirs = {other.name, other.city, other.province} - {""}
        if self.name in theirs or other.name in mine:
            return "within"
        if self.city and other.city and self.city == other.city:
            return "within"
        return "conflict"


def _short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def _read(filename: str) -> list[dict[str, str]]:
    text = resources.files("indexer.data").joinpath(filename).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, Region], dict[str, list[Region]], int]:
    """The region tables, built on first use (they read names through pypinyin, whose import
    alone costs 0.5 s that commands reading no name must not pay)."""
    # pypinyin's phrase-aware reader, imported here for the reason above.
    from pypinyin import lazy_pinyin

    by_han: dict[str, Region] = {}
    by_latin: dict[str, list[Region]] = {}

    def add(full: str, region: Region, latin: bool) -> None:
        for form in {full, _short(full)}:
            # A more specific entry never overwrites a province or city of the same short name.
            by_han.setdefault(form, region)
        if latin:
            # Phrase-aware pinyin: 成都 is cheng du, not cheng dou; 长沙 chang sha.
            for key in {"".join(lazy_pinyin(_short(full))), "".join(mandarin.text_readings(_short(full)))}:
                places = by_latin.setdefault(key, [])
                if region not in places:
                    places.append(region)

    # PPRD places first, so an ambiguous English spelling resolves inside the region this service
    # serves: "Yichun" is 宜春 (Jiangxi), not 伊春 (Heilongjiang).
    pprd = {r["code"] for r in _read("pprd_provinces.csv")}
    for row in sorted(_read("all_provinces.csv"), key=lambda r: r["code"] not in pprd):
        short = _short(row["name"])
        add(row["name"], Region(short, "", short), True)
    cities = sorted(_read("all_cities.csv"), key=lambda r: r["province_code"] not in pprd)
    for row in cities:
        if row["name"] in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
            continue
        short = _short(row["name"])
        add(row["name"], Region(short, short, _short(row["province_name"])), True)
    for row in _read("pprd_districts.csv"):
        if row["name"] == "市辖区" or len(_short(row["name"])) < 2:
            continue
        city = _short(row["city_name"])
        if "直辖" in city:  # county-level cities under the province (海南 东方): their own city
            city = _short(row["name"])
        add(row["name"], Region(_short(row["name"]), city, _short(row["province_name"])), False)
    for region_name, latin in (("香港", ("hongkong", "hk", "xianggang")), ("澳门", ("macau", "macao", "aomen"))):
        region = Region(region_name, region_name, region_name)
        by_han[region_name] = region
        by_han[region_name + "特别行政区"] = region
        for word in latin:
            by_latin[word] = [region]
    for row in _read("hk_macau_districts.csv"):
        parent = "香港" if row["region"].startswith("香港") else "澳门"
        if len(_short(row["district"])) >= 2:
            add(row["district"], Region(_short(row["district"]), parent, parent), False)
    by_latin["canton"] = [by_han["广州"]]
    return by_han, by_latin, max(len(k) for k in by_han)


def leading_region(text: str) -> tuple[Region | None, str]:
    """Strip administrative names from the start of a Simplified string ('广州市白云区星辉…' →
    白云 (in 广州), '星辉…'). Returns the most specific region found and the rest."""
    found: Region | None = None
    while True:
        regions_han, _, longest = _tables()
        for n in range(min(longest, len(text) - 1), 1, -1):
            region = regions_han.get(text[:n])
            # A second place name is stripped only when it lies inside the first (广州市白云区);
            # otherwise it is the brand (昆明市桃源谷: 桃源 is a county in Hunan, here a brand).
            if region is not None and (found is None or region.relation(found) != "conflict"):
                found = region if found is None or region.city or not found.city else found
                text = text[n:]
                break
        else:
            return found, text


def han_region(text: str) -> Region | None:
    """A whole string that names a region ('广州', '（香港）' contents), or None."""
    return _tables()[0].get(text)


def latin_regions(word: str) -> tuple[Region, ...]:
    """Every place an English/pinyin region word may name, PPRD first ('fuzhou' → 福州, 抚州)."""
    return tuple(_tables()[1].get(word, ()))
