from __future__ import annotations

from typing import cast

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from resolvent.solver.memory import InMemoryProvider, Release
from resolvent.solver.provider import Unavailable, VersionInfo
from resolvent.solver.ranges import from_specifier
from resolvent.solver.universe import (
    ROOT,
    ROOT_VERSION,
    Dependency,
    Options,
    Universe,
    base_name,
    package_key,
)

V = Version


def make(table, requires, target, **options):
    provider = InMemoryProvider.from_simple(table)
    return Universe(
        provider,
        [Requirement(r) for r in requires],
        target.markers(),
        target.python_version,
        Options(**options),
    )


def test_keys():
    assert package_key("Foo.Bar", "Some_Extra") == "foo-bar[some-extra]"
    assert base_name("foo-bar[x]") == "foo-bar"
    assert base_name("foo") == "foo"


def test_versions_newest_first_and_finals_before_prereleases(target):
    u = make({"a": {"1.0": [], "2.0a1": [], "1.5": []}}, ["a"], target)
    assert list(u.versions("a")) == [V("1.5"), V("1.0"), V("2.0a1")]
    assert u.versions(ROOT) == (ROOT_VERSION,)


def test_lowest_and_lowest_direct(target):
    table = {"a": {"1.0": ["b"], "2.0": ["b"]}, "b": {"1.0": [], "2.0": []}}
    lowest = make(table, ["a"], target, resolution="lowest")
    assert lowest.versions("a")[0] == V("1.0")
    assert lowest.versions("b")[0] == V("1.0")
    direct = make(table, ["a"], target, resolution="lowest-direct")
    assert direct.versions("a")[0] == V("1.0")
    assert direct.versions("b")[0] == V("2.0")


def test_prerelease_modes(target):
    table: dict[str, dict[str, list[str]]] = {"a": {"1.0": [], "2.0b1": []}, "b": {"1.0rc1": []}}
    allow = make(table, ["a", "b"], target, prerelease="allow")
    assert allow.versions("a")[0] == V("2.0b1")
    disallow = make(table, ["a", "b"], target, prerelease="disallow")
    assert list(disallow.versions("a")) == [V("1.0")]
    assert list(disallow.versions("b")) == []
    assert "pre-release" in disallow.excluded("b")[V("1.0rc1")]
    # uv's if-necessary: final releases first, pre-releases as the fallback.
    for mode in ("if-necessary", "if-necessary-or-explicit"):
        necessary = make(table, ["a", "b"], target, prerelease=mode)
        assert list(necessary.versions("a")) == [V("1.0"), V("2.0b1")]
        assert list(necessary.versions("b")) == [V("1.0rc1")]
    # explicit: the same for a project whose direct requirement names a pre-release
    # (`!=` does not count), none for the others.
    explicit = make(table, ["a>=1.0b1", "b!=1.0rc1"], target, prerelease="explicit")
    assert list(explicit.versions("a")) == [V("1.0"), V("2.0b1")]
    assert list(explicit.versions("b")) == []


def test_dependencies_markers_and_extras(target):
    table = {
        "a": {
            "1.0": [
                "b>=1",
                "b<3",
                "c[x,y]>=2",
                "win-only; sys_platform == 'win32'",
                "a",
            ]
        },
        "c": {"2.0": ["d; extra == 'x'", "e>1; extra == 'y' and python_version >= '3'", "f"]},
    }
    u = make(table, ["a"], target)
    (root_dep,) = u.dependencies(ROOT, ROOT_VERSION)
    assert root_dep.package == "a"
    deps = u.dependencies("a", V("1.0"))
    assert not isinstance(deps, Unavailable)
    by_key = {d.package: d for d in deps}
    assert set(by_key) == {"b", "c", "c[x]", "c[y]"}
    assert by_key["b"].range == from_specifier(">=1,<3")
    assert by_key["b"].specifier == ">=1,<3"
    base = u.dependencies("c", V("2.0"))
    assert not isinstance(base, Unavailable)
    assert [d.package for d in base] == ["f"]
    extra = u.dependencies("c[y]", V("2.0"))
    assert not isinstance(extra, Unavailable)
    assert [d.package for d in extra] == ["c", "e"]
    assert V("2.0") in extra[0].range
    assert V("2.0+local") not in extra[0].range


def test_yanked_requires_python_unusable_and_missing(target):
    provider = InMemoryProvider(
        {
            "a": [
                Release(VersionInfo(V("1.0"))),
                Release(VersionInfo(V("2.0"), yanked=True, yanked_reason="broken")),
                Release(VersionInfo(V("3.0"), requires_python=SpecifierSet(">=3.13"))),
                Release(VersionInfo(V("0.9"), requires_python=SpecifierSet("<3.0,>=2.7"))),
                Release(VersionInfo(V("0.8"), unusable="has no wheels")),
            ]
        }
    )
    u = Universe(
        provider, [Requirement("a"), Requirement("zzz")], target.markers(), target.python_version
    )
    assert list(u.versions("a")) == [V("1.0"), V("0.9")]
    excluded = u.excluded("a")
    assert "yanked (reason: broken)" in excluded[V("2.0")]
    assert "requires Python >=3.13" in excluded[V("3.0")]
    assert excluded[V("0.8")] == "has no wheels"
    assert u.versions("zzz") == ()
    missing = u.missing("zzz")
    assert missing is not None
    assert "not found" in missing.reason
    pinned = Universe(provider, [Requirement("a==2.0")], target.markers(), target.python_version)
    assert V("2.0") in pinned.versions("a")


def test_constraints_and_overrides(target):
    table = {"a": {"1.0": ["b>=2"]}, "b": {"1.0": [], "2.0": [], "3.0": []}}
    constrained = make(table, ["a"], target, constraints={"b": from_specifier("<3")})
    assert list(constrained.versions("b")) == [V("2.0"), V("1.0")]
    overridden = make(table, ["a"], target, overrides={"b": [Requirement("b<2")]})
    deps = overridden.dependencies("a", V("1.0"))
    assert not isinstance(deps, Unavailable)
    assert deps[0].range == from_specifier("<2")


def test_unavailable_metadata(target):
    u = make({"a": {"1.0": []}}, ["a"], target)
    assert isinstance(u.dependencies("a", V("9.9")), Unavailable)


class ListingHints(InMemoryProvider):
    """Records every listing hint."""

    takes_hints = True  # an in-memory provider takes none; this one records them

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hinted: list[list[str]] = []

    def prefetch_listings(self, names):
        self.hinted.append(list(names))


def test_dependencies_hint_the_listings_not_yet_read(target):
    table: dict[str, dict[str, list[str]]] = {
        "a": {"1.0": ["b", "c[x]", "d; os_name == 'nonexistent'"]},
        "b": {"1.0": ["c"]},
        "c": {"1.0": []},
        "d": {"1.0": []},
    }
    provider = ListingHints.from_simple(table)
    u = Universe(
        provider, [Requirement("a"), Requirement("b")], target.markers(), target.python_version
    )
    u.dependencies(ROOT, ROOT_VERSION)
    u.dependencies(ROOT, ROOT_VERSION)
    assert provider.hinted == [["a", "b"]]  # once, together
    u.versions("a")
    u.versions("b")
    u.dependencies("a", V("1.0"))
    assert provider.hinted[-1] == ["c"]  # b is listed already; d does not apply; c[x] is c
    u.versions("c")
    u.dependencies("b", V("1.0"))
    assert len(provider.hinted) == 2  # everything b needs is listed
    u.prefetching = False
    u.dependencies("c[x]", V("1.0"))
    assert len(provider.hinted) == 2


def test_requires_python_counts_only_its_lower_bound(target):
    # As uv: `==3.10.*`, `~=3.10.0` or `!=X.*` set no upper limit, only a lower one.
    python = target.python_version
    minor = f"{python.major}.{python.minor}"
    previous = f"{python.major}.{python.minor - 1}"
    texts = {
        "1.0": f"=={previous}.*",
        "2.0": f"~={previous}.0",
        "3.0": f"!={minor}.*",
        "4.0": f">={previous},!={minor}.0",
        "5.0": f">{minor}",  # a lower bound above the target
        "6.0": f"=={python.major}.{python.minor + 1}.*",  # likewise
    }
    provider = InMemoryProvider(
        {
            "a": [
                Release(VersionInfo(V(v), requires_python=SpecifierSet(t)))
                for v, t in texts.items()
            ]
        }
    )
    u = Universe(provider, [Requirement("a")], target.markers(), python)
    assert list(u.versions("a")) == [V("4.0"), V("3.0"), V("2.0"), V("1.0")]


def test_a_version_that_requires_another_version_of_itself_cannot_be_used(target):
    table = {"a": {"1.0": ["a>=1", "a[x]"], "2.0": ["a>=3.0"]}, "b": {"1.0": ["b==1.0"]}}
    u = make(table, ["a", "b"], target)
    refused = u.dependencies("a", V("2.0"))
    assert isinstance(refused, Unavailable)
    assert "`a>=3.0`, which excludes itself" in refused.reason
    # Met by the version itself, it adds nothing; an extra of itself stays.
    own = cast("tuple[Dependency, ...]", u.dependencies("a", V("1.0")))
    assert [d.package for d in own] == ["a[x]"]
    assert u.dependencies("b", V("1.0")) == ()


def test_only_requirements_that_apply_pin_yanked_versions_or_name_prereleases(target):
    provider = InMemoryProvider(
        {
            "a": [Release(VersionInfo(V("0.5"))), Release(VersionInfo(V("1.0"), yanked=True))],
            "b": [Release(VersionInfo(V("1.0"))), Release(VersionInfo(V("2.0b1")))],
        }
    )
    never = 'python_version < "3"'
    requirements = [
        Requirement(f"a==1.0; {never}"),
        Requirement("a<2"),
        Requirement(f"b>=2.0b1; {never}"),
        Requirement("b"),
    ]
    u = Universe(
        provider,
        requirements,
        target.markers(),
        target.python_version,
        Options(prerelease="explicit"),
    )
    assert list(u.versions("a")) == [V("0.5")]
    assert list(u.versions("b")) == [V("1.0")]


def test_preferred_versions_come_first_where_usable(target):
    table: dict[str, dict[str, list[str]]] = {
        "a": {"1.0": [], "2.0": [], "3.0b1": []},
        "b": {"1.0": [], "2.0": []},
    }
    preferences = {"a": V("1.0"), "b": V("9.0")}  # b's preference is not listed
    u = make(table, ["a", "b"], target, preferences=preferences)
    assert list(u.versions("a")) == [V("1.0"), V("2.0"), V("3.0b1")]
    assert list(u.versions("b")) == [V("2.0"), V("1.0")]


def test_an_extra_that_requires_itself_outside_its_version_cannot_be_used(target):
    table = {
        "a": {"1.0": [], "2.0": ["b[t]", "a[x]<2; extra == 'x'"]},
        "b": {"1.0": ["a[x]; extra == 't'"]},
    }
    u = make(table, ["a"], target)
    refused = u.dependencies("a[x]", V("2.0"))
    assert isinstance(refused, Unavailable)
    assert "which excludes itself" in refused.reason
    # Met by the version itself: only the pin to the project's own version remains.
    met = make({"a": {"1.0": ["a[x]>=1; extra == 'x'", "c; extra == 'x'"]}}, ["a[x]"], target)
    kept = cast("tuple[Dependency, ...]", met.dependencies("a[x]", V("1.0")))
    assert [d.package for d in kept] == ["a", "c"]
