"""Start-up time of the `suspects` command line: every command's ``--help``, and the commands that
read no name (``stats``, ``keys list``, ``audit``) on a real store.

    python bench/startup.py [--runs 5] [--store var/suspects.db]

Each command runs ``--runs`` times as a fresh process (the installed entry point, as a user runs
it); the median and the worst are printed. Target (issue #15): under 0.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import click

from api.cli import check, keys, records, serve  # noqa: F401  (importing registers the commands)
from api.cli.base import cli

SUSPECTS = str(Path(sys.executable).parent / "suspects")


def commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        out.append((*prefix, name))
        if isinstance(command, click.Group):
            out.extend(commands(command, (*prefix, name)))
    return out


def timed(args: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([SUSPECTS, *args], capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--store", type=Path, default=Path("var/suspects.db"))
    args = parser.parse_args()
    cases = [["--help"]] + [[*c, "--help"] for c in commands(cli)]
    if args.store.exists():
        cases += [["--store", str(args.store), *c] for c in (["stats"], ["keys", "list"], ["audit", "--limit", "1"])]
    print(f"{'command':44} {'median s':>9} {'worst s':>8}")
    worst = 0.0
    for case in cases:
        t = timed(case, args.runs)
        worst = max(worst, max(t))
        print(f"{' '.join(case):44} {statistics.median(t):9.3f} {max(t):8.3f}")
    print(f"worst of all: {worst:.3f} s (target < 0.5 s)")


if __name__ == "__main__":
    main()
