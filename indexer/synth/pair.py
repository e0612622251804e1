"""A labeled benchmark pair and the helpers every category uses."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from indexer.synth.entities import Generator


@dataclass(slots=True)
class Pair:
    category: str
    positive: bool
    query: dict[str, Any]
    record: dict[str, Any]
    notes: dict[str, Any] = field(default_factory=dict)
    # The right verdict on a positive pair: "match", or "possible" where nothing confirms what the
    # name alone cannot (issue #14: "a homophone with different characters and nothing else to
    # confirm" is worth a look, not a confirmed match).
    expect: Literal["match", "possible"] = "match"


PairFn = Callable[[Generator, random.Random], Pair | None]


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]
