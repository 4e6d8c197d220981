"""Conflict resolution's narrowed searches and propagation's kept contradictions are exact.

``PartialSolution.note_resolution`` remembers where the terms of a resolution step's
result first hold without searching all of a package's assignments, and the core keeps
an incompatibility found contradicted across backjumps that leave the contradicting
assignment in place. Both are compared here with straightforward definitions: a linear
scan of the assignments, and a fresh relation of every skipped incompatibility.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import pytest

from bench.universes import layered
from resolvent.solver._internal.core import SolverState
from resolvent.solver._internal.incompatibility import Incompatibility
from resolvent.solver._internal.term import Relation, Term, reset_memo
from tests.support.partial_solutions import PACKAGES, random_solution, random_term

if TYPE_CHECKING:
    from resolvent.solver._internal.partial_solution import Assignment, PartialSolution


def _random_solution(rng: random.Random) -> PartialSolution:
    """Return a partial solution whose derivations have causes of the right shape.

    Each derivation's cause holds the derived term negated and, on another package,
    a term the solution implied when it was derived, as unit propagation leaves them.
    """

    def cause(solution: PartialSolution, package: str, term: Term) -> Incompatibility:
        terms = {package: term.negate()}
        others = [p for p in PACKAGES if p != package and solution._by_package.get(p)]
        if others:
            other = rng.choice(others)
            terms[other] = solution.term(other).union(random_term(rng))
        return Incompatibility(terms, "derived")

    return random_solution(rng, steps=(2, 24), decide=0.3, cause=cause)


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
        assigned = [p for p in PACKAGES if solution._by_package.get(p)]
        chosen = rng.sample(assigned, rng.randint(1, len(assigned)))
        terms = {}
        for package in chosen:
            known = solution.term(package)
            terms[package] = known.union(random_term(rng)) if rng.random() < 0.7 else known
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
        chosen = rng.sample(PACKAGES, rng.randint(1, 3))
        incompatibility = Incompatibility({p: random_term(rng) for p in chosen}, "derived")
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
