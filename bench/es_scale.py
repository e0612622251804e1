"""Both backends at scale, side by side, on the same generated records in one run.

    python bench/es_scale.py [--n 1000000] [--folder var/bench] [--heap 1g]

Generates N records (bench/load.py's generator), starts a single local Elasticsearch node with the
given heap (tests/es_harness.py: Elastic's test distribution from Maven Central), then for SQLite
and for Elasticsearch: loads the file (both cores), prints records/s and the store's size on disk
(Elasticsearch: ``_cat/indices`` store size of the records index), serves it with ``suspects serve``
and measures single ``/match`` over loopback HTTP (p50/p99, one keep-alive connection) and batch
throughput (100 queries per request).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.es_harness, run as a script

from load import Client, generate, rss_kb, sample_queries

from search.access.factory import open_access
from search.access.keys import new_key
from search.ingest import load_file
from search.settings import Settings
from search.storage.factory import open_store
from tests import es_harness


def es_records_bytes(settings: Settings) -> int:
    url = (settings.es_url or "").split(",")[0]
    with urllib.request.urlopen(f"{url}/_cat/indices/{settings.es_index_prefix}-records*?format=json&bytes=b") as r:
        rows = json.loads(r.read())
    return sum(int(row["store.size"]) for row in rows)


def load(settings: Settings, data: Path, n: int, workers: int, label: str) -> None:
    store = open_store(settings)
    t = time.perf_counter()
    report = load_file(store, data, None, None, None, workers)
    seconds = time.perf_counter() - t
    store.close()
    if settings.es_url:
        size = es_records_bytes(settings)
    else:
        size = sum(p.stat().st_size for p in settings.store.parent.glob(settings.store.name + "*"))
    print(
        f"{label}: load {report.stored:,} stored, {len(report.rejected)} rejected in {seconds:.1f} s = "
        f"{n / seconds:,.0f} records/s ({workers} workers); on disk {size / 1e9:.2f} GB "
        f"= {size / 1e9 * 1_000_000 / n:.2f} GB per million records",
        flush=True,
    )


def serve_and_measure(settings: Settings, queries: list[str], port: int, label: str) -> None:
    access = open_access(settings)
    key, token = new_key("CN-GD", "system", "bench/es_scale.py")
    access.add_key(key)
    access.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUSPECTS_")}
    env |= {"SUSPECTS_STORE": str(settings.store), "SUSPECTS_LOG_LEVEL": "WARNING", "SUSPECTS_PORT": str(port)}
    env |= {"SUSPECTS_RATE_LIMIT_PER_MINUTE": "10000000", "SUSPECTS_RATE_LIMIT_BURST": "10000000"}
    if settings.es_url:
        env |= {"SUSPECTS_ES_URL": settings.es_url, "SUSPECTS_ES_INDEX_PREFIX": settings.es_index_prefix}
    server = subprocess.Popen([str(Path(sys.executable).parent / "suspects"), "serve"], env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        rng = random.Random(7)
        client = Client(port, token)
        for q in queries[:100]:  # warm-up: page cache, profile cache, JIT of the cluster
            client.post("/match", {"queries": [{"name": q}]})
        lat: list[float] = []
        for q in [rng.choice(queries) for _ in range(2000)]:
            t = time.perf_counter()
            client.post("/match", {"queries": [{"name": q}]})
            lat.append((time.perf_counter() - t) * 1000)
        lat.sort()
        p50, p99 = statistics.median(lat), lat[int(len(lat) * 0.99) - 1]
        batches = 20
        t = time.perf_counter()
        for _ in range(batches):
            client.post("/match", {"queries": [{"name": rng.choice(queries)} for _ in range(100)]})
        qps = batches * 100 / (time.perf_counter() - t)
        rss, hwm = rss_kb(server.pid)
        print(
            f"{label}: single /match p50 {p50:.2f} ms, p99 {p99:.2f} ms ({len(lat)} requests); "
            f"batch {qps:,.0f} queries/s; server RSS {rss / 1024:.0f} MB (peak {hwm / 1024:.0f} MB)",
            flush=True,
        )
    finally:
        server.terminate()
        server.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--folder", type=Path, default=Path("var/bench"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--heap", default="1g")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--only", choices=["sqlite", "elasticsearch"], help="measure one backend")
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    data = args.folder / f"records-{args.n}.csv"
    if not data.exists():
        t = time.perf_counter()
        generate(data, args.n, 42)
        print(f"generated {args.n:,} records in {time.perf_counter() - t:.1f} s", flush=True)
    queries = sample_queries(data)
    if args.only != "elasticsearch":
        sqlite_path = args.folder / f"scale-{args.n}.db"
        for p in args.folder.glob(sqlite_path.name + "*"):
            p.unlink()
        sqlite = Settings(store=sqlite_path, es_url=None)
        load(sqlite, data, args.n, args.workers, "sqlite")
        serve_and_measure(sqlite, queries, args.port, "sqlite")
    if args.only == "sqlite":
        return
    with es_harness.running(1, heap=args.heap, folder=args.folder.resolve()) as cluster:
        es = Settings(store=args.folder / "unused.db", es_url=cluster.url, es_index_prefix="bench")
        print(f"elasticsearch {es_harness.VERSION}: one node, heap {args.heap}, {cluster.url}", flush=True)
        load(es, data, args.n, args.workers, "elasticsearch")
        serve_and_measure(es, queries, args.port, "elasticsearch")


if __name__ == "__main__":
    main()
