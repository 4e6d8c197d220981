"""Unit propagation from edge views gives the very derivations and conflicts of ``relate``.

``SolverState._propagate`` relates a two-term incompatibility from the view filed with
it (its term on the changed package first, the other term only when the first is not
false) instead of calling ``PartialSolution.relate``. The reference below is the
propagation as it was written before, one ``relate`` per incompatibility: both must
derive the same terms from the same causes, meet the same conflicts, and end alike,
in the same order, on random and layered universes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings

from bench.universes import layered
from resolvent.solver._internal.core import SolverState, Unsolvable
from resolvent.solver._internal.incompatibility import Incompatibility
from resolvent.solver._internal.partial_solution import PartialSolution
from resolvent.solver._internal.term import ANY, Relation, Term, reset_memo
from resolvent.solver.ranges import from_specifier
from resolvent.solver.result import BudgetExceeded
from tests.property.strategies import DETERMINISTIC, RandomUniverse, universes

if TYPE_CHECKING:
    from resolvent.solver.universe import Universe

_BUDGET = 200_000


class _LoggedSolution(PartialSolution):
    """A partial solution that logs its derivations and counts ``relate`` calls."""

    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log
        self.relate_calls = 0

    def add_derivation(self, package: str, term: Term, cause: Incompatibility) -> None:
        self.log.append(f"derive {package} {term!r} @{self.level} from {cause!r}")
        super().add_derivation(package, term, cause)

    def relate(
        self, incompatibility: Incompatibility, changed: str | None = None
    ) -> tuple[Relation, str | None]:
        self.relate_calls += 1
        return super().relate(incompatibility, changed)


class _Logged(SolverState):
    """A search that logs every derivation and every conflict, in order."""

    def __init__(self, universe: Universe) -> None:
        super().__init__(universe, budget=_BUDGET)
        self.log: list[str] = []
        self.solution = self.logged = _LoggedSolution(self.log)

    def _resolve_conflict(
        self, incompatibility: Incompatibility, affected: str | None
    ) -> tuple[Incompatibility, str]:
        self.log.append(f"conflict {incompatibility!r}")
        return super()._resolve_conflict(incompatibility, affected)

    def outcome(self) -> list[str]:
        """Solve; return the log, the counts and the result (or the reason there is none)."""
        try:
            end = repr(sorted(self.solve().items()))
        except Unsolvable as error:
            end = f"unsolvable {error.incompatibility!r}"
        except BudgetExceeded:
            end = "budget"
        return [*self.log, f"{self.decisions} {self.conflicts} {self.steps}", end]


class _Reference(_Logged):
    """Propagation as written before edge views: one ``relate`` per incompatibility."""

    def _propagate(self, changed: dict[str, None], *, affected: str | None) -> None:
        solution = self.solution
        contradicted = self._contradicted
        at = self._contradicted_at
        while len(at) <= solution.level:
            at.append([])
        while changed:
            current = next(reversed(changed))
            del changed[current]
            bucket = self._incompatibilities.get(current)
            if not bucket:
                continue
            for incompatibility in reversed(bucket):
                if incompatibility in contradicted:
                    continue
                relation, package = solution.relate(incompatibility, current)
                if relation is Relation.SATISFIED:
                    # The conflict branch, moved into ``_conflict`` word for word.
                    self._conflict(incompatibility, affected, changed)
                    break
                if relation is Relation.CONTRADICTED:
                    assert package is not None
                    contradicted[incompatibility] = None
                    at[solution.contradiction_level(package)].append(incompatibility)
                elif package is not None:
                    term = incompatibility.terms[package]
                    solution.add_derivation(package, term.negate(), incompatibility)
                    contradicted[incompatibility] = None
                    at[solution.level].append(incompatibility)
                    changed[package] = None
                    self._enqueue(package)


def _compare(build: object) -> _Logged:
    """Run both propagations on fresh copies of one universe; return the new search."""
    reset_memo()
    reference = _Reference(build()).outcome()  # type: ignore[operator]
    reset_memo()
    state = _Logged(build())  # type: ignore[operator]
    assert state.outcome() == reference
    reset_memo()
    return state


@settings(DETERMINISTIC, max_examples=200)
@given(universes(max_packages=6, max_versions=5, max_requires=3))
def test_views_propagate_as_relate_on_random_universes(problem: RandomUniverse) -> None:
    _compare(problem.build)


@pytest.mark.parametrize("seed", range(8))
def test_views_propagate_as_relate_on_layered_universes(seed: int) -> None:
    synthetic = layered(packages=60, versions=8, seed=seed)
    state = _compare(synthetic.universe)
    assert state.conflicts > 0  # backjumps were exercised


def test_dependency_edges_are_related_without_relate() -> None:
    """Only incompatibilities of other sizes than two still go through ``relate``."""
    state = _compare(layered(packages=40, versions=6, seed=3).universe)
    others = sum(
        1
        for bucket in state._incompatibilities.values()
        for incompatibility in bucket
        if incompatibility.pair is None
    )
    assert state.decisions > 100
    assert state.conflicts > 0
    # The reference relates ~1,200 incompatibilities here, all but one of them edges.
    assert state.logged.relate_calls <= others
    for bucket in state._incompatibilities.values():
        for incompatibility, view in bucket.items():
            if incompatibility.pair is None:
                assert view is None
            else:
                own, other, theirs = view  # type: ignore[misc]
                assert incompatibility.terms[other] is theirs
                assert own in incompatibility.terms.values()
                assert own is not theirs or len(set(incompatibility.terms)) == 2


def test_relation_memo_is_the_table_relation_fills() -> None:
    known = Term(positive=True, range=from_specifier(">=1,<2"))
    term = Term(positive=False, range=from_specifier(">=3"))
    memo = known.relation_memo()
    assert term._class is None or term._class not in memo
    assert known.relation(term) is Relation.SATISFIED
    assert term._class is not None
    assert memo[term._class] is Relation.SATISFIED
    assert ANY.relation_memo() is ANY.relation_memo()
    reset_memo()


def _mid_visit_trail(kind: type[SolverState]) -> list[tuple[str, str]]:
    state = kind(layered(packages=4, versions=2, seed=0).universe())

    def term(positive: bool, specifier: str) -> Term:
        return Term(positive=positive, range=from_specifier(specifier))

    solution = state.solution
    for package, known in (("a", term(True, ">=0")), ("b", term(True, "==1.5"))):
        solution.add_derivation(
            package, known, Incompatibility({package: known.negate()}, "derived")
        )
    # Oldest first; visited newest first. The newest derives on ``a`` itself, after which
    # the middle one holds on ``a`` and derives on ``c``, before the oldest derives on ``d``.
    for terms in (
        {"a": term(True, ">=0"), "d": term(True, ">=1")},
        {"a": term(True, "<3"), "c": term(True, ">=1")},
        {"a": term(True, ">=2"), "b": term(True, ">=1")},
    ):
        state._add(Incompatibility(terms, "derived"))
    state._propagate({"a": None}, affected=None)
    reset_memo()
    return [(a.package, repr(a.term)) for a in solution._trail]


def test_a_derivation_on_the_visited_package_is_seen_by_its_later_edges() -> None:
    """The changed package's known term is renewed after a derivation on it mid-visit."""
    trail = _mid_visit_trail(SolverState)
    assert [package for package, _ in trail] == ["a", "b", "a", "c", "d"]
    assert trail == _mid_visit_trail(_Reference)
