"""Personal spellings a query's own keys cannot reach (issue #14): one given-name syllable spelled
another way, or a Mandarin surname before a Cantonese given name. The names are real (Wikidata,
Hong Kong LegCo and Taiwan legislators); before the query-side neighbour keys, none of these pairs
shared a key, so the store never proposed them and the answer was "not seen"."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from indexer.keys import QUERY_KEYS_VERSION, profile_keys, query_keys
from indexer.names.neighbours import cantonese_surnames, syllable_neighbours
from indexer.records import profile
from search.matching.query import query_profiles
from search.settings import Settings
from search.storage.codec import key_hash
from search.storage.factory import open_store
from search.watching.factory import open_watching
from tests.backends import Backend
from tests.test_cli import run


def test_neighbours_are_vowel_and_final_edits_within_the_system() -> None:
    assert "hang" in syllable_neighbours("han", "ct")  # 恒 Hang, written Han
    assert "ci" in syllable_neighbours("ce", "ct")  # 志 Chi, written Che
    assert "lang" in syllable_neighbours("liang", "wg")  # 瑯 Lang, written Liang
    assert "man" not in syllable_neighbours("han", "ct")  # an initial is never changed
    # Slips that land on another syllable: two vowels swapped, an h or s dropped.
    assert "chia" in syllable_neighbours("chai", "wg")  # 家 Chia, written Chai
    assert "shan" in syllable_neighbours("san", "wg")  # 山 Shan, written San
    assert "hsuan" in syllable_neighbours("huan", "wg")  # 萱 Hsuan, written Huan
    assert "chang" not in syllable_neighbours("wang", "wg")
    assert cantonese_surnames("chiang")[0] == "ceung"  # 蔣 Chiang in Mandarin, Cheung in Cantonese


def test_only_queries_widen_records_keep_their_keys() -> None:
    for name in ("Chan Han-pan", "蔣麗芸", "Chiang Lai-wan"):
        p = profile("person", name)
        own, wide = profile_keys(p), query_keys(p)
        assert own.items() <= wide.items() and len(wide) > len(own)
    # Neither side alone shares a key with the other; the query's neighbours reach the record's.
    latin, han = profile("person", "Chan Han-pan"), profile("person", "陳恒鑌")
    assert not set(profile_keys(latin)) & set(profile_keys(han))
    assert set(query_keys(latin)) & set(profile_keys(han))
    # A slip onto another syllable is reached from the slipped query (張山新 Chang Shan-hsin).
    slipped, chinese = profile("person", "Chang San-hsin"), profile("person", "張山新")
    assert not set(profile_keys(slipped)) & set(profile_keys(chinese))
    assert set(query_keys(slipped)) & set(profile_keys(chinese))
    # The Hong Kong mix is reached from both sides.
    mixed, chinese = profile("person", "Chiang Lai-wan"), profile("person", "蔣麗芸")
    assert not set(profile_keys(mixed)) & set(profile_keys(chinese))
    assert set(query_keys(mixed)) & set(profile_keys(chinese))
    assert set(query_keys(chinese)) & set(profile_keys(mixed))


def load_people(backend: Backend, tmp_path: Path, people: dict[str, dict[str, str]]) -> Settings:
    """A store holding each office's people ({office: {record id: name}}), loaded by the CLI."""
    store = backend.settings(tmp_path)
    for office, names in people.items():
        path = tmp_path / f"{office.lower()}.csv"
        rows = "".join(f"{rid},person,{name}\n" for rid, name in names.items())
        path.write_text("record_id,entity_type,name\n" + rows, encoding="utf-8")
        r = run("load", str(path), "--office", office, store=store)
        assert r.returncode == 0, r.stderr
    return store


@pytest.fixture()
def offices(backend: Backend, tmp_path: Path) -> Settings:
    gd = {"g1": "陳恒鑌", "g2": "蔣麗芸", "g3": "陳恒斌"}
    return load_people(backend, tmp_path, {"CN-GD": gd, "CN-HK": {"h1": "Chiang Lai-wan"}})


def answer(name: str, store: Settings) -> tuple[set[str], set[str], dict[str, Any]]:
    """`suspects search NAME` as a person: the matches' and the possibles' record ids, the body."""
    r = run("search", name, "--type", "person", "--json", store=store)
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    return {m["record_id"] for m in body["matches"]}, {m["record_id"] for m in body["possible"]}, body


def test_a_personal_spelling_is_worth_a_look_not_a_match(offices: Settings) -> None:
    matches, possible, body = answer("Chan Han-pan", offices)
    assert "g1" in possible and "g1" not in matches, body  # one syllable spelled its own way
    assert body["seen"] is False  # honest: not confirmed


def test_the_hong_kong_mix_is_found_both_ways(offices: Settings) -> None:
    matches, _, body = answer("Chiang Lai-wan", offices)
    assert "g2" in matches, body
    matches, possible, body = answer("蔣麗芸", offices)
    assert "h1" in matches | possible, body  # the Chinese name finds the Hong Kong office's own spelling


def test_an_entry_saved_before_the_neighbours_is_keyed_again_and_alerts(backend: Backend, tmp_path: Path) -> None:
    """A standing entry stored by an older version holds only its own keys; the next write re-keys
    it, so a partner record reachable only through a neighbour alerts as /match reports it."""
    hk = tmp_path / "cn-hk.csv"
    hk.write_text("record_id,entity_type,name\nh1,person,Leung Che-cheung\n", encoding="utf-8")
    store = backend.settings(tmp_path)
    assert run("load", str(hk), "--office", "CN-HK", store=store).returncode == 0
    list_id = run("watch", "create", "raids", "--office", "CN-HK", store=store).stdout.strip().split()[-1]
    added = run("watch", "add", list_id, "Chan Han-pan", "--type", "person", "--office", "CN-HK", store=store)
    assert added.returncode == 0, added.stderr
    entry_id = added.stdout.split(":")[0]
    # What the version before the neighbours stored: the entry's own keys, no version mark.
    records = open_store(store)
    watching = open_watching(store, records)
    assert watching is not None
    entry = watching.store.get_entry(entry_id)
    assert entry is not None and entry.keyed == QUERY_KEYS_VERSION
    own = {
        (key_hash(k), "person"): round(w)
        for p in query_profiles(entry.query()).profiles
        for k, w in profile_keys(p).items()
    }
    watching.store.put_entries([(replace(entry, keyed=0), [(h, t, w) for (h, t), w in own.items()], b"")])
    watching.store.close()
    records.close()
    gd = tmp_path / "cn-gd.csv"
    gd.write_text("record_id,entity_type,name\ng1,person,陳恒鑌\n", encoding="utf-8")
    assert run("load", str(gd), "--office", "CN-GD", store=store).returncode == 0
    alerts = json.loads(run("watch", "alerts", "--office", "CN-HK", store=store).stdout)
    assert [(a["record_id"], a["verdict"]) for a in alerts] == [("g1", "possible")], alerts
    _, possible, _ = answer("Chan Han-pan", store)
    assert "g1" in possible  # what /match says, the alert says


@pytest.fixture()
def mixes(backend: Backend, tmp_path: Path) -> Settings:
    gd = {"g1": "葉田", "g2": "葉麗芸", "g3": "許家明"}
    return load_people(backend, tmp_path, {"CN-GD": gd, "CN-HK": {"h1": "Yeh Tin"}})


def test_a_mandarin_surname_unlike_its_cantonese_spelling_is_the_hong_kong_mix(mixes: Settings) -> None:
    # 葉 is Yeh in Wade-Giles and Ip in Hong Kong: the two spellings share no letter, so only the
    # surname table bridges them (before: "Yeh Tin" ~ 葉田 scored 0.63, "not seen").
    matches, _, body = answer("Yeh Tin", mixes)
    assert "g1" in matches, body
    hit = next(m for m in body["matches"] if m["record_id"] == "g1")
    assert "Cantonese: ye tin vs ip tin" in json.dumps(hit, ensure_ascii=False), hit
    matches, _, body = answer("葉田", mixes)
    assert "h1" in matches, body  # and from the Chinese side
    # A name that reads whole in Wade-Giles, read as the mix, stacks two guesses: worth a look only.
    matches, possible, body = answer("Yeh Lai-wan", mixes)
    assert "g2" in possible and "g2" not in matches, body
    doubt = next(m["doubt"] for m in body["possible"] if m["record_id"] == "g2")
    assert "a Hong Kong mix" in doubt and "read as Cantonese" in doubt, doubt
    matches, possible, body = answer("Hsu Ka-ming", mixes)
    assert "g3" in possible and "g3" not in matches, body
