from __future__ import annotations

import itertools

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from bench.universes import layered
from resolvent.solver import crosscheck
from resolvent.solver.checker import check_solution
from resolvent.solver.crosscheck import resolve
from resolvent.solver.memory import InMemoryProvider
from resolvent.solver.result import BudgetExceeded, NoSolution, Solution
from resolvent.solver.sat import SatEngine
from resolvent.solver.universe import Options, Universe

V = Version
TABLE = {"a": {"1.0": ["b>=1"], "2.0": ["b>=2"]}, "b": {"1.0": [], "2.0": []}}


def universe(target, requires=("a",), table=TABLE):
    return Universe(
        InMemoryProvider.from_simple(table),
        [Requirement(r) for r in requires],
        target.markers(),
        target.python_version,
    )


class FixedEngine:
    def __init__(self, name, outcome):
        self.name = name
        self.outcome = outcome

    def solve(self, universe, *, reporter=None, budget=None):
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome

    def confirm(self, universe, selected, *, reporter=None, budget=None):
        # As the SAT engine confirms: the same selection, or a reason it is none.
        outcome = self.solve(universe, reporter=reporter, budget=budget)
        if isinstance(outcome, Solution) and outcome.selected == selected:
            return Solution(self.name, dict(selected))
        return "not this selection"


def with_engines(monkeypatch, **engines):
    monkeypatch.setattr(crosscheck, "_engine", lambda name, *, optimal: engines[name])


@pytest.mark.parametrize("solver", ["auto", "both", "sat", "pubgrub"])
def test_modes_agree_and_certify(target, solver):
    resolution = resolve(universe(target), solver=solver)
    assert resolution.problems == []
    assert resolution.satisfiable
    assert resolution.outcome.packages() == {"a": V("2.0"), "b": V("2.0")}  # type: ignore[union-attr]
    assert resolution.agree is (None if solver in ("sat", "pubgrub") else True)
    assert resolution.differences() == {}


def test_unsatisfiable_prefers_pubgrub_explanation(target):
    resolution = resolve(universe(target, ("a", "b<1")), solver="both")
    assert not resolution.satisfiable
    assert isinstance(resolution.outcome, NoSolution)
    assert resolution.outcome.engine == "pubgrub"
    assert "we can conclude" in resolution.outcome.explanation


def test_disagreement_is_a_problem(target, monkeypatch):
    u = universe(target)
    with_engines(
        monkeypatch,
        sat=FixedEngine("sat", Solution("sat", {"a": V("2.0"), "b": V("2.0")})),
        pubgrub=FixedEngine("pubgrub", NoSolution("pubgrub", "impossible")),
    )
    resolution = resolve(u, solver="both")
    assert resolution.agree is False
    assert any("disagree" in p for p in resolution.problems)


def test_checker_failure_is_a_problem_and_differences_reported(target, monkeypatch):
    u = universe(target)
    with_engines(
        monkeypatch,
        sat=FixedEngine("sat", Solution("sat", {"a": V("2.0"), "b": V("1.0")})),
        pubgrub=FixedEngine("pubgrub", Solution("pubgrub", {"a": V("1.0"), "b": V("1.0")})),
    )
    resolution = resolve(u, solver="both")
    assert resolution.agree is True
    assert any(p.startswith("sat: ") and "b==1.0" in p for p in resolution.problems)
    assert resolution.differences() == {"a": (V("2.0"), V("1.0"))}


def test_auto_mode_hands_over_to_sat_when_pubgrub_gives_up(target, monkeypatch):
    u = universe(target)
    with_engines(
        monkeypatch,
        sat=FixedEngine("sat", Solution("sat", {"a": V("2.0"), "b": V("2.0")})),
        pubgrub=FixedEngine("pubgrub", BudgetExceeded("pubgrub", 7)),
    )
    resolution = resolve(u)
    assert resolution.satisfiable
    assert resolution.outcome.engine == "sat"
    assert resolution.problems == []
    assert resolution.agree is None
    # PubGrub gave up, SAT answered, and PubGrub's confirmation gave up too (a stand-in).
    assert [run.engine for run in resolution.runs] == ["pubgrub", "sat", "pubgrub"]
    assert resolution.runs[0].gave_up == "the pubgrub solver gave up after 7 steps"
    assert resolution.runs[2].confirming
    assert resolution.unfinished_check is not None


def test_auto_mode_answers_with_pubgrub_and_certifies_with_sat(target):
    resolution = resolve(universe(target))
    assert [run.engine for run in resolution.runs] == ["pubgrub", "sat"]
    assert resolution.outcome.engine == "pubgrub"
    assert resolution.agree is True


def test_auto_mode_hands_an_adversarial_universe_to_sat(target):
    # Many of the newest versions conflict with each other: PubGrub's conflicts pile up
    # against its decisions from the start, and it stops early.
    resolution = resolve(layered(packages=100, versions=15, seed=0).universe())
    pubgrub, sat, confirmation = resolution.runs
    assert pubgrub.gave_up is not None
    assert pubgrub.engine == "pubgrub"
    assert sat.engine == "sat"
    assert resolution.outcome.engine == "sat"
    assert resolution.problems == []
    # PubGrub, deciding SAT's versions first, meets no conflict: one decision each
    # (and one for the root).
    assert confirmation.engine == "pubgrub"
    assert confirmation.confirming
    assert isinstance(sat.outcome, Solution)
    assert isinstance(confirmation.outcome, Solution)
    assert confirmation.outcome.selected == sat.outcome.selected
    assert confirmation.outcome.stats["conflicts"] == 0
    assert confirmation.outcome.stats["decisions"] == len(sat.outcome.selected) + 1
    assert resolution.agree is True


@pytest.mark.parametrize(
    ("conflicts", "decisions", "stops"),
    [
        (crosscheck.AUTO_HANDOVER_CONFLICTS - 1, 0, False),
        (crosscheck.AUTO_HANDOVER_CONFLICTS, 0, True),
        (100, 100 * crosscheck.AUTO_HANDOVER_RATIO - 1, True),
        (100, 100 * crosscheck.AUTO_HANDOVER_RATIO, False),
        (87, 9086, False),  # airflow's set
    ],
)
def test_handover_counts_conflicts_against_decisions(conflicts, decisions, stops):
    reporter = crosscheck._Handover(None)
    for _ in range(decisions):
        reporter.decided("p", V("1.0"))
    for _ in range(conflicts):
        reporter.conflict("c")
    assert reporter.should_cancel() is stops


def test_no_engine_finished_raises(target, monkeypatch):
    with_engines(monkeypatch, sat=FixedEngine("sat", BudgetExceeded("sat", 3)))
    with pytest.raises(BudgetExceeded):
        resolve(universe(target), solver="sat")


def test_time_budget_uses_the_callers_clock(target):
    # A chain long enough for SAT to make several calls (each asks the reporter).
    table = {f"p{i}": {"1.0": [f"p{i + 1}"] if i < 300 else []} for i in range(301)}
    ticks = itertools.count()
    resolution = resolve(
        universe(target, ("p0",), table),
        clock=lambda: float(next(ticks)),
        certify_seconds=0.5,  # counted from the engine's start: past at its first poll
    )
    assert resolution.satisfiable
    sat = resolution.runs[1]
    assert sat.engine == "sat"
    assert sat.outcome is None
    assert sat.gave_up is not None
    assert resolution.runs[0].seconds > 0


class DeadlineProbe:
    """A certifying engine stand-in that records how long its deadline lets it run."""

    def __init__(self, clock, name="sat"):
        self.clock = clock
        self.name = name
        self.allowed = None

    def solve(self, universe, *, reporter=None, budget=None):
        start = self.clock.now
        while not reporter.should_cancel():
            self.clock.now += 0.05
        self.allowed = self.clock.now - start
        raise BudgetExceeded(self.name, 1)

    def confirm(self, universe, selected, *, reporter=None, budget=None):
        return self.solve(universe, reporter=reporter, budget=budget)


class ManualClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize(
    ("first_outcome", "expected"),
    [
        (Solution("pubgrub", {"a": V("2.0"), "b": V("2.0")}), crosscheck.AUTO_CERTIFY_SECONDS),
        (Solution("pubgrub", {"a": V("2.0"), "b": V("1.0")}), crosscheck.AUTO_PUBGRUB_SECONDS),
        (NoSolution("pubgrub", "no"), crosscheck.AUTO_PUBGRUB_SECONDS),
    ],
    ids=["checked-solution", "rejected-solution", "no-solution"],
)
def test_auto_certification_budget_depends_on_the_first_answer(
    target, monkeypatch, first_outcome, expected
):
    clock = ManualClock()
    probe = DeadlineProbe(clock)
    with_engines(monkeypatch, pubgrub=FixedEngine("pubgrub", first_outcome), sat=probe)
    resolution = resolve(universe(target), clock=clock)
    assert resolution.runs[1].gave_up is not None
    assert probe.allowed == pytest.approx(expected, abs=0.06)


def test_optimal_auto_mode_answers_with_sat_and_certifies_with_pubgrub(target, monkeypatch):
    clock = ManualClock()
    probe = DeadlineProbe(clock, name="pubgrub")
    sat = FixedEngine("sat", Solution("sat", {"a": V("2.0"), "b": V("2.0")}))
    with_engines(monkeypatch, sat=sat, pubgrub=probe)
    resolution = resolve(universe(target), optimal=True, clock=clock)
    assert [run.engine for run in resolution.runs] == ["sat", "pubgrub"]
    assert resolution.outcome.engine == "sat"
    assert probe.allowed == pytest.approx(crosscheck.AUTO_CERTIFY_SECONDS, abs=0.06)


class CountingProvider(InMemoryProvider):
    takes_hints = True  # an in-memory provider takes none; this one counts them

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hints = 0

    def prefetch(self, name, versions):
        self.hints += 1


@pytest.mark.parametrize(("solver", "hinted"), [("auto", False), ("both", True)])
def test_certification_of_a_checked_answer_does_not_prefetch(target, monkeypatch, solver, hinted):
    u = universe(target)
    provider = CountingProvider.from_simple(TABLE)  # type: ignore[arg-type]
    assert isinstance(provider, CountingProvider)
    u.provider = provider
    pubgrub = FixedEngine("pubgrub", Solution("pubgrub", {"a": V("2.0"), "b": V("2.0")}))
    from resolvent.solver.sat import SatEngine  # noqa: PLC0415

    with_engines(monkeypatch, sat=SatEngine(), pubgrub=pubgrub)
    resolution = resolve(u, solver=solver)
    assert resolution.agree is True
    assert (provider.hints > 0) is hinted
    assert u.prefetching is True


class DeferringProvider(InMemoryProvider):
    """Records the ``defer_builds`` switch each time an engine asks for requirements."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.defer_builds = False
        self.asked_deferring: list[bool] = []

    def get_requirements(self, name, version):
        self.asked_deferring.append(self.defer_builds)
        return super().get_requirements(name, version)


@pytest.mark.parametrize(
    ("solver", "pubgrub_gives_up", "deferring"),
    [("auto", True, True), ("auto", False, False), ("sat", False, False), ("both", False, False)],
    ids=["auto-handover", "auto-confirm", "sat", "both"],
)
def test_only_auto_modes_sat_run_explores(target, monkeypatch, solver, pubgrub_gives_up, deferring):
    provider = DeferringProvider.from_simple(TABLE)  # type: ignore[arg-type]
    assert isinstance(provider, DeferringProvider)
    answer = Solution("pubgrub", {"a": V("2.0"), "b": V("2.0")})
    pubgrub = FixedEngine("pubgrub", BudgetExceeded("pubgrub", 1) if pubgrub_gives_up else answer)
    from resolvent.solver.sat import SatEngine  # noqa: PLC0415

    with_engines(monkeypatch, sat=SatEngine(), pubgrub=pubgrub)
    u = universe(target)
    u.provider = provider
    resolve(u, solver=solver)
    # SAT asks with the switch on only when it answers in ``auto`` mode (the checker,
    # and SAT confirming PubGrub's answer, ask with it off).
    assert (True in provider.asked_deferring) is deferring
    assert provider.defer_builds is False
    assert u.exploring is False


@pytest.mark.parametrize(
    ("pubgrub_pick", "checks"), [({"a": "2.0", "b": "2.0"}, 1), ({"a": "1.0", "b": "1.0"}, 2)]
)
def test_a_selection_is_checked_once_per_resolution(target, monkeypatch, pubgrub_pick, checks):
    # Two engines selecting the same versions need one check; a different selection
    # gets its own, with its own verdict.
    calls: list[dict[str, Version]] = []

    def counting(u, selected):
        calls.append(dict(selected))
        return check_solution(u, selected)

    monkeypatch.setattr(crosscheck, "check_solution", counting)
    u = universe(target)
    picked = {name: V(text) for name, text in pubgrub_pick.items()}
    with_engines(
        monkeypatch,
        sat=FixedEngine("sat", Solution("sat", {"a": V("2.0"), "b": V("2.0")})),
        pubgrub=FixedEngine("pubgrub", Solution("pubgrub", picked)),
    )
    resolution = resolve(u, solver="both")
    assert len(calls) == checks
    assert resolution.problems == []
    assert all(run.problems == [] for run in resolution.runs)


@pytest.mark.parametrize(
    ("table", "requires", "resolution", "expected"),
    [
        (  # extra x of a 2.0 requires a[x]<2: only a 1.0 can be chosen
            {
                "a": {"1.0": [], "2.0": ["b[t]", "a[x]<2; extra == 'x'"]},
                "b": {"1.0": ["a[x]; extra == 't'"]},
            },
            ["a"],
            "highest",
            {"a": "1.0"},
        ),
        (  # found by a differential test against uv: PubGrub once proved it unsatisfiable
            {
                "b": {"1.0": ["c"]},
                "c": {"1.0": ["d[x]==3.0"], "2.0": ["d>=2,<3"]},
                "d": {
                    "2.0": ["d[x]>=3.0; extra == 'x'"],
                    "3.0": ["missing; extra == 'x'", "d[x]>=2.0; extra == 'x'"],
                },
            },
            ["b"],
            "lowest",
            {"b": "1.0", "c": "2.0", "d": "2.0"},
        ),
    ],
)
def test_extras_that_require_themselves_agree_across_engines(
    target, table, requires, resolution, expected
):
    universe = Universe(
        InMemoryProvider.from_simple(table),
        [Requirement(r) for r in requires],
        target.markers(),
        target.python_version,
        Options(resolution=resolution),
    )
    resolution_ = resolve(universe, solver="both")
    assert resolution_.problems == []
    assert isinstance(resolution_.outcome, Solution)
    assert {n: str(v) for n, v in resolution_.outcome.packages().items()} == expected


def test_only_a_check_that_ran_out_is_an_unfinished_check() -> None:
    """A certifier out of time is noted; a handover (PubGrub stopped, SAT answered) is not."""
    from resolvent.solver.crosscheck import EngineRun, Resolution  # noqa: PLC0415

    answer = Solution("pubgrub", {"a": Version("1.0")})
    stopped = "the sat solver gave up after 0 steps"
    out_of_time = Resolution(
        answer, [EngineRun("pubgrub", answer, 0.1), EngineRun("sat", None, 0.2, stopped)]
    )
    assert out_of_time.unfinished_check == (
        "the sat cross-check stopped at its time budget; the answer passed the independent checker"
    )
    sat_answer = Solution("sat", {"a": Version("1.0")})
    handover = Resolution(
        sat_answer,
        [EngineRun("pubgrub", None, 0.1, "gave up"), EngineRun("sat", sat_answer, 0.2)],
    )
    assert handover.unfinished_check is None
    both = Resolution(answer, [EngineRun("pubgrub", answer, 0.1), EngineRun("sat", answer, 0.1)])
    assert both.unfinished_check is None
    assert Resolution(answer, [EngineRun("pubgrub", answer, 0.1)]).unfinished_check is None


def test_a_check_budget_counts_from_the_engine_start() -> None:
    """Importing and building the certifying engine does not eat its time budget."""
    now = [0.0]
    deadline = crosscheck._Deadline(None, lambda: now[0], 0.2)
    now[0] = 1.0  # a slow import of the engine
    deadline.starting("sat")
    assert not deadline.should_cancel()
    now[0] = 1.15
    assert not deadline.should_cancel()
    now[0] = 1.25
    assert deadline.should_cancel()


class SlowProvider(InMemoryProvider):
    """Each metadata read takes ``delay`` seconds of ``clock``, as a fetch would."""

    clock = ManualClock()
    delay = 0.05

    def get_requirements(self, name, version):
        self.clock.now += self.delay
        return super().get_requirements(name, version)


def test_certification_stops_at_its_budget_while_loading(target, monkeypatch):
    """The deadline is polled per read, not only between SAT calls.

    PubGrub's checked answer takes the 1.0 of every project in a chain of 60; SAT, to
    certify it, wants the 2.0s, whose metadata nobody read yet: 50 ms each. It used to
    load the whole chain (its speculative path) before its first SAT call looked at the
    clock, 3 s on a 0.2 s budget; now it stops at its first read past the deadline.
    """
    size = 60
    table = {
        f"p{i}": {v: [f"p{i + 1}"] if i < size - 1 else [] for v in ("1.0", "2.0")}
        for i in range(size)
    }
    clock = ManualClock()
    provider = SlowProvider.from_simple(table)
    provider.clock = clock
    u = Universe(provider, [Requirement("p0")], target.markers(), target.python_version)
    answer = Solution("pubgrub", {f"p{i}": V("1.0") for i in range(size)})
    monkeypatch.setattr(
        crosscheck,
        "_engine",
        lambda name, *, optimal: (
            FixedEngine("pubgrub", answer) if name == "pubgrub" else SatEngine()
        ),
    )
    resolution = resolve(u, clock=clock)
    assert resolution.problems == []
    assert resolution.outcome == answer
    sat = resolution.runs[1]
    assert sat.engine == "sat"
    assert sat.outcome is None
    assert sat.gave_up is not None
    budget = crosscheck.AUTO_CERTIFY_SECONDS
    assert sat.seconds <= budget + provider.delay + 1e-9
    assert resolution.unfinished_check is not None  # the run says the check stopped


def test_auto_mode_sat_confirms_pubgrubs_answer(target, monkeypatch):
    """The second opinion on a checked answer is the encoding deciding that answer."""
    older = Solution("pubgrub", {"a": V("1.0"), "b": V("1.0")})  # valid, not the newest
    u = universe(target)
    with_engines(monkeypatch, pubgrub=FixedEngine("pubgrub", older), sat=SatEngine())
    resolution = resolve(u)
    assert resolution.problems == []
    assert resolution.outcome == older
    sat = resolution.runs[1]
    assert (sat.engine, sat.gave_up) == ("sat", None)
    assert isinstance(sat.outcome, Solution)
    assert sat.outcome.selected == older.selected
    assert resolution.unfinished_check is None
    assert resolution.differences() == {}


def test_an_answer_the_encoding_rejects_is_a_problem(target, monkeypatch):
    """Were the checker to let a wrong answer through, SAT's confirmation would not."""
    wrong = Solution("pubgrub", {"a": V("2.0"), "b": V("1.0")})  # a 2.0 needs b>=2
    monkeypatch.setattr(crosscheck, "check_solution", lambda universe, selected: [])
    u = universe(target)
    with_engines(monkeypatch, pubgrub=FixedEngine("pubgrub", wrong), sat=SatEngine())
    resolution = resolve(u)
    assert resolution.problems == [
        "sat: does not confirm the answer: the encoding has no model that selects a==2.0, b==1.0"
    ]
    assert resolution.unfinished_check is None  # rejected, not out of time
