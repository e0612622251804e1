"""Combinations of per-position options, most likely first: a name's readings built from each
character's options (Cantonese spellings, surname readings), without enumerating the product."""

from __future__ import annotations

import heapq
from functools import lru_cache


def ranked_product(options: list[tuple[str, ...]], limit: int) -> list[tuple[str, ...]]:
    """Combinations of per-position options, most likely first (smallest sum of option ranks),
    at most ``limit``. itertools.product would vary only the last position in its first results.
    Cached for names of at most :data:`CACHED_POSITIONS` characters (all real ones): a 200-character
    name's product is large and would stay in the cache (issue #18, see text.CACHED_NAME_CHARS)."""
    if len(options) > CACHED_POSITIONS:
        return list(_ranked_product.__wrapped__(tuple(options), limit))
    return list(_ranked_product(tuple(options), limit))


CACHED_POSITIONS = 12


@lru_cache(maxsize=100_000)
def _ranked_product(options: tuple[tuple[str, ...], ...], limit: int) -> tuple[tuple[str, ...], ...]:
    # Best-first over the lattice of rank vectors: the same order as sorting the full product by
    # (rank sum, rank vector), without enumerating it (a 200-character name has 2^200 combinations;
    # test_bad_input.py: the full product took the server to 24 GB). A combination is held sparsely,
    # as its non-zero ranks, because at most ``limit`` combinations are ever taken and each differs
    # from the first in a few positions only: the work is O(limit · positions · log), linear in the
    # name's length (holding whole rank vectors made every step O(positions) and the whole O(n²)).
    if any(not o for o in options):
        return ()
    n = len(options)
    steps = [i for i in range(n) if len(options[i]) > 1]  # positions with a second option at all
    first: tuple[tuple[int, int], ...] = ()
    heap: list[tuple[int, tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]] = [(0, (), first)]
    seen = {first}
    ranked: list[tuple[tuple[int, int], ...]] = []
    while heap and len(ranked) < limit:
        total, _, combo = heapq.heappop(heap)
        ranked.append(combo)
        ranks = dict(combo)
        for i in steps:
            k = ranks.get(i, 0)
            if k + 1 < len(options[i]):
                nxt = tuple(sorted({**ranks, i: k + 1}.items()))
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(heap, (total + 1, _order(nxt), nxt))
    out: list[tuple[str, ...]] = []
    for combo in ranked:
        row = [o[0] for o in options]
        for i, k in combo:
            row[i] = options[i][k]
        out.append(tuple(row))
    return tuple(out)


def _order(sparse: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """A sort key on sparse rank vectors equal to comparing the whole vectors: at the first
    position where two differ, the one with the non-zero (or larger) rank is the greater, and an
    earlier position outranks a later one, hence the negated position."""
    return tuple((-i, k) for i, k in sparse)
