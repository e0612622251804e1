"""XLSX workbooks → rows: the one sheet with data, its header, every other row by its number.

Two readers, one behaviour. calamine (Rust, ``python-calamine``) reads an office export about 8 times
faster than openpyxl (an 81,774-row sheet through this module: 1.2–1.5 s against 10.8 s; the sheet
parse alone 0.79 s against 12.2 s; three such files are in each 1 M-record load of bench/realistic.py) but holds the whole sheet in memory (92 MB for that
52 MB sheet). So a workbook that unpacks to at most :data:`CALAMINE_UP_TO_BYTES` is read by
calamine, and a larger one streams through openpyxl row by row, where the row limits stop it
early. ``tests/test_loading.py`` reads the same workbooks both ways and compares every row.
One difference is known and left: an error cell (``#N/A``) is empty to calamine, text to openpyxl.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal

from python_calamine import CalamineWorkbook, SheetTypeEnum

from indexer.intake.errors import FileError, FileTooLarge, Row, RowError

# An XLSX is a zip: a sheet of 10 M one-cell rows packs into 1.4 MB (issue #18). Measured here:
# the sample offices' workbooks unpack 7.7:1, an openpyxl sheet of 200,000 two-column rows
# 12.6:1, of 1 M one-letter rows 14:1; a crafted sheet (tests/test_upload_limits.py) 340:1.
# Refuse above this ratio before a byte of XML is parsed.
XLSX_MAX_UNPACK_RATIO = 100
# Below this the ratio is not checked: a tiny workbook of empty styles unpacks far more than 100 x.
XLSX_RATIO_FROM_BYTES = 20_000_000
# Workbooks up to this unpacked size are read by calamine (about 400,000 office rows, ~700 MB of
# memory at the 92:52 measured above); larger ones by openpyxl, streaming.
CALAMINE_UP_TO_BYTES = 256_000_000

Value = str | int | float | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None
Engine = Literal["calamine", "openpyxl"]


def unpacked_size(path: Path) -> int:
    """The workbook's unpacked size; refused (:class:`FileTooLarge`) when it is far beyond its
    packed size. The sizes are the zip directory's; zipfile never inflates a member past its
    declared size (it stops there), so a lying directory only truncates the sheet, which the
    reader then refuses."""
    try:
        with zipfile.ZipFile(path) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileError(f"not a readable XLSX workbook: {exc.__class__.__name__}") from exc
    packed = max(path.stat().st_size, 1)
    if unpacked > XLSX_RATIO_FROM_BYTES and unpacked > XLSX_MAX_UNPACK_RATIO * packed:
        raise FileTooLarge(
            f"the workbook unpacks to {unpacked:,} bytes from {packed:,} ({unpacked // packed}:1; "
            f"at most {XLSX_MAX_UNPACK_RATIO}:1): save it as CSV"
        )
    return unpacked


def read_xlsx(
    path: Path, encoding: str | None = None, max_rows: int | None = None, engine: Engine | None = None
) -> Iterator[tuple[int, Row | RowError]]:
    """The one sheet that has data; formula cells give their cached values. A workbook with data
    on several sheets is refused (naming them) rather than read in part: rows on a second sheet
    would otherwise be lost without a word. A cell beyond the header's columns rejects its row.
    ``engine`` ("calamine" or "openpyxl") overrides the choice by size (for the tests)."""
    unpacked = unpacked_size(path)
    if engine is None:
        engine = "calamine" if unpacked <= CALAMINE_UP_TO_BYTES else "openpyxl"
    sheet = _calamine_rows(path, max_rows) if engine == "calamine" else _openpyxl_rows(path, max_rows)
    yield from _records(sheet)


def _records(sheet: Iterable[Sequence[Value]]) -> Iterator[tuple[int, Row | RowError]]:
    header: list[str] | None = None
    for number, values in enumerate(sheet, start=1):
        # A blank cell is "" whichever reader: calamine drops a text of spaces only, openpyxl keeps it.
        cells = ["" if v is None or (isinstance(v, str) and not v.strip()) else v for v in values]
        if all(c == "" for c in cells):
            continue
        if header is None:
            header = [str(c).strip() for c in cells]
            continue
        stray = [i for i, c in enumerate(cells) if c != "" and (i >= len(header) or not header[i])]
        if stray:
            yield number, RowError(f"a value in column {column_letter(stray[0] + 1)}, which has no header")
            continue
        yield number, {h: _cell(c) for h, c in zip(header, cells, strict=False) if h}


def _calamine_rows(path: Path, max_rows: int | None) -> Iterator[Sequence[Value]]:
    try:
        book = CalamineWorkbook.from_path(str(path))
        worksheets = [m.name for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        sheets = [book.get_sheet_by_name(name) for name in worksheets]
    except Exception as exc:  # calamine raises its own error types for a non-XLSX file
        raise FileError(f"not a readable XLSX workbook: {exc.__class__.__name__}") from exc
    try:
        used = [sheet for sheet in sheets if _has_data(sheet.iter_rows())]
        _one_sheet([sheet.name for sheet in used])
        sheet = used[0]
        if max_rows is not None and sheet.height > max_rows + 1:
            raise FileTooLarge(f"the sheet has {sheet.height:,} rows; at most {max_rows:,}")
        # Rows come from row 1, columns from the first one used: put back the empty ones before.
        before = [""] * (sheet.start[1] if sheet.start else 0)
        for values in sheet.iter_rows():
            yield [*before, *values] if before else values
    finally:
        book.close()


def _openpyxl_rows(path: Path, max_rows: int | None) -> Iterator[Sequence[Value]]:
    # openpyxl costs ~110 ms to import (python -X importtime); only the largest workbooks need it.
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a non-XLSX file
        raise FileError(f"not a readable XLSX workbook: {exc.__class__.__name__}") from exc
    try:
        used = [sheet for sheet in book.worksheets if _has_data(map(_plain, sheet.iter_rows(values_only=True)))]
        _one_sheet([sheet.title for sheet in used])
        declared = used[0].max_row  # the sheet's <dimension>, read before any row
        if max_rows is not None and declared is not None and declared > max_rows + 1:
            raise FileTooLarge(f"the sheet declares {declared:,} rows; at most {max_rows:,}")
        yield from map(_plain, used[0].iter_rows(values_only=True))
    finally:
        book.close()


def _plain(values: tuple[object, ...]) -> list[Value]:
    """openpyxl's cell values as calamine's kinds: anything else (a Decimal, rich text) as its text."""
    return [v if v is None or isinstance(v, _KINDS) else str(v) for v in values]


_KINDS = (str, int, float, bool, dt.date, dt.time, dt.timedelta)


def _one_sheet(names: list[str]) -> None:
    if not names:
        raise FileError("no sheet with a header row")
    if len(names) > 1:
        listed = ", ".join(repr(name) for name in names)
        raise FileError(f"data on {len(names)} sheets ({listed}): put the records on one sheet")


def column_letter(n: int) -> str:
    """Spreadsheet column name of the 1-based column ``n`` (1 → A, 27 → AA)."""
    out = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def _has_data(rows: Iterable[Sequence[Value]]) -> bool:
    return any(any(v is not None and str(v).strip() for v in row) for row in rows)


def _cell(value: Value) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)
