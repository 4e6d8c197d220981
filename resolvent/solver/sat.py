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

from typing import TYPE_CHECKING

from pysat.examples.rc2 import RC2
from pysat.formula import WCNF
from pysat.solvers import Solver

from resolvent.solver._internal.cnf import Cnf
from resolvent.solver._internal.sat_explain import minimal_core, render
from resolvent.solver.result import BudgetExceeded, NoSolution, Solution
from resolvent.solver.universe import ROOT, ROOT_VERSION

if TYPE_CHECKING:
    from collections.abc import Sequence

    from packaging.version import Version

    from resolvent.solver.provider import Reporter
    from resolvent.solver.result import Outcome
    from resolvent.solver.universe import Universe

__all__ = ["BACKEND", "SatEngine"]

#: The pysat backend of the incremental solver (see ``specs/encoding.md`` for figures).
BACKEND = "minisat22"
#: The SAT oracle inside RC2 for ``optimal`` mode.
RC2_BACKEND = "g4"
WARM_UP = True


class _Steps:
    """Counts SAT calls and loaded versions against a budget; polls cancellation."""

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

    def before_call(self) -> None:
        if self.reporter is not None and self.reporter.should_cancel():
            raise BudgetExceeded(SatEngine.name, self.steps)
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
        if reporter is not None:
            reporter.starting(self.name)
        steps = _Steps(budget, reporter)
        cnf = Cnf(universe)
        root_deps = cnf.load_root()
        if self.optimal:
            selected = _optimal(cnf, steps)
        else:
            selected = _Greedy(cnf, steps, [d.package for d in root_deps]).run()
        stats = {
            "sat_calls": steps.sat_calls,
            "variables": int(cnf.pool.top),
            "clauses": cnf.clause_count,
            "loaded": steps.loaded,
        }
        if selected is None:
            core = minimal_core(cnf, BACKEND, steps.before_call)
            keys = {key for g in core for key in (g.package, g.target) if key not in (None, ROOT)}
            stats["sat_calls"] = steps.sat_calls
            return NoSolution(
                engine=self.name,
                explanation=render(universe, core),
                core=tuple(sorted(k for k in keys if k is not None)),
                stats=stats,
            )
        return Solution(engine=self.name, selected=selected, stats=stats)


class _Greedy:
    """The lexicographic greedy search over one incremental solver.

    ``fixed`` holds one assumption literal per decided package, in breadth-first order;
    ``order`` lists the packages that the root and the decided versions require, in the
    order they were discovered.
    """

    def __init__(self, cnf: Cnf, steps: _Steps, root_targets: Sequence[str]) -> None:
        self.cnf = cnf
        self.steps = steps
        self.solver = Solver(name=BACKEND)
        self.order: list[str] = list(dict.fromkeys(root_targets))
        self.root_count = len(self.order)
        self.queued: set[str] = set(self.order)
        self.fixed: list[int] = []
        self.chosen: list[Version] = []
        self.marks: list[int] = []  # len(order) right after each decision
        self.position: dict[int, int] = {}  # assumption literal -> index in fixed
        self.model: list[int] = []  # pysat model: model[v - 1] is +v or -v

    # -- the solver --------------------------------------------------------------

    def _flush(self) -> None:
        clauses = self.cnf.drain()
        if clauses:
            self.solver.append_formula(clauses)
        phases = self.cnf.drain_phases()
        if phases:
            self.solver.set_phases(phases)

    def _call(self, assumptions: list[int]) -> bool:
        self.steps.before_call()
        self._flush()
        if self.solver.solve(assumptions=assumptions):
            self.model = self.solver.get_model()
            return True
        return False

    def _core(self) -> list[int]:
        return list(self.solver.get_core() or ())

    # -- the search --------------------------------------------------------------

    def _warm_up(self) -> bool:
        """Load what models reach until a model reaches only loaded versions.

        Returns false if the formula is unsatisfiable. The greedy search that follows
        then meets most conflicts as clauses already known instead of as backtracks.
        """
        while True:
            if not self._call([]):
                return False
            pending = self._model_frontier()
            if not pending:
                return True
            for package, version in pending:
                self.steps.load(self.cnf, package, version)

    def _model_frontier(self) -> list[tuple[str, Version]]:
        """Return the model's selected versions reachable from the root, not yet loaded."""
        model = self.model
        cnf = self.cnf
        seen = set(self.order[: self.root_count])
        queue = list(self.order[: self.root_count])
        pending: list[tuple[str, Version]] = []
        for package in queue:
            lits = cnf.lits[package]
            index = next(i for i, lit in enumerate(lits) if model[lit - 1] > 0)
            version = cnf.versions[package][index]
            deps = cnf.loaded.get((package, version))
            if deps is None:
                pending.append((package, version))
                continue
            for dep in deps:
                if dep.package not in seen:
                    seen.add(dep.package)
                    queue.append(dep.package)
        return pending

    def run(self) -> dict[str, Version] | None:
        """Return the greedy choice of every required package, or ``None`` if unsatisfiable."""
        try:
            if WARM_UP and not self._warm_up():
                return None
            while True:
                k = len(self.fixed)
                if k == len(self.order):
                    if self._call(self.fixed):
                        return self._selected()
                    if not self._backtrack(self._core()):
                        return None
                    continue
                package = self.order[k]
                choice = self._decide(package)
                if choice is None:
                    if not self._backtrack(self._core()):
                        return None
                    continue
                self._commit(package, choice)
        finally:
            self.solver.delete()

    def _selected(self) -> dict[str, Version]:
        return dict(zip(self.order, self.chosen, strict=True))

    def _decide(self, package: str) -> int | None:
        """Return the index of the best consistent version, or ``None`` if none is.

        ``None`` leaves the solver's last answer an unsatisfiable call under exactly the
        current decisions, so its core names decisions to undo.
        """
        lits = self.cnf.package_lits(package)
        assumptions = self.fixed
        if lits:
            if self._call([*assumptions, lits[0]]):
                return 0
            core = self._core()
            if lits[0] not in core:
                return None  # the decisions so far are already inconsistent
        # Invariant: lits[:lo] are each inconsistent with the decisions; find the first
        # consistent one with "any of lits[lo:hi]" queries (hi: a known consistent one).
        lo, hi = 1, len(lits)
        if lo < hi and self._call_any(assumptions, lits[lo:hi]):
            hi = self._model_index(lits)
            while lo < hi:
                mid = (lo + hi - 1) // 2
                if self._call_any(assumptions, lits[lo : mid + 1]):
                    hi = self._model_index(lits)
                else:
                    lo = mid + 1
            return hi
        # No version fits; the package is required by a decision (or the root), so the
        # decisions are inconsistent: ask again for a core over them alone.
        self._call(assumptions)
        return None

    def _call_any(self, assumptions: list[int], lits: Sequence[int]) -> bool:
        """Solve with the decisions and "one of ``lits``" (via a one-off activation literal)."""
        act = self.cnf.fresh()
        self.solver.add_clause([-act, *lits])
        found = self._call([*assumptions, act])
        self.solver.add_clause([-act])  # retire the activation literal for good
        return found

    def _model_index(self, lits: Sequence[int]) -> int:
        model = self.model
        return next(i for i, lit in enumerate(lits) if model[lit - 1] > 0)

    def _commit(self, package: str, index: int) -> None:
        version = self.cnf.versions[package][index]
        lit = self.cnf.lits[package][index]
        reporter = self.steps.reporter
        if reporter is not None:
            reporter.decided(package, version)
        self.position[lit] = len(self.fixed)
        self.fixed.append(lit)
        self.chosen.append(version)
        self.steps.load(self.cnf, package, version)
        for dep in self.cnf.loaded[(package, version)]:
            if dep.package not in self.queued:
                self.queued.add(dep.package)
                self.order.append(dep.package)
        self.marks.append(len(self.order))

    def _backtrack(self, core: list[int]) -> bool:
        """Undo decisions down to the latest one in ``core``; false if ``core`` has none."""
        positions = [self.position[lit] for lit in core if lit in self.position]
        if not positions:
            return False
        keep = max(positions)
        reporter = self.steps.reporter
        if reporter is not None:
            undone = self.order[keep]
            reporter.conflict(f"{undone}=={self.chosen[keep]} conflicts with earlier choices")
        for lit in self.fixed[keep:]:
            del self.position[lit]
        del self.fixed[keep:]
        del self.chosen[keep:]
        del self.marks[keep:]
        cut = self.marks[-1] if self.marks else self.root_count
        for package in self.order[cut:]:
            self.queued.discard(package)
        del self.order[cut:]
        return True


def _optimal(cnf: Cnf, steps: _Steps) -> dict[str, Version] | None:
    """Return a rank-sum optimum over the full universe, or ``None`` if unsatisfiable.

    Each round solves the MaxSAT problem over the clauses known so far, then loads the
    reachable selected versions whose requirements are unknown; a round that loads
    nothing is optimal for the whole universe (``specs/encoding.md``).
    """
    root_deps = cnf.loaded[(ROOT, ROOT_VERSION)]
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
