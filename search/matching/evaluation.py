"""Accuracy evaluation: precision, recall and F1 of the scorer, overall and per variant category.

Two data sets: the seeded synthetic benchmark (:mod:`indexer.synth.pairs`) and the real Hong Kong
Legislative Council bilingual name list (Wikidata, CC0), where each member's English name must meet
their Chinese name and must not meet another member's. A pair counts as matched only when query and
record share at least one key (either storage backend would return the record as a candidate) *and*
the scorer says match; *blocking recall* alone is reported per category too.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

from indexer.keys import profile_keys, query_keys
from indexer.names.romanized import _is_syllabic, _single_syllable
from indexer.names.spellings import ENGLISH_NAMES
from indexer.records import EntityProfile, clean_date, profile
from indexer.synth.pairs import Pair, generate_pairs
from search.matching.scorer import score


@dataclass(slots=True)
class Tally:
    positive: bool
    expect: Literal["match", "possible"] = (
        "match"  # a positive category's right verdict (indexer.synth.pair.Pair.expect)
    )
    n: int = 0
    said_match: int = 0
    said_possible: int = 0  # judged possible (worth a look), not a match
    blocked: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.said_match / self.n if self.n else 0.0

    @property
    def rate_with_possible(self) -> float:
        return (self.said_match + self.said_possible) / self.n if self.n else 0.0


def _profile(d: dict[str, Any]) -> EntityProfile:
    return profile(
        d["entity_type"],
        d["name"],
        (),
        d.get("id_number"),
        clean_date(d.get("birth_date")),
        d.get("gender"),
    )


def evaluate(pairs: Iterable[Pair], threshold: float | None = None) -> dict[str, Tally]:
    """Score every pair; tally per category. ``threshold`` overrides the scorer's own."""
    tallies: dict[str, Tally] = {}
    for pair in pairs:
        t = tallies.setdefault(pair.category, Tally(pair.positive, pair.expect))
        q, rec = _profile(pair.query), _profile(pair.record)
        decision = score(q, rec)
        blocked = bool(set(query_keys(q)) & set(profile_keys(rec)))
        # The service returns a record only if the store finds it (a shared key) *and* the scorer
        # judges it the same entity, so a pair counts as matched only when both hold.
        matched = blocked and (decision.match if threshold is None else decision.score >= threshold)
        t.n += 1
        t.said_match += int(matched)
        t.said_possible += int(blocked and threshold is None and decision.verdict == "possible")
        t.blocked += int(blocked)
        flagged = matched or (blocked and decision.verdict == "possible")
        missed = not flagged if pair.expect == "possible" else matched != pair.positive
        if missed and len(t.misses) < 5:
            t.misses.append(f"{pair.query['name']} | {pair.record['name']} | {decision.score}")
    return tallies


def summary(tallies: dict[str, Tally]) -> dict[str, float]:
    """Overall precision, recall and F1 (positives and negatives pooled). Recall is of the positives
    whose right verdict is a match; those whose right verdict is "possible" are reported apart:
    the share found (match or possible) and the share confirmed on the name alone."""
    tp = sum(t.said_match for t in tallies.values() if t.positive and t.expect == "match")
    fn = sum(t.n - t.said_match for t in tallies.values() if t.positive and t.expect == "match")
    fp = sum(t.said_match for t in tallies.values() if not t.positive)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    blocked = sum(t.blocked for t in tallies.values() if t.positive)
    positives = sum(t.n for t in tallies.values() if t.positive)
    worth_a_look = [t for t in tallies.values() if t.positive and t.expect == "possible"]
    looked = sum(t.n for t in worth_a_look)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "blocking_recall": blocked / positives if positives else 0.0,
        "pairs": float(sum(t.n for t in tallies.values())),
        "possible_found": sum(t.said_match + t.said_possible for t in worth_a_look) / looked if looked else 1.0,
        "possible_confirmed": sum(t.said_match for t in worth_a_look) / looked if looked else 0.0,
    }


def benchmark(seed: int = 7, per_category: int = 200, threshold: float | None = None) -> dict[str, Tally]:
    """Evaluate the synthetic benchmark."""
    return evaluate(generate_pairs(seed, per_category), threshold)


def legco_pairs() -> list[Pair]:
    """Positives: each Legislative Council member's English name(s) against their Chinese name.
    Negatives: each English name against the Chinese name of the next member in the list who has
    the same surname character (the hard case), or the next member at all."""
    text = resources.files("indexer.data").joinpath("wikidata_hk_legco_persons.csv").read_text("utf-8")
    rows = [r for r in csv.DictReader(text.splitlines()) if r["name_en"] and r["name_zh_hant"]]
    out: list[Pair] = []
    for i, row in enumerate(rows):
        zh = row["name_zh_hant"]
        english = [row["name_en"]] + [n for n in row["other_latin_names"].split("|") if n.strip()]
        for en in english:
            # "Holden Chow" carries only the surname in Chinese: no name matcher should call it
            # 周浩鼎 on the name alone, so it is reported as its own category.
            if not en.isascii():
                category = "legco_other_language"  # Vietnamese or Hakka forms in Wikidata
            elif _romanized_given(en):
                category = "legco_full_romanized"
            else:
                category = "legco_surname_plus_english_name"
            out.append(
                Pair(category, True, {"entity_type": "person", "name": en}, {"entity_type": "person", "name": zh})
            )
        others = rows[i + 1 :] + rows[:i]
        other = next((o for o in others if o["name_zh_hant"][0] == zh[0]), others[0])
        neg = "legco_same_surname_other" if other["name_zh_hant"][0] == zh[0] else "legco_other_member"
        out.append(
            Pair(
                neg,
                False,
                {"entity_type": "person", "name": row["name_en"]},
                {"entity_type": "person", "name": other["name_zh_hant"]},
            )
        )
    return out


def _romanized_given(name: str) -> bool:
    """Does the Latin name spell a Chinese given name, not only the surname? English names of
    several syllables (Martin, Alan, Nathan) do not count; one-syllable ones (Kai, Ming) may be
    Chinese and do."""
    tokens = [t.lower() for t in name.replace("-", " - ").replace(",", " ").split() if t]
    if "-" in tokens:
        return True
    english = [t for t in tokens if t in ENGLISH_NAMES and not _single_syllable(t)]
    return sum(1 for t in tokens if t not in english and _is_syllabic(t)) >= 2


def format_table(tallies: dict[str, Tally]) -> str:
    """A Markdown table: category, kind, pairs, rate (recall or false-alarm rate), blocking recall."""
    lines = [
        "| category | kind | pairs | matches: recall / false alarms | matches ∪ possible | blocking recall |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name in sorted(tallies, key=lambda k: (not tallies[k].positive, k)):
        t = tallies[name]
        kind = ("positive" if t.expect == "match" else "positive, possible expected") if t.positive else "negative"
        rate = f"{t.rate:.3f}" if t.positive else f"{t.rate:.3f} FA"
        both = f"{t.rate_with_possible:.3f}" if t.positive else f"{t.rate_with_possible:.3f} flagged"
        block = f"{t.blocked / t.n:.3f}" if t.positive and t.n else "—"
        lines.append(f"| {name} | {kind} | {t.n} | {rate} | {both} | {block} |")
    return "\n".join(lines)
