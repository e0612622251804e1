"""The two storage backends as the behavioural suite sees them: one fixture parameter, two stores.

A :class:`Backend` makes isolated stores (a new SQLite file, or a new Elasticsearch index prefix on
the session's real cluster), the settings and the environment a server or CLI subprocess needs to
reach them, loads the sample offices into them, and removes them afterwards.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from indexer.intake.offices import load_profile
from search.access.factory import open_access
from search.access.keys import ROLES, new_key
from search.ingest import load_file
from search.settings import Settings
from search.storage.elastic_client import make_client
from search.storage.factory import open_store

NAMES = ("sqlite", "elasticsearch")


@dataclass
class Backend:
    """Stores of one backend for the tests (``es_url`` is the session cluster's, for Elasticsearch)."""

    name: str
    es_url: str | None = None
    prefixes: list[str] = field(default_factory=list)

    @property
    def is_es(self) -> bool:
        return self.name == "elasticsearch"

    def settings(self, folder: Path, **overrides: object) -> Settings:
        """Settings for a new, empty, isolated store (``folder`` holds the SQLite file)."""
        folder.mkdir(parents=True, exist_ok=True)
        # Many tests send bad keys to one shared server: the failed-auth limit gets its own test.
        fields: dict[str, object] = {
            "store": folder / "suspects.db",
            "es_url": None,
            "rate_limit_burst": 1_000_000,
            "auth_failures_per_minute": 10_000,
        }
        if self.is_es:
            prefix = f"t{uuid.uuid4().hex[:10]}"
            self.prefixes.append(prefix)
            fields |= {"es_url": self.es_url, "es_index_prefix": prefix}
        return Settings.model_validate(fields | overrides)

    def env(self, settings: Settings) -> dict[str, str]:
        """The environment for a `suspects` subprocess on the same store as ``settings``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SUSPECTS_")}
        env |= {"SUSPECTS_STORE": str(settings.store), "SUSPECTS_LOG_LEVEL": "WARNING"}
        env["SUSPECTS_RATE_LIMIT_BURST"] = str(settings.rate_limit_burst)
        env["SUSPECTS_AUTH_FAILURES_PER_MINUTE"] = str(settings.auth_failures_per_minute)
        env["SUSPECTS_CANDIDATES"] = str(settings.candidates)
        if settings.es_url:
            env |= {"SUSPECTS_ES_URL": settings.es_url, "SUSPECTS_ES_INDEX_PREFIX": settings.es_index_prefix}
        return env

    def load_samples(self, settings: Settings, files: dict[str, Path]) -> None:
        store = open_store(settings)
        try:
            for office, path in files.items():
                report = load_file(store, path, office, load_profile(office.lower()), None, 1)
                assert report.reconciled and not report.rejected, report.rejected[:3]
        finally:
            store.close()

    def copy(self, loaded: Settings, files: dict[str, Path], folder: Path, **overrides: object) -> Settings:
        """A writable store holding what ``loaded`` holds (records, keys, audit): a file copy for
        SQLite; a fresh prefix loaded again for Elasticsearch (indexes are not copied cheaply)."""
        settings = self.settings(folder, **overrides)
        if self.is_es:
            self.load_samples(settings, files)
        else:
            copy_store(loaded.store, settings.store)
        return settings

    def drop_all(self) -> None:
        """Delete every index this backend made and has not dropped yet."""
        self.drop_since(0)

    def drop_since(self, count: int) -> None:
        """Delete the indexes of the prefixes made after the first ``count`` (names resolved
        first: wildcard deletes are refused by default, action.destructive_requires_name)."""
        made, self.prefixes[count:] = self.prefixes[count:], []
        if not self.is_es or not made:
            return
        es = make_client(self.es_url, 60)
        try:
            pattern = ",".join(f"{p}-*" for p in made)
            names = list(es.indices.get(index=pattern, expand_wildcards="all", ignore_unavailable=True))
            for start in range(0, len(names), 50):
                es.indices.delete(index=",".join(names[start : start + 50]), ignore_unavailable=True)
        finally:
            es.close()


def copy_store(source: Path, target: Path) -> None:
    """A copy of a SQLite store through SQLite's backup API. Not ``shutil.copy``: closing a plain
    file descriptor on the file drops every POSIX lock this process holds on it — the locks of the
    in-process servers' connections too — and a store written under lost locks is corrupted (it
    happened to a benchmark store); a plain copy also misses what is still in the WAL file."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def make_tokens(settings: Settings) -> dict[str, str]:
    """One CN-GD key per role, plus a CN-HK office-admin, in the store's keys."""
    access = open_access(settings)
    out: dict[str, str] = {}
    try:
        for role in ROLES:
            key, token = new_key("CN-GD", role, f"test {role}")
            access.add_key(key)
            out[role] = token
        key, token = new_key("CN-HK", "office-admin", "test hk admin")
        access.add_key(key)
        out["hk-admin"] = token
    finally:
        access.close()
    return out
