"""A legitimate pre-raid client against `suspects serve` while others abuse it (issue #18).

    python bench/load.py --n 1000000             # once: the million-record store (else: the demo store)
    python bench/abuse.py [--store PATH] [--phase-seconds 15]

One keep-alive client sends single /match queries (paced at --rate per second, within the default
rate limit) from start to end. Meanwhile, phase by phase, attackers with keys of their own (the
default limits apply to everyone) try what the red team tried:

- ``auth``: 8 connections sending wrong secrets for the legitimate key's id, or malformed keys;
- ``reconcile``: 4 connections sending 10 maximum-length names per /reconcile request;
- ``uploads``: 50 MB watchlists of one-letter lines (CSV, to /screenings and /ui/screenings' rule),
  a crafted XLSX zip bomb, and 50 MB of JSON rows, two at a time;
- ``together``: the three above at once (the issue's "done when"), with keys not yet rate-limited;
- ``methods``: 3,000 requests with invented HTTP methods;
- ``quiet``: nobody but the legitimate client, then the server's memory is read again.

Prints the legitimate client's p50/p99/max and errors per phase, the server's resident memory
(sampled every 0.2 s) at the start, its peak, and after the quiet phase.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import statistics
import sys
import time
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import httpx
from concurrency import names_from, rss_mb
from serving import bench_key, served

from search.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' bomb builder, not a copy of it
from tests.test_upload_limits import xlsx_bomb


@dataclass
class Run:
    phase: str = "before"
    done: bool = False


def legit_process(
    base: str, token: str, names: list[str], rate: float, stop: Event, out: Queue[list[tuple[float, float, bool]]]
) -> None:
    """The legitimate client, in a process of its own: in the attackers' process, building and
    sending 50 MB bodies stalled its event loop, and that was measured as server latency."""
    out.put(asyncio.run(legit(base, token, names, rate, stop)))


async def legit(base: str, token: str, names: list[str], rate: float, stop: Event) -> list[tuple[float, float, bool]]:
    """Single queries at ``rate`` per second: (wall-clock start, seconds, answered 200) each."""
    rng = random.Random(7)
    samples: list[tuple[float, float, bool]] = []
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        while not stop.is_set():
            started, t0 = time.time(), time.perf_counter()
            try:
                r = await c.post("/match", json={"queries": [{"name": rng.choice(names)}]})
                ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            spent = time.perf_counter() - t0
            samples.append((started, spent, ok))
            await asyncio.sleep(max(0.0, 1 / rate - spent))
    return samples


async def wrong_secrets(base: str, token: str, until: float, codes: dict[int, int]) -> int:
    sent = 0
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        while time.perf_counter() < until:
            r = await c.post("/match", json={"queries": [{"name": "x"}]}, headers={"Authorization": f"Bearer {token}"})
            codes[r.status_code] = codes.get(r.status_code, 0) + 1
            sent += 1
    return sent


async def reconcile(base: str, token: str, until: float, limit: int) -> int:
    rng = random.Random(3)
    sent = 0
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
        while time.perf_counter() < until:
            queries = {
                f"q{i}": {"query": "".join(rng.choice("陈大文王小明李华张伟刘洋黄志强") for _ in range(limit))}
                for i in range(10)
            }
            await c.post("/reconcile", data={"queries": json.dumps(queries)})
            sent += 1
    return sent


async def uploads(base: str, token: str, until: float) -> list[str]:
    one_letter = b"name\n" + b"a\n" * 24_999_000  # just under the 50 MB upload limit
    bomb = xlsx_bomb(2_000_000)
    json_rows = json.dumps({"rows": [{"name": "a"}] * 2_500_000}).encode()
    outcomes: list[str] = []
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=600) as c:
        while time.perf_counter() < until:
            attempts: tuple[tuple[str, dict[str, Any]], ...] = (
                ("csv 50 MB", {"files": {"file": ("w.csv", one_letter)}}),
                (f"xlsx bomb {len(bomb) // 1000} KB", {"files": {"file": ("w.xlsx", bomb)}}),
                ("json 50 MB", {"content": json_rows, "headers": {"Content-Type": "application/json"}}),
            )
            for label, kwargs in attempts:
                t0 = time.perf_counter()
                r = await c.post("/screenings", **kwargs)
                outcomes.append(f"{label}: {r.status_code} in {time.perf_counter() - t0:.0f} s")
    return outcomes


async def methods(base: str, n: int) -> int:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        for i in range(n):
            await c.request(f"JUNK{i}", "/match")
    return n


async def run(base: str, store: Path, pid: int, names: list[str], seconds: float, rate: float, limit: int) -> None:
    legit_token = bench_key(store, "system", "bench/abuse.py legit")
    key_id = legit_token.split("_")[1]
    # The attackers' keys, each used once before the wrong-secret flood: its failures block new
    # tokens from 127.0.0.1 for a minute, and every client here shares that address.
    attackers = {
        phase: bench_key(store, "analyst", f"bench/abuse.py {phase}")
        for phase in ("reconcile", "uploads", "together-reconcile", "together-uploads")
    }
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        for token in attackers.values():
            await c.post("/match", json={"queries": [{"name": "x"}]}, headers={"Authorization": f"Bearer {token}"})
    state = Run()
    memory: list[tuple[str, float]] = []

    async def sample() -> None:
        while not state.done:
            memory.append((state.phase, rss_mb(pid)))
            await asyncio.sleep(0.2)

    ctx = multiprocessing.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    client = ctx.Process(target=legit_process, args=(base, legit_token, names, rate, stop, out))
    client.start()
    sampler = asyncio.create_task(sample())
    notes: list[str] = []
    bounds: list[tuple[str, float]] = [("before", time.time())]
    await asyncio.sleep(seconds)
    baseline = rss_mb(pid)
    for phase in ("auth", "reconcile", "uploads", "together", "methods", "quiet"):
        state.phase = phase
        bounds.append((phase, time.time()))
        until = time.perf_counter() + seconds
        if phase == "auth":
            codes: dict[int, int] = {}
            # Wrong secrets for the legitimate key's id, and tokens of no valid shape.
            wrong = (f"sus_{key_id}_wrong", "not-a-key")
            sent = sum(await asyncio.gather(*(wrong_secrets(base, wrong[i % 2], until, codes) for i in range(8))))
            notes.append(f"auth: {sent:,} wrong secrets ({sent / seconds:,.0f}/s), answered {codes}")
        elif phase == "reconcile":
            attacker = attackers["reconcile"]
            sent = sum(await asyncio.gather(*(reconcile(base, attacker, until, limit) for _ in range(4))))
            notes.append(f"reconcile: {sent:,} requests of 10 names of {limit} characters")
        elif phase == "uploads":
            attacker = attackers["uploads"]  # its own: the reconcile phase's key has spent its rate
            outcomes = await asyncio.gather(*(uploads(base, attacker, until) for _ in range(2)))
            tally: dict[str, int] = {}
            for answered in outcomes:
                for o in answered:
                    tally[o] = tally.get(o, 0) + 1
            notes.append("uploads: " + "; ".join(f"{o} x{n}" for o, n in tally.items()))
        elif phase == "together":  # the three high findings at once, fresh keys
            flood = (f"sus_{key_id}_wrong", "not-a-key")
            codes = {}
            floods = asyncio.gather(*(wrong_secrets(base, flood[i % 2], until, codes) for i in range(8)))
            batches = asyncio.gather(
                *(reconcile(base, attackers["together-reconcile"], until, limit) for _ in range(4))
            )
            files = asyncio.gather(*(uploads(base, attackers["together-uploads"], until) for _ in range(2)))
            tried: list[int] = await floods  # all three run at once: gather schedules them at creation
            recs: list[int] = await batches
            outs: list[list[str]] = await files
            notes.append(
                f"together: {sum(tried):,} wrong secrets {codes}, {sum(recs):,} reconcile requests, "
                f"{sum(len(o) for o in outs)} uploads ({', '.join(sorted({x for o in outs for x in o}))})"
            )
        elif phase == "methods":
            notes.append(f"methods: {await methods(base, 3000):,} junk methods")
            await asyncio.sleep(max(0.0, until - time.perf_counter()))
        else:
            await asyncio.sleep(seconds)
    after = rss_mb(pid)
    state.done = True
    stop.set()
    await sampler
    samples: list[tuple[float, float, bool]] = out.get(timeout=120)
    client.join(60)
    lat: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    for started, spent, ok in samples:
        phase = [name for name, at in bounds if at <= started][-1]
        lat.setdefault(phase, []).append(spent)
        errors[phase] = errors.get(phase, 0) + (not ok)
    for note in notes:
        print(note)
    print(f"legitimate client, {rate:.0f} single /match a second:")
    for phase, values in lat.items():
        q = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
        print(
            f"  {phase:9} n={len(values):5}  p50 {q[49] * 1000:6.1f} ms  p99 {q[98] * 1000:7.1f} ms  "
            f"max {max(values) * 1000:7.1f} ms  errors {errors.get(phase, 0)}"
        )
    peak = max(m for _, m in memory)
    peak_phase = max(memory, key=lambda pm: pm[1])[0]
    print(
        f"server RSS: baseline {baseline:.0f} MB, peak {peak:.0f} MB (during {peak_phase}), "
        f"after {seconds:.0f} s quiet {after:.0f} MB ({(after - baseline) / baseline * 100:+.0f} %)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--phase-seconds", type=float, default=15.0)
    parser.add_argument("--rate", type=float, default=8.0, help="the legitimate client's queries a second")
    args = parser.parse_args()
    store = args.store or next(
        (p for p in (Path("var/bench/store-1000000.db"), Path("var/suspects.db")) if p.exists()), None
    )
    if store is None:
        sys.exit("no store: run `make demo` (or bench/load.py) first")
    # Read the store once so the first phase does not measure the disk: this machine's memory
    # reclaimer evicts an idle 1.6 GB file's pages (a cold run's first phase had p99 4 s). Before
    # any SQLite connection in this process: closing a file descriptor drops every POSIX lock the
    # process holds on that file, its SQLite connections' too, and a store written under lost locks
    # is corrupted (it happened: "database disk image is malformed", twice).
    with store.open("rb") as fh:
        while fh.read(1 << 24):
            pass
    names = names_from(store, 500)
    with served(store, args.port) as server:
        print(f"store {store}, phases of {args.phase_seconds:.0f} s")
        limit = Settings().max_name_length
        asyncio.run(
            run(f"http://127.0.0.1:{args.port}", store, server.pid, names, args.phase_seconds, args.rate, limit)
        )


if __name__ == "__main__":
    main()
