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
    from collections.abc import Iterable, Sequence

    from packaging.specifiers import Specifier
    from packaging.version import Version

__all__ = [
    "EMPTY",
    "FULL",
    "VersionRange",
    "exactly",
    "from_specifier",
    "intersect_all",
    "specifier_range",
]

FULL: VersionRange = VersionRange.full(admit_arbitrary=False, prereleases=True)
EMPTY: VersionRange = VersionRange.empty(prereleases=True)


def from_specifier(specifier: str | SpecifierSet) -> VersionRange:
    """Return the set of versions a specifier admits, with pre-releases as members.

    Memoized by text (see :func:`specifier_range`): the same object for the same text.

    >>> from packaging.version import Version
    >>> Version("1.5") in from_specifier(">=1,<2")
    True
    """
    text = str(specifier) if isinstance(specifier, SpecifierSet) else specifier
    found = _RANGES.get(text)
    if found is None:
        found = _remember(text, SpecifierSet(text, prereleases=True) if text else None)
    return found


def specifier_range(text: str, specifiers: Iterable[Specifier]) -> VersionRange:
    """Return ``from_specifier(text)``, where ``text`` spells the same ``specifiers``.

    A requirement's specifiers are parsed already (and shared by every line that spells
    them alike), so on a miss the range is made from them instead of parsing the text
    again: a large resolution meets a thousand or more distinct texts. The range is
    their intersection, whatever their order or repeats. The memo is the one
    :func:`from_specifier` reads, so both return the same object for the same text:
    a caller must pass a ``text`` that parses to these specifiers, or it changes what
    :func:`from_specifier` answers for that text.
    """
    found = _RANGES.get(text)
    if found is None:
        found = _remember(text, SpecifierSet(tuple(specifiers), prereleases=True) if text else None)
    return found


def _remember(text: str, specifiers: SpecifierSet | None) -> VersionRange:
    """Make the range of ``specifiers`` (``None``: no specifier) and memoize it by ``text``."""
    if specifiers is None:
        found = FULL
    else:
        prepare_bounds(specifiers)
        found = specifiers.to_range()
    if len(_RANGES) >= _RANGES_LIMIT:
        _RANGES.clear()
    _RANGES[text] = found
    return found


#: Ranges by canonical specifier text: one object per text, which the engines' memo
#: tables (keyed by identity) rely on. Bounded: cleared when full.
_RANGES: dict[str, VersionRange] = {}
_RANGES_LIMIT = 65536


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
