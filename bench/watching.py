"""Standing watchlists (issue #16): what re-screening costs a load, whether the alerts are exactly
what /match says, how soon a webhook hears of a load, and an outage of the receiver.

    python bench/watching.py load [--n 1000000] [--entries 10000] [--elasticsearch]
    python bench/watching.py latency [--loads 20] [--elasticsearch]
    python bench/watching.py outage [--down 600] [--elasticsearch]
    python bench/watching.py last [--n 1000000] [--entries 10000] [--office CN-HK]

``last``: one office file (``--office``) loaded into a store holding the other ten, once with
``--entries`` standing entries and once without; the quick measure of what watching costs a file
(the stores of the first run are kept and copied for later runs).

``load``: the realistic workload's 11 office files (bench/realistic.py, cached in its folder) loaded
one after another, ``suspects load`` per file, into an empty store without watchlists and into one
holding ``--entries`` standing entries across the 11 offices (drawn like the realistic watchlist:
stored suspects in every script and romanization, and names nobody stored); then the 5 %-changed
reload into the watched store. Afterwards every entry is screened forward by the matcher (what
/match reports for it over the partner offices) and compared with the open alerts.

``latency``: ``suspects serve`` with a webhook to a receiver on loopback; ``--loads`` small partner
files, each holding a record that a standing entry matches, loaded with ``suspects load``; per
alert, the time from the load command's start (an upper bound of the commit) and from its exit (a
lower bound) to the receiver's arrival.

``outage``: the receiver is down for ``--down`` seconds while loads raise alerts, then comes back;
with the default retry settings every alert arrives, once per idempotency key.

``--elasticsearch`` (load, latency, outage): the same on a local one-node cluster
(tests/es_harness.py) instead of SQLite files.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import random
import shutil
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from realistic import generate, suspects, watchlist
from serving import served

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.records import OFFICES
from indexer.synth.offices import FILES
from search.access.factory import open_access
from search.access.keys import new_key
from search.settings import Settings
from search.storage.elastic import ElasticsearchStore
from search.storage.factory import open_store
from search.watching.factory import open_watching
from search.watching.service import Watching
from search.watching.store import AlertFilter
from tests import es_harness

FOLDER = Path("var/bench/realistic")


# The cluster's URL with --elasticsearch (else the SQLite file only). A store path names a store
# on either backend: on the cluster, the index prefix is made from its file name.
ES: dict[str, str] = {}


def prefix_of(store: Path) -> str:
    return f"bench-{store.stem}"


def env_of(store: Path, **extra: str) -> dict[str, str]:
    env = {"SUSPECTS_STORE": str(store), "SUSPECTS_LOG_LEVEL": "WARNING", **ES, **extra}
    return env | ({"SUSPECTS_ES_INDEX_PREFIX": prefix_of(store)} if ES else {})


def settings_of(store: Path) -> Settings:
    if not ES:
        return Settings(store=store)
    return Settings(store=store, es_url=ES["SUSPECTS_ES_URL"], es_index_prefix=prefix_of(store))


def watching_of(store: Path) -> tuple[Watching, Any]:
    settings = settings_of(store)
    records = open_store(settings)
    w = open_watching(settings, records)
    assert w is not None
    return w, records


def add_entries(store: Path, queries: list[dict[str, str]]) -> float:
    """``queries`` as standing entries, spread over the 11 offices; seconds taken."""
    if ES:  # entries before the first load: the records index a load would make, empty
        ElasticsearchStore(ES["SUSPECTS_ES_URL"], prefix_of(store)).ensure_index()
    w, records = watching_of(store)
    t = time.perf_counter()
    offices = list(OFFICES)
    lists = {o: w.create_list(o, "bench").list_id for o in offices}
    batch: dict[str, list[Any]] = {o: [] for o in offices}
    for i, q in enumerate(queries):
        o = offices[i % len(offices)]
        batch[o].append(w.new_entry(o, lists[o], q["name"], q.get("entity_type")))
    for o in offices:
        for start in range(0, len(batch[o]), 500):
            w.add(o, lists[o], batch[o][start : start + 500])
    seconds = time.perf_counter() - t
    w.store.close()
    records.close()
    return seconds


def equivalence(store: Path) -> None:
    """Every entry screened forward (the /match definition) against the open alerts."""
    w, records = watching_of(store)
    t = time.perf_counter()
    expected: set[tuple[str, str, str]] = set()
    ids = w.store.all_entry_ids()
    for start in range(0, len(ids), 500):
        for e in w.store.entries_by_id(ids[start : start + 500]).values():
            for doc, seen in w.watcher.forward(e).items():
                expected.add((e.entry_id, doc, seen.verdict))
    got: set[tuple[str, str, str]] = set()
    for office in OFFICES:
        after = 0
        while True:
            page = w.store.alerts(AlertFilter(office, after, 10_000, "open"))
            got.update((a.entry_id, f"{a.record_office}:{a.record_id}", a.verdict) for a in page)
            if len(page) < 10_000:
                break
            after = page[-1].seq
    print(
        f"equivalence over {len(ids):,} entries ({time.perf_counter() - t:.0f} s): /match reports {len(expected):,} "
        f"(entry, record) pairs, open alerts {len(got):,}; equal: {got == expected} "
        f"(missing {len(expected - got)}, extra {len(got - expected)})"
    )
    w.store.close()
    records.close()


def bench_load(n: int, entries: int) -> None:
    records = generate(FOLDER, n)
    queries = [q for _, q in watchlist(records, entries, seed=23)]
    work = Path(tempfile.mkdtemp(prefix="watch-bench-", dir="var/bench"))
    plain, watched = work / "plain.db", work / "watched.db"
    print(f"{len(records):,} records in 11 office files; {len(queries):,} standing entries over 11 offices")
    per_plain = {o: suspects(env_of(plain), "load", str(FOLDER / "first" / f)) for o, f in FILES.items()}
    t_plain = sum(per_plain.values())
    print(f"11 files, no watchlists: {t_plain:.1f} s")
    print(f"adding the entries to an empty store: {add_entries(watched, queries):.1f} s")
    per_watched = {o: suspects(env_of(watched), "load", str(FOLDER / "first" / f)) for o, f in FILES.items()}
    t_watched = sum(per_watched.values())
    print(
        "file by file, watched vs plain: "
        + ", ".join(f"{o} {per_watched[o]:.1f} vs {per_plain[o]:.1f} s" for o in FILES)
    )
    w, rec = watching_of(watched)
    alerts = sum(len(w.store.alerts(AlertFilter(o, 0, 1_000_000))) for o in OFFICES)
    w.store.close()
    rec.close()
    print(
        f"11 files, {len(queries):,} standing entries: {t_watched:.1f} s = +{t_watched / t_plain - 1:.1%} "
        f"({alerts:,} alerts)"
    )
    t_again = sum(suspects(env_of(watched), "load", str(FOLDER / "changed" / f)) for f in FILES.values())
    w, rec = watching_of(watched)
    after = sum(len(w.store.alerts(AlertFilter(o, 0, 1_000_000))) for o in OFFICES)
    w.store.close()
    rec.close()
    t_plain_again = sum(suspects(env_of(plain), "load", str(FOLDER / "changed" / f)) for f in FILES.values())
    print(
        f"reload with 5 % changed: {t_again:.1f} s watched vs {t_plain_again:.1f} s plain = "
        f"+{t_again / t_plain_again - 1:.1%}; new alerts {after - alerts:,}"
    )
    equivalence(watched)
    shutil.rmtree(work)


def bench_last(n: int, entries: int, office: str) -> None:
    records = generate(FOLDER, n)
    queries = [q for _, q in watchlist(records, entries, seed=23)]
    base = FOLDER / f"last-{office}-{entries}"
    plain, watched = base / "plain.db", base / "watched.db"
    if not (base / "done").exists():
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        for o, f in FILES.items():
            if o != office:
                suspects(env_of(plain), "load", str(FOLDER / "first" / f))
        shutil.copy(plain, watched)
        add_entries(watched, queries)  # each screened forward against the ten offices' records
        (base / "done").touch()
    work = Path(tempfile.mkdtemp(prefix="watch-last-", dir="var/bench"))
    for name in ("plain.db", "watched.db"):
        shutil.copy(base / name, work / name)
    t_plain = suspects(env_of(work / "plain.db"), "load", str(FOLDER / "first" / FILES[office]))
    t_watched = suspects(env_of(work / "watched.db"), "load", str(FOLDER / "first" / FILES[office]))
    print(
        f"{office}'s file into the other ten offices' records: {t_plain:.1f} s without watchlists, "
        f"{t_watched:.1f} s with {len(queries):,} standing entries (+{t_watched / t_plain - 1:.1%})"
    )
    shutil.rmtree(work)


class Receiver:
    """A webhook receiver on loopback: arrival time per idempotency key, every request counted."""

    def __init__(self, port: int = 0) -> None:
        self.arrivals: dict[str, float] = {}
        self.requests = 0
        me = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                me.requests += 1
                me.arrivals.setdefault(self.headers["Idempotency-Key"], time.time())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _setup(store: Path, url: str) -> tuple[Settings, str]:
    """A store with one CN-GD file, a CN-HK webhook to ``url`` and a CN-HK list; the list id."""
    records = generate(Path("var/bench/realistic-small"), 5000)
    assert records
    suspects(env_of(store), "load", str(Path("var/bench/realistic-small/first") / FILES["CN-GD"]))
    settings = settings_of(store)
    w, rec = watching_of(store)
    w.add_hook("CN-HK", url, None)
    list_id = w.create_list("CN-HK", "bench").list_id
    w.store.close()
    rec.close()
    access = open_access(settings)
    key, _ = new_key("CN-HK", "analyst", "bench")
    access.add_key(key)
    access.close()
    return settings, list_id


def _partner_load(store: Path, folder: Path, i: int, list_id: str) -> tuple[float, float]:
    """A new entry and a CN-FJ file with its record; the load's start and end times."""
    name = f"{random.choice('赵钱孙李周吴郑王')}{random.choice('家国明华')}{chr(0x4E00 + 500 + i)}"
    w, rec = watching_of(store)
    w.add("CN-HK", list_id, [w.new_entry("CN-HK", list_id, name, "person", None, "1970-01-01")])
    w.store.close()
    rec.close()
    path = folder / f"fj-{i}.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["office", "record_id", "entity_type", "name", "birth_date"])
        out.writerow(["CN-FJ", f"BENCH-{i}", "person", name, "1970-01-01"])
    start = time.time()
    suspects(env_of(store), "load", str(path))
    return start, time.time()


def bench_latency(loads: int) -> None:
    rx = Receiver()
    work = Path(tempfile.mkdtemp(prefix="watch-latency-", dir="var/bench"))
    store = work / "s.db"
    _, list_id = _setup(store, f"http://127.0.0.1:{rx.port}/hook")
    uppers: list[float] = []
    lowers: list[float] = []
    with served(store, 8791, SUSPECTS_WEBHOOK_POLL_SECONDS="1.0", **env_of(store)):
        for i in range(loads):
            before = set(rx.arrivals)
            start, end = _partner_load(store, work, i, list_id)
            deadline = time.time() + 60
            while set(rx.arrivals) == before and time.time() < deadline:
                time.sleep(0.01)  # a benchmark's poll of its own receiver, not a test's synchronisation
            new = [rx.arrivals[k] for k in set(rx.arrivals) - before]
            uppers.extend(a - start for a in new)
            lowers.extend(a - end for a in new)
    rx.stop()
    q = sorted(uppers)
    print(
        f"{len(q)} alerts from {loads} loads: load start → webhook p50 {q[len(q) // 2]:.2f} s, "
        f"p95 {q[int(len(q) * 0.95)]:.2f} s, max {q[-1]:.2f} s; "
        f"load exit → webhook p95 {sorted(lowers)[int(len(lowers) * 0.95)]:.2f} s"
    )


def bench_outage(down: float) -> None:
    rx = Receiver()
    port = rx.port
    work = Path(tempfile.mkdtemp(prefix="watch-outage-", dir="var/bench"))
    store = work / "s.db"
    _, list_id = _setup(store, f"http://127.0.0.1:{port}/hook")
    rx.stop()  # down: connections refused
    with served(store, 8792, **env_of(store)):
        t0 = time.time()
        for i in range(10):
            _partner_load(store, work, i, list_id)
        w, rec = watching_of(store)
        owed = {f"alert-{a.seq}" for a in w.store.alerts(AlertFilter("CN-HK", 0, 10_000))}
        w.store.close()
        rec.close()
        while time.time() - t0 < down:
            time.sleep(1)  # the outage itself
        rx = Receiver(port)
        print(f"receiver down {time.time() - t0:.0f} s with {len(owed)} alerts owed; back now")
        back = time.time()
        while set(rx.arrivals) != owed and time.time() - back < 3600:
            time.sleep(1)
        print(
            f"all {len(owed)} delivered {time.time() - back:.0f} s after the receiver came back: "
            f"{set(rx.arrivals) == owed}; requests received {rx.requests} "
            f"(duplicates by idempotency key: {rx.requests - len(rx.arrivals)})"
        )
        # The worker marks a delivery delivered after the receiver answered: the last arrival can
        # come before its mark (one of 14 read pending on Elasticsearch on 5 Dec); read the log
        # until nothing is pending, for up to a minute.
        w, rec = watching_of(store)
        settled = time.time()
        log = w.store.deliveries("CN-HK", None, 10_000)
        while any(d.status == "pending" for d in log) and time.time() - settled < 60:
            time.sleep(0.5)
            log = w.store.deliveries("CN-HK", None, 10_000)
        counts = {s: sum(d.status == s for d in log) for s in ("delivered", "pending", "dead")}
        print(f"delivery log {time.time() - settled:.1f} s after the last arrival: " + json.dumps(counts))
        w.store.close()
        rec.close()
    rx.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("part", choices=("load", "latency", "outage", "last"))
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--loads", type=int, default=20)
    parser.add_argument("--down", type=float, default=600.0)
    parser.add_argument("--office", default="CN-HK", choices=sorted(FILES))
    parser.add_argument("--elasticsearch", action="store_true", help="a local one-node cluster instead of SQLite")
    parser.add_argument("--heap", default="1g", help="the Elasticsearch node's heap")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.elasticsearch:
            if args.part == "last":
                parser.error("--elasticsearch is for load, latency and outage (last copies SQLite files)")
            cluster = stack.enter_context(es_harness.running(1, heap=args.heap))
            ES.update(SUSPECTS_ES_URL=cluster.url)
            print(f"Elasticsearch {es_harness.VERSION}, one node, heap {args.heap}")
        run(args)


def run(args: argparse.Namespace) -> None:
    global FOLDER
    if args.n != 1_000_000:
        FOLDER = Path(f"var/bench/realistic{args.n // 1000}k")
    if args.part == "load":
        bench_load(args.n, args.entries)
    elif args.part == "last":
        bench_last(args.n, args.entries, args.office)
    elif args.part == "latency":
        bench_latency(args.loads)
    else:
        bench_outage(args.down)


if __name__ == "__main__":
    main()
