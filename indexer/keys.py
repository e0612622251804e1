"""Blocking keys: a bounded set of weighted strings per record and per query.

Both storage backends index exactly these strings (a SQLite table, an Elasticsearch keyword field)
and rank candidates by the sum of the weights of the keys they share with the query, so the weights
live here, once. Each key is ``<type>:<value>``; its weight depends only on the type.

Design rules, each checked by the benchmark (bench/accuracy.py reports blocking recall):
- every true match shares at least one *strong* key (exact name, a full reading, an identifier);
- no key is so common that it alone returns thousands of records: there is no surname-only or
  legal-form-only key, and every romanized key holds the whole name;
- keys are order-free where the source order is unknown (syllables sorted), so "Dawen Chen" and
  陈大文 meet without guessing which token is the surname.
"""

from __future__ import annotations

import re
from functools import lru_cache

from indexer.names import cantonese, mandarin, neighbours, romanized
from indexer.names.companies import CompanyForm, pinyin_splits
from indexer.names.persons import NameForm, join_surname
from indexer.records import EntityProfile

# Weight per key type. Identifiers are decisive; an exact written name is next; a full reading in
# one system is strong; fuzzy and one-edit keys only rescue typos and must not outrank a real
# reading match. 'sb' (surname + birth date) rescues English-name-only records ("Peter Chan",
# 1971-02-11) whose given name cannot be read.
KEY_WEIGHTS: dict[str, float] = {
    "id": 20.0,
    "n": 10.0,
    "py": 8.0,
    "wg": 6.0,
    "ct": 6.0,
    "fz": 3.0,
    "wz": 3.0,
    "ed": 2.0,
    "sb": 4.0,
    "cn": 10.0,
    "cb": 8.0,
    "cbh": 3.0,
    "cbw": 6.0,
    "cbc": 6.0,
    "cbr": 2.0,
}

# Keys kept per record: a Han name with a heteronym surname and aliases yields about 30.
MAX_KEYS = 64

# The version of the keys a record gets. Bumped whenever a name's keys change, since records keyed
# by another version can miss queries keyed by this one (a wrong "not seen"); stores record it and
# reading commands refuse a store keyed by another version. 1: up to 1 Dec 2026. 2 (2 Dec): industry
# sectors, eight Cantonese readings per company brand, split double surnames, spelling merges.
# 3 (2 Dec, later): the Wade-Giles fuzzy key ('wz'). 4 (3 Dec): a Wade-Giles name's readings one
# slip away from its one unreadable part. 5 (3 Dec): the keys unchanged, but each record keeps its
# profile beside them (search/storage/profiles.py), made by the same normalizer: a change to what a
# profile holds bumps this too, so that no store serves profiles another version made. 6 (3 Dec):
# slip keys also for a one-word given name that reads only by splitting off a one- or two-letter
# syllable ("Hsio" for 曉 hsiao), and for a Wade-Giles surname before a Cantonese-looking slip.
# 7 (5 Dec): Wade-Giles szu read as ssu (思), as the Chinese form's reading spells it. 8 (5 Dec,
# afternoon): a part that is the Cantonese spelling of no name character ("Hng") is a slip, not a
# Hong Kong name, so the name gets its slip keys (neighbours._name_spellings).
KEYS_VERSION = 8

# The version of the keys a query looks up (:func:`query_keys`), which standing entries store:
# bumped whenever they change (with KEYS_VERSION too), so that entries saved before are keyed
# again (the watching service's ``rekey``). 1 (3 Dec): the spelling neighbours. 2 (3 Dec, later): slips.
# 3 (3 Dec): neighbours two swapped vowels or an h or s away; the slips of KEYS_VERSION 6; a name
# is wholly Cantonese only with one syllable a word or part (fewer Cantonese neighbours).
# 4 (4 Dec): an English brand's keys for every way its pinyin splits (Jilian: ji-li-an too).
# 5 (5 Dec): a personal spelling's own neighbours as written ("Jui-yuh": yueh, not only yu's);
# the szu of KEYS_VERSION 7. 6 (5 Dec, afternoon): the slips of KEYS_VERSION 8.
QUERY_KEYS_VERSION = 6

# A final -ng after a vowel, merged with -n by both fuzzy keys (pinyin 'fz', Wade-Giles 'wz').
_NG_FINAL = r"(?<=[aeiu])ng$"

# Fuzzy-pinyin merges that pinyin IMEs offer because southern speakers make them (research note
# §1.9): zh/z, ch/c, sh/s, n/l, f/h, -ng/-n. Applied to pinyin syllables.
_FZ_RULES = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"^zh", "z"),
        (r"^ch", "c"),
        (r"^sh", "s"),
        (r"^n(?=[aeiouv])", "l"),
        (r"^f", "h"),
        (_NG_FINAL, "n"),
    )
)


@lru_cache(maxsize=20_000)
def fuzzy(syllable: str) -> str:
    """Fuzzy-pinyin class of a pinyin syllable: 陈 chen and 程 cheng meet as 'cen', 张 zhang and
    'zang' as 'zan'."""
    for pattern, repl in _FZ_RULES:
        syllable = pattern.sub(repl, syllable)
    return syllable


_WZ_NASAL = re.compile(_NG_FINAL)


@lru_cache(maxsize=20_000)
def wg_fuzzy(syllable: str) -> str:
    """Fuzzy class of a coarse Wade-Giles syllable: -ng and -n merged, as Taiwan personal spellings
    and southern speech merge them (顏清標 "Chin-piao Yen", 楊鎮浯 "Yang Cheng-wu", 許忠信 "Hsu
    Chun-hsin": Taiwan legislators). Coarse Wade-Giles already merges zh/j with ch and q with ch,
    so pinyin's fuzzy key, built from a misread pinyin syllable ("chin" is no pinyin), cannot
    bridge these."""
    return _WZ_NASAL.sub("n", syllable)


def key_type(key: str) -> str:
    """The type prefix of a key ('py:chen da wen' → 'py')."""
    return key[: key.index(":")]


def weight(key: str) -> float:
    """The weight of a key, from its type."""
    return KEY_WEIGHTS[key[: key.index(":")]]


def _bag(reading: tuple[str, ...]) -> str:
    return " ".join(sorted(reading))


def _edits(surname: str, given: str) -> list[str]:
    # One-deletion neighbourhood of the joined given name (SymSpell): "dawen" and the typo "dawne"
    # share "dawn"/"dawe", so a keyboard typo in a romanized name still meets its record.
    out = [f"{surname}|{given}"]
    if len(given) >= 3:
        out.extend(f"{surname}|{given[:i]}{given[i + 1 :]}" for i in range(len(given)))
    return out


def _name_keys(form: NameForm, birth_date: str | None, keys: list[str]) -> None:
    if form.han:
        # No one-character-deleted keys (陈大文 → 陈文, 陈大): on 1 M records they were 7 % of a
        # query's keys but 35 % of the postings it scanned (mean 101 records each) and halved the
        # candidate query's speed, while no benchmark category needed them: homophone typos meet
        # on pinyin keys, other one-character typos on surname + birth date or the ID number.
        keys.append("n:" + form.han)
    for system in ("py", "wg", "ct"):
        for reading in form.readings(system):
            keys.append(f"{system}:{_bag(reading)}")
    for reading in form.py[:2]:
        keys.append("fz:" + _bag(tuple(fuzzy(s) for s in reading)))
    for reading in form.wg[:2]:
        keys.append("wz:" + _bag(tuple(wg_fuzzy(s) for s in reading)))
    if not form.han:
        # A romanized name of four or more syllables may write a two-character surname as two
        # words, which the Chinese form reads as one: married double surnames (陳賴素美 Chen Lai
        # Su-mei, 高金素梅 Kao Chin Su-mei, 張廖萬堅 Chang Liao Wan-chien: Taiwan legislators) and
        # split compounds (歐陽 Au Yeung). One more key per reading, for these names only.
        for system in ("py", "wg", "ct"):
            for reading in form.readings(system)[:2]:
                if len(reading) >= 4:
                    keys.append(f"{system}:{_bag((reading[0] + reading[1], *reading[2:]))}")
    if form.parsed is not None:
        # A Wade-Giles name with one part no system reads ("Hung-lue"): the readings one slip
        # away, on both sides, so that 張宏陸 finds the record and the record's query finds 張宏陸.
        # Only such names get them (a slip in a pinyin name meets its record through 'ed' keys).
        for slipped in neighbours.slipped_names(form.parsed):
            keys.extend(f"wg:{_bag(join_surname(r, n))}" for r, n in romanized.readings(slipped, "wg"))
    # Edit keys (pinyin only; Cantonese edit keys rescued one LegCo pair, "Chan Han-pan" = 陳恒鑌,
    # for 28 % more key rows, load 2.74x → 3.12x a bare pinyin pass and batch /match 524 → 359
    # queries/s on 1 M records) and surname + birth date keys: the first reading per system, and for a romanized
    # name of unknown order also the second (last token as surname, "Dawen Chen").
    per_system = 1 if form.han else 2
    for system in ("py", "wg", "ct"):
        for reading in form.readings(system)[:per_system]:
            if system == "py":
                keys.extend(f"ed:{system}|{e}" for e in _edits(reading[0], "".join(reading[1:])))
            if system != "py" and birth_date and len(birth_date) == 10:
                keys.append(f"sb:{system}|{reading[0]}|{birth_date}")


def _company_keys(form: CompanyForm, keys: list[str]) -> None:
    keys.append("cn:" + form.folded)
    if form.brand:
        keys.extend(f"cb:{form.brand}|{ind}" for ind in _industries(form))
        keys.append("cbh:" + form.brand)
    for system, readings in (("cbw", form.wg), ("cbc", form.ct)):
        for reading in readings:
            keys.extend(_brand_reading_keys(form, system, "".join(reading)))


def _industries(form: CompanyForm) -> list[str]:
    return sorted(form.industries) or ["-"]


def _brand_reading_keys(form: CompanyForm, system: str, joined: str) -> list[str]:
    """A brand reading's keys: with each industry, and with the region if the name has one."""
    keys = [f"{system}:{joined}|{ind}" for ind in _industries(form)]
    region = form.region.city or form.region.name if form.region is not None else ""
    if region:
        keys.append(f"cbr:{system}|{joined}|{region}")
    return keys


def profile_keys(p: EntityProfile) -> dict[str, float]:
    """The weighted blocking keys of a normalized record or query, at most ``MAX_KEYS``."""
    keys: list[str] = []
    for ident in p.identifiers:
        keys.append("id:" + ident.key)
    for form in p.names:
        _name_keys(form, p.birth_date, keys)
    for company in p.companies:
        _company_keys(company, keys)
    out: dict[str, float] = {}
    for key in keys:
        if key not in out:
            out[key] = KEY_WEIGHTS[key[: key.index(":")]]
            if len(out) >= MAX_KEYS:
                break
    return out


# Neighbour readings a query looks up besides its own keys (see indexer.names.neighbours).
MAX_NEIGHBOUR_KEYS = 48


def _brand_splits(form: CompanyForm) -> list[str]:
    """An English brand's Wade-Giles keys for every way its joined pinyin splits: "Jilian" is kept
    as ji-lian, but 吉丽安 is ji-li-an, and their keys (chilien, chilian) differ while the
    scorer finds the two the same (synthetic company_english_trade_word, seeds 61, 71, 83: 4
    such pairs scored 0.96 and never found)."""
    if not form.brand_latin:
        return []
    splits = pinyin_splits(form.brand_latin)
    return [k for split in splits for k in _brand_reading_keys(form, "cbw", "".join(mandarin.coarse(s) for s in split))]


def _neighbour_keys(form: NameForm) -> list[str]:
    if form.han:
        # A Chinese name's own readings do not widen: on the 100k realistic workload that cost
        # every Chinese query about 0.2 ms of CPU in-process (+28 %, the extra candidates'
        # profiles) for one real pair (梁志祥 → "Leung Che-cheung"). Only the Hong Kong mix seen
        # from the Chinese side is looked up: 蔣麗芸 is also "Chiang Lai-wan".
        surnames = dict.fromkeys(cantonese.skeleton(r[0]) for r in form.wg[:2] if r)
        return [f"ct:{_bag((s, *r[1:]))}" for s in surnames for r in form.ct[:1] if r and r[0] != s]
    if form.parsed is None:
        return []
    keys: list[str] = []
    # Only in the systems the name is wholly written in (a pinyin "Zhang Weiming" in none).
    full = romanized.full_systems(form.parsed)
    for system in (s for s in ("ct", "wg") if s in full):
        for reading in form.readings(system)[:1]:
            keys.extend(f"{system}:{_bag(r)}" for r in neighbours.reading_neighbours(reading, system))
    for named in neighbours.personal_neighbour_names(form.parsed):
        keys.extend(f"wg:{_bag(join_surname(r, n))}" for r, n in romanized.readings(named, "wg")[:1])
    for _, skeleton, theirs in neighbours.mix_surnames(form.parsed):
        for reading in form.ct[:2]:
            if reading and reading[0] == skeleton:
                keys.extend(f"ct:{_bag((s, *reading[1:]))}" for s in theirs)
    return keys


def query_keys(p: EntityProfile) -> dict[str, float]:
    """The weighted keys a query (or a standing entry) looks up: its own :func:`profile_keys`, and
    for a romanized person name the readings of its spelling neighbours (one given-name syllable
    spelled another way, a Mandarin surname before a Cantonese given name), each weighted as its
    type. Records never store these: only the query side widens."""
    out = profile_keys(p)
    widened = [
        *(k for form in p.names for k in _neighbour_keys(form)),
        *(k for c in p.companies for k in _brand_splits(c)),
    ]
    extra = dict.fromkeys(k for k in widened if k not in out)
    for key in list(extra)[:MAX_NEIGHBOUR_KEYS]:
        out[key] = KEY_WEIGHTS[key[: key.index(":")]]
    return out
