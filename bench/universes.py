"""Synthetic universes for solver benchmarks: generated package graphs with known shapes.

Each generator returns a :class:`Synthetic`: a dictionary in the shape
:meth:`~resolvent.solver.memory.InMemoryProvider.from_simple` reads
(``{name: {version: [requirement, ...]}}``) that also carries the root requirements, and
builds a :class:`~resolvent.solver.universe.Universe` for the default target (CPython
3.12 on ``x86_64-manylinux_2_28``). Every generator is deterministic for its arguments and
seed, and every universe it makes is satisfiable by construction.

- :func:`layered`: the adversarial shape. The newest versions of each layer narrow their
  requirements on the next layer into windows that shift with the version and differ from
  parent to parent, so the newest combinations are mutually incompatible; a consistent
  assignment is planted low in the version lists.
- :func:`wide`: many packages with loose requirements; the newest version of everything
  works (the easy case: cost is proportional to the size of the graph).
- :func:`chain`: one long chain of exact pins with holes in the version lists; only the
  newest version present in every package works, so the conflict appears at the bottom.

Example::

    synthetic = layered(packages=200, versions=30)
    universe = synthetic.universe()
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from resolvent.solver.memory import InMemoryProvider
from resolvent.solver.scenario import DEFAULT_PLATFORM
from resolvent.solver.universe import Universe
from resolvent.target import Target, parse_platform

__all__ = ["Synthetic", "chain", "layered", "wide"]

Table = dict[str, dict[str, list[str]]]


class Synthetic(dict[str, dict[str, list[str]]]):
    """A generated package table (``from_simple`` shape) plus its root requirements.

    ``planted`` is a solution the generator guarantees (``{name: version}``); it need not
    be the preferred one.
    """

    def __init__(self, table: Table, root: list[str], planted: dict[str, str]) -> None:
        super().__init__(table)
        self.root: tuple[str, ...] = tuple(root)
        self.planted: dict[str, str] = dict(planted)

    def provider(self) -> InMemoryProvider:
        """Return a fresh in-memory provider over the table."""
        return InMemoryProvider.from_simple(self)

    def universe(self, python: str = "3.12", platform: str = DEFAULT_PLATFORM) -> Universe:
        """Return a fresh universe (new provider, empty caches) for the target."""
        target = Target(Version(python), parse_platform(platform))
        return Universe(
            self.provider(),
            [Requirement(r) for r in self.root],
            target.markers(),
            target.python_version,
        )

    def to_scenario(self, name: str) -> str:
        """Return the universe as a packse scenario file, for ``resolvent solve``."""
        lines = [
            f'name = "{name}"',
            'description = "A synthetic universe made by bench/universes.py."',
            "",
            "[root]",
            f"requires = [{', '.join(json.dumps(r) for r in self.root)}]",
            "",
            "[expected]",
            "satisfiable = true",
        ]
        for package, versions in sorted(self.items()):
            for version, requires in versions.items():
                lines.extend(("", f'[packages.{package}.versions."{version}"]'))
                lines.append('requires_python = ">=3"')
                if requires:
                    lines.append(f"requires = [{', '.join(json.dumps(r) for r in requires)}]")
        return "\n".join(lines) + "\n"


_SINK = "sink"


def _version(k: int) -> str:
    return f"{k}.0.0"


def layered(
    packages: int = 200,
    versions: int = 30,
    layers: int | None = None,
    *,
    fanout: int = 3,
    window: int = 2,
    seed: int = 0,
) -> Synthetic:
    """Return the adversarial layered universe.

    Packages ``l<i>p<j>`` sit in ``layers`` layers (default: one per 40 packages, at least
    two); the root requires every package of layer 0. Each package of a layer but the last
    depends on ``fanout`` packages of the next layer. Every package has versions ``1.0.0``
    to ``<versions>.0.0`` and a planted version ``s`` in the lowest quarter of them:

    - version ``k <= s`` requires each child ``q`` at ``<= s(q)``, so the planted
      assignment (every package at its ``s``) is a solution;
    - version ``k > s`` requires each child in a window of ``window`` versions strictly
      above ``s(q)``, placed by a pseudo-random function of the parent, ``k`` and the
      child. Windows of different parents of one child rarely overlap, so the newest
      versions conflict with each other, and each conflict is one specific combination
      that ranges cannot summarise: the shape on which PubGrub backtracks for a long time.

    :param packages: how many packages in total (at least one per layer).
    :param versions: versions per package (at least 2).
    :param layers: how many layers; default ``max(2, packages // 40)``.
    :param fanout: children per package in the next layer.
    :param window: width of the version window a non-planted version requires.
    :param seed: the random seed; equal arguments give equal universes.
    """
    if layers is None:
        layers = max(2, packages // 40)
    if versions < 2 or layers < 1 or packages < layers:
        raise ValueError("layered() needs versions >= 2 and at least one package per layer")
    rng = random.Random(seed)  # noqa: S311 - benchmark data, not cryptography
    width = [packages // layers + (1 if i < packages % layers else 0) for i in range(layers)]
    names = [[f"l{i}p{j}" for j in range(width[i])] for i in range(layers)]
    planted = {name: rng.randint(1, max(1, versions // 4)) for layer in names for name in layer}
    # The bottom layer agrees through one shared package: its planted version is 1.0.0
    # and non-planted versions of bottom packages pin it to scattered exact versions.
    planted[_SINK] = 1
    table: Table = {_SINK: {_version(k): [] for k in range(1, versions + 1)}}
    for i, layer in enumerate(names):
        below = names[i + 1] if i + 1 < layers else []
        for name in layer:
            children = sorted(rng.sample(below, min(fanout, len(below))))
            if not below:
                children = [_SINK]
            salt = {
                child: (rng.randrange(1, 1 << 16), rng.randrange(1 << 16)) for child in children
            }
            entries: dict[str, list[str]] = {}
            for k in range(1, versions + 1):
                requires = []
                for child in children:
                    low = planted[child]
                    if k <= planted[name]:
                        requires.append(f"{child}<={_version(low)}")
                        continue
                    room = versions - low  # versions strictly above the planted one
                    span = 1 if child == _SINK else min(window, room)
                    if span <= 0:
                        # No version above the planted one exists; pin the planted one.
                        requires.append(f"{child}=={_version(low)}")
                        continue
                    a, b = salt[child]
                    start = low + 1 + (a * k + b) % (room - span + 1)
                    requires.append(f"{child}>={_version(start)},<={_version(start + span - 1)}")
                entries[_version(k)] = requires
            table[name] = entries
    return Synthetic(
        table, list(names[0]), {name: _version(k) for name, k in sorted(planted.items())}
    )


def wide(packages: int = 500, versions: int = 10, *, deps: int = 2, seed: int = 0) -> Synthetic:
    """Return a wide, easy universe: the newest version of every package works.

    The root requires every package ``w<i>``; each version of ``w<i>`` depends on up to
    ``deps`` packages with a higher index, with lower bounds every version of them meets
    half the time and loose ranges the newest version meets otherwise.

    :param packages: how many packages.
    :param versions: versions per package.
    :param deps: dependencies per version (on later packages, so the graph is acyclic).
    :param seed: the random seed.
    """
    rng = random.Random(seed)  # noqa: S311 - benchmark data, not cryptography
    names = [f"w{i}" for i in range(packages)]
    table: Table = {}
    for i, name in enumerate(names):
        later = names[i + 1 :]
        entries: dict[str, list[str]] = {}
        for k in range(1, versions + 1):
            requires = []
            for child in sorted(rng.sample(later, min(deps, len(later)))):
                if rng.random() < 0.5:
                    requires.append(f"{child}>=1.0.0")
                else:
                    low = rng.randint(1, versions)
                    requires.append(f"{child}>={_version(low)},<{versions + 1}.0.0")
            entries[_version(k)] = requires
        table[name] = entries
    planted = {name: _version(versions) for name in names}
    return Synthetic(table, list(names), planted)


def chain(length: int = 100, versions: int = 10, *, holes: float = 0.3, seed: int = 0) -> Synthetic:
    """Return a chain ``c0 -> c1 -> ... `` of exact pins with holes in the version lists.

    Version ``k`` of ``c<i>`` requires ``c<i+1>==k``. Each package lacks a random
    ``holes`` share of the versions above ``1.0.0``, so only the versions every package
    publishes work, and a resolver that takes the newest of ``c0`` first learns that only
    at the far end of the chain. The root requires ``c0``.

    :param length: how many packages in the chain.
    :param versions: the highest version number.
    :param holes: the share of versions (above ``1.0.0``) each package leaves out.
    :param seed: the random seed.
    """
    rng = random.Random(seed)  # noqa: S311 - benchmark data, not cryptography
    names = [f"c{i}" for i in range(length)]
    present = [[1, *(k for k in range(2, versions + 1) if rng.random() >= holes)] for _ in names]
    table: Table = {}
    for i, name in enumerate(names):
        last = i + 1 == length
        table[name] = {
            _version(k): [] if last else [f"{names[i + 1]}=={_version(k)}"] for k in present[i]
        }
    common = max(set.intersection(*(set(p) for p in present)))
    planted = {name: _version(common) for name in names}
    return Synthetic(table, [names[0]], planted)


def main(argv: list[str] | None = None) -> int:
    """Write a generated universe as a scenario file: ``python -m bench.universes``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("shape", choices=["layered", "wide", "chain"])
    parser.add_argument("--packages", type=int, default=200)
    parser.add_argument("--versions", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.shape == "layered":
        made = layered(args.packages, args.versions, seed=args.seed)
    elif args.shape == "wide":
        made = wide(args.packages, args.versions, seed=args.seed)
    else:
        made = chain(args.packages, args.versions, seed=args.seed)
    text = made.to_scenario(f"{args.shape}-{args.packages}x{args.versions}-seed{args.seed}")
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
