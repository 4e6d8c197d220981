"""The warm loading path gives the same objects as the general one, with less work.

A warm resolution reads thousands of cached listings, metadata summaries and
requirement lines; these tests pin the shortcuts it takes to what the general path
answers: markers assembled without packaging's parser, ranges made from specifiers
parsed already, sorted listings that give their versions oldest first without
comparing them, version searches that bisect instead of filtering.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import packaging.markers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import Specifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from resolvent.requirement_parsing import parse_marker
from resolvent.solver import ranges
from resolvent.solver._internal.version_index import VersionIndex
from resolvent.solver.memory import InMemoryProvider
from resolvent.solver.ranges import exactly, from_specifier
from resolvent.solver.universe import Listing, Options, Universe
from tests.property.strategies import DETERMINISTIC, specifier_strings, versions
from tests.support.counting import SOLVER_MARKERS

if TYPE_CHECKING:
    from collections.abc import Iterator

    from resolvent.solver.ranges import VersionRange
    from resolvent.solver.universe import PrereleaseMode, ResolutionMode

NAME = canonicalize_name("demo")
ENVIRONMENT = SOLVER_MARKERS


def _refuse(*_args: object) -> None:
    raise AssertionError("parsed in full")


@pytest.mark.parametrize(
    "text", ['extra == "test"', 'extra == "Foo_Bar"', 'extra == "a.b-c"', 'extra == "X1"']
)
def test_extra_markers_are_assembled_as_packaging_parses_them(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = Marker(text)
    parse_marker.cache_clear()
    monkeypatch.setattr(packaging.markers, "_parse_marker", _refuse)
    found = parse_marker(text)
    monkeypatch.undo()
    parse_marker.cache_clear()
    assert found == expected
    assert hash(found) == hash(expected)
    assert str(found) == str(expected)
    assert repr(found._markers) == repr(expected._markers)
    for extra in ("", "test", "foo-bar", "Foo_Bar", "a-b-c", "x1"):
        environment = {**ENVIRONMENT, "extra": extra}
        assert found.evaluate(environment) == expected.evaluate(environment)


@pytest.mark.parametrize(
    "text",
    [
        'extra == "test" and python_version < "3.9"',
        'extra=="test"',
        "extra == 'test'",
        '"test" == extra',
        'extra == "-bad"',
        'python_version >= "3.8"',
    ],
)
def test_other_markers_are_parsed_by_packaging(text: str) -> None:
    parse_marker.cache_clear()
    found = parse_marker(text)
    parse_marker.cache_clear()
    expected = Marker(text)
    assert found == expected
    assert repr(found._markers) == repr(expected._markers)


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,12}[A-Za-z0-9])?", fullmatch=True))
def test_assembled_extra_markers_match_packaging_for_any_name(name: str) -> None:
    text = f'extra == "{name}"'
    parse_marker.cache_clear()
    found = parse_marker(text)
    expected = Marker(text)
    assert repr(found._markers) == repr(expected._markers)
    assert str(found) == str(expected)


@pytest.mark.parametrize(
    "spelled", [">=7.123.1,<9.77", "<9.78,>=7.123.1,>=7.123.1", "!=8.5.*,>=7.123.2", "===7.123.9"]
)
def test_ranges_are_made_from_the_specifiers_already_parsed(
    spelled: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = SpecifierSet(spelled)
    text = ",".join(sorted({str(spec) for spec in parsed}))
    monkeypatch.setattr(Specifier, "__init__", _refuse)
    found = ranges.specifier_range(text, parsed)
    monkeypatch.undo()
    assert found is from_specifier(text)  # one object per text, whichever way it came
    assert found == SpecifierSet(text, prereleases=True).to_range()
    assert repr(found) == repr(SpecifierSet(text, prereleases=True).to_range())


_HISTORIES = st.lists(
    st.builds(lambda text, epoch: f"1!{text}" if epoch else text, versions(), st.booleans()),
    min_size=0,
    max_size=60,
    unique_by=Version,
)


def _ordered(texts: list[str], order: str) -> tuple[list[Version], list[int]]:
    """Return the versions in a resolution mode's order, with where its stretches start."""
    parsed = sorted(Version(t) for t in texts)
    if order == "newest":
        return parsed[::-1], [0]
    if order == "oldest":
        return parsed, [0]
    newest = parsed[::-1]
    finals = [v for v in newest if not v.is_prerelease]
    ordered = finals + [v for v in newest if v.is_prerelease]
    return ordered, [0, len(finals)] if 0 < len(finals) < len(ordered) else [0]


def _some_range(first: str, second: str, how: str, pinned: Version | None) -> VersionRange:
    left, right = from_specifier(first), from_specifier(second)
    if how == "and":
        return left.intersection(right)
    if how == "or":
        return left.union(right)
    if how == "not":
        return left.complement().union(right.complement().intersection(left))
    if how == "pin" and pinned is not None:
        return exactly(pinned).union(left.intersection(right))
    return left.difference(right)


@settings(DETERMINISTIC, max_examples=300)
@given(
    _HISTORIES,
    st.sampled_from(["newest", "oldest", "finals-first"]),
    specifier_strings(),
    specifier_strings(),
    st.sampled_from(["and", "or", "not", "minus", "pin"]),
)
def test_exact_searches_find_the_members_in_preference_order(
    history: list[str], order: str, first: str, second: str, how: str
) -> None:
    ordered, starts = _ordered(history, order)
    pinned = ordered[len(ordered) // 2] if ordered else None
    allowed = _some_range(first, second, how, pinned)
    expected = [i for i, v in enumerate(ordered) if allowed.contains(v, prereleases=True)]
    for keys_after in (0, 1, 8):
        index = VersionIndex(ordered, starts=starts, keys_after=keys_after)
        for _ in range(keys_after + 2):  # before and after the keys are stored
            index._searches.clear()
            assert index.positions(allowed, limit=1) == expected[:1]
            assert index.positions(allowed) == expected
        assert VersionIndex(ordered, starts=starts, short=0).positions(allowed) == expected


def test_a_bounded_range_is_searched_without_a_filter_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Asked for its best version, then its best two, then all: one search, no ``filter``."""
    ordered = [Version(f"1.{i}") for i in reversed(range(300))]
    allowed = from_specifier(">=1.100,<1.200,!=1.150")
    expected = [i for i, v in enumerate(ordered) if v in allowed]
    filtered: list[object] = []
    searches: list[object] = []
    real_filter: Any = type(allowed).filter
    real_members: Any = VersionIndex._members

    def counting_filter(self: object, *args: object, **kwargs: object) -> object:
        filtered.append(self)
        return real_filter(self, *args, **kwargs)

    def counting_members(self: VersionIndex, allowed: VersionRange) -> Iterator[int]:
        searches.append(allowed)
        return cast("Iterator[int]", real_members(self, allowed))

    monkeypatch.setattr(type(allowed), "filter", counting_filter)
    monkeypatch.setattr(VersionIndex, "_members", counting_members)
    index = VersionIndex(ordered, starts=[0])
    assert index.positions(allowed, limit=1) == expected[:1]
    assert index.positions(allowed, limit=2) == expected[:2]
    assert index.positions(allowed) == expected
    assert index.positions(allowed, limit=5) == expected[:5]
    assert len(searches) == 1  # one search, continued
    assert filtered == []


@pytest.mark.parametrize(
    ("mode", "prerelease"),
    [("highest", "if-necessary-or-explicit"), ("lowest", "allow"), ("highest", "disallow")],
)
def test_a_sorted_listing_gives_its_versions_oldest_first_without_comparing(
    mode: ResolutionMode, prerelease: PrereleaseMode, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [f"1.{i}" for i in range(200)] + ["2.0rc1", "2.0", "2.1.dev3", "2.1"]
    versions = sorted(Version(text) for text in texts)
    listing = Listing(
        versions, [None] * len(versions), texts=[str(v) for v in versions], ascending=True
    )
    provider = InMemoryProvider({})
    monkeypatch.setattr(provider, "list_versions", lambda _name: listing)
    universe = Universe(
        provider,
        [Requirement("big")],
        ENVIRONMENT,
        Version("3.11"),
        Options(resolution=mode, prerelease=prerelease, preferences={NAME: Version("1.7")}),
    )
    order = universe.versions("big")
    compared: list[object] = []
    for method in ("__lt__", "__gt__"):
        real = getattr(Version, method)

        def counting(self: Version, other: object, real: Any = real) -> bool:
            compared.append(self)
            return bool(real(self, other))

        monkeypatch.setattr(Version, method, counting)
    ascending = universe.sorted_versions("big[extra]")
    assert compared == []
    monkeypatch.undo()
    assert list(ascending) == sorted(order)
    assert universe.sorted_versions("big") is ascending
