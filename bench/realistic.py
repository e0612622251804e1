"""The realistic workload (issue #17): office exports loaded one by one, then single /match queries
from a mixed watchlist.

    python bench/realistic.py [--n 1000000] [--folder var/bench/realistic] [--skip-load]
    python bench/realistic.py --elasticsearch [--heap 1g]   # the same run on a local one-node cluster

(a) Loading. The sample offices' generator (``indexer/synth/offices.py``: each office's own format,
encoding, headers and conventions; a suspect is held by one to four offices) scaled to ``--n``
records, written as the 11 office files. Prints a bare ``pypinyin.lazy_pinyin`` pass over the
names (the baseline); ``suspects load`` of the same rows as one canonical CSV into an empty store;
``suspects load`` of each office file in turn into another empty store (one command per office,
as exports arrive); then each file again with 5 % of its rows changed.

(b) Querying, with ``suspects serve`` on the 11-file store: a watchlist drawn from the stored
suspects and from people and companies nobody stored, in every script and romanization (see
``FORMS``), half of them typed. Single queries over one keep-alive connection (p50/p90/p99/max
overall and per form, server CPU per query), then over 8 concurrent connections (queries/s,
p50/p99), and the server's resident memory.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import http.client
import json
import os
import pickle
import random
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from pypinyin import lazy_pinyin
from serving import served

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.es_harness, run as a script

from indexer.intake.offices import CANONICAL, load_profile
from indexer.synth import render
from indexer.synth.entities import Company, Generator, Person
from indexer.synth.offices import FILES, SampleRecord, sample_records, write_office_files
from search.access.factory import open_access
from search.access.keys import new_key
from search.settings import Settings
from tests import es_harness

RECORDS_PER_ENTITY = 2.06  # sample_records: 5,147 records from 2,500 entities
CHANGED = 0.05
FORMS = (
    "person as an office wrote it",
    "person traditional",
    "person pinyin",
    "person pinyin reversed",
    "person Wade-Giles",
    "company as an office wrote it",
    "company brand + industry",
    "person nobody stored",
    "company nobody stored",
)


def suspects(env: dict[str, str], *args: str) -> float:
    """Run ``suspects ARGS`` with ``SUSPECTS_*`` settings ``env``; its wall time (it must succeed)."""
    t = time.perf_counter()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SUSPECTS_")}
    cmd = [str(Path(sys.executable).parent / "suspects"), *args]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=clean | env)
    return time.perf_counter() - t


def one_file(path: Path, records: list[SampleRecord]) -> None:
    """The same rows as one canonical CSV with an office column."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CANONICAL[:12])
        for r in records:
            f = r.fields
            row = {**f, "office": r.office, "aliases": "|".join(f.get("aliases") or [])}
            w.writerow(["" if row.get(c) is None else row[c] for c in CANONICAL[:12]])


def changed(records: list[SampleRecord], rng: random.Random) -> list[SampleRecord]:
    """A copy with 5 % of the records changed: a new case, or (one in five) a new alias."""
    out = []
    for r in records:
        if rng.random() < CHANGED:
            fields = dict(r.fields)
            if rng.random() < 0.2 and fields["entity_type"] == "person":
                fields["aliases"] = [*(fields.get("aliases") or []), "Ah " + fields["name"][-1:]]
            else:
                fields["case_id"] = f"{fields['case_id']}-R"
                fields["case_date"] = "2026-11-30"
            r = SampleRecord(r.office, r.entity, fields)
        out.append(r)
    return out


def encodable(r: SampleRecord) -> bool:
    """Can the office's file encoding (Big5-HKSCS for Hong Kong) write this record? The generator
    draws traditional forms a few of which Big5-HKSCS lacks; such records are left out."""
    encoding = load_profile(r.office.lower()).encoding
    if not encoding:
        return True
    try:
        json.dumps(r.fields, ensure_ascii=False).encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def generate(folder: Path, n: int) -> list[SampleRecord]:
    """The sample records and their office files (written once; the records are kept in a pickle:
    generating a million of them takes minutes)."""
    done, kept = folder / f"generated-{n}", folder / f"records-{n}.pickle"
    if done.exists() and kept.exists():
        with kept.open("rb") as fh:
            cached: list[SampleRecord] = pickle.load(fh)  # our own file, written below
        return cached
    entities = round(n / RECORDS_PER_ENTITY)
    records = [
        r
        for r in sample_records(seed=17, persons=round(entities * 0.72), companies=round(entities * 0.28))
        if encodable(r)
    ]
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        t = time.perf_counter()
        write_office_files(folder / "first", records)
        write_office_files(folder / "changed", changed(records, random.Random(5)))
        one_file(folder / "all.csv", records)
        done.touch()
        print(f"wrote the office files in {time.perf_counter() - t:.0f} s (not counted)")
    with kept.open("wb") as fh:
        pickle.dump(records, fh)
    return records


def load(folder: Path, records: list[SampleRecord], backend: Callable[[str], dict[str, str]]) -> None:
    names = [r.fields["name"] for r in records]
    t = time.perf_counter()
    for name in names:
        lazy_pinyin(name)
    baseline = time.perf_counter() - t
    print(f"{len(records):,} records in 11 office files; bare lazy_pinyin pass over the names: {baseline:.1f} s")

    one = suspects(backend("one"), "load", str(folder / "all.csv"))
    print(f"one canonical file: {one:.1f} s ({len(records) / one:,.0f} records/s, {one / baseline:.2f}x baseline)")
    per_file = []
    for office, filename in FILES.items():
        per_file.append((office, suspects(backend("eleven"), "load", str(folder / "first" / filename))))
    total = sum(s for _, s in per_file)
    print(
        f"11 office files, one load each: {total:.1f} s = {total / one:.2f}x one file, {total / baseline:.2f}x baseline"
    )
    print("  " + ", ".join(f"{o} {s:.1f}" for o, s in per_file))
    again = sum(suspects(backend("eleven"), "load", str(folder / "changed" / f)) for f in FILES.values())
    print(
        f"reload of the 11 files with {CHANGED:.0%} of rows changed: {again:.1f} s = {again / total:.0%} of the first"
    )


def spelled(form: str, han: str) -> str:
    """A name in characters as an investigator types it in one of the person ``FORMS``."""
    py = lazy_pinyin(han)
    if form == "person traditional":
        return render.traditional(han)
    if form == "person pinyin":
        return f"{py[0].capitalize()} {''.join(py[1:]).capitalize()}"
    if form == "person pinyin reversed":
        return f"{''.join(py[1:]).capitalize()} {py[0].upper()}"
    return " ".join(s.capitalize() for s in render.wade_giles(py))


def watchlist(records: list[SampleRecord], size: int, seed: int) -> list[tuple[str, dict[str, str]]]:
    """(form, query) pairs: suspects the offices hold, in every script, and names nobody stored."""
    rng = random.Random(seed)
    g = Generator(seed + 1000)
    people = [r for r in records if r.fields["entity_type"] == "person"]
    han_people = [r for r in people if r.office not in ("CN-HK", "CN-MO")]
    companies = [r for r in records if r.fields["entity_type"] == "company"]
    out: list[tuple[str, dict[str, str]]] = []
    while len(out) < size:
        form = rng.choice(FORMS)
        if form == "person as an office wrote it":
            name, kind = rng.choice(people).fields["name"], "person"
        elif form.startswith("person") and form != "person nobody stored":
            name, kind = spelled(form, rng.choice(han_people).fields["name"]), "person"
        elif form == "company as an office wrote it":
            name, kind = rng.choice(companies).fields["name"], "company"
        elif form == "company brand + industry":
            c = rng.choice(companies).fields["name"]
            name, kind = c.split("（")[0].removesuffix("有限公司").removesuffix("有限责任公司"), "company"
        elif form == "person nobody stored":
            p: Person = g.person()
            name, kind = (p.han if rng.random() < 0.5 else " ".join(lazy_pinyin(p.han)).title()), "person"
        else:
            c2: Company = g.company()
            name, kind = c2.han, "company"
        query = {"name": name, "entity_type": kind} if rng.random() < 0.5 else {"name": name}
        out.append((form, query))
    return out


class Client:
    """One keep-alive connection, as an automated pre-raid system holds it."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def match(self, query: dict[str, str]) -> float:
        t = time.perf_counter()
        self.conn.request("POST", "/match", json.dumps({"queries": [query]}), self.headers)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {data[:200]!r}")
        return (time.perf_counter() - t) * 1000


def processes(pid: int) -> list[int]:
    """The server's process and the request processes it forked (``--processes``)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *map(int, children)]


def tree_cpu(pid: int) -> float:
    return sum(cpu_seconds(p) for p in processes(pid))


def node_cpu(pid: int) -> float:
    """CPU seconds of an Elasticsearch node's whole process tree (its launcher starts the server
    JVM as a child, from another thread than its first: every thread's children are read)."""
    children = {c for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()}
    return cpu_seconds(pid) + sum(node_cpu(int(c)) for c in children)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


def pss_mb(pid: int) -> float:
    """Proportional set size: pages shared by the forked processes counted once in all."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def quantiles(values: list[float]) -> str:
    v = sorted(values)

    def pick(q: float) -> float:
        return v[min(len(v) - 1, int(len(v) * q))]

    return f"p50 {pick(0.5):.2f}  p90 {pick(0.9):.2f}  p99 {pick(0.99):.2f}  max {v[-1]:.2f} ms"


def query(
    port: int, token: str, pid: int, queries: list[tuple[str, dict[str, str]]], seconds: float, node: int | None = None
) -> None:
    """The query phases; ``node``: the Elasticsearch node's pid, whose CPU a query is printed too
    (it shares this machine's cores with the server)."""
    client = Client(port, token)
    for _, q in queries[:300]:  # warm-up: the store's pages, the name caches
        client.match(q)
    singles = queries[300:]
    by_form: dict[str, list[float]] = {f: [] for f in FORMS}
    cpu0, node0 = tree_cpu(pid), node_cpu(node) if node else 0.0
    for form, q in singles:
        by_form[form].append(client.match(q))
    cpu, node_used = tree_cpu(pid) - cpu0, node_cpu(node) - node0 if node else 0.0
    every = [x for v in by_form.values() for x in v]
    print(f"single /match, one keep-alive connection, {len(every):,} queries: {quantiles(every)}")
    print(f"  server CPU per query: {cpu / len(every) * 1000:.2f} ms")
    if node:
        print(f"  Elasticsearch node CPU per query: {node_used / len(every) * 1000:.2f} ms")
    for form, values in by_form.items():
        print(f"  {form:32} n={len(values):4}  {quantiles(values)}")

    lat: list[float] = []
    until = time.perf_counter() + seconds
    lock = threading.Lock()

    def worker(i: int) -> None:
        c = Client(port, token)
        rng = random.Random(i)
        mine = []
        while time.perf_counter() < until:
            mine.append(c.match(rng.choice(singles)[1]))
        with lock:
            lat.extend(mine)

    every_pid = processes(pid)
    per0, t0 = [cpu_seconds(p) for p in every_pid], time.perf_counter()
    node0 = node_cpu(node) if node else 0.0
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    elapsed = time.perf_counter() - t0
    per = [cpu_seconds(p) - c for p, c in zip(every_pid, per0, strict=True)]
    node_used = node_cpu(node) - node0 if node else 0.0
    print(
        f"8 concurrent connections, {elapsed:.0f} s: {len(lat) / elapsed:,.0f} queries/s, {quantiles(lat)}; "
        f"server CPU per query {sum(per) / len(lat) * 1000:.2f} ms"
        + (f", Elasticsearch node CPU per query {node_used / len(lat) * 1000:.2f} ms" if node else "")
    )
    if len(every_pid) > 1:  # the parent only watches; each request process's share shows the split
        print("  CPU seconds per request process: " + ", ".join(f"{c:.1f}" for c in per[1:]))
    print(
        "server RSS: " + " + ".join(f"{rss_mb(p):.0f}" for p in every_pid) + " MB; "
        f"PSS (shared pages counted once) {sum(pss_mb(p) for p in every_pid):.0f} MB in all"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--folder", type=Path, default=Path("var/bench/realistic"))
    parser.add_argument("--queries", type=int, default=3300)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--skip-load", action="store_true", help="query the store of a previous run")
    parser.add_argument("--elasticsearch", action="store_true", help="a local one-node cluster instead of SQLite")
    parser.add_argument("--heap", default="1g", help="the Elasticsearch node's heap")
    parser.add_argument("--processes", type=int, default=1, help="suspects serve's request processes")
    args = parser.parse_args()
    records = generate(args.folder, args.n)
    with contextlib.ExitStack() as stack:
        es_url, node = None, None
        if args.elasticsearch:
            cluster = stack.enter_context(es_harness.running(1, heap=args.heap, folder=args.folder.resolve()))
            es_url = cluster.url
            started = cluster.nodes[0].process
            node = started.pid if started is not None else None
            print(f"Elasticsearch {es_harness.VERSION}, one node, heap {args.heap}")
        # A run on Elasticsearch keeps its own files: it must not delete a SQLite run's stores.
        suffix = "-es" if args.elasticsearch else ""
        stores = {name: args.folder / f"{name}-{args.n}{suffix}.db" for name in ("one", "eleven")}
        settings = {
            name: Settings(store=path, es_url=es_url, es_index_prefix=f"bench-{name}") for name, path in stores.items()
        }

        def backend(name: str) -> dict[str, str]:
            s = settings[name]
            env = {"SUSPECTS_STORE": str(s.store)}
            return env | ({"SUSPECTS_ES_URL": es_url, "SUSPECTS_ES_INDEX_PREFIX": s.es_index_prefix} if es_url else {})

        if not args.skip_load:
            for path in stores.values():
                for p in path.parent.glob(path.name + "*"):
                    p.unlink()
            load(args.folder, records, backend)
            size = on_disk(settings["eleven"])
            print(f"store: {size / 1e9:.2f} GB on disk ({size / len(records):,.0f} bytes per record)")
        access = open_access(settings["eleven"])
        key, token = new_key("CN-GD", "system", "bench/realistic.py")
        access.add_key(key)
        access.close()
        unlimited = {
            "SUSPECTS_RATE_LIMIT_BURST": "100000000",
            "SUSPECTS_RATE_LIMIT_PER_MINUTE": "100000000",
            "SUSPECTS_SERVE_PROCESSES": str(args.processes),
        }
        with served(stores["eleven"], args.port, **unlimited, **backend("eleven")) as server:
            query(args.port, token, server.pid, watchlist(records, args.queries, 23), args.seconds, node)


def on_disk(settings: Settings) -> int:
    """Bytes the store takes: the SQLite file (with its WAL), or the records index's store size."""
    if not settings.es_url:
        return sum(p.stat().st_size for p in settings.store.parent.glob(settings.store.name + "*"))
    url = f"{settings.es_url}/_cat/indices/{settings.es_index_prefix}-records*?format=json&bytes=b"
    with urllib.request.urlopen(url) as r:
        return sum(int(row["store.size"]) for row in json.loads(r.read()))


if __name__ == "__main__":
    main()
