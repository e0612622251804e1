"""Name similarity: how close two person or company name forms are, and through which system.

Each comparison returns a :class:`NameMatch`: a similarity in [0, 1], the system that bridged the two
forms (characters, pinyin, Wade-Giles, Cantonese), and the two readings compared, so the explanation
can say "chan tai man (Cantonese) = 陳大文". Characters outrank sound: identical characters score
1.0, the same pinyin with other characters (a homophone, 陈大文/陈达文) 0.90 but a step that needs
confirming (see :func:`guesses`), and a romanized form that reads exactly like the Han form 0.95.
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.names import neighbours, romanized
from indexer.names.companies import CompanyForm
from indexer.names.persons import NameForm, Reading
from search.matching.syllables import (
    DIFFERENT_SYLLABLE,
    reading_similarity,
    reading_steps,
    string_similarity,
    syllable_similarity,
)

SYSTEM_LABELS = {
    "chars": "characters",
    "py": "pinyin",
    "wg": "Wade-Giles",
    "ct": "Cantonese",
    "latin": "spelling",
}

# Similarity given to an exact reading match across scripts, per system. Pinyin and Wade-Giles are
# deterministic from the characters; Cantonese spellings collide more (王 and 黃 are both Wong),
# but a cross-script match must still clear the threshold on its own (benchmark: hk_cantonese).
EXACT_READING = {"py": 0.96, "wg": 0.95, "ct": 0.95, "latin": 0.97}
HOMOPHONE = 0.90  # same pinyin, different given-name characters (陈大文 / 陈达文): a match only if confirmed
SURNAME_HOMOPHONE = 0.72  # same pinyin, different surname (张伟 / 章伟): usually another person
# The same Cantonese reading of every character, not the same pinyin (王育敏 / 黃毓民): as above.
CANTONESE_HOMOPHONE = SURNAME_HOMOPHONE

# Readings compared per side and system; exact matches are found over all of them first.
_FUZZY_READINGS = 2


@dataclass(frozen=True, slots=True)
class NameMatch:
    """The best agreement found between two name forms."""

    similarity: float
    system: str
    query: str
    candidate: str
    query_reading: str = ""
    candidate_reading: str = ""
    # The uncertain steps this agreement rests on ("fuzzy initial f/h", "surname taken to be last",
    # "洋 read as xiang"): one is a variant, two stacked are a guess (scorer: never confirmed alone).
    steps: tuple[str, ...] = ()


def _provenance(form: NameForm, reading: Reading, system: str, other: NameForm | None = None) -> list[str]:
    """The guesses behind one side's reading in ``system``: a surname assumed last, a secondary
    reading of a character, a pinyin spelling converted to Wade-Giles, a personal spelling."""
    steps = []
    g = form.guesses
    mandarin_written = g.systems - {"ct"}
    if (system not in g.systems or system == "ct") and mandarin_written and system not in mandarin_written:
        # A name written whole in pinyin or Wade-Giles, read in another system, reaches unrelated
        # characters ("Jin Ming" as Wade-Giles "chin ming" is 覃明; "Li Ying" as Cantonese is 李景).
        # Not for a name that reads whole only as Cantonese: a typo'd pinyin name often does.
        written = "/".join(SYSTEM_LABELS[s] for s in sorted(mandarin_written))
        steps.append(f"{form.original}: written in {written}, read as {SYSTEM_LABELS[system]}")
        if system == "ct":
            # A word of two syllables is pinyin's way, never Hong Kong's or Macau's ("Tong Panyu"
            # as Cantonese met 董攀瑜: synthetic pinyin_wg_collision, seeds 53, 83, 97, 109).
            joined = romanized.joined_words(form.parsed) if form.parsed is not None else ()
            if joined:
                steps.append(
                    f"{form.original}: {joined[0]} is one word of two syllables, which Hong Kong does not write"
                )
            # Cantonese skeletons merge spellings nobody writes for a character: a pinyin name's
            # "Jun" read as Cantonese meets 春 (Chun, Tsun) only by that merge (synthetic
            # romanized_one_syllable_off, seed 83: "Li Jun" matched 李春; "Ma Tong" still meets
            # 马东, Tong being how Macau writes 東). Hong Kong writes Cantonese b, d, g as p, t,
            # k (婷 Ting) and z, c as ch, ts (子 Tsz), unless its tables list the spelling for the
            # character (寶 Bo, 丁 Ding): "Li Ding" matched 李婷, "Li Ci" 李子, before.
            voiced = romanized.not_hong_kong_syllables(form.original)
            han = other.han if other is not None else ""
            unwritten = romanized.unwritten_syllables(form.original, han) if han else voiced
            if unwritten:
                steps.append(
                    f"{form.original}: {unwritten[0]} is not how Hong Kong writes Cantonese"
                    if unwritten[0] in voiced
                    else f"{form.original}: {unwritten[0]} is not how Hong Kong or Macau writes {han}"
                )
    if reading in g.surname_last:
        steps.append(f"{form.original}: surname taken to be the last word")
    if system != "ct" and reading in g.secondary:
        steps.append(f"{form.original}: read as {' '.join(reading)}, {RARE_READING}")
    if system == "wg" and reading in g.converted and not steps:
        # One conversion is one guess: a name written in pinyin and read as Wade-Giles has said so
        # above ("Jiang Wan-an" and "Chiang Wan-an", 蔣萬安, counted it twice: possible only).
        steps.append(f"{form.original}: pinyin spelling compared as Wade-Giles")
    if system != "ct" and reading in g.personal:
        steps.append(f"{form.original}: a personal spelling (Taiwan / Hong Kong)")
    return steps


def sets_similarity(reading: Reading, sets: tuple[tuple[str, ...], ...]) -> float:
    """A romanized reading against a Han name's per-syllable Cantonese options: each syllable
    takes its best option, so any real spelling of each character counts (Chow / Chau / Jau)."""
    if len(reading) != len(sets):
        return 0.0
    per = [max(syllable_similarity(x, o) for o in opts) for x, opts in zip(reading, sets, strict=True)]
    given = per[1:]
    return (per[0] + 2.0 * (sum(given) / len(given) if given else 0.0)) / 3.0 if given else per[0] / 3.0


def _shown(r: Reading) -> str:
    return " ".join(r)


def _usable(form: NameForm, other: NameForm, system: str) -> tuple[Reading, ...]:
    """A form's readings in one system that may meet ``other``: a romanized name's pinyin
    converted to Wade-Giles never meets a Chinese-script name (覃明 is not "Jin Ming")."""
    readings = form.readings(system)
    if system == "wg" and other.han and not form.han:
        converted = form.guesses.converted
        return tuple(r for r in readings if r not in converted) if converted else readings
    return readings


# Guesses that weigh as two on their own: a reading names rarely use ("Wang Xiang" reaches 王洋
# only through 洋 xiang), one real syllable for another, and other characters that sound the same.
# A homophone is what a typist's slip looks like (陈大文 / 陈达文), but in a store of many records it
# is far more often another person: on the realistic 100k workload, name-only queries of stored
# suspects matched 938 records through a homophone, 85 of them the suspect's own and 853 another
# person's (李阳 ⇄ 李杨, 李洋; /tmp script, then bench/store_precision.py). Issue #14 lists "a homophone
# with different characters and nothing else to confirm" among the possibles.
RARE_READING = "a reading names rarely use"
HOMOPHONE_STEP = "homophone "  # a step "homophone 阳/杨" (not "Cantonese homophone", already below 0.80)


def is_homophone(step: str) -> bool:
    """Is this step other characters of the same pinyin (a name's or a brand's)?"""
    return step.startswith(HOMOPHONE_STEP)


def guesses(steps: tuple[str, ...]) -> int:
    """How many guesses the steps weigh: a rare reading, a different syllable or a homophone
    counts two."""
    return sum(2 if RARE_READING in s or DIFFERENT_SYLLABLE in s or is_homophone(s) else 1 for s in steps)


# What one uncertain step costs when choosing between agreements: an exact reading reached by
# one guess beats a near reading reached by none only if it is this much closer.
STEP_COST = 0.05


def _better(new: NameMatch, best: NameMatch | None) -> bool:
    """Is ``new`` the better explanation? Similarity, less a cost per guess it rests on."""
    if best is None:
        return True
    return new.similarity - STEP_COST * guesses(new.steps) > best.similarity - STEP_COST * guesses(best.steps)


# Below this similarity no verdict but "none" is possible, so the guesses are not counted.
_STEPS_FLOOR = 0.6


def _best_reading(a: NameForm, b: NameForm, systems: tuple[str, ...]) -> NameMatch | None:
    """The best agreement over every system and reading pair. Candidates are gathered by
    similarity first; their guesses are counted only for those that could still win (counting
    them for every pair of two different people cost 40 % of the scorer's time)."""
    found: list[tuple[float, str, Reading, Reading, str]] = []  # (similarity, system, a, b, how)
    for system in systems:
        ra, rb = _usable(a, b, system), _usable(b, a, system)
        if not ra or not rb:
            continue
        shared = set(ra) & set(rb)
        if shared:
            found.extend((EXACT_READING[system], system, r, r, "exact") for r in ra if r in shared)
            continue
        for x in ra[:_FUZZY_READINGS]:
            for y in rb[:_FUZZY_READINGS]:
                found.append((reading_similarity(x, y, system) * EXACT_READING[system], system, x, y, "fuzzy"))
        if system == "ct" and (a.han or b.han):
            han, latin = (a, b) if a.han else (b, a)
            for x in latin.ct[:_FUZZY_READINGS]:
                sim = sets_similarity(x, han.ct_sets)
                found.append(
                    (EXACT_READING[system] if sim >= 1.0 else sim * EXACT_READING[system], system, x, x, "sets")
                )
                mixed = hong_kong_mix(x, latin, han)
                if mixed is not None:
                    mix_sim = sets_similarity(mixed, han.ct_sets) - (1.0 - MIX_SURNAME) / 3.0
                    found.append((mix_sim * EXACT_READING[system], system, x, mixed, "mix"))
    if not found:
        return None
    top = max(f[0] for f in found)
    best: NameMatch | None = None
    for sim, system, x, y, how in found:
        if sim < top - 4 * STEP_COST or (best is not None and sim <= best.similarity - STEP_COST * guesses(best.steps)):
            continue
        match = _explained(a, b, sim, system, x, y, how, count=top >= _STEPS_FLOOR)
        best = match if _better(match, best) else best
    return best


# A Mandarin surname spelling before a Cantonese given name (蔣麗芸 "Chiang Lai-wan", LegCo) is a
# Hong Kong convention, not a slip: the surname agrees through the surname table and the mix is one
# step of the ladder. Only needed where the two spellings of the surname look nothing alike: Chiang
# / Cheung already meet by similarity, Yeh / Ip (葉), Hsu / Hui (許), Wu / Ng (吳) never did ("Yeh
# Tin" for 叶田 scored 0.63: synthetic wade_giles_typo, seed 101). The surname counts 0.8, as a near
# spelling does, so a reading resting on fewer guesses still wins: at 0.9 the mix (two guesses for
# a name written in pinyin) outscored "Gao San" ~ 高珊 read in pinyin (s/sh, one), a match lost
# (fuzzy_pinyin_romanized, seed 11).
MIX_SURNAME = 0.8
_MIX_NEEDED_BELOW = 0.5


def hong_kong_mix(x: Reading, latin: NameForm, han: NameForm) -> Reading | None:
    """``x`` (a romanized name's Cantonese reading) with its surname replaced by the Cantonese
    reading of ``han``'s surname, when the romanized surname is that surname's Mandarin spelling,
    every given-name part is written the Hong Kong way, and the two surname spellings differ."""
    sets = han.ct_sets
    if latin.parsed is None or len(sets) < 2 or len(x) != len(sets):
        return None
    for word, skeleton, surnames in neighbours.mix_surnames(latin.parsed):
        # Cheapest test first: this runs for every romanized name met by a Chinese one.
        surname = next((s for s in surnames if s in sets[0]), None)
        if surname is None or skeleton != x[0]:
            continue
        if max(syllable_similarity(x[0], o) for o in sets[0]) >= _MIX_NEEDED_BELOW:
            return None
        if not set(romanized.not_cantonese_words(latin.parsed)) - {word}:
            return (surname, *x[1:])
    return None


def _mix_steps(latin: NameForm, han: NameForm, x: Reading, mixed: Reading) -> list[str]:
    # The mix explains a surname Hong Kong does not write: that step gives way to the mix's own.
    words = neighbours.mix_surnames(latin.parsed) if latin.parsed is not None else ()
    surname = next((w for w, skeleton, _ in words if skeleton == x[0]), x[0])
    own = [s for s in _provenance(latin, x, "ct", han) if not s.startswith(f"{latin.original}: {surname.lower()} is")]
    mix = f"{latin.original}: {surname} is the surname's Mandarin spelling before a Cantonese given name (a Hong Kong mix)"
    fuzzy = [f"fuzzy {p}/{o[0]}" for p, o in zip(mixed[1:], han.ct_sets[1:], strict=False) if p not in o]
    return [*own, mix, *fuzzy]


def _explained(
    a: NameForm, b: NameForm, sim: float, system: str, x: Reading, y: Reading, how: str, count: bool
) -> NameMatch:
    """One candidate agreement as a NameMatch, with its guesses counted if ``count``."""
    if how == "mix":
        han, latin, flip = (a, b, False) if a.han else (b, a, True)
        steps_mix = _mix_steps(latin, han, x, y) if count else []
        qa, qc = (_shown(x), _shown(y)) if flip else (_shown(y), _shown(x))
        return NameMatch(sim, system, a.original, b.original, qa, qc, tuple(steps_mix))
    if how == "sets":
        han, latin, flip = (a, b, False) if a.han else (b, a, True)
        shown_han = " ".join(o[0] for o in han.ct_sets)
        qa, qc = (_shown(x), shown_han) if not flip else (shown_han, _shown(x))
        if sim >= EXACT_READING[system]:
            qa = qc = _shown(x)
        steps: list[str] = []
        if count:
            steps = _provenance(latin, x, system, han)
            if sim < EXACT_READING[system]:
                steps += [f"fuzzy {p}/{o[0]}" for p, o in zip(x, han.ct_sets, strict=False) if p not in o]
        return NameMatch(sim, system, a.original, b.original, qa, qc, tuple(steps))
    if count:
        steps = [*_provenance(a, x, system, b), *_provenance(b, y, system, a)]
        if how == "fuzzy":
            steps += reading_steps(x, y, system)
    else:
        steps = []
    return NameMatch(sim, system, a.original, b.original, _shown(x), _shown(y), tuple(steps))


# Agreements already worked out, by the two forms' written text. A common name meets the same
# written names again and again: on 1 M records (bench/realistic.py watchlist, 1,500 queries) a
# query's 45 person comparisons hold 25 distinct pairs, and 46 % of all pairs recur across queries.
# A form is a function of its original text and whether it is the Han or the Latin part of it
# (``persons.person_forms``), and a NameMatch is immutable, so the pair's answer can be shared.
# Cleared when full rather than kept in LRU order: cheaper per call, and the hot pairs return.
_AGREEMENTS: dict[tuple[str, bool, str, bool], NameMatch] = {}
AGREEMENTS_KEPT = 20_000


def person_similarity(a: NameForm, b: NameForm) -> NameMatch:
    """Best agreement between two person name forms."""
    key = (a.original, bool(a.han), b.original, bool(b.han))
    found = _AGREEMENTS.get(key)
    if found is None:
        found = _person_similarity(a, b)
        if len(_AGREEMENTS) >= AGREEMENTS_KEPT:
            _AGREEMENTS.clear()
        _AGREEMENTS[key] = found
    return found


def _person_similarity(a: NameForm, b: NameForm) -> NameMatch:
    if a.han and b.han:
        if a.han == b.han:
            return NameMatch(1.0, "chars", a.original, b.original, a.han, b.han)
        if mandarin_homophones(a, b):
            # Primary readings only: 潘 may also read bo, but 王曦潘 and 王曦博 are not homophones
            # to a typist (benchmark: one_char_off). Each different character is one guess: a
            # typist slips once; 陳學聖 / 陳雪生 (two) are two people (real-name benchmark).
            sim = HOMOPHONE if a.surname == b.surname else SURNAME_HOMOPHONE
            steps = tuple(f"{HOMOPHONE_STEP}{x}/{y}" for x, y in zip(a.han, b.han, strict=False) if x != y)
            return NameMatch(sim, "py", a.original, b.original, _shown(a.py[0]), _shown(b.py[0]), steps)
        char_sim = string_similarity(a.han, b.han)
        sound_sim = reading_similarity(a.py[0], b.py[0], "py") * EXACT_READING["py"] if a.py and b.py else 0.0
        # One character off in writing *and* in sound is another person (陈大文 / 陈大武), so the
        # character and sound evidence are averaged rather than maxed.
        sim = 0.5 * char_sim + 0.5 * sound_sim
        if sim < CANTONESE_HOMOPHONE and cantonese_homophones(a, b):
            # 王育敏 / 黃毓民 both read "Wong Yuk-man" (real-name benchmark): worth a look, and the
            # evidence that a Cantonese spelling cannot tell them apart (demotion.demote_ambiguous).
            steps = tuple(f"Cantonese homophone {x}/{y}" for x, y in zip(a.han, b.han, strict=False) if x != y)
            return NameMatch(CANTONESE_HOMOPHONE, "ct", a.original, b.original, _shown(a.ct[0]), _shown(b.ct[0]), steps)
        return NameMatch(sim, "chars", a.original, b.original, a.han, b.han)
    if not a.han and not b.han and a.folded == b.folded and _same_surname_word(a, b):
        return NameMatch(1.0, "latin", a.original, b.original, a.folded, b.folded)
    systems: tuple[str, ...] = ("py", "wg", "ct")
    shared = a.guesses.systems & b.guesses.systems if not a.han and not b.han else frozenset()
    if not a.han and not b.han and shared:
        # Two romanized names written in a common system meet only in it: "Lin Chih-chia" and
        # "Lin Shih-chia" are Wade-Giles, and read as broken pinyin they look like a typo.
        systems = tuple(s for s in systems if s in shared)
    found = _best_reading(a, b, systems)
    if found is None:
        return NameMatch(0.0, "latin", a.original, b.original)
    return found


def _same_surname_word(a: NameForm, b: NameForm) -> bool:
    """Do two spellings of the same words take the same one for the surname, where both say which?
    "Guo CHEN" (capitals mark the surname: 陈国) and "GUO Chen" (郭臣) were "identical" (1.0, a
    match) for being the same letters: bench/store_precision.py, a 郭臣 record's alias."""
    pa, pb = a.parsed, b.parsed
    if pa is None or pb is None or pa.surname_index is None or pb.surname_index is None:
        return True
    return pa.tokens[pa.surname_index] == pb.tokens[pb.surname_index]


def mandarin_homophones(a: NameForm, b: NameForm) -> bool:
    """Two names in characters that differ but read the same in pinyin (primary readings)."""
    return bool(a.han and b.han and a.han != b.han and a.py and b.py and a.py[0] == b.py[0])


def cantonese_homophones(a: NameForm, b: NameForm) -> bool:
    """The same in Cantonese (primary readings), of as many characters."""
    ok = a.han and b.han and a.han != b.han and len(a.han) == len(b.han)
    return bool(ok and a.ct_first is not None and a.ct_first == b.ct_first)


def company_similarity(a: CompanyForm, b: CompanyForm) -> NameMatch:
    """Best agreement between the brands (字号) of two company forms."""
    if a.folded == b.folded:
        return NameMatch(1.0, "chars", a.original, b.original, a.folded, b.folded)
    if a.brand and b.brand:
        if a.brand == b.brand:
            return NameMatch(0.97, "chars", a.original, b.original, a.brand, b.brand)
        if a.py == b.py:
            # A brand homophone is a guess as a person's is (see guesses): on the realistic
            # million, 115 company matches through one (祥源 / 乡元 食品), none of them the same firm
            # (/tmp script, 2,000 company queries as offices wrote them).
            steps = (f"{HOMOPHONE_STEP}{a.brand}/{b.brand}",)
            return NameMatch(HOMOPHONE - 0.05, "py", a.original, b.original, a.brand, b.brand, steps)
        return NameMatch(string_similarity(a.brand, b.brand), "chars", a.original, b.original, a.brand, b.brand)
    best = NameMatch(0.0, "latin", a.original, b.original)
    if not a.brand and not b.brand:
        sim = string_similarity(a.brand_latin, b.brand_latin)
        best = NameMatch(sim * EXACT_READING["latin"], "latin", a.original, b.original, a.brand_latin, b.brand_latin)
    for system in ("py", "wg", "ct"):
        for x in _company_readings(a, system):
            for y in _company_readings(b, system):
                sim = string_similarity("".join(x), "".join(y)) * EXACT_READING[system]
                if sim > best.similarity:
                    best = NameMatch(sim, system, a.original, b.original, _shown(x), _shown(y))
    return best


def _company_readings(form: CompanyForm, system: str) -> tuple[Reading, ...]:
    if system == "py":
        return form.py
    if system == "wg":
        return form.wg
    return form.ct
