"""Standing entries keep the profiles their query is searched as (search.storage.profiles), on both
backends: read back exactly, re-kept when an older version kept them, alerts still as /match says."""

from __future__ import annotations

from pathlib import Path

from indexer.keys import KEYS_VERSION
from search.matching.query import query_profiles
from search.storage.factory import open_store
from search.storage.profiles import profiles_current, unpack_profiles
from search.watching.factory import open_watching
from tests.test_stored_profiles import settled
from tests.test_watching import Env, _alerts, _new_list, _partner_file, env_fixture

__all__ = ["env_fixture"]  # the server over the sample offices, as tests/test_watching.py uses it


def test_entries_keep_the_profiles_they_are_searched_as_and_an_older_entry_gets_them(env: Env, tmp_path: Path) -> None:
    """Each entry keeps the profiles its query is searched as: a load's workers read them instead
    of normalizing every entry they meet. An entry kept by an older version (without them, or by
    another keys version) is given this version's by the next write, and alerts as /match says."""
    with env.client("CN-HK/analyst") as c:
        lid = _new_list(c)
        wanted = [{"name": "Chan Kwok Wai"}, {"name": "陈国伟", "entity_type": "person", "birth_date": "1971-02-11"}]
        r = c.post(f"/watchlists/{lid}/entries", json={"entries": wanted})
        assert r.status_code == 201, r.text
        records = open_store(env.settings)
        watching = open_watching(env.settings, records)
        assert watching is not None
        try:
            snap = watching.store.snapshot()
            assert len(snap.entries) == 2
            for e in snap.entries:
                kept = unpack_profiles(snap.kept[e.entry_id], e.entry_id, e.name)
                made = query_profiles(e.query())
                assert kept is not None and kept[1] == made.assumed
                assert [settled(p) for p in kept[0]] == [settled(p) for p in made.profiles]
            # What an older version stored: the entry and its keys, no profiles (or another version's).
            other = bytes((KEYS_VERSION + 1,)) + snap.kept[snap.entries[1].entry_id][1:]
            watching.store.put_entries(
                [
                    (e, [(h, t, w) for entry_id, h, t, w in snap.keys if entry_id == e.entry_id], blob)
                    for e, blob in zip(snap.entries, (b"", other), strict=True)
                ]
            )
            assert not any(profiles_current(b) for b in watching.store.snapshot().kept.values())
        finally:
            watching.store.close()
            records.close()
        rows = [{"office": "CN-FJ", "record_id": "K1", "entity_type": "person", "name": "陳國偉", "birth_date": "1971-02-11",
                 "address": ""}]  # fmt: skip
        env.load(_partner_file(tmp_path, rows))
        got = {
            (a["entry_id"], a["record_id"], a["verdict"]) for a in _alerts(c, status="open") if a["record_id"] == "K1"
        }
        expected = set()
        for e in r.json()["entries"]:
            q = {k: e[k] for k in ("name", "entity_type", "birth_date")}
            res = c.post("/match", json={"queries": [q], "offices": ["CN-FJ"], "limit": 100}).json()["results"][0]
            expected |= {(e["entry_id"], m["record_id"], m["verdict"]) for m in res["matches"] + res["possible"]}
    assert len(expected) == 2 and got == expected
    records = open_store(env.settings)
    watching = open_watching(env.settings, records)
    assert watching is not None
    try:
        assert all(profiles_current(b) for b in watching.store.snapshot().kept.values())
    finally:
        watching.store.close()
        records.close()
