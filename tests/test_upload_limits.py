"""Uploads are bounded while they are read, never after (issue #18's red-team findings).

A 50 MB watchlist of one-letter lines was parsed whole (6.5 GB) before its 413; a 1.4 MB XLSX
of 10 M rows took 3.5 GB; 50 MB of JSON rows 4.7 GB; a 310 KB workbook of 1 M duplicate rows
gave a 122 MB load report. Each is reproduced here, at a smaller scale with smaller limits,
through the server on loopback, on both backends.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest

from search.settings import Settings
from tests.backends import Backend, make_tokens
from tests.conftest import Server

MAX_SCREENING_ROWS = 100
MAX_UPLOAD_ROWS = 5000


@pytest.fixture(scope="module")
def small(
    backend: Backend, loaded: Settings, sample_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    settings = backend.copy(
        loaded,
        sample_files,
        tmp_path_factory.mktemp("limits"),
        max_screening_rows=MAX_SCREENING_ROWS,
        max_upload_rows=MAX_UPLOAD_ROWS,
        max_body_bytes=20_000,
    )
    tokens = make_tokens(settings)
    with Server(settings) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        yield client, tokens


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def xlsx_bomb(rows: int) -> bytes:
    """A minimal valid workbook whose one sheet repeats a one-cell row: it packs about 340:1, as
    a crafted zip bomb does (openpyxl writes the same rows at about 14:1)."""
    ns = "http://schemas.openxmlformats.org/"
    parts = {
        "[Content_Types].xml": f'<Types xmlns="{ns}package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        f'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" '
        f'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{ns}package/2006/relationships"><Relationship Id="rId1" '
        f'Type="{ns}officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{ns}spreadsheetml/2006/main" '
        f'xmlns:r="{ns}officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
        f"</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{ns}package/2006/relationships"><Relationship '
        f'Id="rId1" Type="{ns}officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        f"</Relationships>",
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{ns}spreadsheetml/2006/main"><sheetData>'
        '<row><c t="inlineStr"><is><t>record_id</t></is></c><c t="inlineStr"><is><t>name</t></is></c></row>'
        + '<row><c t="inlineStr"><is><t>1</t></is></c><c t="inlineStr"><is><t>a</t></is></c></row>' * rows
        + "</sheetData></worksheet>",
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
    return buf.getvalue()


def test_watchlist_rows_are_counted_while_streaming(small: tuple[httpx.Client, dict[str, str]]) -> None:
    client, tokens = small
    body = ("name\n" + "a\n" * 200_000).encode()
    r = client.post("/screenings", files={"file": ("w.csv", body)}, headers=_auth(tokens["analyst"]))
    assert r.status_code == 413, r.text
    err = r.json()["error"]
    # It stopped at the first row past the limit (the old check counted all 200,000 first).
    assert err["field"] == "file" and f"more than {MAX_SCREENING_ROWS} rows (line 102)" in err["message"]
    just = ("name\n" + "a\n" * MAX_SCREENING_ROWS).encode()
    ok = client.post("/screenings", files={"file": ("w.csv", just)}, headers=_auth(tokens["analyst"]))
    assert ok.status_code == 202, ok.text


def test_a_workbook_declaring_too_many_rows_is_refused_before_its_rows(
    small: tuple[httpx.Client, dict[str, str]],
) -> None:
    client, tokens = small
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name"])
    for _ in range(MAX_SCREENING_ROWS + 50):
        sheet.append(["陈大文"])
    buf = io.BytesIO()
    book.save(buf)
    r = client.post("/screenings", files={"file": ("w.xlsx", buf.getvalue())}, headers=_auth(tokens["analyst"]))
    assert r.status_code == 413 and f"the sheet has {MAX_SCREENING_ROWS + 51} rows" in r.json()["error"]["message"]


def test_a_zip_bomb_is_refused_before_it_is_unpacked(small: tuple[httpx.Client, dict[str, str]]) -> None:
    client, tokens = small
    bomb = xlsx_bomb(400_000)
    assert len(bomb) < 200_000
    for path, token in (("/screenings", "analyst"), ("/offices/CN-GD/records", "office-admin")):
        r = client.post(path, files={"file": ("bomb.xlsx", bomb)}, headers=_auth(tokens[token]))
        assert r.status_code == 413, r.text
        assert "unpacks to" in r.json()["error"]["message"] and "at most 100:1" in r.json()["error"]["message"]
    trail = client.get("/audit", params={"action": "load.refused"}, headers=_auth(tokens["auditor"])).json()
    assert any("unpacks to" in e["detail"].get("error", "") for e in trail)


def test_json_rows_keep_the_ordinary_body_limit(small: tuple[httpx.Client, dict[str, str]]) -> None:
    client, tokens = small
    rows = [{"name": "陈大文"}] * 2000  # ~40 KB of JSON, over max_body_bytes (20 KB)
    r = client.post("/screenings", json={"rows": rows}, headers=_auth(tokens["analyst"]))
    assert r.status_code == 413 and r.json()["error"]["field"] == "body"
    few = client.post("/screenings", json={"rows": rows[:10]}, headers=_auth(tokens["analyst"]))
    assert few.status_code == 202, few.text


def test_an_office_export_over_the_row_limit_stores_nothing(small: tuple[httpx.Client, dict[str, str]]) -> None:
    client, tokens = small
    body = "record_id,name\n" + "".join(f"big-{i},陈大文\n" for i in range(MAX_UPLOAD_ROWS + 1))
    r = client.post(
        "/offices/CN-GD/records", files={"file": ("x.csv", body.encode())}, headers=_auth(tokens["office-admin"])
    )
    assert r.status_code == 413 and r.json()["error"]["field"] == "file", r.text
    for rid in ("big-0", f"big-{MAX_UPLOAD_ROWS}"):
        assert client.get(f"/records/CN-GD/{rid}", headers=_auth(tokens["investigator"])).status_code == 404


def test_a_load_report_summarises_its_rejections(small: tuple[httpx.Client, dict[str, str]]) -> None:
    """2,000 rows of one record id: 1,999 superseded. The JSON names the first 100 and counts the
    rest; the CSV form (Accept: text/csv) lists every one, read back from the spill file."""
    client, tokens = small
    body = ("record_id,name\n" + "dup-1,陈大文\n" * 2000).encode()
    admin = _auth(tokens["office-admin"])
    r = client.post("/offices/CN-GD/records", files={"file": ("dup.csv", body)}, headers=admin)
    out = r.json()
    assert r.status_code == 200 and (out["read"], out["stored"], out["rejected"]) == (2000, 1, 1999)
    assert len(out["rejections"]) == 100 and out["rejections_truncated"] is True
    assert len(r.content) < 30_000
    full = client.post(
        "/offices/CN-GD/records", files={"file": ("dup.csv", body)}, headers={**admin, "Accept": "text/csv"}
    )
    assert full.status_code == 200 and full.headers["content-type"].startswith("text/csv")
    assert (full.headers["X-Load-Read"], full.headers["X-Load-Rejected"]) == ("2000", "1999")
    rows = list(csv.reader(io.StringIO(full.text)))
    assert rows[0] == ["file", "line", "field", "reason"]
    assert [int(row[1]) for row in rows[1:]] == list(range(2, 2001))
    assert all(row[3].endswith(f"superseded by line {int(row[1]) + 1}") for row in rows[1:])
