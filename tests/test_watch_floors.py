"""The reverse lookup's floors, on both backends: a written record that shares less key weight with
an entry than the entry's K-th candidate is not scored (/match does not score it either), and a
write that lowers a candidate's weight — a renamed record, a withdrawn one — screens the entries it
was among the K best of, so the record beyond the cut that moves up alerts as /match reports it.
Run with K = 5, so that a few dozen namesakes fill the cut."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from indexer.records import OFFICES
from search.access.factory import open_access
from search.access.keys import new_key
from search.settings import Settings
from search.storage.factory import open_store
from search.watching import elastic as elastic_watch
from search.watching.factory import open_watching
from search.watching.store import Floor
from tests.backends import Backend
from tests.conftest import KEEP_ALIVE_BELOW_SERVER, Server
from tests.test_cli import run

NAMES = ["陈国伟", "陈国华", "陈明伟", "陈建伟", "陈国明", "黄国伟"]
ID = "440106197102111236"  # a resident ID: born 1971-02-11


def _file(path: Path, office: str, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["office", "record_id", "entity_type", "name", "birth_date"])
        w.writerows([office, rid, "person", name, born] for rid, name, born in rows)
    return path


def _load(settings: Settings, path: Path) -> None:
    done = run("load", str(path), store=settings, timeout=300)
    assert done.returncode == 0, done.stderr


@pytest.fixture(name="settings")
def settings_fixture(backend: Backend, tmp_path: Path) -> Settings:
    return backend.settings(tmp_path, candidates=5)


@contextmanager
def _watching(settings: Settings, first: Path, entries: list[dict[str, str]]) -> Iterator[httpx.Client]:
    """A CN-HK analyst's client on a server over a store holding ``first``, with ``entries`` added
    after it was loaded (so that their first screening finds more than K candidates)."""
    _load(settings, first)
    access = open_access(settings)
    key, token = new_key("CN-HK", "analyst", "floors")
    access.add_key(key)
    access.close()
    with Server(settings) as server, httpx.Client(base_url=server.url, timeout=60, limits=KEEP_ALIVE_BELOW_SERVER) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        r = c.post("/watchlists", json={"name": "floors"})
        r = c.post(f"/watchlists/{r.json()['list_id']}/entries", json={"entries": entries})
        assert r.status_code == 201, r.text
        yield c


def _alerts_equal_match(c: httpx.Client) -> set[tuple[str, str, str]]:
    """The open alerts, checked against /match over the partner offices for every entry."""
    got = {(a["entry_id"], f"{a['record_office']}:{a['record_id']}", a["verdict"])
           for a in c.get("/alerts", params={"limit": 1000, "status": "open"}).json()["alerts"]}  # fmt: skip
    expected = set()
    partners = [o for o in OFFICES if o != "CN-HK"]
    lists = c.get("/watchlists").json()
    for e in c.get(f"/watchlists/{lists[0]['list_id']}").json()["items"]:
        q = {k: e[k] for k in ("name", "entity_type", "id_number", "birth_date")}
        res = c.post("/match", json={"queries": [q], "offices": partners, "limit": 100}).json()["results"][0]
        expected |= {
            (e["entry_id"], f"{m['office']}:{m['record_id']}", m["verdict"]) for m in res["matches"] + res["possible"]
        }
    assert got == expected
    return got


def _snapshot_floors(settings: Settings) -> tuple[Floor, ...]:
    """The floors a load's snapshot reads: (entry, entity type, tag, K-th weight, K-th document id)."""
    records = open_store(settings)
    watching = open_watching(settings, records)
    assert watching is not None
    try:
        return watching.store.snapshot().floors
    finally:
        watching.store.close()
        records.close()


def _floors(settings: Settings) -> list[float]:
    return [w for _, _, _, w, _ in _snapshot_floors(settings)]


def test_records_below_the_cut_are_not_scored_and_alerts_still_equal_match(settings: Settings, tmp_path: Path) -> None:
    entries = [{"name": "陈国伟", "entity_type": "person", "birth_date": "1971-02-11"},
               {"name": "Chan Kwok Wai", "entity_type": "person"}, {"name": "陈明华", "entity_type": "person"}]  # fmt: skip
    first = _file(tmp_path / "fj.csv", "CN-FJ", [(f"F{i:02d}", NAMES[i % len(NAMES)], "") for i in range(48)])
    with _watching(settings, first, entries) as c:
        assert _alerts_equal_match(c), "the namesakes should alert"
        assert any(w > 0 for w in _floors(settings)), "the entries' K-th candidates should have been kept"
        # More namesakes in another office: the five best stay, those sharing less are not scored;
        # one born the same day as the first entry shares more than its five best and enters them.
        rows = [(f"X{i:02d}", NAMES[i % len(NAMES)], "") for i in range(36)] + [("X99", "陈国伟", "1971-02-11")]
        _load(settings, _file(tmp_path / "gx.csv", "CN-GX", rows))
        assert "CN-GX:X99" in {d for _, d, _ in _alerts_equal_match(c)}


def test_a_candidate_renamed_or_withdrawn_lets_the_next_one_in(settings: Settings, tmp_path: Path) -> None:
    """The five best candidates of the entry are namesakes born in another year (no verdict: not
    alerted); five more, with no birth date (a match each), are beyond the cut. When one of the five
    best is renamed, or withdrawn, /match reports the next one: so must the alerts."""
    rows = [(f"F{i:02d}", "陈国伟", f"1990-01-0{i + 1}" if i < 5 else "") for i in range(10)]
    with _watching(
        settings,
        _file(tmp_path / "fj.csv", "CN-FJ", rows),
        [{"name": "陈国伟", "entity_type": "person", "id_number": ID}],
    ) as c:
        assert _alerts_equal_match(c) == set(), "the cut holds only namesakes born in another year"
        _load(settings, _file(tmp_path / "fj-renamed.csv", "CN-FJ", [("F01", "黄文", "")]))
        renamed = _alerts_equal_match(c)
        assert {d for _, d, _ in renamed} == {"CN-FJ:F05"}
        done = run("withdraw", "CN-FJ", "F00", store=settings)
        assert done.returncode == 0, done.stderr
        assert {d for _, d, _ in _alerts_equal_match(c)} == {"CN-FJ:F05", "CN-FJ:F06"}


def test_every_pair_is_read_back_however_many_a_search_page_holds(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The screening reads pairs by entry and by record in bulk, and a list's entries whole.
    Elasticsearch answers a search one page at a time; with pages of three documents (a real
    cluster, its page made small, so that a dozen pairs need several), every pair must still come
    back, by entry and by record alike, and every entry of the list."""
    entries = [{"name": n, "entity_type": "person"} for n in ("陈国伟", "陈国华", "Chan Kwok Wai", "陈明伟")]
    first = _file(tmp_path / "fj.csv", "CN-FJ", [(f"F{i:02d}", NAMES[i % len(NAMES)], "") for i in range(24)])
    with _watching(settings, first, entries) as c:
        alerted = _alerts_equal_match(c)
        monkeypatch.setattr(elastic_watch, "PAGE", 3)  # for the reads below only (the server's alert pages too)
        records = open_store(settings)
        watching = open_watching(settings, records)
        assert watching is not None
        try:
            ids = watching.store.all_entry_ids()
            listed = watching.store.entries(c.get("/watchlists").json()[0]["list_id"])
            snapshot = watching.store.snapshot()
            by_entry = watching.store.pairs_of_entries(ids)
            pairs = {(p.entry_id, p.doc) for found in by_entry.values() for p in found}
            by_doc = watching.store.pairs_of_docs(sorted({d for _, d in pairs}))
            lightest = watching.store.lightest_pairs(ids)
        finally:
            watching.store.close()
            records.close()
    assert len(ids) == len(listed) == len(snapshot.entries) == len(entries), "entries need two pages"
    assert len(pairs) > 3 * 3, "the pairs should need more than three pages"
    assert {(e, d) for e, d, _ in alerted} <= pairs
    assert {(p.entry_id, p.doc) for p in by_doc} == pairs
    assert lightest == {e: min(p.weight for p in found) for e, found in by_entry.items()}


def _kept_and_looked_up(
    settings: Settings,
) -> tuple[dict[tuple[str, str], list[str]], dict[tuple[str, str], list[str]]]:
    """Every entry's kept K best candidates, and the K best /match looks up for it now (ids, ranked)."""
    records = open_store(settings)
    watching = open_watching(settings, records)
    assert watching is not None
    try:
        m = watching.watcher.matcher
        entries = watching.store.snapshot().entries
        kept = watching.store.tops([e.entry_id for e in entries])
        looked: dict[tuple[str, str], list[str]] = {}
        for e in entries:
            partners = [o for o in OFFICES if o != e.office]
            _, wanted = m.plan([e.query()], partners)
            for keys, etype in wanted:
                looked[(e.entry_id, etype)] = [c.id for c in records.candidates(keys, etype, partners, 5, False)]
    finally:
        watching.store.close()
        records.close()
    return {k: [d for d, _ in top] for k, (_, top) in kept.items()}, looked


def test_the_kept_best_candidates_are_those_match_looks_up_after_every_load(settings: Settings, tmp_path: Path) -> None:
    """A load's end ranks the records it wrote among each entry's kept K best instead of looking
    the entry up: after loads that add better namesakes, worse ones and ties that rank first (an
    office named before), rename a kept candidate and withdraw one, the kept K best of every entry
    are still exactly /match's."""
    entries = [{"name": "陈国伟", "entity_type": "person", "birth_date": "1971-02-11"},
               {"name": "Chan Kwok Wai", "entity_type": "person"}, {"name": "陈国华", "entity_type": "person"}]  # fmt: skip
    first = _file(tmp_path / "gd.csv", "CN-GD", [(f"D{i:02d}", NAMES[i % len(NAMES)], "") for i in range(30)])
    with _watching(settings, first, entries) as c:
        kept, looked = _kept_and_looked_up(settings)
        assert kept == looked and len(kept) == len(entries)
        rows = [(f"X{i:02d}", NAMES[i % len(NAMES)], "") for i in range(12)] + [("X99", "陈国伟", "1971-02-11")]
        _load(settings, _file(tmp_path / "gx.csv", "CN-GX", rows))
        kept, looked = _kept_and_looked_up(settings)
        assert "CN-GX:X99" in kept[(_entry_id(c, "陈国伟"), "person")], "born the same day: among the best"
        assert kept == looked
        _load(settings, _file(tmp_path / "gx-renamed.csv", "CN-GX", [("X99", "黄文", "")]))
        kept, looked = _kept_and_looked_up(settings)
        assert kept == looked
        _load(settings, _file(tmp_path / "fj.csv", "CN-FJ", [("A00", "陈国华", ""), ("A01", "陈国伟", "")]))
        kept, looked = _kept_and_looked_up(settings)
        assert "CN-FJ:A00" in kept[(_entry_id(c, "陈国华"), "person")], "a tie ranks by document id"
        assert kept == looked
        assert run("withdraw", "CN-GD", "D01", store=settings).returncode == 0
        kept, looked = _kept_and_looked_up(settings)
        assert kept == looked
        _alerts_equal_match(c)


def test_a_tie_with_the_kth_candidate_ranks_by_document_id(settings: Settings, tmp_path: Path) -> None:
    """Ten namesakes share exactly the same keys with the entry: /match's five best are the five
    first document ids. A namesake written later by an office named before enters them (and the
    fifth drops out: its alert closes); one by an office named after does not, and is not scored.
    The floor keeps the fifth candidate's document id, and the alerts stay /match's answer."""
    rows = [(f"D{i:02d}", "陈国伟", "") for i in range(10)]
    with _watching(
        settings, _file(tmp_path / "gd.csv", "CN-GD", rows), [{"name": "陈国伟", "entity_type": "person"}]
    ) as c:
        assert {d for _, d, _ in _alerts_equal_match(c)} == {f"CN-GD:D0{i}" for i in range(5)}
        assert _lasts(settings) == ["CN-GD:D04"], "the floor should keep its K-th candidate's document id"
        _load(settings, _file(tmp_path / "yn.csv", "CN-YN", [("Y00", "陈国伟", "")]))
        assert {d for _, d, _ in _alerts_equal_match(c)} == {f"CN-GD:D0{i}" for i in range(5)}
        _load(settings, _file(tmp_path / "fj.csv", "CN-FJ", [("F00", "陈国伟", "")]))
        after = {d for _, d, _ in _alerts_equal_match(c)}
        assert after == {"CN-FJ:F00", *(f"CN-GD:D0{i}" for i in range(4))}
        assert _lasts(settings) == ["CN-GD:D03"]


def _lasts(settings: Settings) -> list[str]:
    return [last for _, _, _, _, last in _snapshot_floors(settings)]


def _entry_id(c: httpx.Client, name: str) -> str:
    lists = c.get("/watchlists").json()
    items = c.get(f"/watchlists/{lists[0]['list_id']}").json()["items"]
    return str(next(e["entry_id"] for e in items if e["name"] == name))
