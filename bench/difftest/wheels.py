"""Write a universe as real wheels (one per version) into an index folder.

The wheels come from the test suite's builder (:mod:`tests.support.dists`), so the
tester and the tests write the same files: ``METADATA`` with ``Requires-Dist``,
``Provides-Extra`` and ``Requires-Python``, a valid ``RECORD``. A yanked version gets
the ``.yanked`` side file that ``resolvent index serve`` reads (PEP 592). The oracle reads
each version's requirements back from the same ``METADATA`` text the compilers see
(:func:`metadata_requirements`), so an extra's marker is combined exactly as on the index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.requirements import Requirement

from tests.support.dists import Dist, build_wheel, metadata_text
from tests.support.index import yank

if TYPE_CHECKING:
    from pathlib import Path

    from bench.difftest.universe import RandomUniverse, Release

__all__ = ["metadata_requirements", "write_wheels"]

_PREFIX = "Requires-Dist: "


def _dist(name: str, release: Release) -> Dist:
    return Dist(
        name=name,
        version=release.version,
        requires=release.requires,
        extras=release.extras,
        requires_python=release.requires_python,
    )


def write_wheels(universe: RandomUniverse, folder: Path) -> list[Path]:
    """Build every version of ``universe`` as a wheel into ``folder``; return the paths."""
    paths = []
    for name, releases in universe.packages.items():
        for release in releases:
            path = build_wheel(folder, _dist(name, release))
            if release.yanked:
                yank(path)
            paths.append(path)
    return paths


def metadata_requirements(name: str, release: Release) -> list[Requirement]:
    """Return the ``Requires-Dist`` entries of ``release``'s wheel, as the index serves them."""
    text = metadata_text(_dist(name, release))
    return [
        Requirement(line.removeprefix(_PREFIX))
        for line in text.splitlines()
        if line.startswith(_PREFIX)
    ]
