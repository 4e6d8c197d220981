"""The dependency tree of an environment: roots, repeats, cycles and extras."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from resolvent.project.tree import TreeOptions, render_tree

if TYPE_CHECKING:
    from collections.abc import Iterator

MARKERS = {"python_version": "3.12", "sys_platform": "linux"}


@dataclass
class _Meta:
    requires_dist: tuple[Requirement, ...]


class _Dist:
    """The part of an installed distribution the tree reads."""

    def __init__(self, name: str, *requires: str) -> None:
        self.name = canonicalize_name(name)
        self.version = Version("1.0")
        self._meta = _Meta(tuple(Requirement(r) for r in requires))

    def display_name(self) -> str:
        return self.name

    def metadata(self) -> _Meta:
        return self._meta


class _Site:
    def __init__(self, *dists: _Dist) -> None:
        self.dists = sorted(dists, key=lambda d: d.name)

    def __iter__(self) -> Iterator[_Dist]:
        return iter(self.dists)


def _tree(site: Any, **options: Any) -> list[str]:
    return render_tree(site, MARKERS, TreeOptions(**options))


def test_repeats_are_marked_once_drawn_and_drawn_again_without_dedupe() -> None:
    site = _Site(_Dist("a", "c"), _Dist("b", "c"), _Dist("c", "d"), _Dist("d"))
    assert _tree(site) == [
        "a v1.0",
        "└── c v1.0",
        "    └── d v1.0",
        "b v1.0",
        "└── c v1.0 (*)",
        "(*) Package tree already displayed",
    ]
    assert _tree(site, dedupe=False)[-2:] == ["└── c v1.0", "    └── d v1.0"]


def test_a_cycle_nothing_else_requires_is_drawn_and_stops() -> None:
    site = _Site(_Dist("a", "b"), _Dist("b", "a"))
    assert _tree(site) == [
        "a v1.0",
        "└── b v1.0",
        "    └── a v1.0 (*)",
        "(*) Package tree already displayed",
    ]


def test_a_package_below_a_cycle_is_not_a_root() -> None:
    site = _Site(_Dist("a"), _Dist("b", "c", "a"), _Dist("c", "b"))
    assert _tree(site) == [
        "b v1.0",
        "├── a v1.0",
        "└── c v1.0",
        "    └── b v1.0 (*)",
        "(*) Package tree already displayed",
    ]


def test_asked_packages_are_drawn_once() -> None:
    site = _Site(_Dist("a", "b>=1"), _Dist("b"))
    packages = frozenset({NormalizedName("a"), NormalizedName("b")})
    assert _tree(site, packages=packages) == ["a v1.0", "└── b v1.0"]
    inverted = _tree(site, invert=True, show_specifiers=True)
    assert inverted == ["b v1.0", "└── a v1.0 [requires: b >=1]"]


def test_extras_asked_by_a_dependent_and_markers() -> None:
    site = _Site(
        _Dist("app", "lib[fast]", "winonly; sys_platform == 'win32'"),
        _Dist("lib", "speedup; extra == 'fast'", "slowpath; extra == 'slow'"),
        _Dist("speedup"),
        _Dist("slowpath"),
        _Dist("winonly"),
    )
    assert _tree(site) == [
        "app v1.0",
        "└── lib v1.0",
        "    └── speedup v1.0",
        "slowpath v1.0",
        "winonly v1.0",
    ]
