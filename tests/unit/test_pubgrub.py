"""Tests of the PubGrub engine (``resolvent.solver.pubgrub`` and ``solver/_internal``)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from resolvent.solver._internal.core import SolverState
from resolvent.solver._internal.incompatibility import Incompatibility
from resolvent.solver._internal.partial_solution import Assignment, PartialSolution
from resolvent.solver._internal.term import ANY, Relation, Term
from resolvent.solver._internal.version_index import VersionIndex
from resolvent.solver.checker import check_solution
from resolvent.solver.memory import InMemoryProvider, Release
from resolvent.solver.provider import Unavailable, VersionInfo
from resolvent.solver.pubgrub import PubGrubEngine
from resolvent.solver.ranges import EMPTY, FULL, exactly, from_specifier
from resolvent.solver.result import BudgetExceeded, NoSolution, Solution
from resolvent.solver.universe import Dependency, Options, Universe
from tests.support.counting import SOLVER_MARKERS

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from resolvent.solver.provider import Provider
    from resolvent.solver.result import Outcome

Table = Mapping[str, Mapping[str, Sequence[str]]]

V = Version

MARKERS = SOLVER_MARKERS


def universe_of(provider: Provider, requires: Sequence[str], **options: Any) -> Universe:
    return Universe(
        provider,
        [Requirement(r) for r in requires],
        markers=MARKERS,
        python_version=Version("3.12"),
        options=Options(**options),
    )


def make(table: Table, requires: Sequence[str], **options: Any) -> Universe:
    return universe_of(InMemoryProvider.from_simple(table), requires, **options)


def solve(table: Table, requires: Sequence[str], **options: Any) -> Outcome:
    universe = make(table, requires, **options)
    outcome = PubGrubEngine().solve(universe)
    if isinstance(outcome, Solution):
        assert check_solution(universe, outcome.selected) == []
    return outcome


def selected(table: Table, requires: Sequence[str], **options: Any) -> dict[str, str]:
    outcome = solve(table, requires, **options)
    assert isinstance(outcome, Solution), getattr(outcome, "explanation", outcome)
    return {name: str(version) for name, version in outcome.selected.items()}


def failure(table: Table, requires: Sequence[str], **options: Any) -> NoSolution:
    outcome = solve(table, requires, **options)
    assert isinstance(outcome, NoSolution), outcome
    assert outcome.engine == "pubgrub"
    return outcome


# -- terms ---------------------------------------------------------------------------


def test_term_algebra() -> None:
    ge1 = Term(positive=True, range=from_specifier(">=1"))
    ge2 = Term(positive=True, range=from_specifier(">=2"))
    below = Term(positive=True, range=from_specifier(">=1").difference(from_specifier(">=2")))
    assert ge1.intersection(ge2.negate()).same_as(below)
    assert ge2.relation(ge1) is Relation.SATISFIED
    assert ge1.relation(ge2) is Relation.INCONCLUSIVE
    assert Term(positive=True, range=from_specifier("<1")).relation(ge2) is Relation.CONTRADICTED
    assert ge2.relation(ge1.negate()) is Relation.CONTRADICTED
    # "not >=1" leaves "nothing selected" possible: it cannot satisfy a positive term.
    below_1 = Term(positive=True, range=from_specifier("<1"))
    assert ge1.negate().relation(below_1) is Relation.INCONCLUSIVE
    assert ge1.negate().relation(ge2.negate()) is Relation.SATISFIED
    assert ge2.negate().relation(ge1) is Relation.INCONCLUSIVE
    assert ge1.negate().relation(ge2) is Relation.CONTRADICTED
    assert ge1.union(ge2.negate()).is_any()
    assert ge1.negate().union(ge2.negate()).same_as(ge2.negate())
    assert ANY.is_any()
    assert ge1.contains(V("1.5"))
    assert not ge1.negate().contains(V("1.5"))
    assert "not" in repr(ge1.negate())


def test_decided_terms_answer_by_membership() -> None:
    decided = Term(positive=True, range=exactly(V("1.5")), single=V("1.5"))
    ge1, ge2 = from_specifier(">=1"), from_specifier(">=2")
    assert decided.relation(Term(positive=True, range=ge1)) is Relation.SATISFIED
    assert decided.relation(Term(positive=False, range=ge1)) is Relation.CONTRADICTED
    assert decided.relation(Term(positive=True, range=ge2)) is Relation.CONTRADICTED


# -- incompatibilities and the partial solution ------------------------------------------


def test_incompatibility_constructors() -> None:
    dependency = Dependency("b", from_specifier(">=2"), ">=2")
    edge = Incompatibility.from_dependency("a", exactly(V("1")), dependency)
    assert list(edge.terms) == ["a", "b"]
    assert not edge.terms["b"].positive
    impossible = Incompatibility.from_dependency("a", FULL, Dependency("b", EMPTY, ">2,<1"))
    assert list(impossible.terms) == ["a"]
    other = Incompatibility.from_dependency("a", exactly(V("2")), dependency)
    merged = edge.merge_dependents(other)
    assert merged is not None
    assert V("1") in merged.terms["a"].range
    assert V("2") in merged.terms["a"].range
    different = Incompatibility.from_dependency("a", exactly(V("3")), Dependency("b", FULL, ""))
    assert edge.merge_dependents(different) is None
    assert Incompatibility.root("<root>", V("0")).kind == "root"
    assert Incompatibility({}, "derived").is_terminal("<root>")
    assert "from-dependency" in repr(edge)


def test_partial_solution_backtracks_and_finds_satisfiers() -> None:
    cause = Incompatibility({"a": Term(positive=False, range=from_specifier(">=1"))}, "root")
    solution = PartialSolution()
    solution.add_derivation("a", Term(positive=True, range=from_specifier(">=1")), cause)
    solution.add_decision("a", V("1.5"))
    assert solution.decisions() == {"a": V("1.5")}
    assert list(solution.pending()) == []
    window = Term(positive=True, range=from_specifier(">=1,<2"))
    conflict = Incompatibility({"a": window}, "no-versions")
    assert solution.relation(conflict) == (Relation.SATISFIED, None)
    found = solution.satisfier(conflict)
    assert found.assignment.is_decision
    assert found.previous_level == 1
    assert "decision" in repr(found.assignment)
    assert solution.backtrack(0) == ["a"]
    assert solution.decisions() == {}
    assert list(solution.pending()) == ["a"]
    assert solution.relation(conflict) == (Relation.INCONCLUSIVE, "a")


def test_a_satisfier_memo_answers_as_a_fresh_search_and_checks_the_term() -> None:
    cause = Incompatibility({"a": Term(positive=False, range=from_specifier(">=1"))}, "root")
    solution = PartialSolution()
    solution.add_derivation("a", Term(positive=True, range=from_specifier(">=1")), cause)
    solution.add_derivation("b", Term(positive=True, range=from_specifier("<3")), cause)
    solution.add_decision("a", V("1.5"))
    solution.add_derivation("b", Term(positive=True, range=from_specifier("<2")), cause)
    window = Term(positive=True, range=from_specifier(">=1,<2"))
    below = Term(positive=True, range=from_specifier("<2.5"))
    conflict = Incompatibility({"a": window, "b": below}, "derived")
    memo: dict[tuple[str, int], tuple[Term, Assignment]] = {}
    fresh = solution.satisfier(conflict)
    remembered = solution.satisfier(conflict, memo)
    assert remembered.assignment is fresh.assignment
    assert remembered.previous_level == fresh.previous_level
    assert ("b", id(below)) in memo
    # An entry found under a term's id but for another term object is not used.
    stale = solution.satisfier(Incompatibility({"b": Term(True, from_specifier("<3"))}, "derived"))
    memo["b", id(below)] = (Term(True, from_specifier("<9")), stale.assignment)
    again = solution.satisfier(conflict, memo)
    assert again.assignment is fresh.assignment
    assert memo["b", id(below)][0] is below


# -- the classic examples of pub's solver documentation -------------------------------------


def test_no_conflicts() -> None:
    table: Table = {"foo": {"1.0.0": ["bar>=1,<2"]}, "bar": {"1.0.0": [], "2.0.0": []}}
    assert selected(table, ["foo>=1,<2"]) == {"foo": "1.0.0", "bar": "1.0.0"}


def test_avoiding_conflict_during_decision_making() -> None:
    table: Table = {
        "foo": {"1.0.0": [], "1.1.0": ["bar>=2,<3"]},
        "bar": {"1.0.0": [], "1.1.0": [], "2.0.0": []},
    }
    assert selected(table, ["foo>=1,<2", "bar>=1,<2"]) == {"foo": "1.0.0", "bar": "1.1.0"}


def test_performing_conflict_resolution() -> None:
    table: Table = {
        "foo": {"1.0.0": [], "2.0.0": ["bar>=1,<2"]},
        "bar": {"1.0.0": ["foo>=1,<2"]},
    }
    outcome = solve(table, ["foo>=1"])
    assert isinstance(outcome, Solution)
    assert dict(outcome.selected) == {"foo": V("1.0.0")}
    assert outcome.stats["conflicts"] >= 1


def test_conflict_resolution_with_a_partial_satisfier() -> None:
    table: Table = {
        "foo": {"1.0.0": [], "1.1.0": ["left>=1,<2", "right>=1,<2"]},
        "left": {"1.0.0": ["shared>=1"]},
        "right": {"1.0.0": ["shared<2"]},
        "shared": {"2.0.0": [], "1.0.0": ["target>=1,<2"]},
        "target": {"2.0.0": [], "1.0.0": []},
    }
    assert selected(table, ["foo>=1,<2", "target>=2,<3"]) == {"foo": "1.0.0", "target": "2.0.0"}


LINEAR: Table = {
    "foo": {"1.0.0": ["bar>=2,<3"]},
    "bar": {"2.0.0": ["baz>=3,<4"]},
    "baz": {"1.0.0": [], "3.0.0": []},
}

BRANCHING: Table = {
    "foo": {"1.0.0": ["a>=1,<2", "b>=1,<2"], "1.1.0": ["x>=1,<2", "y>=1,<2"]},
    "a": {"1.0.0": ["b>=2,<3"]},
    "b": {"1.0.0": [], "2.0.0": []},
    "x": {"1.0.0": ["y>=2,<3"]},
    "y": {"1.0.0": [], "2.0.0": []},
}


def test_linear_error_reporting() -> None:
    outcome = failure(LINEAR, ["foo>=1,<2", "baz>=1,<2"])
    assert outcome.explanation == (
        "Because foo==1.0.0 depends on bar>=2,<3 which depends on baz>=3,<4, "
        "foo==1.0.0 depends on baz>=3,<4.\n"
        "And because you require foo>=1,<2 and baz>=1,<2, "
        "we can conclude that your requirements are unsatisfiable."
    )
    assert outcome.core == ("bar", "baz", "foo")
    assert set(outcome.stats) == {"decisions", "conflicts", "steps"}


def test_branching_error_reporting() -> None:
    outcome = failure(BRANCHING, ["foo>=1,<2"])
    lines = outcome.explanation.splitlines()
    assert "" in lines  # two lines of derivation, separated
    numbered = [line for line in lines if line.endswith(" (1)")]
    assert len(numbered) == 1
    assert "foo==1.1.0 cannot be used" in numbered[0]
    assert any("foo==1.1.0 cannot be used (1)" in line for line in lines if line.startswith("And"))
    assert "foo==1.0.0 depends on a>=1,<2 which depends on b>=2,<3" in outcome.explanation
    assert "foo==1.1.0 depends on x>=1,<2 which depends on y>=2,<3" in outcome.explanation
    assert lines[-1] == (
        "And because you require foo>=1,<2, we can conclude that your requirements are "
        "unsatisfiable."
    )
    assert outcome.core == ("a", "b", "foo", "x", "y")


# -- general behaviour ------------------------------------------------------------------


def test_simple_and_preference_order() -> None:
    table: Table = {"a": {"1.0": ["b>=1"], "2.0": ["b>=2"]}, "b": {"1.0": [], "2.0": [], "3.0": []}}
    assert selected(table, ["a"]) == {"a": "2.0", "b": "3.0"}
    # Versions are tried in the universe's order, not by maximum version.
    assert selected(table, ["a"], resolution="lowest") == {"a": "1.0", "b": "1.0"}
    assert selected(table, ["a"], resolution="lowest-direct") == {"a": "1.0", "b": "3.0"}


def test_backtracking_to_an_older_version() -> None:
    table: Table = {
        "a": {"1.0": ["c<2"], "2.0": ["c>=2", "b==1.0"]},
        "b": {"1.0": ["c<2"]},
        "c": {"1.0": [], "2.0": []},
    }
    assert selected(table, ["a"]) == {"a": "1.0", "c": "1.0"}


def test_unsatisfiable_direct_requirement() -> None:
    outcome = failure({"a": {"1.0": []}}, ["a>=2"])
    assert outcome.explanation == (
        "Because you require a>=2 and no versions of a match >=2, "
        "we can conclude that your requirements are unsatisfiable."
    )
    assert outcome.core == ("a",)


def test_unsatisfiable_direct_conflict() -> None:
    outcome = failure({"a": {"1.0": [], "2.0": []}}, ["a>=2", "a<2"])
    assert "your requirements are unsatisfiable" in outcome.explanation


def test_unsatisfiable_transitive_conflict() -> None:
    table: Table = {"a": {"1.0": ["c==1.0"]}, "b": {"1.0": ["c==2.0"]}, "c": {"1.0": [], "2.0": []}}
    outcome = failure(table, ["a", "b"])
    assert "a==1.0 depends on c==1.0" in outcome.explanation
    assert "b==1.0 depends on c==2.0" in outcome.explanation
    assert outcome.explanation.endswith("we can conclude that your requirements are unsatisfiable.")
    assert outcome.core == ("a", "b", "c")


def test_impossible_specifier() -> None:
    outcome = failure({"a": {"1.0": ["b>2,<1"]}, "b": {"1.0": []}}, ["a"])
    assert "a==1.0 depends on b<1,>2" in outcome.explanation or "b>2" in outcome.explanation


def test_extras_are_virtual_packages() -> None:
    table: Table = {
        "a": {"1.0": ["b[x]>=1"]},
        "b": {"1.0": ["c; extra == 'x'"], "2.0": ["c>=2; extra == 'x'"]},
        "c": {"1.0": [], "2.0": []},
    }
    assert selected(table, ["a"]) == {"a": "1.0", "b[x]": "2.0", "b": "2.0", "c": "2.0"}
    # The extra pins its base project: b<2 from elsewhere forces b[x]==1.0 too.
    assert selected(table, ["a", "b<2"]) == {"a": "1.0", "b[x]": "1.0", "b": "1.0", "c": "2.0"}


def test_extra_with_conflict_is_explained_with_its_key() -> None:
    table: Table = {"b": {"1.0": ["c>=2; extra == 'x'"]}, "c": {"1.0": []}}
    outcome = failure(table, ["b[x]"])
    assert "b[x]==1.0 depends on c>=2" in outcome.explanation
    assert "b[x]" in outcome.core


class CountingProvider(InMemoryProvider):
    """Records every (name, version) whose requirements the engine asked for."""

    def __init__(self, table: Table) -> None:
        releases = InMemoryProvider.from_simple(table)._releases
        super().__init__({name: list(items.values()) for name, items in releases.items()})
        self.asked: list[tuple[str, str]] = []

    def get_requirements(
        self, name: NormalizedName, version: Version
    ) -> Sequence[Requirement] | Unavailable:
        self.asked.append((name, str(version)))
        return super().get_requirements(name, version)


def test_rejected_extra_does_not_walk_down_its_base_history() -> None:
    # redis is decided first (7.0); kombu is held to >=5 by celery, so only 5.2 fits;
    # kombu[redis] 5.2 wants redis<6. The old kombu releases cannot be kombu[redis]'s
    # version either (each pins kombu to itself), so nothing of theirs may be loaded:
    # on a real index they are sdists that would be built, and may not build.
    table: Table = {
        "redis": {"5.0": [], "7.0": []},
        "celery": {"1.0": ["kombu>=5", "kombu[redis]; extra == 'redis'"]},
        "kombu": {
            "1.0": [],
            "2.0": [],
            "3.0": ["redis; extra == 'redis'"],
            "5.2": ["redis<6; extra == 'redis'"],
        },
    }
    provider = CountingProvider(table)
    universe = universe_of(provider, ["redis", "celery[redis]"])
    outcome = PubGrubEngine().solve(universe)
    assert isinstance(outcome, Solution)
    assert check_solution(universe, outcome.selected) == []
    assert {k: str(v) for k, v in outcome.selected.items() if "[" not in k} == {
        "redis": "5.0",
        "celery": "1.0",
        "kombu": "5.2",
    }
    assert not [asked for asked in provider.asked if asked[0] == "kombu" and asked[1] != "5.2"]


class HintRecorder(CountingProvider):
    """Also records every prefetch hint."""

    takes_hints = True  # an in-memory provider takes none; this one records them

    def __init__(self, table: Table) -> None:
        super().__init__(table)
        self.hints: list[tuple[str, list[str]]] = []

    def prefetch(self, name: NormalizedName, versions: Sequence[Version]) -> None:
        self.hints.append((name, [str(v) for v in versions]))


def test_prefetch_hints_the_best_version_inside_each_dependency() -> None:
    # The hint is the version the search will most likely decide: the best one the
    # dependency admits, once per dependency, not the newest releases of the project.
    table: Table = {
        "a": {"1.0": ["b<2", "c>=1,!=3.0"]},
        "b": {"1.0": [], "1.5": [], "2.0": [], "3.0": []},
        "c": {"1.0": [], "2.0": [], "3.0": []},
    }
    provider = HintRecorder(table)
    universe = universe_of(provider, ["a"])
    outcome = PubGrubEngine().solve(universe)
    assert isinstance(outcome, Solution)
    assert provider.hints == [("a", ["1.0"]), ("b", ["1.5"]), ("c", ["2.0"])]


def test_a_package_walked_down_gets_its_next_versions_prefetched_together() -> None:
    # Each x k needs y==k and only y 1 exists: the search steps down all of x. Past a
    # few attempts the next versions are hinted as one batch (fetched concurrently).
    table: Table = {
        "x": {f"{k}.0": [f"y=={k}"] for k in range(1, 41)},
        "y": {"1": []},
    }
    provider = HintRecorder(table)
    outcome = PubGrubEngine().solve(universe_of(provider, ["x"]))
    assert isinstance(outcome, Solution)
    batches = [versions for name, versions in provider.hints if name == "x" and len(versions) > 1]
    assert batches
    assert batches[0] == [f"{k}.0" for k in range(35, 3, -1)]  # after 40, 39, ... 36


def test_often_rejected_package_is_decided_before_its_culprit() -> None:
    # y (one version) pins z==1 and z is decided next (one candidate); x tries 8..2,
    # each rejected by z. Past the threshold x counts as "affected" (decided early)
    # and z as the "culprit" (decided late, after backtracking to before it), as uv does.
    table: Table = {
        "y": {"1.0": ["z==1"]},
        "x": {f"{k}.0": [f"z=={k}"] for k in range(1, 9)},
        "z": {f"{k}": [] for k in range(1, 9)},
    }
    universe = make(table, ["y", "x"])
    state = SolverState(universe)
    chosen = {name: str(version) for name, version in state.solve().items()}
    assert chosen == {"y": "1.0", "x": "1.0", "z": "1"}
    assert "x" in state._early
    assert "z" in state._late


def test_a_package_walking_down_its_versions_is_retried_before_the_undone_decisions() -> None:
    # meta==k needs grpc==k, which needs proto==k, and proto is pinned to 1.0: every
    # version of meta but 1.0 conflicts, and each conflict backjumps to before the eight
    # unrelated packages decided ahead of meta. From its second conflict in a row meta is
    # decided first after the backjump, so they are not decided again at every version.
    recorder = Recorder()
    table: Table = {
        "proto": {f"{k}.0": [] for k in range(1, 7)},
        "meta": {f"{k}.0": [f"grpc=={k}.0"] for k in range(1, 7)},
        "grpc": {f"{k}.0": [f"proto=={k}.0"] for k in range(1, 7)},
        **{f"u{i}": {"1.0": [], "2.0": []} for i in range(8)},
    }
    universe = make(table, ["proto==1.0", *(f"u{i}" for i in range(8)), "meta"])
    outcome = PubGrubEngine().solve(universe, reporter=recorder)
    assert isinstance(outcome, Solution)
    decided = recorder.events
    assert {name: str(v) for name, v in outcome.selected.items()} == {
        "proto": "1.0",
        "meta": "1.0",
        "grpc": "1.0",
        **{f"u{i}": "2.0" for i in range(8)},
    }
    # Twice before meta's streak shows, then once after its walk ends (6 without it).
    assert decided.count("u0==2.0") == 3
    walk = decided[decided.index("meta==4.0") :]
    assert walk[: walk.index("grpc==1.0")] == [
        "meta==4.0",
        "conflict",
        "proto==1.0",
        "meta==3.0",
        "conflict",
        "proto==1.0",
        "meta==2.0",
        "conflict",
        "proto==1.0",
        "meta==1.0",
    ]


def test_missing_package() -> None:
    outcome = failure({"a": {"1.0": ["b"]}}, ["a"])
    assert "a==1.0 depends on b" in outcome.explanation
    assert "no versions of b are available" in outcome.explanation
    assert "hint: `b` was not found in the package registry" in outcome.explanation
    assert outcome.core == ("a", "b")


class BrokenMetadata(InMemoryProvider):
    """A provider whose metadata for some versions cannot be had."""

    def __init__(self, table: Table, broken: set[tuple[str, str]]) -> None:
        releases = InMemoryProvider.from_simple(table)._releases
        super().__init__({name: list(items.values()) for name, items in releases.items()})
        self.broken = broken

    def get_requirements(
        self, name: NormalizedName, version: Version
    ) -> Sequence[Requirement] | Unavailable:
        if (name, str(version)) in self.broken:
            return Unavailable("the metadata file is corrupt")
        return super().get_requirements(name, version)


def test_unavailable_metadata_falls_back_then_fails() -> None:
    table: Table = {"a": {"1.0": [], "2.0": []}}
    provider = BrokenMetadata(table, {("a", "2.0")})
    outcome = PubGrubEngine().solve(universe_of(provider, ["a"]))
    assert isinstance(outcome, Solution)
    assert dict(outcome.selected) == {"a": V("1.0")}
    provider = BrokenMetadata(table, {("a", "2.0"), ("a", "1.0")})
    outcome = PubGrubEngine().solve(universe_of(provider, ["a"]))
    assert isinstance(outcome, NoSolution)
    assert "a==2.0 cannot be used: the metadata file is corrupt" in outcome.explanation
    assert "a==1.0 cannot be used: the metadata file is corrupt" in outcome.explanation


def test_yanked_and_requires_python_hints() -> None:
    provider = InMemoryProvider(
        {
            "a": [
                Release(VersionInfo(V("1.0"))),
                Release(VersionInfo(V("2.0"), yanked=True, yanked_reason="broken")),
                Release(VersionInfo(V("3.0"), requires_python=SpecifierSet(">=3.13"))),
            ]
        }
    )
    outcome = PubGrubEngine().solve(universe_of(provider, ["a>=2"]))
    assert isinstance(outcome, NoSolution)
    assert "no versions of a match >=2" in outcome.explanation
    assert "hint: a==2.0 was yanked (reason: broken)" in outcome.explanation
    assert (
        "hint: a==3.0 requires Python >=3.13, but the target Python is 3.12" in outcome.explanation
    )


def test_prerelease_hint() -> None:
    outcome = failure({"a": {"2.0b1": []}}, ["a"], prerelease="disallow")
    assert "hint: a==2.0b1 is a pre-release" in outcome.explanation


class Recorder:
    """A reporter that writes down the search's steps in ``events``."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def starting(self, engine: str) -> None:
        self.events.append(f"start {engine}")

    def decided(self, package: str, version: Version) -> None:
        self.events.append(f"{package}=={version}")

    def conflict(self, description: str) -> None:
        self.events.append("conflict")

    def should_cancel(self) -> bool:
        return False


def test_pinned_packages_are_decided_first() -> None:
    recorder = Recorder()
    table: Table = {"a": {"1.0": [], "2.0": []}, "b": {"1.0": [], "2.0": []}, "c": {"1.0": []}}
    universe = make(table, ["a", "b==1.0", "c"])
    outcome = PubGrubEngine().solve(universe, reporter=recorder)
    assert isinstance(outcome, Solution)
    # b and c have one candidate each; then a, the remaining direct requirement.
    assert recorder.events == ["start pubgrub", "b==1.0", "c==1.0", "a==2.0"]


def test_determinism_within_a_process() -> None:
    first = failure(BRANCHING, ["foo>=1,<2"])
    second = failure(BRANCHING, ["foo>=1,<2"])
    assert first == second
    table: dict[str, dict[str, list[str]]]
    table = {f"p{i}": {f"{v}.0": [f"p{i + 1}>={v // 2}"] for v in range(5)} for i in range(30)}
    table["p30"] = {"1.0": [], "2.0": []}
    assert selected(table, ["p0"]) == selected(table, ["p0"])


_SCRIPT = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {tests!r})
    from test_pubgrub import BRANCHING, LINEAR, failure, selected
    out = [failure(BRANCHING, ["foo>=1,<2"]).explanation,
           failure(LINEAR, ["foo>=1,<2", "baz>=1,<2"]).explanation,
           selected({{"a": {{"1.0": ["b", "c"]}}, "b": {{"1.0": ["c<2"]}},
                     "c": {{"1.0": [], "2.0": []}}}}, ["a"])]
    print(json.dumps(out))
    """
)


def test_determinism_across_processes() -> None:
    script = _SCRIPT.format(tests=os.path.dirname(__file__))  # noqa: PTH120
    outputs = set()
    for seed in ("1", "2", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1


def _hard_table() -> Table:
    # Every version of a needs a b that no version of c accepts, but only after the search
    # has gone deep: plenty of decisions and conflicts.
    table: dict[str, dict[str, list[str]]] = {
        "a": {f"{v}.0": [f"b=={v}.0", "c"] for v in range(1, 40)},
        "b": {f"{v}.0": [] for v in range(1, 40)},
        "c": {f"{v}.0": [f"b>={v + 100}"] for v in range(1, 40)},
    }
    return table


def test_a_walk_down_releases_learns_each_empty_range_once() -> None:
    # boto3's shape: release i of `top` needs `dep>=i,<61`, and a constraint keeps only
    # `dep<10`. Each release is rejected for "no versions of dep" in its range; stated
    # over the sliver earlier facts left, every later conflict resolved back through all
    # of them (quadratic). Widened to the empty gap, each takes one or two steps.
    table: Table = {
        "top": {str(i): [f"dep>={i},<61"] for i in range(1, 61)},
        "dep": {str(i): [] for i in range(1, 61)},
    }
    universe = make(table, ["top"], constraints={"dep": from_specifier("<10")})
    state = SolverState(universe)
    chosen = state.solve()
    assert (str(chosen["top"]), str(chosen["dep"])) == ("9", "9")
    assert state.conflicts >= 50
    assert state.steps < 4 * state.conflicts + 60  # quadratic before: over 1,000 steps


def test_budget_exceeded() -> None:
    universe = make(_hard_table(), ["a"])
    with pytest.raises(BudgetExceeded) as raised:
        PubGrubEngine().solve(universe, budget=5)
    assert raised.value.engine == "pubgrub"
    assert raised.value.steps == 6
    outcome = PubGrubEngine().solve(make(_hard_table(), ["a"]), budget=100_000)
    assert isinstance(outcome, NoSolution)


def test_reporter_can_cancel() -> None:
    calls: list[int] = []

    class Cancel:
        def starting(self, engine: str) -> None:
            pass

        def decided(self, package: str, version: Version) -> None:
            calls.append(-1 if package and version.release else -2)

        def conflict(self, description: str) -> None:
            calls.append(-3 if description else -4)

        def should_cancel(self) -> bool:
            calls.append(1)
            return True

    table: dict[str, dict[str, list[str]]] = {f"p{i}": {"1.0": [f"p{i + 1}"]} for i in range(100)}
    table["p100"] = {"1.0": []}
    with pytest.raises(BudgetExceeded) as raised:
        PubGrubEngine().solve(make(table, ["p0"]), reporter=Cancel())
    assert raised.value.steps == 64
    assert calls.count(1) == 1


def test_engine_protocol_fields() -> None:
    engine = PubGrubEngine()
    assert engine.name == "pubgrub"
    outcome = engine.solve(make({"a": {"1.0": []}}, ["a"]))
    assert isinstance(outcome, Solution)
    assert outcome.engine == "pubgrub"
    assert outcome.stats == {"decisions": 2, "conflicts": 0, "steps": 2}


def test_layered_universe_solves() -> None:
    # A 200 x 30 layered universe with loose requirements: easy, checked, and
    # reproducible.
    table: dict[str, dict[str, list[str]]] = {}
    for layer in range(10):
        for index in range(20):
            name = f"l{layer}p{index}"
            table[name] = {
                f"{v}.0": (
                    [f"l{layer + 1}p{(index + k) % 20}>={v // 3}" for k in range(3)]
                    if layer < 9
                    else []
                )
                for v in range(30)
            }
    outcome = solve(table, [f"l0p{i}" for i in range(20)])
    assert isinstance(outcome, Solution)
    assert len(outcome.selected) == 200


def test_memoized_algebra_agrees_with_version_range() -> None:
    from resolvent.solver._internal import term as term_module  # noqa: PLC0415

    texts = ["", ">=1", "<2", ">=1,<2", "==1.5", "!=1.5", ">=2,<3", "<1", ">3"]
    ranges = [from_specifier(t) for t in texts]
    for a in ranges:
        for b in ranges:
            for _ in range(2):  # the second round answers from the memo tables
                assert term_module.range_intersection(a, b) == a.intersection(b)
                assert term_module.range_union(a, b) == a.union(b)
                assert term_module.range_difference(a, b) == a.difference(b)
                assert term_module.range_relation(a, b) is a.relation(b)
            left, right = Term(positive=True, range=a), Term(positive=False, range=b)
            assert left.intersection(right) is left.intersection(right)
    term_module.reset_memo()


def test_fewer_collections_restores_the_thresholds() -> None:
    import gc  # noqa: PLC0415

    from resolvent.solver._internal.collector import fewer_collections  # noqa: PLC0415

    before = gc.get_threshold()
    with fewer_collections():
        with fewer_collections():
            assert gc.get_threshold()[0] >= before[0]
        assert gc.get_threshold()[0] >= before[0]
    assert gc.get_threshold() == before


# -- confirming another engine's answer ---------------------------------------------

CONFIRM_TABLE: Table = {
    "a": {"1.0": ["b<2"], "2.0": ["b>=2"]},
    "b": {"1.0": [], "2.0": ["c"]},
    "c": {"1.0": []},
}


def confirm(picks: Mapping[str, str]) -> Solution | str:
    selected = {name: Version(text) for name, text in picks.items()}
    provider = InMemoryProvider.from_simple(CONFIRM_TABLE)
    return PubGrubEngine().confirm(universe_of(provider, ["a"]), selected)


@pytest.mark.parametrize(
    "picks",
    [{"a": "2.0", "b": "2.0", "c": "1.0"}, {"a": "1.0", "b": "1.0"}],
    ids=["newest", "older-but-valid"],
)
def test_confirm_returns_a_valid_selection_unchanged(picks: dict[str, str]) -> None:
    outcome = confirm(picks)
    assert isinstance(outcome, Solution)
    assert {k: str(v) for k, v in outcome.selected.items()} == picks
    assert outcome.stats["conflicts"] == 0
    assert outcome.stats["decisions"] == len(picks) + 1  # and the root


@pytest.mark.parametrize(
    ("picks", "reason"),
    [
        (
            {"a": "2.0", "b": "1.0"},
            "PubGrub, following the answer, decided b==2.0 (the answer has b==1.0)",
        ),
        (
            {"a": "2.0", "b": "2.0"},
            "PubGrub, following the answer, decided c==1.0 (the answer has no version of it)",
        ),
        (
            {"a": "1.0", "b": "1.0", "c": "1.0"},
            "PubGrub, following the answer, selects other packages: -c",
        ),
        (
            {"a": "3.0", "b": "1.0"},
            "PubGrub, following the answer, decided a==2.0 (the answer has a==3.0)",
        ),
    ],
    ids=["broken-requirement", "missing-package", "unrequired-package", "unknown-version"],
)
def test_confirm_says_why_a_selection_is_not_a_solution(picks: dict[str, str], reason: str) -> None:
    assert confirm(picks) == reason


def test_no_hints_are_worked_out_for_a_provider_that_takes_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Neither engine looks for the versions to hint when the provider would ignore them."""
    from bench.universes import layered  # noqa: PLC0415
    from resolvent.solver.sat import SatEngine  # noqa: PLC0415

    hinted: list[str] = []
    monkeypatch.setattr(
        InMemoryProvider, "prefetch", lambda _self, name, _versions: hinted.append(name)
    )
    searched: list[object] = []
    positions = VersionIndex.positions

    def counting(self: VersionIndex, *args: Any, **kwargs: Any) -> Any:
        searched.append(kwargs.get("limit"))
        return positions(self, *args, **kwargs)

    monkeypatch.setattr(VersionIndex, "positions", counting)
    problem = layered(packages=30, versions=8, seed=2)
    quiet = problem.universe()
    assert quiet.prefetching is False  # in memory: hints would start nothing
    assert isinstance(PubGrubEngine().solve(quiet), Solution)
    assert isinstance(SatEngine().solve(problem.universe()), Solution)
    assert hinted == []
    quiet_searches = len(searched)
    listening = problem.universe()
    listening.provider.takes_hints = True  # type: ignore[misc]
    assert listening.prefetching is True
    assert isinstance(PubGrubEngine().solve(listening), Solution)
    assert hinted  # the same search hints when the provider takes hints
    assert quiet_searches < len(searched) - quiet_searches  # ...and searches more for them
