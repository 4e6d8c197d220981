"""The partial solution's shortcuts answer as the plain definitions do.

``PartialSolution.relation`` may look at the changed package's term last, and
``PartialSolution.satisfier`` bounds its searches and skips the previous satisfier's
search when another package already reaches the satisfier's level. Here both are
compared, on random partial solutions, with straightforward linear definitions.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import pytest

from resolvent.solver._internal.incompatibility import Incompatibility
from resolvent.solver._internal.partial_solution import PartialSolution
from resolvent.solver._internal.term import Relation, Term, reset_memo
from resolvent.solver.ranges import from_specifier
from tests.support.partial_solutions import PACKAGES, random_solution, random_term

if TYPE_CHECKING:
    from resolvent.solver._internal.partial_solution import Assignment

_CAUSE = Incompatibility({}, "derived")


def _random_solution(rng: random.Random) -> PartialSolution:
    return random_solution(rng, steps=(1, 18), decide=0.35, cause=lambda *_: _CAUSE)


def _satisfied_incompatibility(
    rng: random.Random, solution: PartialSolution
) -> Incompatibility | None:
    """Return an incompatibility the solution satisfies: its terms are loosened knowns."""
    assigned = [p for p in PACKAGES if solution._by_package.get(p)]
    if not assigned:
        return None
    chosen = rng.sample(assigned, rng.randint(1, len(assigned)))
    terms = {}
    for package in chosen:
        known = solution.term(package)
        terms[package] = known.union(random_term(rng)) if rng.random() < 0.7 else known
    return Incompatibility(terms, "derived")


def _first(assignments: list[Assignment], holds: object) -> Assignment:
    for assignment in assignments:
        if holds(assignment):  # type: ignore[operator]
            return assignment
    raise AssertionError("not satisfied")


def _reference_previous_level(
    solution: PartialSolution, incompatibility: Incompatibility
) -> tuple[Assignment, int]:
    """The satisfier and the backjump level, by linear scans and explicit intersections."""
    by_package = solution._by_package
    found = {
        package: _first(by_package[package], lambda a, t=term: a.accumulated.satisfies(t))
        for package, term in incompatibility.terms.items()
    }
    best = max(found.values(), key=lambda a: a.index)
    term = incompatibility.terms[best.package]
    found[best.package] = _first(
        by_package[best.package],
        lambda a: a.accumulated.intersection(best.term).satisfies(term),
    )
    previous = max(a.index for a in found.values())
    return best, max(solution._trail[previous].level, 1)


@pytest.mark.parametrize("seed", range(40))
def test_satisfier_agrees_with_linear_scans(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - test data
    for _ in range(25):
        solution = _random_solution(rng)
        incompatibility = _satisfied_incompatibility(rng, solution)
        if incompatibility is None:
            continue
        assert solution.relation(incompatibility)[0] is Relation.SATISFIED
        best, level = _reference_previous_level(solution, incompatibility)
        found = solution.satisfier(incompatibility)
        assert found.assignment is best
        assert found.previous_level == level
    reset_memo()


@pytest.mark.parametrize("seed", range(40))
def test_relation_with_the_changed_package_last_acts_alike(seed: int) -> None:
    rng = random.Random(1000 + seed)  # noqa: S311 - test data
    quiet = {Relation.CONTRADICTED, Relation.INCONCLUSIVE}
    for _ in range(25):
        solution = _random_solution(rng)
        chosen = rng.sample(PACKAGES, rng.randint(1, 3))
        incompatibility = Incompatibility({p: random_term(rng) for p in chosen}, "derived")
        plain = solution.relation(incompatibility)
        for changed in chosen:
            ordered = solution.relation(incompatibility, changed)
            if plain[0] is Relation.SATISFIED or plain[1] is not None:
                assert ordered == plain  # a conflict or a unit: the very same answer
            else:  # neither propagates, whichever of the two is reported
                assert ordered[0] in quiet
                assert ordered[1] is None
    reset_memo()


def test_a_two_term_incompatibility_related_from_another_package_is_walked() -> None:
    """``changed`` outside the incompatibility: the general walk's answer, not a guess."""
    solution = PartialSolution()
    solution.add_derivation("a", Term(positive=True, range=from_specifier(">=1")), _CAUSE)
    solution.add_derivation("z", Term(positive=True, range=from_specifier("<1")), _CAUSE)
    edge = Incompatibility(
        {
            "a": Term(positive=True, range=from_specifier(">=1")),
            "b": Term(positive=False, range=from_specifier(">=2")),
        },
        "derived",
    )
    assert edge.pair is not None
    assert solution.relate(edge, "z") == solution.relate(edge) == (Relation.INCONCLUSIVE, "b")
