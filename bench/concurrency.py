"""50 concurrent clients for 30 seconds against `suspects serve` on loopback.

    python bench/load.py --n 1000000             # once: the million-record store (else: the demo store)
    python bench/concurrency.py [--clients 50] [--seconds 30] [--store PATH]

Each client loops (back to back, or with ``--think`` seconds between requests): 4 in 5 requests are a single /match, 1 in 5 a batch of 10, with names drawn from
the store itself (so about half are "seen") and fresh generated names. Prints errors, p50/p99 per
kind, throughput, and the server's resident memory sampled every second (after a 3 s warm-up), so
a leak shows as growth between the first and last samples. The rate limit is lifted for the run's
key: this measures capacity, not the limiter.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import httpx
from serving import bench_key, served

from indexer.synth.entities import Generator
from search.storage.codec import decompress

WARM_UP = 10.0  # seconds: the first requests read the store's pages from disk and fill the caches


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def names_from(store: Path, n: int) -> list[str]:
    with contextlib.closing(sqlite3.connect(store)) as conn:  # closed, not just committed
        rows = conn.execute("SELECT body FROM records ORDER BY rid LIMIT ?", (n * 50,)).fetchall()
    rng = random.Random(1)
    # Documents are stored deflated (search/storage/codec.py), so SQL's json_extract cannot read them.
    picked = [json.loads(decompress(r[0]))["name"] for r in rng.sample(rows, min(n, len(rows)))]
    g = Generator(5)
    return picked + [g.person().han for _ in range(n)]


async def client(
    base: str,
    token: str,
    names: list[str],
    until: float,
    seed: int,
    lat: dict[str, list[float]],
    started: dict[str, list[float]],
    errors: list[str],
    think: float,
) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as c:
        while time.perf_counter() < until:
            kind = "batch" if rng.random() < 0.2 else "single"
            n = 10 if kind == "batch" else 1
            body = {"queries": [{"name": rng.choice(names)} for _ in range(n)]}
            t = time.perf_counter()
            try:
                r = await c.post("/match", json=body)
                if r.status_code != 200:
                    errors.append(f"{r.status_code}: {r.text[:120]}")
                    continue
            except httpx.HTTPError as exc:
                errors.append(f"{exc.__class__.__name__}: {exc}")
                continue
            lat[kind].append(time.perf_counter() - t)
            started[kind].append(t)
            if think:
                await asyncio.sleep(rng.uniform(0, 2 * think))  # a pause between one check and the next


async def run(base: str, token: str, names: list[str], clients: int, seconds: float, pid: int, think: float) -> None:
    lat: dict[str, list[float]] = {"single": [], "batch": []}
    started: dict[str, list[float]] = {"single": [], "batch": []}
    errors: list[str] = []
    memory: list[float] = []
    t0 = time.perf_counter()
    until = t0 + seconds

    async def sample() -> None:
        while time.perf_counter() < until:
            await asyncio.sleep(1)
            if time.perf_counter() - t0 >= 3:
                memory.append(rss_mb(pid))

    await asyncio.gather(
        sample(), *(client(base, token, names, until, i, lat, started, errors, think) for i in range(clients))
    )
    elapsed = time.perf_counter() - t0
    requests = len(lat["single"]) + len(lat["batch"])
    queries = len(lat["single"]) + 10 * len(lat["batch"])
    print(f"{clients} clients, {elapsed:.1f} s: {requests:,} requests, {len(errors)} errors")
    for err in errors[:5]:
        print(f"  error: {err}")
    for kind, values in lat.items():
        if len(values) > 1:
            q = statistics.quantiles(values, n=100)
            warm = [v for v, t in zip(values, started[kind], strict=True) if t - t0 >= WARM_UP]
            w = statistics.quantiles(warm, n=100) if len(warm) > 1 else q
            print(
                f"  {kind:6} n={len(values):,}  p50 {q[49] * 1000:.1f} ms  p99 {q[98] * 1000:.1f} ms"
                f"   (after {WARM_UP:.0f} s: p50 {w[49] * 1000:.1f} ms  p99 {w[98] * 1000:.1f} ms)"
            )
    print(f"throughput: {requests / elapsed:,.0f} requests/s, {queries / elapsed:,.0f} queries/s")
    if memory:
        print(
            f"server RSS: first {memory[0]:.0f} MB, max {max(memory):.0f} MB, last {memory[-1]:.0f} MB "
            f"({len(memory)} samples, growth {memory[-1] - memory[0]:+.0f} MB)"
        )
        step = max(1, len(memory) // 10)
        print("  RSS every", step, "s:", " ".join(f"{m:.0f}" for m in memory[::step]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean seconds each client waits between requests (0: back to back)"
    )
    args = parser.parse_args()
    store = args.store or next(
        (p for p in (Path("var/bench/store-1000000.db"), Path("var/suspects.db")) if p.exists()), None
    )
    if store is None:
        sys.exit("no store: run `make demo` (or bench/load.py) first")
    token = bench_key(store, "system", "bench/concurrency.py")
    names = names_from(store, 2000)
    unlimited = {"SUSPECTS_RATE_LIMIT_BURST": "100000000", "SUSPECTS_RATE_LIMIT_PER_MINUTE": "100000000"}
    with served(store, args.port, **unlimited) as server:
        print(f"store {store}")
        print(f"think time: mean {args.think} s" if args.think else "think time: none (each client back to back)")
        base = f"http://127.0.0.1:{args.port}"
        asyncio.run(run(base, token, names, args.clients, args.seconds, server.pid, args.think))


if __name__ == "__main__":
    main()
