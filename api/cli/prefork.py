"""`suspects serve` with several processes on one port (``serve_processes``).

Matching is CPU-bound Python: one process answers on one core at a time, whatever its threads.
On the realistic million (bench/realistic.py, 8 connections) one process served 236 queries/s at
4.85 ms of CPU a query, GIL contention included; two processes on two ports served 579/s at 3.13
ms. The parent binds the socket, builds the app, and forks the processes, which each accept on it
and run the app's lifespan on their own (store connections, threads, the screening runner and the
webhook worker: both work through leases and claims, so two processes never run one job or send
one delivery at once). The rate limits live in a table the parent maps before the fork
(:mod:`search.access.buckets`), so they hold for the server, not per process; the metrics go to
files in a folder `suspects serve` makes for the run, which ``/metrics`` sums.

The parent only watches: a signal to stop is passed on to every process, which finishes its
requests in flight; a process that dies takes the others down with it (exit code 1), so that a
supervisor restarts a whole server rather than leave it at a fraction of its capacity unseen.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
from types import FrameType

import uvicorn

from indexer.records import warm_up

logger = logging.getLogger(__name__)

STARTUP_FAILURE = 3  # uvicorn's exit code when the app's lifespan failed to start


def serve(config: uvicorn.Config, processes: int) -> None:
    """Serve ``config``'s app with ``processes`` forked processes; returns when all have stopped,
    raising SystemExit if one stopped on its own."""
    # The name tables (~500,000 objects) are read before the fork, so the processes share their
    # pages instead of each building its own; frozen, the collector never touches them.
    warm_up()
    gc.freeze()
    sock = config.bind_socket()
    children: set[int] = set()
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:  # the child: serve until told to stop, then leave without the parent's code
            code = 0
            try:
                server = uvicorn.Server(config)
                server.run(sockets=[sock])
                code = 0 if server.started else STARTUP_FAILURE
            except BaseException:
                logger.exception("server process %d failed", os.getpid())
                code = 1
            finally:
                logging.shutdown()
                sys.stdout.flush()
                os._exit(code)
        children.add(pid)
    sock.close()
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            _signal(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("serving with %d processes: %s", processes, ", ".join(map(str, sorted(children))))
    failed = 0
    while children:
        pid, status = os.wait()
        children.discard(pid)
        if stopping:
            continue
        failed = os.waitstatus_to_exitcode(status) or 1
        logger.error("server process %d stopped (exit %s): stopping the others", pid, failed)
        stopping = True
        for child in children:
            _signal(child, signal.SIGTERM)
    if failed:
        raise SystemExit(STARTUP_FAILURE if failed == STARTUP_FAILURE else 1)


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:  # already gone
        return
