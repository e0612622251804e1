"""The Store contract on both backends, through the store API itself: what a load makes visible at
once, odd record ids, unchanged reloads, withdrawal, and candidates in the same order; and through
`suspects load`, which row of a record id a reload keeps."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
from pathlib import Path

from indexer.keys import profile_keys
from indexer.records import Record, profile
from search.storage.base import prepare
from search.storage.codec import decompress, key_hash, unpack_postings
from search.storage.factory import open_store
from tests.backends import Backend

SUSPECTS = str(Path(sys.executable).with_name("suspects"))

ODD_IDS = ["a/b", "x?y#z", "with space", "percent%2Fslash", "中文编号", "dots..", "colon:inside"]


def test_odd_record_ids_round_trip(backend: Backend, tmp_path: Path) -> None:
    store = open_store(backend.settings(tmp_path))
    try:
        records = [Record("CN-GD", rid, "person", "陈大文", [], None, "1971-02-11") for rid in ODD_IDS]
        with store.bulk():
            result = store.upsert([prepare(r) for r in records])
        assert (result.inserted, result.failed) == (len(ODD_IDS), ())
        ids = [f"CN-GD:{rid}" for rid in ODD_IDS]
        assert sorted(store.get_many(ids)) == sorted(ids)  # visible as soon as the load returns
        assert store.counts() == {"CN-GD": {"person": len(ODD_IDS)}}
        again = store.upsert([prepare(r) for r in records])
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(ODD_IDS))
        for rid in ODD_IDS:
            assert store.withdraw("CN-GD", rid)
            assert not store.withdraw("CN-GD", rid)
        assert store.get_many(ids) == {}
    finally:
        store.close()


def test_candidates_best_first_ties_by_document_id(backend: Backend, tmp_path: Path) -> None:
    """Equal weights are ordered by document id on both backends (the parity of the whole suite
    rests on it)."""
    store = open_store(backend.settings(tmp_path))
    try:
        same = [Record(office, f"r{i}", "person", "陈大文") for i, office in enumerate(["CN-MO", "CN-GD", "CN-HK"])]
        other = Record("CN-FJ", "f1", "person", "陈达文")
        with store.bulk():
            store.upsert([prepare(r) for r in [*same, other]])
        cands = store.candidates(profile_keys(profile("person", "陈大文")), "person", None, 10)
        assert [c.id for c in cands[:3]] == ["CN-GD:r1", "CN-HK:r2", "CN-MO:r0"]
        assert cands[0].weight == cands[2].weight > cands[-1].weight
        batch = store.candidates_many([(profile_keys(profile("person", "陈大文")), "person")] * 2, ["CN-HK"], 10)
        assert [[c.id for c in b] for b in batch] == [["CN-HK:r2"], ["CN-HK:r2"]]
    finally:
        store.close()


def test_a_tie_across_the_cut_keeps_the_lowest_ids(backend: Backend, tmp_path: Path) -> None:
    """Eight records tie; asking for three gives the three lowest ids on both backends (on
    Elasticsearch the first pass cannot tell which tied ids belong, and the exact pass runs)."""
    store = open_store(backend.settings(tmp_path))
    try:
        tied = [Record("CN-GD", f"t{i}", "person", "陈大文") for i in (7, 3, 5, 1, 6, 2, 4, 0)]
        with store.bulk():
            store.upsert([prepare(r) for r in [*tied, Record("CN-HK", "best", "person", "陈大文", [], "A123456(3)")]])
        keys = profile_keys(profile("person", "陈大文", (), "A123456(3)"))
        cands = store.candidates(keys, "person", None, 4)
        assert [c.id for c in cands] == ["CN-HK:best", "CN-GD:t0", "CN-GD:t1", "CN-GD:t2"]
        plain = store.candidates(profile_keys(profile("person", "陈大文")), "person", None, 3)
        assert [c.id for c in plain] == ["CN-GD:t0", "CN-GD:t1", "CN-GD:t2"]
    finally:
        store.close()


def test_a_row_superseding_an_earlier_batch_wins_on_reload(backend: Backend, tmp_path: Path) -> None:
    """The last row of a record id wins even when it equals what was stored before the load: it
    was compared with that digest, taken for unchanged and skipped, and the earlier row (2,101
    rows before it, in another batch) stayed in the store while the report called it superseded."""
    settings = backend.settings(tmp_path / "store")
    env = backend.env(settings)
    header = "record_id,entity_type,name\n"
    before, again = tmp_path / "before.csv", tmp_path / "again.csv"
    before.write_text(header + "a,person,陈大文\n", encoding="utf-8")
    fillers = "".join(f"f{i},person,王{i}\n" for i in range(2100))
    again.write_text(header + "a,person,陈大武\n" + fillers + "a,person,陈大文\n", encoding="utf-8")
    for path in (before, again):
        done = subprocess.run(
            [SUSPECTS, "load", str(path), "--office", "CN-GD"], capture_output=True, text=True, env=env, timeout=300
        )
        assert done.returncode == 0, done.stderr
    assert "superseded by line 2103" in done.stdout + done.stderr
    store = open_store(settings)
    try:
        assert store.get_many(["CN-GD:a"])["CN-GD:a"].name == "陈大文"
        assert store.counts() == {"CN-GD": {"person": 2101}}
    finally:
        store.close()


def test_codec_round_trips_documents_and_postings() -> None:
    """What the SQLite file holds: deflated documents that read back byte for byte, and postings
    whose hashes are the query's key hashes (else a stored record could not be found)."""
    rec = Record("CN-HK", "r1", "person", "CHAN Tai Man", ["陳大文"], birth_date="1971-02-11")
    item = prepare(rec)
    assert decompress(item.packed) == item.body and len(item.packed) < len(item.body.encode())
    postings = unpack_postings(item.postings)
    assert {h for h, _ in postings} == {key_hash(k) for k in item.keys}
    assert sorted(w for _, w in postings) == sorted(round(w) for w in item.keys.values())
    assert all(0 <= h < 2**48 for h, _ in postings)


def test_a_store_of_another_schema_version_is_refused_with_what_to_do(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    with contextlib.closing(sqlite3.connect(old)) as conn:
        conn.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        conn.commit()
    r = subprocess.run(
        [str(Path(sys.executable).parent / "suspects"), "--store", str(old), "stats"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "schema version 1" in r.stderr and "new --store file" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
