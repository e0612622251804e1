"""What only the Elasticsearch backend has, on a real cluster: reindex with an alias swap (and no
gap for a reader while it happens), candidate parity with SQLite, and a network outage.

The cluster is the session's (``es_url`` in conftest: ``SUSPECTS_ES_URL``, or one started by
tests/es_harness.py); each module uses its own index prefix and deletes its indexes at the end.
Everything else runs on both backends through the ``backend`` fixture parameter.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from elasticsearch import BadRequestError

from indexer.intake.offices import load_profile
from indexer.keys import KEYS_VERSION, profile_keys
from indexer.records import Record, profile
from indexer.synth.pairs import generate_pairs
from search.access.elastic import ElasticsearchAccess
from search.access.keys import new_key
from search.errors import Busy
from search.ingest import load_file
from search.matching.matcher import Matcher
from search.matching.query import Query
from search.settings import Settings
from search.storage.base import Store, prepare
from search.storage.elastic import ElasticsearchStore
from search.storage.elastic_client import ensure_indexes, load_mapping
from search.storage.elastic_lock import LOCK_ID, STALE_AFTER
from search.storage.elastic_rekey import documents
from search.storage.sqlite import SQLiteStore
from tests.backends import Backend
from tests.conftest import Server, wait_until

pytestmark = pytest.mark.elasticsearch


@pytest.fixture(scope="module")
def es_store(es_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ElasticsearchStore]:
    backend = Backend("elasticsearch", es_url)
    settings = backend.settings(tmp_path_factory.mktemp("es"))
    store = ElasticsearchStore(es_url, prefix=settings.es_index_prefix)
    yield store
    store.close()
    backend.drop_all()


def _load_all(store: Store, sample_files: dict[str, Path]) -> None:
    for office, path in sample_files.items():
        report = load_file(store, path, office, load_profile(office.lower()), None, 1)
        assert report.reconciled and not report.rejected


def test_reindex_load_match_reload_withdraw(es_store: ElasticsearchStore, sample_files: dict[str, Path]) -> None:
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


def test_alias_swap_has_no_gap(es_store: ElasticsearchStore, sample_files: dict[str, Path]) -> None:
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


def test_reindexes_in_one_second_each_get_a_new_index(es_url: str, tmp_path: Path) -> None:
    """Index names were stamped to the second; a reload then a rekey of a small index within one
    second asked for the same name and failed (resource_already_exists_exception, CI of stop 46)."""
    backend = Backend("elasticsearch", es_url)
    store = ElasticsearchStore(es_url, prefix=backend.settings(tmp_path).es_index_prefix)
    try:
        names = [store.reindex(lambda s: None) for _ in range(3)]
        assert len(set(names)) == 3
        assert store.alias_target() == [names[-1]]
    finally:
        store.close()
        backend.drop_all()


def test_candidate_parity_with_sqlite(
    es_store: ElasticsearchStore, sample_files: dict[str, Path], tmp_path: Path
) -> None:
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


class Cut:
    """A loopback TCP relay in front of the cluster that can be cut and restored: a network fault,
    not an imitation of Elasticsearch (every byte comes from the real cluster)."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 9200)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = threading.Event()
        self.open.set()
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.close()

    def cut(self) -> None:
        self.open.clear()
        for s in self.conns:
            with contextlib.suppress(OSError):
                s.close()
        self.conns.clear()

    def restore(self) -> None:
        self.open.set()


def test_cluster_outage_is_503_then_recovers_without_restart(
    es_store: ElasticsearchStore, es_url: str, sample_files: dict[str, Path], tmp_path: Path
) -> None:
    es_store.reindex(lambda s: _load_all(s, sample_files))
    relay = Cut(es_url)
    settings = Settings(
        es_url=f"http://127.0.0.1:{relay.port}", es_index_prefix=es_store.prefix, es_timeout=1.0,
        store=tmp_path / "unused.db", rate_limit_burst=1_000_000,
    )  # fmt: skip
    access = ElasticsearchAccess(settings.es_url, settings.es_index_prefix)
    key, token = new_key("CN-GD", "system", "outage test")
    access.add_key(key)
    access.close()
    headers = {"Authorization": f"Bearer {token}"}
    body = {"queries": [{"name": "CHAN Tai Man", "birth_date": "1971-02-11"}]}
    with Server(settings) as server, httpx.Client(base_url=server.url, headers=headers, timeout=30) as c:
        assert c.get("/readyz").status_code == 200
        assert c.post("/match", json=body).json()["results"][0]["seen"]
        relay.cut()
        down = c.post("/match", json=body)
        assert down.status_code == 503 and down.headers["retry-after"] == "5"
        assert c.get("/readyz").status_code == 503
        relay.restore()
        wait_until(lambda: c.get("/readyz").status_code == 200, 30, "ready again after the cluster came back")
        assert c.post("/match", json=body).json()["results"][0]["seen"]  # same process, no restart


def test_an_index_gains_the_fields_its_mapping_file_added(es_store: ElasticsearchStore) -> None:
    """An index made before its mapping file gained a field (watch-floors ``last``, 4 Dec) gets
    the field when a store opens it, and a missing index is created: one read of every mapping."""
    es = es_store.es
    old, missing = f"{es_store.prefix}-old-floors", f"{es_store.prefix}-new-floors"
    body = load_mapping("watch-floors")
    before = {k: v for k, v in body["mappings"]["properties"].items() if k != "last"}
    es.indices.create(index=old, settings=body["settings"], mappings={"dynamic": "strict", "properties": before})
    try:
        with pytest.raises(BadRequestError):  # strict: the field is refused before
            es.index(index=old, id="x", document={"entry_id": "e", "last": "CN-GD:1"})
        ensure_indexes(es, {old: "watch-floors", missing: "watch-floors"})
        for index in (old, missing):
            props = es.indices.get_mapping(index=index).body[index]["mappings"]["properties"]
            assert set(props) == set(body["mappings"]["properties"]), props
        es.index(index=old, id="x", document={"entry_id": "e", "last": "CN-GD:1"}, refresh=True)
        ensure_indexes(es, {old: "watch-floors"})  # again: nothing to add, nothing refused
    finally:
        es.indices.delete(index=[old, missing], ignore_unavailable=True)


def test_a_big_load_pauses_refresh_and_restores_it_a_small_one_leaves_it(
    es_store: ElasticsearchStore, tmp_path: Path
) -> None:
    """Refresh pauses once a load has written ``pause_refresh_from`` records, and is restored
    (and run) when the load ends; a smaller load never touches the setting."""

    def interval() -> str | None:
        body = es_store.es.indices.get_settings(index=es_store.alias).body
        [settings] = body.values()
        found: str | None = settings["settings"]["index"].get("refresh_interval")
        return found

    seen: list[str | None] = []
    src = tmp_path / "gd.csv"
    src.write_text("record_id,name\n" + "".join(f"P{i},陈大文{i}\n" for i in range(30)), encoding="utf-8")
    es_store.pause_refresh_from = 10
    try:
        load_file(es_store, src, "CN-GD", load_profile("cn-gd"), None, 1, progress=lambda _: seen.append(interval()))
    finally:
        es_store.pause_refresh_from = ElasticsearchStore.pause_refresh_from
    assert seen and seen[-1] == "-1", seen  # paused while the load wrote
    assert interval() == "1s"  # restored after it
    assert Matcher(es_store).match(Query("陈大文29")).matches  # and refreshed: the last record is found
    small = tmp_path / "small.csv"
    small.write_text("record_id,name\nS1,陈小文\n", encoding="utf-8")
    seen.clear()
    load_file(es_store, small, "CN-GD", load_profile("cn-gd"), None, 1, progress=lambda _: seen.append(interval()))
    assert seen == ["1s"] and interval() == "1s"


def test_rekey_keys_every_document_again_into_a_new_index(
    es_store: ElasticsearchStore, sample_files: dict[str, Path]
) -> None:
    """``suspects rekey`` on Elasticsearch: every record is keyed again from the document the index
    keeps (no office file), into a new index swapped in behind the alias. A record whose stored keys
    no longer find it (as an older keys version's would not) is found again, and every document
    comes over unchanged, across more than one page of the read (batch 500)."""
    es_store.reindex(lambda s: _load_all(s, sample_files))
    es = es_store.es
    [before_index] = es_store.alias_target()
    total = int(es.count(index=es_store.alias)["count"])
    hit = Matcher(es_store).match(Query("CHAN Tai Man", birth_date="1971-02-11")).matches[0].record
    doc = f"{hit.office}:{hit.record_id}"
    # Keys an older version made that no query of this version looks up.
    es.update(index=before_index, id=doc, doc={"keys": ["n:stale"]}, refresh=True)
    keyed = {
        c.id for c in es_store.candidates(profile_keys(profile(hit.entity_type, hit.name)), hit.entity_type, None, 50)
    }
    assert doc not in keyed

    sources = {d: s for chunk in documents(es, es_store.alias, 500) for s in chunk if (d := s["doc_id"])}
    done = es_store.rekey(workers=2)
    assert done.records == total == len(sources) and done.was == KEYS_VERSION
    [after_index] = es_store.alias_target()
    assert after_index != before_index and f"-k{KEYS_VERSION}-" in after_index
    assert not es.indices.exists(index=before_index)
    again = {d: s for chunk in documents(es, es_store.alias, 500) for s in chunk if (d := s["doc_id"])}
    assert again == sources  # every record, as it was stored
    keyed = {
        c.id for c in es_store.candidates(profile_keys(profile(hit.entity_type, hit.name)), hit.entity_type, None, 50)
    }
    assert doc in keyed


def test_a_write_while_another_process_reindexes_is_refused_not_lost(es_store: ElasticsearchStore) -> None:
    """Another process's reindex or rekey holds the lock while it fills a new index; a load or a
    withdrawal here would land in the old index and vanish at the swap (a withdrawn record would
    come back). Both are refused while the lock has a heartbeat. A lock whose holder was killed
    (no heartbeat for STALE_AFTER) blocks nothing, and the next reindex takes it over."""
    record = prepare(Record(office="CN-GD", record_id="LOCK-1", entity_type="person", name="陈锁文"))
    es_store.upsert([record])
    es = es_store.es

    def lock(beat: float) -> None:
        es.index(index=es_store.lock_index, id=LOCK_ID, document={"since": beat, "beat": beat}, refresh=True)

    def fill(target: Store) -> None:
        target.upsert([record])

    lock(time.time())
    try:
        with pytest.raises(Busy, match="reindex or rekey"):
            es_store.upsert([record])
        with pytest.raises(Busy, match="reindex or rekey"):
            es_store.withdraw("CN-GD", "LOCK-1")
        with pytest.raises(Busy, match="another reindex or rekey"):
            es_store.reindex(fill)
        lock(time.time() - STALE_AFTER - 1)  # its holder was killed long ago
        assert es_store.upsert([record]).unchanged == 1
        es_store.reindex(fill)  # takes the stale lock over
        assert not es.exists(index=es_store.lock_index, id=LOCK_ID)  # released by the reindex
    finally:
        if es.exists(index=es_store.lock_index, id=LOCK_ID):  # left by a failure above: later tests write
            es.delete(index=es_store.lock_index, id=LOCK_ID, refresh=True)
    assert es_store.withdraw("CN-GD", "LOCK-1")
