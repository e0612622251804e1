"""Memory comes back after expensive requests (issue #18: four 10,000-character reconcile queries
left 9.9 GB resident until restart).

`suspects serve` in its own process; its resident set is read from /proc before and after bursts of
maximum-size /match batches and /reconcile batches of maximum-length names, each name new. Before
the fixes this grew by about 25 MB per thousand names without end (the caches of normalized names
kept every long name's forms); now long names bypass those caches and the heap is trimmed after a
large batch. SQLite only: the growth was in the server's own caches and heap, not the store's.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import httpx
import pytest

from tests.backends import Backend, make_tokens
from tests.conftest import _free_port, serve_process


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_resident_memory_returns_near_its_baseline_after_a_burst(loaded_store_path: Path, tmp_path: Path) -> None:
    backend = Backend("sqlite")
    settings = backend.settings(tmp_path, store=loaded_store_path, rate_limit_per_minute=1_000_000)
    token = make_tokens(settings)["analyst"]
    port = _free_port()
    proc = serve_process(settings, port, backend, SUSPECTS_RATE_LIMIT_PER_MINUTE="1000000")
    rng = random.Random(18)
    limit = settings.max_name_length

    def name() -> str:
        return "".join(rng.choice("陈大文王小明李华张伟刘洋黄志强") for _ in range(limit))

    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}, timeout=120
        ) as c:
            for _ in range(30):  # warm: name tables, connections, the first allocations
                assert c.post("/match", json={"queries": [{"name": "陈大文"}]}).status_code == 200
            baseline = rss_mb(proc.pid)
            peak = baseline
            for _ in range(3):
                batch = {"queries": [{"name": name()} for _ in range(400)]}
                assert c.post("/match", json=batch).status_code == 200
                queries = {f"q{i}": {"query": name()} for i in range(100)}
                assert c.post("/reconcile", data={"queries": json.dumps(queries)}).status_code == 200
                peak = max(peak, rss_mb(proc.pid))
            # A small request after the burst: its response ends after the last trim has run.
            assert c.post("/match", json={"queries": [{"name": "陈大文"}]}).status_code == 200
            after = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    assert after <= baseline * 1.2, f"RSS {baseline:.0f} MB before the burst, {after:.0f} MB after (peak {peak:.0f})"
