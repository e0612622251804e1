"""Keying a store again after an upgrade: ``suspects rekey`` (from the stored documents) on SQLite and
on Elasticsearch, against ``suspects reindex FILE...`` (the office files loaded again) on Elasticsearch.

    python bench/rekey.py [--n 100000] [--folder var/bench/rekey] [--heap 1g]

The 11 office files of the realistic workload (``bench/realistic.py``'s generator, its own folder),
loaded one ``suspects load`` each into an empty store of each backend; then each command is timed
as a subprocess, as an operator runs it. Elasticsearch is one local node (``tests/es_harness.py``)
on the same two cores as the command.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.es_harness, run as a script

from realistic import generate

from indexer.synth.offices import FILES
from tests import es_harness

SUSPECTS = str(Path(sys.executable).with_name("suspects"))


def timed(args: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    done = subprocess.run([SUSPECTS, *args], env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"suspects {' '.join(args[:2])} failed: {done.stderr.strip()[-300:]}")
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--folder", type=Path, default=Path("var/bench/rekey"))
    parser.add_argument("--heap", default="1g")
    args = parser.parse_args()
    records = generate(args.folder, args.n)
    files = [str(args.folder / "first" / name) for name in FILES.values()]
    print(f"{len(records):,} records in {len(files)} office files")
    store = args.folder / f"store-{args.n}.db"
    store.unlink(missing_ok=True)
    sqlite = {"SUSPECTS_STORE": str(store)}
    load = sum(timed(["load", f], sqlite) for f in files)
    rekey = timed(["rekey"], sqlite)
    print(f"SQLite         load of the 11 files {load:7.1f} s   rekey {rekey:7.1f} s")
    with es_harness.running(1, heap=args.heap, folder=args.folder.resolve()) as cluster:
        es = {"SUSPECTS_ES_URL": cluster.url, "SUSPECTS_ES_INDEX_PREFIX": "bench-rekey", **sqlite}
        load = sum(timed(["load", f], es) for f in files)
        rekey = timed(["rekey"], es)
        reindex = timed(["reindex", *files], es)
        print(
            f"Elasticsearch  load of the 11 files {load:7.1f} s   rekey {rekey:7.1f} s   "
            f"reindex from the files {reindex:7.1f} s  ({es_harness.VERSION}, one node, heap {args.heap})"
        )


if __name__ == "__main__":
    main()
