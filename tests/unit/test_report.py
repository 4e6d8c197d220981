"""Tests of PubGrub's explanations (``resolvent.solver.report``)."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Mapping, Sequence

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from resolvent.solver._internal.incompatibility import Incompatibility
from resolvent.solver._internal.term import Term
from resolvent.solver.memory import InMemoryProvider
from resolvent.solver.pubgrub import PubGrubEngine
from resolvent.solver.ranges import FULL, VersionRange, exactly, from_specifier
from resolvent.solver.report import RangeFormatter, _Writer, explain, external_packages
from resolvent.solver.result import NoSolution
from resolvent.solver.universe import ROOT, ROOT_VERSION, Dependency, Options, Universe
from tests.support.counting import SOLVER_MARKERS

V = Version
Table = Mapping[str, Mapping[str, Sequence[str]]]

MARKERS = SOLVER_MARKERS


def make(table: Table, requires: list[str]) -> Universe:
    return Universe(
        InMemoryProvider.from_simple(table),
        [Requirement(r) for r in requires],
        markers=MARKERS,
        python_version=V("3.12"),
    )


def explanation(table: Table, requires: list[str]) -> str:
    outcome = PubGrubEngine().solve(make(table, requires))
    assert isinstance(outcome, NoSolution)
    return outcome.explanation


TABLE: Table = {
    "a": {"1.0": [], "1.5": [], "2.0": [], "3.0": []},
    "b": {"1.0": []},
    "c": {"1.0": [], "1.5": [], "3.0": []},
}


def test_ranges_print_as_specifiers() -> None:
    fmt = RangeFormatter(make(TABLE, []))
    assert fmt.term("a", from_specifier(">=1.0,<2")) == "a>=1.0,<2"
    assert fmt.term("a", from_specifier("==1.5")) == "a==1.5"
    assert fmt.term("a", FULL) == "a"
    assert fmt.is_any("a", FULL)
    assert fmt.term(ROOT, FULL) == "your requirements"
    # A strict singleton has no PEP 440 spelling: the usable version names it.
    assert fmt.term("a", exactly(V("1.5"))) == "a==1.5"
    # A project with one usable version is named by it, even over every version.
    assert fmt.term("b", FULL) == "b==1.0"
    assert fmt.term("a[x]", from_specifier(">=2")) == "a[x]>=2"


def test_algebraic_ranges_print_as_runs_of_usable_versions() -> None:
    fmt = RangeFormatter(make(TABLE, []))
    gap = VersionRange.from_bounds(
        V("1.0"), V("3.0"), include_lower=False, include_upper=False, prereleases=True
    )
    assert fmt.term("a", gap) == "a>=1.5,<=2.0"
    assert fmt.term("a", exactly(V("1.0")).union(exactly(V("3.0")))) == "a==1.0 | a==3.0"
    assert fmt.term("a", from_specifier("!=1.5")) == "a==1.0 | a>=2.0"
    below = VersionRange.from_bounds(None, V("2.0"), include_upper=False, prereleases=True)
    assert fmt.term("a", below) == "a<=1.5"
    above = VersionRange.from_bounds(V("1.0"), None, include_lower=False, prereleases=True)
    assert fmt.term("a", above) == "a>=1.5"
    assert not fmt.is_any("a", above)
    # No usable version inside and no specifier: the ends of the range's intervals.
    odd = exactly(V("7")).union(exactly(V("9")))
    # (exactly() is memoized by version, and 7 == 7.0.0: compare versions, not text)
    assert [V(p.removeprefix("a==")) for p in fmt.term("a", odd).split(" | ")] == [V("7"), V("9")]
    # (2.1, +inf) holds 2.1.post1, which `>2.1` does not: no specifier set states it.
    after = VersionRange.from_bounds(V("2.1"), None, include_lower=False, prereleases=True)
    assert after.to_specifier_set() is None
    assert fmt.term("z", after) == "z>2.1"


def test_both_external() -> None:
    text = explanation({"a": {"1.0": []}}, ["a>=2"])
    assert text == (
        "Because you require a>=2 and no versions of a match >=2, "
        "we can conclude that your requirements are unsatisfiable."
    )


def test_single_external_root_fact() -> None:
    text = explanation({"a": {"1.0": []}}, ["a>=2", "a<1"])
    assert text == (
        "Because you require a>=2,<1, we can conclude that your requirements are unsatisfiable."
    )


def test_dependency_chain_collapses() -> None:
    table: Table = {
        "a": {"1.0": ["b>=2"]},
        "b": {"2.0": ["c==1"]},
        "c": {"1": [], "2": []},
    }
    text = explanation(table, ["a", "c==2"])
    assert "a==1.0 depends on b>=2 which depends on c==1" in text
    assert "a==1.0 depends on c==1" in text
    assert text.endswith(
        "you require a and c==2, we can conclude that your requirements are unsatisfiable."
    )


def test_every_version_phrase() -> None:
    table: Table = {"a": {"1.0": ["b>=2"], "2.0": ["b>=2"]}, "b": {"1.0": []}}
    text = explanation(table, ["a"])
    assert "all versions of a depend on b>=2" in text
    assert "all versions of a cannot be used" in text


def test_numbered_branches() -> None:
    table: Table = {
        "foo": {"1.0.0": ["a>=1,<2", "b>=1,<2"], "1.1.0": ["x>=1,<2", "y>=1,<2"]},
        "a": {"1.0.0": ["b>=2,<3"]},
        "b": {"1.0.0": [], "2.0.0": []},
        "x": {"1.0.0": ["y>=2,<3"]},
        "y": {"1.0.0": [], "2.0.0": []},
    }
    text = explanation(table, ["foo>=1,<2"])
    assert text.count("(1)") == 2
    assert "\n\n" in text


def test_hand_built_derivations() -> None:
    universe = make(TABLE, ["a"])
    dependency = Dependency("b", from_specifier(">=2"), ">=2")
    edge = Incompatibility.from_dependency("a", FULL, dependency)
    none = Incompatibility.no_versions("b", Term(positive=True, range=from_specifier(">=2")))
    forbidden = Incompatibility.derived(none, edge, "b")
    root_edge = Incompatibility.from_dependency(
        ROOT, exactly(ROOT_VERSION), Dependency("a", FULL, "")
    )
    final = Incompatibility.derived(root_edge, forbidden, "a")
    assert final.is_terminal(ROOT)
    text = explain(final, universe)
    assert text == (
        "Because all versions of a depend on b>=2 and no versions of b match >=2, "
        "all versions of a cannot be used.\n"
        "And because you require a, we can conclude that your requirements are unsatisfiable."
    )
    assert external_packages(final) == ("a", "b")
    unusable = Incompatibility.unavailable("a", exactly(V("2.0")), "no wheel for the target")
    assert "a==2.0 cannot be used: no wheel for the target" in explain(
        Incompatibility.derived(
            Incompatibility.from_dependency(
                ROOT, exactly(ROOT_VERSION), Dependency("a", from_specifier("==2.0"), "==2.0")
            ),
            unusable,
            "a",
        ),
        universe,
    )


def test_multi_term_conclusions() -> None:
    universe = make(TABLE, [])
    writer = _Writer(universe, Incompatibility({}, "derived"))
    three = Incompatibility(
        {
            "a": Term(positive=True, range=exactly(V("1.0"))),
            "b": Term(positive=True, range=exactly(V("1.0"))),
            "c": Term(positive=False, range=from_specifier(">=2")),
        },
        "derived",
    )
    assert writer.conclusion(three) == "a==1.0, b==1.0 and c<=1.5 are incompatible"
    # "not c, whatever its version": its complement is empty (was printed `c<0`).
    without = Incompatibility(
        {
            "a": Term(positive=True, range=exactly(V("1.0"))),
            "b": Term(positive=True, range=exactly(V("1.0"))),
            "c": Term(positive=False, range=FULL),
        },
        "derived",
    )
    assert writer.conclusion(without) == "a==1.0, b==1.0 and leaving out c are incompatible"
    two_negatives = Incompatibility(
        {"a": Term(positive=False, range=FULL), "b": Term(positive=False, range=FULL)},
        "derived",
    )
    assert writer.conclusion(two_negatives) == "leaving out a and leaving out b are incompatible"
    required = Incompatibility({"a": Term(positive=False, range=from_specifier(">=2"))}, "derived")
    assert writer.conclusion(required) == "a>=2 is required"
    against_root = Incompatibility(
        {
            ROOT: Term(positive=True, range=exactly(ROOT_VERSION)),
            "a": Term(positive=True, range=from_specifier(">=2")),
        },
        "derived",
    )
    assert writer.conclusion(against_root) == "a>=2 is incompatible with your requirements"
    assert writer.external(Incompatibility.root(ROOT, ROOT_VERSION)) == (
        "we are solving your requirements"
    )


def test_hints_name_each_reason_once() -> None:
    provider = InMemoryProvider.from_simple({"a": {f"{v}.0": [] for v in range(1, 9)}})
    universe = Universe(provider, [Requirement("a>=2")], markers=MARKERS, python_version=V("3.12"))
    # Every version but 1.0 is excluded by a constraint.
    universe = Universe(
        provider,
        [Requirement("a>=2")],
        markers=MARKERS,
        python_version=V("3.12"),
        options=Options(constraints={canonicalize_name("a"): from_specifier("<2")}),
    )
    outcome = PubGrubEngine().solve(universe)
    assert isinstance(outcome, NoSolution)
    hints = [line for line in outcome.explanation.splitlines() if line.startswith("hint:")]
    assert hints == [
        (
            "hint: a==8.0 is excluded by a constraint"
            " (and 6 older versions in that range, for the same reason)"
        )
    ]


def test_a_derivation_deeper_than_the_recursion_limit_is_explained() -> None:
    """Each failing version adds a derivation step: the report must not recurse per step.

    A project whose 400 versions each need a missing version of another is a derivation
    about 400 steps deep; under a recursion limit only a little above the current depth
    (a few hundred frames short of it), writing it recursively raised RecursionError.
    """
    count = 400
    table: Table = {"a": {f"{i}.0": [f"c=={i}.0"] for i in range(1, count + 1)}, "c": {"0.5": []}}
    outcome = PubGrubEngine().solve(make(table, ["a"]))
    assert isinstance(outcome, NoSolution)
    universe = make(table, ["a"])
    root = _unsolvable_root(table)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 100)
    try:
        text = explain(root, universe)
    finally:
        sys.setrecursionlimit(limit)
    assert text == outcome.explanation
    assert "a==400.0 depends on c==400.0" in text
    assert text.endswith("we can conclude that your requirements are unsatisfiable.")


def _unsolvable_root(table: Table) -> Incompatibility:
    """Return the terminal incompatibility of PubGrub's failed search over ``table``."""
    from resolvent.solver._internal.core import SolverState, Unsolvable  # noqa: PLC0415

    try:
        SolverState(make(table, ["a"])).solve()
    except Unsolvable as failure:
        return failure.incompatibility
    raise AssertionError("the search was expected to fail")
