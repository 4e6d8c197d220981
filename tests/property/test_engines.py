"""Properties of the two engines on random universes, and of the version-set algebra.

Ported from pubgrub-rs ``tests/proptest.rs``: the engines agree on satisfiability, the
independent checker accepts every solution, repeated runs give identical results and
explanation text, and dropping a dependency never makes a solvable universe unsolvable.
The last two tests hold ``VersionRange`` (which both engines use) to
``SpecifierSet.contains`` (which the checker uses).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from resolvent.solver.checker import check_solution
from resolvent.solver.pubgrub import PubGrubEngine
from resolvent.solver.ranges import from_specifier
from resolvent.solver.result import NoSolution, Solution
from resolvent.solver.sat import SatEngine
from resolvent.solver.scenario import parse_scenario
from tests.property.strategies import (
    DETERMINISTIC,
    RandomUniverse,
    RandomVersion,
    specifier_strings,
    universes,
    versions,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from resolvent.solver.result import Engine, Outcome

pytestmark = pytest.mark.property

#: Far more steps than a universe of five packages can need; a run that hits it is a bug.
_BUDGET = 200_000


def _engines() -> list[Engine]:
    return [SatEngine(), PubGrubEngine()]


def _solve(engine: Engine, problem: RandomUniverse) -> Outcome:
    return engine.solve(problem.build(), budget=_BUDGET)


def _fingerprint(outcome: Outcome) -> tuple[str, object]:
    if isinstance(outcome, Solution):
        return ("solution", dict(outcome.selected))
    return ("no solution", outcome.explanation)


@settings(DETERMINISTIC, max_examples=150)
@given(universes())
def test_engines_agree_on_satisfiability(problem: RandomUniverse) -> None:
    note(problem.to_toml())
    verdicts = {engine.name: isinstance(_solve(engine, problem), Solution) for engine in _engines()}
    assert len(set(verdicts.values())) == 1, verdicts


@settings(DETERMINISTIC, max_examples=150)
@given(universes())
def test_checker_accepts_every_solution(problem: RandomUniverse) -> None:
    note(problem.to_toml())
    for engine in _engines():
        universe = problem.build()
        outcome = engine.solve(universe, budget=_BUDGET)
        if isinstance(outcome, Solution):
            assert check_solution(universe, outcome.selected) == [], engine.name
        else:
            assert isinstance(outcome, NoSolution)
            assert outcome.explanation.strip(), engine.name


@settings(DETERMINISTIC, max_examples=75)
@given(universes())
def test_runs_are_deterministic(problem: RandomUniverse) -> None:
    note(problem.to_toml())
    for engine in _engines():
        first = _fingerprint(_solve(engine, problem))
        second = _fingerprint(_solve(type(engine)(), problem))
        assert first == second, engine.name


@settings(DETERMINISTIC, max_examples=100)
@given(universes(), st.data())
def test_removing_a_dependency_keeps_a_solvable_universe_solvable(
    problem: RandomUniverse, data: st.DataObject
) -> None:
    if not isinstance(_solve(SatEngine(), problem), Solution):
        return
    edges = list(problem.edges())
    if not edges:
        return
    smaller = problem.without(*data.draw(st.sampled_from(edges), label="dropped"))
    note(smaller.to_toml())
    for engine in _engines():
        assert isinstance(_solve(engine, smaller), Solution), engine.name


def test_project_requiring_its_own_extra() -> None:
    problem = RandomUniverse(
        (
            ("p0", (RandomVersion("1.0", requires=("p0[x]",), extra_requires=("p1",)),)),
            ("p1", (RandomVersion("1.0"),)),
        ),
        root=("p0",),
    )
    for engine in _engines():
        universe = problem.build()
        outcome = engine.solve(universe, budget=_BUDGET)
        assert isinstance(outcome, Solution), engine.name
        assert check_solution(universe, outcome.selected) == [], engine.name


@settings(DETERMINISTIC, max_examples=500)
@given(specifier_strings(), versions())
@example("<2.0", "2.0a1")
@example(">1.0", "1.0.post1")
@example(">1.0", "1.0+local")
@example("==1.0", "1.0+local")
@example("!=1.0", "1.0+local")
@example("<=1.0", "1.0+local")
@example("==1.0+local", "1.0")
@example("~=1.4", "1.4.5.dev1")
@example(">=1.0.dev0", "1.0a1")
@example("", "1.0")
def test_range_membership_matches_specifier(specifier: str, version: str) -> None:
    expected = SpecifierSet(specifier).contains(version, prereleases=True)
    assert (Version(version) in from_specifier(specifier)) == expected


@settings(DETERMINISTIC, max_examples=400)
@given(specifier_strings(), specifier_strings(), versions())
@example(">=1.0", "<2.0", "2.0a1")
@example("==1.*", "!=1.0", "1.0+local")
def test_range_intersection_matches_both_specifiers(first: str, second: str, version: str) -> None:
    both = from_specifier(first).intersection(from_specifier(second))
    expected = SpecifierSet(first).contains(version, prereleases=True) and SpecifierSet(
        second
    ).contains(version, prereleases=True)
    assert (Version(version) in both) == expected


@settings(DETERMINISTIC, max_examples=40)
@given(universes())
def test_counterexamples_render_as_equivalent_scenarios(problem: RandomUniverse) -> None:
    # A failing example is reported as a scenario file; it must describe the same problem.
    (scenario,) = parse_scenario(problem.to_toml(), "counterexample.toml")
    direct = _fingerprint(_solve(SatEngine(), problem))
    replayed = _fingerprint(SatEngine().solve(scenario.universe(), budget=_BUDGET))
    assert direct == replayed


@settings(DETERMINISTIC, max_examples=150)
@given(universes(), st.data())
def test_each_engine_confirms_exactly_what_the_checker_accepts(
    problem: RandomUniverse, data: st.DataObject
) -> None:
    """Confirmation (the cross-check's second opinion) agrees with the checker.

    Each engine confirms the other's solution; a selection changed in one place (another
    version of one package, or one package left out) is confirmed by either engine only
    when the independent checker accepts it too (in practice, never: the random
    universes leave one solution in reach, and the checker then refuses the change).
    """
    note(problem.to_toml())
    answer = _solve(SatEngine(), problem)
    if not isinstance(answer, Solution):
        return
    other = _solve(PubGrubEngine(), problem)
    assert isinstance(other, Solution)
    pairs: list[tuple[PubGrubEngine | SatEngine, Mapping[str, Version]]] = [
        (PubGrubEngine(), answer.selected),
        (SatEngine(), other.selected),
    ]
    for confirming, selection in pairs:
        confirmed = confirming.confirm(problem.build(), selection, budget=_BUDGET)
        assert isinstance(confirmed, Solution), (confirming.name, confirmed)
        assert confirmed.selected == selection
    changed = dict(answer.selected)
    if not changed:
        return
    package = data.draw(st.sampled_from(sorted(changed)), label="changed")
    listed: list[Version] = [v for v in problem.build().versions(package) if v != changed[package]]
    another: bool = bool(listed) and data.draw(st.booleans(), label="another version")
    if another:
        changed[package] = data.draw(st.sampled_from(listed), label="version")
    else:
        del changed[package]
    note(f"selection: {changed}")
    accepted = check_solution(problem.build(), changed) == []
    for confirming, _ in pairs:
        confirmed = confirming.confirm(problem.build(), changed, budget=_BUDGET)
        assert isinstance(confirmed, Solution) is accepted, (confirming.name, confirmed)
