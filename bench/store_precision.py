"""Precision of matches in a store of many records (issue #14): the pair benchmark
(``bench/accuracy.py``) judges one query against one record, so it never sees the other people a
large store holds under a similar name.

    python bench/store_precision.py [--n 100000] [--folder var/bench/realistic100k] [--queries 3000]

Queries are drawn from the suspects the realistic workload stored (``bench/realistic.py``: the 11
office files, each suspect held by one to four offices), written as an investigator would type them
(as the office wrote it, traditional, pinyin, pinyin reversed, Wade-Giles; companies as written),
with the entity type and nothing else: no ID number, no birth date. Each answer is judged against
the generator's ground truth: a match on a record of another entity is wrong; recall is the share of
the suspect's own records matched (and matched or possible). Wrong matches are split by how the
names met: an identical name (the same characters, or the same spelling) is a namesake the name
alone cannot tell apart; the others are what the scorer could have avoided.

Needs the store of a ``bench/realistic.py`` run with the same ``--n`` and ``--folder``.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

import realistic

from indexer.names.text import has_han
from indexer.synth.offices import SampleRecord
from search.matching.matcher import Matcher
from search.matching.query import Query
from search.matching.results import Match
from search.storage.sqlite import SQLiteStore

# The forms of a suspect the offices hold (not the names nobody stored, nor a brand alone).
FORMS = tuple(f for f in realistic.FORMS if not f.endswith("nobody stored") and f != "company brand + industry")


class Pools:
    """The stored records a query may come from."""

    def __init__(self, records: list[SampleRecord]) -> None:
        self.people = [r for r in records if r.fields["entity_type"] == "person"]
        self.han_people = [r for r in self.people if r.office not in ("CN-HK", "CN-MO")]
        self.companies = [r for r in records if r.fields["entity_type"] == "company"]


def draw(pools: Pools, rng: random.Random) -> tuple[str, SampleRecord, str]:
    """(form, the stored record the query comes from, the name typed)."""
    people, han_people, companies = pools.people, pools.han_people, pools.companies
    form = rng.choice(FORMS)
    if form == "person as an office wrote it":
        src = rng.choice(people)
        return form, src, str(src.fields["name"])
    if form == "company as an office wrote it":
        src = rng.choice(companies)
        return form, src, str(src.fields["name"])
    src = rng.choice(han_people)
    return form, src, realistic.spelled(form, str(src.fields["name"]))


def how_met(m: Match) -> str:
    """How the names of a match met, from its name feature."""
    name = m.decision.features[0]
    if isinstance(name.value, float) and name.value >= 0.999:
        return "identical name"
    if "⇄" not in name.detail:
        return "a near reading"
    if m.record.entity_type == "company" and "(characters:" in name.detail:
        return "the same brand in characters, another firm"
    both_han = has_han(name.query or "") and has_han(name.candidate or "")
    return "other characters that sound the same" if both_han else "the same reading in another script"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--folder", type=Path, default=Path("var/bench/realistic100k"))
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    store_path = args.folder / f"eleven-{args.n}.db"
    if not store_path.exists():
        sys.exit(f"no store {store_path}: run python bench/realistic.py --n {args.n} --folder {args.folder} first")
    records = realistic.generate(args.folder, args.n)
    entity_of = {(r.office, str(r.fields["record_id"])): r.entity for r in records}
    records_of: dict[str, set[tuple[str, str]]] = collections.defaultdict(set)
    for r in records:
        records_of[r.entity].add((r.office, str(r.fields["record_id"])))
    matcher = Matcher(SQLiteStore(store_path))
    rng = random.Random(args.seed)
    pools = Pools(records)
    per_form: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])  # queries, matches, wrong
    wrong_by: collections.Counter[str] = collections.Counter()
    examples: dict[str, list[str]] = collections.defaultdict(list)
    own = own_matched = own_flagged = possible = 0
    for _ in range(args.queries):
        form, src, name = draw(pools, rng)
        result = matcher.match(Query(name=name, entity_type=str(src.fields["entity_type"])), limit=50)
        counts = per_form[form]
        counts[0] += 1
        mine = records_of[src.entity]
        matched = {(m.record.office, m.record.record_id) for m in result.matches}
        flagged = matched | {(m.record.office, m.record.record_id) for m in result.possible}
        own, own_matched, own_flagged = (
            own + len(mine),
            own_matched + len(mine & matched),
            own_flagged + len(mine & flagged),
        )
        possible += len(result.possible)
        for m in result.matches:
            counts[1] += 1
            if entity_of.get((m.record.office, m.record.record_id)) != src.entity:
                counts[2] += 1
                kind = how_met(m)
                wrong_by[kind] += 1
                if len(examples[kind]) < 3:
                    examples[kind].append(f"{name} → {m.record.name} ({m.decision.features[0].detail})")
    queries, matches, wrong = (sum(c[i] for c in per_form.values()) for i in range(3))
    avoidable = wrong - wrong_by["identical name"]
    print(f"## Matches in a store of {len(records):,} records ({queries:,} name-only queries, seed {args.seed})\n")
    print(
        f"precision of matches {1 - wrong / matches:.4f} ({wrong:,} of {matches:,} on another entity; "
        f"{wrong_by['identical name']:,} of them an identical name); without identical names "
        f"{1 - avoidable / (matches - wrong_by['identical name']):.4f}"
    )
    print(
        f"the suspect's own records: matched {own_matched / own:.4f}, matched or possible {own_flagged / own:.4f} "
        f"(of {own:,}); {possible:,} possible in all\n"
    )
    print("| query | queries | matches | on another entity | precision |\n|---|---:|---:|---:|---:|")
    for form in FORMS:
        q, n, w = per_form[form]
        print(f"| {form} | {q} | {n} | {w} | {1 - w / max(n, 1):.4f} |")
    print("\nWrong matches by how the names met:")
    for kind, count in wrong_by.most_common():
        print(f"- {kind}: {count}; e.g. " + "; ".join(examples[kind]))


if __name__ == "__main__":
    main()
