"""The decision queue picks what its definition says, whatever entries it skipped.

``SolverState._refresh`` reads tiers from the candidate memo and pushes no entry where
one no later is known to be queued; ``_pick`` then re-checks the queue's first entries
lazily. Every pick must still be the least (tier, discovery order) of the pending
packages, computed here from scratch with ``_tier`` (or the package retried after two
conflicts in a row, the one documented exception), and after every upkeep each pending
package must have an entry no later than its true place.
"""

from __future__ import annotations

from heapq import heappush
from typing import TYPE_CHECKING

import pytest

from bench.universes import layered
from resolvent.solver._internal import core
from resolvent.solver._internal.core import SolverState

if TYPE_CHECKING:
    from packaging.version import Version

    from resolvent.solver._internal.term import Term


class _Checked(SolverState):
    """A search that checks each pick against its definition."""

    picks = 0

    def _expected(self) -> str | None:
        solution = self.solution
        ranked = sorted(
            (self._tier(p, solution.term(p).range)[0], self._order[p], p)
            for p in solution.pending()
        )
        if not ranked:
            return None
        tier, _, first = ranked[0]
        retry = self._retry
        if retry is not None and tier > 0 and retry != first and solution.is_pending(retry):
            return retry
        return first

    def _refresh(self) -> None:
        super()._refresh()
        solution = self.solution
        for package in solution.pending():
            true_tier = self._tier(package, solution.term(package).range)[0]
            assert any(entry[2] == package and entry[0] <= true_tier for entry in self._queue), (
                package
            )

    def _pick(self) -> tuple[str, Term, Version | None] | None:
        expected = self._expected()
        choice = super()._pick()
        assert (None if choice is None else choice[0]) == expected
        self.picks += 1
        return choice


@pytest.mark.parametrize("seed", range(6))
def test_every_pick_is_the_least_pending_package(seed: int) -> None:
    universe = layered(packages=40, versions=8, layers=4, seed=seed).universe()
    state = _Checked(universe)
    state.solve()
    assert state.picks > state.decisions > 0
    assert state.conflicts > 0  # backjumps make packages stale by the hundred


def test_the_queue_skips_pushes_it_does_not_need(monkeypatch: pytest.MonkeyPatch) -> None:
    """After backjumps most stale packages are queued at their tier already.

    On this universe (395 decisions, 131 conflicts) every stale package pushed an entry
    before: 1,459 pushes; 501 now.
    """
    pushes = 0

    def counting_push(heap: list[tuple[int, int, str]], item: tuple[int, int, str]) -> None:
        nonlocal pushes
        pushes += 1
        heappush(heap, item)

    monkeypatch.setattr(core, "heappush", counting_push)
    state = SolverState(layered(packages=80, versions=15, layers=4, seed=5).universe())
    state.solve()
    assert state.conflicts > 100
    assert pushes < 2 * state.decisions
