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
from resolvent.solver.report import explain, external_packages
from resolvent.solver.result import NoSolution, Solution

if TYPE_CHECKING:
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


def _stats(state: SolverState) -> dict[str, int]:
    return {"decisions": state.decisions, "conflicts": state.conflicts, "steps": state.steps}
