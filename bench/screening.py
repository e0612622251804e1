"""Watchlist screening at scale: N rows against the million-record store of bench/load.py.

    python bench/load.py --n 1000000          # once, builds var/bench/store-1000000.db
    python bench/screening.py [--rows 100000] [--workers 2]
    python bench/screening.py --http [--workers 1]   # the same watchlist as a job over HTTP

Half the watchlist rows are names from the store (as written there), half are fresh generated
names; all go through `suspects check` as an analyst would run it. Prints the wall time, rows/s
and the peak resident memory of the command and its worker processes.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

from indexer.synth.entities import Generator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--folder", type=Path, default=Path("var/bench"))
    parser.add_argument("--http", action="store_true", help="submit to POST /screenings of `suspects serve`")
    args = parser.parse_args()
    store = args.folder / "store-1000000.db"
    records = args.folder / "records-1000000.csv"
    if not store.exists():
        sys.exit("run bench/load.py --n 1000000 first")
    rng = random.Random(5)
    existing: list[str] = []
    with records.open(encoding="utf-8") as fh:
        for i, row in enumerate(csv.reader(fh)):
            if i and i % 7 == 0 and row[2] == "person":
                existing.append(row[3])
    g = Generator(99)
    watch = args.folder / f"watchlist-{args.rows}.csv"
    with watch.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["query_id", "name"])
        for i in range(args.rows):
            w.writerow([f"w{i}", rng.choice(existing) if i % 2 else g.person().han])
    if args.http:
        http_job(store, watch, args.rows, args.workers)
        return
    out = args.folder / f"screened-{args.rows}.jsonl"
    env = {**os.environ, "SUSPECTS_STORE": str(store), "SUSPECTS_LOG_LEVEL": "WARNING"}
    t = time.perf_counter()
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "suspects"),
            "check",
            str(watch),
            "--out",
            str(out),
            "--workers",
            str(args.workers),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(proc.stderr)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(proc.stderr.strip())
    print(
        f"{args.rows:,} rows against 1,000,000 records in {elapsed:.1f} s = {args.rows / elapsed:,.0f} rows/s with {args.workers} workers"
    )
    print(f"peak resident memory of the largest process: {peak:.0f} MB")


def http_job(store: Path, watch: Path, rows: int, workers: int) -> None:
    """Upload the watchlist to a server on loopback, poll the job until done, fetch the CSV."""
    import httpx
    from serving import bench_key, served

    token = bench_key(store, "analyst", "bench/screening.py")
    port = 8765
    base = f"http://127.0.0.1:{port}"
    with served(store, port, SUSPECTS_SCREENING_WORKERS=str(workers)) as server:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=600) as c:
            t = time.perf_counter()
            job = c.post("/screenings", files={"file": (watch.name, watch.read_bytes())}).json()
            accepted = time.perf_counter() - t
            peak_total = 0.0
            while job["status"] in ("queued", "running"):
                time.sleep(2)
                job = c.get(f"/screenings/{job['id']}").json()
                peak_total = max(peak_total, _tree_rss_mb(server.pid))
            elapsed = time.perf_counter() - t
            t2 = time.perf_counter()
            size = 0
            with c.stream("GET", f"/screenings/{job['id']}/results", params={"format": "csv"}) as r:
                for chunk in r.iter_bytes():
                    size += len(chunk)
            download = time.perf_counter() - t2
    print(f"job {job['status']}: {job['rows_done']:,}/{job['rows_total']:,} rows, {job['rows_seen']:,} seen")
    print(f"upload + parse + store: {accepted:.1f} s (202 returned)")
    print(
        f"{rows:,} rows over HTTP in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s with {workers} worker process(es)"
    )
    print(f"CSV results: {size / 1e6:.1f} MB downloaded in {download:.1f} s")
    print(f"peak resident memory, server + workers together: {peak_total:.0f} MB")


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, from /proc."""
    total = 0.0
    pids = [pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return 0.0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


if __name__ == "__main__":
    main()
