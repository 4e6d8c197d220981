"""Random partial solutions for PubGrub's property tests (shared by several test files)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.version import Version

from resolvent.solver._internal.partial_solution import PartialSolution
from resolvent.solver._internal.term import Term
from resolvent.solver.ranges import from_specifier

if TYPE_CHECKING:
    import random
    from collections.abc import Callable

    from resolvent.solver._internal.incompatibility import Incompatibility

__all__ = ["PACKAGES", "random_solution", "random_term"]

#: The packages the random solutions assign.
PACKAGES = ("a", "b", "c", "d")


def random_term(rng: random.Random) -> Term:
    """Return a term over versions 0-10 of a common shape, positive or negative."""
    low = rng.randint(0, 8)
    high = rng.randint(low + 1, 10)
    shape = rng.choice([f">={low}", f"<{high}", f">={low},<{high}", f"!={low}", f"=={low}"])
    return Term(positive=rng.random() < 0.6, range=from_specifier(shape))


def random_solution(
    rng: random.Random,
    *,
    steps: tuple[int, int],
    decide: float,
    cause: Callable[[PartialSolution, str, Term], Incompatibility],
) -> PartialSolution:
    """Return a partial solution of random decisions and derivations.

    ``steps`` bounds the number of assignments tried, ``decide`` is the chance of a
    decision (of the first version a package's term admits), and ``cause`` gives each
    derivation of a term on a package its incompatibility.
    """
    solution = PartialSolution()
    for _ in range(rng.randint(*steps)):
        package = rng.choice(PACKAGES)
        known = solution.term(package)
        if rng.random() < decide and known.positive and package not in solution.decisions():
            for version in range(10):
                if known.contains(Version(str(version))):
                    solution.add_decision(package, Version(str(version)))
                    break
            continue
        term = random_term(rng)
        solution.add_derivation(package, term, cause(solution, package, term))
    return solution
