"""The labeled benchmark, run small: the issue's floors must hold on a seed the tuning never saw."""

from __future__ import annotations

from indexer.synth.pairs import CATEGORIES
from search.matching.evaluation import benchmark, evaluate, legco_pairs, summary


def test_benchmark_floors() -> None:
    tallies = benchmark(seed=101, per_category=100)
    assert len(tallies) == len(CATEGORIES) >= 20
    s = summary(tallies)
    assert s["f1"] >= 0.97, s
    for name, t in tallies.items():
        if t.positive:
            assert t.rate >= 0.90, (name, t.rate, t.misses)
        else:
            assert t.rate <= 0.05, (name, t.rate, t.misses)


def test_legco_real_names() -> None:
    tallies = evaluate(legco_pairs())
    assert tallies["legco_full_romanized"].rate >= 0.9
    assert tallies["legco_same_surname_other"].rate == 0.0
    assert summary(tallies)["precision"] == 1.0
