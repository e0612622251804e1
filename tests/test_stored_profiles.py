"""Profiles kept by the store (search/storage/profiles.py): what a query reads back is exactly the
profile the normalizer makes, so a stored profile can never change a verdict."""

from __future__ import annotations

import pickle
import sqlite3
import zlib
from importlib import resources
from pathlib import Path

import pytest

from indexer.keys import KEYS_VERSION, query_keys
from indexer.records import EntityProfile, Record, record_profile
from search.matching.query import Query, query_profile, query_profiles
from search.matching.real_names import people
from search.matching.scorer import score
from search.settings import Settings
from search.storage import profiles
from search.storage.factory import open_store
from tests.backends import Backend


def settled(p: EntityProfile) -> EntityProfile:
    """The profile with every part the scorer computes on first use computed (so that two profiles
    compare on those parts too, whichever was asked for what before)."""
    for form in p.names:
        _ = (form.ct, form.ct_sets, form.ct_first, form.guesses)
    return p


def _companies() -> list[str]:
    text = resources.files("indexer.data").joinpath("wainshine_company_short_forms_sample.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")][:400]


def _records() -> list[Record]:
    """Every real person name form (Taiwan, Hong Kong, NPC; Chinese and romanized), with aliases,
    identifiers, birth dates and genders in the shapes offices send them, and real company names."""
    forms = [f.name for f in people()]
    out: list[Record] = []
    for i, name in enumerate(forms):
        aliases = [forms[i - 1]] if i % 3 == 0 else []
        id_number = ("44030119800101123X", "A123456(3)", "440301800101123", "+852 9123 4567|X-77", None)[i % 5]
        out.append(
            Record(
                "CN-GD",
                f"p{i}",
                "person",
                name,
                aliases,
                id_number,
                ("1971-02-11", None)[i % 2],
                ("m", None)[i % 2],
                phone=("+86 138 0013 8000", None)[i % 2],
            )
        )
    for i, name in enumerate(_companies()):
        out.append(Record("CN-FJ", f"c{i}", "company", name, [f"{name} Co., Ltd."] if i % 4 == 0 else []))
    return out


def test_a_kept_profile_reads_back_as_the_normalizer_made_it() -> None:
    records = _records()
    assert len(records) > 1000
    for rec in records:
        made = record_profile(rec)
        kept = profiles.unpack(profiles.pack(rec, made), rec)
        assert kept is not None
        assert settled(kept) == settled(made), rec


def test_the_first_cantonese_reading_is_the_first_of_all_readings() -> None:
    """``NameForm.ct_first`` skips building every reading: it must be the first of them."""
    for rec in _records():
        for form in record_profile(rec).names:
            assert form.ct_first == (form.ct[0] if form.ct else None), form.original


def test_the_scorer_says_the_same_on_kept_profiles() -> None:
    records = [r for r in _records() if r.entity_type == "person"][:300]
    made = [record_profile(r) for r in records]
    kept = [profiles.unpack(profiles.pack(r, p), r) for r, p in zip(records, made, strict=True)]
    for q in made[:60]:
        for m, k in zip(made, kept, strict=True):
            assert k is not None
            assert score(q, k) == score(q, m)


def test_an_entrys_kept_profiles_read_back_as_its_query_makes_them() -> None:
    """A standing entry keeps the profiles its query is searched as (search.watching): a load's
    workers read them instead of normalizing the entry, so they must be the query's own, for
    entries of either type and of none (searched as a person and a company), with the fields a
    watch entry carries."""
    records = _records()
    checked = 0
    for i, rec in enumerate(records[::3]):
        etype = (rec.entity_type, None)[i % 2]
        q = Query(rec.name, etype, f"we_{i}", rec.id_number, rec.birth_date, rec.gender)
        made = query_profiles(q)
        blob = profiles.pack_profiles(f"we_{i}", rec.name, made.profiles, made.assumed)
        kept = profiles.unpack_profiles(blob, f"we_{i}", rec.name)
        assert kept is not None, rec
        assert tuple(settled(p) for p in kept[0]) == tuple(settled(p) for p in made.profiles), rec
        assert kept[1] == made.assumed
        checked += len(made.profiles)
    assert checked > 400
    # Kept by another keys version (the normalizer may have changed since): not read.
    assert not profiles.profiles_current(bytes((KEYS_VERSION + 1,)) + blob[1:])
    assert profiles.unpack_profiles(bytes((KEYS_VERSION + 1,)) + blob[1:], "we_0", records[0].name) is None
    assert profiles.unpack_profiles(blob[:-5], "we_0", records[0].name) is None  # cut short
    assert not profiles.profiles_current(b"") and not profiles.profiles_current(None)


def test_a_blob_of_another_format_is_not_read() -> None:
    rec = Record("CN-GD", "1", "person", "陳大文")
    blob = profiles.pack(rec, record_profile(rec))
    assert profiles.unpack(b"", rec) is None
    assert profiles.unpack(bytes((profiles.FORMAT + 1,)) + blob[1:], rec) is None
    assert profiles.unpack(blob[:-3], rec) is None  # cut short


class _Planted:
    """What a crafted profile would make the reader call, were it a plain unpickler."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path("/tmp").joinpath, ("planted",))


def test_a_crafted_profile_cannot_make_the_reader_call_anything(tmp_path: Path) -> None:
    """Whoever can write to the store must not run code in the server through a profile."""
    rec = Record("CN-GD", "1", "person", "陳大文")
    c = zlib.compressobj(1, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, profiles._DICTIONARY)
    crafted = bytes((profiles.FORMAT,)) + c.compress(pickle.dumps(_Planted(), protocol=5)) + c.flush()
    d = zlib.decompressobj(-15, profiles._DICTIONARY)
    assert pickle.loads(d.decompress(crafted[1:]) + d.flush()) == Path("/tmp/planted")  # a plain reader calls it
    assert profiles.unpack(crafted, rec) is None  # refused, not called


@pytest.mark.parametrize("name", ["陳大文", "Chan Tai Man", "Zhang Wei", "广州市星辉贸易有限公司", "Li Hua"])
def test_the_store_hands_each_candidate_its_kept_profile(backend: Backend, loaded: Settings, name: str) -> None:
    store = open_store(loaded)
    try:
        seen = 0
        for etype in ("person", "company"):
            keys = query_keys(query_profile(Query(name, etype)))
            for c in store.candidates(keys, etype, None, 50):
                assert c.record is not None and c.profile is not None, c.id
                assert settled(c.profile) == settled(record_profile(c.record)), c.id
                seen += 1
        assert seen > 0
    finally:
        store.close()


def test_every_sample_office_record_keeps_a_profile(loaded_store_path: Path) -> None:
    with sqlite3.connect(loaded_store_path) as conn:  # the file itself, as an operator would look
        total, kept = conn.execute("SELECT COUNT(*), COUNT(profile) FROM records").fetchone()
    assert total > 5000 and kept == total
