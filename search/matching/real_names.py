"""The real-name benchmark: people nobody here generated, searched as a user would.

Three Wikidata lists (CC0, copied to indexer/data/): Taiwan's legislators (Chinese name, English and
Commons spellings, alternative names), Hong Kong's Legislative Council members (English name,
traditional Chinese, alternative spellings) and a sample of mainland NPC deputies (simplified,
traditional, pinyin). Every written form of every person becomes a record in a real store: the
Chinese forms in one office, the Latin forms in another. Every form is then searched through the
real matcher (keys, candidate retrieval, scorer), and each answer is judged against who the person
is: a match on another person is a false "seen".

Categories name the form searched and the form that should be found, in both directions
(``tw_romanized→zh`` and ``zh→tw_romanized``). Per category: precision of ``matches``, recall of
``matches``, and recall of ``matches ∪ possible``.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from indexer.names.persons import latin_form
from indexer.names.romanized import _is_syllabic, _single_syllable
from indexer.names.spellings import ENGLISH_NAMES
from indexer.names.text import fold_width, han_only, has_han
from indexer.records import Record
from search.matching.matcher import Matcher
from search.matching.query import Query
from search.matching.results import Result
from search.storage.base import Store, prepare
from search.storage.sqlite import SQLiteStore

HAN_OFFICE, LATIN_OFFICE = "CN-GD", "CN-HK"


@dataclass(frozen=True, slots=True)
class Form:
    person: str  # Wikidata id
    name: str
    kind: str  # zh, tw_romanized, hk_romanized, hk_english_name, npc_pinyin, other_language


@dataclass(slots=True)
class RealTally:
    """One category: queries, correct and wrong matches, found counterparts."""

    queries: int = 0
    wanted: int = 0  # counterpart records that should be found
    found: int = 0  # of them, in matches
    found_possible: int = 0  # of them, in matches or possible
    matched: int = 0  # all records in matches
    wrong: int = 0  # of them, another person's
    examples: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return 1.0 - self.wrong / self.matched if self.matched else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.wanted if self.wanted else 0.0

    @property
    def recall_possible(self) -> float:
        return self.found_possible / self.wanted if self.wanted else 0.0


def _rows(filename: str) -> list[dict[str, str]]:
    text = resources.files("indexer.data").joinpath(filename).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def romanized_given(name: str) -> bool:
    """Does the Latin name spell a Chinese given name, not only the surname? English names of
    several syllables (Martin, Alan) do not count; one-syllable ones (Kai, Ming) may be Chinese."""
    tokens = [t.lower() for t in name.replace("-", " - ").replace(",", " ").split() if t]
    if "-" in tokens:
        return True
    english = [t for t in tokens if t in ENGLISH_NAMES and not _single_syllable(t)]
    return sum(1 for t in tokens if t not in english and _is_syllabic(t)) >= 2


def spells_every_character(name: str, characters: int) -> bool:
    """Does the Latin name spell each of the Chinese name's characters? Its syllables, English
    given names set aside, count as many: hyphen- or space-separated ("Hsiao Bi-khim"), or as read
    ("Li Keqiang"). "Mark Chen" (陳唐山), "May Chin" (高金素梅) and "Pasuya Yao" (姚文智) do not."""
    form = latin_form(name)
    if form is None:
        return False
    english = set(form.english)
    tokens = [t for t in name.lower().replace("-", " ").replace(",", " ").split() if t not in english]
    return len(tokens) == characters or any(
        len(r) == characters for system in ("py", "wg", "ct") for r in form.readings(system)
    )


def _latin_kind(name: str, region: str, characters: int) -> str:
    if not name.isascii():
        return "other_language"  # Vietnamese, Hakka or Hokkien readings in Wikidata
    full = romanized_given(name) and spells_every_character(name, characters)
    return f"{region}_romanized" if full else f"{region}_english_name"


def people() -> list[Form]:
    """Every distinct written form of every person in the three lists."""
    forms: list[Form] = []

    def add(pid: str, names: list[str], region: str) -> None:
        seen: set[str] = set()
        characters = len(han_only(names[0]))  # the first name is the Chinese one
        for raw in names:
            name = raw.strip()
            if not name or name in seen:
                continue
            seen.add(name)
            forms.append(Form(pid, name, "zh" if has_han(name) else _latin_kind(name, region, characters)))

    for r in _rows("wikidata_tw_legislators_persons.csv"):
        add(
            r["wikidata_id"],
            [r["name_zh"], r["name_en"], r["commons_category_name"], *r["other_names"].split("|")],
            "tw",
        )
    for r in _rows("wikidata_hk_legco_persons.csv"):
        others = [*r["other_latin_names"].split("|"), *r["other_zh_forms"].split("|")]
        add(r["wikidata_id"], [r["name_zh_hant"], r["name_zh_hans"], r["name_en"], *others], "hk")
    for r in _rows("wikidata_cn_npc12_sample.csv"):
        add(r["wikidata_id"], [r["name_zh_hans"], r["name_zh_hant"], r["name_en"], *r["other_names"].split("|")], "npc")
    # Written forms that differ only in width or spacing are one form.
    unique: dict[tuple[str, str], Form] = {}
    for f in forms:
        unique.setdefault((f.person, fold_width(f.name).replace(" ", "").lower()), f)
    return list(unique.values())


def load(store: Store, forms: list[Form]) -> dict[str, str]:
    """One record per form (Chinese forms in one office, Latin in another); record id → person."""
    owner: dict[str, str] = {}
    records = []
    for i, f in enumerate(forms):
        rid = f"{f.person}-{i}"
        owner[rid] = f.person
        office = HAN_OFFICE if f.kind == "zh" else LATIN_OFFICE
        records.append(Record(office=office, record_id=rid, entity_type="person", name=f.name))
    store.upsert([prepare(r) for r in records])
    return owner


def evaluate_real(
    matcher_for: Callable[[Store], Matcher] = Matcher, folder: Path | None = None
) -> dict[str, RealTally]:
    """Search every form; tally per (searched kind → found kind) category."""
    forms = people()
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        store = SQLiteStore(Path(tmp) / "real.db")
        try:
            owner = load(store, forms)
            kind_of = {f"{f.person}-{i}": f.kind for i, f in enumerate(forms)}
            matcher = matcher_for(store)
            tallies: dict[str, RealTally] = {}
            for i, f in enumerate(forms):
                me = f"{f.person}-{i}"
                result = matcher.match(Query(f.name, "person"), None, 20)
                _tally(tallies, f, me, result, owner, kind_of)
        finally:
            store.close()
    return tallies


def _tally(
    tallies: dict[str, RealTally], f: Form, me: str, result: Result, owner: dict[str, str], kind_of: dict[str, str]
) -> None:
    matched = {m.record.record_id for m in result.matches} - {me}
    possible = {m.record.record_id for m in result.possible} - {me}
    counterparts = [rid for rid, p in owner.items() if p == f.person and rid != me]
    for rid in counterparts:
        t = tallies.setdefault(f"{f.kind}→{kind_of[rid]}", RealTally())
        t.wanted += 1
        t.found += rid in matched
        t.found_possible += rid in matched or rid in possible
    for rid in matched:
        t = tallies.setdefault(f"{f.kind}→{kind_of[rid]}", RealTally())
        t.matched += 1
        if owner[rid] != f.person:
            t.wrong += 1
            if len(t.examples) < 4:
                t.examples.append(
                    f"{f.name} → {next(m.record.name for m in result.matches if m.record.record_id == rid)}"
                )
    kinds = {kind_of[rid] for rid in counterparts}
    for k in kinds:
        tallies[f"{f.kind}→{k}"].queries += 1


def real_summary(tallies: dict[str, RealTally]) -> dict[str, float]:
    matched = sum(t.matched for t in tallies.values())
    wrong = sum(t.wrong for t in tallies.values())
    wanted = sum(t.wanted for t in tallies.values())
    return {
        "precision": 1.0 - wrong / matched if matched else 1.0,
        "recall": sum(t.found for t in tallies.values()) / wanted if wanted else 0.0,
        "recall_possible": sum(t.found_possible for t in tallies.values()) / wanted if wanted else 0.0,
        "matched": float(matched),
        "wrong": float(wrong),
    }


def format_real(tallies: dict[str, RealTally]) -> str:
    lines = [
        "| searched → found | queries | wanted | precision of matches | recall of matches | recall of matches ∪ possible |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in sorted(tallies):
        t = tallies[name]
        if not t.wanted and not t.matched:
            continue
        lines.append(
            f"| {name} | {t.queries} | {t.wanted} | {t.precision:.3f} ({t.wrong}/{t.matched} wrong) "
            f"| {t.recall:.3f} | {t.recall_possible:.3f} |"
        )
    return "\n".join(lines)
