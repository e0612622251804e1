"""A record's profile as the store keeps it beside the record (issue #17).

On a million records a query's candidates are mostly records no query met before: their profiles
missed the matcher's cache and were normalized again, 36 % of /match's CPU (py-spy, the realistic
benchmark's watchlist). The load has each profile at hand when it computes the keys, so it keeps
the profile's fields too, and a query reads them back instead of normalizing the names again.

What is kept is exactly what :func:`indexer.records.profile` builds, nothing the scorer works out
later (a form's guesses and Cantonese products stay computed on first use, by the code of the
version that serves): the fields come from the normalizer, as the keys do, so the keys version
(:data:`indexer.keys.KEYS_VERSION`) covers them and a store written by another version is refused
until ``suspects rekey`` (or a reindex) writes both again. ``unpack(pack(p)) == p`` is tested on
every shipped real name list and the sample offices (tests/test_stored_profiles.py).

The fields are plain tuples of strings, pickled (a C loader, 3-4 x faster than normalizing; stable
across Python versions; read back by an unpickler that refuses every class) and deflated against a preset dictionary of the commonest syllables. Text
the record already holds is not repeated: a form's original is the index of the name it came from
when it is that name, and its folded text is left out where it is its characters or its tokens.
"""

from __future__ import annotations

import io
import logging
import pickle
import zlib

from indexer.keys import KEYS_VERSION
from indexer.names.companies import CompanyForm
from indexer.names.identifiers import Identifier, rid_birth
from indexer.names.persons import NameForm, Reading
from indexer.names.regions import Region
from indexer.names.romanized import LatinName
from indexer.records import EntityProfile, Record, clean_gender

logger = logging.getLogger(__name__)

FORMAT = 1  # the first byte of every packed profile

# Text every profile repeats: the commonest syllables of the three systems and the kinds of
# identifier, so that a short profile deflates against it rather than against itself.
_DICTIONARY = (
    b"cn_ridmalefemaleusccphonehkidotherpyzhangwangliuchenyanghuangzhaowuzhoulinxusunmaguozhu"
    b"hehuluogaozhengliangxiesongtanghanfengdengcaocaiyuandongyuxiaochengcaofanpengweijiang"
    b"jinminghuajunjianhongxiaweiwenlinglijiaxinyingjingxiangmeiyunyongzhichangtianfangying"
    b"chanwongleungcheungchowlamlauhoyeungtsangkwongngchuilaumakchuiwaimingkwokyiuhingkeung"
    b"chihhsiehhsutsaikuohsiaotsengchiangchouchienhsinchihsiungtsungkuangjenshihchuanhsiang"
)
_WBITS = -15  # raw deflate: the row is the unit


class _PlainData(pickle.Unpickler):
    """Reads plain data only. A kept profile is tuples of strings, numbers and None, which name no
    class; whoever can write to the store (an Elasticsearch index is shared) must not be able to
    make the server import and call anything through a crafted profile."""

    def find_class(self, module: str, name: str) -> type:
        raise pickle.UnpicklingError(f"a kept profile may hold plain data only, not {module}.{name}")


def pack(record: Record, profile: EntityProfile) -> bytes:
    """The profile of ``record`` (made by :func:`indexer.records.record_profile`), packed."""
    raws = [record.name, *record.aliases]
    names = tuple(_pack_name(f, raws) for f in profile.names)
    companies = tuple(_pack_company(c, raws) for c in profile.companies)
    # A resident ID's birth date and gender are read from its digits again; the profile's own
    # are left out when they are the record's (they differ only when taken from an ID).
    ids = tuple((i.kind, i.value, i.verified) for i in profile.identifiers)
    born = "" if profile.birth_date == record.birth_date else profile.birth_date
    gender = "" if profile.gender == clean_gender(record.gender) else profile.gender
    packed: Packed = (names, companies, ids, born, gender)
    data = pickle.dumps(packed, protocol=5)
    c = zlib.compressobj(1, zlib.DEFLATED, _WBITS, 9, zlib.Z_DEFAULT_STRATEGY, _DICTIONARY)
    return bytes((FORMAT,)) + c.compress(data) + c.flush()


def unpack(blob: bytes, record: Record) -> EntityProfile | None:
    """The profile :func:`pack` kept for ``record``; None for a blob of another format (the
    caller then normalizes the record itself)."""
    if not blob or blob[0] != FORMAT:
        return None
    d = zlib.decompressobj(_WBITS, _DICTIONARY)
    try:
        packed: Packed = _PlainData(io.BytesIO(d.decompress(blob[1:]) + d.flush())).load()
    except (pickle.UnpicklingError, zlib.error, EOFError, ValueError):
        logger.warning("a kept profile of %s:%s is unreadable: normalizing the record", record.office, record.record_id)
        return None
    names, companies, ids, born, gender = packed
    raws = [record.name, *record.aliases]
    return EntityProfile(
        record.entity_type,
        tuple(_unpack_name(n, raws) for n in names),
        tuple(_unpack_company(c, raws) for c in companies),
        tuple(Identifier(k, v, ok, *rid_birth(v)) if k == "cn_rid" else Identifier(k, v, ok) for k, v, ok in ids),
        record.birth_date if born == "" else born,
        clean_gender(record.gender) if gender == "" else gender,
    )


# A standing entry's query profiles (search.watching), kept with the entry: a load's workers read
# them back instead of normalizing every entry they meet (each worker did, for every load: on the
# realistic HK file into the watched ten offices, 4,181 entries in 30,000 records, 0.94 of the 1.74 s
# the reverse lookup took there). The first byte is the keys version that made them, which covers
# the normalizer as it does for the records' kept profiles.


def pack_profiles(entry_id: str, name: str, profiles: tuple[EntityProfile, ...], assumed: str | None) -> bytes:
    """The profiles a query of ``name`` is searched as (``QueryPlan``), packed: each as a record's."""
    parts = tuple((p.entity_type, pack(_named(entry_id, name, p.entity_type), p)) for p in profiles)
    return bytes((KEYS_VERSION,)) + pickle.dumps((assumed, parts), protocol=5)


def profiles_current(blob: bytes | None) -> bool:
    """Were the packed profiles made by this keys version?"""
    return blob is not None and len(blob) > 0 and blob[0] == KEYS_VERSION


def unpack_profiles(blob: bytes, entry_id: str, name: str) -> tuple[tuple[EntityProfile, ...], str | None] | None:
    """What :func:`pack_profiles` kept; None for another version or an unreadable blob (the caller
    then normalizes the entry itself)."""
    if not profiles_current(blob):
        return None
    assumed: str | None = None
    try:
        assumed, parts = _PlainData(io.BytesIO(blob[1:])).load()
        found = tuple(unpack(packed, _named(entry_id, name, etype)) for etype, packed in parts)
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError):
        found = (None,)
    if any(p is None for p in found) or not isinstance(assumed, str | None):
        logger.warning("the kept profiles of entry %s are unreadable: normalizing it", entry_id)
        return None
    return tuple(p for p in found if p is not None), assumed


def _named(entry_id: str, name: str, entity_type: str) -> Record:
    """A record of the entry's name alone: what its profiles are packed against (the query's own
    fields are kept in full, as a record's that differ from its own are)."""
    return Record("", entry_id, entity_type, name)


# What is pickled: plain tuples of str, int, bool and None, never our classes (a class renamed or
# moved would make every kept profile unreadable).
Readings = tuple[Reading, ...]
Parsed = tuple[tuple[str, ...], int | None, tuple[str, ...], tuple[str, ...]]
PackedName = tuple[
    int | str, str | None, str, str, Readings, Readings, Readings | None, tuple[str, ...], tuple[str, ...],
    tuple[str, int] | None, Parsed | None,
]  # fmt: skip
Place = tuple[str, str, str]
PackedCompany = tuple[
    int | str, str, str, str, tuple[str, ...], Place | None, str, bool, Readings, Readings, Readings,
    tuple[Place, ...],
]  # fmt: skip
Packed = tuple[
    tuple[PackedName, ...], tuple[PackedCompany, ...], tuple[tuple[str, str, bool], ...], str | None, str | None
]


def _original(text: str, raws: list[str]) -> int | str:
    return raws.index(text) if text in raws else text


def _pack_name(f: NameForm, raws: list[str]) -> PackedName:
    parsed = (
        None if f.parsed is None else (f.parsed.tokens, f.parsed.surname_index, f.parsed.english, f.parsed.initials)
    )
    implied = f.han if f.han else " ".join(f.parsed.tokens) if f.parsed is not None else None
    folded = None if f.folded == implied else f.folded
    ct = None if f.ct_seed is not None else f.ct  # a Han name's readings are computed on first use
    return (_original(f.original, raws), folded, f.han, f.surname, f.py, f.wg, ct, f.english, f.initials,
            f.ct_seed, parsed)  # fmt: skip


def _unpack_name(n: PackedName, raws: list[str]) -> NameForm:
    original, folded, han, surname, py, wg, ct, english, initials, ct_seed, parsed = n
    latin = None if parsed is None else LatinName(*parsed)
    if folded is None:
        folded = han if han else " ".join(latin.tokens) if latin is not None else ""
    return NameForm(
        raws[original] if isinstance(original, int) else original,
        folded, han, surname, py, wg, ct, english, initials, ct_seed, parsed=latin,
    )  # fmt: skip


def _region(r: Region | None) -> Place | None:
    return None if r is None else (r.name, r.city, r.province)


def _pack_company(c: CompanyForm, raws: list[str]) -> PackedCompany:
    return (_original(c.original, raws), c.folded, c.brand, c.brand_latin, tuple(sorted(c.industries)),
            _region(c.region), c.legal_form, c.branch, c.wg, c.ct, c.py,
            tuple((r.name, r.city, r.province) for r in c.region_alternatives))  # fmt: skip


def _unpack_company(c: PackedCompany, raws: list[str]) -> CompanyForm:
    original, folded, brand, latin, industries, region, legal, branch, wg, ct, py, alternatives = c
    return CompanyForm(
        raws[original] if isinstance(original, int) else original,
        folded, brand, latin, frozenset(industries), None if region is None else Region(*region),
        legal, branch, wg, ct, py, tuple(Region(*r) for r in alternatives),
    )  # fmt: skip
