"""One ordered window over a process pool, for every place that fans work out to the cores.

Loading office files (normalizing records) and screening watchlists (matching rows) both send
batches to worker processes and must hand the results on in input order, with memory flat however
long the input: at most ``ahead`` batches are in flight, and results come back in submission order.
And a pool worker's watchdog (:func:`exit_with`) that ends it with its server.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from typing import TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


def in_order(pool: Executor, fn: Callable[[In], Out], items: Iterable[In], ahead: int) -> Iterator[Out]:
    """``fn(item)`` for every item, computed in ``pool``, yielded in input order, with at most
    ``ahead`` items submitted and not yet yielded."""
    pending: deque[Future[Out]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= max(1, ahead):
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for fut in pending:
            fut.cancel()


def exit_with(parent: int) -> None:
    """End this process once its server is gone. A pool's worker waits on a pipe whose write end
    it holds itself, so a server killed with SIGKILL left its worker behind for good (found after
    the test suite: one idle 55 MB process per killed server)."""
    while os.getppid() == parent:
        time.sleep(1.0)  # a watchdog's poll, not a synchronisation: nothing waits on it
    os._exit(0)
