"""What only the Elasticsearch watch store has, on the real node: the alert writer's lock, which
keeps alert numbers searchable in the order they were given (``GET /alerts`` pages by number)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.watching.elastic import ElasticsearchWatch
from search.watching.elastic_lock import LOCK_ID, STALE_AFTER, WriterLock
from search.watching.model import Alert
from search.watching.store import AlertFilter, NewAlert
from tests.backends import Backend

pytestmark = pytest.mark.elasticsearch

NOW = "2026-12-05T09:00:00Z"


@pytest.fixture
def stores(es_url: str, tmp_path: Path) -> Iterator[tuple[ElasticsearchWatch, ElasticsearchWatch]]:
    """Two watch stores on one prefix: two processes writing alerts at once."""
    backend = Backend("elasticsearch", es_url)
    prefix = backend.settings(tmp_path).es_index_prefix
    a, b = ElasticsearchWatch(es_url, prefix), ElasticsearchWatch(es_url, prefix)
    a.alerts(AlertFilter("CN-HK"))  # creates the watch indexes
    yield a, b
    a.close()
    b.close()
    backend.drop_all()


def _new(n: int) -> NewAlert:
    alert = Alert(0, "CN-HK", "L1", f"E{n}", "CN-GD", f"R{n}", "d1", "match", 0.95, "open", "", "", {})
    return NewAlert(alert, None, 10.0, "match", ())


def test_a_writer_waits_while_another_holds_the_alert_lock(
    stores: tuple[ElasticsearchWatch, ElasticsearchWatch],
) -> None:
    a, b = stores
    given: list[int] = []
    writer = threading.Thread(target=lambda: given.extend(b.apply([_new(1)], NOW)))
    with WriterLock(a.es, a.index("watch-counters")).held():
        writer.start()
        writer.join(timeout=2.0)
        assert writer.is_alive()  # numbers wait for the writer holding the lock
        assert a.alerts(AlertFilter("CN-HK")) == []
    writer.join(timeout=60.0)
    assert not writer.is_alive() and len(given) == 1
    assert [x.seq for x in a.alerts(AlertFilter("CN-HK"))] == given
    assert not a.es.exists(index=a.index("watch-counters"), id=LOCK_ID)  # released


def test_a_lock_without_a_heartbeat_is_taken_over(stores: tuple[ElasticsearchWatch, ElasticsearchWatch]) -> None:
    a, b = stores
    gone = int((time.time() - STALE_AFTER - 1) * 1000)  # its holder was killed a minute ago
    a.es.index(index=a.index("watch-counters"), id=LOCK_ID, document={"value": gone}, refresh=True)
    given = b.apply([_new(1), _new(2)], NOW)
    assert len(given) == 2 and given == sorted(given)
    assert [x.seq for x in a.alerts(AlertFilter("CN-HK"))] == given
    assert not a.es.exists(index=a.index("watch-counters"), id=LOCK_ID)


def test_two_writers_at_once_make_numbers_searchable_in_order(
    stores: tuple[ElasticsearchWatch, ElasticsearchWatch],
) -> None:
    """Each writer's alerts are a run of numbers no other writer's interleave with, and every
    number given is written (a search sees a prefix of them)."""
    a, b = stores
    given: dict[str, list[int]] = {"a": [], "b": []}

    def write(store: ElasticsearchWatch, name: str, base: int) -> None:
        for k in range(5):
            given[name].extend(store.apply([_new(base + 10 * k + i) for i in range(10)], NOW))

    threads = [threading.Thread(target=write, args=(s, n, base)) for s, n, base in ((a, "a", 0), (b, "b", 1000))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120.0)
    assert not any(t.is_alive() for t in threads)
    every = sorted(given["a"] + given["b"])
    assert len(every) == 100 and len(set(every)) == 100
    runs = [every[i : i + 10] for i in range(0, 100, 10)]
    assert all(run in (given["a"][j : j + 10] for j in range(0, 50, 10)) or run in
               (given["b"][j : j + 10] for j in range(0, 50, 10)) for run in runs)  # fmt: skip
    assert [x.seq for x in a.alerts(AlertFilter("CN-HK", limit=1000))] == every
