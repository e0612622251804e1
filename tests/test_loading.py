"""Loading every format and encoding; every rejection reason; idempotent reload; withdraw."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from indexer.intake.offices import OfficeProfile, load_profile, profile_names, read_records
from indexer.intake.readers import FileError, FileTooLarge, RowError, detect_encoding
from indexer.intake.workbooks import Engine, read_xlsx
from indexer.records import Record
from search.ingest import load_file
from search.settings import Settings
from search.storage.codec import unpack_postings
from search.storage.sqlite import SQLiteStore
from search.watching.factory import open_writable

HEADER = "record_id,entity_type,name,aliases,id_number,birth_date,gender\n"
ROWS = "r1,person,陳大文,CHAN Tai Man|Chen Dawen,A123456(3),1971-02-11,M\nr2,company,星輝貿易有限公司,,,,\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "big5hkscs"])
def test_csv_encodings_detected(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes((HEADER + ROWS).encode(encoding))
    rows = [item for _, item in read_records(path, "CN-HK")]
    assert all(isinstance(r, Record) for r in rows)
    first = rows[0]
    assert isinstance(first, Record)
    assert first.name == "陳大文" and first.aliases == ["CHAN Tai Man", "Chen Dawen"]
    assert first.gender == "male" and first.birth_date == "1971-02-11"


def test_big5_and_gb18030_told_apart() -> None:
    assert detect_encoding("陳大文,星輝貿易有限公司,廣州".encode("big5hkscs")) == "big5hkscs"
    assert detect_encoding("陈大文,星辉贸易有限公司,广州".encode("gb18030")) == "gb18030"


def test_forced_wrong_encoding_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes((HEADER + ROWS).encode("gb18030"))
    with pytest.raises(FileError):
        list(read_records(path, "CN-GD", encoding="ascii"))


def test_jsonl_with_alias_list(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    lines = [
        json.dumps(
            {"record_id": "1", "name": "陈大文", "aliases": ["CHAN Tai Man"], "extra": "kept"}, ensure_ascii=False
        ),
        "",
        "{not json",
        json.dumps([1, 2]),
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    items = list(read_records(path, "CN-GD"))
    rec = items[0][1]
    assert isinstance(rec, Record) and rec.aliases == ["CHAN Tai Man"] and rec.attributes == {"extra": "kept"}
    assert [line for line, _ in items] == [1, 3, 4]
    assert "invalid JSON" in str(items[1][1]) and "JSON object" in str(items[2][1])


def test_xlsx_first_sheet_with_header_and_formula_cells(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    book = openpyxl.Workbook()
    empty = book.active
    assert empty is not None
    empty.title = "notes"
    sheet = book.create_sheet("records")
    sheet.append(["record_id", "name", "birth_date"])
    sheet.append(["1", "陈大文", "1971-02-11"])
    sheet.append([2, '=CONCAT("a","b")', None])
    book.save(path)
    items = list(read_records(path, "CN-JX"))
    assert len(items) == 2
    assert isinstance(items[0][1], Record) and items[0][1].birth_date == "1971-02-11"
    assert items[1][0] == 3


REJECTIONS = [
    ("r1,person,,,,,", "name is empty", "name"),
    (",person,陈大文,,,,", "record_id is empty", "record_id"),
    ("r1,robot,陈大文,,,,", "entity_type must be person or company", "entity_type"),
    ("r1,person,陈大文,,,1971-13-45,", "month must be in 1..12", "birth_date"),
    ("r1,person,陈大文,,,yesterday,", "not a date", "birth_date"),
    ("r1,person,陈大文,,,,X", "unknown gender", "gender"),
    ("r1,person,陈大文,,,,,,,surplus", "fields, header has", None),
]


@pytest.mark.parametrize(("row", "reason", "field"), REJECTIONS)
def test_every_rejection_reason(tmp_path: Path, row: str, reason: str, field: str | None) -> None:
    path = tmp_path / "x.csv"
    path.write_text(HEADER + row + "\n", encoding="utf-8")
    [(line, item)] = list(read_records(path, "CN-GD"))
    assert not isinstance(item, Record)
    assert line == 2 and reason in item.reason and item.field == field
    assert str(path) in str(item)


def test_unknown_office_and_missing_office(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("office,record_id,name\nCN-XX,1,陈大文\n,2,陈大文\n", encoding="utf-8")
    reasons = [str(item) for _, item in read_records(path)]
    assert "unknown office 'CN-XX'" in reasons[0]
    assert "no office" in reasons[1]


def test_missing_required_columns_named(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(FileError, match=r"missing required column.*record_id, name"):
        list(read_records(path, "CN-GD"))


@pytest.mark.parametrize("content", [b"", b"\n\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(FileError):
        list(read_records(path, "CN-GD"))


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(FileError, match="unsupported file type"):
        list(read_records(tmp_path / "x.pdf"))
    with pytest.raises(FileError, match="no such file"):
        list(read_records(tmp_path / "missing.csv"))


def test_every_office_has_a_profile() -> None:
    assert len(profile_names()) == 11
    for name in profile_names():
        prof = load_profile(name)
        assert isinstance(prof, OfficeProfile) and prof.office == name.upper()


def test_sample_offices_load_completely(sample_files: dict[str, Path], loaded_store_path: Path) -> None:
    store = SQLiteStore(loaded_store_path)
    counts = store.counts()
    store.close()
    assert set(counts) == set(sample_files)
    assert sum(sum(c.values()) for c in counts.values()) >= 5000


def test_reload_is_idempotent_changed_row_replaces_withdraw(store: SQLiteStore, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    first = load_file(store, path, "CN-HK")
    assert (first.inserted, first.updated, first.unchanged, first.read) == (2, 0, 0, 2)
    keys_before = store.keys_of("CN-HK", "r1")
    again = load_file(store, path, "CN-HK")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert store.keys_of("CN-HK", "r1") == keys_before
    path.write_text(HEADER + ROWS.replace("1971-02-11", "1971-02-12"), encoding="utf-8")
    changed = load_file(store, path, "CN-HK")
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 1)
    assert store.get_many(["CN-HK:r1"])["CN-HK:r1"].birth_date == "1971-02-12"
    assert store.withdraw("CN-HK", "r1")
    assert not store.withdraw("CN-HK", "r1")
    assert store.get_many(["CN-HK:r1"]) == {}
    assert store.keys_of("CN-HK", "r1") == {}


def test_an_edit_rewrites_only_the_postings_that_changed(store: SQLiteStore, tmp_path: Path) -> None:
    """A changed row's postings are rewritten only where its keys changed (most edits leave the
    names alone); the key index still holds exactly each stored record's postings."""
    path = tmp_path / "x.csv"
    rows = ROWS + "r3,person,李小龍,,,,\nr4,person,陈大文,,,1971-02-11,\n"
    path.write_text(HEADER + rows, encoding="utf-8")
    load_file(store, path, "CN-HK")
    kept = {r: store.keys_of("CN-HK", r) for r in ("r1", "r3", "r4")}
    edited = rows.replace(",M\n", ",F\n").replace("李小龍", "李小虎").replace("1971-02-11,\n", "1972-03-04,\n")
    path.write_text(HEADER + edited, encoding="utf-8")
    report = load_file(store, path, "CN-HK")
    assert (report.inserted, report.updated, report.unchanged) == (0, 3, 1)
    after = {r: store.keys_of("CN-HK", r) for r in ("r1", "r3", "r4")}
    assert after["r1"] == kept["r1"]  # the gender changed: not a key
    assert after["r3"] and set(after["r3"]) != set(kept["r3"])  # renamed: keys of the new name only
    assert after["r4"] and set(after["r4"]) & set(kept["r4"]) and set(after["r4"]) != set(kept["r4"])
    with sqlite3.connect(store.path) as conn:
        index = set(conn.execute("SELECT h, rid, w FROM postings"))
        own = {
            (h, rid, w)
            for rid, blob in conn.execute("SELECT rid, postings FROM records")
            for h, w in unpack_postings(blob)
        }
    assert index == own


def test_duplicate_record_ids_last_wins_and_counts_reconcile(store: SQLiteStore, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    body = HEADER + "r1,person,陈大文,,,,\nr1,person,陈小文,,,,\n\nr2,person,,,,,\n"
    path.write_text(body, encoding="utf-8")
    report = load_file(store, path, "CN-GD")
    assert report.read == 3 and report.stored == 1 and len(report.rejected) == 2 and report.reconciled
    assert "superseded by line 3" in report.rejected[0].reason and report.rejected[0].line == 2
    assert store.get_many(["CN-GD:r1"])["CN-GD:r1"].name == "陈小文"


def test_duplicates_across_batches_reconcile(
    store: SQLiteStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import search.ingest

    monkeypatch.setattr(search.ingest, "BATCH", 2)
    path = tmp_path / "x.csv"
    path.write_text(
        HEADER + "a,person,陈大文,,,,\nb,person,李四,,,,\nc,person,王五,,,,\na,person,陈大武,,,,\n", encoding="utf-8"
    )
    report = load_file(store, path, "CN-GD")
    assert report.read == 4 and report.stored == 3 and len(report.rejected) == 1 and report.reconciled
    assert sum(sum(c.values()) for c in store.counts().values()) == 3


def test_xlsx_with_data_on_several_sheets_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "2024"
    first.append(["record_id", "name"])
    first.append(["1", "陈大文"])
    second = book.create_sheet("2025")
    second.append(["record_id", "name"])
    second.append(["2", "李四"])
    book.save(path)
    with pytest.raises(FileError, match=r"data on 2 sheets \('2024', '2025'\)"):
        list(read_records(path, "CN-JX"))


def test_xlsx_value_outside_the_header_rejects_its_row(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["record_id", "name"])
    sheet.append(["1", "陈大文"])
    sheet.append(["2", "李四", "stray note"])
    book.save(path)
    items = list(read_records(path, "CN-JX"))
    assert isinstance(items[0][1], Record)
    assert items[1][0] == 3 and "column C, which has no header" in str(items[1][1])


def _offset_workbook(path: Path) -> None:
    """Data from B3, blank rows and cells, numbers, dates, a time, a bool, a formula without a
    cached value, a stray cell, a second sheet that is empty."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for col, value in zip("BCDE", ["record_id", "name", "birth_date", "note"], strict=True):
        sheet[f"{col}3"] = value
    sheet["B4"], sheet["C4"], sheet["D4"], sheet["E4"] = 1, "陈大文", dt.date(1971, 2, 11), 2.5
    sheet["B6"], sheet["C6"], sheet["D6"], sheet["E6"] = "x", True, dt.datetime(2020, 1, 2, 3, 4), dt.time(3, 4)
    sheet["B7"], sheet["C7"], sheet["D7"] = 12345678901234, '=CONCAT("a","b")', "  "
    sheet["B8"], sheet["C8"], sheet["F8"] = 1e20, -0.0, "stray"
    sheet["B9"], sheet["C9"] = "r9", "CHAN Tai Man"
    book.create_sheet("empty")
    book.save(path)


def test_both_workbook_readers_give_the_same_rows(tmp_path: Path) -> None:
    # calamine reads workbooks up to 256 MB unpacked, openpyxl the larger ones: one behaviour.
    offset, plain = tmp_path / "offset.xlsx", tmp_path / "plain.xlsx"
    _offset_workbook(offset)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["record_id", "name", "birth_date"])
    for i in range(300):
        sheet.append([f"r{i}", "陳大文" if i % 2 else "Chan Tai Man", dt.date(1970, 1, 1) + dt.timedelta(days=i)])
    book.save(plain)
    for path in (offset, plain):
        by_calamine = list(read_xlsx(path, engine="calamine"))
        assert by_calamine == list(read_xlsx(path, engine="openpyxl"))
        assert list(read_xlsx(path)) == by_calamine  # small: calamine chosen
    rows = dict(read_xlsx(offset))
    assert rows[4] == {"record_id": "1", "name": "陈大文", "birth_date": "1971-02-11", "note": "2.5"}
    assert rows[6] == {"record_id": "x", "name": "True", "birth_date": "2020-01-02", "note": "03:04:00"}
    assert rows[7] == {"record_id": "12345678901234", "name": "", "birth_date": "", "note": ""}
    assert rows[8] == RowError("a value in column F, which has no header")
    assert rows[9] == {"record_id": "r9", "name": "CHAN Tai Man", "birth_date": "", "note": ""}
    assert set(rows) == {4, 6, 7, 8, 9}


@pytest.mark.parametrize("engine", ["calamine", "openpyxl"])
def test_a_workbook_over_the_row_limit_is_refused_before_its_rows(tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "x.xlsx"
    _offset_workbook(path)
    with pytest.raises(FileTooLarge, match=r"the sheet (has|declares) [0-9]+ rows; at most 3"):
        next(read_xlsx(path, max_rows=3, engine=engine))
    assert len(list(read_xlsx(path, max_rows=9, engine=engine))) == 5


def test_truncated_file_blank_repeated_lines_and_huge_cells_reconcile(store: SQLiteStore, tmp_path: Path) -> None:
    """A file cut off inside a character, blank and repeated lines, and a 1 MB cell: every line is
    stored or rejected with its line number — read = stored + rejected."""
    path = tmp_path / "x.csv"
    body = HEADER + "a,person,陈大文,,,1971-02-11,\n\na,person,陈大文,,,1971-02-11,\n"
    body += "c,person," + "张" * 1_000_000 + ",,,,\n" + "d,person,王五,,,,\ne,person,赵六"
    path.write_bytes(body.encode("utf-8")[:-2])  # the file ends inside 六
    report = load_file(store, path, "CN-GD")
    assert report.reconciled, report.to_dict()
    assert (report.read, report.stored) == (5, 2)
    reasons = {r.line: r.reason for r in report.rejected}
    assert "superseded by line 4" in reasons[2]  # the repeated row: last wins, reported
    assert 5 in reasons  # the 1 MB name, refused on its line
    assert "truncated" in reasons[7]
    stored = store.get_many(["CN-GD:a", "CN-GD:d", "CN-GD:c", "CN-GD:e"])
    assert set(stored) == {"CN-GD:a", "CN-GD:d"}


def test_mixed_encodings_are_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    utf8 = (HEADER + "a,person,陈大文,,,,\nb,person,李四,,,,\n").encode("utf-8")
    path.write_bytes(utf8 + "c,person,陳大文,,,,\n".encode("big5") + "d,person,王五,,,,\n".encode("gb18030"))
    with pytest.raises(FileError, match=r"line 4 is the first that is not UTF-8"):
        list(read_records(path, "CN-GD"))


def test_a_load_through_the_watching_writer_keeps_the_backends_batch_size(tmp_path: Path) -> None:
    # Every writer opens the store watched (search/watching/factory.py). SQLite writes 20,000
    # records a transaction into a store that holds records; the wrapper once kept its own copy
    # of 2,000, and the 1 M realistic load took 443.8 s instead of 282.1 s.
    path = tmp_path / "x.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    store = open_writable(Settings(store=tmp_path / "s.db"))
    try:
        with store.bulk():
            assert store.write_batch == 2000  # an empty store: bulk mode stages its postings
        load_file(store, path, "CN-HK")
        with store.bulk():
            assert store.write_batch == 20_000
        assert store.write_batch == 2000
    finally:
        store.close()


OFFICE_DATES = [
    ("11/02/1971", "1971-02-11"),
    ("1/2/1971", "1971-02-01"),
    ("01/2/1971", "1971-02-01"),
    ("29/02/2000", "2000-02-29"),
    ("1971-02-11", "1971-02-11"),  # offices mix formats: the general parser reads the rest
    ("1971年2月11日", "1971-02-11"),
    ("31/02/1971", "not a date: '31/02/1971'"),
    ("29/02/1900", "not a date: '29/02/1900'"),
    ("11/02/71", "not a date: '11/02/71'"),
    ("11/02/1971x", "not a date: '11/02/1971x'"),
]


def test_an_office_date_format_reads_padded_unpadded_and_other_dates(tmp_path: Path) -> None:
    # The HK profile's DD/MM/YYYY: a zero-padded date takes a fast path, the rest strptime and
    # then the general parser, as before it.
    path = tmp_path / "hk.csv"
    rows = "".join(f"r{i},P,CHAN Tai Man,{raw}\n" for i, (raw, _) in enumerate(OFFICE_DATES))
    path.write_text("Ref No,Type,English Name,Date of Birth\n" + rows, encoding="utf-8")
    got = [
        item.birth_date if isinstance(item, Record) else item.reason
        for _, item in read_records(path, None, load_profile("cn-hk"))
    ]
    assert got == [want for _, want in OFFICE_DATES]
