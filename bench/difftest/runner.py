"""One round: build a batch of universes, serve them, compile each with both tools, judge.

All the universes of a round are written into one index folder (their project names
never collide) and served by one ``resolvent index serve``; each tool keeps one cache
for the round (a real user's cache also holds many projects). Universes run ``jobs`` at
a time, each in its own work folder (``in.txt``, both outputs).
"""

from __future__ import annotations

import concurrent.futures
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.difftest.compare import Verdict, judge
from bench.difftest.compilers import IndexProcess, run_compile
from bench.difftest.oracle import BruteResult, Oracle
from bench.difftest.wheels import write_wheels

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from bench.difftest.compilers import CompileRun
    from bench.difftest.universe import RandomUniverse

__all__ = ["Outcome", "RoundFolders", "judge_universe", "run_round"]


@dataclass
class Outcome:
    """Everything one universe's runs produced."""

    universe: RandomUniverse
    resolvent: CompileRun
    uv: CompileRun | None
    brute: BruteResult
    verdict: Verdict

    def to_json(self) -> dict[str, Any]:
        """Return the outcome as JSON data (a differing universe's record)."""
        return {
            "seed": self.universe.seed,
            "idx": self.universe.idx,
            "classes": self.verdict.classes,
            "verdict": self.verdict.to_json(),
            "oracle": {
                "satisfiable": self.brute.satisfiable,
                "solution": self.brute.solution,
                "nodes": self.brute.nodes,
            },
            "resolvent": self.resolvent.to_json(),
            "uv": None if self.uv is None else self.uv.to_json(),
            "universe": self.universe.to_json(),
        }


@dataclass(frozen=True)
class RoundFolders:
    """Where a round writes: the served wheels, the work folders, the two caches."""

    root: Path

    @property
    def index(self) -> Path:
        """Return the folder ``resolvent index serve`` serves."""
        return self.root / "index"

    def work(self, universe: RandomUniverse) -> Path:
        """Return one universe's folder (``in.txt``, both outputs)."""
        return self.root / "work" / f"s{universe.seed}" / f"u{universe.idx}"

    def cache(self, tool: str) -> Path:
        """Return the tool's cache for the round."""
        return self.root / "cache" / tool


def judge_universe(
    universe: RandomUniverse,
    index_url: str,
    workdir: Path,
    caches: Callable[[str], Path],
    *,
    uv: Path | None,
    source: Path | None = None,
) -> Outcome:
    """Compile ``universe`` with resolvent (and uv unless ``uv`` is None) and judge.

    ``source``: a folder whose ``resolvent`` package runs instead of the installed one.
    """
    resolvent_run = run_compile(
        "resolvent",
        None,
        universe,
        index_url,
        workdir=workdir,
        cache=caches("resolvent"),
        source=source,
    )
    uv_run = None
    if uv is not None:
        uv_run = run_compile("uv", uv, universe, index_url, workdir=workdir, cache=caches("uv"))
    oracle = Oracle(universe)
    brute = oracle.brute()
    verdict = judge(universe, oracle, brute, resolvent_run, uv_run)
    return Outcome(universe, resolvent_run, uv_run, brute, verdict)


def run_round(
    universes: Sequence[RandomUniverse],
    folders: RoundFolders,
    *,
    uv: Path | None,
    jobs: int,
    report: Callable[[Outcome], None],
    source: Path | None = None,
) -> list[Outcome]:
    """Run every universe (``jobs`` at a time); call ``report`` as each one finishes.

    ``source``: a folder whose ``resolvent`` package (compiler and server) runs instead
    of the installed one.
    """
    for stale in (folders.index, folders.root / "work", folders.root / "cache"):
        shutil.rmtree(stale, ignore_errors=True)
    folders.index.mkdir(parents=True)
    for universe in universes:
        write_wheels(universe, folders.index)
    outcomes = []
    with IndexProcess(folders.index, folders.root / "server.log", source) as server:
        pool = concurrent.futures.ThreadPoolExecutor(jobs)
        try:
            futures = [
                pool.submit(
                    judge_universe,
                    u,
                    server.url,
                    folders.work(u),
                    folders.cache,
                    uv=uv,
                    source=source,
                )
                for u in universes
            ]
            for future in futures:
                outcome = future.result()
                report(outcome)
                outcomes.append(outcome)
        finally:
            # Interrupted (Ctrl-C, SIGTERM): the universes not started yet are dropped,
            # not run against a server that is about to stop.
            pool.shutdown(wait=True, cancel_futures=True)
    return outcomes
