"""What the HTTP benchmarks share: a key in the store, and `suspects serve` in its own process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from search.access.keys import new_key
from search.access.sqlite import SQLiteAccess


def bench_key(store: Path, role: str, label: str) -> str:
    """A fresh CN-GD key of ``role`` in the store's key table; its token."""
    access = SQLiteAccess(store)
    key, token = new_key("CN-GD", role, label)
    access.add_key(key)
    access.close()
    return token


@contextmanager
def served(store: Path, port: int, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """`suspects serve` on ``store`` (extra ``SUSPECTS_*`` settings in ``env``), once it answers
    /healthz; terminated (gracefully) on exit."""
    full = {**os.environ, "SUSPECTS_STORE": str(store), "SUSPECTS_PORT": str(port), "SUSPECTS_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([str(Path(sys.executable).parent / "suspects"), "serve"], env=full | env)
    try:
        # A cold page cache can make a large store's first open take a while: wait up to 180 s,
        # then fail loudly rather than measure a server that never answered.
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"suspects serve on port {port} never answered /healthz") from None
                time.sleep(0.1)
        yield server
    finally:
        server.terminate()
        server.wait(60)
