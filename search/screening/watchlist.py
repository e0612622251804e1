"""Watchlist screening: rows in, one result per row out, in input order, streamed.

A watchlist is CSV, XLSX or JSONL with the columns ``query_id``, ``name``, ``entity_type``,
``id_number``, ``birth_date`` (only ``name`` is required; Chinese headers 姓名/名称, 证件号码, 出生日期
also work). A row that cannot be checked is not dropped: its output line carries ``error`` with the
line number and reason.

CSV output has one row per match plus one row per unseen (or rejected) query, in the column order
:data:`CSV_COLUMNS`. Cells starting with ``= + - @`` (or tab / carriage return) are prefixed with
an apostrophe so a spreadsheet never evaluates them (OWASP CSV injection).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer.intake.readers import FileError, Row, RowError, read_rows
from search.matching.query import Query

WATCHLIST_HEADERS: dict[str, str] = {
    "query_id": "query_id",
    "id": "query_id",
    "编号": "query_id",
    "name": "name",
    "姓名": "name",
    "名称": "name",
    "entity_type": "entity_type",
    "type": "entity_type",
    "类型": "entity_type",
    "id_number": "id_number",
    "证件号码": "id_number",
    "birth_date": "birth_date",
    "dob": "birth_date",
    "出生日期": "birth_date",
    "gender": "gender",
    "性别": "gender",
}
# A blank type is "not given": the core searches it as a company or as both (see query_profiles).
ENTITY_VALUES: dict[str, str | None] = {
    "person": "person",
    "company": "company",
    "个人": "person",
    "企业": "company",
    "公司": "company",
    "": None,
}

# The query's own birth date, ID and gender beside each match's, and the distinct entity each match
# belongs to, so that namesakes can be told apart in a spreadsheet (issue #15).
CSV_COLUMNS = (
    "query_id",
    "line",
    "query_name",
    "query_birth_date",
    "query_id_number",
    "query_gender",
    "seen",
    "verdict",
    "rank",
    "entity",
    "score",
    "office",
    "record_id",
    "entity_type",
    "matched_name",
    "matched_birth_date",
    "matched_id_number",
    "matched_gender",
    "explanation",
    "doubt",
    "error",
)


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    query_id: str | None
    reason: str


# One watchlist row as read: (line, query) or (line, a row that cannot be checked).
Item = tuple[int, Query | BadRow]
Rows = list[Item]
# Results of some rows: (line, query name, result dict) per row, in input order.
Output = list[tuple[int, str, dict[str, Any]]]


def read_watchlist(path: Path, max_name_length: int | None = None, max_rows: int | None = None) -> Iterator[Item]:
    """Watchlist rows as queries (or bad rows), in file order; query_id defaults to the line.
    Past ``max_rows`` rows, :class:`~indexer.intake.readers.FileTooLarge` (counted as read)."""
    return watchlist_items(read_rows(path, max_rows=max_rows), max_name_length)


def watchlist_items(rows: Iterable[tuple[int, Row | RowError]], max_name_length: int | None = None) -> Iterator[Item]:
    """Rows (from a file or a JSON request) as queries or bad rows; ``name`` is the one required column."""
    checked = False
    for line, row in rows:
        if isinstance(row, RowError):
            yield line, BadRow(line, None, row.reason)
            continue
        canon = {
            WATCHLIST_HEADERS[h.strip().lower()]: v for h, v in row.items() if h.strip().lower() in WATCHLIST_HEADERS
        }
        if not checked:
            if "name" not in canon:
                raise FileError(f"missing required column: name (headers: {', '.join(map(str, row))})")
            checked = True
        qid = str(canon.get("query_id") or "").strip() or str(line)
        name = str(canon.get("name") or "").strip()
        if not name:
            yield line, BadRow(line, qid, "name is empty")
            continue
        if max_name_length is not None and len(name) > max_name_length:
            yield line, BadRow(line, qid, f"name is {len(name)} characters; at most {max_name_length}")
            continue
        raw_type = str(canon.get("entity_type") or "").strip().lower()
        etype = ENTITY_VALUES.get(raw_type)
        if raw_type not in ENTITY_VALUES:
            yield line, BadRow(line, qid, f"entity_type must be person or company, not {canon.get('entity_type')!r}")
            continue

        yield line, Query(name, etype, qid, _opt(canon, "id_number"), _opt(canon, "birth_date"), _opt(canon, "gender"))


def _opt(row: dict[str, Any], key: str) -> str | None:
    v = row.get(key)
    return str(v).strip() if v not in (None, "") else None


def jsonl_line(result: dict[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False) + "\n"


def safe_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will show, not evaluate."""
    text = "" if value is None else str(value)
    if text and text[0] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def csv_rows(line: int, query_name: str, result: dict[str, Any]) -> list[list[str]]:
    """Rows of the CSV output for one query's result (or error): one per match (verdict
    "match"), one per record worth a look (verdict "possible", with its doubt), or a single row
    saying "false" (not seen) or "rejected" (the row could not be checked, with the reason)."""
    q = result.get("query") or {}
    base = [result.get("query_id"), line, query_name, q.get("birth_date"), q.get("id_number"), q.get("gender")]
    blank = [""] * (len(CSV_COLUMNS) - len(base) - 2)
    if result.get("error"):
        return [[safe_cell(v) for v in [*base, "rejected", *blank, result["error"]]]]
    matches = result.get("matches") or []
    possible = result.get("possible") or []
    if not matches and not possible:
        return [[safe_cell(v) for v in [*base, "false", *blank, ""]]]
    entity_of = {i: e["entity"] for e in result.get("entities") or [] for i in e["matches"]}
    seen = "true" if matches else "false"
    out = []
    ranked = [(m, "match", entity_of.get(i, "")) for i, m in enumerate(matches)]
    ranked += [(m, "possible", "") for m in possible]
    for rank, (m, verdict, entity) in enumerate(ranked, start=1):
        why = "; ".join(f["detail"] for f in m["explanation"])
        row = [
            *base, seen, verdict, rank, entity, m["score"], m["office"], m["record_id"], m["entity_type"],
            m["name"], m.get("birth_date"), m.get("id_number"), m.get("gender"), why, m.get("doubt") or "", "",
        ]  # fmt: skip
        out.append([safe_cell(v) for v in row])
    return out


def csv_header() -> str:
    buf = io.StringIO()
    csv.writer(buf).writerow(CSV_COLUMNS)
    return buf.getvalue()


def csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue()
