"""Load and serve at scale: N generated records into a fresh SQLite store, then /match over loopback.

    python bench/load.py [--n 1000000] [--folder var/bench]

Prints: generation time (not counted), a bare ``pypinyin.lazy_pinyin`` pass over the same names (the
baseline), the load time, records/s and its ratio to the baseline, store size and key rows, then —
with ``suspects serve`` running on that store in its own process — single-query latency p50/p99
over loopback HTTP, batch throughput (100 queries per request), and the server's resident memory.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pypinyin import lazy_pinyin

from indexer.synth import render
from indexer.synth.entities import Generator
from search.access.keys import new_key
from search.access.sqlite import SQLiteAccess
from search.ingest import load_file
from search.storage.sqlite import SQLiteStore

HEADER = ["office", "record_id", "entity_type", "name", "aliases", "id_number", "birth_date", "gender"]
OFFICES = ["CN-GD", "CN-FJ", "CN-JX", "CN-HN", "CN-GX", "CN-HI", "CN-SC", "CN-GZ", "CN-YN", "CN-HK", "CN-MO"]


def generate(path: Path, n: int, seed: int) -> tuple[list[str], list[str]]:
    """Write n records; return all names (for the baseline) and a sample of query names."""
    g = Generator(seed)
    rng = random.Random(seed)
    names: list[str] = []
    queries: list[str] = []
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(n):
            office = OFFICES[i % len(OFFICES)]
            if rng.random() < 0.7:
                p = g.person()
                roll = rng.random()
                aliases = ""
                if office == "CN-HK" and (hk := render.hk_syllables(rng, p)) is not None:
                    name = f"{hk[0].upper()} {' '.join(hk[1])}"
                    aliases = render.traditional(p.han)
                elif roll < 0.2:
                    name = render.traditional(p.han)
                else:
                    name = p.han
                row = [office, f"R{i}", "person", name, aliases, p.rid if roll < 0.5 else "", p.birth_date, p.gender]
                if rng.random() < 0.002:
                    queries.append(
                        p.han
                        if rng.random() < 0.5
                        else f"{p.surname.pinyin.capitalize()} {''.join(lazy_pinyin(p.given)).capitalize()}"
                    )
            else:
                c = g.company()
                name = c.han
                row = [office, f"R{i}", "company", name, "", c.uscc if rng.random() < 0.5 else "", "", ""]
            names.append(name)
            w.writerow(row)
    return names, queries


def rss_kb(pid: int) -> tuple[int, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    values = {
        line.split(":")[0]: int(line.split()[1]) for line in status.splitlines() if line.startswith(("VmRSS", "VmHWM"))
    }
    return values["VmRSS"], values["VmHWM"]


class Client:
    """One keep-alive HTTP connection, as an automated pre-raid system would hold, with its key."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def post(self, path: str, body: dict[str, object]) -> dict[str, object]:
        self.conn.request("POST", path, json.dumps(body), self.headers)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {data[:200]!r}")
        out: dict[str, object] = json.loads(data)
        return out


def sample_queries(data: Path) -> list[str]:
    """Every 500th person name of the data file, as queries (a third in pinyin)."""
    out: list[str] = []
    with data.open(encoding="utf-8") as fh:
        for i, row in enumerate(csv.reader(fh)):
            if i and i % 500 == 0 and row[2] == "person":
                out.append(row[3])
    return out


def load(args: argparse.Namespace, data: Path, store_path: Path) -> None:
    for p in (store_path, Path(str(store_path) + "-wal"), Path(str(store_path) + "-shm")):
        p.unlink(missing_ok=True)
    t = time.perf_counter()
    names, _ = generate(data, args.n, 42)
    print(f"generated {args.n:,} records in {time.perf_counter() - t:.1f} s ({data.stat().st_size / 1e6:.0f} MB CSV)")

    t = time.perf_counter()
    for name in names:
        lazy_pinyin(name)
    baseline = time.perf_counter() - t
    print(
        f"baseline: bare lazy_pinyin over the same names, one core: {baseline:.1f} s ({args.n / baseline:,.0f} names/s)"
    )
    del names

    store = SQLiteStore(store_path)
    t = time.perf_counter()
    report = load_file(store, data, None, None, None, args.workers)
    load_s = time.perf_counter() - t
    keys = store.key_count()
    store.close()
    size = sum(p.stat().st_size for p in args.folder.glob(store_path.name + "*"))
    print(
        f"load: {report.stored:,} stored, {len(report.rejected)} rejected in {load_s:.1f} s = {args.n / load_s:,.0f} records/s "
        f"with {args.workers} workers; ratio to baseline {load_s / baseline:.2f}x"
    )
    print(f"store: {size / 1e9:.2f} GB on disk, {keys:,} key rows ({keys / args.n:.1f} per record)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--folder", type=Path, default=Path("var/bench"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--serve-only", action="store_true", help="reuse the store and data of a previous run")
    parser.add_argument(
        "--entity-type",
        choices=["any", "person"],
        default="any",
        help="any: queries without a type, searched as a person and as a company (issue #15); person: typed",
    )
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    data = args.folder / f"records-{args.n}.csv"
    store_path = args.folder / f"store-{args.n}.db"
    if not args.serve_only:
        load(args, data, store_path)
    queries = sample_queries(data)
    access = SQLiteAccess(store_path)
    key, token = new_key("CN-GD", "system", "bench/load.py")
    access.add_key(key)
    access.close()
    env = {
        **os.environ,
        "SUSPECTS_STORE": str(store_path),
        "SUSPECTS_LOG_LEVEL": "WARNING",
        # The benchmark measures matching, not the per-key rate limit.
        "SUSPECTS_RATE_LIMIT_PER_MINUTE": "10000000",
        "SUSPECTS_RATE_LIMIT_BURST": "10000000",
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "suspects"), "serve", "--port", str(args.port)], env=env
    )
    url = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        rng = random.Random(7)
        client = Client(args.port, token)

        def query(name: str) -> dict[str, str]:
            return {"name": name} if args.entity_type == "any" else {"name": name, "entity_type": args.entity_type}

        for q in queries[:50]:  # warm-up
            client.post("/match", {"queries": [query(q)]})
        lat: list[float] = []
        singles = [rng.choice(queries) for _ in range(2000)]
        for q in singles:
            t = time.perf_counter()
            client.post("/match", {"queries": [query(q)]})
            lat.append((time.perf_counter() - t) * 1000)
        lat.sort()
        p50 = statistics.median(lat)
        p99 = lat[int(len(lat) * 0.99) - 1]
        print(f"single /match over loopback HTTP, {len(lat)} requests: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        batches = 20
        t = time.perf_counter()
        for _ in range(batches):
            client.post("/match", {"queries": [query(rng.choice(queries)) for _ in range(100)]})
        batch_s = time.perf_counter() - t
        print(f"batch /match, {batches} x 100 queries: {batches * 100 / batch_s:,.0f} queries/s (one server process)")
        rss, hwm = rss_kb(server.pid)
        print(f"server memory: RSS {rss / 1024:.0f} MB, peak {hwm / 1024:.0f} MB")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
