"""The clause encoding of a universe: one Boolean per (package, version), grown lazily.

Each known package gets one variable per choosable version (``universe.versions``, best
first) and an at-most-one constraint over them (added on demand with
``lazy_at_most_one``). Each loaded version ``p == v`` adds one
clause per dependency, ``x[p,v] -> OR x[q,w] for w in range``, and the root adds one
clause per root requirement. Versions whose metadata is unavailable get the unit clause
``-x[p,v]``. Every clause except the at-most-one constraints belongs to a
:class:`Group`, the unit an unsatisfiability explanation speaks about.

The encoding follows ``pubgrub-rs/pubgrub: tests/sat_dependency_provider.rs``; see
``specs/encoding.md`` for the argument that it is exact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal

from resolvent.solver._internal.version_index import position_of, version_positions
from resolvent.solver.provider import Unavailable
from resolvent.solver.ranges import exactly
from resolvent.solver.universe import ROOT, ROOT_VERSION, Dependency, base_name
from resolvent.value_class import Value

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from packaging.version import Version

    from resolvent.solver.ranges import VersionRange
    from resolvent.solver.universe import Universe

__all__ = ["Cnf", "Group", "GroupKind"]

GroupKind = Literal["root", "dependency", "unavailable"]

# At most this many versions use the pairwise at-most-one encoding; above it, the
# sequential counter (3n clauses, n auxiliary variables) is smaller.
_PAIRWISE_LIMIT = 6


class Group(Value):
    """One requirement group: a clause that an explanation can cite as a sentence.

    ``kind`` is ``root`` (the user requires ``target``), ``dependency`` (``package ==
    version`` requires ``target`` in ``range``) or ``unavailable`` (``package == version``
    cannot be used because ``reason``).
    """

    __slots__ = (
        "clause",
        "index",
        "kind",
        "package",
        "range",
        "reason",
        "specifier",
        "target",
        "version",
    )

    def __init__(  # noqa: PLR0917 - the fields in order, as the dataclass took them
        self,
        index: int,
        kind: GroupKind,
        package: str,
        version: Version,
        target: str | None,
        range: VersionRange | None,  # noqa: A002
        specifier: str,
        reason: str,
        clause: tuple[int, ...],
    ) -> None:
        self.index: Final = index
        self.kind: Final = kind
        self.package: Final = package
        self.version: Final = version
        self.target: Final = target
        self.range: Final = range
        self.specifier: Final = specifier
        self.reason: Final = reason
        self.clause: Final = clause


class _Pool:
    """The highest variable handed out so far (``top``), as pysat's ``IDPool`` keeps it.

    A plain counter: the encoding allocates its variables itself (consecutive per
    package), and pysat is imported only when a constraint needs its cardinality
    encodings (:meth:`Cnf._add_at_most_one`). A confirmation that decides its call by
    evaluation (``SatEngine.confirm``) needs no pysat at all: its import (20-25 ms of
    CPU on a busy machine) cost about a fifth of confirming airflow's answer.
    """

    __slots__ = ("top",)

    def __init__(self) -> None:
        self.top = 0


class Cnf:
    """The clauses known so far for one universe, and where each came from.

    :param universe: the problem; read lazily through ``versions`` and ``dependencies``.
    :param lazy_at_most_one: leave out the at-most-one constraints until
        :meth:`ensure_at_most_one` asks for them (see ``_Greedy`` in
        :mod:`resolvent.solver.sat`, which adds them for the packages whose models
        take two versions); :meth:`all_clauses` always has them all.
    :param bind_extras: add each extra's "same version as its base" clauses for all of
        its versions when the extra is first met (:meth:`_bind_extra`), rather than with
        the requirements of each version loaded. A search wants them (its cores stay
        small); confirming an answer does not: every version it does not load is assumed
        false, so the clauses of those versions hold anyway, and on airflow's answer
        they were two clauses in three (``specs/encoding.md``, section 6).
    :param interrupt: called before each read of the universe that may wait (a new
        package's versions, a version's requirements: on a real index, a page or
        metadata fetch each); it raises to stop. Loading one version lists every new
        package it requires, one read each, so a caller that can only stop between
        loads waits for all of them: the SAT engine's time-boxed second opinion ran
        over its 0.2 s by over a second, fetching (:mod:`resolvent.solver.crosscheck`).

    New clauses accumulate until :meth:`drain` hands them to an incremental solver.

    Example::

        cnf = Cnf(universe)
        cnf.load_root()
        solver.append_formula(cnf.drain())
    """

    def __init__(
        self,
        universe: Universe,
        *,
        lazy_at_most_one: bool = False,
        bind_extras: bool = True,
        interrupt: Callable[[], None] | None = None,
    ) -> None:
        self.universe = universe
        self.bind_extras = bind_extras
        self.lazy_at_most_one = lazy_at_most_one
        self.interrupt = interrupt
        # Packages whose at-most-one constraint has been added.
        self._constrained: set[str] = set()
        self.pool = _Pool()
        self.lits: dict[str, tuple[int, ...]] = {}
        # package -> its first variable: a package's variables are consecutive, best
        # version first, so ``first + index`` is the variable of its ``index``-th version.
        self.first: dict[str, int] = {}
        self.versions: dict[str, Sequence[Version]] = {}
        self.at_most_one: list[list[int]] = []
        self.groups: list[Group] = []
        self.loaded: dict[tuple[str, Version], tuple[Dependency, ...]] = {}
        # The same, keyed by the version's variable: cheaper to look up than a
        # (name, Version) pair in the search's inner loops (no tuple, no version hash).
        self.loaded_vars: dict[int, tuple[Dependency, ...]] = {}
        # package -> {version: index}, made only for a package whose version is looked
        # up by value and not found among its first few (see :meth:`index_of`).
        self._positions: dict[str, dict[Version, int]] = {}
        # (package, id(range)) -> (range, indices): keyed by identity because hashing a
        # VersionRange is slow, and ranges repeat as the same (cached) objects; the range
        # is kept in the value so its id cannot be reused.
        self._allowed: dict[tuple[str, int], tuple[VersionRange, tuple[int, ...]]] = {}
        self._pending: list[list[int]] = []
        self._phases: list[int] = []
        self.clause_count = 0

    # -- variables ---------------------------------------------------------------

    def package_lits(self, package: str) -> tuple[int, ...]:
        """Return the variables of ``package``'s versions, best first, creating them."""
        lits = self.lits.get(package)
        if lits is not None:
            return lits
        if self.interrupt is not None:
            self.interrupt()
        versions = self.universe.versions(package)
        # Consecutive fresh variables, allocated directly (no IDPool entry per version).
        start = self.pool.top + 1
        self.pool.top += len(versions)
        end = start + len(versions)
        lits = tuple(range(start, end))
        self.lits[package] = lits
        self.first[package] = start if lits else 0
        self.versions[package] = versions
        if not self.lazy_at_most_one:
            self._add_at_most_one(package)
        # Phases: lean towards the best version, away from the others.
        if lits:
            self._phases.append(start)
            self._phases.extend(range(-start - 1, -end, -1))
        if self.bind_extras and "[" in package:
            self._bind_extra(package, versions)
        return lits

    def _bind_extra(self, package: str, versions: Sequence[Version]) -> None:
        """Add ``foo[bar]==w -> foo==w`` for every version of the extra, loaded or not.

        Every version of a virtual extra package depends on its base project at the same
        version (the universe builds extras so), which needs no metadata to know. Known
        up front, it keeps an extra's versions other than the base's choice out of the
        unsatisfiable cores: otherwise, once the base is settled, each blocked version of
        the extra looks like a way out, and the cores release them round after round
        (on airflow's set, hundreds of ``kombu[redis]`` versions), each a metadata read.
        The clauses are the same dependency groups loading would add (so explanations
        read the same); :meth:`load` then skips them.
        """
        base = base_name(package)
        self.package_lits(base)
        start = self.first[package]
        # The universe lists an extra's versions as its base's (the same sequence), so
        # the base's variable of each version sits at the same offset.
        same = self.versions[base] is versions
        base_start = self.first[base]
        for offset, version in enumerate(versions):
            clause = [-(start + offset)]
            if same:
                clause.append(base_start + offset)
            else:
                index = self.index_of(base, version)
                if index is not None:
                    clause.append(base_start + index)
            self._add_group(
                "dependency",
                package,
                version,
                target=base,
                rng=exactly(version),
                specifier=f"=={version}",
                clause=clause,
            )

    def _add_at_most_one(self, package: str) -> None:
        self._constrained.add(package)
        lits = self.lits[package]
        if len(lits) > 1:
            from pysat.card import CardEnc, EncType  # noqa: PLC0415 - pysat loads when used

            small = len(lits) <= _PAIRWISE_LIMIT
            encoding = EncType.pairwise if small else EncType.seqcounter
            # Auxiliary variables follow the highest one handed out, as with an IDPool.
            amo = CardEnc.atmost(list(lits), bound=1, top_id=self.pool.top, encoding=encoding)
            self.pool.top = max(self.pool.top, amo.nv)
            clauses = amo.clauses
            self.at_most_one.extend(clauses)
            self._pending.extend(clauses)

    def ensure_at_most_one(self, packages: Iterable[str]) -> None:
        """Add the at-most-one constraints of these known packages, if not yet added."""
        for package in packages:
            if package not in self._constrained:
                self._add_at_most_one(package)

    def lit(self, package: str, version: Version) -> int:
        """Return the variable of ``package == version`` (a known version of a known package)."""
        index = self.index_of(package, version)
        if index is None:
            raise KeyError((package, version))
        return self.first[package] + index

    def index_of(self, package: str, version: Version) -> int | None:
        """Return the index of ``version`` among ``package``'s versions, if it is one.

        The versions asked about are nearly always the listed objects themselves, near
        the best end (a search loads the best versions first): found by identity among
        the first few. Otherwise a map of the package's versions is made once: making
        one for every package up front (54,000 versions on airflow's set, each hashed)
        was the largest cost of building an encoding.
        """
        versions = self.versions.get(package)
        if versions is None:
            return None
        return position_of(versions, version, lambda: self._positions_of(package, versions))

    def _positions_of(self, package: str, versions: Sequence[Version]) -> dict[Version, int]:
        positions = self._positions.get(package)
        if positions is None:
            positions = self._positions[package] = version_positions(versions)
        return positions

    def fresh(self) -> int:
        """Return a new variable that belongs to no package (selectors, activations)."""
        self.pool.top += 1
        return int(self.pool.top)

    # -- clauses -----------------------------------------------------------------

    def load_root(self) -> tuple[Dependency, ...]:
        """Add the root requirements' clauses and return the root's dependencies."""
        deps = self.universe.dependencies(ROOT, ROOT_VERSION)
        assert not isinstance(deps, Unavailable)
        deps = tuple(deps)
        for dep in deps:
            self._add_dependency(ROOT, ROOT_VERSION, None, dep)
        self.loaded[(ROOT, ROOT_VERSION)] = deps
        return deps

    def load(self, package: str, version: Version) -> tuple[Dependency, ...]:
        """Add the clauses of ``package == version``'s requirements; return them.

        Loading twice is harmless (the second call returns the first answer). Every
        target's versions are listed, and the best allowed version of each target is
        announced to the provider through ``universe.prefetch``.
        """
        known = self.loaded.get((package, version))
        if known is not None:
            return known
        own = self.lit(package, version)
        if self.interrupt is not None:
            self.interrupt()
        deps = self.universe.dependencies(package, version)
        if isinstance(deps, Unavailable):
            self._add_group("unavailable", package, version, reason=deps.reason, clause=[-own])
            self.loaded[(package, version)] = ()
            self.loaded_vars[own] = ()
            return ()
        deps = tuple(deps)
        base = base_name(package) if self.bind_extras and "[" in package else None
        for dep in deps:
            if base is not None and dep.package == base and dep.range == exactly(version):
                continue  # added with the extra's variables (``_bind_extra``)
            self._add_dependency(package, version, own, dep)
        self.loaded[(package, version)] = deps
        self.loaded_vars[own] = deps
        if self.universe.prefetching:
            for dep in deps:
                hint = self.best_unloaded(dep.package, dep.range)
                if hint is not None:
                    self.universe.prefetch(dep.package, [hint])
        return deps

    def allowed(self, package: str, rng: VersionRange) -> tuple[int, ...]:
        """Return the indices of ``package``'s versions inside ``rng``, best first."""
        key = (package, id(rng))
        found = self._allowed.get(key)
        if found is None:
            # Positions in the preference order are the variables' offsets. The index
            # bisects a long history to the range's intervals and lets ``filter`` decide
            # membership there (deep backtracking asks this of thousands of ranges over
            # packages with a thousand versions). Every solver range admits pre-releases
            # by its own policy, which the index states again, so it agrees with
            # ``contains`` exactly.
            found = (rng, tuple(self.universe.index(package).positions(rng)))
            self._allowed[key] = found
        return found[1]

    def best_unloaded(self, package: str, rng: VersionRange) -> Version | None:
        """Return the best version of ``package`` in ``rng`` if its requirements are unknown."""
        allowed = self.allowed(package, rng)
        if not allowed:
            return None
        version = self.versions[package][allowed[0]]
        return None if (package, version) in self.loaded else version

    def _add_dependency(
        self, package: str, version: Version, own: int | None, dep: Dependency
    ) -> None:
        lits = self.package_lits(dep.package)
        allowed = [lits[i] for i in self.allowed(dep.package, dep.range)]
        clause = allowed if own is None else [-own, *allowed]
        kind: GroupKind = "root" if own is None else "dependency"
        self._add_group(
            kind,
            package,
            version,
            target=dep.package,
            rng=dep.range,
            specifier=dep.specifier,
            clause=clause,
        )

    def _add_group(
        self,
        kind: GroupKind,
        package: str,
        version: Version,
        *,
        target: str | None = None,
        rng: VersionRange | None = None,
        specifier: str = "",
        reason: str = "",
        clause: list[int],
    ) -> None:
        group = Group(
            len(self.groups), kind, package, version, target, rng, specifier, reason, tuple(clause)
        )
        self.groups.append(group)
        self._pending.append(clause)

    def drain(self) -> list[list[int]]:
        """Return the clauses added since the last call, in the order they were made."""
        pending, self._pending = self._pending, []
        self.clause_count += len(pending)
        return pending

    def drain_phases(self) -> list[int]:
        """Return the preferred polarities of variables created since the last call."""
        phases, self._phases = self._phases, []
        return phases

    def all_clauses(self) -> list[list[int]]:
        """Return every clause so far: at-most-one constraints, then groups in order."""
        self.ensure_at_most_one(list(self.lits))
        return [*self.at_most_one, *(list(g.clause) for g in self.groups)]
