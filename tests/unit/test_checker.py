from __future__ import annotations

from packaging.requirements import Requirement
from packaging.version import Version

from resolvent.solver.checker import check_solution
from resolvent.solver.memory import InMemoryProvider, Release
from resolvent.solver.provider import VersionInfo
from resolvent.solver.universe import Universe

V = Version
TABLE: dict[str, dict[str, list[str]]] = {
    "a": {"1.0": ["b>=2", "c[x]", "skip; sys_platform == 'win32'"], "2.0": ["b<2"]},
    "b": {"1.0": [], "2.0": []},
    "c": {"1.0": ["d; extra == 'x'"], "2.0": []},
    "d": {"1.0": []},
}


def universe(target, requires=("a==1.0",)):
    return Universe(
        InMemoryProvider.from_simple(TABLE),
        [Requirement(r) for r in requires],
        target.markers(),
        target.python_version,
    )


def test_valid_solution(target):
    selected = {"a": V("1.0"), "b": V("2.0"), "c": V("1.0"), "c[x]": V("1.0"), "d": V("1.0")}
    assert check_solution(universe(target), selected) == []


def test_each_kind_of_violation(target):
    u = universe(target)
    assert any("a==1.0" in p for p in check_solution(u, {"a": V("2.0"), "b": V("1.0")}))
    missing = check_solution(u, {"a": V("1.0"), "b": V("2.0"), "c": V("1.0"), "c[x]": V("1.0")})
    assert any("no version of `d`" in p for p in missing)
    wrong_range = check_solution(
        u, {"a": V("1.0"), "b": V("1.0"), "c": V("1.0"), "c[x]": V("1.0"), "d": V("1.0")}
    )
    assert any("`b==1.0` is chosen" in p for p in wrong_range)
    extra_mismatch = check_solution(
        u, {"a": V("1.0"), "b": V("2.0"), "c": V("2.0"), "c[x]": V("1.0"), "d": V("1.0")}
    )
    assert any("`c[x]==1.0` but `c==2.0`" in p for p in extra_mismatch)
    extraneous = check_solution(
        u,
        {"a": V("1.0"), "b": V("2.0"), "c": V("1.0"), "c[x]": V("1.0"), "d": V("1.0"), "z": V("1")},
    )
    assert any("nothing requires it" in p for p in extraneous)


def test_excluded_version_is_rejected(target):
    provider = InMemoryProvider({"a": [Release(VersionInfo(V("1.0"), yanked=True))]})
    u = Universe(provider, [Requirement("a")], target.markers(), target.python_version)
    problems = check_solution(u, {"a": V("1.0")})
    assert any("yanked" in p for p in problems)


def test_a_version_must_meet_its_own_requirements_on_its_project(target):
    table = {"a": {"1.0": ["a>=1", "a[x]"], "2.0": ["a>=3.0"]}}
    u = Universe(
        InMemoryProvider.from_simple(table),
        [Requirement("a")],
        target.markers(),
        target.python_version,
    )
    assert any("`a==2.0` is chosen" in p for p in check_solution(u, {"a": V("2.0")}))
    assert any("`a[x]` is not chosen" in p for p in check_solution(u, {"a": V("1.0")}))
    assert check_solution(u, {"a": V("1.0"), "a[x]": V("1.0")}) == []
