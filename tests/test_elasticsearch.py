"""The same behavioural suite on a real Elasticsearch cluster, and candidate parity with SQLite.

Runs wherever ``SUSPECTS_ES_URL`` points at a cluster (``docker compose up -d es``); skipped with the
reason otherwise, and ``SUSPECTS_REQUIRE_ES=1`` turns that skip into a failure. Each run uses its own
index prefix and deletes its indexes at the end. There is no imitation of Elasticsearch here.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.keys import profile_keys
from indexer.loading import load_profile
from indexer.records import profile
from indexer.synth.pairs import generate_pairs
from search.engine import Matcher, Query
from search.ingest import load_file
from search.settings import Settings
from search.sqlite_store import SQLiteStore
from tests.conftest import es_url_or_skip

pytestmark = pytest.mark.elasticsearch


@pytest.fixture(scope="module")
def es_store() -> Iterator[object]:
    settings = Settings()
    url = es_url_or_skip()
    from search.es_store import ElasticsearchStore

    store = ElasticsearchStore(url, prefix=f"suspects-test-{uuid.uuid4().hex[:8]}")
    try:
        store.es.cluster.health(wait_for_status="yellow", timeout="30s")
    except Exception as exc:  # unreachable cluster: same skip/fail rule
        if settings.require_es:
            pytest.fail(f"Elasticsearch at {settings.es_url} not reachable: {exc}")
        pytest.skip(f"Elasticsearch at {settings.es_url} not reachable: {exc}")
    yield store
    store.es.indices.delete(index=f"{store.prefix}-*", ignore_unavailable=True, allow_no_indices=True)
    store.close()


def _load_all(store: object, sample_files: dict[str, Path]) -> None:
    for office, path in sample_files.items():
        report = load_file(store, path, office, load_profile(office.lower()), None, 1)  # type: ignore[arg-type]
        assert report.reconciled and not report.rejected


def test_reindex_load_match_reload_withdraw(es_store: object, sample_files: dict[str, Path]) -> None:
    from search.es_store import ElasticsearchStore

    assert isinstance(es_store, ElasticsearchStore)
    es_store.reindex(lambda s: _load_all(s, sample_files))
    counts = es_store.counts()
    assert len(counts) == 11 and sum(sum(c.values()) for c in counts.values()) >= 5000
    result = Matcher(es_store).match(Query("CHAN Tai Man", birth_date="1971-02-11"))
    assert set(result.offices()) == {"CN-GD", "CN-HK", "CN-MO"}
    again = load_file(es_store, sample_files["CN-GD"], "CN-GD", load_profile("cn-gd"), None, 1)
    assert again.unchanged == again.read and again.inserted == 0
    gd = next(m for m in result.matches if m.record.office == "CN-GD")
    assert es_store.withdraw("CN-GD", gd.record.record_id)
    assert not es_store.withdraw("CN-GD", gd.record.record_id)
    after = Matcher(es_store).match(Query("CHAN Tai Man", birth_date="1971-02-11"))
    assert "CN-GD" not in after.offices()
    assert es_store.ping()["backend"] == "elasticsearch"


def test_alias_swap_has_no_gap(es_store: object, sample_files: dict[str, Path]) -> None:
    from search.es_store import ElasticsearchStore

    assert isinstance(es_store, ElasticsearchStore)
    es_store.reindex(lambda s: _load_all(s, sample_files))
    keys = profile_keys(profile("person", "陳大文"))
    misses: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            misses.append(int(not es_store.candidates(keys, "person", None, 10)))

    t = threading.Thread(target=reader)
    t.start()
    try:
        es_store.reindex(lambda s: _load_all(s, sample_files))
    finally:
        stop.set()
        t.join()
    assert len(misses) > 0 and sum(misses) == 0
    assert len(es_store.alias_target()) == 1


def test_candidate_parity_with_sqlite(es_store: object, sample_files: dict[str, Path], tmp_path: Path) -> None:
    from search.es_store import ElasticsearchStore

    assert isinstance(es_store, ElasticsearchStore)
    es_store.reindex(lambda s: _load_all(s, sample_files))
    sqlite = SQLiteStore(tmp_path / "parity.db")
    _load_all(sqlite, sample_files)
    pairs = generate_pairs(5, 5)
    for pair in pairs:
        q = pair.query
        keys = profile_keys(profile(q["entity_type"], q["name"], (), q.get("id_number"), q.get("birth_date")))
        a = [(c.id, c.weight) for c in sqlite.candidates(keys, q["entity_type"], None, 50)]
        b = [(c.id, c.weight) for c in es_store.candidates(keys, q["entity_type"], None, 50)]
        assert a == b, q["name"]
    sqlite.close()
