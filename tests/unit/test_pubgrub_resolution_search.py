"""Conflict resolution's narrowed searches and propagation's kept contradictions are exact.

``PartialSolution.note_resolution`` remembers where the terms of a resolution step's
result first hold without searching all of a package's assignments, and the core keeps
an incompatibility found contradicted across backjumps that leave the contradicting
assignment in place. Both are compared here with straightforward definitions: a linear
scan of the assignments, and a fresh relation of every skipped incompatibility.
"""

from __future__ import annotations

import random

import pytest
from packaging.version import Version

from bench.universes import layered
from resolvent.solver._internal.core import SolverState
from resolvent.solver._internal.incompatibility import Incompatibility
from resolvent.solver._internal.partial_solution import Assignment, PartialSolution
from resolvent.solver._internal.term import Relation, Term, reset_memo
from resolvent.solver.ranges import from_specifier

_PACKAGES = ("a", "b", "c", "d")


def _random_term(rng: random.Random) -> Term:
    low = rng.randint(0, 8)
    high = rng.randint(low + 1, 10)
    shape = rng.choice([f">={low}", f"<{high}", f">={low},<{high}", f"!={low}", f"=={low}"])
    return Term(positive=rng.random() < 0.6, range=from_specifier(shape))


def _random_solution(rng: random.Random) -> PartialSolution:
    """Return a partial solution whose derivations have causes of the right shape.

    Each derivation's cause holds the derived term negated and, on another package,
    a term the solution implied when it was derived, as unit propagation leaves them.
    """
    solution = PartialSolution()
    for _ in range(rng.randint(2, 24)):
        package = rng.choice(_PACKAGES)
        known = solution.term(package)
        if rng.random() < 0.3 and known.positive and package not in solution.decisions():
            for version in range(10):
                if known.contains(Version(str(version))):
                    solution.add_decision(package, Version(str(version)))
                    break
            continue
        term = _random_term(rng)
        terms = {package: term.negate()}
        others = [p for p in _PACKAGES if p != package and solution._by_package.get(p)]
        if others:
            other = rng.choice(others)
            terms[other] = solution.term(other).union(_random_term(rng))
        solution.add_derivation(package, term, Incompatibility(terms, "derived"))
    return solution


def _first(assignments: list[Assignment], term: Term) -> Assignment:
    for assignment in assignments:
        if assignment.accumulated.satisfies(term):
            return assignment
    raise AssertionError("no assignment implies the term")


@pytest.mark.parametrize("seed", range(60))
def test_remembered_first_satisfiers_of_a_resolution_step_are_the_linear_ones(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - test data
    checked = 0
    for _ in range(40):
        solution = _random_solution(rng)
        assigned = [p for p in _PACKAGES if solution._by_package.get(p)]
        chosen = rng.sample(assigned, rng.randint(1, len(assigned)))
        terms = {}
        for package in chosen:
            known = solution.term(package)
            terms[package] = known.union(_random_term(rng)) if rng.random() < 0.7 else known
        incompatibility = Incompatibility(terms, "derived")
        satisfier = solution.satisfier(incompatibility).assignment
        if satisfier.cause is None:
            continue
        derived = Incompatibility.derived(incompatibility, satisfier.cause, satisfier.package)
        memo: dict[tuple[str, int], tuple[Term, Assignment]] = {}
        solution.note_resolution(incompatibility, satisfier, derived, memo)
        for (package, _), (term, found) in memo.items():
            assert found is _first(solution._by_package[package], term)
            checked += 1
        # And the satisfier found with those entries is the one found without them.
        if derived.terms:
            fresh = solution.satisfier(derived)
            remembered = solution.satisfier(derived, memo)
            assert remembered.assignment is fresh.assignment
            assert remembered.previous_level == fresh.previous_level
    assert checked > 0
    reset_memo()


@pytest.mark.parametrize("seed", range(40))
def test_a_named_contradiction_is_a_contradicted_term(seed: int) -> None:
    rng = random.Random(500 + seed)  # noqa: S311 - test data
    for _ in range(25):
        solution = _random_solution(rng)
        chosen = rng.sample(_PACKAGES, rng.randint(1, 3))
        incompatibility = Incompatibility({p: _random_term(rng) for p in chosen}, "derived")
        for changed in (None, *chosen):
            relation, package = solution.relate(incompatibility, changed)
            plain = solution.relation(incompatibility, changed)
            assert plain[0] is relation
            if relation is Relation.CONTRADICTED:
                assert plain[1] is None
                assert package is not None
                term = incompatibility.terms[package]
                assert solution.term(package).relation(term) is Relation.CONTRADICTED
                level = solution.contradiction_level(package)
                assert all(a.level <= level for a in solution._by_package.get(package, []))
            else:
                assert plain[1] == package
    reset_memo()


class _Checked(SolverState):
    """A search that checks, before every decision, what propagation skips."""

    checked = 0

    def _decide(self) -> str | None:
        solution = self.solution
        level = solution.level
        at = self._contradicted_at
        assert sum(len(entries) for entries in at) == len(self._contradicted)
        for filed, entries in enumerate(at):
            assert filed <= level
            for incompatibility in entries:
                assert incompatibility in self._contradicted
                relation, _ = solution.relate(incompatibility)
                assert relation is Relation.CONTRADICTED, incompatibility
                self.checked += 1
        return super()._decide()


@pytest.mark.parametrize("seed", range(6))
def test_every_skipped_incompatibility_is_contradicted(seed: int) -> None:
    universe = layered(packages=40, versions=10, seed=seed).universe()
    state = _Checked(universe)
    try:
        state.solve()
    finally:
        reset_memo()
    assert state.conflicts > 0
    assert state.checked > 0
