"""Hypothesis strategies for the solver's property tests: random universes and specifiers.

A :class:`RandomUniverse` is a handful of packages ``p0..pN`` with a few versions each,
random requirements between them (``>=``, ``<``, ``==``, ``!=``, ... and sometimes none),
occasional extras, pre-releases, yanked versions, false markers and missing packages,
plus root requirements. It is plain data: :meth:`RandomUniverse.build` makes a fresh
:class:`~resolvent.solver.universe.Universe` over an
:class:`~resolvent.solver.memory.InMemoryProvider` each time it is called, and
:meth:`RandomUniverse.to_toml` renders it as a packse scenario, so a counterexample that
hypothesis finds can be replayed with ``resolvent solve``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.version import Version

from resolvent.solver.memory import InMemoryProvider, Release
from resolvent.solver.provider import VersionInfo
from resolvent.solver.scenario import DEFAULT_PLATFORM
from resolvent.solver.universe import Universe
from resolvent.target import Target, parse_platform

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "DETERMINISTIC",
    "RandomUniverse",
    "RandomVersion",
    "specifier_strings",
    "universes",
    "versions",
]

#: Every property test derives its settings from this profile: the same examples on every
#: run and machine (CI stays deterministic), no example database, no per-example deadline
#: (the first solve pays for imports).
DETERMINISTIC = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_TARGET = Target(Version("3.12"), parse_platform(DEFAULT_PLATFORM))

_FINALS = ("0.1", "1.0", "1.1", "1.5", "2.0", "2.1", "3.0")
_PRERELEASES = ("1.5rc1", "2.0a1", "3.0b1")
_OPERATORS = (">=", "<", "==", "!=", ">", "<=")
_EXTRA = "x"
#: A requirement on this name can never be met: no index lists it.
MISSING = "missing"


@dataclass(frozen=True, slots=True)
class RandomVersion:
    """One version of a random package: requirements, one optional extra, yanked or not."""

    version: str
    requires: tuple[str, ...] = ()
    extra_requires: tuple[str, ...] = ()
    yanked: bool = False

    def requirement_strings(self) -> tuple[str, ...]:
        """Return ``Requires-Dist`` lines: the plain ones, then the extra's with a marker."""
        return (
            *self.requires,
            *(_with_marker(r, f"extra == '{_EXTRA}'") for r in self.extra_requires),
        )


@dataclass(frozen=True, slots=True)
class RandomUniverse:
    """A random resolution problem as plain data, buildable any number of times."""

    packages: tuple[tuple[str, tuple[RandomVersion, ...]], ...]
    root: tuple[str, ...]

    def build(self) -> Universe:
        """Return a fresh universe (new provider, empty caches) for the target 3.12/Linux."""
        provider = InMemoryProvider(
            {
                name: [
                    Release(
                        VersionInfo(Version(item.version), yanked=item.yanked),
                        tuple(Requirement(r) for r in item.requirement_strings()),
                    )
                    for item in items
                ]
                for name, items in self.packages
            }
        )
        return Universe(
            provider,
            [Requirement(r) for r in self.root],
            _TARGET.markers(),
            _TARGET.python_version,
        )

    def edges(self) -> Iterator[tuple[int, int, int]]:
        """Yield ``(package, version, requirement)`` indexes of every dependency."""
        for i, (_, items) in enumerate(self.packages):
            for j, item in enumerate(items):
                for k in range(len(item.requires) + len(item.extra_requires)):
                    yield i, j, k

    def without(self, package: int, version: int, requirement: int) -> RandomUniverse:
        """Return a copy with one requirement of one version dropped."""
        name, items = self.packages[package]
        item = items[version]
        plain = len(item.requires)
        if requirement < plain:
            changed = replace(
                item, requires=item.requires[:requirement] + item.requires[requirement + 1 :]
            )
        else:
            cut = requirement - plain
            changed = replace(
                item,
                extra_requires=item.extra_requires[:cut] + item.extra_requires[cut + 1 :],
            )
        new_items = (*items[:version], changed, *items[version + 1 :])
        packages = list(self.packages)
        packages[package] = (name, new_items)
        return RandomUniverse(tuple(packages), self.root)

    def to_toml(self, name: str = "counterexample") -> str:
        """Render the universe as a packse scenario (expected outcome left to the reader)."""
        lines = [
            f"name = {json.dumps(name)}",
            'description = "Found by the property tests."',
            "",
            "[root]",
            f"requires = {json.dumps(list(self.root))}",
            "",
            "[expected]",
            "satisfiable = true",
        ]
        for package, items in self.packages:
            for item in items:
                lines += ["", f'[packages.{package}.versions."{item.version}"]']
                # The scenario format defaults requires-python to ">=3.12"; say "any".
                lines.append('requires_python = ">=3"')
                if item.requires:
                    lines.append(f"requires = {json.dumps(list(item.requires))}")
                if item.yanked:
                    lines.append("yanked = true")
                if item.extra_requires:
                    extras = json.dumps(list(item.extra_requires))
                    lines.append(f"extras = {{ {_EXTRA} = {extras} }}")
        return "\n".join(lines) + "\n"


def _with_marker(requirement: str, marker: str) -> str:
    head, sep, existing = requirement.partition(";")
    if not sep:
        return f"{head.strip()}; {marker}"
    return f"{head.strip()}; ({existing.strip()}) and {marker}"


_PERCENT = st.integers(0, 99)
_FINAL = st.sampled_from(_FINALS)
_PRERELEASE = st.sampled_from(_PRERELEASES)
_OPERATOR = st.sampled_from(_OPERATORS)
_CLAUSE_COUNT = st.integers(0, 2)
_MARKER = st.sampled_from(["; sys_platform == 'win32'", "; python_version >= '3.8'"])

# The helpers below take hypothesis's ``draw`` and module-level strategies: building
# strategies inside a draw costs more than the solving the tests are about.


def _weighted(draw: st.DrawFn, percent: int) -> bool:
    """Return true with roughly ``percent`` per cent probability (shrinks to false)."""
    return draw(_PERCENT) >= 100 - percent


def _version_string(draw: st.DrawFn) -> str:
    return draw(_PRERELEASE) if _weighted(draw, 15) else draw(_FINAL)


def _specifier(draw: st.DrawFn, most: int) -> str:
    count = min(draw(_CLAUSE_COUNT), most)
    return ",".join(draw(_OPERATOR) + _version_string(draw) for _ in range(count))


def _requirement(draw: st.DrawFn, names: st.SearchStrategy[str]) -> str:
    name = MISSING if _weighted(draw, 4) else draw(names)
    extras = f"[{_EXTRA}]" if _weighted(draw, 12) else ""
    text = f"{name}{extras}{_specifier(draw, 2)}"
    if _weighted(draw, 8):
        # A marker that is false on the target (ignored) or true (kept).
        text += draw(_MARKER)
    return text


def _requirements(
    draw: st.DrawFn, names: st.SearchStrategy[str], least: int, most: int
) -> tuple[str, ...]:
    count = draw(st.integers(least, most))
    return tuple(_requirement(draw, names) for _ in range(count))


@st.composite
def universes(
    draw: st.DrawFn, *, max_packages: int = 5, max_versions: int = 4, max_requires: int = 3
) -> RandomUniverse:
    """Draw a random universe of ``p0..pN`` with root requirements on some of them."""
    count = draw(st.integers(1, max_packages))
    names = tuple(f"p{i}" for i in range(count))
    pick_name = st.sampled_from(names)
    packages = []
    for name in names:
        listed: dict[Version, str] = {}
        for _ in range(draw(st.integers(1, max_versions))):
            text = _version_string(draw)
            listed.setdefault(Version(text), text)
        items = []
        for version in sorted(listed):
            requires = _requirements(draw, pick_name, 0, max_requires)
            extra_requires = _requirements(draw, pick_name, 1, 2) if _weighted(draw, 15) else ()
            items.append(
                RandomVersion(listed[version], requires, extra_requires, yanked=_weighted(draw, 10))
            )
        packages.append((name, tuple(items)))
    root: list[str] = []
    for _ in range(draw(st.integers(1, min(3, count)))):
        name = draw(pick_name)
        if _weighted(draw, 15):
            # An exact pin: the only way a yanked version may be chosen.
            pinned = [item.version for n, items in packages if n == name for item in items]
            root.append(f"{name}=={draw(st.sampled_from(pinned))}")
        else:
            extras = f"[{_EXTRA}]" if _weighted(draw, 12) else ""
            root.append(f"{name}{extras}{_specifier(draw, 1)}")
    return RandomUniverse(tuple(packages), tuple(root))


def _join_version(
    release: list[int],
    pre: tuple[str, int] | None,
    post: int | None,
    dev: int | None,
    local: str | None,
) -> str:
    text = ".".join(str(part) for part in release)
    if pre is not None:
        text += f"{pre[0]}{pre[1]}"
    if post is not None:
        text += f".post{post}"
    if dev is not None:
        text += f".dev{dev}"
    if local is not None:
        text += f"+{local}"
    return text


_RELEASE = st.lists(st.integers(0, 3), min_size=1, max_size=3)
_LONG_RELEASE = st.lists(st.integers(0, 3), min_size=2, max_size=3)
_VERSIONS: st.SearchStrategy[str] = st.builds(
    _join_version,
    _RELEASE,
    st.one_of(st.none(), st.tuples(st.sampled_from(["a", "b", "rc"]), st.integers(0, 2))),
    st.one_of(st.none(), st.integers(0, 2)),
    st.one_of(st.none(), st.integers(0, 2)),
    st.one_of(st.none(), st.sampled_from(["cpu", "gpu", "1", "abc.5"])),
)
_KIND = st.sampled_from(["ordered", "equal", "wildcard", "compatible", "local"])
_EQUALITY = st.sampled_from(["==", "!="])
_ORDERED = st.sampled_from(["<", "<=", ">", ">="])


def versions() -> st.SearchStrategy[str]:
    """Draw PEP 440 version strings with pre, post, dev and local segments."""
    return _VERSIONS


@st.composite
def _single_specifier(draw: st.DrawFn) -> str:
    kind = draw(_KIND)
    if kind == "wildcard":
        return f"{draw(_EQUALITY)}{'.'.join(str(p) for p in draw(_RELEASE))}.*"
    if kind == "compatible":
        return f"~={'.'.join(str(p) for p in draw(_LONG_RELEASE))}"
    version = draw(_VERSIONS)
    if kind == "local":
        # Only == and != may name a local version.
        return f"{draw(_EQUALITY)}{version}"
    public = version.split("+", 1)[0]
    if kind == "equal":
        return f"{draw(_EQUALITY)}{public}"
    return f"{draw(_ORDERED)}{public}"


_SPECIFIERS = st.lists(_single_specifier(), max_size=3).map(",".join)


def specifier_strings() -> st.SearchStrategy[str]:
    """Draw specifier sets of zero to three clauses (``""`` admits everything)."""
    return _SPECIFIERS
