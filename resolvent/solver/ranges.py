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

if TYPE_CHECKING:
    from packaging.version import Version

__all__ = ["EMPTY", "FULL", "VersionRange", "exactly", "from_specifier"]

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
    return SpecifierSet(specifier, prereleases=True).to_range()


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
