"""The PubGrub engine answers a universe with a solution or an explained proof of none.

It is the :class:`~resolvent.solver.result.Engine` face of
:mod:`resolvent.solver._internal.core` (the algorithm of Dart's pub, as in pubgrub-rs
and uv): pure Python, deterministic (the same universe gives the same answer and the same
explanation text in every process), and bounded by a step budget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from resolvent.solver._internal.collector import fewer_collections
from resolvent.solver._internal.core import ENGINE, SolverState, Unsolvable
from resolvent.solver._internal.term import reset_memo
from resolvent.solver.result import BudgetExceeded, NoSolution, Solution

if TYPE_CHECKING:
    from collections.abc import Mapping

    from packaging.version import Version

    from resolvent.solver.provider import Reporter
    from resolvent.solver.result import Outcome
    from resolvent.solver.universe import Universe

__all__ = ["PubGrubEngine"]


class PubGrubEngine:
    """The PubGrub resolution engine.

    Example::

        outcome = PubGrubEngine().solve(universe)
        if isinstance(outcome, Solution):
            print(outcome.selected)
        else:
            print(outcome.explanation)
    """

    name = ENGINE

    def solve(
        self,
        universe: Universe,
        *,
        reporter: Reporter | None = None,
        budget: int | None = None,
    ) -> Outcome:
        """Resolve ``universe``.

        :param universe: the problem.
        :param reporter: optional progress hooks; ``should_cancel`` is polled every 64 steps.
        :param budget: the most steps (decisions plus conflict-resolution rounds) to take.
        :raises BudgetExceeded: past ``budget`` steps, or when the reporter cancels.
        """
        state = SolverState(universe, reporter=reporter, budget=budget)
        with fewer_collections():
            try:
                selected = state.solve()
            except Unsolvable as failure:
                # Loaded here: only a failed resolution is explained.
                from resolvent.solver.report import explain, external_packages  # noqa: PLC0415

                root = failure.incompatibility
                return NoSolution(
                    engine=ENGINE,
                    explanation=explain(root, universe),
                    core=external_packages(root),
                    stats=_stats(state),
                )
            finally:
                reset_memo()
        return Solution(engine=ENGINE, selected=selected, stats=_stats(state))

    def confirm(
        self,
        universe: Universe,
        selected: Mapping[str, Version],
        *,
        reporter: Reporter | None = None,
        budget: int | None = None,
    ) -> Solution | str:
        """Search with ``selected`` preferred: the same solution, or why it is none.

        Another engine's answer, certified a second time. Every fact PubGrub derives
        holds in every resolution, so when ``selected`` is one, a search that decides
        its versions first meets no conflict and ends with exactly them, one decision
        per package. The first conflict, or a decision off the answer (its version
        was ruled out), shows the answer is not a resolution, and the search stops
        there instead of looking for another one: the return value says why.

        :raises BudgetExceeded: past ``budget`` steps, or when ``reporter`` cancels.
        """
        watch = _Following(reporter, selected)
        state = SolverState(universe, reporter=watch, budget=budget, prefer=selected)
        with fewer_collections():
            try:
                found = state.solve()
            except Unsolvable:
                return watch.reason or "PubGrub, following the answer, finds no solution"
            except BudgetExceeded:
                if watch.reason is None:
                    raise
                return watch.reason
            finally:
                reset_memo()
        if watch.reason is not None:
            return watch.reason  # it left the answer and found another solution
        if found != dict(selected):
            extra = sorted(found.keys() - selected.keys())
            lacking = sorted(selected.keys() - found.keys())
            return "PubGrub, following the answer, selects other packages: " + ", ".join(
                [f"+{p}" for p in extra] + [f"-{p}" for p in lacking]
            )
        return Solution(engine=ENGINE, selected=found, stats=_stats(state))


class _Following:
    """Passes a reporter's hooks on, and stops a search that leaves the answer it follows."""

    def __init__(self, inner: Reporter | None, selected: Mapping[str, Version]) -> None:
        self._inner = inner
        self._selected = selected
        self.reason: str | None = None

    def starting(self, engine: str) -> None:
        if self._inner is not None:
            self._inner.starting(engine)

    def decided(self, package: str, version: Version) -> None:
        wanted = self._selected.get(package)
        if wanted != version and self.reason is None:
            has = "has no version of it" if wanted is None else f"has {package}=={wanted}"
            self.reason = (
                f"PubGrub, following the answer, decided {package}=={version} (the answer {has})"
            )
        if self._inner is not None:
            self._inner.decided(package, version)

    def conflict(self, description: str) -> None:
        if self.reason is None:
            self.reason = f"PubGrub, following the answer, met a conflict: {description}"
        if self._inner is not None:
            self._inner.conflict(description)

    def should_cancel(self) -> bool:
        return self.reason is not None or (self._inner is not None and self._inner.should_cancel())


def _stats(state: SolverState) -> dict[str, int]:
    return {"decisions": state.decisions, "conflicts": state.conflicts, "steps": state.steps}
