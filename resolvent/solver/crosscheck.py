"""Running the engines and certifying their answers: the cross-check.

Every answer passes the independent checker. In the default ``auto`` mode the SAT
engine answers first (CDCL does not inherit PubGrub's exponential backtracking on
instances where many newest versions conflict), then PubGrub runs under a step budget to
certify satisfiability a second time and to explain failures; if PubGrub runs out of
budget the checked SAT answer stands and the run says so. Once the checker has accepted
SAT's solution, the certification gets a much smaller time budget
(:data:`AUTO_CERTIFY_SECONDS`) and prefetches nothing, since the answer is SAT's
whatever PubGrub finds. ``both`` waits for both engines without a budget. The two must
agree on satisfiability; differences in chosen versions (both valid) are reported, not
errors.

The solver package has no clock: callers that want timings pass one in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from resolvent.solver.checker import check_solution
from resolvent.solver.result import BudgetExceeded, NoSolution, Solution

if TYPE_CHECKING:
    from collections.abc import Callable

    from packaging.version import Version

    from resolvent.solver.provider import Reporter
    from resolvent.solver.result import Engine, Outcome
    from resolvent.solver.universe import Universe

__all__ = [
    "AUTO_CERTIFY_SECONDS",
    "AUTO_PUBGRUB_BUDGET",
    "AUTO_PUBGRUB_SECONDS",
    "EngineChoice",
    "EngineRun",
    "Resolution",
    "resolve",
]

EngineChoice = Literal["auto", "pubgrub", "sat", "both"]

#: PubGrub's step budget in ``auto`` mode: generous for real-world graphs (thousands of
#: decisions), small enough that adversarial instances stop in about a second.
AUTO_PUBGRUB_BUDGET = 20_000

#: PubGrub's time budget in ``auto`` mode when SAT found no solution (or its solution
#: failed the checker), in seconds of the caller's clock: PubGrub's derivation is the
#: better explanation, worth a second. Applies only when a clock is given (the solver has
#: none of its own).
AUTO_PUBGRUB_SECONDS = 1.0

#: PubGrub's time budget in ``auto`` mode once the checker accepted SAT's solution. The
#: answer is SAT's either way, so the second opinion may not make an answered question
#: noticeably slower: ample for real-world graphs (tens of milliseconds), while on
#: adversarial universes PubGrub gives up early and the run says so.
AUTO_CERTIFY_SECONDS = 0.2


class _Deadline:
    """A reporter that asks an engine to stop once the caller's clock passes a moment."""

    def __init__(self, inner: Reporter | None, clock: Callable[[], float], seconds: float) -> None:
        self._inner = inner
        self._clock = clock
        self._end = clock() + seconds

    def starting(self, engine: str) -> None:
        if self._inner is not None:
            self._inner.starting(engine)

    def decided(self, package: str, version: Version) -> None:
        if self._inner is not None:
            self._inner.decided(package, version)

    def conflict(self, description: str) -> None:
        if self._inner is not None:
            self._inner.conflict(description)

    def should_cancel(self) -> bool:
        if self._inner is not None and self._inner.should_cancel():
            return True
        return self._clock() > self._end


@dataclass(slots=True)
class EngineRun:
    """One engine's attempt: its outcome (or why it has none), time and checker verdict."""

    engine: str
    outcome: Outcome | None
    seconds: float
    gave_up: str | None = None
    problems: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Resolution:
    """The certified answer and every engine run behind it."""

    outcome: Outcome
    runs: list[EngineRun]
    problems: list[str] = field(default_factory=list)

    @property
    def satisfiable(self) -> bool:
        """Return whether a solution was found."""
        return isinstance(self.outcome, Solution)

    @property
    def agree(self) -> bool | None:
        """Return whether the finished engines agree on satisfiability (None: one ran)."""
        finished = [run.outcome for run in self.runs if run.outcome is not None]
        if len(finished) < 2:
            return None
        return len({isinstance(o, Solution) for o in finished}) == 1

    def differences(self) -> dict[str, tuple[Version | None, Version | None]]:
        """Return packages on which two solutions chose differently (engine order)."""
        solutions = [run.outcome for run in self.runs if isinstance(run.outcome, Solution)]
        if len(solutions) < 2:
            return {}
        first, second = solutions[0].packages(), solutions[1].packages()
        return {
            name: (first.get(name), second.get(name))
            for name in sorted(first.keys() | second.keys())
            if first.get(name) != second.get(name)
        }


def _engine(name: str, *, optimal: bool) -> Engine:
    if name == "sat":
        from resolvent.solver.sat import SatEngine  # noqa: PLC0415 - python-sat loads only when used

        return SatEngine(optimal=optimal)
    from resolvent.solver.pubgrub import PubGrubEngine  # noqa: PLC0415 - engines load on demand

    return PubGrubEngine()


def _run(
    universe: Universe,
    name: str,
    *,
    optimal: bool,
    budget: int | None,
    reporter: Reporter | None,
    clock: Callable[[], float],
) -> EngineRun:
    engine = _engine(name, optimal=optimal)
    start = clock()
    try:
        outcome: Outcome | None = engine.solve(universe, reporter=reporter, budget=budget)
        gave_up = None
    except BudgetExceeded as error:
        outcome, gave_up = None, str(error)
    run = EngineRun(name, outcome, clock() - start, gave_up)
    if isinstance(outcome, Solution):
        run.problems = check_solution(universe, outcome.selected)
    return run


def resolve(
    universe: Universe,
    *,
    solver: EngineChoice = "auto",
    optimal: bool = False,
    reporter: Reporter | None = None,
    clock: Callable[[], float] = lambda: 0.0,
    pubgrub_budget: int = AUTO_PUBGRUB_BUDGET,
    pubgrub_seconds: float | None = None,
) -> Resolution:
    """Resolve ``universe`` with the chosen engine(s) and certify the answer.

    :param solver: ``auto`` (SAT, then PubGrub under ``pubgrub_budget``), ``both``
        (both to completion), or one engine alone.
    :param optimal: let the SAT engine solve its MaxSAT objective instead of the
        lexicographic preference.
    :param clock: a monotonic clock for the runs' timings and PubGrub's time budget in
        ``auto`` mode (the solver has none).
    :param pubgrub_seconds: PubGrub's time budget in ``auto`` mode; by default
        :data:`AUTO_CERTIFY_SECONDS` after a checked SAT solution, else
        :data:`AUTO_PUBGRUB_SECONDS`.
    :return: the answer with every run; ``problems`` lists checker failures and
        disagreements, empty when the answer is certified.

    Example::

        resolution = resolve(universe, solver="both", clock=time.perf_counter)
        resolution.outcome, resolution.agree, resolution.problems
    """
    if solver in ("sat", "pubgrub"):
        plan: list[tuple[str, int | None]] = [(solver, None)]
    elif solver == "both":
        plan = [("sat", None), ("pubgrub", None)]
    else:
        plan = [("sat", None), ("pubgrub", pubgrub_budget)]
    runs: list[EngineRun] = []
    prefetching = universe.prefetching
    for name, budget in plan:
        limited = reporter
        # A second opinion on a solution the checker accepted: SAT's answer stands.
        certifying = (
            budget is not None
            and bool(runs)
            and all(isinstance(run.outcome, Solution) and not run.problems for run in runs)
        )
        if budget is not None:
            seconds = pubgrub_seconds
            if seconds is None:
                seconds = AUTO_CERTIFY_SECONDS if certifying else AUTO_PUBGRUB_SECONDS
            limited = _Deadline(reporter, clock, seconds)
        # The certification reads what it needs and guesses nothing ahead: its hints
        # would start downloads (in a warm run, the whole I/O thread) for versions that
        # the answer does not use.
        universe.prefetching = prefetching and not certifying
        try:
            runs.append(
                _run(universe, name, optimal=optimal, budget=budget, reporter=limited, clock=clock)
            )
        finally:
            universe.prefetching = prefetching
    problems = [f"{run.engine}: {p}" for run in runs for p in run.problems]
    finished = [run for run in runs if run.outcome is not None]
    if not finished:
        raise BudgetExceeded(runs[0].engine, 0)
    verdicts = {isinstance(run.outcome, Solution) for run in finished}
    if len(verdicts) > 1:
        said = ", ".join(
            f"{run.engine} says "
            + ("satisfiable" if isinstance(run.outcome, Solution) else "unsatisfiable")
            for run in finished
        )
        problems.append(f"the engines disagree: {said}")
    outcome = finished[0].outcome
    assert outcome is not None
    if isinstance(outcome, NoSolution):
        # PubGrub's numbered derivation is the better explanation when it has one.
        for run in finished:
            if run.engine == "pubgrub" and isinstance(run.outcome, NoSolution):
                outcome = run.outcome
    return Resolution(outcome, runs, problems)
