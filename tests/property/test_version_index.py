"""The engines' version index finds exactly the versions ``VersionRange.contains`` admits.

:class:`~resolvent.solver._internal.version_index.VersionIndex` narrows a search to the
windows of a sorted preference order that a range's intervals bound; these properties
hold it to a plain membership test over every order the resolution modes produce (newest
first, oldest first, final releases before pre-releases) and an unsorted one, for ranges
built by the same algebra the engines use (intersections, unions, complements).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from packaging.version import Version

from resolvent.solver._internal.version_index import VersionIndex
from resolvent.solver.ranges import from_specifier
from tests.property.strategies import DETERMINISTIC, specifier_strings, versions

pytestmark = pytest.mark.property

_ORDERS = ("newest", "oldest", "finals-first", "shuffled")

# Versions sharing release segments, so that bounds fall among pre-, post-, dev- and
# local versions; some in epoch 1.
_HISTORIES = st.lists(
    st.builds(lambda text, epoch: f"1!{text}" if epoch else text, versions(), st.booleans()),
    min_size=0,
    max_size=90,
    unique_by=Version,
)


def _ordered(texts: list[str], order: str) -> list[Version]:
    parsed = sorted(Version(t) for t in texts)
    if order == "newest":
        return parsed[::-1]
    if order == "oldest":
        return parsed
    if order == "finals-first":
        newest = parsed[::-1]
        return [v for v in newest if not v.is_prerelease] + [v for v in newest if v.is_prerelease]
    # Unsorted: odd positions, then even ones backwards.
    return parsed[1::2] + parsed[::-2]


def _starts(ordered: list[Version], order: str) -> list[int] | None:
    """Where the sorted stretches of an order start, as the universe knows when it orders."""
    if order in ("newest", "oldest"):
        return [0]
    if order == "finals-first":
        finals = sum(1 for v in ordered if not v.is_prerelease)
        return [0, finals] if 0 < finals < len(ordered) else [0]
    return None


def _range(first: str, second: str, how: str) -> object:
    left, right = from_specifier(first), from_specifier(second)
    if how == "and":
        return left.intersection(right)
    if how == "or":
        return left.union(right)
    if how == "not":
        return left.complement().union(right.complement().intersection(left))
    return left.difference(right)


@settings(DETERMINISTIC, max_examples=400)
@given(
    _HISTORIES,
    st.sampled_from(_ORDERS),
    specifier_strings(),
    specifier_strings(),
    st.sampled_from(["and", "or", "not", "minus"]),
)
@example([f"1.{i}" for i in range(40)], "newest", ">=1.5,<1.9", "!=1.7", "and")
@example([f"1.{i}" for i in range(40)], "newest", "<1.3", ">=1.30", "or")
@example([f"1.{i}" for i in range(40)] + ["1.5+cpu", "1.5.post1"], "oldest", "<=1.5", "", "and")
@example([f"1.{i}" for i in range(40)] + ["1.6a1", "1.6.dev0"], "finals-first", ">1.5", "", "and")
@example([f"2.{i}" for i in range(30)] + ["1!0.1", "1!0.2"], "newest", ">=1!0", "", "and")
@example([f"1.{i}" for i in range(30)] + ["2.0", "2.0.1"], "newest", "<=2", "", "and")
@example([f"1.{i}" for i in range(30)] + ["2.0.0", "2.1"], "oldest", ">=2,<2.1", "", "and")
def test_index_positions_match_membership(
    history: list[str], order: str, first: str, second: str, how: str
) -> None:
    ordered = _ordered(history, order)
    allowed = _range(first, second, how)
    expected = [i for i, v in enumerate(ordered) if allowed.contains(v, prereleases=True)]  # type: ignore[attr-defined]
    starts = _starts(ordered, order)
    indexes = (
        VersionIndex(ordered, short=0),  # bisecting, keys computed per search
        VersionIndex(ordered, short=0, keys_after=0),  # bisecting stored keys
        VersionIndex(ordered),  # the default
        VersionIndex(ordered, short=0, starts=starts),  # stretches told, not found
    )
    for index in indexes:
        assert index.positions(allowed) == expected  # type: ignore[arg-type]
        assert index.positions(allowed, limit=2) == expected[:2]  # type: ignore[arg-type]
    # A range asked again, with growing limits, continues its search where it stopped.
    for limit in (1, 2, None, 1):
        index = VersionIndex(ordered, short=0, starts=starts)
        assert index.positions(allowed, limit=1) == expected[:1]  # type: ignore[arg-type]
        assert index.positions(allowed, limit=limit) == expected[:limit]  # type: ignore[arg-type]
        assert index.positions(allowed, limit=3) == expected[:3]  # type: ignore[arg-type]
        assert index.positions(allowed) == expected  # type: ignore[arg-type]


def test_a_range_asked_again_continues_its_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engines ask one range for its best version, then its best two, then all."""
    ordered = [Version(f"1.{i}") for i in reversed(range(300))]
    allowed = from_specifier(">=1.100,<1.200")
    expected = [i for i, v in enumerate(ordered) if v in allowed]
    calls: list[object] = []
    real: Any = type(allowed).filter

    def counting(self: object, *args: object, **kwargs: object) -> object:
        calls.append(self)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(type(allowed), "filter", counting)
    index = VersionIndex(ordered)
    assert index.positions(allowed, limit=1) == expected[:1]
    assert index.positions(allowed, limit=2) == expected[:2]
    assert index.positions(allowed, limit=1) == expected[:1]
    assert index.positions(allowed) == expected
    assert index.positions(allowed, limit=5) == expected[:5]
    assert len(calls) == 1  # one search, continued


def test_told_stretches_spare_comparisons(monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller that ordered the versions names the sorted stretches; none are compared."""
    newest = [Version(f"1.{i}") for i in reversed(range(200))]
    ordered = newest[:150] + [Version(f"2.0a{i}") for i in reversed(range(50))]
    compared: list[object] = []
    for name in ("__lt__", "__gt__"):
        real = getattr(Version, name)

        def counting(self: Version, other: object, real: object = real) -> bool:
            compared.append(self)
            return real(self, other)  # type: ignore[operator,no-any-return]

        monkeypatch.setattr(Version, name, counting)
    index = VersionIndex(ordered, starts=[0, 150])
    assert len(compared) <= 2  # which way each stretch runs
    monkeypatch.undo()
    allowed = from_specifier(">=1.20")
    assert index.positions(allowed) == [i for i, v in enumerate(ordered) if v in allowed]
