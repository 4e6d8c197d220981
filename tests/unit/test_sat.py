from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from bench.universes import layered
from resolvent.solver.memory import InMemoryProvider, Release
from resolvent.solver.provider import Unavailable, VersionInfo
from resolvent.solver.result import BudgetExceeded, NoSolution, Solution
from resolvent.solver.sat import SatEngine
from resolvent.solver.universe import Universe
from tests.support.counting import SOLVER_MARKERS

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from packaging.utils import NormalizedName

MARKERS = SOLVER_MARKERS

Table = dict[str, dict[str, list[str]]]


def universe(
    table: Mapping[str, Mapping[str, Sequence[str]]], *requirements: str
) -> tuple[Universe, InMemoryProvider]:
    provider = InMemoryProvider.from_simple(table)
    return _universe(provider, requirements), provider


def _universe(provider: InMemoryProvider, requirements: Sequence[str]) -> Universe:
    return Universe(
        provider,
        [Requirement(r) for r in requirements],
        markers=MARKERS,
        python_version=Version("3.12"),
    )


def solve(table: Table, *requirements: str, optimal: bool = False) -> Solution | NoSolution:
    return SatEngine(optimal=optimal).solve(universe(table, *requirements)[0])


def picked(outcome: Solution | NoSolution) -> dict[str, str]:
    assert isinstance(outcome, Solution), outcome
    return {key: str(version) for key, version in sorted(outcome.selected.items())}


def test_engine_name_and_stats() -> None:
    outcome = solve({"a": {"1.0": []}}, "a")
    assert SatEngine.name == "sat"
    assert isinstance(outcome, Solution)
    assert outcome.engine == "sat"
    assert set(outcome.stats) >= {"sat_calls", "variables", "clauses", "loaded"}
    assert outcome.stats["loaded"] == 1


def test_no_requirements() -> None:
    assert picked(solve({})) == {}


def test_newest_first() -> None:
    table: Table = {
        "a": {"1.0": [], "2.0": ["b>=1"], "1.5": []},
        "b": {"1.0": [], "3.0": [], "2.0": []},
    }
    assert picked(solve(table, "a")) == {"a": "2.0", "b": "3.0"}


def test_backtracks_to_an_older_version() -> None:
    table: Table = {
        "a": {"1.0": ["c<2"], "2.0": ["c>=2"]},
        "b": {"1.0": ["c<2"]},
        "c": {"1.0": [], "2.0": []},
    }
    # a is decided first; a==2.0 cannot work with b, so the greedy takes a==1.0.
    assert picked(solve(table, "a", "b")) == {"a": "1.0", "b": "1.0", "c": "1.0"}


def test_greedy_is_lexicographic_in_discovery_order() -> None:
    # Either a==2 with b==1 or a==1 with b==2: the package discovered first wins.
    table: Table = {"a": {"1": [], "2": ["b<2"]}, "b": {"1": [], "2": []}}
    assert picked(solve(table, "a", "b")) == {"a": "2", "b": "1"}
    assert picked(solve(table, "b", "a")) == {"a": "1", "b": "2"}


def test_deep_backtracking_chain() -> None:
    # Only a==1 leads to a consistent c; the newer a versions each fail one level down.
    table: Table = {
        "a": {"3": ["b==3"], "2": ["b==2"], "1": ["b==1"]},
        "b": {"3": ["c==3"], "2": ["c==2"], "1": ["c==1"]},
        "c": {"1": [], "2": ["d>=5"], "3": ["missing-pkg"]},
        "d": {"1": []},
    }
    assert picked(solve(table, "a")) == {"a": "1", "b": "1", "c": "1"}


def test_unsatisfiable_with_minimal_core() -> None:
    table: Table = {
        "a": {"1.0.0": ["b==2.0.0"]},
        "b": {"1.0.0": [], "2.0.0": []},
        "c": {"1.0.0": []},
    }
    outcome = solve(table, "a==1.0.0", "b==1.0.0", "c")
    assert isinstance(outcome, NoSolution)
    assert outcome.engine == "sat"
    assert outcome.core == ("a", "b")
    assert outcome.explanation == (
        "You require a==1.0.0 and b==1.0.0.\n"
        "a==1.0.0 depends on b==2.0.0.\n"
        "Only one version of b can be installed, so these requirements conflict.\n"
        "These requirements cannot be satisfied together."
    )


def test_unsatisfiable_through_every_version() -> None:
    table: Table = {
        "a": {"1": ["x<2"], "2": ["y<2"]},
        "x": {"1": ["z==1"]},
        "y": {"1": ["z==1"]},
        "z": {"1": [], "2": []},
    }
    outcome = solve(table, "a", "z==2")
    assert isinstance(outcome, NoSolution)
    assert outcome.core == ("a", "x", "y", "z")
    lines = outcome.explanation.splitlines()
    assert lines[0] == "You require a and z==2."
    assert "a==1 depends on x<2." in lines
    assert "a==2 depends on y<2." in lines
    assert "x==1 and y==1" not in outcome.explanation  # different dependents: one each
    assert "x==1 depends on z==1." in lines
    assert lines[-1] == "These requirements cannot be satisfied together."


def test_core_is_minimal() -> None:
    # Two independent reasons; the core names only one, and dropping any group of it
    # would leave a satisfiable problem.
    table: Table = {"a": {"1": ["c==1"]}, "b": {"1": ["c==2"]}, "c": {"1": [], "2": []}}
    outcome = solve(table, "a", "b", "c==3")
    assert isinstance(outcome, NoSolution)
    assert outcome.core == ("c",)
    assert outcome.explanation.splitlines()[:2] == [
        "You require c==3.",
        "No usable version of c satisfies c==3.",
    ]


def test_merges_versions_with_the_same_requirement() -> None:
    table: Table = {"a": {"1": ["b>=5"], "2": ["b>=5"]}, "b": {"1": []}}
    outcome = solve(table, "a")
    assert isinstance(outcome, NoSolution)
    assert "a==2 and a==1 depend on b>=5." in outcome.explanation.splitlines()


def test_extras() -> None:
    table: Table = {
        "a": {"1.0": ["b[x]"]},
        "b": {"1.0": ["c; extra == 'x'"], "2.0": ["c>=2; extra == 'x'"]},
        "c": {"1.0": [], "2.0": []},
    }
    assert picked(solve(table, "a")) == {"a": "1.0", "b": "2.0", "b[x]": "2.0", "c": "2.0"}


def test_extras_pin_the_base_version() -> None:
    table: Table = {"b": {"1.0": ["c; extra == 'x'"], "2.0": []}, "c": {"1.0": []}}
    # b[x]==2.0 would need no c, but the root pins b==1.0 and b[x] must follow it.
    assert picked(solve(table, "b[x]", "b==1.0")) == {"b": "1.0", "b[x]": "1.0", "c": "1.0"}


def test_missing_package() -> None:
    outcome = solve({"a": {"1.0": ["nope"]}}, "a")
    assert isinstance(outcome, NoSolution)
    assert outcome.core == ("a", "nope")
    assert "a==1.0 depends on nope." in outcome.explanation
    assert "nope is not available: `nope` was not found in the package registry." in (
        outcome.explanation
    )


def test_missing_package_is_avoided_when_possible() -> None:
    assert picked(solve({"a": {"1.0": [], "2.0": ["nope"]}}, "a")) == {"a": "1.0"}


class NoMetadata(InMemoryProvider):
    """Has the listing of every release but the requirements of none at version 2.0."""

    def get_requirements(
        self, name: NormalizedName, version: Version
    ) -> Sequence[Requirement] | Unavailable:
        if version == Version("2.0"):
            return Unavailable(f"no metadata for `{name}=={version}`")
        return super().get_requirements(name, version)


class Recording(InMemoryProvider):
    """Remembers which versions' requirements were asked for."""

    def __init__(self, table: Mapping[str, Mapping[str, Sequence[str]]]) -> None:
        simple = InMemoryProvider.from_simple(table)
        super().__init__({str(name): list(r.values()) for name, r in simple._releases.items()})
        self.asked: list[str] = []

    def get_requirements(
        self, name: NormalizedName, version: Version
    ) -> Sequence[Requirement] | Unavailable:
        self.asked.append(f"{name}=={version}")
        return super().get_requirements(name, version)


def test_unavailable_metadata() -> None:
    broken = NoMetadata({"a": [Release(VersionInfo(Version(v))) for v in ("1.0", "2.0")]})
    assert picked(SatEngine().solve(_universe(broken, ["a"]))) == {"a": "1.0"}
    outcome = SatEngine().solve(_universe(broken, ["a==2.0"]))
    assert isinstance(outcome, NoSolution)
    assert outcome.core == ("a",)
    assert "a==2.0 cannot be used: no metadata for `a==2.0`." in outcome.explanation


def test_excluded_versions_are_explained() -> None:
    provider = InMemoryProvider(
        {
            "a": [
                Release(VersionInfo(Version("1.0"))),
                Release(VersionInfo(Version("2.0"), yanked=True, yanked_reason="broken")),
            ]
        }
    )
    outcome = SatEngine().solve(_universe(provider, ["a>=2"]))
    assert isinstance(outcome, NoSolution)
    assert "a==2.0 was yanked (reason: broken)." in outcome.explanation
    assert "No usable version of a satisfies a>=2." in outcome.explanation


def test_lazy_loading_skips_unreachable_versions() -> None:
    table: Table = {
        "a": {str(v): ["b"] for v in range(1, 11)},
        "b": {str(v): [] for v in range(1, 11)},
        "unrelated": {"1": ["b==1"]},
    }
    u, provider = universe(table, "a")
    assert picked(SatEngine().solve(u)) == {"a": "10", "b": "10"}
    assert provider.requests == 2  # a==10 and b==10 only


def test_lazy_loading_after_a_conflict() -> None:
    table: Table = {
        "a": {"3": ["c==9"], "2": ["b==1"], "1": []},
        "b": {"1": [], "2": []},
        "c": {"1": []},
    }
    provider = Recording(table)
    assert picked(SatEngine().solve(_universe(provider, ["a"]))) == {"a": "2", "b": "1"}
    assert provider.asked[:2] == ["a==3", "a==2"]
    assert "b==2" not in provider.asked  # no model ever reaches it


def test_optimal_mode_minimizes_rank_sum() -> None:
    # Greedy (a first) takes a==3 and then must take b==1 (ranks 0 + 2 = 2); the
    # optimum is a==2 with b==3 (ranks 1 + 0 = 1).
    table: Table = {
        "a": {"3": ["b<2"], "2": ["b>=3"], "1": []},
        "b": {"3": [], "2": [], "1": []},
    }
    assert picked(solve(table, "a", "b")) == {"a": "3", "b": "1"}
    assert picked(solve(table, "a", "b", optimal=True)) == {"a": "2", "b": "3"}


def test_optimal_mode_unsatisfiable() -> None:
    table: Table = {"a": {"1.0.0": ["b==2.0.0"]}, "b": {"1.0.0": [], "2.0.0": []}}
    greedy = solve(table, "a==1.0.0", "b==1.0.0")
    optimal = solve(table, "a==1.0.0", "b==1.0.0", optimal=True)
    assert isinstance(greedy, NoSolution)
    assert isinstance(optimal, NoSolution)
    assert optimal.explanation == greedy.explanation
    assert optimal.core == greedy.core


def test_optimal_mode_loads_lazily() -> None:
    table: Table = {"a": {"2": ["b"], "1": ["b"]}, "b": {"2": [], "1": []}, "z": {"1": []}}
    u, provider = universe(table, "a")
    assert picked(SatEngine(optimal=True).solve(u)) == {"a": "2", "b": "2"}
    assert provider.requests == 2


def _layered(width: int, depth: int, versions: int) -> Table:
    table: Table = {}
    for level in range(depth):
        for i in range(width):
            table[f"p{level}-{i}"] = {
                str(k): (
                    [f"p{level + 1}-{(i + d) % width}>={max(1, k - d)},<{k + 2}" for d in (0, 1)]
                    if level + 1 < depth
                    else []
                )
                for k in range(1, versions + 1)
            }
    return table


def test_determinism_across_runs() -> None:
    table = _layered(4, 4, 6)
    roots = [f"p0-{i}" for i in range(4)]
    first = solve(table, *roots)
    again = solve(table, *roots)
    assert picked(first) == picked(again)
    assert first.stats == again.stats
    unsat: Table = {
        "a": {"1": ["b==1"], "2": ["b==2"]},
        "b": {"1": ["c<1"], "2": ["c>1"]},
        "c": {"1": []},
    }
    one = solve(unsat, "a")
    two = solve(unsat, "a")
    assert isinstance(one, NoSolution)
    assert isinstance(two, NoSolution)
    assert one.explanation == two.explanation
    assert one.core == two.core


def test_determinism_across_processes() -> None:
    code = (
        "from tests.unit.test_sat import solve;"
        "o = solve({'a': {'1': ['b==1'], '2': ['b==2']}, 'b': {'1': ['c<1'], '2': ['c>1']},"
        " 'c': {'1': []}}, 'a');"
        "print(repr(o.explanation), o.core)"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            cwd=Path(__file__).resolve().parents[2],
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


def test_budget() -> None:
    table = _layered(4, 4, 6)
    roots = [f"p0-{i}" for i in range(4)]
    u, _ = universe(table, *roots)
    with pytest.raises(BudgetExceeded) as info:
        SatEngine().solve(u, budget=3)
    assert info.value.engine == "sat"
    assert info.value.steps == 4
    assert isinstance(SatEngine().solve(universe(table, *roots)[0], budget=10_000), Solution)


class Recorder:
    def __init__(self, cancel_after: int | None = None) -> None:
        self.events: list[str] = []
        self.polls = 0
        self.cancel_after = cancel_after

    def starting(self, engine: str) -> None:
        self.events.append(f"start {engine}")

    def decided(self, package: str, version: Version) -> None:
        self.events.append(f"{package}=={version}")

    def conflict(self, description: str) -> None:
        self.events.append(description)

    def should_cancel(self) -> bool:
        self.polls += 1
        return self.cancel_after is not None and self.polls > self.cancel_after


def test_reporter_hooks() -> None:
    recorder = Recorder()
    u, _ = universe({"a": {"1": ["b"]}, "b": {"1": []}}, "a")
    SatEngine().solve(u, reporter=recorder)
    assert recorder.events == ["start sat", "a==1", "b==1"]
    assert recorder.polls > 0


def test_cancellation() -> None:
    u, _ = universe({"a": {"1": ["b"]}, "b": {"1": []}}, "a")
    with pytest.raises(BudgetExceeded):
        SatEngine().solve(u, reporter=Recorder(cancel_after=0))


@pytest.mark.parametrize("optimal", [False, True])
def test_layered_universe_solutions_are_valid(optimal: bool) -> None:
    table = _layered(5, 5, 8)
    roots = [f"p0-{i}" for i in range(5)]
    outcome = solve(table, *roots, optimal=optimal)
    selected = picked(outcome)
    for package, version in selected.items():
        for text in table[package][version]:
            requirement = Requirement(text)
            assert requirement.specifier.contains(selected[requirement.name])


def _plain_lazy_loop(u: Universe) -> list[str] | None:
    """Run the greedy's first call without speculative loading; return its core's text."""
    from resolvent.solver._internal.cnf import Cnf  # noqa: PLC0415 - internals under test
    from resolvent.solver._internal.sat_explain import minimal_core, render  # noqa: PLC0415
    from resolvent.solver.sat import BACKEND, _Greedy, _Steps  # noqa: PLC0415

    steps = _Steps(None, None)
    cnf = Cnf(u)
    roots = cnf.load_root()
    if _Greedy(cnf, steps, roots, speculate=False).run() is not None:
        return None
    return render(u, minimal_core(cnf, BACKEND, steps.before_call)).splitlines()


def test_speculative_loading_closes_a_chain_in_few_calls() -> None:
    # Each version pins the next package: a model walks the chain one step per round
    # unless the rounds load the path ahead.
    table = {f"c{i}": {"1.0": [f"c{i + 1}==1.0"] if i < 40 else []} for i in range(41)}
    outcome = solve(table, "c0")
    assert isinstance(outcome, Solution)
    assert len(outcome.selected) == 41
    assert outcome.stats["sat_calls"] < 10


def test_unsatisfiable_explanation_is_that_of_the_plain_lazy_loop() -> None:
    # Speculation would load the whole chain at once; the explanation must still be
    # the core the plain loop finds (it is replayed without speculation).
    table: Table = {f"c{i}": {"1.0": [f"c{i + 1}==1.0"]} for i in range(30)}
    table["c30"] = {"1.0": ["z>=2"]}
    table["z"] = {"1.0": []}
    u, _ = universe(table, "c0")
    outcome = SatEngine().solve(u)
    assert isinstance(outcome, NoSolution)
    assert outcome.explanation.splitlines() == _plain_lazy_loop(universe(table, "c0")[0])


def test_a_round_hints_each_of_its_versions_alone() -> None:
    """A round's versions are all loaded next, so none is a speculative batch.

    A provider may thin out a hint of several versions (the index provider skips their
    sdists, as uv's batch prefetcher does); the versions of a round must all be fetched.
    """
    universe = layered(packages=40, versions=12, seed=1).universe()
    sizes: list[int] = []
    universe.provider.prefetch = lambda name, versions: sizes.append(len(versions))  # type: ignore[method-assign]
    universe.provider.takes_hints = True  # type: ignore[misc]
    assert isinstance(SatEngine().solve(universe), Solution)
    assert sizes  # rounds and speculation hinted something
    assert set(sizes) == {1}


# -- confirming another engine's answer ---------------------------------------------

CONFIRM_TABLE: Table = {
    "a": {"1.0": ["b<2"], "2.0": ["b>=2"]},
    "b": {"1.0": [], "2.0": ["c"]},
    "c": {"1.0": []},
}


def confirm(table: Table, picks: Mapping[str, str], *requirements: str) -> Solution | str:
    selected = {name: Version(text) for name, text in picks.items()}
    return SatEngine().confirm(universe(table, *requirements)[0], selected)


@pytest.mark.parametrize(
    "picks",
    [{"a": "2.0", "b": "2.0", "c": "1.0"}, {"a": "1.0", "b": "1.0"}],
    ids=["newest", "older-but-valid"],
)
def test_confirm_returns_a_valid_selection_unchanged(picks: dict[str, str]) -> None:
    outcome = confirm(CONFIRM_TABLE, picks, "a")
    assert isinstance(outcome, Solution)
    assert picked(outcome) == picks  # not the greedy answer: the one it was given
    assert outcome.engine == "sat"


@pytest.mark.parametrize(
    ("picks", "reason"),
    [
        ({"a": "2.0", "b": "1.0"}, "the encoding has no model that selects a==2.0, b==1.0"),
        (
            {"a": "2.0", "b": "2.0"},
            "the encoding requires packages the answer lacks: c==1.0",
        ),
        (
            {"a": "1.0", "b": "1.0", "c": "1.0"},
            "the answer selects packages nothing requires: c",
        ),
        ({"a": "3.0", "b": "1.0"}, "a has no version 3.0 in the universe"),
    ],
    ids=["broken-requirement", "missing-package", "unrequired-package", "unknown-version"],
)
def test_confirm_says_why_a_selection_is_not_a_solution(picks: dict[str, str], reason: str) -> None:
    assert confirm(CONFIRM_TABLE, picks, "a") == reason


EXTRAS_TABLE: Table = {
    "a": {"1.0": ["b[x]"]},
    "b": {f"{i}.0": ([f"c>={i}; extra == 'x'"] if i > 1 else []) for i in range(1, 41)},
    "c": {f"{i}.0": [] for i in range(1, 41)},
}


def test_confirm_accepts_an_extra_at_its_base_version() -> None:
    picks = {"a": "1.0", "b": "40.0", "b[x]": "40.0", "c": "40.0"}
    outcome = confirm(EXTRAS_TABLE, picks, "a")
    assert isinstance(outcome, Solution)
    assert picked(outcome) == picks


@pytest.mark.parametrize("extra", ["39.0", "1.0"])
def test_confirm_rejects_an_extra_off_its_base_version(extra: str) -> None:
    """An extra's "same version as the base" requirement holds in a confirmation too.

    The confirmation adds it with the requirements of the extra's selected version only
    (not for the extra's forty versions up front, as a search does): either way a
    selection that splits the two is no model.
    """
    picks = {"a": "1.0", "b": "40.0", "b[x]": extra, "c": "40.0"}
    reason = confirm(EXTRAS_TABLE, picks, "a")
    assert isinstance(reason, str)
    assert reason.startswith("the encoding has no model that selects"), reason
    assert "b==40.0" in reason or f"b[x]=={extra}" in reason


def test_confirm_adds_clauses_only_for_the_answers_versions() -> None:
    """Confirming loads the answer: no clauses for the extra's versions it does not select."""
    picks = {"a": "1.0", "b": "40.0", "b[x]": "40.0", "c": "40.0"}
    outcome = confirm(EXTRAS_TABLE, picks, "a")
    assert isinstance(outcome, Solution)
    # The root's requirement, a's two (on b and b[x]), b[x]==40.0's on c and on b==40.0.
    assert outcome.stats["clauses"] == 5
    searched = SatEngine().solve(universe(EXTRAS_TABLE, "a")[0])
    assert isinstance(searched, Solution)
    assert searched.stats["clauses"] > 40  # a search binds every version of the extra


def test_confirm_is_one_call_over_the_answers_versions() -> None:
    """Where the greedy search loads and calls a lot, confirming its answer does not."""
    synthetic = layered(packages=60, versions=12, seed=3)
    searched = SatEngine().solve(synthetic.universe())
    assert isinstance(searched, Solution)
    confirmed = SatEngine().confirm(synthetic.universe(), searched.selected)
    assert isinstance(confirmed, Solution)
    assert confirmed.selected == searched.selected
    assert confirmed.stats["sat_calls"] == 1
    assert confirmed.stats["loaded"] == len(searched.selected)
    assert searched.stats["sat_calls"] > 10
    assert searched.stats["loaded"] > 2 * len(searched.selected)


# -- the minimal core ------------------------------------------------------------------


def _every_version_fails(count: int) -> Table:
    """``a``'s versions each need their own missing version of ``c``."""
    return {"a": {f"{i}.0": [f"c=={i}.0"] for i in range(1, count + 1)}, "c": {"0.5": []}}


def test_a_core_of_many_necessary_groups_takes_few_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Model rotation finds the groups that deletion would test with a call each."""
    from resolvent.solver._internal import sat_explain  # noqa: PLC0415
    from resolvent.solver._internal.sat_explain import minimal_core  # noqa: PLC0415

    calls: list[None] = []

    def counting(cnf: Any, backend: str, before_call: Callable[[], None]) -> Any:
        def count() -> None:
            calls.append(None)
            before_call()

        return minimal_core(cnf, backend, count)

    monkeypatch.setattr(sat_explain, "minimal_core", counting)  # the engine imports it on use
    outcome = SatEngine().solve(universe(_every_version_fails(300), "a")[0])
    assert isinstance(outcome, NoSolution)
    assert "a==300.0 depends on c==300.0." in outcome.explanation
    assert "a==1.0 depends on c==1.0." in outcome.explanation
    assert len(calls) < 20  # deletion alone: a call per group, over 300


def _random_table(rnd: random.Random) -> tuple[Table, list[str]]:
    names = [f"p{i}" for i in range(rnd.randint(2, 10))]
    table: Table = {}
    for name in names:
        table[name] = {}
        for v in range(1, rnd.randint(1, 7) + 1):
            deps = [
                f"{other}{rnd.choice(['==', '>=', '<', '!='])}{rnd.randint(1, 7)}.0"
                for other in rnd.sample(names, min(len(names), rnd.randint(0, 3)))
                if other != name
            ]
            if rnd.random() < 0.1:
                deps.append("missing-project")
            table[name][f"{v}.0"] = deps
    roots = rnd.sample(names, rnd.randint(1, min(3, len(names))))
    return table, roots


def test_model_rotation_never_changes_the_core(monkeypatch: pytest.MonkeyPatch) -> None:
    """Groups shown necessary by rotation are the ones deletion keeps: same sentences."""
    from resolvent.solver._internal import sat_explain  # noqa: PLC0415

    explained = 0
    for seed in range(300):
        table, roots = _random_table(random.Random(seed))  # noqa: S311 - reproducible shapes
        with_rotation = SatEngine().solve(universe(table, *roots)[0])
        if not isinstance(with_rotation, NoSolution):
            continue
        explained += 1
        with monkeypatch.context() as patch:
            patch.setattr(sat_explain._Rotation, "rotate", lambda *args: None)
            without = SatEngine().solve(universe(table, *roots)[0])
        assert isinstance(without, NoSolution)
        assert with_rotation.explanation == without.explanation, seed
        assert with_rotation.core == without.core
    assert explained > 50
