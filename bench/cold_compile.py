"""Cold `pip compile` of requirement sets, interleaved across resolvent checkouts and uv.

Each run starts from an empty cache and no output file (an existing output file is read
as preferences and hides the search), against the real index, with the flags the
network tests use. Checkouts run with ``PYTHONPATH`` set to their folder, so an old
commit is compared by checking it out elsewhere (``git worktree add /tmp/before REV``)::

    python -m bench.cold_compile SET.in [SET.in ...] --tree . --tree /tmp/before [--rounds 2]

Prints one line per run: set, tool, wall seconds, user and system CPU seconds, and the
size of the cache the run left. uv is the one ``make bench`` installs (``--uv PATH``
otherwise; ``--no-uv`` leaves it out).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: The flags of the network tests, which both tools are given.
FLAGS = ("--exclude-newer", "2026-01-01", "--python-version", "3.11", "-q")
#: The uv that ``make bench`` installs.
UV = Path(__file__).resolve().parent / ".work" / "tools" / "uv" / "bin" / "uv"


def tool_env() -> dict[str, str]:
    """Return this environment without pip's or uv's settings (and pip.conf)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    return base | {"PIP_CONFIG_FILE": os.devnull, "UV_NO_PROGRESS": "1"}


def _size_mb(folder: Path) -> float:
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return total / 1e6


def _run(argv: list[str], env: dict[str, str], cache: Path, cwd: Path) -> str:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    status = "" if completed.returncode == 0 else f" exit {completed.returncode}"
    size = _size_mb(cache)
    return f"{wall:6.2f} s  user {user:6.2f}  sys {system:5.2f}  cache {size:5.1f} MB{status}"


def main() -> None:
    """Run every set with every tool, round after round, and print a line per run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--tree", action="append", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--uv", type=Path, default=UV)
    parser.add_argument("--no-uv", action="store_true")
    args = parser.parse_args()
    trees = [tree.resolve() for tree in (args.tree or [Path.cwd()])]
    base = tool_env()
    with tempfile.TemporaryDirectory(prefix="cold-compile-") as scratch:
        cache, out = Path(scratch) / "cache", Path(scratch) / "out.txt"
        for _ in range(args.rounds):
            for requirements in args.sets:
                source = str(requirements.resolve())
                # ``-m`` puts the working folder first on sys.path: each checkout runs
                # from its own folder, or every run would import this one.
                runs: list[tuple[str, list[str], dict[str, str], Path]] = [
                    (
                        tree.name,
                        [sys.executable, "-m", "resolvent", "pip", "compile", source, *FLAGS],
                        base | {"PYTHONPATH": str(tree)},
                        tree,
                    )
                    for tree in trees
                ]
                if not args.no_uv:
                    uv = [str(args.uv), "pip", "compile", source, *FLAGS]
                    runs.append(("uv", uv, base, Path(scratch)))
                for label, argv, env, cwd in runs:
                    shutil.rmtree(cache, ignore_errors=True)
                    out.unlink(missing_ok=True)
                    command = [*argv, "--cache-dir", str(cache), "-o", str(out)]
                    line = _run(command, env, cache, cwd)
                    print(f"{requirements.stem:24} {label:16} {line}", flush=True)


if __name__ == "__main__":
    main()
