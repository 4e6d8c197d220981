"""Find the versions of one package inside a range without walking its whole history.

Both engines keep asking "which of this package's versions, best first, lie in this
range?": PubGrub for the first two (its candidate, and whether it is the only one), the
SAT encoding for all of them. A package with a long history (over a thousand releases of
boto3 and botocore) answered by one ``VersionRange.filter`` pass over every version costs
a walk from the newest release down to, say, the 1.18 series for each of the thousand
ranges a deep backtrack produces. uv's resolver looks candidates up per interval in an
ordered map; this does the same over a sorted list.

Where the preference order is sorted (newest first or oldest first, as the resolution
modes produce, perhaps with the pre-releases moved after the final releases), each
interval of the range bounds a window of that list found by bisection, and ``filter``
runs only inside the windows: membership itself stays ``VersionRange``'s own answer. The
windows are coarse on purpose: a bound's base version ``V`` (the version of ``>=V``,
``<V``, ``<=V``, or of the boundary points ``!=V`` and ``>V`` produce) only says that
every member has a release segment on the right side of ``V``'s, and a window keeps
every version with ``V``'s release segment. The key is a version's epoch and release
segment, which sort first in PEP 440 order, so the keys of a sorted stretch are sorted.

Where the caller named the sorted stretches, having made the order (the universe
does), and the range is its intervals alone (no literal versions admitted or rejected,
no ``===`` strings), the windows are exact and no ``filter`` runs at all: ``filter``
admits a version exactly when its comparison key lies between an interval's two
bound keys (``filter_key``), and keys sort as versions do, so in a sorted stretch
each interval's members are the slice between two bisections of those keys. The
engines ask for every member of thousands of ranges (the SAT encoding, and PubGrub
after a backtrack), and a ``filter`` pass costs a Python step per version it looks at,
members or not; a warm airflow compile looked at 112,000 versions to find 56,000.

The interval structure of a ``VersionRange`` is not public API; if it is absent or
shaped otherwise (or the range admits ``===`` literals, whose strings match whatever
their bounds say), the search falls back to one ``filter`` pass over everything.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import pairwise
from operator import attrgetter
from typing import TYPE_CHECKING

from packaging.version import Version

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from packaging.ranges import VersionRange

__all__ = ["VersionIndex", "position_of", "version_positions"]

#: Up to this many versions a plain ``filter`` pass is as fast as bisection (which
#: computes a few dozen release keys per lookup), when the sorted stretches must be
#: found by comparing versions.
_SHORT = 128
#: Up to this many versions a plain ``filter`` pass is as fast as exact bisection, when
#: the caller tells where the sorted stretches start (the universe always does).
_TINY = 8
#: Past this many sorted stretches the order is not sorted: one ``filter`` pass instead.
_MAX_RUNS = 8
#: After this many searches of one stretch, its release keys are computed once, all of
#: them, and later bisections compare stored keys: a package walked down version by
#: version (boto3, the providers of airflow) is searched thousands of times, each search
#: computing a few dozen keys again.
_KEYS_AFTER = 8

#: Ranges whose searches one index keeps (then it starts afresh): a deep backtrack asks
#: about thousands of ranges, each kept alive by its entry.
_SEARCHES_KEPT = 4096

#: How many of a package's best versions :func:`position_of` (the SAT encoding's
#: ``Cnf.index_of``) compares by identity before it makes the package's map of versions.
_IDENTITY_SCAN = 8

_ReleaseKey = tuple[int, tuple[int, ...]]
#: A version's comparison key (``Version._key``) or a bound's (``filter_key``).
_FullKey = tuple[object, ...]
#: A version's comparison key, which orders versions as ``<`` does.
_full_key = attrgetter("_key")


def _release_key(version: Version) -> _ReleaseKey:
    """Return the epoch and the release segment without trailing zeros (1.0 == 1)."""
    release = version.release
    end = len(release)
    while end > 1 and release[end - 1] == 0:
        end -= 1
    return version.epoch, release[:end]


def _bound_key(point: object) -> _ReleaseKey | None:
    """Return the release key of a bound's base version (``None`` when unbounded).

    :raises TypeError: for a point of an unknown shape.
    """
    if point is None:
        return None
    if isinstance(point, Version):
        return _release_key(point)
    base = getattr(point, "version", None)  # a boundary point between two versions
    if isinstance(base, Version):
        return _release_key(base)
    raise TypeError(point)


def _intervals(allowed: VersionRange) -> list[tuple[_ReleaseKey | None, _ReleaseKey | None]] | None:
    """Return the release keys bounding each interval of ``allowed``, lowest first.

    ``None`` when the range cannot be searched by its intervals.
    """
    try:
        if allowed._admit or allowed._admit_arbitrary:  # noqa: SLF001
            return None
        bounds = allowed._bounds  # noqa: SLF001
        return [(_bound_key(lower.version), _bound_key(upper.version)) for lower, upper in bounds]
    except (AttributeError, TypeError, ValueError):
        return None


def _cuts(allowed: VersionRange) -> list[tuple[_FullKey | None, _FullKey | None]] | None:
    """Return each interval's bound keys, lowest first (``None``: unbounded).

    A version is a member exactly when its key is at least an interval's first key and
    below its second, as ``filter`` decides for a range with nothing but intervals.
    ``None`` when the range is more than its intervals, or shaped otherwise.
    """
    try:
        if allowed._admit or allowed._reject or allowed._arbitrary_active():  # noqa: SLF001
            return None
        return [
            (
                None if lower.version is None else lower.filter_key(),
                None if upper.version is None else upper.filter_key(),
            )
            for lower, upper in allowed._bounds  # noqa: SLF001
        ]
    except (AttributeError, TypeError, ValueError):
        return None


class _Run:
    """A stretch of the preference order sorted one way, kept oldest first for bisection."""

    __slots__ = (
        "_exact_searches",
        "_full_keys",
        "_keys",
        "_searches",
        "ascending",
        "keys_after",
        "sorted",
        "start",
        "stop",
    )

    def __init__(
        self, versions: Sequence[Version], start: int, stop: int, keys_after: int = _KEYS_AFTER
    ) -> None:
        self.start = start
        self.stop = stop
        self.keys_after = keys_after
        self._searches = 0
        self._keys: list[_ReleaseKey] | None = None
        self._exact_searches = 0
        self._full_keys: list[_FullKey] | None = None
        # First against last: a stretch the caller named may repeat a version.
        self.ascending = stop - start > 1 and versions[start] < versions[stop - 1]
        stretch = versions[start:stop]
        # Oldest first. Release keys are computed by the bisections only (a few dozen per
        # lookup), not for every version of every package a resolution lists, until the
        # stretch has been searched often (``keys_after``).
        self.sorted = stretch if self.ascending else stretch[::-1]

    def exact(self, cuts: list[tuple[_FullKey | None, _FullKey | None]]) -> list[tuple[int, int]]:
        """Return the slices of the preference order, best first, that hold the members.

        ``cuts`` are :func:`_cuts` of the range: every version of a slice is a member,
        and no other version of the stretch is. The comparison keys are read by the
        bisections only until the stretch has been searched often (``keys_after``).
        """
        ordered = self.sorted
        count = len(ordered)
        keys = self._full_keys
        if keys is None:
            self._exact_searches += 1
            if self._exact_searches > self.keys_after:
                keys = self._full_keys = list(map(_full_key, ordered))
        found: list[tuple[int, int]] = []
        for floor, ceiling in cuts:
            if keys is not None:
                start = 0 if floor is None else bisect_left(keys, floor)
                stop = count if ceiling is None else bisect_left(keys, ceiling)
            else:
                start = 0 if floor is None else bisect_left(ordered, floor, key=_full_key)
                stop = count if ceiling is None else bisect_left(ordered, ceiling, key=_full_key)
            if start < stop:
                found.append((start, stop))
        offset = self.start
        if self.ascending:
            return [(offset + start, offset + stop) for start, stop in found]
        return [(offset + count - stop, offset + count - start) for start, stop in reversed(found)]

    def windows(
        self, intervals: list[tuple[_ReleaseKey | None, _ReleaseKey | None]]
    ) -> list[tuple[int, int]]:
        """Return the slices of the preference order, best first, that hold every member."""
        ordered = self.sorted
        count = len(ordered)
        keys = self._keys
        if keys is None:
            self._searches += 1
            if self._searches > self.keys_after:
                keys = self._keys = [_release_key(version) for version in ordered]
        merged: list[list[int]] = []
        for lower, upper in intervals:
            if keys is not None:
                start = 0 if lower is None else bisect_left(keys, lower)
                stop = count if upper is None else bisect_right(keys, upper)
            else:
                start = 0 if lower is None else bisect_left(ordered, lower, key=_release_key)
                stop = count if upper is None else bisect_right(ordered, upper, key=_release_key)
            if start >= stop:
                continue
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], stop)
            else:
                merged.append([start, stop])
        offset = self.start
        if self.ascending:
            return [(offset + start, offset + stop) for start, stop in merged]
        # Newest first: ascending slice [a, b) of the run is its positions [n - b, n - a).
        return [(offset + count - stop, offset + count - start) for start, stop in reversed(merged)]


def _runs(
    versions: Sequence[Version],
    keys_after: int = _KEYS_AFTER,
    starts: Sequence[int] | None = None,
) -> list[_Run]:
    """Split ``versions`` into maximal strictly sorted stretches (best first, in order).

    Resolution modes sort newest or oldest first; uv's default pre-release mode then
    moves the pre-releases after the final releases, which makes two sorted stretches.
    ``starts``, when given, are where the stretches start, as the caller knows from
    having ordered the versions: they are taken as they are, without comparing
    versions (each comparison is a Python call, and a long history has thousands).
    """
    runs: list[_Run] = []
    count = len(versions)
    if starts is not None:
        bounds = [*starts, count]
        return [_Run(versions, a, b, keys_after) for a, b in pairwise(bounds) if a < b]
    start = 0
    while start < count:
        stop = start + 1
        if stop < count:
            ascending = versions[start] < versions[stop]
            while stop < count and (
                versions[stop - 1] < versions[stop]
                if ascending
                else versions[stop - 1] > versions[stop]
            ):
                stop += 1
        runs.append(_Run(versions, start, stop, keys_after))
        start = stop
    return runs


class _Search:
    """The positions found so far in one range, and the search for the rest (``None``: done)."""

    __slots__ = ("allowed", "found", "rest")

    def __init__(self, allowed: VersionRange, rest: Iterator[int]) -> None:
        self.allowed = allowed  # kept alive: searches are keyed by its id
        self.found: list[int] = []
        self.rest: Iterator[int] | None = rest


class VersionIndex:
    """One package's versions in preference order, searchable by range.

    :param versions: the versions, best first.
    :param short: up to this many versions, every search is one ``filter`` pass, unless
        ``starts`` are given (then up to :data:`_TINY`).
    :param keys_after: searches of a sorted stretch before its keys are stored.
    :param starts: where the strictly sorted stretches of ``versions`` start (the first
        at 0, increasing), if the caller knows; else they are found by comparison.
    """

    def __init__(
        self,
        versions: Sequence[Version],
        *,
        short: int = _SHORT,
        keys_after: int = _KEYS_AFTER,
        starts: Sequence[int] | None = None,
    ) -> None:
        self.versions = tuple(versions)
        count = len(self.versions)
        bisected = count > short or (starts is not None and count > min(short, _TINY))
        runs = _runs(self.versions, keys_after, starts) if bisected else []
        # Many short stretches (an order that is not sorted) gain nothing from bisection.
        self._runs = runs if 0 < len(runs) <= _MAX_RUNS else []
        # Exact windows where the caller named the stretches, having made the order (the
        # universe always does); otherwise the windows are coarse and ``filter`` decides.
        self._exact = starts is not None
        self._searches: dict[int, _Search] = {}

    def positions(self, allowed: VersionRange, limit: int | None = None) -> list[int]:
        """Return the positions (in preference order) of the versions in ``allowed``.

        At most ``limit`` of them, best first, when a limit is given.

        A range asked about again continues where its search stopped: the engines ask
        the same range object several times (PubGrub hints the best version of a
        dependency, then asks for the best two as candidates; the SAT encoding asks
        for all), about half of the searches of a warm resolution. Searches are kept by
        the range's identity, with the range itself so that its id cannot be reused.
        """
        searches = self._searches
        search = searches.get(id(allowed))
        if search is None:
            if len(searches) >= _SEARCHES_KEPT:
                searches.clear()
            search = searches[id(allowed)] = _Search(allowed, self._members(allowed))
        found = search.found
        rest = search.rest
        if rest is not None and (limit is None or len(found) < limit):
            try:
                for position in rest:
                    found.append(position)
                    if limit is not None and len(found) >= limit:
                        break
                else:
                    search.rest = None
            except BaseException:
                del searches[id(allowed)]  # a search cut short is not continued
                raise
        return found[:limit] if limit is not None else found[:]

    def _members(self, allowed: VersionRange) -> Iterator[int]:
        """Yield the positions of the versions in ``allowed``, best first."""
        cuts = _cuts(allowed) if self._exact and self._runs else None
        if cuts is not None:
            for run in self._runs:
                for start, stop in run.exact(cuts):
                    yield from range(start, stop)
            return
        versions = self.versions
        for start, stop in self._windows(allowed):
            yield from allowed.filter(
                range(start, stop), key=versions.__getitem__, prereleases=True
            )

    def _windows(self, allowed: VersionRange) -> list[tuple[int, int]]:
        """Return slices of the preference order, best first, that hold every member."""
        intervals = _intervals(allowed) if self._runs else None
        if intervals is None:
            return [(0, len(self.versions))]
        return [window for run in self._runs for window in run.windows(intervals)]


def position_of(
    versions: Sequence[Version],
    version: Version,
    positions: Callable[[], Mapping[Version, int]],
) -> int | None:
    """Return the index of ``version`` among a package's ``versions`` (``None``: absent).

    By identity among the first few (a decided version is usually the very object the
    listing holds, and near its front), else by value in the map ``positions`` makes
    (the last equal one): the variable an encoding gives that version.
    """
    for index in range(min(_IDENTITY_SCAN, len(versions))):
        if versions[index] is version:
            return index
    return positions().get(version)


def version_positions(versions: Sequence[Version]) -> dict[Version, int]:
    """Return each version's index among ``versions`` (the last of equal ones)."""
    return {v: i for i, v in enumerate(versions)}
