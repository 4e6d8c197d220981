"""Warm, offline `pip compile` of requirement sets, interleaved across checkouts and uv.

The like-for-like comparison of resolution speed: both tools read only their own warm
cache (``--offline``), so uv's revalidation of every page (which makes it slower than
resolvent on the real index through this machine's proxy) stays out, and what is timed
is reading the cache, resolving and writing the pins. Each run starts without an output
file (an existing one is read as preferences by both tools). One untimed online run per
set and tool fills the caches first. Checkouts run with ``PYTHONPATH`` set to their
folder, so an older commit is compared by checking it out elsewhere::

    python -m bench.warm_compile SET.in [SET.in ...] --tree . --tree /tmp/before --rounds 15

Prints a line per run (set, tool, wall, user and system CPU seconds, exit status), then
per set and tool the median wall and CPU time over the rounds and the ratio of the
median wall to uv's. uv is the one ``make bench`` installs (``--uv PATH`` otherwise).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.cold_compile import FLAGS, UV, tool_env

#: One timed run: (wall seconds, CPU seconds, exit status).
Run = tuple[float, float, int]


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> Run:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, completed.returncode


def summary(runs: dict[tuple[str, str], list[Run]]) -> list[str]:
    """Return a line per (set, tool): median wall and CPU, and the wall ratio to uv's."""
    lines = []
    for (name, label), found in runs.items():
        wall = statistics.median(run[0] for run in found)
        cpu = statistics.median(run[1] for run in found)
        uv = runs.get((name, "uv"))
        ratio = ""
        if uv and label != "uv":
            ratio = f"  {wall / statistics.median(run[0] for run in uv):.2f}x uv"
        lines.append(f"{name:24} {label:16} median {wall:6.3f} s  cpu {cpu:6.3f} s{ratio}")
    return lines


def main() -> None:
    """Warm the caches, then run every set with every tool, round after round."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--tree", action="append", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--uv", type=Path, default=UV)
    args = parser.parse_args()
    trees = [tree.resolve() for tree in (args.tree or [Path.cwd()])]
    base = tool_env()
    runs: dict[tuple[str, str], list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="warm-compile-") as scratch:
        out = Path(scratch) / "out.txt"
        for number in range(args.rounds + 1):
            for requirements in args.sets:
                source = str(requirements.resolve())
                # ``-m`` puts the working folder first on sys.path: each checkout runs
                # from its own folder, or every run would import this one.
                commands = [
                    (
                        tree.name,
                        [sys.executable, "-m", "resolvent", "pip", "compile", source, *FLAGS],
                        base | {"PYTHONPATH": str(tree)},
                        tree,
                    )
                    for tree in trees
                ]
                commands.append(
                    ("uv", [str(args.uv), "pip", "compile", source, *FLAGS], base, Path(scratch))
                )
                for label, argv, env, cwd in commands:
                    out.unlink(missing_ok=True)
                    warmup = number == 0  # online, untimed: fills the cache
                    command = [*argv, "-o", str(out), *(() if warmup else ("--offline",))]
                    run = _run(command, env, cwd)
                    if warmup:
                        continue
                    runs.setdefault((requirements.stem, label), []).append(run)
                    wall, cpu, status = run
                    print(
                        f"{requirements.stem:24} {label:16} {wall:6.3f} s  cpu {cpu:6.3f} s"
                        f"{'' if status == 0 else f'  exit {status}'}",
                        flush=True,
                    )
    print("\n".join(summary(runs)))


if __name__ == "__main__":
    main()
