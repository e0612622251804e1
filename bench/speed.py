"""Speed of the matching core on one core: normalize + keys for persons and companies, and the
scorer's comparisons per second.

    python bench/speed.py [--n 50000]

Records come from the benchmark generator (one office writing, mixed scripts). Each phase runs on
fresh strings so the per-name caches do not flatter the figures: the names are distinct, and the
caches are cleared between phases.
"""

from __future__ import annotations

import argparse
import random
import time

from indexer.keys import profile_keys
from indexer.names import cantonese, mandarin, romanized
from indexer.names import persons as names
from indexer.names.companies import _han_company, _latin_company
from indexer.records import profile, warm_up
from indexer.synth import render
from indexer.synth.entities import Generator
from search.matching.scorer import score


def _clear() -> None:
    names.han_form.cache_clear()
    names.latin_form.cache_clear()
    _han_company.cache_clear()
    _latin_company.cache_clear()
    romanized.segment.cache_clear()


def person_names(n: int, seed: int) -> list[str]:
    g = Generator(seed)
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n:
        p = g.person()
        roll = rng.random()
        if roll < 0.6:
            out.append(p.han)
        elif roll < 0.8:
            out.append(render.traditional(p.han))
        else:
            hk = render.hk_syllables(rng, p)
            out.append(f"{hk[0].upper()} {' '.join(hk[1])}" if hk else p.han)
    return out


def company_names(n: int, seed: int) -> list[str]:
    g = Generator(seed)
    return [g.company().han for _ in range(n)]


def rate(label: str, n: int, seconds: float) -> float:
    per_s = n / seconds
    print(f"{label:<44} {n:>8} in {seconds:6.2f} s = {per_s:>10,.0f} /s")
    return per_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=50_000)
    args = parser.parse_args()
    # Load every name table once (they load on first use; not per-record work).
    warm_up()
    mandarin.char_readings("陈")
    cantonese.char_keys("陈")
    people = person_names(args.n, 1)
    firms = company_names(args.n // 2, 2)

    _clear()
    t = time.perf_counter()
    for i, name in enumerate(people):
        profile_keys(profile("person", name, birth_date="1971-02-11" if i % 2 else None))
    rate("person normalize + keys (distinct names)", len(people), time.perf_counter() - t)

    _clear()
    t = time.perf_counter()
    for name in firms:
        profile_keys(profile("company", name))
    rate("company normalize + keys (distinct names)", len(firms), time.perf_counter() - t)

    profiles = [profile("person", n) for n in people[:2000]]
    queries = [profile("person", n) for n in people[2000:2200]]
    pairs = [(q, c) for q in queries for c in profiles[:100]]
    t = time.perf_counter()
    for q, c in pairs:
        score(q, c)
    rate("scorer comparisons (person, mixed scripts)", len(pairs), time.perf_counter() - t)

    cprofiles = [profile("company", n) for n in firms[:100]]
    cqueries = [profile("company", n) for n in firms[100:300]]
    cpairs = [(q, c) for q in cqueries for c in cprofiles]
    t = time.perf_counter()
    for q, c in cpairs:
        score(q, c)
    rate("scorer comparisons (company)", len(cpairs), time.perf_counter() - t)


if __name__ == "__main__":
    main()
