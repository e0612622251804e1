"""File readers: CSV (any of UTF-8, UTF-8 with BOM, GB18030, Big5), JSONL and XLSX → rows.

Each reader yields ``(line, row)`` where ``line`` is the 1-based line (CSV, JSONL) or spreadsheet
row number, and ``row`` a dict of header → value. Unreadable input raises :class:`FileError`
with a one-line reason; a bad *row* is yielded as ``(line, RowError)`` so the loader can reject it
and carry on.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from charset_normalizer import from_bytes

from indexer.intake.errors import FileError, FileTooLarge, Row, RowError
from indexer.intake.workbooks import read_xlsx

__all__ = ["FileError", "FileTooLarge", "Row", "RowError", "check_row_count", "detect_encoding", "read_rows"]

# Encodings tried in order when none is forced. GB18030 is a superset of GBK/GB2312; Big5-HKSCS of
# Big5. UTF-8 first: a valid UTF-8 file is almost never valid in the others by accident.
CANDIDATE_ENCODINGS = ("utf-8-sig", "gb18030", "big5hkscs")


def detect_encoding(data: bytes) -> str:
    """The first candidate encoding that decodes the whole file; charset-normalizer decides
    between GB18030 and Big5 when both decode (their byte ranges overlap). UTF-8 cut off inside
    its last character still counts as UTF-8 (a truncated export); a file that is none of them
    throughout is refused, naming its first line that is not UTF-8 (mixed encodings)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError as exc:
        if exc.end >= len(data) - 3 and exc.reason == "unexpected end of data":
            return "utf-8-sig"  # UTF-8 cut off inside its last character: a truncated file
        utf8_until = exc.start
    decodable = []
    for enc in CANDIDATE_ENCODINGS[1:]:
        try:
            data.decode(enc)
            decodable.append(enc)
        except UnicodeDecodeError:
            continue
    if len(decodable) == 1:
        return decodable[0]
    if decodable:
        best = from_bytes(data[:200_000], cp_isolation=["gb18030", "big5", "big5hkscs"]).best()
        if best is not None and best.encoding.replace("_", "").startswith("big5"):
            return "big5hkscs"
        return "gb18030"
    line = data[:utf8_until].count(b"\n") + 1
    raise FileError(
        f"cannot decode as UTF-8, GB18030 or Big5 (line {line} is the first that is not UTF-8; "
        "mixed encodings?): re-save the file as UTF-8 or pass --encoding"
    )


def _choose(data: bytes, fallback: str | None) -> str:
    """Valid UTF-8 (with or without BOM) is read as UTF-8; otherwise an office profile's encoding
    is tried before detection. A profile's encoding is a fallback for bytes that are not UTF-8,
    never a reason to refuse good UTF-8 or a file detection reads cleanly (issue #15: a UTF-8
    CN-HK.csv and a GB18030 Guangdong export were refused whole)."""
    if fallback is None:
        return detect_encoding(data)
    try:
        data.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    try:
        data.decode(fallback)
        return fallback
    except (UnicodeDecodeError, LookupError):
        return detect_encoding(data)


def _first_decode_error(path: Path, encoding: str) -> UnicodeDecodeError | None:
    """The first error decoding the file as ``encoding``, read 1 MiB at a time (a 50 MB upload
    was held as bytes, then as text, then as a StringIO copy: issue #18)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    with path.open("rb") as fh:
        try:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return exc
    return None


def _text_encoding(path: Path, encoding: str | None, fallback: str | None = None) -> tuple[str, str]:
    """(encoding, errors) to open the file with, checked over the whole file before any row is
    read. ``encoding`` is what the user named (strict); ``fallback`` what a profile suggests."""
    if encoding is not None:
        try:
            error = _first_decode_error(path, encoding)
        except LookupError as exc:
            raise FileError(f"cannot decode as {encoding}: {exc}") from exc
        if error is not None:
            raise FileError(f"cannot decode as {encoding}: {error}")
        return encoding, "strict"
    utf8 = _first_decode_error(path, "utf-8-sig")
    if utf8 is None:
        return "utf-8-sig", "strict"
    if utf8.reason == "unexpected end of data":
        # Cut off inside its last character (see detect_encoding): the row holding U+FFFD is
        # then rejected, not stored half-read.
        return "utf-8-sig", "replace"
    # Not UTF-8: the GB18030 / Big5 detection needs the bytes (these exports are the small ones).
    enc = _choose(path.read_bytes(), fallback)
    return enc, "replace" if enc == "utf-8-sig" else "strict"


# The csv module refuses fields over 128 KiB with an exception; the loader's own limit
# (indexer/loading.py MAX_FIELD) rejects an over-long cell on its line instead.
csv.field_size_limit(1 << 30)


def read_csv(
    path: Path, encoding: str | None = None, fallback: str | None = None
) -> Iterator[tuple[int, Row | RowError]]:
    enc, errors = _text_encoding(path, encoding, fallback)
    with path.open(encoding=enc, errors=errors, newline="") as stream:
        yield from _csv_rows(stream)


def _csv_rows(stream: Iterable[str]) -> Iterator[tuple[int, Row | RowError]]:
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise FileError("empty file: no header row") from None
    header = [h.strip().lstrip("\ufeff") for h in header]
    if not any(header):
        raise FileError("the first line is not a header row")
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a NUL byte: report the row, keep reading
            yield reader.line_num, RowError(f"unreadable CSV row: {exc}")
            continue
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue  # blank line: not a row
        if any("\ufffd" in f for f in fields):
            yield line, RowError("undecodable bytes (is the file truncated?)")
            continue
        if len(fields) > len(header):
            extra = fields[len(header) :]
            if any(e.strip() for e in extra):
                yield line, RowError(f"{len(fields)} fields, header has {len(header)}")
                continue
        yield line, dict(zip(header, fields, strict=False))


def read_jsonl(
    path: Path, encoding: str | None = None, fallback: str | None = None
) -> Iterator[tuple[int, Row | RowError]]:
    enc, errors = _text_encoding(path, encoding, fallback)
    with path.open(encoding=enc, errors=errors) as stream:
        yield from _jsonl_rows(stream)


def _jsonl_rows(stream: Iterable[str]) -> Iterator[tuple[int, Row | RowError]]:
    for line, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield line, RowError(f"invalid JSON: {exc.msg}")
            continue
        if not isinstance(obj, dict):
            yield line, RowError("a JSONL line must be a JSON object")
            continue
        yield line, obj


def read_rows(
    path: Path, encoding: str | None = None, fallback: str | None = None, max_rows: int | None = None
) -> Iterator[tuple[int, Row | RowError]]:
    """Rows of a CSV, JSONL or XLSX file, chosen by extension. ``encoding`` is obeyed strictly;
    ``fallback`` (an office profile's) is used only for bytes that are not UTF-8. With
    ``max_rows``, :class:`FileTooLarge` is raised on reaching row ``max_rows + 1``: the rows are
    counted as they stream, never all held first."""
    if not path.exists():
        raise FileError("no such file")
    suffix = path.suffix.lower()
    rows: Iterator[tuple[int, Row | RowError]]
    if suffix in (".csv", ".txt", ".tsv"):
        rows = read_csv(path, encoding, fallback)
    elif suffix in (".jsonl", ".ndjson", ".json"):
        rows = read_jsonl(path, encoding, fallback)
    elif suffix in (".xlsx", ".xlsm"):
        rows = read_xlsx(path, max_rows=max_rows)
    else:
        raise FileError(f"unsupported file type {suffix or '(none)'}: use .csv, .jsonl or .xlsx")
    return rows if max_rows is None else _at_most(rows, max_rows)


def _at_most(rows: Iterator[tuple[int, Row | RowError]], max_rows: int) -> Iterator[tuple[int, Row | RowError]]:
    for count, item in enumerate(rows, start=1):
        if count > max_rows:
            raise FileTooLarge(f"more than {max_rows:,} rows (line {item[0]}); at most {max_rows:,}")
        yield item


def check_row_count(path: Path, max_rows: int) -> None:
    """Raise :class:`FileTooLarge` for a file of more than ``max_rows`` rows, before a loader
    stores any of it. Text files: a file with no more line breaks than ``max_rows`` passes without
    parsing; otherwise its rows are counted. XLSX needs nothing here: :func:`read_xlsx` checks the
    unpack ratio and the declared dimension before its first row (opening the workbook here too
    did both twice); a sheet whose dimension lies is stopped by the streaming count."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return
    with path.open("rb") as fh:
        breaks = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    if breaks > max_rows:
        for _ in read_rows(path, max_rows=max_rows):
            pass
