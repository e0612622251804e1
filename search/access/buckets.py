"""Token buckets that every process of one server shares: the per-key rate limit and the limit on
failed authentications hold for the server, not for each of its processes.

`suspects serve` with ``serve_processes`` > 1 forks its request processes from one parent (each
answers connections on the same socket). A bucket kept in a process's own dict would let a key
spend its burst once per process, and a guesser try its wrong secrets once per process. The table
lives in an anonymous shared memory map created before the fork, guarded by one semaphore; with
one process it is simply that process's memory.

A slot is (16-byte digest of the bucket's name, tokens, time of the last update). A bucket not in
the table is full. When the slots a name may probe are all taken, the one updated longest ago
is forgotten, which only ever gives a caller a full bucket back (a flood of random key ids cannot
fill memory: the table has a fixed size).
"""

from __future__ import annotations

import hashlib
import math
import mmap
import multiprocessing
import struct
import time
from dataclasses import dataclass

from search.errors import RateLimited

_SLOT = struct.Struct("<16sdd")
_EMPTY = bytes(16)
_PROBES = 16  # slots a name may take, from its digest's home slot on


class BucketTable:
    """A fixed number of token buckets in memory shared with forked processes."""

    def __init__(self, slots: int = 65_536) -> None:
        self.slots = slots
        self._map = mmap.mmap(-1, slots * _SLOT.size)  # anonymous and MAP_SHARED: survives fork
        # A fork-inherited semaphore: one lock for the threads of every process of the server.
        self._lock = multiprocessing.get_context("fork").Lock()

    def take(self, name: str, cost: float, rate: float, burst: float, admit_below: float) -> tuple[bool, float]:
        """Refill ``name``'s bucket (``rate`` tokens a second up to ``burst``) and, if it holds at
        least ``admit_below`` tokens, spend ``cost`` (it may go below zero: a debt later requests
        wait out). Returns whether it was spent, and the tokens the bucket held before."""
        digest = _digest(name)
        now = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process of the machine
        with self._lock:
            slot = self._find(digest)
            held, tokens, last = self._read(slot)
            if held != digest:
                tokens, last = burst, now
            tokens = min(burst, tokens + max(0.0, now - last) * rate)
            admitted = tokens >= admit_below
            _SLOT.pack_into(self._map, slot * _SLOT.size, digest, tokens - cost if admitted else tokens, now)
        return admitted, tokens

    def peek(self, name: str, rate: float, burst: float) -> float:
        """The tokens ``name``'s bucket holds now, spending nothing."""
        digest = _digest(name)
        now = time.monotonic()
        with self._lock:
            slot = self._find(digest)
            held, tokens, last = self._read(slot)
        if held != digest:
            return burst
        return min(burst, tokens + max(0.0, now - last) * rate)

    def _read(self, slot: int) -> tuple[bytes, float, float]:
        held, tokens, last = _SLOT.unpack_from(self._map, slot * _SLOT.size)
        return bytes(held), float(tokens), float(last)

    def _find(self, digest: bytes) -> int:
        """The slot holding ``digest``, else an empty one, else the one updated longest ago."""
        home = int.from_bytes(digest[:8], "little") % self.slots
        oldest, oldest_at = home, math.inf
        for i in range(_PROBES):
            slot = (home + i) % self.slots
            held, _, last = self._read(slot)
            if held in (digest, _EMPTY):
                return slot
            if last < oldest_at:
                oldest, oldest_at = slot, last
        return oldest


def _digest(name: str) -> bytes:
    return hashlib.blake2b(name.encode(), digest_size=16).digest()


@dataclass(frozen=True, slots=True)
class Rate:
    """A limit on one kind of thing: ``per_minute`` refill, ``burst`` capacity, its 429 message."""

    per_minute: float
    burst: float
    message: str

    def take(self, table: BucketTable, name: str, cost: float = 1.0) -> None:
        """Spend ``cost`` from ``name``'s bucket or raise RateLimited with the seconds until one
        token is back. Admitted while a token is left, and charged in full."""
        admitted, tokens = table.take(name, cost, self.per_minute / 60.0, self.burst, min(cost, 1.0))
        if not admitted:
            raise RateLimited(self.message, retry_after=self.wait(tokens))

    def spend(self, table: BucketTable, name: str) -> None:
        """Spend one token whatever the bucket holds (a failure that happened is counted)."""
        table.take(name, 1.0, self.per_minute / 60.0, self.burst, -math.inf)

    def check(self, table: BucketTable, name: str) -> None:
        """Raise RateLimited if :meth:`take` would, spending nothing."""
        tokens = table.peek(name, self.per_minute / 60.0, self.burst)
        if tokens < 1.0:
            raise RateLimited(self.message, retry_after=self.wait(tokens))

    def wait(self, tokens: float) -> int:
        """Whole seconds until a bucket holding ``tokens`` holds one."""
        rate = self.per_minute / 60.0
        return max(1, math.ceil((1.0 - tokens) / rate)) if rate > 0 else 60
