"""An independent oracle for one universe: is an answer valid, is there any solution.

It shares no code with resolvent's solver: markers are evaluated with
``packaging.markers``, versions tested with ``SpecifierSet.contains``, and the search is
a plain depth-first search over every candidate version (complete, so its "no solution"
is a proof, within a node budget). Both compilers are held to the rules resolvent
documents as uv's:

- ``Requires-Python`` counts by its lower bound only (``<3.11`` admits 3.11;
  ``==3.10.*`` and ``~=3.10.0`` mean ``>=3.10``; ``!=`` bounds nothing);
- a yanked version may be chosen only where a root requirement pins it with ``==``;
- ``disallow`` forbids pre-releases; ``explicit`` forbids them except for projects a
  root requirement names a pre-release of (packaging's ``SpecifierSet.prereleases``);
  the other modes allow any (``if-necessary`` only prefers final releases, and
  preference is not validity).

uv's default (``if-necessary-or-explicit``) is stricter than resolvent's reading of it:
it admits a project's pre-releases only when all its versions are pre-releases or one is
named. Where that matters the oracle sides with resolvent, and the classification says
so (see :mod:`bench.difftest.compare`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from bench.difftest.wheels import metadata_requirements

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from bench.difftest.universe import RandomUniverse, Release

__all__ = ["PYTHON", "TARGET_MARKERS", "BruteResult", "Oracle", "python_admits"]

#: The target both compilers are given (``--python-version 3.11 --python-platform
#: x86_64-manylinux_2_28``), as marker variables.
TARGET_MARKERS: dict[str, str] = {
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_release": "",
    "platform_version": "",
    "implementation_version": "3.11.0",
    "extra": "",
}
PYTHON = Version("3.11")

#: Depth-first nodes before the search gives up (answering "unknown"); the universes are
#: small, and this keeps a pathological one to a few seconds.
NODE_LIMIT = 300_000


def python_admits(requires_python: str | None, python: Version = PYTHON) -> bool:
    """Whether ``requires_python`` admits ``python`` by its lower bound (uv's rule).

    >>> python_admits("<3.11"), python_admits("==3.10.*"), python_admits(">3.11")
    (True, True, False)
    """
    if not requires_python:
        return True
    for spec in SpecifierSet(requires_python):
        op, text = spec.operator, spec.version
        bound = Version(text.removesuffix(".*"))
        if op in (">=", "~=", "==") and python < bound:
            return False
        if op == ">" and not python > bound:
            return False
    return True


def _holds(requirement: Requirement, extra: str = "") -> bool:
    if requirement.marker is None:
        return True
    env = dict(TARGET_MARKERS)
    env["extra"] = extra
    return requirement.marker.evaluate(env)


@dataclass(frozen=True)
class BruteResult:
    """The search's answer: ``satisfiable`` is None when it ran out of nodes."""

    satisfiable: bool | None
    solution: dict[str, str] | None
    nodes: int


class _OutOfNodesError(Exception):
    """The search exceeded its node budget."""


class Oracle:
    """The universe as the oracle sees it (with ``packaging`` only)."""

    def __init__(self, universe: RandomUniverse) -> None:
        self.universe = universe
        self.releases: dict[str, dict[Version, Release]] = {
            canonicalize_name(name): {Version(r.version): r for r in releases}
            for name, releases in universe.packages.items()
        }
        self._names: dict[str, str] = {canonicalize_name(n): n for n in universe.packages}
        self.root = [r for r in map(Requirement, universe.root) if _holds(r)]
        self.pinned: dict[str, set[Version]] = {}
        for r in self.root:
            for spec in r.specifier:
                if spec.operator in ("==", "===") and not spec.version.endswith(".*"):
                    name = canonicalize_name(r.name)
                    self.pinned.setdefault(name, set()).add(Version(spec.version))
        self.explicit = {canonicalize_name(r.name) for r in self.root if r.specifier.prereleases}
        self.mode = universe.prerelease or "if-necessary-or-explicit"
        self._deps: dict[tuple[str, Version, frozenset[str]], list[Requirement]] = {}

    # -- the rules ------------------------------------------------------------------

    def prerelease_allowed(self, name: str) -> bool:
        """Whether the pre-release mode lets ``name``'s pre-releases be chosen at all."""
        return not (
            self.mode == "disallow" or (self.mode == "explicit" and name not in self.explicit)
        )

    def candidates(self, name: str) -> list[Version]:
        """Return the versions of ``name`` a valid answer may choose, newest first."""
        out = []
        for version, release in self.releases.get(name, {}).items():
            if release.yanked and version not in self.pinned.get(name, set()):
                continue
            if not python_admits(release.requires_python):
                continue
            if version.is_prerelease and not self.prerelease_allowed(name):
                continue
            out.append(version)
        return sorted(out, reverse=True)

    def requirements(self, name: str, version: Version, extras: Iterable[str]) -> list[Requirement]:
        """Return what ``name==version`` with ``extras`` requires on the target."""
        key = (name, version, frozenset(extras))
        found = self._deps.get(key)
        if found is None:
            release = self.releases[name][version]
            found = []
            for requirement in metadata_requirements(self._names[name], release):
                if any(_holds(requirement, e) for e in ("", *sorted(key[2]))):
                    found.append(requirement)
            self._deps[key] = found
        return found

    # -- checking an answer ------------------------------------------------------------

    def check(self, pins: Mapping[str, str]) -> tuple[list[str], list[str]]:
        """Return (violations, notes) of a compiler's pins; no violation: a valid answer.

        Notes are harmless oddities (a pin nothing requires).
        """
        violations: list[str] = []
        notes: list[str] = []
        selected = {canonicalize_name(n): Version(v) for n, v in pins.items()}
        reached: dict[str, set[str]] = {}
        queue: list[tuple[str | None, Requirement]] = [(None, r) for r in self.root]
        while queue:
            parent, requirement = queue.pop()
            name = canonicalize_name(requirement.name)
            who = parent or "root"
            if name not in selected:
                violations.append(f"{who} requires {requirement} but {name} is not pinned")
                continue
            if not requirement.specifier.contains(selected[name], prereleases=True):
                violations.append(f"{who} requires {requirement} but {name}=={selected[name]}")
            extras = {canonicalize_name(e) for e in requirement.extras}
            first = name not in reached
            new = extras - reached.get(name, set())
            reached.setdefault(name, set()).update(extras)
            if first or new:
                if selected[name] not in self.releases.get(name, {}):
                    violations.append(f"{name}=={selected[name]} is not in the universe")
                    continue
                queue += [(name, d) for d in self.requirements(name, selected[name], reached[name])]
        for name, version in selected.items():
            if name not in reached:
                notes.append(f"{name}=={version} pinned but nothing requires it")
                continue
            release = self.releases.get(name, {}).get(version)
            if release is None:
                continue
            if release.yanked and version not in self.pinned.get(name, set()):
                violations.append(f"{name}=={version} is yanked and not pinned with ==")
            if not python_admits(release.requires_python):
                violations.append(f"{name}=={version} requires Python {release.requires_python}")
            if version.is_prerelease and not self.prerelease_allowed(name):
                violations.append(f"{name}=={version} is a pre-release under {self.mode}")
        return violations, notes

    # -- searching ---------------------------------------------------------------------

    def brute(self, limit: int = NODE_LIMIT) -> BruteResult:
        """Search every assignment depth-first; the first solution found is newest-first.

        Each node assigns the open project with the fewest fitting candidates (a
        complete search whatever the order), so "unsatisfiable" is exhaustive.
        """
        candidates = {n: self.candidates(n) for n in self.releases}
        nodes = 0

        def solve(
            assign: dict[str, Version],
            extras_on: dict[str, set[str]],
            pending: list[tuple[str | None, Requirement]],
        ) -> dict[str, Version] | None:
            nonlocal nodes
            nodes += 1
            if nodes > limit:
                raise _OutOfNodesError
            assign = dict(assign)
            extras_on = {k: set(v) for k, v in extras_on.items()}
            pending = list(pending)
            open_: list[tuple[str | None, Requirement]] = []
            while pending:
                parent, requirement = pending.pop()
                name: str = canonicalize_name(requirement.name)
                if name not in assign:
                    open_.append((parent, requirement))
                    continue
                if not requirement.specifier.contains(assign[name], prereleases=True):
                    return None
                new = {canonicalize_name(e) for e in requirement.extras} - extras_on.setdefault(
                    name, set()
                )
                if new:
                    extras_on[name] |= new
                    pending += [(name, d) for d in self.requirements(name, assign[name], new)]
            if not open_:
                return assign
            by_name: dict[str, list[Requirement]] = {}
            for _, requirement in open_:
                by_name.setdefault(canonicalize_name(requirement.name), []).append(requirement)
            best: tuple[str, list[Version]] | None = None
            for name, reqs in by_name.items():
                fitting = [
                    v
                    for v in candidates.get(name, [])
                    if all(r.specifier.contains(v, prereleases=True) for r in reqs)
                ]
                if best is None or len(fitting) < len(best[1]):
                    best = (name, fitting)
            assert best is not None
            name, fitting = best
            extras = {canonicalize_name(e) for r in by_name[name] for e in r.extras}
            rest = [(p, r) for p, r in open_ if canonicalize_name(r.name) != name]
            for version in fitting:
                found = solve(
                    {**assign, name: version},
                    {**extras_on, name: set(extras)},
                    rest + [(name, d) for d in self.requirements(name, version, extras)],
                )
                if found is not None:
                    return found
            return None

        try:
            found = solve({}, {}, [(None, r) for r in self.root])
        except _OutOfNodesError:
            return BruteResult(None, None, nodes)
        if found is None:
            return BruteResult(satisfiable=False, solution=None, nodes=nodes)
        solution = {k: str(v) for k, v in sorted(found.items())}
        return BruteResult(satisfiable=True, solution=solution, nodes=nodes)
