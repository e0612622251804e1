"""Faults: a load killed with SIGKILL and rerun, a load while the server answers, two loads at once,
and a server stopped (SIGTERM) in the middle of a request. Real processes, real signals."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from indexer.synth.entities import Generator
from search.settings import Settings
from tests.backends import Backend, copy_store, make_tokens
from tests.conftest import _free_port, serve_process, wait_until

SUSPECTS = str(Path(sys.executable).parent / "suspects")
HEADER = ["office", "record_id", "entity_type", "name", "aliases", "id_number", "birth_date", "gender"]

pytestmark = pytest.mark.slow


def write_records(path: Path, n: int, seed: int = 3, prefix: str = "F") -> list[list[str]]:
    """n person records for CN-GD with distinct record ids (names may repeat, as in life)."""
    g = Generator(seed)
    rows = []
    for i in range(n):
        p = g.person()
        rows.append(["CN-GD", f"{prefix}{i}", "person", p.han, "", p.rid if i % 2 else "", p.birth_date, p.gender])
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return rows


def env_for(store: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "SUSPECTS_STORE": str(store), "SUSPECTS_LOG_LEVEL": "WARNING", "SUSPECTS_WORKERS": "1"}
    env.pop("SUSPECTS_ES_URL", None)
    return env | extra


def load(store: Path, file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SUSPECTS, "load", str(file), "--json"], env=env_for(store), capture_output=True, text=True, timeout=300
    )


def record_count(store: Path) -> int:
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM records").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # not created yet


def snapshot(store: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], str, set[str]]:
    """Records, every (record, key hash, weight), the integrity check and the table and index names."""
    with sqlite3.connect(store) as conn:
        docs = conn.execute("SELECT doc_id, body FROM records ORDER BY doc_id").fetchall()
        keys = conn.execute(
            "SELECT r.doc_id, p.h, p.w FROM postings p JOIN records r USING (rid) ORDER BY 1, 2, 3"
        ).fetchall()
        check = str(conn.execute("PRAGMA integrity_check").fetchone()[0])
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('index', 'table')")}
    return docs, keys, check, indexes


def start_load(store: Path, file: Path) -> subprocess.Popen[str]:
    cmd = [SUSPECTS, "load", str(file), "--json"]
    return subprocess.Popen(cmd, env=env_for(store), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_rows(store: Path, proc: subprocess.Popen[str], at_least: int = 1) -> None:
    def stored() -> bool:
        assert proc.poll() is None, "the load finished before it could be interrupted"
        return record_count(store) >= at_least

    wait_until(stored, 60, f"{at_least} stored record(s)", every=0.02)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_kill_9_mid_load_then_rerun_matches_an_uninterrupted_load(tmp_path: Path) -> None:
    file = tmp_path / "big.csv"
    write_records(file, 20_000)
    clean = tmp_path / "clean.db"
    assert load(clean, file).returncode == 0

    killed = tmp_path / "killed.db"
    proc = start_load(killed, file)
    wait_for_rows(killed, proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    partial = record_count(killed)
    assert 0 < partial < 20_000, partial
    # The interrupted load is in the audit trail: started, never finished (issue #18).
    assert audit_actions(killed) == ["load.start"]
    rerun = load(killed, file)
    assert rerun.returncode == 0, rerun.stderr
    (report,) = json.loads(rerun.stdout)
    # The rerun reads every row; the rows the killed load had committed come back unchanged.
    assert (report["read"], report["stored"], report["rejected"]) == (20_000, 20_000, 0)
    assert report["unchanged"] == partial and report["inserted"] == 20_000 - partial
    docs, keys, check, indexes = snapshot(killed)
    clean_docs, clean_keys, _, clean_indexes = snapshot(clean)
    assert check == "ok"
    assert len(docs) == 20_000 and docs == clean_docs  # the same records, field for field
    assert keys == clean_keys  # every key row, no orphans and none missing
    # The killed load's staged postings were moved into place by the rerun; no staging table is left.
    assert "postings" in indexes and indexes == clean_indexes and "postings_load" not in indexes
    assert audit_actions(killed) == ["load.start", "load.start", "load"]  # oldest first


def audit_actions(store: Path) -> list[str]:
    """The store's audit trail, oldest first, as the CLI exports it."""
    r = subprocess.run([SUSPECTS, "audit", "--csv"], env=env_for(store), capture_output=True, text=True, timeout=60)
    rows = list(csv.DictReader(r.stdout.splitlines()))
    return [row["action"] for row in reversed(rows) if row["action"].startswith("load")]


def test_two_loads_at_once_one_fails_clearly(tmp_path: Path) -> None:
    file = tmp_path / "big.csv"
    write_records(file, 40_000)  # long enough to still be running when the second starts
    other = tmp_path / "other.csv"
    write_records(other, 50, seed=9, prefix="G")
    store = tmp_path / "two.db"
    first = start_load(store, file)
    wait_for_rows(store, first)
    second = load(store, other)
    assert second.returncode == 2
    assert second.stderr.strip().startswith("error: another load is writing to")
    assert len(second.stderr.strip().splitlines()) == 1
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert record_count(store) == 40_000
    assert load(store, other).returncode == 0  # once the first has finished
    assert record_count(store) == 40_050
    assert snapshot(store)[2] == "ok"


def serve(store: Path, port: int) -> subprocess.Popen[bytes]:
    return serve_process(
        Settings(store=store, rate_limit_burst=1_000_000), port, Backend("sqlite"), SUSPECTS_WORKERS="1"
    )


def test_load_while_the_server_answers(loaded_store_path: Path, tmp_path: Path) -> None:
    """Queries run throughout a 20,000-record load: no errors, and any new record a query returns
    is complete (all its fields as in the file) — never half written."""

    store = tmp_path / "live.db"
    copy_store(loaded_store_path, store)
    tokens = make_tokens(Settings(store=store))
    file = tmp_path / "new.csv"
    rows = write_records(file, 20_000, seed=21)
    by_id = {r[1]: r for r in rows}
    port = _free_port()
    server = serve(store, port)
    errors: list[str] = []
    returned_new = 0
    stop = threading.Event()

    def query() -> None:
        nonlocal returned_new
        rng = random.Random(4)
        headers = {"Authorization": f"Bearer {tokens['system']}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as c:
            while not stop.is_set():
                row = rng.choice(rows)
                r = c.post("/match", json={"queries": [{"name": row[3], "birth_date": row[6]}]})
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                    continue
                for m in r.json()["results"][0]["matches"]:
                    if m["record_id"] in by_id:
                        returned_new += 1
                        if m["name"] != by_id[m["record_id"]][3] or m["entity_type"] != "person":
                            errors.append(f"partial record {m}")

    threads = [threading.Thread(target=query) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        result = load(store, file)
        # The queries keep going until one of them has seen a record of the finished load.
        wait_until(lambda: returned_new > 0 or bool(errors), 60, "a query to return a newly loaded record")
        stop.set()
        for t in threads:
            t.join(30)
        assert result.returncode == 0, result.stderr
        assert errors == []
        assert returned_new > 0  # the queries did see the new records arrive
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            headers = {"Authorization": f"Bearer {tokens['investigator']}"}
            stats = c.get("/stats", headers=headers).json()
        assert stats["offices"]["CN-GD"]["person"] >= 20_000
    finally:
        stop.set()
        server.terminate()
        server.wait(30)


def test_sigterm_finishes_the_request_in_flight(loaded_store_path: Path, tmp_path: Path) -> None:

    store = tmp_path / "term.db"
    copy_store(loaded_store_path, store)
    tokens = make_tokens(Settings(store=store))
    port = _free_port()
    server = serve(store, port)
    g = Generator(77)
    batch = {"queries": [{"name": g.person().han} for _ in range(1000)]}
    answer: dict[str, Any] = {}

    def big_request() -> None:
        headers = {"Authorization": f"Bearer {tokens['system']}"}
        r = httpx.post(f"http://127.0.0.1:{port}/match", json=batch, headers=headers, timeout=60)
        answer["status"] = r.status_code
        answer["results"] = len(r.json()["results"])

    busy_from = cpu_seconds(server.pid)
    t = threading.Thread(target=big_request)
    t.start()
    # The batch is being matched once the server has burnt a quarter-second of CPU on it.
    wait_until(lambda: cpu_seconds(server.pid) - busy_from > 0.25, 30, "the server to start matching the batch")
    server.send_signal(signal.SIGTERM)
    t.join(60)
    assert answer == {"status": 200, "results": 1000}
    # uvicorn finishes in-flight requests and the lifespan, then re-raises SIGTERM (exit -15) as
    # a process killed by the signal would; anything else (a crash, a hang) fails here.
    assert server.wait(40) in (0, -signal.SIGTERM)
    with pytest.raises(httpx.TransportError):  # and it is gone: no new requests accepted
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
