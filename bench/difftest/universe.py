"""Random small package universes: what each version requires, and what the user asks for.

A universe is a handful of projects named ``s<seed>u<idx>-<letter>`` (so one index
folder can serve a whole batch without collisions), each with a few versions drawn from
a fixed pool of final releases, pre-releases and rare forms (post releases, local
versions). Each version requires later projects (and sometimes earlier ones, which makes
cycles), through specifiers of every PEP 440 kind, sometimes with an extra or a marker.
The root requirements name one to three projects; the run's flags choose a resolution
and a pre-release mode.

``full`` turns every feature on: more versions and dependencies per project, non-normalised
spellings of names (``S1U2_A``), extras with names that need normalising
(``Dev.Tools``), requirements of a project on itself, root requirements naming
pre-releases, yanked versions pinned under a marker, every resolution and pre-release
mode. Without it the universes are gentler: they find the common bugs faster and
explain more easily.

The generator is deterministic: the same (seed, index, full) gives the same universe on
every machine, so a seed and an index are a complete reproduction. Its random calls are
made in the order of the first throwaway tester's, so that tester's seeds still name the
same universes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from packaging.requirements import Requirement
from packaging.version import Version

__all__ = ["RandomUniverse", "Release", "generate"]

#: The versions a project may have (a pool: each project takes a random subset).
FINALS = (
    "0.1", "0.5", "1.0", "1.0.1", "1.1", "1.2", "1.2.3", "1.5",
    "2.0", "2.1", "2.5", "3.0", "3.1", "4.0",
)  # fmt: skip
PRERELEASES = ("1.0a1", "1.1rc1", "2.0b1", "2.0rc1", "3.0a2", "1.5.dev1", "4.0b2")
RARE = ("1.0.post1", "2.0.post1", "1.1+local", "2.1+cpu")

#: Markers that hold, and markers that do not, on the target (CPython 3.11, x86_64 Linux).
MARKERS_TRUE = (
    'python_version >= "3.11"',
    'sys_platform == "linux"',
    'platform_machine == "x86_64"',
    'implementation_name == "cpython"',
    'python_version > "3.8"',
)
MARKERS_FALSE = (
    'python_version < "3.10"',
    'sys_platform == "win32"',
    'os_name == "nt"',
    'python_version >= "3.12"',
    'platform_system == "Darwin"',
)
#: ``Requires-Python`` values; several have upper bounds, which uv (and resolvent) ignore.
REQUIRES_PYTHON = (
    ">=3.8", ">=3.10", ">=3.12", ">=3.11", "<3.11", ">=3.7,<3.11", "==3.10.*",
    "~=3.10.0", ">=3.11.2", ">3.11", "!=3.11.*", ">=3.9,!=3.11.*", ">=3.13", "~=3.9",
)  # fmt: skip


@dataclass
class Release:
    """One version of a project: one wheel on the index."""

    version: str
    requires: list[str] = field(default_factory=list)
    #: Extra name -> its requirements (written with ``extra == "name"`` markers).
    extras: dict[str, list[str]] = field(default_factory=dict)
    requires_python: str | None = None
    yanked: bool = False


@dataclass
class RandomUniverse:
    """A generated universe and the question asked of it (root requirements and flags)."""

    seed: int
    idx: int
    packages: dict[str, list[Release]]
    root: list[str]
    resolution: str = "highest"
    prerelease: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the universe as JSON data (the case files' ``universe.json`` format)."""
        return {
            "seed": self.seed,
            "idx": self.idx,
            "packages": {
                name: [
                    {
                        "version": r.version,
                        "requires": list(r.requires),
                        "extras": {k: list(v) for k, v in r.extras.items()},
                        "requires_python": r.requires_python,
                        "yanked": r.yanked,
                    }
                    for r in releases
                ]
                for name, releases in self.packages.items()
            },
            "root": list(self.root),
            "resolution": self.resolution,
            "prerelease": self.prerelease,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RandomUniverse:
        """Read :meth:`to_json`'s format (also the first tester's ``universe.json``)."""
        return cls(
            seed=int(data.get("seed", 0)),
            idx=int(data.get("idx", 0)),
            packages={
                name: [
                    Release(
                        version=item["version"],
                        requires=list(item.get("requires", [])),
                        extras={k: list(v) for k, v in item.get("extras", {}).items()},
                        requires_python=item.get("requires_python"),
                        yanked=bool(item.get("yanked", False)),
                    )
                    for item in items
                ]
                for name, items in data["packages"].items()
            },
            root=list(data["root"]),
            resolution=data.get("resolution") or "highest",
            prerelease=data.get("prerelease"),
        )

    def describe(self) -> str:
        """Return the universe as lines a person reads (``universe.txt`` of a case)."""
        lines = []
        for name, releases in self.packages.items():
            for r in releases:
                notes = " YANKED" if r.yanked else ""
                if r.requires_python:
                    notes += f" requires-python={r.requires_python!r}"
                extras = f" extras={r.extras}" if r.extras else ""
                lines.append(f"{name} {r.version}{notes}: requires {r.requires}{extras}")
        lines.append(f"root (in.txt): {self.root}")
        lines.append(f"flags: {' '.join(self.flags()) or '(defaults)'}")
        return "\n".join(lines) + "\n"

    def flags(self) -> list[str]:
        """Return the resolution and pre-release flags both compilers are given."""
        out = []
        if self.resolution != "highest":
            out += ["--resolution", self.resolution]
        if self.prerelease:
            out += ["--prerelease", self.prerelease]
        return out


class _Generator:
    """One universe's random choices (the order of calls is part of the seed's meaning)."""

    def __init__(self, seed: int, idx: int, *, full: bool) -> None:
        # Reproducibility, not secrecy: a seed must name the same universe everywhere.
        self.rng = random.Random(seed * 100003 + idx)  # noqa: S311
        self.full = full

    def versions(self) -> list[str]:
        rng = self.rng
        n = rng.randint(3, 9) if self.full else rng.randint(1, 8)
        chosen = set(rng.sample(FINALS, min(n, len(FINALS))))
        if rng.random() < 0.35:
            chosen |= set(rng.sample(PRERELEASES, rng.randint(1, 2)))
        if rng.random() < (0.25 if self.full else 0.08):
            chosen.add(rng.choice(RARE))
        if rng.random() < 0.05:  # only pre-releases
            chosen = set(rng.sample(PRERELEASES, rng.randint(1, 3)))
        # Sets iterate in hash order; sorting first keeps the choice of spelling among
        # equal versions (none in the pools today) independent of it.
        seen: dict[Version, str] = {}
        for v in sorted(chosen):
            seen.setdefault(Version(v), v)
        return sorted(seen.values(), key=Version)

    def specifier(self, versions: list[str]) -> str:
        """Return a random specifier, mostly about the project's own versions."""
        rng = self.rng
        v = rng.choice(versions)
        kind = rng.random()
        if rng.random() < 0.08:  # a version the project may not have
            v = rng.choice(FINALS + PRERELEASES)
        parsed = Version(v)
        base, rel = parsed.public, parsed.release
        if kind < 0.18:
            return ""
        if kind < 0.28:
            return f"=={base}"
        if kind < 0.36:
            return f"!={base}"
        if kind < 0.52:
            return f">={base}"
        if kind < 0.62:
            return f"<{base}"
        if kind < 0.74:
            low, high = (
                sorted(rng.sample(versions, 2), key=Version)
                if len(versions) >= 2
                else (versions[0], versions[0])
            )
            if low == high:
                return f">={Version(low).public}"
            return f">={Version(low).public},<{Version(high).public}"
        if kind < 0.82:
            return f"~={rel[0]}.0" if len(rel) == 1 else f"~={'.'.join(map(str, rel))}"
        if kind < 0.90:
            if rng.random() < 0.6 or len(rel) < 2:
                return f"=={rel[0]}.*"
            return f"=={rel[0]}.{rel[1]}.*"
        if kind < 0.93:
            return f"!={rel[0]}.*"
        if kind < 0.97:
            return f">{base}"
        return f"<={base}"

    def spell(self, name: str) -> str:
        """Sometimes a non-normalised spelling of a project name."""
        if self.full and self.rng.random() < 0.15:
            return self.rng.choice(
                [
                    name.upper(),
                    name.replace("-", "_"),
                    name.replace("-", "."),
                    name.title().replace("-", "_"),
                ]
            )
        return name


def generate(seed: int, idx: int, *, full: bool = False) -> RandomUniverse:
    """Return universe ``idx`` of ``seed`` (see the module's docstring for ``full``)."""
    g = _Generator(seed, idx, full=full)
    rng = g.rng
    npk = rng.randint(4, 9) if full else rng.randint(3, 12)
    names = [f"s{seed}u{idx}-{chr(97 + i)}" for i in range(npk)]
    versions = {n: g.versions() for n in names}
    has_extra = {n: rng.random() < (0.5 if full else 0.25) for n in names}
    extra_name = {n: (rng.choice(["x", "dev_tools"]) if full else "x") for n in names}

    def requirement(source: int | None) -> str:
        """Return a requirement of project ``source`` (None: the root's) on a random project."""
        if source is None:
            j = rng.randrange(min(npk, 4)) if rng.random() < 0.7 else rng.randrange(npk)
        else:
            later = list(range(source + 1, npk))
            j = rng.choice(later) if later and rng.random() < 0.92 else rng.randrange(npk)
        target = names[j]
        spec = g.specifier(versions[target])
        extras = ""
        if has_extra[target] and rng.random() < (0.5 if full else 0.35):
            extra = extra_name[target]
            if extra == "dev_tools":
                extra = rng.choice(["dev_tools", "dev-tools", "Dev.Tools"])
            extras = f"[{extra}]"
        text = f"{g.spell(target)}{extras}{spec}"
        if rng.random() < (0.2 if full else 0.12):
            marker = rng.choice(MARKERS_TRUE if rng.random() < 0.5 else MARKERS_FALSE)
            text += f" ; {marker}"
        return text

    packages: dict[str, list[Release]] = {}
    for i, name in enumerate(names):
        releases = []
        for v in versions[name]:
            if i == npk - 1:
                ndeps = rng.choice([0, 0, 0, 1])
            else:
                ndeps = rng.choice([1, 1, 2, 2, 3, 4] if full else [0, 0, 1, 1, 1, 2, 2, 3])
            requires: list[str] = []
            targets: set[str] = set()
            for _ in range(ndeps):
                text = requirement(i)
                target = Requirement(text).name
                if target in targets and rng.random() < 0.7:
                    continue
                targets.add(target)
                requires.append(text)
            extras: dict[str, list[str]] = {}
            if has_extra[name] and rng.random() < 0.85:
                extras[extra_name[name]] = [requirement(i) for _ in range(rng.randint(1, 2))]
            requires_python = (
                rng.choice(REQUIRES_PYTHON) if rng.random() < (0.18 if full else 0.12) else None
            )
            yanked = rng.random() < 0.08
            releases.append(Release(v, requires, extras, requires_python, yanked))
        packages[name] = releases
    if full:
        _add_self_requirements(
            g,
            names=names,
            versions=versions,
            packages=packages,
            has_extra=has_extra,
            extra_name=extra_name,
        )
    root = [requirement(None) for _ in range(rng.randint(1, 3))]
    if full and rng.random() < 0.15:  # a root requirement naming a pre-release
        name = rng.choice(names[:4])
        pre = rng.choice(PRERELEASES)
        op = rng.choice([">=", ">", "==", "!=", "<", "~="])
        root.append(f"{name}{op}{pre}")
    yanked_all = [(n, r.version) for n, rs in packages.items() for r in rs if r.yanked]
    if yanked_all and rng.random() < 0.3:  # an exact pin of a yanked version
        name, v = rng.choice(yanked_all)
        pin = f"{name}=={v}" if "+" in v else f"{name}=={Version(v).public}"
        if full and rng.random() < 0.3:
            pin += " ; " + rng.choice(MARKERS_TRUE + MARKERS_FALSE)
        root.append(pin)
    draw = rng.random()
    resolution = "lowest" if draw < 0.25 else "highest"
    if full and draw > 0.9:
        resolution = "lowest-direct"
    draw = rng.random()
    prerelease = None
    if draw < 0.2:
        prerelease = "allow"
    elif draw < 0.26 and not full:
        prerelease = rng.choice(["if-necessary", "explicit", "disallow"])
    if full:
        resolution = rng.choice(["highest", "highest", "lowest", "lowest-direct"])
        prerelease = rng.choice([None, "allow", "disallow", "if-necessary", "explicit"])
    return RandomUniverse(seed, idx, packages, root, resolution, prerelease)


def _add_self_requirements(
    g: _Generator,
    *,
    names: list[str],
    versions: dict[str, list[str]],
    packages: dict[str, list[Release]],
    has_extra: dict[str, bool],
    extra_name: dict[str, str],
) -> None:
    """Give a few versions a requirement on their own project (specifier, extra, marker)."""
    rng = g.rng
    for name in names:
        for release in packages[name]:
            if rng.random() >= 0.07:
                continue
            spec = g.specifier(versions[name])
            extra = f"[{extra_name[name]}]" if has_extra[name] and rng.random() < 0.3 else ""
            text = f"{g.spell(name)}{extra}{spec}"
            if rng.random() < 0.2:
                text += " ; " + rng.choice(MARKERS_TRUE + MARKERS_FALSE)
            if not release.extras or rng.random() < 0.7:
                release.requires.append(text)
            else:
                next(iter(release.extras.values())).append(text)
