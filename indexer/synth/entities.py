"""Synthetic suspects with ground truth: people and companies drawn from real name lists.

Seeded and deterministic. Surnames and given-name characters are sampled by their real frequency
(allenai/sinonym ORCID lists, Apache-2.0); company brands come from the wainshine company short-name
corpus (Apache-2.0); regions from the NBS division list (WTFPL). Identifiers are generated *valid*
(correct check characters), so the benchmark can also corrupt them on purpose.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from itertools import accumulate

from indexer.names.identifiers import _USCC_ALPHABET, hkid_check, rid_check, uscc_check
from indexer.names.mandarin import COMPOUND_SURNAMES


def _data(name: str) -> str:
    return resources.files("indexer.data").joinpath(name).read_text("utf-8")


@dataclass(frozen=True, slots=True)
class SurnameInfo:
    simplified: str
    traditional: str
    pinyin: str
    taiwan: tuple[str, ...]
    hong_kong: tuple[str, ...]
    macau: tuple[str, ...]
    weight: float


@lru_cache(maxsize=1)
def surnames() -> tuple[SurnameInfo, ...]:
    """The ~130 surnames with known HK / Macau / Taiwan spellings, weighted by real frequency."""
    ppm = {r["surname"]: float(r["ppm"]) for r in csv.DictReader(_data("sinonym_familyname_orcid.csv").splitlines())}
    out: list[SurnameInfo] = []
    lines = [line for line in _data("surname_spellings.tsv").splitlines() if not line.startswith("#")]
    for row in csv.DictReader(lines, delimiter="\t"):
        out.append(
            SurnameInfo(
                row["simplified"],
                row["traditional"],
                row["pinyin"],
                tuple(row["taiwan"].split("/")),
                tuple(row["hong_kong"].split("/")),
                tuple(row["macau"].split("/")),
                ppm.get(row["simplified"], 50.0),
            )
        )
    return tuple(out)


@lru_cache(maxsize=1)
def given_chars() -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Given-name characters and their frequencies (top 1,200)."""
    rows = list(csv.DictReader(_data("sinonym_givenname_orcid.csv").splitlines()))[:1200]
    return tuple(r["character"] for r in rows), tuple(float(r["ppm"]) for r in rows)


@lru_cache(maxsize=1)
def brands() -> tuple[str, ...]:
    """Two- and three-character company brands (字号) from the short-name corpus."""
    out = []
    for line in _data("wainshine_company_short_forms_sample.txt").splitlines():
        w = line.strip()
        if 2 <= len(w) <= 3 and all("\u4e00" <= ch <= "\u9fff" for ch in w):
            out.append(w)
    return tuple(sorted(set(out)))


@lru_cache(maxsize=1)
def districts() -> tuple[tuple[str, str, str], ...]:
    """(6-digit code, city name, province name) for every PPRD district."""
    rows = csv.DictReader(_data("pprd_districts.csv").splitlines())
    return tuple((r["code"], r["city_name"], r["province_name"]) for r in rows if "直辖" not in r["city_name"])


# Industry words with their English renderings and a same-class synonym.
INDUSTRIES: tuple[tuple[str, str, str], ...] = (
    ("贸易", "Trading", "商贸"),
    ("电子", "Electronics", "电子"),
    ("科技", "Technology", "科技"),
    ("服饰", "Garment", "服装"),
    ("皮具", "Leather", "皮革"),
    ("鞋业", "Footwear", "鞋业"),
    ("五金", "Hardware", "五金"),
    ("化妆品", "Cosmetics", "日化"),
    ("玩具", "Toys", "玩具"),
    ("食品", "Food", "食品"),
    ("印刷", "Printing", "包装"),
    ("钟表", "Watches", "钟表"),
    ("眼镜", "Optical", "眼镜"),
    ("珠宝", "Jewellery", "首饰"),
    ("文化传播", "Media", "文化传媒"),
)
LEGAL_FORMS = ("有限公司", "有限责任公司", "股份有限公司", "商行", "经营部")


@dataclass(frozen=True, slots=True)
class Person:
    """A synthetic suspect person."""

    uid: str
    surname: SurnameInfo
    given: str  # Simplified
    gender: str
    birth_date: str
    rid: str
    hkid: str
    phone: str

    @property
    def han(self) -> str:
        return self.surname.simplified + self.given


@dataclass(frozen=True, slots=True)
class Company:
    """A synthetic suspect company."""

    uid: str
    city: str  # e.g. 广州市
    province: str
    brand: str
    industry: int  # index into INDUSTRIES
    legal_form: str
    uscc: str

    @property
    def han(self) -> str:
        ind = INDUSTRIES[self.industry][0]
        return f"{self.city}{self.brand}{ind}{self.legal_form}"


def make_rid(rng: random.Random, region: str, born: str, gender: str) -> str:
    seq = rng.randrange(0, 500) * 2 + (1 if gender == "male" else 0)
    body = region + born.replace("-", "") + f"{seq:03d}"
    return body + rid_check(body)


def make_uscc(rng: random.Random, region: str) -> str:
    body = "91" + region + "".join(rng.choice(_USCC_ALPHABET) for _ in range(9))
    check = uscc_check(body)
    assert check is not None
    return body + check


def make_hkid(rng: random.Random) -> str:
    letter = rng.choice("ACDEGHKMPRVYZ")
    digits = f"{rng.randrange(0, 1_000_000):06d}"
    return f"{letter}{digits}{hkid_check(letter, digits)}"


class Generator:
    """Seeded source of people and companies."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self._n = 0
        sn = surnames()
        self._single = [s for s in sn if s.simplified not in COMPOUND_SURNAMES]
        self._single_cum = list(accumulate(s.weight for s in self._single))
        chars, weights = given_chars()
        self._chars = chars
        self._chars_cum = list(accumulate(weights))
        self._compound = [s for s in sn if s.simplified in COMPOUND_SURNAMES]

    def _uid(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n:07d}"

    def surname(self, compound: bool = False) -> SurnameInfo:
        if compound and self._compound:
            return self.rng.choice(self._compound)
        return self.rng.choices(self._single, cum_weights=self._single_cum)[0]

    def given(self) -> str:
        n = 1 if self.rng.random() < 0.25 else 2
        out = ""
        while len(out) < n:
            ch = self.rng.choices(self._chars, cum_weights=self._chars_cum)[0]
            if ch not in out:
                out += ch
        return out

    def birth_date(self) -> str:
        start = date(1950, 1, 1)
        return (start + timedelta(days=self.rng.randrange(0, 365 * 55))).isoformat()

    def person(self, surname: SurnameInfo | None = None, given: str | None = None) -> Person:
        gender = self.rng.choice(("male", "female"))
        born = self.birth_date()
        region = self.rng.choice(districts())[0]
        phone = "+86 1" + "".join(self.rng.choice("0123456789") for _ in range(10))
        return Person(
            self._uid("P"),
            surname or self.surname(),
            given or self.given(),
            gender,
            born,
            make_rid(self.rng, region, born, gender),
            make_hkid(self.rng),
            phone,
        )

    def company(self, brand: str | None = None, city: str | None = None, industry: int | None = None) -> Company:
        code, city_name, province = self.rng.choice(districts())
        if city is not None:
            city_name = city
        return Company(
            self._uid("C"),
            city_name,
            province,
            brand or self.rng.choice(brands()),
            self.rng.randrange(len(INDUSTRIES)) if industry is None else industry,
            self.rng.choice(LEGAL_FORMS[:3]) if self.rng.random() < 0.9 else self.rng.choice(LEGAL_FORMS),
            make_uscc(self.rng, code),
        )
