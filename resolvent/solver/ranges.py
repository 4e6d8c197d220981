"""Version sets for the solver: thin constructors over ``packaging.ranges.VersionRange``.

Every range the solver builds carries the same configured pre-release policy (admit),
because ``VersionRange`` refuses to combine ranges with different policies and because
pre-release *preference* is the universe's job (it orders and filters candidates), not a
property of a set. Set membership then follows PEP 440's exclusive-ordered-comparison
rules exactly (``<2.0`` still excludes ``2.0a1``; ``>1.0`` excludes ``1.0.post1``), which
is what both engines must agree on.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from packaging.ranges import VersionRange
from packaging.specifiers import SpecifierSet

from resolvent.requirement_parsing import balanced_fold, prepare_bounds

if TYPE_CHECKING:
    from collections.abc import Sequence

    from packaging.version import Version

__all__ = ["EMPTY", "FULL", "VersionRange", "exactly", "from_specifier", "intersect_all"]

FULL: VersionRange = VersionRange.full(admit_arbitrary=False, prereleases=True)
EMPTY: VersionRange = VersionRange.empty(prereleases=True)


@lru_cache(maxsize=65536)
def from_specifier(specifier: str | SpecifierSet) -> VersionRange:
    """Return the set of versions a specifier admits, with pre-releases as members.

    >>> from packaging.version import Version
    >>> Version("1.5") in from_specifier(">=1,<2")
    True
    """
    if isinstance(specifier, SpecifierSet):
        specifier = str(specifier)
    if not specifier:
        return FULL
    specifiers = SpecifierSet(specifier, prereleases=True)
    prepare_bounds(specifiers)
    return specifiers.to_range()


def intersect_all(ranges: Sequence[VersionRange]) -> VersionRange:
    """Return the intersection of ``ranges`` (at least one), folded as a balanced tree.

    The same value as ``r0 & r1 & ... & rn`` folded left to right, with the same
    bounds (each intersection keeps its left operand's bound on a tie, and the left
    operand always holds the earlier ranges); but a left fold re-merges a running
    result that grows with every ``!=``: 20,000 requirement lines ``pkg!=0.0.i`` on
    one project cost O(n^2), minutes, where the balanced fold does O(n log n) work.
    """
    return balanced_fold(ranges, VersionRange.intersection)


@lru_cache(maxsize=65536)
def exactly(version: Version) -> VersionRange:
    """Return the strict singleton ``{version}`` (``1.0`` does not admit ``1.0+local``).

    Memoized: the same object for the same version lets the engines' memo tables, keyed
    by identity, answer again for a version decided again.

    >>> from packaging.version import Version
    >>> Version("1.0") in exactly(Version("1.0"))
    True
    """
    return VersionRange.singleton(version, prereleases=True)
