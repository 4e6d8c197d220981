"""The SAT engine: resolution as Boolean satisfiability over a lazily grown clause encoding.

Each (package, version) is a variable; at most one version per package is true; a true
version implies some allowed version of each of its requirements (see
:mod:`resolvent.solver._internal.cnf` and ``specs/encoding.md``). Requirements are fetched
only for versions the search commits to, and clauses are added to one incremental CDCL
solver as they become known.

Two preference modes:

* default: the lexicographic greedy answer. Packages are decided in breadth-first
  discovery order from the root; each takes the first version, in the universe's
  preference order, that is consistent with the formula and the earlier decisions. This
  is the answer a newest-first resolver that never misses a solution would give.
* ``optimal=True``: a MaxSAT optimum (RC2) that minimizes the sum, over the installed
  packages, of the rank of the chosen version in preference order (0 = best).

When the requirements conflict, the answer is a minimal unsatisfiable core of
requirement groups told in sentences
(:mod:`resolvent.solver._internal.sat_explain`).
"""

from __future__ import annotations

from bisect import bisect_right
from functools import partial
from typing import TYPE_CHECKING

from resolvent.solver._internal.collector import fewer_collections
from resolvent.solver._internal.version_index import position_of, version_positions
from resolvent.solver.provider import Unavailable
from resolvent.solver.result import BudgetExceeded, NoSolution, Solution
from resolvent.solver.universe import ROOT, ROOT_VERSION

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from packaging.version import Version

    from resolvent.solver._internal.cnf import Cnf, Group
    from resolvent.solver.provider import Reporter
    from resolvent.solver.ranges import VersionRange
    from resolvent.solver.result import Outcome
    from resolvent.solver.universe import Dependency, Universe

__all__ = ["BACKEND", "SatEngine"]

#: The pysat backend of the incremental solver (see ``specs/encoding.md`` for figures).
BACKEND = "cadical195"
#: The SAT oracle inside RC2 for ``optimal`` mode.
RC2_BACKEND = "g4"
#: The most versions of one package released in one round (see ``_Greedy._release``).
_RELEASE_MAX = 32


class _Steps:
    """Counts SAT calls and loaded versions against a budget; polls cancellation.

    Cancellation (the reporter's ``should_cancel``, through which a caller's deadline
    arrives: the solver has no clock) is polled before every SAT call and before every
    read of the universe that may wait (:meth:`poll`, the ``Cnf``'s ``interrupt``). On
    a real index those reads are page and metadata fetches, which take most of a cold
    run: polled between SAT calls only, a time-boxed check went on loading (a whole
    frontier, and the speculative paths beyond it) long past its deadline.
    """

    __slots__ = ("budget", "loaded", "reporter", "sat_calls")

    def __init__(self, budget: int | None, reporter: Reporter | None) -> None:
        self.budget = budget
        self.reporter = reporter
        self.sat_calls = 0
        self.loaded = 0

    @property
    def steps(self) -> int:
        return self.sat_calls + self.loaded

    def _check(self) -> None:
        if self.budget is not None and self.steps > self.budget:
            raise BudgetExceeded(SatEngine.name, self.steps)

    def poll(self) -> None:
        """Raise :class:`BudgetExceeded` if the reporter asks the engine to stop."""
        if self.reporter is not None and self.reporter.should_cancel():
            raise BudgetExceeded(SatEngine.name, self.steps)

    def before_call(self) -> None:
        self.poll()
        self.sat_calls += 1
        self._check()

    def load(self, cnf: Cnf, package: str, version: Version) -> None:
        if (package, version) not in cnf.loaded:
            self.loaded += 1
            self._check()
            cnf.load(package, version)


class SatEngine:
    """Resolve a universe with a CDCL SAT solver (python-sat).

    :param optimal: solve the MaxSAT objective (sum of preference ranks) with RC2
        instead of the default lexicographic greedy preference.

    Example::

        outcome = SatEngine().solve(universe)
        if isinstance(outcome, Solution):
            print(outcome.packages())
    """

    name = "sat"

    def __init__(self, *, optimal: bool = False) -> None:
        self.optimal = optimal

    def solve(
        self,
        universe: Universe,
        *,
        reporter: Reporter | None = None,
        budget: int | None = None,
    ) -> Outcome:
        """Resolve ``universe``; raise :class:`BudgetExceeded` past ``budget`` steps.

        A step is one SAT call or one version whose requirements were loaded.
        """
        with fewer_collections():
            return self._solve(universe, reporter, budget)

    def confirm(
        self,
        universe: Universe,
        selected: Mapping[str, Version],
        *,
        reporter: Reporter | None = None,
        budget: int | None = None,
    ) -> Solution | str:
        """Decide the encoding under ``selected``: the same solution, or why it is none.

        The answer of another engine, certified a second time: one closed call with
        every selected version assumed true, under the same lazy loop as a search
        (``specs/encoding.md``), so a model is a model of the whole universe. The
        selection is confirmed when such a model exists and reaches exactly the selected
        packages; otherwise the return value is a one-line reason. Unlike a search, it
        never has to prove that better versions fail (that is what took the greedy
        search seconds on airflow's 673 pins), so it costs about one load of the answer.

        The call's assumptions fix every variable of the clauses it loads (the pins
        true, every other known version false: unloaded), so the call is decided first
        by evaluating those clauses at that assignment (:func:`_evaluate`), which is
        what the solver's propagation would do, without building the clauses' literal
        lists, the 50,000 assumptions or pysat. Only when that assignment is no model
        does the solver run the call, for the reason it gives.
        """
        with fewer_collections():
            if reporter is not None:
                reporter.starting(self.name)
            stats = _evaluate(universe, selected, _Steps(budget, reporter))
            if stats is not None:
                return Solution(engine=self.name, selected=dict(selected), stats=stats)
            # Not a model: the solver finds out why (which pins cannot hold together, or
            # what the model reaches instead), and says it as it always has.
            from resolvent.solver._internal.cnf import Cnf  # noqa: PLC0415 - see _evaluate

            steps = _Steps(budget, reporter)
            cnf = Cnf(universe, lazy_at_most_one=True, bind_extras=False, interrupt=steps.poll)
            root_deps = cnf.load_root()
            greedy = _Greedy(cnf, steps, root_deps, speculate=False)
            pins = sorted(selected.items())
            try:
                assumptions: list[int] = []
                for package, version in pins:
                    cnf.package_lits(package)
                    index = cnf.index_of(package, version)
                    if index is None:
                        return f"{package} has no version {version} in the universe"
                    assumptions.append(cnf.lits[package][index])
                # Loaded up front: unloaded versions are assumed false (``_blocked``).
                greedy.load(pins)
                if not greedy.call(assumptions):
                    core = set(greedy.solver.get_core() or ())
                    failed = [
                        f"{package}=={version}"
                        for (package, version), lit in zip(pins, assumptions, strict=True)
                        if lit in core
                    ]
                    return "the encoding has no model that selects " + (
                        ", ".join(failed) if failed else "these versions"
                    )
                reason = _rejection(cnf, greedy, selected)
            finally:
                greedy.solver.delete()
        if reason is not None:
            return reason
        return Solution(engine=self.name, selected=dict(selected), stats=_stats(cnf, steps))

    def _solve(self, universe: Universe, reporter: Reporter | None, budget: int | None) -> Outcome:
        if reporter is not None:
            reporter.starting(self.name)
        # Loaded here: a confirmation decided by evaluation (a warm install's) needs neither.
        from resolvent.solver._internal.cnf import Cnf  # noqa: PLC0415
        from resolvent.solver._internal.sat_explain import minimal_core, render  # noqa: PLC0415

        steps = _Steps(budget, reporter)
        cnf = Cnf(universe, lazy_at_most_one=not self.optimal, interrupt=steps.poll)
        root_deps = cnf.load_root()
        empty = _empty_root_group(cnf)
        if empty is not None:
            return NoSolution(
                engine=self.name,
                explanation=render(universe, [empty]),
                core=(empty.target,) if empty.target is not None else (),
                stats=_stats(cnf, steps),
            )
        if self.optimal:
            selected = _optimal(cnf, steps, root_deps)
        else:
            selected = _Greedy(cnf, steps, root_deps, speculate=True).run()
            if selected is None:
                # The explanation is a minimal core of the clauses loaded when the first
                # call failed, and speculative loading changes which those are: replay
                # the first call without it, so that the core (and its sentences) is
                # the one the plain lazy loop finds (``specs/encoding.md``, 3 and 5),
                # with every at-most-one constraint from the start.
                cnf = Cnf(universe, interrupt=steps.poll)
                root_deps = cnf.load_root()
                selected = _Greedy(cnf, steps, root_deps, speculate=False).run()
                assert selected is None, "satisfiability does not depend on what is loaded"
        stats = _stats(cnf, steps)
        if selected is None:
            core = minimal_core(cnf, BACKEND, steps.before_call)
            keys = {key for g in core for key in (g.package, g.target) if key is not None}
            stats["sat_calls"] = steps.sat_calls
            return NoSolution(
                engine=self.name,
                explanation=render(universe, core),
                core=tuple(sorted(keys - {ROOT})),
                stats=stats,
            )
        return Solution(engine=self.name, selected=selected, stats=stats)


def _empty_root_group(cnf: Cnf) -> Group | None:
    """Return the first root requirement that no version meets (``None``: there is none).

    Its clause is empty, so the encoding is unsatisfiable whatever else it holds, and
    the group alone is a minimal core (an empty clause is unsatisfiable by itself, and
    the only smaller set, no group, is satisfiable): no solver call is needed to know
    it. A requirement on a version that has left the index (home-assistant's
    ``pyunifiprotect==4.20.0``) made the lazy loop call the solver twice over the
    thousand root requirements' clauses and extract a core by deletion: 0.3 s of CPU
    for an answer that loading the root had already given. Minimal cores need not be
    unique (two root pins of one project that contradict each other would make
    another); the one reported here is the first such requirement in the user's order.
    """
    return next((g for g in cnf.groups if g.kind == "root" and not g.clause), None)


def _evaluate(
    universe: Universe, selected: Mapping[str, Version], steps: _Steps
) -> dict[str, int] | None:
    """Decide a confirmation's call by evaluation: its stats if ``selected`` is confirmed.

    The call (``SatEngine.confirm``) loads every pin and assumes each pin's variable
    true and every other known version false (unloaded). That fixes every variable
    of its clauses ``F'`` (the root's requirements and each pin's requirements or
    unavailability, ``specs/encoding.md`` section 2; no at-most-one constraint, which
    the assignment satisfies anyway), so the call is satisfiable exactly when this
    assignment satisfies each of them, and its model is this assignment. A pin's
    requirement clause ``-x[p,v] | OR x[q,w] for w in versions(q) if w in R`` holds
    exactly when ``q`` is pinned to a listed version inside ``R``, with membership as
    the encoding decides it (``VersionRange.filter`` with pre-releases admitted, the
    answer :meth:`Cnf.allowed`'s index gives; the pin's variable found as
    :meth:`Cnf.index_of` finds it, :func:`position_of`); a root clause the same; an
    unavailability unit fails. The selection is then confirmed exactly when what that
    model reaches from the root is the selection (``_rejection``): section 6's
    argument, unchanged, shows it is a resolution.

    ``None`` when the assignment is no model (or reaches other packages): the caller
    then runs the call on the solver, whose core or model says why. The counters are
    those the solver's call reports (one call, ``loaded`` the pins, ``variables`` the
    pins' versions, ``clauses`` one per requirement), and budget and cancellation are
    checked at the same reads.
    """
    listed: dict[str, Version] = {}
    variables = 0
    for package, version in sorted(selected.items()):
        steps.poll()  # a new package's versions: a listing read
        versions = universe.versions(package)
        index = position_of(versions, version, partial(version_positions, versions))
        if index is None:
            return None
        listed[package] = versions[index]
        variables += len(versions)
    root_deps = universe.dependencies(ROOT, ROOT_VERSION)
    if isinstance(root_deps, Unavailable) or not _all_hold(root_deps, listed):
        return None
    clauses = len(root_deps)
    requires: dict[str, Sequence[Dependency]] = {}
    for package, version in sorted(selected.items()):
        steps.loaded += 1
        steps._check()  # noqa: SLF001 - the same count a load makes
        steps.poll()  # a version's requirements: a metadata read
        deps = universe.dependencies(package, version)
        if isinstance(deps, Unavailable) or not _all_hold(deps, listed):
            return None
        requires[package] = deps
        clauses += len(deps)
    steps.before_call()
    # What the model reaches from the root, through the pins' requirements.
    reached = {dep.package for dep in root_deps}
    queue = list(reached)
    for package in queue:
        for dep in requires[package]:
            if dep.package not in reached:
                reached.add(dep.package)
                queue.append(dep.package)
    if reached != listed.keys():
        return None
    return {
        "sat_calls": steps.sat_calls,
        "variables": variables,
        "clauses": clauses,
        "loaded": steps.loaded,
    }


def _all_hold(deps: Sequence[Dependency], listed: Mapping[str, Version]) -> bool:
    """Whether each requirement's clause holds when exactly the ``listed`` pins are true."""
    for dep in deps:
        version = listed.get(dep.package)
        if version is None:
            return False
        for _ in dep.range.filter((version,), prereleases=True):
            break
        else:
            return False
    return True


def _stats(cnf: Cnf, steps: _Steps) -> dict[str, int]:
    """Return the counters an outcome reports (``--json``, benchmarks)."""
    return {
        "sat_calls": steps.sat_calls,
        "variables": int(cnf.pool.top),
        "clauses": cnf.clause_count,
        "loaded": steps.loaded,
    }


def _rejection(cnf: Cnf, greedy: _Greedy, selected: Mapping[str, Version]) -> str | None:
    """Say why the encoding has no model that selects exactly ``selected`` (or ``None``).

    ``greedy`` has just closed a call under the selection's literals; its witness is the
    model restricted to what the root reaches.
    """
    reached = {package: cnf.versions[package][index] for package, index in greedy.witness.items()}
    extra = sorted(reached.keys() - selected.keys())
    if extra:
        return "the encoding requires packages the answer lacks: " + ", ".join(
            f"{package}=={reached[package]}" for package in extra
        )
    unreached = sorted(selected.keys() - reached.keys())
    if unreached:
        return "the answer selects packages nothing requires: " + ", ".join(unreached)
    return None


class _Greedy:
    """The lexicographic greedy search over one incremental solver.

    ``fixed`` holds one assumption literal per decided package, in breadth-first order;
    ``order`` lists the packages that the root and the decided versions require, in the
    order they were discovered. Every satisfiable call is *closed* before it counts: the
    requirements of every version its model selects and reaches from the root are
    loaded, and the call repeated if they break the model. A closed model is a model of
    the whole universe (``specs/encoding.md``), so no decision ever has to be undone.

    Over a :class:`Cnf` with ``lazy_at_most_one``, a package's at-most-one constraint
    is added only once a model takes two of its versions among the packages it reaches
    from the root; such a model is discarded (nothing is loaded for it) and the call
    repeated. Leaving constraints out only weakens the formula, so an unsatisfiable
    call stays a proof; and a model in which every reached package has exactly one
    version, restricted to those packages (every other variable false), satisfies
    every constraint, so the closed model is still a model of the whole universe.
    Most packages never need theirs (the phases keep models on one version each), and
    the constraints are most of the encoding: 3 clauses per version.
    """

    def __init__(
        self, cnf: Cnf, steps: _Steps, root_deps: Sequence[Dependency], *, speculate: bool
    ) -> None:
        self.cnf = cnf
        self.steps = steps
        self.speculate = speculate
        from pysat.solvers import Solver  # noqa: PLC0415 - pysat loads when a call needs it

        self.solver = Solver(name=BACKEND)
        # package -> the ranges that the root and the decided versions require of it
        self.root_deps = root_deps
        self.demands: dict[str, list[VersionRange]] = {}
        # package -> (how many of its demands are taken in, their admitted versions)
        self._admitted_memo: dict[str, tuple[int, set[int] | None]] = {}
        for dep in root_deps:
            self.demands.setdefault(dep.package, []).append(dep.range)
        self.roots: list[str] = list(self.demands)
        self.order: list[str] = list(self.roots)
        self.queued: set[str] = set(self.order)
        self.fixed: list[int] = []
        self.chosen: list[Version] = []
        self.model: list[int] = []  # pysat model: model[v - 1] is +v or -v
        self.model_ok = False  # the model satisfies every clause handed to the solver
        # The last closed model, restricted to what it reaches from the root: package ->
        # index of its version. It stays a model of the whole universe whatever clauses
        # are added later, so it witnesses the decisions even after failed calls.
        self.witness: dict[str, int] = {}
        # The first variable of each package, in creation order, and the packages.
        self._starts: list[int] = []
        self._owners: list[str] = []
        self._releases: dict[str, int] = {}  # package -> rounds that released its versions
        self._owner_of: dict[int, str] = {}  # version variable -> its package, as looked up
        # The negations of the known version variables not loaded yet, in order: kept
        # negated so that each call's assumptions are one C-level copy of the keys.
        self._blocked_lits: dict[int, None] = {}
        self._seen = 0  # how many of the CNF's packages the two lists have looked at
        self._flush()

    # -- the solver --------------------------------------------------------------

    def _flush(self) -> None:
        """Hand new clauses to the solver; keep the model only if it satisfies them."""
        clauses = self.cnf.drain()
        if clauses:
            add = self.solver.add_clause
            for clause in clauses:
                add(clause)
            if self.model_ok:
                self.model_ok = all(any(self._true(lit) for lit in c) for c in clauses)
        phases = self.cnf.drain_phases()
        if phases:
            self.solver.set_phases(phases)

    def _true(self, lit: int) -> bool:
        """Whether ``lit`` holds in the model (variables newer than the model are false)."""
        var = abs(lit)
        if var > len(self.model):
            return lit < 0
        return (self.model[var - 1] > 0) == (lit > 0)

    def _solve(self, assumptions: list[int]) -> bool:
        self.steps.before_call()
        self._flush()
        if self.solver.solve(assumptions=assumptions):
            self.model = self.solver.get_model()
            self.model_ok = True
            return True
        return False

    def _blocked(self) -> list[int]:
        """Return ``-v`` for every known version variable whose requirements are unknown.

        Solving under these assumptions keeps models on loaded versions. Without them,
        an unloaded version, having no clauses yet, is the cheapest way out of any
        conflict: the solver walks down a package's versions one round at a time and
        every step fetches (or builds) the metadata of a version no newest-first
        resolver would look at.
        """
        self._sync()
        return list(self._blocked_lits)

    def _sync(self) -> None:
        """Take in the packages the CNF created since the last call."""
        lits = self.cnf.lits
        if self._seen == len(lits):
            return
        loaded = self.cnf.loaded_vars
        # Packages are created in increasing variable order, as the dict keeps them; a
        # package without versions has no variables (and no place in the order).
        names = [name for name in list(lits)[self._seen :] if lits[name]]
        self._seen = len(lits)
        for name in names:
            self._owners.append(name)
            self._starts.append(self.cnf.first[name])
            # A version may have loaded since its package was made (loads go on between
            # calls), and is no longer blocked.
            self._blocked_lits.update((-v, None) for v in lits[name] if v not in loaded)

    def _release(self, core: Sequence[int], blocked: list[int]) -> list[tuple[str, Version]]:
        """Return, per package, the best blocked versions of an unsatisfiable core.

        Only versions the core names are released: a version outside every requirement
        that failed cannot help, and on a real index each one costs a metadata fetch, or
        a build when it is an sdist (the old ones often no longer build).
        """
        blocked_set = set(blocked)
        named: dict[str, list[int]] = {}
        self._sync()
        owners = self._owner_of
        first = self.cnf.first
        for lit in core:
            if lit not in blocked_set:
                continue
            var = -lit
            # A package walked down round after round puts its thousands of blocked
            # versions in every core: their owners are looked up once each.
            package = owners.get(var)
            if package is None:
                package = owners[var] = self._owner(var)
            named.setdefault(package, []).append(var - first[package])
        # A package asked for again and again is being walked down (a hard conflict,
        # as in adversarial universes): release more of its named versions each time,
        # so the walk takes logarithmically many rounds; its first two releases are one
        # version each.
        release: list[tuple[str, Version]] = []
        for package, indices in named.items():
            count = self._releases.get(package, 0)
            self._releases[package] = count + 1
            wanted = 1 if count < 2 else min(1 << (count - 1), _RELEASE_MAX)
            versions = self.cnf.versions[package]
            release.extend((package, versions[i]) for i in sorted(set(indices))[:wanted])
        return release

    def _owner(self, var: int) -> str:
        """Return the package whose version ``var`` is (variables are consecutive)."""
        self._sync()
        return self._owners[bisect_right(self._starts, var) - 1]

    def call(self, assumptions: list[int]) -> bool:
        """Solve under ``assumptions`` and close the model; false if unsatisfiable.

        Unloaded versions are assumed false (:meth:`_blocked`); when that makes the
        call unsatisfiable, the failed assumptions say which packages need another
        version: the best blocked version of each is loaded and the call repeated. A
        core without blocked versions is a proof over clauses of the whole universe.
        """
        solve = True
        while True:
            if solve or not self.model_ok:
                blocked = self._blocked()
                if not self._solve([*assumptions, *blocked]):
                    release = self._release(self.solver.get_core() or (), blocked)
                    if not release:
                        return False
                    self.load(release)
                    self._flush()
                    continue
                solve = False
            frontier, crowded = self._frontier()
            if crowded:
                # The model breaks constraints that were left out: add them, solve again.
                self.cnf.ensure_at_most_one(crowded)
            elif not frontier:
                return True
            else:
                self.load(frontier)
            self._flush()

    def load(self, frontier: list[tuple[str, Version]]) -> None:
        """Load the frontier's versions and, when speculating, the path they lead along.

        Speculation loads, for each requirement of a version just loaded, the best
        version inside its range, and so on down: the versions the next model will most
        likely select (the phases lean towards them), and the ones a newest-first
        resolver would look at next. One round then closes a whole path instead of one
        step of it. What is loaded never changes an answer (closed calls are exact),
        only how many rounds it takes.
        """
        cnf = self.cnf
        loaded = cnf.loaded
        steps = self.steps
        # A round of releases names up to dozens of versions of one package: hint them
        # all first, so that their metadata is fetched concurrently, not one at a time.
        # One hint each: every one of them is loaded next, none is speculative (a hint
        # of several versions is a batch a provider may thin out, sdists first).
        wanted: dict[str, list[Version]] = {}
        for package, version in frontier:
            if (package, version) not in loaded:
                wanted.setdefault(package, []).append(version)
        for package, versions in wanted.items():
            if len(versions) > 1:
                for version in versions:
                    cnf.universe.prefetch(package, [version])
        stack = frontier[::-1]
        while stack:
            package, version = stack.pop()
            if (package, version) in loaded:
                continue
            steps.load(cnf, package, version)
            self._blocked_lits.pop(-cnf.lit(package, version), None)
            if self.speculate:
                stack.extend(reversed(self._ahead(loaded[(package, version)])))

    def _ahead(self, deps: Sequence[Dependency]) -> list[tuple[str, Version]]:
        """Return the best version in range of each requirement no loaded version meets."""
        cnf = self.cnf
        loaded = cnf.loaded
        ahead: list[tuple[str, Version]] = []
        for dep in deps:
            target = dep.package
            allowed = cnf.allowed(target, dep.range)
            if not allowed:
                continue
            versions = cnf.versions[target]
            if any((target, versions[i]) in loaded for i in allowed):
                continue  # the model can already take a known version there
            ahead.append((target, versions[allowed[0]]))
        return ahead

    def _frontier(self) -> tuple[list[tuple[str, Version]], list[str]]:
        """Return the model's unloaded reachable versions and its crowded packages.

        The first are the versions it selects, reachable from the root, whose
        requirements are unknown; the second, the reached packages of which it takes
        several versions.
        """
        cnf = self.cnf
        first = cnf.first
        versions = cnf.versions
        loaded = cnf.loaded_vars
        seen = set(self.roots)
        queue = list(self.roots)
        frontier: list[tuple[str, Version]] = []
        crowded: list[str] = []
        reached: dict[str, int] = {}
        model = self.model
        for package in queue:
            # A package's variables are consecutive, and the model satisfies the clause
            # that requires the package, so the largest literal of the slice is a true
            # one. It is the only one exactly when the slice sums to it minus the other
            # variables. (Variables that no clause mentions may postdate the model: they
            # are false, and the slice is shorter.)
            start = first[package]
            candidates = versions[package]
            values = model[start - 1 : start - 1 + len(candidates)]
            var = max(values)
            size = len(values)
            if sum(values) != 2 * var - (2 * start + size - 1) * size // 2:
                crowded.append(package)
            reached[package] = var - start
            deps = loaded.get(var)
            if deps is None:
                frontier.append((package, candidates[var - start]))
                continue
            for dep in deps:
                if dep.package not in seen:
                    seen.add(dep.package)
                    queue.append(dep.package)
        if not frontier and not crowded:
            self.witness = reached
        return frontier, crowded

    def _call_any(self, lits: Sequence[int]) -> bool:
        """Solve with the decisions and "one of ``lits``" (via a one-off activation literal)."""
        act = self.cnf.fresh()
        self.solver.add_clause([-act, *lits])
        found = self.call([*self.fixed, act])
        self.solver.add_clause([-act])  # retire the activation literal for good
        return found

    # -- the search --------------------------------------------------------------

    def run(self) -> dict[str, Version] | None:
        """Return the greedy choice of every required package, or ``None`` if unsatisfiable."""
        try:
            if self.speculate:
                self.load(self._ahead(self.root_deps))
            if not self.call([]):
                return None
            while len(self.fixed) < len(self.order):
                package = self.order[len(self.fixed)]
                self._commit(package, self._decide(package))
            return dict(zip(self.order, self.chosen, strict=True))
        finally:
            self.solver.delete()

    def _decide(self, package: str) -> int:
        """Return the index of the best version consistent with the decisions so far.

        The witness satisfies the decisions, so it picks a version of ``package`` (which
        the decisions require); only better versions that every decided dependent
        admits are tried: first the best alone, then "any of the rest", then halves.
        """
        lits = self.cnf.lits[package]
        hi = self.witness[package]
        admitted = self._admitted(package)
        better = [i for i in admitted if i < hi]
        if not better:
            return hi
        if self.call([*self.fixed, lits[better[0]]]):
            return better[0]
        better = better[1:]
        while better:
            half = better if len(better) == 1 else better[: (len(better) + 1) // 2]
            if self._call_any([lits[i] for i in half]):
                hi = self.witness[package]
                better = [i for i in half if i < hi]
            else:
                better = better[len(half) :]
        return hi

    def _admitted(self, package: str) -> list[int]:
        """Return the indices of the versions every decided dependent admits, best first.

        The intersection is kept and extended by the demands added since the last call:
        demands only grow, and recomputed each time they cost O(n^2) where n dependents
        require one package (each of a project's 2,000 extras requires the project).
        """
        demands = self.demands[package]
        done, admitted = self._admitted_memo.get(package, (0, None))
        for rng in demands[done:]:
            allowed = self.cnf.allowed(package, rng)
            admitted = set(allowed) if admitted is None else admitted.intersection(allowed)
        self._admitted_memo[package] = (len(demands), admitted)
        return sorted(admitted or ())

    def _commit(self, package: str, index: int) -> None:
        version = self.cnf.versions[package][index]
        reporter = self.steps.reporter
        if reporter is not None:
            reporter.decided(package, version)
        self.fixed.append(self.cnf.lits[package][index])
        self.chosen.append(version)
        phases: list[int] = []
        for dep in self.cnf.loaded[(package, version)]:
            self.demands.setdefault(dep.package, []).append(dep.range)
            if dep.package not in self.queued:
                self.queued.add(dep.package)
                self.order.append(dep.package)
            # Lean the solver towards the best version the decisions still admit, so
            # that its models (and the versions they make us load) follow the greedy.
            admitted = self._admitted(dep.package)
            best = admitted[0] if admitted else -1
            lits = self.cnf.lits[dep.package]
            phases.extend(lit if i == best else -lit for i, lit in enumerate(lits))
        if phases:
            self.solver.set_phases(phases)


def _optimal(cnf: Cnf, steps: _Steps, root_deps: Sequence[Dependency]) -> dict[str, Version] | None:
    """Return a rank-sum optimum over the full universe, or ``None`` if unsatisfiable.

    Each round solves the MaxSAT problem over the clauses known so far, then loads the
    reachable selected versions whose requirements are unknown; a round that loads
    nothing is optimal for the whole universe (``specs/encoding.md``).
    """
    # RC2 and WCNF cost ~25 ms of imports that only ``--optimal`` needs.
    from pysat.examples.rc2 import RC2  # noqa: PLC0415
    from pysat.formula import WCNF  # noqa: PLC0415

    while True:
        wcnf = WCNF()
        for clause in cnf.all_clauses():
            wcnf.append(clause)
        for lits in cnf.lits.values():
            for rank, lit in enumerate(lits):
                if rank:
                    wcnf.append([-lit], weight=rank)
        cnf.drain()
        cnf.drain_phases()
        steps.before_call()
        with RC2(wcnf, solver=RC2_BACKEND) as rc2:
            model = rc2.compute()
        if model is None:
            return None
        true = {lit for lit in model if lit > 0}
        selected: dict[str, Version] = {}
        pending: list[tuple[str, Version]] = []
        queue = [dep.package for dep in root_deps]
        while queue:
            package = queue.pop(0)
            if package in selected:
                continue
            versions = cnf.versions[package]
            index = next(i for i, lit in enumerate(cnf.lits[package]) if lit in true)
            version = versions[index]
            selected[package] = version
            deps = cnf.loaded.get((package, version))
            if deps is None:
                pending.append((package, version))
            else:
                queue.extend(dep.package for dep in deps)
        if not pending:
            return selected
        for package, version in pending:
            steps.load(cnf, package, version)
