"""The labeled benchmarks, run small: the issue's floors must hold on a seed the tuning never saw,
and on the real names nobody here generated."""

from __future__ import annotations

from indexer.synth.pairs import CATEGORIES
from search.matching.evaluation import benchmark, evaluate, legco_pairs, summary
from search.matching.real_names import evaluate_real, real_summary


def test_benchmark_floors() -> None:
    tallies = benchmark(seed=101, per_category=100)
    assert len(tallies) == len(CATEGORIES) >= 20
    s = summary(tallies)
    assert s["precision"] >= 0.995 and s["recall"] >= 0.97, s
    for name, t in tallies.items():
        if t.positive:
            # A variant may be only "possible" (a typo, two stacked guesses), never lost.
            assert t.rate_with_possible >= 0.95, (name, t.rate_with_possible, t.misses)
            assert t.rate >= 0.80, (name, t.rate, t.misses)
        else:
            assert t.rate <= 0.03, (name, t.rate, t.misses)


def test_legco_real_names() -> None:
    tallies = evaluate(legco_pairs())
    assert tallies["legco_full_romanized"].rate >= 0.9
    assert tallies["legco_same_surname_other"].rate == 0.0
    assert summary(tallies)["precision"] == 1.0


def test_real_name_benchmark() -> None:
    """Taiwan legislators, Hong Kong LegCo members and NPC deputies (Wikidata), every written
    form searched through a real store: a "seen" on another person is rare, and romanized names
    written in full reach the Chinese ones."""
    tallies = evaluate_real()
    s = real_summary(tallies)
    assert s["precision"] >= 0.995, s
    assert tallies["hk_romanized→zh"].precision == 1.0
    assert tallies["tw_romanized→zh"].precision == 1.0
    assert tallies["hk_romanized→zh"].recall_possible >= 0.90
    assert tallies["tw_romanized→zh"].recall_possible >= 0.80
