"""Sample office exports: the same synthetic suspects as each of the 11 offices would write them.

Each office writes its own file format, encoding, headers, date style and name conventions (see
``indexer/intake/profiles/*.toml``): mainland offices in Simplified characters with resident IDs and USCCs,
Hong Kong in English names with the Chinese name as an alias (Big5), Macau in Portuguese-headed
XLSX. A suspect appears in one to four offices. Deterministic for a seed; the ground truth (which
records are one entity) is returned for tests.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypinyin import lazy_pinyin

from indexer.intake.offices import CANONICAL, DEFAULT_HEADERS, load_profile
from indexer.synth import render
from indexer.synth.entities import INDUSTRIES, Company, Generator, Person

MAINLAND = ("CN-GD", "CN-FJ", "CN-JX", "CN-HN", "CN-GX", "CN-HI", "CN-SC", "CN-GZ", "CN-YN")
OFFICE_PROVINCE = {
    "CN-GD": "广东省", "CN-FJ": "福建省", "CN-JX": "江西省", "CN-HN": "湖南省", "CN-GX": "广西壮族自治区",
    "CN-HI": "海南省", "CN-SC": "四川省", "CN-GZ": "贵州省", "CN-YN": "云南省",
}  # fmt: skip
FILES = {
    "CN-GD": "cn-gd.csv", "CN-FJ": "cn-fj.csv", "CN-JX": "cn-jx.xlsx", "CN-HN": "cn-hn.jsonl",
    "CN-GX": "cn-gx.csv", "CN-HI": "cn-hi.csv", "CN-SC": "cn-sc.xlsx", "CN-GZ": "cn-gz.jsonl",
    "CN-YN": "cn-yn.csv", "CN-HK": "cn-hk.csv", "CN-MO": "cn-mo.xlsx",
}  # fmt: skip
OFFENCES_CN = (
    "假冒注册商标",
    "销售假冒注册商标的商品",
    "非法制造注册商标标识",
    "侵犯著作权",
    "销售侵权复制品",
    "商标侵权",
    "专利侵权",
)
OFFENCES_HK = ("Trade Descriptions Ordinance s.9", "Copyright Ordinance s.118", "Trade Marks Ordinance")
OFFENCES_MO = ("Contrafacção", "Imitação e uso ilegal de marca", "Violação de direito de autor")


@dataclass(slots=True)
class SampleRecord:
    office: str
    entity: str  # ground-truth entity id
    fields: dict[str, Any]  # canonical field → value, before the office's rendering


def _planted() -> list[SampleRecord]:
    """The worked example of the README: 陳大文 / CHAN Tai Man across three offices, a namesake
    with another birth date, and 星辉贸易 in Guangzhou and Hong Kong next to an unrelated
    星辉贸易 in Quanzhou."""
    p = {"entity_type": "person", "gender": "male", "phone": None}
    c = {"entity_type": "company", "gender": None, "birth_date": None, "phone": None}
    return [
        SampleRecord(
            "CN-GD",
            "demo-1",
            {
                **p,
                "name": "陈大文",
                "aliases": ["CHEN Dawen"],
                "id_number": "440106197102111236",
                "birth_date": "1971-02-11",
            },
        ),
        SampleRecord(
            "CN-HK",
            "demo-1",
            {**p, "name": "CHAN Tai Man", "aliases": ["陳大文"], "id_number": "A123456(3)", "birth_date": "1971-02-11"},
        ),
        SampleRecord(
            "CN-MO",
            "demo-1",
            {**p, "name": "CHAN Tai Man", "aliases": ["陳大文"], "id_number": None, "birth_date": "1971-02-11"},
        ),
        SampleRecord(
            "CN-FJ", "demo-2", {**p, "name": "陈大文", "aliases": [], "id_number": None, "birth_date": "1980-05-02"}
        ),
        SampleRecord(
            "CN-GD", "demo-3", {**c, "name": "广州市星辉贸易有限公司", "aliases": [], "id_number": "91440101MA59XXXX0G"}
        ),
        SampleRecord(
            "CN-HK",
            "demo-3",
            {**c, "name": "Sing Fai Trading Company Limited", "aliases": ["星輝貿易有限公司"], "id_number": None},
        ),
        SampleRecord("CN-FJ", "demo-4", {**c, "name": "泉州市星辉贸易有限公司", "aliases": [], "id_number": None}),
    ]


def _date(iso: str | None, office: str) -> str:
    if not iso:
        return ""
    y, m, d = iso.split("-")
    return {
        "CN-FJ": f"{y}/{m}/{d}",
        "CN-GX": f"{y}{m}{d}",
        "CN-HI": f"{y}年{int(m)}月{int(d)}日",
        "CN-HK": f"{d}/{m}/{y}",
        "CN-MO": f"{d}-{m}-{y}",
    }.get(office, iso)


def _person_fields(p: Person, office: str, rng: random.Random) -> dict[str, Any] | None:
    aliases: list[str] = []
    if office == "CN-HK":
        hk = render.hk_syllables(rng, p)
        if hk is None:
            return None
        name = f"{hk[0].upper()} {' '.join(hk[1])}"
        if rng.random() < 0.2:
            name = f"{rng.choice(render.ENGLISH_NAMES)} {hk[0]} {'-'.join([hk[1][0]] + [x.lower() for x in hk[1][1:]])}"
        if rng.random() < 0.75:
            aliases.append(render.traditional(p.han))
        ident = p.hkid if rng.random() < 0.4 else (p.rid if rng.random() < 0.3 else None)
    elif office == "CN-MO":
        hk = render.hk_syllables(rng, p)
        if hk is None:
            return None
        name = f"{rng.choice(p.surname.macau).upper()} {' '.join(render.macau(x) for x in hk[1])}"
        aliases.append(render.traditional(p.han))
        ident = p.rid if rng.random() < 0.3 else None
    else:
        name = p.han
        if rng.random() < 0.05:
            alt = render.homophone(rng, p.given[-1])
            name = p.surname.simplified + p.given[:-1] + (alt or p.given[-1])
        if rng.random() < 0.15:
            aliases.append(f"{p.surname.pinyin.upper()} {''.join(lazy_pinyin(p.given)).capitalize()}")
        ident = p.rid if rng.random() < 0.7 else None
    return {
        "entity_type": "person",
        "name": name,
        "aliases": aliases,
        "id_number": ident,
        "birth_date": p.birth_date if rng.random() < 0.8 else None,
        "gender": p.gender if rng.random() < 0.9 else None,
        "phone": p.phone if rng.random() < 0.3 and office in MAINLAND else None,
    }


def _company_fields(c: Company, office: str, rng: random.Random) -> dict[str, Any] | None:
    aliases: list[str] = []
    ind, eng, synonym = INDUSTRIES[c.industry]
    if office in ("CN-HK", "CN-MO"):
        parts = []
        for ch in render.traditional(c.brand):
            choices = render.HK_GIVEN.get(ch) or render._chunlaw().get(ch)
            if not choices:
                return None
            parts.append(rng.choice(choices))
        suffix = "Limitada" if office == "CN-MO" else rng.choice(("Company Limited", "Limited"))
        name = f"{' '.join(parts)} {eng} {suffix}"
        aliases.append(render.traditional(c.han))
    else:
        roll = rng.random()
        short_city = c.city[:-1] if c.city.endswith("市") else c.city
        if roll < 0.5:
            name = c.han
        elif roll < 0.7:
            name = f"{c.brand}{ind}（{short_city}）{c.legal_form}"
        elif roll < 0.85:
            name = f"{c.city}{c.brand}{synonym}有限责任公司"
        else:
            name = f"{c.brand}{ind}{c.legal_form}"
    return {
        "entity_type": "company",
        "name": name,
        "aliases": aliases,
        "id_number": c.uscc if rng.random() < (0.6 if office in MAINLAND else 0.2) else None,
    }


def sample_records(seed: int = 2026, persons: int = 1800, companies: int = 700) -> list[SampleRecord]:
    """Records for all 11 offices; each entity is held by one to four offices."""
    g = Generator(seed)
    rng = random.Random(seed)
    offices = (*MAINLAND, "CN-HK", "CN-MO")
    weights = (5, 3, 2, 2, 2, 1, 2, 1, 1, 4, 2)
    out: list[SampleRecord] = []
    counters: dict[str, int] = dict.fromkeys(offices, 0)
    for planted in _planted():
        counters[planted.office] += 1
        planted.fields.update(
            record_id=f"{planted.office[3:]}-2024-{counters[planted.office]:05d}",
            case_id=f"{planted.office[3:]}2024-{counters[planted.office]:04d}",
            case_date="2024-03-15",
            offence=OFFENCES_HK[0]
            if planted.office == "CN-HK"
            else OFFENCES_MO[0]
            if planted.office == "CN-MO"
            else OFFENCES_CN[0],
            address="",
        )
        out.append(planted)
    entities: list[Person | Company] = [g.person() for _ in range(persons)] + [g.company() for _ in range(companies)]
    for ent in entities:
        n = rng.choices((1, 2, 3, 4), (35, 35, 20, 10))[0]
        chosen: set[str] = set()
        while len(chosen) < n:
            chosen.add(rng.choices(offices, weights)[0])
        for office in sorted(chosen):
            fields = _person_fields(ent, office, rng) if isinstance(ent, Person) else _company_fields(ent, office, rng)
            if fields is None:
                continue
            counters[office] += 1
            year = rng.randrange(2015, 2026)
            fields.update(
                record_id=f"{office[3:]}-{year}-{counters[office]:05d}",
                case_id=f"{office[3:]}{year}-{rng.randrange(1, 9999):04d}",
                case_date=f"{year}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                offence=rng.choice(
                    OFFENCES_HK if office == "CN-HK" else OFFENCES_MO if office == "CN-MO" else OFFENCES_CN
                ),
                address=(OFFICE_PROVINCE.get(office, "") + "某市某区") if office in MAINLAND else "",
            )
            out.append(SampleRecord(office, ent.uid, fields))
    return out


def _headers(office: str) -> list[str]:
    prof = load_profile(office.lower())
    if not prof.columns:
        reverse = {
            "name": "姓名",
            "record_id": "编号",
            "entity_type": "类型",
            "aliases": "别名",
            "id_number": "证件号码",
        }
        wanted = CANONICAL[1:]  # every canonical field but the office
        by_field = {v: k for k, v in DEFAULT_HEADERS.items() if not k.isascii()}
        return [reverse.get(f, by_field.get(f, f)) for f in wanted]
    return list(prof.columns)


def _row(office: str, rec: SampleRecord) -> dict[str, Any]:
    prof = load_profile(office.lower())
    mapping = prof.columns or {h: DEFAULT_HEADERS[h] for h in _headers(office)}
    reverse_values = {f: {v: k for k, v in table.items()} for f, table in prof.values.items()}
    f = rec.fields
    out: dict[str, Any] = {}
    for header, canon in mapping.items():
        value = f.get(canon)
        if canon in ("birth_date", "case_date"):
            value = _date(value, office)
        elif canon == "aliases":
            value = value if office in ("CN-HN", "CN-GZ") else "|".join(value or [])
        elif canon == "gender" and value and office in ("CN-HK", "CN-MO"):
            value = "M" if value == "male" else "F"
        elif canon == "gender" and value:
            value = "男" if value == "male" else "女"
        if canon in reverse_values and value in reverse_values[canon]:
            value = reverse_values[canon][value]
        elif canon == "entity_type" and office not in ("CN-HN", "CN-GZ"):
            value = "个人" if value == "person" else "企业"
        out[header] = "" if value is None else value
    return out


def write_office_files(folder: Path, records: list[SampleRecord]) -> dict[str, Path]:
    """Write one file per office in its own format; returns office → path."""
    # openpyxl costs ~110 ms to import (python -X importtime); only the XLSX office file needs it.
    import openpyxl

    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for office, filename in FILES.items():
        rows = [_row(office, r) for r in records if r.office == office]
        headers = _headers(office)
        path = folder / filename
        paths[office] = path
        if filename.endswith(".jsonl"):
            with path.open("w", encoding="utf-8") as fh:
                for row in rows:
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        elif filename.endswith(".xlsx"):
            book = openpyxl.Workbook()
            sheet = book.active
            assert sheet is not None
            sheet.append(headers)
            for row in rows:
                sheet.append([row.get(h, "") for h in headers])
            book.save(path)
        else:
            encoding = load_profile(office.lower()).encoding or "utf-8"
            with path.open("w", encoding=encoding, newline="", errors="strict") as fh:
                writer = csv.DictWriter(fh, fieldnames=headers)
                writer.writeheader()
                writer.writerows(rows)
    return paths
