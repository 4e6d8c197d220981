"""Running the engines and certifying their answers: the cross-check.

Every answer passes the independent checker. In the default ``auto`` mode PubGrub
answers first, watched for thrashing: real-world graphs cost it a few conflicts per
thousand decisions, while instances where many of the newest versions conflict with
each other (where PubGrub's backtracking can run for a very long time) pile conflicts up
from the start. Once it has met :data:`AUTO_HANDOVER_CONFLICTS` conflicts and more than
one per :data:`AUTO_HANDOVER_RATIO` decisions (or spent :data:`AUTO_PUBGRUB_BUDGET`
steps) it stops, and the SAT engine, which CDCL keeps from that weakness, answers. Both
limits count steps, not time, so which engine answers never depends on the machine.
Whichever engine did not answer then certifies the answer a second time under a small
time budget (:data:`AUTO_CERTIFY_SECONDS`, prefetching nothing); if it runs out, the
checked answer stands and the run says so. A checked solution is certified by
*confirming* it (:func:`_confirm`): SAT decides its encoding under the answer's
versions (``SatEngine.confirm``, ``specs/encoding.md`` section 6), PubGrub searches
with them preferred (``PubGrubEngine.confirm``, also after a handover); either takes
about one load of the answer, where a search of its own would have to prove every
better version wrong (seconds on large graphs). SAT certifies a PubGrub conflict by a
search of its own. In ``auto`` mode a SAT *search* runs with ``universe.exploring``
set (a confirmation reads only the answer's versions): a provider may put off expensive
metadata (sdist builds) for the versions its search visits, and the caller settles what
was put off. With
``--optimal`` the answer is SAT's objective, so SAT answers first and PubGrub certifies.
``both`` waits for both engines without a budget. The two must agree on
satisfiability; differences in chosen versions (both valid) are reported, not errors.

The solver package has no clock: callers that want timings pass one in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from resolvent.solver.checker import check_solution
from resolvent.solver.result import BudgetExceeded, Confirming, NoSolution, Solution
from resolvent.value_class import MutableValue

if TYPE_CHECKING:
    from collections.abc import Callable

    from packaging.version import Version

    from resolvent.solver.provider import Reporter
    from resolvent.solver.result import Engine, Outcome
    from resolvent.solver.universe import Universe

__all__ = [
    "AUTO_CERTIFY_SECONDS",
    "AUTO_HANDOVER_CONFLICTS",
    "AUTO_HANDOVER_RATIO",
    "AUTO_PUBGRUB_BUDGET",
    "AUTO_PUBGRUB_SECONDS",
    "EngineChoice",
    "EngineRun",
    "Resolution",
    "resolve",
]

EngineChoice = Literal["auto", "pubgrub", "sat", "both"]

#: PubGrub's step budget in ``auto`` mode: generous for real-world graphs (airflow's
#: 673 pins take about 10,000 steps); past it the SAT engine answers.
AUTO_PUBGRUB_BUDGET = 20_000

#: PubGrub hands over to SAT in ``auto`` mode once it has met this many conflicts...
AUTO_HANDOVER_CONFLICTS = 50

#: ...and more than one conflict per this many decisions. The real-world sets in
#: ``bench-requirements`` stay far below (airflow: 85 conflicts in 8,161 decisions;
#: most: none), except boto3's walk down a thousand releases (about one conflict per
#: decision), which SAT answers as fast; layered adversarial universes cross it within
#: the first 300 decisions (about 0.1 s).
AUTO_HANDOVER_RATIO = 10

#: The certifying engine's time budget in ``auto`` mode when the answering engine's
#: solution failed the checker, or it found none, in seconds of the caller's clock: the
#: second engine then decides, worth a second. Applies only when a clock is given (the
#: solver has none of its own).
AUTO_PUBGRUB_SECONDS = 1.0

#: The certifying engine's time budget in ``auto`` mode once the checker accepted the
#: answering engine's solution. Out of time, the answer stands (and the run says so), so
#: the second opinion may not make an answered question noticeably slower; an answer the
#: other engine rejects is a problem. A confirmation takes a fraction of it
#: (SAT's of airflow's 673 pins about 10 ms, decided by evaluation, 0.1 s when the
#: solver ran it; PubGrub's of a layered universe's 195 under 10 ms); past it the run
#: says so. Under valgrind (50 times slower) the old SAT confirmation ran out of it.
AUTO_CERTIFY_SECONDS = 0.2


class _Limit:
    """A reporter that passes every hook on to ``inner`` and adds a reason to stop."""

    def __init__(self, inner: Reporter | None) -> None:
        self._inner = inner

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
        return self._reached()

    def _reached(self) -> bool:
        raise NotImplementedError


class _Handover(_Limit):
    """A reporter that stops PubGrub once conflicts pile up against its decisions."""

    def __init__(self, inner: Reporter | None) -> None:
        super().__init__(inner)
        self.decisions = 0
        self.conflicts = 0

    def decided(self, package: str, version: Version) -> None:
        self.decisions += 1
        super().decided(package, version)

    def conflict(self, description: str) -> None:
        self.conflicts += 1
        super().conflict(description)

    def _reached(self) -> bool:
        return (
            self.conflicts >= AUTO_HANDOVER_CONFLICTS
            and self.conflicts * AUTO_HANDOVER_RATIO > self.decisions
        )


class _Deadline(_Limit):
    """A reporter that asks an engine to stop ``seconds`` after it starts solving.

    The time counts from the engine's ``starting`` hook, not from this reporter's
    creation: importing and building the engine (python-sat's import is 10-20 ms in a
    warm process, more from a cold disk) is no part of the check, and a check that ran
    out of time is reported to the user.
    """

    def __init__(self, inner: Reporter | None, clock: Callable[[], float], seconds: float) -> None:
        super().__init__(inner)
        self._clock = clock
        self._seconds = seconds
        self._end = clock() + seconds

    def starting(self, engine: str) -> None:
        self._end = self._clock() + self._seconds
        super().starting(engine)

    def _reached(self) -> bool:
        return self._clock() > self._end


class EngineRun(MutableValue):
    """One engine's attempt: its outcome (or why it has none), time and checker verdict.

    ``confirming``: the run decided another engine's answer (``confirm`` of either
    engine) instead of searching; its solution is that answer whenever it has one.
    """

    __slots__ = ("confirming", "engine", "gave_up", "outcome", "problems", "seconds")

    def __init__(  # noqa: PLR0917 - the fields in order, as the dataclass took them
        self,
        engine: str,
        outcome: Outcome | None,
        seconds: float,
        gave_up: str | None = None,
        problems: list[str] | None = None,
        confirming: bool = False,  # noqa: FBT001, FBT002
    ) -> None:
        self.engine = engine
        self.outcome = outcome
        self.seconds = seconds
        self.gave_up = gave_up
        self.problems: list[str] = [] if problems is None else problems
        self.confirming = confirming


class Resolution(MutableValue):
    """The certified answer and every engine run behind it."""

    __slots__ = ("outcome", "problems", "runs")

    def __init__(
        self, outcome: Outcome, runs: list[EngineRun], problems: list[str] | None = None
    ) -> None:
        self.outcome = outcome
        self.runs = runs
        self.problems: list[str] = [] if problems is None else problems

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

    @property
    def unfinished_check(self) -> str | None:
        """Say so when the certifying engine stopped at its budget (``None`` otherwise).

        Its time or its step budget (the note says "time budget", the usual one). The
        answer stands then, checked by the independent checker alone (a confirmation
        that overran, on a loaded machine). An answer the other engine does not confirm
        is a problem, not an unfinished check. PubGrub's search before a handover is not
        a check either: what counts is what ran after the answer. Nor is an answer that
        is a conflict, or a solution the checker faulted: the note says the answer
        passed the checker, which only a faultless solution did.
        """
        answered = [i for i, run in enumerate(self.runs) if run.outcome is not None]
        if not answered:
            return None
        first = self.runs[answered[0]]
        if not isinstance(first.outcome, Solution) or first.problems:
            return None
        for run in self.runs[answered[0] + 1 :]:
            if run.outcome is None and run.gave_up is not None:
                return (
                    f"the {run.engine} cross-check stopped at its time budget; "
                    "the answer passed the independent checker"
                )
        return None

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
    checked: dict[frozenset[tuple[str, Version]], list[str]],
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
        # The checker's verdict depends only on the universe and the selection: when
        # the second engine selects exactly what the first did (the usual case), that
        # selection was checked already (re-reading its markers and specifiers took 18%
        # of a warm compile of seed-ml's 56 packages, profiled with imports done).
        key = frozenset(outcome.selected.items())
        problems = checked.get(key)
        if problems is None:
            problems = checked[key] = check_solution(universe, outcome.selected)
        run.problems = list(problems)
    return run


def resolve(
    universe: Universe,
    *,
    solver: EngineChoice = "auto",
    optimal: bool = False,
    reporter: Reporter | None = None,
    clock: Callable[[], float] = lambda: 0.0,
    pubgrub_budget: int = AUTO_PUBGRUB_BUDGET,
    certify_seconds: float | None = None,
) -> Resolution:
    """Resolve ``universe`` with the chosen engine(s) and certify the answer.

    :param solver: ``auto`` (PubGrub handing over to SAT when it thrashes, the other
        engine certifying under a time budget), ``both`` (both to completion), or one
        engine alone.
    :param optimal: let the SAT engine solve its MaxSAT objective instead of the
        lexicographic preference (in ``auto`` mode SAT then answers first).
    :param clock: a monotonic clock for the runs' timings and the certifying engine's
        time budget in ``auto`` mode (the solver has none).
    :param pubgrub_budget: PubGrub's step budget when it answers first in ``auto`` mode.
    :param certify_seconds: the certifying engine's time budget in ``auto`` mode; by
        default :data:`AUTO_CERTIFY_SECONDS` after a checked solution, else
        :data:`AUTO_PUBGRUB_SECONDS`.
    :return: the answer with every run; ``problems`` lists checker failures and
        disagreements, empty when the answer is certified.

    Example::

        resolution = resolve(universe, solver="both", clock=time.perf_counter)
        resolution.outcome, resolution.agree, resolution.problems
    """

    def run(name: str, budget: int | None = None, limited: Reporter | None = reporter) -> None:
        # SAT in ``auto`` mode explores: its intermediate models visit versions no
        # newest-first search would, whose expensive metadata the provider may put off.
        universe.exploring = solver == "auto" and name == "sat"
        try:
            runs.append(
                _run(
                    universe,
                    name,
                    optimal=optimal,
                    budget=budget,
                    reporter=limited,
                    clock=clock,
                    checked=checked,
                )
            )
        finally:
            universe.exploring = False

    def certify(name: str) -> None:
        # A second opinion: on a solution the checker accepted, the answer stands
        # whatever it finds, so it gets little time and reads only what it needs (hints
        # would start downloads, in a warm run the whole I/O thread, for versions that
        # the answer does not use).
        answering = runs[-1]
        accepted = isinstance(answering.outcome, Solution) and not answering.problems
        seconds = certify_seconds
        if seconds is None:
            seconds = AUTO_CERTIFY_SECONDS if accepted else AUTO_PUBGRUB_SECONDS
        wanted = universe.hints_wanted
        universe.hints_wanted = wanted and not accepted
        limited = _Deadline(reporter, clock, seconds)
        try:
            answer = answering.outcome
            if accepted and isinstance(answer, Solution):
                runs.append(_confirm(universe, name, answer, limited, clock))
            else:
                run(name, AUTO_PUBGRUB_BUDGET, limited)
        finally:
            universe.hints_wanted = wanted

    runs: list[EngineRun] = []
    checked: dict[frozenset[tuple[str, Version]], list[str]] = {}
    if solver in ("sat", "pubgrub"):
        run(solver)
    elif solver == "both":
        run("sat")
        run("pubgrub")
    elif optimal:
        run("sat")
        certify("pubgrub")
    else:
        run("pubgrub", pubgrub_budget, _Handover(reporter))
        if runs[0].outcome is not None:
            certify("sat")
        else:
            run("sat")  # PubGrub thrashed: SAT answers, and PubGrub confirms its solution
            if isinstance(runs[-1].outcome, Solution) and not runs[-1].problems:
                certify("pubgrub")
    return _verdict(runs)


def _confirm(
    universe: Universe,
    name: str,
    answer: Solution,
    reporter: Reporter,
    clock: Callable[[], float],
) -> EngineRun:
    """Certify a checked answer with the other engine, without a search of its own.

    SAT decides its encoding under the answer's versions (``SatEngine.confirm``,
    ``specs/encoding.md`` section 6); PubGrub searches with them preferred, which meets
    no conflict when they are a resolution (``PubGrubEngine.confirm``). A search of
    its own would have to prove every better version wrong: SAT's took seconds on
    airflow's 673 pins and never finished within the budget, and PubGrub's after a
    handover runs into the very conflicts that made it hand over.
    """
    engine = _engine(name, optimal=False)
    assert isinstance(engine, Confirming), "both engines confirm answers"
    start = clock()
    try:
        confirmed = engine.confirm(
            universe, answer.selected, reporter=reporter, budget=AUTO_PUBGRUB_BUDGET
        )
    except BudgetExceeded as error:
        return EngineRun(engine.name, None, clock() - start, str(error), confirming=True)
    if isinstance(confirmed, str):
        problem = f"does not confirm the answer: {confirmed}"
        return EngineRun(engine.name, None, clock() - start, problems=[problem], confirming=True)
    return EngineRun(engine.name, confirmed, clock() - start, confirming=True)


def _verdict(runs: list[EngineRun]) -> Resolution:
    """Return the first finished run's answer, with checker failures and disagreements."""
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
