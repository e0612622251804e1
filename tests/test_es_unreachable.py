"""An unreachable Elasticsearch cluster gives 503 with Retry-After, never a 500 — and the client's
timeout and retry settings are the ones documented. Uses a closed loopback port, not an imitation."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx

from search.settings import Settings
from tests.backends import make_tokens
from tests.conftest import Server


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # nothing listens here once the socket is closed


def test_unreachable_cluster_is_503_with_retry_after(tmp_path: Path) -> None:
    token = make_tokens(Settings(store=tmp_path / "keys.db"))["investigator"]
    settings = Settings(es_url=f"http://127.0.0.1:{_closed_port()}", store=tmp_path / "keys.db")
    headers = {"Authorization": f"Bearer {token}"}
    with Server(settings) as server, httpx.Client(base_url=server.url, timeout=60, headers=headers) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["Retry-After"] == "5"
        assert ready.json()["error"]["code"] == "store_unavailable"
        match = client.post("/match", json={"queries": [{"name": "陈大文"}]})
        assert match.status_code == 503 and "Retry-After" in match.headers
        assert client.get("/healthz").status_code == 200


def test_client_times_out_and_retries_then_503() -> None:
    """A cluster that accepts connections and never answers: each attempt times out, the client
    retries three times, and the store reports itself unavailable (not a hang, not a 500)."""
    import threading
    import time

    import pytest

    from search.errors import StoreUnavailable
    from search.storage.elastic import ElasticsearchStore

    accepted: list[socket.socket] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                accepted.append(conn)  # hold it open, say nothing
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    store = ElasticsearchStore(f"http://127.0.0.1:{listener.getsockname()[1]}", prefix="x", timeout=0.3)
    try:
        t0 = time.perf_counter()
        with pytest.raises(StoreUnavailable):
            store.candidates({"n:陈大文": 10.0}, "person", None, 10)
        elapsed = time.perf_counter() - t0
    finally:
        stop.set()
        thread.join()
        store.close()
        for c in accepted:
            c.close()
        listener.close()
    assert len(accepted) == 4  # one attempt and three retries
    assert 1.0 <= elapsed < 10
