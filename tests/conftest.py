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
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.app import create_app
from indexer.loading import load_profile
from indexer.synth.offices import sample_records, write_office_files
from search.ingest import load_file
from search.settings import Settings
from search.sqlite_store import SQLiteStore


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve_process(store: Path, port: int, **env: str) -> subprocess.Popen[bytes]:
    """`suspects serve` as its own process (for tests that kill or signal it), once it answers."""
    full = {**os.environ, "SUSPECTS_STORE": str(store), "SUSPECTS_PORT": str(port), "SUSPECTS_LOG_LEVEL": "WARNING"}
    full |= {"SUSPECTS_RATE_LIMIT_BURST": "1000000", **env}
    full.pop("SUSPECTS_ES_URL", None)
    exe = Path(sys.executable).parent / "suspects"
    proc = subprocess.Popen([str(exe), "serve"], env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start")


def es_url_or_skip() -> str:
    """The cluster URL, or skip (fail with SUSPECTS_REQUIRE_ES=1) with the reason."""
    settings = Settings()
    if not settings.es_url:
        reason = "SUSPECTS_ES_URL is not set; start a cluster with `docker compose up -d es` and export SUSPECTS_ES_URL=http://localhost:9200"
        if settings.require_es:
            pytest.fail(reason + " (SUSPECTS_REQUIRE_ES=1)")
        pytest.skip(reason)
    return settings.es_url


def make_tokens(store_path: Path) -> dict[str, str]:
    """One CN-GD key per role, plus a CN-HK office-admin, in the store's key table."""
    from search.access import ROLES, new_key
    from search.sqlite_access import SQLiteAccess

    access = SQLiteAccess(store_path)
    out: dict[str, str] = {}
    for role in ROLES:
        key, token = new_key("CN-GD", role, f"test {role}")
        access.add_key(key)
        out[role] = token
    key, token = new_key("CN-HK", "office-admin", "test hk admin")
    access.add_key(key)
    out["hk-admin"] = token
    access.close()
    return out


@pytest.fixture(scope="session")
def tokens(loaded_store_path: Path) -> dict[str, str]:
    return make_tokens(loaded_store_path)


@pytest.fixture(scope="session")
def api(loaded_store_path: Path, tokens: dict[str, str]) -> Iterator[httpx.Client]:
    """A read-only client: the investigator's key against the shared sample store."""
    settings = Settings(store=loaded_store_path, max_batch=1000, max_body_bytes=200_000, rate_limit_burst=1_000_000)
    headers = {"Authorization": f"Bearer {tokens['investigator']}"}
    with Server(settings) as server, httpx.Client(base_url=server.url, timeout=30, headers=headers) as client:
        yield client
