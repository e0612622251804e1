"""The Store contract on both backends, through the store API itself: what a load makes visible at
once, odd record ids, unchanged reloads, withdrawal, and candidates in the same order."""

from __future__ import annotations

from pathlib import Path

from indexer.keys import profile_keys
from indexer.records import Record, profile
from search.storage.base import prepare
from search.storage.factory import open_store
from tests.backends import Backend

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
