"""Tests of the synthetic benchmark universes in ``bench/universes.py``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from bench.universes import Synthetic, chain, layered, wide
from resolvent.solver.checker import check_solution
from resolvent.solver.memory import InMemoryProvider
from resolvent.solver.provider import Unavailable
from resolvent.solver.result import Solution
from resolvent.solver.sat import SatEngine

if TYPE_CHECKING:
    from collections.abc import Callable

_LAYER = re.compile(r"l(\d+)p\d+")


def _planted_is_consistent(synthetic: Synthetic) -> bool:
    """Every requirement of every planted version admits the planted version it names."""
    for name, version in synthetic.planted.items():
        for text in synthetic[name][version]:
            requirement = Requirement(text)
            chosen = synthetic.planted[requirement.name]
            if not requirement.specifier.contains(chosen, prereleases=True):
                return False
    return all(
        Requirement(r).specifier.contains(synthetic.planted[Requirement(r).name])
        for r in synthetic.root
    )


def _sat_solution(synthetic: Synthetic) -> dict[str, str]:
    universe = synthetic.universe()
    outcome = SatEngine().solve(universe)
    assert isinstance(outcome, Solution)
    assert check_solution(universe, outcome.selected) == []
    return {str(name): str(version) for name, version in outcome.packages().items()}


def test_layered_shape() -> None:
    synthetic = layered(packages=40, versions=8, layers=4)
    layers = {name: int(m.group(1)) for name in synthetic if (m := _LAYER.fullmatch(name))}
    assert len(layers) == 40
    assert sorted(layers.values()) == sorted([0, 1, 2, 3] * 10)
    assert set(synthetic) - set(layers) == {"sink"}
    assert all(len(versions) == 8 for versions in synthetic.values())
    assert synthetic.root == tuple(sorted(n for n, layer in layers.items() if layer == 0))
    for name, layer in layers.items():
        for requirements in synthetic[name].values():
            targets = {Requirement(r).name for r in requirements}
            if layer == 3:
                assert targets == {"sink"}
            else:
                assert len(targets) == 3
                assert {layers[t] for t in targets} == {layer + 1}


def test_layered_newest_versions_narrow_above_the_planted_ones() -> None:
    synthetic = layered(packages=30, versions=12, layers=3, window=2)
    for name, versions in synthetic.items():
        if name == "sink":
            continue
        planted = Version(synthetic.planted[name])
        for version, requirements in versions.items():
            for text in requirements:
                requirement = Requirement(text)
                child_planted = synthetic.planted[requirement.name]
                admits_planted = requirement.specifier.contains(child_planted)
                # Versions up to the planted one admit the child's planted version; the
                # newer ones require a window strictly above it.
                assert admits_planted == (Version(version) <= planted)


def test_layered_default_layers() -> None:
    synthetic = layered(packages=200, versions=3)
    assert {name.split("p")[0] for name in synthetic if name != "sink"} == {
        f"l{i}" for i in range(5)
    }


def test_layered_rejects_impossible_sizes() -> None:
    with pytest.raises(ValueError, match="one package per layer"):
        layered(packages=2, versions=5, layers=3)
    with pytest.raises(ValueError, match="versions >= 2"):
        layered(packages=10, versions=1)


@pytest.mark.parametrize(
    "make",
    [
        lambda seed: layered(packages=30, versions=8, layers=3, seed=seed),
        lambda seed: wide(packages=30, versions=5, seed=seed),
        lambda seed: chain(length=30, versions=8, seed=seed),
    ],
    ids=["layered", "wide", "chain"],
)
def test_generators_are_deterministic_for_a_seed(make: Callable[[int], Synthetic]) -> None:
    first, again, other = make(0), make(0), make(1)
    assert dict(first) == dict(again)
    assert first.root == again.root
    assert first.planted == again.planted
    assert dict(first) != dict(other)


@pytest.mark.parametrize(
    "synthetic",
    [
        layered(packages=12, versions=5, layers=3),
        layered(packages=30, versions=8, layers=3, seed=1),
        layered(packages=40, versions=10, layers=4, fanout=2, window=1, seed=2),
        wide(packages=40, versions=6),
        chain(length=30, versions=8),
        chain(length=30, versions=8, holes=0.6, seed=3),
    ],
    ids=["layered-12", "layered-30", "layered-40", "wide-40", "chain-30", "chain-holes"],
)
def test_small_universes_are_satisfiable(synthetic: Synthetic) -> None:
    assert _planted_is_consistent(synthetic)
    assert _sat_solution(synthetic)


def test_wide_takes_the_newest_of_everything() -> None:
    synthetic = wide(packages=40, versions=6)
    assert synthetic.root == tuple(f"w{i}" for i in range(40))
    assert _sat_solution(synthetic) == dict.fromkeys(synthetic, "6.0.0")


def test_chain_takes_the_newest_version_every_package_has() -> None:
    synthetic = chain(length=25, versions=10, seed=4)
    common = set.intersection(*(set(versions) for versions in synthetic.values()))
    best = str(max(Version(v) for v in common))
    assert synthetic.planted == dict.fromkeys(synthetic, best)
    assert _sat_solution(synthetic) == dict.fromkeys(synthetic, best)


def test_synthetic_is_a_from_simple_table() -> None:
    synthetic = chain(length=3, versions=2, holes=0.0)
    assert dict(synthetic) == {
        "c0": {"1.0.0": ["c1==1.0.0"], "2.0.0": ["c1==2.0.0"]},
        "c1": {"1.0.0": ["c2==1.0.0"], "2.0.0": ["c2==2.0.0"]},
        "c2": {"1.0.0": [], "2.0.0": []},
    }
    provider = InMemoryProvider.from_simple(synthetic)
    requirements = provider.get_requirements(canonicalize_name("c0"), Version("2.0.0"))
    assert not isinstance(requirements, Unavailable)
    assert [str(r) for r in requirements] == ["c1==2.0.0"]
    assert synthetic.provider().get_requirements(canonicalize_name("c2"), Version("1.0.0")) == ()
