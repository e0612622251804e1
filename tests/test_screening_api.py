"""Screening jobs over HTTP, end to end on loopback: upload, progress, results, cancel, restart."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from search.access.factory import open_access
from search.access.keys import new_key
from search.screening.pool import run_screening
from search.screening.watchlist import csv_header, csv_rows, csv_text, jsonl_line, read_watchlist
from search.settings import Settings
from tests.backends import Backend, make_tokens
from tests.conftest import Server, _free_port, serve_process, wait_until

WATCHLIST = (
    "query_id,name,birth_date,entity_type\n"
    "a,陳大文,1971-02-11,person\n"
    "b,CHAN Tai Man,,\n"
    "c,,1980-01-01,person\n"  # no name: reported on its line
    "d,Chen Dawen,,alien\n"  # bad entity type: reported
    'e,=HYPERLINK("x"),,\n'  # formula: escaped in CSV
    "f,星辉贸易有限公司,,company\n"
)


@pytest.fixture(scope="module")
def screening(
    backend: Backend, loaded: Settings, sample_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str], Settings]]:
    settings = backend.copy(
        loaded, sample_files, tmp_path_factory.mktemp("screening"), screening_poll_seconds=0.2, max_screening_rows=5000
    )
    tokens = make_tokens(settings)
    access = open_access(settings)
    key, tokens["hk-analyst"] = new_key("CN-HK", "analyst", "hk analyst")
    access.add_key(key)
    access.close()
    with Server(settings) as server:
        yield server.url, tokens, settings


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"})


def _wait(c: httpx.Client, job_id: str, timeout: float = 120) -> dict[str, Any]:
    job: dict[str, Any] = {}

    def finished() -> bool:
        job.update(c.get(f"/screenings/{job_id}").json())
        return job["status"] not in ("queued", "running")

    wait_until(finished, timeout, f"job {job_id} to finish", every=0.1)
    return job


def _expected(path: Path, settings: Settings, fmt: str) -> bytes:
    """What `suspects check` writes for this watchlist (the same functions, run locally)."""
    out = io.StringIO()
    if fmt == "csv":
        out.write("\ufeff" + csv_header())
    for line, name, result in run_screening(read_watchlist(path), settings, 10, 1):
        out.write(csv_text(csv_rows(line, name, result)) if fmt == "csv" else jsonl_line(result))
    return out.getvalue().encode("utf-8")


def test_upload_progress_and_results_match_the_cli(
    screening: tuple[str, dict[str, str], Settings], tmp_path: Path
) -> None:
    url, tokens, store = screening
    file = tmp_path / "watchlist.csv"
    file.write_text(WATCHLIST, encoding="utf-8")
    with _client(url, tokens["analyst"]) as c:
        r = c.post("/screenings", files={"file": ("watchlist.csv", file.read_bytes())}, data={"limit": "10"})
        assert r.status_code == 202, r.text
        assert r.headers["location"] == f"/screenings/{r.json()['id']}"
        job = _wait(c, r.json()["id"])
        assert job["status"] == "done"
        assert (job["rows_total"], job["rows_done"], job["rows_rejected"]) == (6, 6, 2)
        assert job["rows_seen"] >= 3 and job["rows_per_second"] > 0
        jsonl = c.get(f"/screenings/{job['id']}/results")
        assert jsonl.headers["x-screening-status"] == "done"
        lines = [json.loads(x) for x in jsonl.text.splitlines()]
        assert [x["line"] for x in lines] == [2, 3, 4, 5, 6, 7]  # every row, in order, none dropped
        assert lines[2]["error"] == "line 4: name is empty"
        assert "entity_type" in lines[3]["error"]
        offices = {m["office"] for m in lines[0]["matches"]}
        assert {"CN-GD", "CN-HK", "CN-MO"} <= offices and "CN-FJ" not in offices
        assert jsonl.content == _expected(file, store, "jsonl")
        got = c.get(f"/screenings/{job['id']}/results", params={"format": "csv"})
        assert got.headers["content-type"].startswith("text/csv")
        assert got.content.startswith("\ufeff".encode())
        assert got.content == _expected(file, store, "csv")
        rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
        assert all(not cell.startswith("=") for row in rows for cell in row)
        listed = c.get("/screenings").json()
        assert listed[0]["id"] == job["id"]


def test_json_rows_and_office_filter(screening: tuple[str, dict[str, str], Settings]) -> None:
    url, tokens, _ = screening
    with _client(url, tokens["analyst"]) as c:
        body = {"rows": [{"name": "CHAN Tai Man", "query_id": "x"}, {"name": ""}], "offices": ["CN-HK"]}
        r = c.post("/screenings", json=body)
        assert r.status_code == 202, r.text
        job = _wait(c, r.json()["id"])
        results = [json.loads(x) for x in c.get(f"/screenings/{job['id']}/results").text.splitlines()]
        assert results[0]["query_id"] == "x" and {m["office"] for m in results[0]["matches"]} == {"CN-HK"}
        assert results[1]["error"] == "line 2: name is empty"


@pytest.mark.parametrize(
    ("kwargs", "status", "field"),
    [
        ({"json": {"rows": [{"nam": "x"}]}}, 422, "rows.0.nam"),
        ({"json": {"rows": []}}, 422, "rows"),
        ({"json": {"rows": [{"name": "x"}], "offices": ["CN-XX"]}}, 422, "offices"),
        ({"json": {"rows": [{"name": "x"}], "limit": 0}}, 422, "limit"),
        ({"files": {"file": ("w.pdf", b"%PDF")}}, 422, "file"),
        ({"files": {"file": ("w.csv", b"surname,dob\nx,1\n")}}, 422, "file"),
        ({"files": {"file": ("w.csv", b"name\n" + b"x\n" * 5001)}}, 413, "file"),
        ({"content": b"name\nx\n", "headers": {"content-type": "text/csv"}}, 422, "content-type"),
        ({"files": {"file": ("w.csv", b"name\nx\n")}, "data": {"limit": "many"}}, 422, "limit"),
    ],
)
def test_bad_submissions_are_refused_with_the_field(
    screening: tuple[str, dict[str, str], Settings], kwargs: dict[str, Any], status: int, field: str
) -> None:
    url, tokens, _ = screening
    with _client(url, tokens["analyst"]) as c:
        r = c.post("/screenings", **kwargs)
    assert r.status_code == status, r.text
    assert r.json()["error"]["field"] == field


def test_missing_column_is_named(screening: tuple[str, dict[str, str], Settings]) -> None:
    url, tokens, _ = screening
    with _client(url, tokens["analyst"]) as c:
        r = c.post("/screenings", files={"file": ("w.csv", b"surname,dob\nx,1\n")})
    assert "missing required column: name" in r.json()["error"]["message"]


def test_jobs_are_private_to_their_office_and_audited(screening: tuple[str, dict[str, str], Settings]) -> None:
    url, tokens, _ = screening
    with _client(url, tokens["analyst"]) as c:
        job = c.post("/screenings", json={"rows": [{"name": "审计测试名"}]}).json()
        _wait(c, job["id"])
        c.get(f"/screenings/{job['id']}/results")
    with _client(url, tokens["hk-analyst"]) as hk:
        for path in (f"/screenings/{job['id']}", f"/screenings/{job['id']}/results"):
            assert hk.get(path).status_code == 404
        assert hk.delete(f"/screenings/{job['id']}").status_code == 404
        assert all(j["id"] != job["id"] for j in hk.get("/screenings").json())
    with _client(url, tokens["auditor"]) as a:
        events = a.get("/audit", params={"q": job["id"]}).json()
    actions = {e["action"] for e in events}
    assert {"screening.create", "screening.done", "screening.results"} <= actions
    create = next(e for e in events if e["action"] == "screening.create")
    assert create["terms"] == ["审计测试名"]


def test_cancel_keeps_results_so_far(
    backend: Backend, loaded: Settings, sample_files: dict[str, Path], tmp_path: Path
) -> None:
    settings = backend.copy(loaded, sample_files, tmp_path, screening_workers=0)
    tokens = make_tokens(settings)
    # Matching in the server thread keeps the job slow enough to cancel mid-way on any machine.
    rows = [{"name": f"陈{chr(0x4E00 + i % 500)}明", "query_id": str(i)} for i in range(4000)]
    with Server(settings) as server, _client(server.url, tokens["analyst"]) as c:
        job = c.post("/screenings", json={"rows": rows}).json()
        wait_until(lambda: c.get(f"/screenings/{job['id']}").json()["rows_done"] > 0, 60, "the first chunk")
        r = c.delete(f"/screenings/{job['id']}")
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        assert server.state.runner.wait_idle(60), "the runner did not let go of the cancelled job"
        final = c.get(f"/screenings/{job['id']}").json()
        assert final["status"] == "cancelled" and 0 < final["rows_done"] < 4000
        lines = c.get(f"/screenings/{job['id']}/results").text.splitlines()
        assert len(lines) == final["rows_done"]
        assert [json.loads(x)["line"] for x in lines] == list(range(1, len(lines) + 1))
        again = c.delete(f"/screenings/{job['id']}")
        assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def _serve(settings: Settings, port: int, backend: Backend) -> subprocess.Popen[bytes]:
    return serve_process(
        settings,
        port,
        backend,
        SUSPECTS_SCREENING_LEASE_SECONDS="2",
        SUSPECTS_SCREENING_POLL_SECONDS="0.2",
        SUSPECTS_SCREENING_WORKERS="0",
    )


@pytest.mark.slow
def test_a_job_survives_a_killed_server(
    backend: Backend, loaded: Settings, sample_files: dict[str, Path], tmp_path: Path
) -> None:
    """kill -9 in the middle of a job; a new server on the same store finishes it, and the results
    are exactly those of an uninterrupted run: every row once, in order."""
    settings = backend.copy(loaded, sample_files, tmp_path)
    tokens = make_tokens(settings)
    names = ["陳大文", "CHAN Tai Man", "Chen Dawen", "星辉贸易有限公司", "李小龙", "Wong Ka Fai"]
    file = tmp_path / "w.csv"
    file.write_text("name\n" + "".join(f"{names[i % 6]}\n" for i in range(3000)), encoding="utf-8")
    port = _free_port()
    first = _serve(settings, port, backend)
    try:
        with _client(f"http://127.0.0.1:{port}", tokens["analyst"]) as c:
            job = c.post("/screenings", files={"file": ("w.csv", file.read_bytes())}).json()
            wait_until(lambda: c.get(f"/screenings/{job['id']}").json()["rows_done"] > 0, 60, "the first chunk")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        first.kill()
    second = _serve(settings, port, backend)
    try:
        with _client(f"http://127.0.0.1:{port}", tokens["analyst"]) as c:
            mid = c.get(f"/screenings/{job['id']}").json()
            assert mid["status"] in ("running", "queued") and mid["rows_done"] < 3000
            final = _wait(c, job["id"])
            assert (final["status"], final["rows_done"], final["rows_total"]) == ("done", 3000, 3000)
            got = c.get(f"/screenings/{job['id']}/results").content
    finally:
        second.terminate()
        second.wait(10)
    assert got == _expected(file, settings, "jsonl")


def test_a_large_job_audits_a_digest_not_every_match(screening: tuple[str, dict[str, str], Settings]) -> None:
    """Every match of a large job went into one audit row (9.2 MB for 120,000 rows, issue #18): the
    entry keeps the first 100, the count, a SHA-256 of all, and where the results are."""
    url, tokens, _ = screening
    with _client(url, tokens["analyst"]) as c:
        job = c.post("/screenings", json={"rows": [{"name": "陳大文", "query_id": f"d{i}"} for i in range(300)]}).json()
        _wait(c, job["id"])
    with _client(url, tokens["auditor"]) as a:
        events = a.get("/audit", params={"q": job["id"]}).json()
    done = next(e for e in events if e["action"] == "screening.done")["detail"]
    assert done["match_count"] >= 300 * 4 and len(done["matches"]) == 100, {k: done[k] for k in ("match_count",)}
    assert len(done["matches_sha256"]) == 64 and done["results"] == f"/screenings/{job['id']}/results"
    assert len(json.dumps(done)) < 20_000


def test_offices_take_turns_and_see_their_place_in_line(screening: tuple[str, dict[str, str], Settings]) -> None:
    """One office's long job no longer holds every other office until it ends (issue #18: a
    500,000-row job held the rest for ~30 minutes): a partner's one-chunk job submitted after it is
    done while the long job is still running, and while it waits it says where it stands."""
    url, tokens, _ = screening
    long_rows = [{"name": f"陈大文{i}"} for i in range(5000)]
    with _client(url, tokens["analyst"]) as gd, _client(url, tokens["hk-analyst"]) as hk:
        long_job = gd.post("/screenings", json={"rows": long_rows[:2500]}).json()
        more = gd.post("/screenings", json={"rows": long_rows[2500:]}).json()  # same office, behind
        short = hk.post("/screenings", json={"rows": [{"name": "Chan Tai Man"}] * 50}).json()
        try:
            waiting = gd.get(f"/screenings/{more['id']}").json()
            assert waiting["status"] == "queued" and waiting["queue_position"] >= 1, waiting
            assert waiting["offices_waiting"] == 2, waiting
            done = _wait(hk, short["id"])
            assert done["status"] == "done" and done["queue_position"] is None
            first = gd.get(f"/screenings/{long_job['id']}").json()
            assert first["rows_done"] < first["rows_total"], (first, "CN-HK waited for all of CN-GD's first job")
        finally:
            for job in (long_job, more):
                gd.delete(f"/screenings/{job['id']}")
