"""Fixtures strategy: the sample offices are generated once per session into a temporary folder
and loaded into one SQLite store that read-only tests share; tests that write get their own store.
API tests run the real app under uvicorn on a loopback port and talk to it with httpx."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from api.http.app import create_app
from api.http.state import State
from indexer.intake.offices import load_profile
from indexer.synth.offices import sample_records, write_office_files
from search.ingest import load_file
from search.settings import Settings
from search.storage.sqlite import SQLiteStore
from tests import es_harness
from tests.backends import NAMES as BACKENDS
from tests.backends import Backend, make_tokens


@pytest.fixture(scope="session")
def sample_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sample")
    return write_office_files(folder, sample_records())


@pytest.fixture(scope="session")
def loaded_store_path(sample_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "suspects.db"
    store = SQLiteStore(path)
    for office, file in sample_files.items():
        report = load_file(store, file, office, load_profile(office.lower()), None, 1)
        assert report.reconciled and not report.rejected, report.rejected[:3]
    store.close()
    return path


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "test.db")
    yield s
    s.close()


def wait_until(check: Callable[[], bool], timeout: float, what: str, every: float = 0.05) -> None:
    """Poll ``check`` until it is true; fail naming ``what`` once ``timeout`` seconds have passed.
    Every wait in the suite goes through here, so none can hang the run."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# Test clients drop an idle connection after 2 s, below the server's keep-alive of 5 s (uvicorn's
# default): with both at 5 s, a request sent about 5 s after the last one (a load between them)
# could meet the server closing that connection: "Connection reset by peer" (CI, 3 Dec night).
KEEP_ALIVE_BELOW_SERVER = httpx.Limits(keepalive_expiry=2.0)


class Server:
    def __init__(self, settings: Settings) -> None:
        self.port = _free_port()
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        wait_until(lambda: self.server.started, 15, "the server to start", every=0.02)
        return self

    @property
    def state(self) -> State:
        """The running app's shared state (to wait on its screening runner)."""
        app = self.server.config.app
        assert isinstance(app, FastAPI)
        state: State = app.state.suspects
        return state

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve_process(settings: Settings, port: int, backend: Backend, **env: str) -> subprocess.Popen[bytes]:
    """`suspects serve` as its own process (for tests that kill or signal it), once it answers."""
    full = backend.env(settings) | {"SUSPECTS_PORT": str(port), **env}
    exe = Path(sys.executable).parent / "suspects"
    proc = subprocess.Popen([str(exe), "serve"], env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def answers() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(answers, 30, "`suspects serve` to answer", every=0.1)
    except AssertionError:
        proc.kill()
        raise
    return proc


# ---- the two backends --------------------------------------------------------------------------

_ES: dict[str, str | bool | None] = {"url": None, "require": False}


def pytest_configure(config: pytest.Config) -> None:
    """Take the cluster URL out of the environment: in-process Settings() and every subprocess must
    reach Elasticsearch only when a test asks for that backend, never by inheritance."""
    settings = Settings()
    _ES["url"], _ES["require"] = settings.es_url, settings.require_es
    os.environ.pop("SUSPECTS_ES_URL", None)


@pytest.fixture(scope="session")
def es_url() -> Iterator[str]:
    """A real cluster: SUSPECTS_ES_URL (``make test`` starts one with tests/es_harness.py), else one
    started here with the harness, else skip, or fail when SUSPECTS_REQUIRE_ES=1 (CI)."""
    url = _ES["url"]
    if isinstance(url, str) and url:
        yield url
        return
    reason = es_harness.available()
    if reason is None:
        with es_harness.running(1) as cluster:
            yield cluster.url
        return
    reason = f"no Elasticsearch: {reason}; set SUSPECTS_ES_URL or install Java 17 and Maven"
    if _ES["require"]:
        pytest.fail(reason + " (SUSPECTS_REQUIRE_ES=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """The storage backend a store-dependent test runs on: every such test runs on both."""
    if request.param == "elasticsearch":
        found = Backend("elasticsearch", request.getfixturevalue("es_url"))
    else:
        found = Backend("sqlite")
    yield found
    found.drop_all()


@pytest.fixture(autouse=True)
def drop_test_indexes(request: pytest.FixtureRequest) -> Iterator[None]:
    """A store-dependent test's own Elasticsearch indexes are deleted when it ends (those of
    session and module fixtures, made before it starts, stay). Kept until the session ended, they
    passed the node's default 1,000 shards with 11 tests to go (4 Dec); each index is a shard and
    an unassigned replica on the test node's heap."""
    if "backend" not in request.fixturenames:
        yield
        return
    backend: Backend = request.getfixturevalue("backend")
    before = len(backend.prefixes)
    yield
    backend.drop_since(before)


@pytest.fixture(scope="session")
def loaded(backend: Backend, sample_files: dict[str, Path], loaded_store_path: Path) -> Settings:
    """The sample offices loaded once per backend, shared by read-only tests."""
    if not backend.is_es:
        return backend.settings(loaded_store_path.parent, store=loaded_store_path)
    settings = backend.settings(loaded_store_path.parent / "es")
    backend.load_samples(settings, sample_files)
    return settings


@pytest.fixture(scope="session")
def tokens(loaded: Settings) -> dict[str, str]:
    return make_tokens(loaded)


@pytest.fixture(scope="session")
def api(loaded: Settings, tokens: dict[str, str]) -> Iterator[httpx.Client]:
    """A read-only client: the investigator's key against the shared sample store."""
    settings = loaded.model_copy(update={"max_batch": 1000, "max_body_bytes": 200_000})
    headers = {"Authorization": f"Bearer {tokens['investigator']}"}
    with Server(settings) as server, httpx.Client(base_url=server.url, timeout=30, headers=headers) as client:
        yield client
