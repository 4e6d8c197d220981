"""The partial solution is the ordered list of assignments PubGrub has made so far.

An assignment is a decision (a version chosen for a package) or a derivation (a term
implied by an incompatibility, its cause), stamped with the decision level it was made
at. The partial solution keeps them per package with their running intersection, so the
questions of unit propagation and conflict resolution ("what is known of this
package?", "which assignment first satisfied this incompatibility?") cost one lookup or
one scan of that package's own assignments (``pubgrub-rs/pubgrub:
src/internal/partial_solution.rs``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from resolvent.solver.ranges import exactly

from .term import ANY, Relation, Term, shared_term

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from packaging.version import Version

    from .incompatibility import Incompatibility

__all__ = ["Assignment", "PartialSolution", "Satisfier"]

_SATISFIED = Relation.SATISFIED
_CONTRADICTED = Relation.CONTRADICTED
_INCONCLUSIVE = Relation.INCONCLUSIVE


def _relate(accumulated: Term | None, term: Term) -> Relation:
    """Return how what is known of a package (``None``: nothing) bears on one of its terms.

    :meth:`Term.relation`'s memo is read here first: most answers are remembered, and
    unit propagation asks this for every term of every incompatibility it visits.
    """
    if accumulated is None:
        # Nothing known is ``ANY`` (no version excluded, none required): its answers are
        # remembered like any term's, where the range's emptiness is a property to
        # compute each time (a third of the calls of a warm airflow search).
        accumulated = ANY
    mine = accumulated._class  # noqa: SLF001
    theirs = term._class  # noqa: SLF001
    if mine is not None and theirs is not None:
        hit = mine.memo.get(theirs)
        if hit is not None:
            return hit
    return accumulated.relation(term)


class Assignment:
    """One step of the partial solution: a decision or a derivation.

    ``cause`` is ``None`` for a decision. ``accumulated`` is the intersection of this
    package's assignments up to and including this one; ``index`` is the global order
    and ``position`` the order among the package's own assignments.
    """

    __slots__ = ("accumulated", "cause", "index", "level", "package", "position", "term")

    def __init__(  # noqa: PLR0917 - built in one hot place, positionally
        self,
        package: str,
        term: Term,
        level: int,
        index: int,
        cause: Incompatibility | None,
        accumulated: Term,
        position: int = 0,
    ) -> None:
        self.package = package
        self.term = term
        self.level = level
        self.index = index
        self.cause = cause
        self.accumulated = accumulated
        self.position = position

    @property
    def is_decision(self) -> bool:
        """Return whether this assignment is a decision."""
        return self.cause is None

    def __repr__(self) -> str:
        kind = "decision" if self.cause is None else "derivation"
        return f"<Assignment #{self.index} {kind} {self.package} {self.term!r} @{self.level}>"


class Satisfier:
    """What conflict resolution needs to know about where an incompatibility became true.

    ``assignment`` is the satisfier, ``term`` the incompatibility's term on its package,
    and ``previous_level`` the decision level to backjump to (never below 1).
    """

    __slots__ = ("assignment", "previous_level", "term")

    def __init__(self, assignment: Assignment, term: Term, previous_level: int) -> None:
        self.assignment = assignment
        self.term = term
        self.previous_level = previous_level


class PartialSolution:
    """Assignments with decision levels, indexed by package.

    Example::

        solution = PartialSolution()
        solution.add_derivation("a", Term(positive=True, range=r), cause)
        solution.add_decision("a", Version("1.0"))
        solution.term("a")  # the intersection of everything known about "a"
    """

    __slots__ = ("_by_package", "_decisions", "_known", "_pending", "_trail", "level")

    def __init__(self) -> None:
        self.level = 0
        self._by_package: dict[str, list[Assignment]] = {}
        # The running intersection of each package's assignments (its last one's
        # ``accumulated``), the question unit propagation asks most: one lookup.
        self._known: dict[str, Term] = {}
        self._trail: list[Assignment] = []
        self._decisions: dict[str, Version] = {}
        # Packages with a positive term and no decision: the candidates for deciding.
        self._pending: dict[str, None] = {}

    # -- reading ---------------------------------------------------------------------

    def term(self, package: str) -> Term:
        """Return the intersection of every assignment to ``package`` (``ANY`` if none)."""
        return self._known.get(package, ANY)

    def decisions(self) -> dict[str, Version]:
        """Return the chosen version of every decided package, in decision order."""
        return dict(self._decisions)

    def tables(self) -> tuple[Mapping[str, None], Mapping[str, Term]]:
        """Return the pending packages and every package's running intersection, to read.

        For a loop over hundreds of packages (the decision queue's upkeep after a
        backjump), where two method calls per package cost more than the work.
        """
        return self._pending, self._known

    def pending(self) -> Iterator[str]:
        """Yield the packages that must be chosen but are not decided yet."""
        return iter(self._pending)

    def decision_level(self, package: str) -> int | None:
        """Return the decision level at which ``package`` was decided (``None``: undecided)."""
        if package not in self._decisions:
            return None
        for assignment in reversed(self._by_package[package]):
            if assignment.cause is None:
                return assignment.level
        return None

    def last_decided(self) -> str | None:
        """Return the package of the latest decision (``None`` before the first)."""
        return next(reversed(self._decisions), None)

    def is_pending(self, package: str) -> bool:
        """Return whether ``package`` must be chosen but is not decided yet."""
        return package in self._pending

    def relation(
        self, incompatibility: Incompatibility, changed: str | None = None
    ) -> tuple[Relation, str | None]:
        """Return how the partial solution bears on an incompatibility.

        As :meth:`relate`, but a contradiction names no package.
        """
        relation, package = self.relate(incompatibility, changed)
        return relation, None if relation is _CONTRADICTED else package

    def contradiction_level(self, package: str) -> int:
        """Return the level of the latest assignment to ``package`` (0 without one).

        A term of ``package`` that its running intersection contradicts stays
        contradicted until a backjump below that level, whatever happens above it.
        """
        assignments = self._by_package.get(package)
        return assignments[-1].level if assignments else 0

    def relate(
        self, incompatibility: Incompatibility, changed: str | None = None
    ) -> tuple[Relation, str | None]:
        """Return how the partial solution bears on an incompatibility.

        ``(SATISFIED, None)``: every term holds, a conflict. ``(CONTRADICTED, package)``:
        the term on ``package`` is false (see :meth:`contradiction_level`).
        ``(INCONCLUSIVE, package)``: every term but the one on ``package`` holds (an
        "almost satisfied" incompatibility, ready to propagate).
        ``(INCONCLUSIVE, None)``: two or more terms are undecided, or one is and
        another is false.

        ``changed``, when given, names the package whose assignments just changed; its
        term is looked at last. Unit propagation visits every incompatibility of that
        package, and its new running intersection has met few of their terms before,
        so relating it is usually a fresh ``VersionRange`` computation; the other
        terms' answers are mostly remembered, and two undecided or one false among
        them settle the question without it. (Which of "false" and "undecided" is
        reported when both occur does not matter to the caller: neither propagates.)
        """
        known = self._known
        pair = incompatibility.pair
        if pair is not None and changed is not None:
            # Most incompatibilities are dependency edges of two terms: related without
            # the walk below, the same answers (``changed`` is one of the two packages:
            # unit propagation visits the incompatibilities of the package it changed).
            (first, first_term), (second, second_term) = pair
            if first == changed:
                other, theirs, own = second, second_term, first_term
            elif second == changed:
                other, theirs, own = first, first_term, second_term
            else:
                return self.relate(incompatibility)
            rel = _relate(known.get(other), theirs)
            if rel is _CONTRADICTED:
                return _CONTRADICTED, other
            mine = _relate(known.get(changed), own)
            if mine is _CONTRADICTED:
                return _CONTRADICTED, changed
            if mine is _SATISFIED:
                return (_SATISFIED, None) if rel is _SATISFIED else (_INCONCLUSIVE, other)
            return (_INCONCLUSIVE, changed) if rel is _SATISFIED else (_INCONCLUSIVE, None)
        unsatisfied: str | None = None
        last: Term | None = None
        for package, term in incompatibility.terms.items():
            if package == changed:
                last = term
                continue
            rel = _relate(known.get(package), term)
            if rel is _SATISFIED:
                continue
            if rel is _CONTRADICTED:
                return _CONTRADICTED, package
            if unsatisfied is not None:
                return _INCONCLUSIVE, None
            unsatisfied = package
        if last is not None:
            rel = _relate(known.get(changed), last)  # type: ignore[arg-type]
            if rel is _CONTRADICTED:
                return _CONTRADICTED, changed
            if rel is not _SATISFIED:
                if unsatisfied is not None:
                    return _INCONCLUSIVE, None
                unsatisfied = changed
        if unsatisfied is None:
            return _SATISFIED, None
        return _INCONCLUSIVE, unsatisfied

    # -- writing -----------------------------------------------------------------------

    def add_decision(self, package: str, version: Version) -> None:
        """Choose ``version`` for ``package`` at a new decision level."""
        self.level += 1
        self._decisions[package] = version
        self._pending.pop(package, None)
        # Shared objects (``exactly`` is memoized): the term algebra's memo tables are keyed
        # by identity, and backjumps make the search decide the same versions again.
        accumulated = self._push(package, shared_term(True, exactly(version)), None)  # noqa: FBT003
        if not accumulated.range.is_empty:
            accumulated.single = version

    def add_derivation(self, package: str, term: Term, cause: Incompatibility) -> None:
        """Record that ``term`` follows from ``cause`` at the current decision level."""
        accumulated = self._push(package, term, cause)
        if accumulated.positive and package not in self._decisions:
            self._pending[package] = None

    def _push(self, package: str, term: Term, cause: Incompatibility | None) -> Term:
        assignments = self._by_package.get(package)
        if assignments is None:
            assignments = self._by_package[package] = []
            accumulated = term
        else:
            accumulated = assignments[-1].accumulated.intersection(term)
        assignment = Assignment(
            package, term, self.level, len(self._trail), cause, accumulated, len(assignments)
        )
        assignments.append(assignment)
        self._trail.append(assignment)
        self._known[package] = accumulated
        return accumulated

    def backtrack(self, level: int) -> list[str]:
        """Remove every assignment made at a decision level above ``level``.

        Returns the packages whose assignments changed, in a stable order.
        """
        trail = self._trail
        by_package = self._by_package
        touched: dict[str, None] = {}
        while trail and trail[-1].level > level:
            assignment = trail.pop()
            package = assignment.package
            assignments = by_package[package]
            assignments.pop()
            if not assignments:
                del by_package[package]
            if assignment.cause is None:
                del self._decisions[package]
            touched[package] = None
        known = self._known
        for package in touched:
            remaining = by_package.get(package)
            if remaining:
                known[package] = remaining[-1].accumulated
            else:
                del known[package]
            if remaining and remaining[-1].accumulated.positive:
                if package not in self._decisions:
                    self._pending[package] = None
            else:
                self._pending.pop(package, None)
        self.level = level
        return list(touched)

    # -- conflict resolution -----------------------------------------------------------------

    def satisfier(
        self,
        incompatibility: Incompatibility,
        memo: dict[tuple[str, int], tuple[Term, Assignment]] | None = None,
    ) -> Satisfier:
        """Find the assignment that made a satisfied incompatibility true, and the backjump level.

        The satisfier is the earliest assignment such that the incompatibility holds on
        the partial solution up to and including it. The previous satisfier is the
        earliest assignment before it such that the incompatibility holds on the partial
        solution up to it plus the satisfier; its level (at least 1) is where to backjump.

        ``memo`` carries the first satisfying assignment of each (package, term) from one
        call to the next while the partial solution stays unchanged: the steps of one
        conflict resolution derive incompatibilities that keep most of their
        predecessor's terms (the very same term objects), and each search over a
        package's assignments costs a few relation tests.
        """
        by_package = self._by_package
        if memo is None:
            memo = {}
        best: Assignment | None = None
        others = -1  # the latest of the other packages' first satisfying assignments
        for package, term in incompatibility.terms.items():
            assignments = by_package[package]
            assignment = _first_satisfying_memo(
                assignments, package, term, memo, len(assignments) - 1
            )
            if best is None:
                best = assignment
            elif assignment.index > best.index:
                others = best.index
                best = assignment
            elif assignment.index > others:
                others = assignment.index
        assert best is not None, "an incompatibility without terms has no satisfier"
        package = best.package
        term = incompatibility.terms[package]
        trail = self._trail
        # Only the previous satisfier's level is asked for. The satisfier's own package
        # cannot raise it above the satisfier's level, so when another package already
        # reaches that level (the common case while a conflict is resolved through the
        # derivations of one level) the search below, and its union, are not needed.
        if best.cause is not None and others >= 0 and trail[others].level == best.level:
            return Satisfier(best, term, max(best.level, 1))
        # "Known, together with the satisfier's term, implies term" is "known implies
        # term or not the satisfier's term": one union here instead of an intersection
        # per probe of the search (terms are exact sets of outcomes, "none" included).
        # The assignment before the satisfier implies it: known there, together with
        # the satisfier's term, is known at the satisfier, which implies the term.
        own = _first_satisfying_memo(
            by_package[package],
            package,
            term.union(best.term.negate()),
            memo,
            max(best.position - 1, 0),
        )
        level = trail[max(others, own.index)].level
        return Satisfier(best, term, max(level, 1))

    def note_resolution(
        self,
        incompatibility: Incompatibility,
        satisfier: Assignment,
        derived: Incompatibility,
        memo: dict[tuple[str, int], tuple[Term, Assignment]],
    ) -> None:
        """Remember where the new terms of a resolution step first hold, searching less.

        ``derived`` resolves the satisfied ``incompatibility`` with ``satisfier``'s
        cause on the satisfier's package; the next :meth:`satisfier` call needs the
        first assignment implying each of its terms, and each new term is a new range
        whose relations nobody has asked before (on layered seed 20 those searches were
        a third of the ``VersionRange`` relations the whole search computed). Two
        facts narrow them, each exact:

        - On a package both incompatibilities name, the new term is the intersection of
          theirs. A running intersection implies an intersection of terms exactly when
          it implies each of them, and both properties are monotone along the
          package's assignments, so the answer is the later of the two terms' first
          ones, which are usually remembered (the terms recur) or found through
          relations remembered across conflicts.
        - On the satisfier's package the new term is the union of the incompatibility's
          term ``t`` and the cause's, the satisfier's own term negated. The assignment
          before the satisfier implies it (what it knew, narrowed by the satisfier's
          term, implied ``t``), so only the assignments up to that one are searched,
          not all of the package's: the satisfier usually lies deep in a long run of
          derivations on its package at the conflict's level.
        """
        cause = satisfier.cause
        assert cause is not None, "only a derivation is resolved with its cause"
        by_package = self._by_package
        resolved = satisfier.package
        before = incompatibility.terms
        for name, term in cause.terms.items():
            combined = derived.terms.get(name)
            if combined is None or memo.get((name, id(combined)), (None,))[0] is combined:
                continue
            assignments = by_package[name]
            if name == resolved:
                if satisfier.position > 0:
                    found = _first_satisfying(assignments, combined, satisfier.position - 1)
                    memo[name, id(combined)] = (combined, found)
                continue
            mine = before.get(name)
            if mine is None or combined is mine or combined is term:
                continue
            high = len(assignments) - 1
            first = _first_satisfying_memo(assignments, name, mine, memo, high)
            second = _first_satisfying_memo(assignments, name, term, memo, high)
            later = first if first.position >= second.position else second
            memo[name, id(combined)] = (combined, later)


def _first_satisfying_memo(
    assignments: list[Assignment],
    package: str,
    term: Term,
    memo: dict[tuple[str, int], tuple[Term, Assignment]],
    high: int,
) -> Assignment:
    """Return :func:`_first_satisfying`, remembered per package and term object.

    The term is kept in the entry, so a recycled id never matches another term. The
    answer does not depend on ``high`` (any position known to imply the term).
    """
    key = (package, id(term))
    hit = memo.get(key)
    if hit is not None and hit[0] is term:
        return hit[1]
    found = _first_satisfying(assignments, term, high)
    memo[key] = (term, found)
    return found


def _first_satisfying(assignments: list[Assignment], term: Term, high: int) -> Assignment:
    """Return the first assignment whose running intersection implies ``term``.

    The caller knows one that does, at position ``high``: for a term of a satisfied
    incompatibility that is the package's last assignment, and for the previous
    satisfier's search the one before the satisfier. It is not tested again: a third of the
    relations the search computed were that check, each a fresh ``VersionRange``
    question for a term the conflict had just derived.

    Running intersections only narrow along the list, so "implies ``term``" is monotone
    and a binary search finds the first one.
    """
    low = 0
    while low < high:
        middle = (low + high) // 2
        if assignments[middle].accumulated.relation(term) is _SATISFIED:
            high = middle
        else:
            low = middle + 1
    return assignments[low]
