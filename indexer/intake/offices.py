"""Loading: office export rows → canonical :class:`Record` or a :class:`Rejection`.

Offices export with their own headers (often Chinese: 姓名, 证件号码, 出生日期, 案件编号 …) and
their own value spellings (个人/企业, 男/女, DD/MM/YYYY). A *profile* (TOML, one per office, in
``indexer/intake/profiles/``) maps their columns and values to the canonical fields; columns it does not
map are kept as attributes. Every row ends as a record or a rejection naming file, line and
reason: nothing is dropped silently.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from indexer.intake.readers import FileError, RowError, read_rows
from indexer.records import ENTITY_TYPES, OFFICES, Record, clean_date, clean_gender

CANONICAL = (
    "office",
    "record_id",
    "entity_type",
    "name",
    "aliases",
    "id_number",
    "birth_date",
    "gender",
    "phone",
    "address",
    "case_id",
    "case_date",
    "offence",
)

# Headers recognised without a profile: the canonical names and the common Chinese ones.
DEFAULT_HEADERS: dict[str, str] = {
    **{c: c for c in CANONICAL},
    "机构": "office",
    "编号": "record_id",
    "记录编号": "record_id",
    "类型": "entity_type",
    "姓名": "name",
    "名称": "name",
    "别名": "aliases",
    "证件号码": "id_number",
    "身份证号": "id_number",
    "统一社会信用代码": "id_number",
    "出生日期": "birth_date",
    "性别": "gender",
    "电话": "phone",
    "联系电话": "phone",
    "地址": "address",
    "案件编号": "case_id",
    "立案日期": "case_date",
    "案由": "offence",
}
DEFAULT_VALUES: dict[str, dict[str, str]] = {
    "entity_type": {
        "个人": "person",
        "人员": "person",
        "自然人": "person",
        "企业": "company",
        "公司": "company",
        "单位": "company",
    },
}
MAX_FIELD = 10_000  # characters; a longer cell is a broken export, not a name


@dataclass(slots=True)
class OfficeProfile:
    """How one office's export maps onto canonical fields."""

    name: str
    office: str | None = None
    encoding: str | None = None
    date_format: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # their header → canonical field
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field → their value → ours
    alias_separator: str = "|"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that was not stored, and why."""

    file: str
    line: int
    reason: str
    field: str | None = None

    def __str__(self) -> str:
        where = f" [{self.field}]" if self.field else ""
        return f"{self.file}:{self.line}: {self.reason}{where}"


def profile_names() -> list[str]:
    """Names of the shipped office profiles."""
    folder = resources.files("indexer.intake.profiles")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_profile(name_or_path: str) -> OfficeProfile:
    """A shipped profile by name (``cn-gd``) or a TOML file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.exists():
        text = path.read_text("utf-8")
        name = path.stem
    else:
        res = resources.files("indexer.intake.profiles").joinpath(f"{name_or_path.lower()}.toml")
        if not res.is_file():
            raise FileError(f"unknown profile {name_or_path!r}; shipped: {', '.join(profile_names())}")
        text = res.read_text("utf-8")
        name = name_or_path.lower()
    data = tomllib.loads(text)
    columns = {str(k): str(v) for k, v in data.get("columns", {}).items()}
    bad = sorted(set(columns.values()) - set(CANONICAL))
    if bad:
        raise FileError(f"profile {name}: unknown canonical field(s) {', '.join(bad)}")
    return OfficeProfile(
        name=name,
        office=data.get("office"),
        encoding=data.get("encoding"),
        date_format=data.get("date_format"),
        columns=columns,
        values={str(k): {str(a): str(b) for a, b in v.items()} for k, v in data.get("values", {}).items()},
        alias_separator=data.get("alias_separator", "|"),
    )


_FIXED = {"%d": r"(?P<d>\d{2})", "%m": r"(?P<m>\d{2})", "%Y": r"(?P<y>\d{4})"}


@lru_cache(maxsize=32)
def _zero_padded(fmt: str) -> re.Pattern[str] | None:
    """``fmt`` in its zero-padded form as a pattern, when it holds %d, %m and %Y once each and
    literal text besides (every shipped profile's format), else None."""
    parts = re.split(r"(%.)", fmt)
    if sorted(p for p in parts if p.startswith("%")) != ["%Y", "%d", "%m"]:
        return None
    return re.compile("".join(_FIXED.get(p) or re.escape(p) for p in parts))


def _date(raw: Any, fmt: str | None) -> str | None:
    if raw is None or not str(raw).strip():
        return None
    text = str(raw).strip()
    if fmt:
        # strptime took 1.3-1.7 s of the writing process of a 150,728-row load (py-spy, the
        # realistic HK file: two dates a row), the process every batch waits for; a zero-padded
        # date reads the same through the pattern, anything else as before.
        pattern = _zero_padded(fmt)
        found = pattern.fullmatch(text) if pattern is not None else None
        if found is not None:
            try:
                return date(int(found["y"]), int(found["m"]), int(found["d"])).isoformat()
            except ValueError:
                return clean_date(text)  # what strptime's failure led to
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            pass  # fall back to the general parser: offices mix formats
    return clean_date(text)


@dataclass(slots=True)
class Mapper:
    """A profile's header and value tables, made once for a file: merging them anew for every
    row, and stripping every header again, was two thirds of mapping a row (10 µs of the
    realistic million's rows, every one of which a reload reads)."""

    headers: dict[str, str]
    values: dict[str, dict[str, str]]
    targets: dict[Any, str | None] = field(default_factory=dict)  # a row's header → its field

    @classmethod
    def of(cls, prof: OfficeProfile) -> Mapper:
        return cls({**DEFAULT_HEADERS, **prof.columns}, {**DEFAULT_VALUES, **prof.values})

    def target(self, header: Any) -> str | None:
        try:
            return self.targets[header]
        except KeyError:
            found = self.targets[header] = self.headers.get(str(header).strip())
            return found


def to_record(
    row: dict[str, Any], prof: OfficeProfile, office: str | None, mapper: Mapper | None = None
) -> Record | tuple[str, str]:
    """Map one row; returns a Record or (reason, field) for a rejection."""
    mapper = mapper or Mapper.of(prof)
    canon: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for header, value in row.items():
        target = mapper.target(header)
        if isinstance(value, str):
            value = value.strip()
        if target is None:
            if value not in (None, ""):
                attributes[str(header)] = value
            continue
        if isinstance(value, str) and len(value) > MAX_FIELD:
            return (f"{target} is longer than {MAX_FIELD} characters", target)
        canon[target] = value
    for fld, table in mapper.values.items():
        if fld in canon and str(canon[fld]) in table:
            canon[fld] = table[str(canon[fld])]

    rec_office = office or prof.office or canon.get("office")
    if not rec_office:
        return ("no office: pass --office or map an office column", "office")
    rec_office = str(rec_office).strip().upper()
    if rec_office not in OFFICES:
        return (f"unknown office {rec_office!r}", "office")
    record_id = str(canon.get("record_id") or "").strip()
    if not record_id:
        return ("record_id is empty", "record_id")
    name = str(canon.get("name") or "").strip()
    if not name:
        return ("name is empty", "name")
    entity_type = str(canon.get("entity_type") or "person").strip().lower()
    if entity_type not in ENTITY_TYPES:
        return (f"entity_type must be person or company, not {entity_type!r}", "entity_type")
    try:
        birth = _date(canon.get("birth_date"), prof.date_format)
    except ValueError as exc:
        return (str(exc), "birth_date")
    try:
        case_date = _date(canon.get("case_date"), prof.date_format)
    except ValueError as exc:
        return (str(exc), "case_date")
    raw_gender = canon.get("gender")
    gender = clean_gender(str(raw_gender)) if raw_gender not in (None, "") else None
    if raw_gender not in (None, "") and gender is None:
        return (f"unknown gender {raw_gender!r}", "gender")
    aliases_raw = canon.get("aliases")
    if isinstance(aliases_raw, list):
        aliases = [str(a).strip() for a in aliases_raw if str(a).strip()]
    else:
        aliases = [a.strip() for a in str(aliases_raw or "").split(prof.alias_separator) if a.strip()]

    def opt(key: str) -> str | None:
        v = canon.get(key)
        return str(v).strip() if v not in (None, "") else None

    return Record(
        office=rec_office,
        record_id=record_id,
        entity_type=entity_type,
        name=name,
        aliases=aliases,
        id_number=opt("id_number"),
        birth_date=birth,
        gender=gender,
        phone=opt("phone"),
        address=opt("address"),
        case_id=opt("case_id"),
        case_date=case_date,
        offence=opt("offence"),
        attributes=attributes,
    )


def read_records(
    path: Path,
    office: str | None = None,
    profile: OfficeProfile | None = None,
    encoding: str | None = None,
    max_rows: int | None = None,
) -> Iterator[tuple[int, Record | Rejection]]:
    """Every row of a file as (line, Record) or (line, Rejection). Raises FileError if the file
    as a whole is unreadable. Checks that a name column exists before reading any row."""
    prof = profile or OfficeProfile(name="default")
    rows = read_rows(path, encoding, prof.encoding, max_rows)
    mapper = Mapper.of(prof)
    checked = False
    for line, row in rows:
        if isinstance(row, RowError):
            yield line, Rejection(str(path), line, row.reason)
            continue
        if not checked:
            mapped = {mapper.target(h) for h in row}
            missing = [f for f in ("record_id", "name") if f not in mapped]
            if missing:
                fits = profiles_matching([str(h) for h in row])
                hint = f"; the headers fit the shipped profile(s) {', '.join(fits)}: pass --profile" if fits else ""
                raise FileError(
                    f"missing required column(s): {', '.join(missing)} (headers: {', '.join(map(str, row))}){hint}"
                )
            checked = True
        result = to_record(row, prof, office, mapper)
        if isinstance(result, Record):
            yield line, result
        else:
            yield line, Rejection(str(path), line, result[0], result[1])


def profiles_matching(headers: list[str]) -> list[str]:
    """The shipped profiles under which these headers hold a record id and a name column."""
    out = []
    for name in profile_names():
        mapping = {**DEFAULT_HEADERS, **load_profile(name).columns}
        mapped = {mapping.get(h.strip()) for h in headers}
        if {"record_id", "name"} <= mapped:
            out.append(name)
    return out
