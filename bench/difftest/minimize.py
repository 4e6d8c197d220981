"""Shrink a universe on which resolvent goes wrong, keeping it wrong the same way.

Greedy, one element at a time: drop a root requirement, a project, a version, one
requirement, an extra (or one of its requirements), a ``Requires-Python`` or a yank,
or reset the flags to their defaults; keep each change after which the failure still
shows. Each try is real: the candidate's wheels are written and served by the product's
index server (in process: hundreds of tries, and a server start each would dominate)
and ``resolvent pip compile`` runs as a subprocess with an empty cache, so a minimal
case reproduces with ``run.sh`` exactly as it was found. uv is not run: only resolvent's
failures are minimised.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from bench.difftest.compare import RESOLVENT_CLASSES
from bench.difftest.runner import Outcome, judge_universe
from bench.difftest.wheels import write_wheels
from resolvent.index.serve import IndexServer

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from bench.difftest.universe import RandomUniverse

__all__ = ["failure_signature", "minimize", "resolvent_outcome"]

#: Tries before the minimiser stops with what it has (about half a second each).
BUDGET = 600


def resolvent_outcome(universe: RandomUniverse, source: Path | None = None) -> Outcome:
    """Judge ``universe`` with resolvent alone, in a throwaway folder and server.

    ``source``: a folder whose ``resolvent`` package compiles instead of the installed one.
    """
    with tempfile.TemporaryDirectory(prefix="difftest-min-") as tmp:
        root = Path(tmp)
        write_wheels(universe, root / "index")
        server = IndexServer(root / "index").start()
        try:
            return judge_universe(
                universe,
                server.url,
                root / "work",
                lambda tool: root / "cache" / tool,
                uv=None,
                source=source,
            )
        finally:
            server.stop()


def failure_signature(outcome: Outcome) -> tuple[str, str] | None:
    """Return what makes a failure "the same one": its resolvent class and a detail.

    The detail is the last line of the error output for an error (the exception or the
    refusal), "answer" or "no solution" for a disagreement with the oracle, and nothing
    for an invalid answer. None: resolvent did nothing wrong here.
    """
    for kind in RESOLVENT_CLASSES:
        if kind not in outcome.verdict.classes:
            continue
        if kind == "resolvent-error":
            lines = outcome.resolvent.stderr.strip().splitlines()
            last = lines[-1] if lines else f"exit {outcome.resolvent.returncode}"
            return kind, last.split(":")[0][:80]
        if kind == "resolvent-vs-oracle":
            return kind, "answer" if outcome.resolvent.ok else "no solution"
        return kind, ""
    return None


def _smaller(u: RandomUniverse) -> Iterator[RandomUniverse]:
    """Every universe one step simpler than ``u``, biggest steps first."""
    for i in range(len(u.root) if len(u.root) > 1 else 0):
        v = copy.deepcopy(u)
        del v.root[i]
        yield v
    for name in u.packages:
        v = copy.deepcopy(u)
        del v.packages[name]
        yield v
    for name, releases in u.packages.items():
        for j in range(len(releases) if len(releases) > 1 else 0):
            v = copy.deepcopy(u)
            del v.packages[name][j]
            yield v
    for name, releases in u.packages.items():
        for j, release in enumerate(releases):
            for k in range(len(release.requires)):
                v = copy.deepcopy(u)
                del v.packages[name][j].requires[k]
                yield v
            for extra, requirements in release.extras.items():
                for k in range(len(requirements)):
                    v = copy.deepcopy(u)
                    del v.packages[name][j].extras[extra][k]
                    yield v
                v = copy.deepcopy(u)
                del v.packages[name][j].extras[extra]
                yield v
            if release.requires_python is not None:
                v = copy.deepcopy(u)
                v.packages[name][j].requires_python = None
                yield v
            if release.yanked:
                v = copy.deepcopy(u)
                v.packages[name][j].yanked = False
                yield v
    if u.prerelease is not None:
        v = copy.deepcopy(u)
        v.prerelease = None
        yield v
    if u.resolution != "highest":
        v = copy.deepcopy(u)
        v.resolution = "highest"
        yield v


def minimize(
    universe: RandomUniverse,
    signature: tuple[str, str],
    *,
    budget: int = BUDGET,
    source: Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> RandomUniverse:
    """Return a smaller universe whose resolvent outcome has the same ``signature``.

    A pass resumes where the last accepted step was (the steps before it failed just
    now and mostly still do); passes repeat until one accepts nothing.
    """
    tries = 0
    start = 0
    changed_in_pass = False
    while tries < budget:
        accepted = False
        for position, candidate in enumerate(_smaller(universe)):
            if position < start:
                continue
            tries += 1
            if failure_signature(resolvent_outcome(candidate, source)) == signature:
                universe, start, accepted, changed_in_pass = candidate, position, True, True
                progress(f"step {tries}: kept change {position}")
                break
            if tries >= budget:
                break
        if accepted:
            continue
        if start == 0 or not changed_in_pass:
            break
        start, changed_in_pass = 0, False  # one more full pass
    return universe
