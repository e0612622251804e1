"""A store keyed by another version of the normalizer is refused, not searched.

Keys change when the normalizer learns (2 Dec: industry sectors, eight Cantonese readings per
company brand, split double surnames). Records keyed before can miss a query keyed now, and "not
seen" from such a store is the worst answer this service can give. Each backend records the version
its records were keyed with (SQLite: the meta table; Elasticsearch: the live index's name), and
reading commands refuse another version with one line saying how to load again.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from indexer.keys import KEYS_VERSION
from search.storage.elastic_client import make_client
from tests.backends import Backend
from tests.test_cli import run


def _make_it_look_older(backend: Backend, store_path: Path, prefix: str) -> None:
    """Turn the store into one written before keys were versioned, as each backend would hold it."""
    if backend.is_es:
        assert backend.es_url is not None
        es = make_client(backend.es_url, timeout=30)
        alias = f"{prefix}-records"
        (current,) = list(es.indices.get_alias(name=alias))
        old = f"{prefix}-records-v2-20261101000000"  # the name indexes had before the version
        es.indices.put_settings(index=current, settings={"index.blocks.write": True})
        es.indices.clone(index=current, target=old)
        es.indices.update_aliases(
            actions=[{"remove": {"index": current, "alias": alias}}, {"add": {"index": old, "alias": alias}}]
        )
        es.indices.delete(index=current)
        es.close()
    else:
        with sqlite3.connect(store_path) as conn:
            conn.execute("DELETE FROM meta WHERE name = 'keys_version'")


def test_a_store_keyed_by_another_version_is_refused_with_how_to_load_again(backend: Backend, tmp_path: Path) -> None:
    src = tmp_path / "cn-gd.csv"
    src.write_text("record_id,name\n1,陈大文\n", encoding="utf-8")
    settings = backend.settings(tmp_path)
    assert run("load", str(src), "--office", "CN-GD", store=settings).returncode == 0
    assert "seen by 1 office" in run("search", "陈大文", store=settings).stdout

    _make_it_look_older(backend, settings.store, settings.es_index_prefix)
    refused = run("search", "陈大文", store=settings)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    line = refused.stderr.strip().splitlines()[-1]
    assert f"keyed by keys version 1, this version keys names with version {KEYS_VERSION}" in line
    assert "run suspects rekey" in line
    # What the line says to do: a rekey keys every record again from the documents the store keeps,
    # in the same SQLite file or into a new Elasticsearch index; no office file is needed.
    rekeyed = run("rekey", store=settings)
    assert rekeyed.returncode == 0, rekeyed.stderr
    assert f"keys version 1 → {KEYS_VERSION}" in rekeyed.stdout
    assert "seen by 1 office" in run("search", "陈大文", store=settings).stdout


def test_the_demo_keys_an_older_store_again_before_loading(tmp_path: Path) -> None:
    """The README's first command on a machine that ran an earlier demo: the store it left was
    keyed by an older version, and the server the demo starts would refuse it. The demo keys it
    again first (the rekey itself is tested on both backends above)."""
    src = tmp_path / "cn-gd.csv"
    src.write_text("record_id,name\n1,陈大文\n", encoding="utf-8")
    store = tmp_path / "demo.db"
    assert run("load", str(src), "--office", "CN-GD", store=store).returncode == 0
    _make_it_look_older(Backend("sqlite"), store, "")
    assert run("search", "陈大文", store=store).returncode == 2  # refused, as above
    demo = run("demo", "--no-serve", "--folder", str(tmp_path / "sample"), store=store)
    assert demo.returncode == 0, demo.stderr
    assert f"records again (keys version 1 → {KEYS_VERSION})" in demo.stdout, demo.stdout
    assert "seen by" in run("search", "陈大文", store=store).stdout
