"""A three-node Elasticsearch cluster on loopback (one replica per shard), and a node killed with
SIGKILL in the middle of the work: while a load runs and while /match is under load.

What must hold (README, "Elasticsearch"): no /match answer is a 5xx other than the documented 503
with Retry-After; no committed record is lost; the load completes, or is rerun, with
``read = stored + rejected``; the cluster heals when the node returns; and a reindex with an alias
swap under a continuous reader never gives an empty or partial answer.
"""

from __future__ import annotations

import csv
import random
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from indexer.intake.offices import load_profile
from indexer.keys import profile_keys
from indexer.records import profile
from indexer.synth.entities import Generator
from search.errors import StoreUnavailable
from search.ingest import LoadReport, load_file
from search.storage.base import Store
from search.storage.elastic import ElasticsearchStore
from search.storage.factory import open_store
from tests import es_harness
from tests.backends import Backend, make_tokens
from tests.conftest import Server, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.elasticsearch]
HEADER = ["office", "record_id", "entity_type", "name", "aliases", "id_number", "birth_date", "gender"]


@pytest.fixture(scope="module")
def cluster(es_url: str) -> Iterator[es_harness.Cluster]:
    """Three nodes of the same server as the session's cluster (``es_url`` makes CI fail rather
    than skip where the harness cannot run)."""
    reason = es_harness.available()
    if reason is not None:
        pytest.fail(f"a three-node cluster needs the harness: {reason}")
    with es_harness.running(3) as started:
        yield started


def _write(path: Path, n: int, seed: int) -> list[str]:
    g = Generator(seed)
    names = []
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(n):
            p = g.person()
            names.append(p.han)
            w.writerow(["CN-GD", f"FO{seed}-{i}", "person", p.han, "", "", p.birth_date, p.gender])
    return names


def _load_until_done(settings_url: str, prefix: str, path: Path, timeout: float = 300) -> LoadReport:
    """Load the file; if the cluster is unavailable mid-way (a node just died), load it again:
    reloading is idempotent, so the second pass stores what the first could not."""
    attempts: list[str] = []
    report: LoadReport | None = None

    def attempt() -> bool:
        nonlocal report
        store = ElasticsearchStore(settings_url, prefix, timeout=5)
        try:
            report = load_file(store, path, "CN-GD", load_profile("cn-gd"), None, 1)
            return True
        except StoreUnavailable as exc:
            attempts.append(exc.message)
            return False
        finally:
            store.close()

    wait_until(attempt, timeout, f"a complete load (attempts that met an outage: {attempts})", every=1)
    print(f"load attempts that met the outage: {len(attempts)} {attempts[:3]}")
    assert report is not None
    return report


def test_kill_a_node_during_a_load_and_under_match_load(
    cluster: es_harness.Cluster, sample_files: dict[str, Path], tmp_path: Path
) -> None:
    backend = Backend("elasticsearch", ",".join(cluster.urls))
    settings = backend.settings(tmp_path, es_timeout=5)
    try:
        backend.load_samples(settings, sample_files)
        tokens = make_tokens(settings)
        big = tmp_path / "big.csv"
        names = _write(big, 20_000, seed=31)
        statuses: Counter[int] = Counter()
        bad: list[str] = []
        stop = threading.Event()

        with Server(settings) as server:

            def query() -> None:
                rng = random.Random(5)
                headers = {"Authorization": f"Bearer {tokens['system']}"}
                with httpx.Client(base_url=server.url, timeout=60, headers=headers) as c:
                    while not stop.is_set():
                        body = {"queries": [{"name": rng.choice([*names[:2000], "陳大文", "CHAN Tai Man"])}]}
                        r = c.post("/match", json=body)
                        statuses[r.status_code] += 1
                        if r.status_code >= 500 and not (r.status_code == 503 and "retry-after" in r.headers):
                            bad.append(f"{r.status_code} {r.text[:200]}")

            readers = [threading.Thread(target=query) for _ in range(2)]
            for t in readers:
                t.start()
            loader_result: list[LoadReport] = []
            loader = threading.Thread(
                target=lambda: loader_result.append(
                    _load_until_done(settings.es_url or "", settings.es_index_prefix, big)
                )
            )
            loader.start()
            # Kill a node once the load is under way and /match has been answered a few times.
            wait_until(lambda: sum(statuses.values()) >= 20, 60, "the readers to get going")
            victim = cluster.nodes[1]
            victim.kill(signal.SIGKILL)
            loader.join(600)
            assert loader_result, "the load never completed"
            report = loader_result[0]
            wait_until(lambda: sum(statuses.values()) >= 200, 120, "200 /match answers")
            stop.set()
            for t in readers:
                t.join(60)

        print(f"/match answers while a node died: {dict(statuses)}; load: read {report.read}, stored {report.stored}")
        assert bad == [], bad[:5]
        assert statuses[200] > 0 and set(statuses) <= {200, 503}, statuses
        assert report.read == report.stored + len(report.rejected) and not report.rejected
        store: Store = open_store(settings)
        try:
            counts = store.counts()
            # Every record of the big file, plus the sample CN-GD office, is there: none lost.
            assert counts["CN-GD"]["person"] >= 20_000
            found = store.get_many([f"CN-GD:FO31-{i}" for i in range(0, 20_000, 997)])
            assert len(found) == len(range(0, 20_000, 997))
        finally:
            store.close()

        # The node comes back; the cluster heals (every replica assigned again).
        cluster.start_node(victim)
        cluster.wait_healthy("green")
    finally:
        backend.drop_all()


def test_reindex_under_a_continuous_reader_on_three_nodes(
    cluster: es_harness.Cluster, sample_files: dict[str, Path], tmp_path: Path
) -> None:
    backend = Backend("elasticsearch", ",".join(cluster.urls))
    settings = backend.settings(tmp_path)
    store = ElasticsearchStore(settings.es_url, settings.es_index_prefix)

    def fill(target: Store) -> None:
        for office, path in sample_files.items():
            load_file(target, path, office, load_profile(office.lower()), None, 1)

    try:
        store.reindex(fill)
        keys = profile_keys(profile("person", "陳大文", (), None, "1971-02-11"))
        expected = {c.id for c in store.candidates(keys, "person", None, 10)}
        assert len(expected) >= 3
        answers: list[set[str]] = []
        stop = threading.Event()

        def reader() -> None:
            while not stop.is_set():
                answers.append({c.id for c in store.candidates(keys, "person", None, 10)})

        t = threading.Thread(target=reader)
        t.start()
        try:
            store.reindex(fill)
        finally:
            stop.set()
            t.join(60)
        assert len(answers) > 10
        assert all(a == expected for a in answers), [a for a in answers if a != expected][:3]
        assert len(store.alias_target()) == 1
    finally:
        store.close()
        backend.drop_all()
