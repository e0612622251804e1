"""Watchlist screening at scale: N rows against the million-record store of bench/load.py.

    python bench/load.py --n 1000000          # once, builds var/bench/store-1000000.db
    python bench/screening.py [--rows 100000] [--workers 2]

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


if __name__ == "__main__":
    main()
