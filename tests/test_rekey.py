"""`suspects rekey`: after an upgrade changes the keys version, a SQLite store is keyed again in
place from the documents it keeps, so an office keeps its standing watchlists, alerts and API keys
(loading the files into a new store file, the way before, left them behind)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from indexer.keys import KEYS_VERSION
from search.settings import Settings
from tests.test_cli import run


def _store(tmp_path: Path) -> Path:
    """Two offices, and a Macau watchlist entry with its alert on the Guangdong record."""
    store = tmp_path / "store.db"
    gd = tmp_path / "cn-gd.csv"
    gd.write_text("record_id,entity_type,name\ng1,person,張宏陸\ng2,person,陳大文\n", encoding="utf-8")
    mo = tmp_path / "cn-mo.csv"
    mo.write_text("record_id,entity_type,name\nm1,person,Chang Hung-lue\n", encoding="utf-8")
    for path, office in ((gd, "CN-GD"), (mo, "CN-MO")):
        assert run("load", str(path), "--office", office, store=store).returncode == 0
    list_id = run("watch", "create", "raids", "--office", "CN-MO", store=store).stdout.strip().split()[-1]
    added = run("watch", "add", list_id, "陳大文", "--type", "person", "--office", "CN-MO", store=store)
    assert added.returncode == 0, added.stderr
    return store


def _as_an_older_version_left_it(store: Path) -> None:
    """What an older version's store looks like to this one: another keys version recorded, and
    records without the keys this version gives them (here: the slipped name has none at all)."""
    with sqlite3.connect(store) as conn:
        (rid,) = conn.execute("SELECT rid FROM records WHERE doc_id = 'CN-MO:m1'").fetchone()
        conn.execute("DELETE FROM postings WHERE rid = ?", (rid,))
        conn.execute("UPDATE meta SET value = ? WHERE name = 'keys_version'", (str(KEYS_VERSION - 1),))


def _found(name: str, store: Path) -> set[str]:
    r = run("search", name, "--type", "person", "--json", store=store)
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    return {m["record_id"] for m in [*body["matches"], *body["possible"]]}


def test_rekey_keys_the_records_again_and_keeps_everything_else(tmp_path: Path) -> None:
    store = _store(tmp_path)
    assert "m1" in _found("張宏陸", store)
    alerts_before = json.loads(run("watch", "alerts", "--office", "CN-MO", store=store).stdout)
    assert [a["record_id"] for a in alerts_before] == ["g2"]
    _as_an_older_version_left_it(store)

    refused = run("search", "張宏陸", "--type", "person", store=store)
    assert refused.returncode == 2 and "run suspects rekey" in refused.stderr, refused.stderr

    done = run("rekey", store=store)
    assert done.returncode == 0, done.stderr
    assert f"keyed 3 records again (keys version {KEYS_VERSION - 1} → {KEYS_VERSION})" in done.stdout
    assert "m1" in _found("張宏陸", store)  # its keys are back
    # The watchlist and its alert are still there (the same alert: nothing new to say).
    assert json.loads(run("watch", "alerts", "--office", "CN-MO", store=store).stdout) == alerts_before
    with sqlite3.connect(store) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not {t for t in tables if t.startswith("rekey_")}


def test_a_store_from_before_kept_profiles_gets_them_from_rekey(tmp_path: Path) -> None:
    """Keys version 4 stores had no profile column: opened, the column is added empty, the store
    is refused as keyed by an older version, and rekey makes every record's profile."""
    store = _store(tmp_path)
    with sqlite3.connect(store) as conn:
        conn.execute("ALTER TABLE records DROP COLUMN profile")
        conn.execute("UPDATE meta SET value = '4' WHERE name = 'keys_version'")
    refused = run("search", "陳大文", store=store)
    assert refused.returncode == 2 and "run suspects rekey" in refused.stderr, refused.stderr
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(profile) FROM records").fetchone() == (3, 0)
    assert run("rekey", store=store).returncode == 0
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(profile) FROM records").fetchone() == (3, 3)
    assert _found("陳大文", store) == {"g2"}


def test_a_rekey_killed_before_its_swap_is_started_again(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _as_an_older_version_left_it(store)
    with sqlite3.connect(store) as conn:  # what a killed rekey leaves: its staging, half filled
        conn.execute("CREATE TABLE rekey_postings (h INTEGER NOT NULL, rid INTEGER NOT NULL, w INTEGER NOT NULL)")
        conn.execute("INSERT INTO rekey_postings VALUES (1, 999, 5)")
    assert run("search", "陳大文", store=store).returncode == 2  # still refused: nothing was swapped
    assert run("rekey", store=store).returncode == 0
    assert "m1" in _found("張宏陸", store)


def test_rekey_is_refused_clearly_where_it_cannot_run(tmp_path: Path) -> None:
    missing = run("rekey", store=tmp_path / "none.db")
    assert missing.returncode == 2 and "no store at" in missing.stderr
    es = Settings(store=tmp_path / "none.db", es_url="http://127.0.0.1:9", es_timeout=2)
    r = run("rekey", store=es)
    assert r.returncode == 2, r.stderr
    assert "Elasticsearch" in r.stderr and "Traceback" not in r.stderr
