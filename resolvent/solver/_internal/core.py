"""The PubGrub core is the loop of unit propagation, conflict resolution and decision making.

It follows the algorithm of Dart's pub (``doc/solver.md``) as ``pubgrub-rs/pubgrub:
src/internal/core.rs`` and ``src/solver.rs`` lay it out: propagate what the
incompatibilities force, resolve a conflict to its root cause and backjump, otherwise
choose a package (by priority) and its first preferred version that fits, adding the
version's dependencies as incompatibilities on the way. Versions and dependencies come
from a :class:`~resolvent.solver.universe.Universe`; the core never looks anywhere else.
"""

from __future__ import annotations

from bisect import bisect_left
from heapq import heappop, heappush
from typing import TYPE_CHECKING

from resolvent.solver.provider import Unavailable
from resolvent.solver.ranges import FULL, VersionRange
from resolvent.solver.result import BudgetExceeded
from resolvent.solver.universe import ROOT, ROOT_VERSION, Dependency, base_name

from .collector import fewer_collections
from .incompatibility import Incompatibility
from .partial_solution import PartialSolution
from .term import ANY, Relation, Term, shared_term

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from packaging.version import Version

    from resolvent.solver.provider import Reporter
    from resolvent.solver.universe import Universe

    from .partial_solution import Assignment

__all__ = ["ENGINE", "SolverState", "Unsolvable"]

ENGINE = "pubgrub"

#: After this many attempts at deciding a package, its next versions are prefetched...
_BATCH_AFTER = 5
#: ...this many at a time (again each time half of them has been tried).
_BATCH_SIZE = 32
#: After this many conflicts a package changes priority (as uv's ``CONFLICT_THRESHOLD``).
_CONFLICT_THRESHOLD = 5
#: After this many backjumps in a row from one package's decision, it is decided first.
_RETRY_STREAK = 2
#: How often (in steps) a reporter is asked whether to cancel.
_POLL_EVERY = 64

_SATISFIED = Relation.SATISFIED
_CONTRADICTED = Relation.CONTRADICTED

#: A version's dependencies as a decision checks them: (package, negated term or ``None``).
_Checks = tuple[tuple[str, Term | None], ...]
#: A two-term incompatibility as seen from one of its packages: (that package's term,
#: the other package, the other package's term).
_View = tuple[Term, str, Term]


class Unsolvable(Exception):  # noqa: N818 - a result of the search, not an error
    """Raised inside the core when the root itself is shown impossible."""

    def __init__(self, incompatibility: Incompatibility) -> None:
        super().__init__("the requirements are unsatisfiable")
        self.incompatibility = incompatibility


def _between(lower: Version | None, upper: Version | None) -> VersionRange:
    """Return the versions strictly between two usable ones (``None``: unbounded)."""
    if lower is None and upper is None:
        return FULL
    return VersionRange.from_bounds(
        lower, upper, include_lower=False, include_upper=False, prereleases=True
    )


class SolverState:
    """One PubGrub search over a universe.

    :param universe: the problem.
    :param reporter: optional progress hooks (and cancellation).
    :param budget: the most steps (decisions plus conflict-resolution rounds) allowed.

    Example::

        selected = SolverState(universe).solve()  # or raises Unsolvable
    """

    def __init__(
        self,
        universe: Universe,
        *,
        reporter: Reporter | None = None,
        budget: int | None = None,
        prefer: Mapping[str, Version] | None = None,
    ) -> None:
        self.universe = universe
        self.reporter = reporter
        self.budget = budget
        # Versions to decide whenever their package's range admits them, before the
        # universe's own order: another engine's answer, which the search then confirms
        # (see ``PubGrubEngine.confirm``). Only versions the universe lists count.
        self._prefer: dict[str, Version] = {}
        for package, version in (prefer or {}).items():
            if version in self.universe.versions(package):
                self._prefer[package] = version
        self.solution = PartialSolution()
        self.decisions = 0
        self.conflicts = 0
        self.steps = 0
        # Incompatibilities per package, oldest first (a dict keeps order and removes fast),
        # each with its view from that package when it has two terms (``None`` otherwise).
        self._incompatibilities: dict[str, dict[Incompatibility, _View | None]] = {}
        # Dependency incompatibilities per (dependent, dependency), for merging, by their
        # term on the dependency (``None`` when they have none). Two edges merge only
        # when those terms are equal, and a merge keeps the earlier term, so each term
        # occurs at most once per pair: a lookup finds the one edge a scan would.
        self._merged: dict[
            tuple[str, str], dict[tuple[bool, VersionRange] | None, Incompatibility]
        ] = {}
        # Discovery order of packages: the last tie-breaker of prioritization.
        self._order: dict[str, int] = {}
        self._direct: dict[str, bool] = {}
        # Conflict statistics, as uv keeps them: how often a package's decision was rejected
        # ("affected") and how often one of its terms took part in rejecting another
        # ("culprit"). Past the threshold an affected package is decided early and a
        # culprit late, after backtracking to before its decision.
        self._affected: dict[str, int] = {}
        self._culprit: dict[str, int] = {}
        self._early: set[str] = set()
        self._late: set[str] = set()
        self._to_prioritize: list[str] = []
        self._to_deprioritize: list[str] = []
        # Per package and range (by identity, the range kept in the value so that its id
        # cannot be recycled): the first preferred version in the range and whether it
        # admits at most one listed version. Ranges recur as the same objects (the term
        # algebra interns them), above all after backjumps.
        self._candidates: dict[str, dict[int, tuple[VersionRange, Version | None, bool]]] = {}
        # Per version whose dependencies were added: each dependency's package and negated
        # term, the check a decision of that version makes again (see ``_decide``).
        self._dependency_checks: dict[tuple[str, Version], _Checks] = {}
        # Per extra, the base ranges whose "same version as the base" fact was added.
        self._bound: dict[str, dict[int, VersionRange]] = {}
        # How often each package was picked for a decision (see ``_batch_prefetch``).
        self._tried: dict[str, int] = {}
        # Incompatibilities known to be contradicted (or propagated, which contradicts
        # them): they cannot propagate until a backjump below the level at which that
        # became true, and ``_contradicted_at`` lists them by that level. A term found
        # false is filed under the level of its package's latest assignment, not the
        # current one: a backjump keeps it false as long as that assignment stays. After
        # airflow's long backjumps (from level 537 to 287, say) the redone levels then
        # skip the edges that the kept levels already contradict instead of relating
        # them again.
        self._contradicted: dict[Incompatibility, None] = {}
        self._contradicted_at: list[list[Incompatibility]] = [[]]
        # Packages that had a "no versions in this range" fact (see ``_empty_span``).
        self._empty: set[str] = set()
        # Decision queue: (tier, discovery order, package), checked lazily on use. Every
        # pending package has an entry whose tier is at most its current one, or is
        # in ``_stale`` (its term or standing changed since its tier was last known).
        self._queue: list[tuple[int, int, str]] = []
        self._stale: dict[str, None] = {}
        # Per package, the tier of an entry known to be in the queue (see ``_refresh``).
        self._queued: dict[str, int] = {}
        # The package decided last before each backjump, how many backjumps in a row it
        # was, and whether ``_pick`` is to decide it first (see there).
        self._last_conflicted: str | None = None
        self._conflict_streak = 0
        self._retry: str | None = None

    # -- the main loop ---------------------------------------------------------------------

    def solve(self) -> dict[str, Version]:
        """Run the search; return the chosen version of every package but the root.

        :raises Unsolvable: when the root requirements cannot be met.
        :raises BudgetExceeded: past the step budget, or when the reporter cancels.

        The search runs with fewer garbage collections (see
        :mod:`~resolvent.solver._internal.collector`) whoever calls it: a caller of the
        core itself (a benchmark, a test) pays otherwise for several full collections
        over the search's own objects. The engine's raise around it is shared.
        """
        with fewer_collections():
            return self._solve()

    def _solve(self) -> dict[str, Version]:
        if self.reporter is not None:
            self.reporter.starting(ENGINE)
        self._discover(ROOT)
        self._add(Incompatibility.root(ROOT, ROOT_VERSION))
        next_package: str | None = ROOT
        while next_package is not None:
            self._propagate({next_package: None}, affected=next_package)
            while self._to_prioritize or self._to_deprioritize:
                touched = self._reprioritize()
                if touched:
                    self._propagate(dict.fromkeys(touched), affected=None)
            next_package = self._decide()
        selected = self.solution.decisions()
        selected.pop(ROOT, None)
        return selected

    def _tick(self) -> None:
        self.steps += 1
        if self.budget is not None and self.steps > self.budget:
            raise BudgetExceeded(ENGINE, self.steps)
        reporter = self.reporter
        if reporter is not None and self.steps % _POLL_EVERY == 0 and reporter.should_cancel():
            raise BudgetExceeded(ENGINE, self.steps)

    # -- incompatibilities -------------------------------------------------------------------

    def _add(self, incompatibility: Incompatibility) -> None:
        index = self._incompatibilities
        pair = incompatibility.pair
        if pair is not None:
            # A two-term incompatibility is filed with its view from each side (see
            # ``_View``), which unit propagation reads instead of the terms dict.
            (first, first_term), (second, second_term) = pair
            for package, view in (
                (first, (first_term, second, second_term)),
                (second, (second_term, first, first_term)),
            ):
                bucket = index.get(package)
                if bucket is None:
                    bucket = index[package] = {}
                bucket[incompatibility] = view
            return
        for package in incompatibility.terms:
            bucket = index.get(package)
            if bucket is None:
                bucket = index[package] = {}
            bucket[incompatibility] = None

    def _remove(self, incompatibility: Incompatibility) -> None:
        index = self._incompatibilities
        for package in incompatibility.terms:
            index[package].pop(incompatibility, None)

    def _add_dependency(self, incompatibility: Incompatibility) -> Incompatibility:
        """Add a dependency edge, merged with an earlier one of the same shape if any."""
        info = incompatibility.dependency
        assert info is not None
        past = self._merged.get((info[0], info[1]))
        if past is None:
            past = self._merged[info[0], info[1]] = {}
        target = incompatibility.terms.get(info[1])
        key = None if target is None else (target.positive, target.range)
        earlier = past.get(key)
        if earlier is not None:
            merged = incompatibility.merge_dependents(earlier)
            if merged is not None:
                self._remove(earlier)
                past[key] = merged
                self._add(merged)
                return merged
        past[key] = incompatibility
        self._add(incompatibility)
        return incompatibility

    # -- unit propagation ----------------------------------------------------------------------

    def _propagate(self, changed: dict[str, None], *, affected: str | None) -> None:
        """Derive what the incompatibilities of the ``changed`` packages force.

        ``affected`` is the package whose decision started this round: conflicts found
        are counted against it (and against the other packages they involve).

        A package's incompatibilities are visited newest first, each as
        :meth:`PartialSolution.relate` would relate it, with the same outcomes in the
        same order. Two-term ones (nearly all: dependency edges) are related here from
        their ``_View`` without that call, and the changed package's own term first:
        its running intersection is the same for the whole bucket (until a derivation
        on it), the terms recur (every edge of one version gap shares its dependent's
        term), so the answer is a lookup in one memo table, and when it is "false"
        (a decided package meets the edges of all its other versions: a quarter of
        airflow's visits) the other package's term is not related at all. Which of two
        false terms an edge is filed under does not matter: either keeps it false
        until a backjump below its level (see ``_contradicted_at``).
        """
        solution = self.solution
        known = solution.tables()[1]
        contradicted = self._contradicted
        at = self._contradicted_at
        index = self._incompatibilities
        while len(at) <= solution.level:
            at.append([])
        while changed:
            current = next(reversed(changed))
            del changed[current]
            bucket = index.get(current)
            if not bucket:
                continue
            # What is known of ``current``, its table of remembered relations, and the
            # level an edge it contradicts is filed under; renewed after a derivation on it.
            mine_known = known.get(current, ANY)
            mine_memo = mine_known.relation_memo()
            mine_filed = at[solution.contradiction_level(current)]
            for incompatibility, view in reversed(bucket.items()):
                if incompatibility in contradicted:
                    continue
                if view is None:
                    relation, package = solution.relate(incompatibility, current)
                    if relation is _SATISFIED:
                        self._conflict(incompatibility, affected, changed)
                        break
                    if relation is _CONTRADICTED:
                        contradicted[incompatibility] = None
                        at[solution.contradiction_level(package)].append(incompatibility)  # type: ignore[arg-type]
                        continue
                    if package is None:
                        continue
                else:
                    own, other, theirs = view
                    mine = mine_memo.get(own._class) or mine_known.relation(own)  # noqa: SLF001
                    if mine is _CONTRADICTED:
                        contradicted[incompatibility] = None
                        mine_filed.append(incompatibility)
                        continue
                    their_known = known.get(other, ANY)
                    their_class = their_known._class  # noqa: SLF001
                    rel = (
                        None if their_class is None else their_class.memo.get(theirs._class)  # noqa: SLF001
                    ) or their_known.relation(theirs)
                    if rel is _CONTRADICTED:
                        contradicted[incompatibility] = None
                        at[solution.contradiction_level(other)].append(incompatibility)
                        continue
                    if mine is _SATISFIED:
                        if rel is _SATISFIED:
                            self._conflict(incompatibility, affected, changed)
                            break
                        package = other
                    elif rel is _SATISFIED:
                        package = current
                    else:
                        continue
                term = incompatibility.terms[package]
                solution.add_derivation(package, term.negate(), incompatibility)
                contradicted[incompatibility] = None
                at[solution.level].append(incompatibility)
                changed[package] = None
                self._enqueue(package)
                if package == current:
                    mine_known = known[current]
                    mine_memo = mine_known.relation_memo()
                    mine_filed = at[solution.level]

    def _conflict(
        self, incompatibility: Incompatibility, affected: str | None, changed: dict[str, None]
    ) -> None:
        """Resolve a satisfied incompatibility, backjump and derive from the root cause.

        Propagation then starts again from the root cause's package alone: everything
        queued before was undone by the backjump.
        """
        solution = self.solution
        root_cause, culprit = self._resolve_conflict(incompatibility, affected)
        changed.clear()
        changed[culprit] = None
        term = root_cause.terms[culprit]
        solution.add_derivation(culprit, term.negate(), root_cause)
        self._contradicted[root_cause] = None
        self._contradicted_at[solution.level].append(root_cause)
        self._enqueue(culprit)

    # -- conflict resolution ---------------------------------------------------------------------

    def _resolve_conflict(
        self, incompatibility: Incompatibility, affected: str | None
    ) -> tuple[Incompatibility, str]:
        """Find the root cause of a satisfied incompatibility and backjump.

        Returns the root cause (learned) and the package it is almost satisfied on. Every
        intermediate cause is counted in the conflict statistics, as uv does: a root
        cause that simplifies to "not this version of A" still tells which packages
        kept clashing on the way.
        """
        self.conflicts += 1
        if self.reporter is not None:
            self.reporter.conflict(repr(incompatibility))
        solution = self.solution
        learned = False
        # The partial solution does not change until the backjump that ends this loop.
        memo: dict[tuple[str, int], tuple[Term, Assignment]] = {}
        while True:
            if incompatibility.is_terminal(ROOT):
                raise Unsolvable(incompatibility)
            self._tick()
            found = solution.satisfier(incompatibility, memo)
            satisfier = found.assignment
            if satisfier.cause is None or found.previous_level != satisfier.level:
                if learned:
                    self._add(incompatibility)
                level = found.previous_level
                self._note_streak(solution.last_decided())
                self._backtrack(level)
                self._record_conflict(affected, satisfier.package, incompatibility)
                return incompatibility, satisfier.package
            cause = satisfier.cause
            resolved = satisfier.package
            # (the satisfier is a derivation here: ``cause`` is not ``None``)
            derived = Incompatibility.derived(incompatibility, cause, resolved)
            solution.note_resolution(incompatibility, satisfier, derived, memo)
            incompatibility = derived
            self._record_conflict(affected, satisfier.package, incompatibility)
            learned = True

    def _note_streak(self, last: str | None) -> None:
        """Count backjumps in a row from the same package's decision (see ``_pick``)."""
        if last == self._last_conflicted:
            self._conflict_streak += 1
        else:
            self._last_conflicted = last
            self._conflict_streak = 1
        self._retry = last if self._conflict_streak >= _RETRY_STREAK else None

    def _backtrack(self, level: int) -> list[str]:
        """Undo every decision above ``level``; return the packages that changed."""
        touched = self.solution.backtrack(level)
        for package in touched:
            self._enqueue(package)
        contradicted = self._contradicted
        at = self._contradicted_at
        for undone in at[level + 1 :]:
            for incompatibility in undone:
                del contradicted[incompatibility]
        del at[level + 1 :]
        return touched

    # -- conflict statistics ---------------------------------------------------------------

    def _record_conflict(
        self, affected: str | None, satisfier: str, incompatibility: Incompatibility
    ) -> None:
        """Count one conflict step: ``affected`` was rejected, the other packages caused it.

        ``satisfier`` is the package the step resolved on; it is not a culprit of itself.
        """
        skip = (satisfier, affected)  # a tuple: a set literal would be rebuilt per term
        self._count_conflict(affected, [p for p in incompatibility.terms if p not in skip])

    def _count_conflict(self, affected: str | None, culprits: list[str]) -> None:
        real = False
        counts = self._culprit
        for package in culprits:
            if package == ROOT:
                continue
            real = True
            count = counts[package] = counts.get(package, 0) + 1
            if count == _CONFLICT_THRESHOLD:
                self._to_deprioritize.append(package)
        if real and affected is not None and affected != ROOT:
            count = self._affected[affected] = self._affected.get(affected, 0) + 1
            if count == _CONFLICT_THRESHOLD:
                self._to_prioritize.append(affected)

    def _reprioritize(self) -> list[str]:
        """Apply the pending priority changes; return the packages a backtrack touched.

        A package often rejected ("affected") is decided early; a package often the
        cause ("culprit") is decided late, and the search backtracks to before its
        decision so that the packages it kept rejecting are decided first. This is
        uv's answer to the many-newest-versions-conflict shape on which plain PubGrub
        backtracks for a long time.
        """
        for package in self._to_prioritize:
            self._early.add(package)
            self._late.discard(package)
            self._enqueue(package)
        self._to_prioritize.clear()
        touched: dict[str, None] = {}
        pending = self._to_deprioritize
        self._to_deprioritize = []
        for package in pending:
            if package in self._early or package in self._late:
                continue
            self._late.add(package)
            level = self.solution.decision_level(package)
            if level is not None:
                touched.update(dict.fromkeys(self._backtrack(level - 1)))
            self._enqueue(package)
        return list(touched)

    # -- decision making ---------------------------------------------------------------------

    def _discover(self, package: str) -> None:
        if package in self._order:
            return
        self._order[package] = len(self._order)
        self._direct[package] = package != ROOT and self.universe.is_direct(package)
        self.universe.versions(package)

    def _prefetch(self, dependencies: Sequence[Dependency]) -> None:
        """Tell the provider the version each dependency will most likely be decided at.

        That is its best version inside the dependency's range, as the SAT engine hints
        when it loads a version: against an index without metadata files each fetch is a
        few range requests, and they run concurrently while the search goes on. Hinting
        several versions per package instead queues fetches that are mostly never used
        ahead of the ones that are.
        """
        universe = self.universe
        if not universe.prefetching:
            return
        for dependency in dependencies:
            target = dependency.package
            index = universe.index(target)
            best = index.positions(dependency.range, limit=1)
            if best:
                universe.prefetch(target, [index.versions[best[0]]])

    def _batch_prefetch(self, package: str, allowed: VersionRange) -> None:
        """Hint the next versions of a package the search keeps walking down.

        A package tried again and again (boto3's set steps through a thousand releases
        of boto3 and botocore, one conflict each) would otherwise wait for one metadata
        fetch per step. As uv's batch prefetcher does, past a few attempts the next
        versions in its range are hinted together, so they are fetched concurrently.
        """
        tried = self._tried[package] = self._tried.get(package, 0) + 1
        if tried < _BATCH_AFTER or (tried - _BATCH_AFTER) % (_BATCH_SIZE // 2):
            return
        universe = self.universe
        if not universe.prefetching:
            return
        index = universe.index(package)
        ahead = index.positions(allowed, limit=_BATCH_SIZE + 1)[1:]
        if ahead:
            universe.prefetch(package, [index.versions[i] for i in ahead])

    def _gap(self, package: str, version: Version) -> VersionRange:
        """Return the widest range around ``version`` holding no other usable version.

        Dependency and unavailability facts are stated over this range rather than the
        single version, as pub does: it is equivalent (nothing else in it can be chosen),
        adjacent versions with equal dependencies then merge into one interval, and no
        "no versions in the gaps" facts clutter the explanations.
        """
        known = self.universe.sorted_versions(package)
        at = bisect_left(known, version)
        lower = known[at - 1] if at > 0 else None
        upper = known[at + 1] if at + 1 < len(known) else None
        return _between(lower, upper)

    def _empty_span(self, package: str, term: Term) -> Term:
        """Return the widest term around ``term`` (which admits no usable version) that admits none.

        The fact "no versions of P in R" is stated over the whole gap between the usable
        versions around R, as dependency facts are (see :meth:`_gap`). Stated over R
        alone, a walk down a dependent's releases learns one fact per release, each over
        the sliver its predecessors left (``>=1.40.75,<1.41`` minus what was already
        excluded), and every later conflict on P resolves back through all of them: 499
        conflicts took 24,595 resolution steps on boto3 walked down by ``botocore<1.34``.
        R is widened only when it lies within one gap; the gap is found by bisection. The
        first such fact of a package is not widened (see :meth:`_decide`).
        """
        if not term.positive:
            return term
        known = self.universe.sorted_versions(package)
        allowed = term.range

        def above(at: int) -> bool:  # all of ``allowed`` lies above known[at]
            floor = VersionRange.from_bounds(known[at], None, include_lower=False, prereleases=True)
            return allowed.is_subset(floor)

        def below(at: int) -> bool:  # all of ``allowed`` lies below known[at]
            ceiling = VersionRange.from_bounds(
                None, known[at], include_upper=False, prereleases=True
            )
            return allowed.is_subset(ceiling)

        low, high = 0, len(known)  # the first index whose version is not below allowed
        while low < high:
            middle = (low + high) // 2
            if above(middle):
                low = middle + 1
            else:
                high = middle
        if low < len(known) and not below(low):
            return term  # allowed straddles a usable version it excludes: keep it
        lower = known[low - 1] if low > 0 else None
        upper = known[low] if low < len(known) else None
        return shared_term(True, _between(lower, upper))  # noqa: FBT003

    def _candidate(self, package: str, allowed: VersionRange) -> tuple[Version | None, bool]:
        """Return the first preferred version in ``allowed`` and whether it is the only one."""
        known = self._candidates.get(package)
        if known is None:
            known = self._candidates[package] = {}
        cached = known.get(id(allowed))
        if cached is not None:
            return cached[1], cached[2]
        index = self.universe.index(package)
        found = index.positions(allowed, limit=2)
        first = index.versions[found[0]] if found else None
        single = len(found) < 2
        wanted = self._prefer.get(package)
        if wanted is not None and first is not None and wanted in allowed:
            first = wanted
        known[id(allowed)] = (allowed, first, single)
        return first, single

    def _tier(self, package: str, allowed: VersionRange) -> tuple[int, Version | None]:
        """Return the package's priority tier (lower first) and its candidate version."""
        version, single = self._candidate(package, allowed)
        return self._rank(package, single), version

    def _rank(self, package: str, single: bool) -> int:  # noqa: FBT001 - hot, positional
        """Return the tier of a package with a single candidate or not (see :meth:`_pick`)."""
        if single:
            return 0
        if package in self._early:
            return 1
        if package in self._late:
            return 2
        return 3 if self._direct[package] else 4

    def _enqueue(self, package: str) -> None:
        """Note that the package's tier may have changed (its term, or its standing).

        The tier is computed when the next decision is picked, not here: unit
        propagation narrows a package several times between two decisions (and a
        backjump touches hundreds of packages that are decided again at once), and
        only the term it has when the pick comes matters. Each tier needs the
        package's first two candidates in its range, a search of its versions.
        """
        self._stale[package] = None

    def _refresh(self) -> None:
        """Queue every stale pending package under its current tier.

        After a backjump hundreds of packages are stale, most of them back at a range
        whose candidate is remembered and at a tier they are already queued under: the
        tier is ranked from the candidate memo (:meth:`_rank`, without the search
        :meth:`_tier` would start on a miss), and no entry is pushed where one no later
        is known to be queued (``_queued``; the queue's invariant only asks for an entry
        no later than the package's true place). The picks are the same; the upkeep of
        the queue was a fifth of airflow's search.
        """
        pending, known_terms = self.solution.tables()
        queue = self._queue
        order = self._order
        queued = self._queued
        candidates = self._candidates
        for package in self._stale:
            if package not in pending:
                continue
            allowed = known_terms[package].range
            memo = candidates.get(package)
            hit = None if memo is None else memo.get(id(allowed))
            tier = self._tier(package, allowed)[0] if hit is None else self._rank(package, hit[2])
            at = queued.get(package)
            if at is not None and at <= tier:
                continue
            queued[package] = tier
            heappush(queue, (tier, order[package], package))
        self._stale.clear()

    def _dequeue(self, tier: int, package: str) -> None:
        """Drop the queue's first entry, ``(tier, _, package)``, and what is known of it."""
        heappop(self._queue)
        if self._queued.get(package) == tier:
            del self._queued[package]  # another entry of that tier may remain: no matter

    def _pick(self) -> tuple[str, Term, Version | None] | None:
        """Choose the next package to decide (uv's order), or ``None`` when all are decided.

        Pinned (single-candidate) packages come first, then the often rejected ones, then
        the often rejecting ones, then the user's direct requirements, then the rest in
        the order they were discovered.

        The choice is the least (tier, discovery order) of the pending packages, however
        the queue came to hold it: once the stale packages are queued, every pending
        package has an entry no later than its true place, and the first entry whose
        tier is still true is that least one.

        One exception: a package whose decisions ran into a conflict twice in a row
        (the last decision before each backjump) comes right after the pinned ones. A
        backjump undoes every decision above the level the learned fact holds at, most
        of them unrelated to the conflict and decided again identically; a package
        walking down its versions then pays for that whole stretch at every version
        (airflow's ``opentelemetry-exporter-otlp``: 58 decisions per version). Deciding
        it first meets its next conflict while they are still undone. A single conflict
        does not trigger this: the decisions made before the package again often rule
        out many of its versions at once, where trying it first would read the metadata
        of versions no search needed. Any order of decisions keeps the search complete;
        this one only changes which of the equally valid paths it takes first.
        """
        if self._stale:
            self._refresh()
        queue = self._queue
        solution = self.solution
        queued = self._queued
        while queue:
            tier, order, package = queue[0]
            if not solution.is_pending(package):
                self._dequeue(tier, package)
                continue
            term = solution.term(package)
            actual, version = self._tier(package, term.range)
            if actual != tier:
                self._dequeue(tier, package)
                at = queued.get(package)
                if at is None or at > actual:
                    queued[package] = actual
                    heappush(queue, (actual, order, package))
                continue
            retry = self._retry
            if retry is not None and tier > 0:
                self._retry = None
                if retry != package and solution.is_pending(retry):
                    term = solution.term(retry)
                    _, version = self._tier(retry, term.range)
                    return retry, term, version
            return package, term, version
        return None

    def _off_base(self, package: str, version: Version) -> bool:
        """Keep an extra within its base's known range instead of trying versions outside it.

        ``foo[bar]`` at version ``w`` depends on ``foo==w``. Once ``foo`` is known to lie
        in a range ``K`` (decided, or narrowed by derivations), every version of the extra
        outside ``K`` is impossible, but the search would learn that one version (and one
        metadata lookup) at a time, walking down the whole history, old unbuildable sdists
        included, whenever the extra's versions inside ``K`` are rejected. The fact
        "``foo[bar]`` outside ``K`` needs ``foo`` outside ``K``" follows from those
        dependencies; stating it once lets propagation conclude at once. Returns whether
        it was added (the caller then propagates instead of deciding).
        """
        if "[" not in package:
            return False
        base = base_name(package)
        known = self.solution.term(base)
        if not known.positive or version in known.range:
            return False
        bound = self._bound.setdefault(package, {})
        if id(known.range) in bound:
            return False
        bound[id(known.range)] = known.range  # kept alive: its id stays unique
        outside = FULL.difference(known.range)
        fact = Dependency(base, outside, " at the same version")
        self._add(Incompatibility.from_dependency(package, outside, fact))
        return True

    def _decide(self) -> str | None:
        """Make one decision; return the package to propagate from, or ``None`` when done."""
        choice = self._pick()
        if choice is None:
            return None
        package, term, version = choice
        self._tick()
        if version is None:
            # The first such fact of a package keeps its own range, which explanations
            # quote ("no versions of a match >=2"); later ones are widened.
            if package in self._empty:
                term = self._empty_span(package, term)
            self._empty.add(package)
            self._add(Incompatibility.no_versions(package, term))
            return package
        if self._off_base(package, version):
            return package
        self._batch_prefetch(package, term.range)
        key = (package, version)
        checks = self._dependency_checks.get(key)
        if checks is None:
            dependencies = self.universe.dependencies(package, version)
            if isinstance(dependencies, Unavailable):
                gap = self._gap(package, version)
                self._add(Incompatibility.unavailable(package, gap, dependencies.reason))
                return package
            gap = self._gap(package, version)
            for dependency in dependencies:
                self._discover(dependency.package)
                self._add_dependency(Incompatibility.from_dependency(package, gap, dependency))
            self._prefetch(dependencies)
            # The shared negated terms (``None``: a dependency no version meets), kept per
            # version: ``relation`` memoizes per term object, and a version is decided again
            # after every backjump above it (airflow: 8,000 decisions of 1,300 versions).
            checks = self._dependency_checks[key] = tuple(
                (d.package, None if d.range.is_empty else shared_term(False, d.range))  # noqa: FBT003
                for d in dependencies
            )
        solution = self.solution
        conflict = False
        for target, negated in checks:
            # Deciding must not satisfy one of the version's own dependency facts at once.
            if negated is None:
                conflict = True
                break
            if solution.term(target).relation(negated) is _SATISFIED:
                conflict = True
                self._count_conflict(package, [target])
                break
        if not conflict:
            self.decisions += 1
            solution.add_decision(package, version)
            if self.reporter is not None and package != ROOT:
                self.reporter.decided(package, version)
        return package
