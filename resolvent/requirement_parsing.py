"""Requirement lines parsed fast and shared: the same objects packaging's parser makes.

Index metadata and scenario files name thousands of requirement lines, and packaging's
parser costs 50-100 us a line (a third of end-to-end time on a 6,000-version scenario).
Both readers use :func:`parse_requirement`; parsed objects are never mutated, so one
object serves every version that repeats a line.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

try:  # packaging's own interval helpers; without them its left fold is used as is
    from packaging._ranges import index_intervals as _index_intervals
    from packaging._ranges import intersect_ranges as _intersect

    _CAN_FOLD = True
except ImportError:  # pragma: no cover - another packaging layout
    _CAN_FOLD = False

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from packaging._ranges import Interval

_T = TypeVar("_T")

__all__ = [
    "balanced_fold",
    "has_long_number",
    "parse_marker",
    "parse_requirement",
    "parse_specifier",
    "prepare_bounds",
]


@lru_cache(maxsize=65536)
def parse_requirement(text: str) -> Requirement:
    """Parse a requirement, memoized: the versions of a project repeat the same lines.

    Raises :class:`~packaging.requirements.InvalidRequirement` as packaging's parser does.

    Requirements are never mutated after parsing, so one object can serve every version.
    packaging's parser costs 50-100 us a line, and a large resolution meets thousands
    of distinct lines, most of them ``name``, ``[extras]``, specifiers without spaces and
    one of a few hundred distinct markers (``extra == "test"``). Those are assembled
    here from a specifier set and a memoized :class:`Marker`, as packaging itself
    assembles a requirement (``Requirement.__replace__``); anything else, or anything
    either part rejects, goes to the full parser, which stays the authority (the tests
    compare both on real and crafted lines).
    """
    _check_numbers(text)
    match = _SIMPLE_REQUIREMENT.fullmatch(text) if _ASSEMBLE else None
    if match is None:
        return _full_requirement(text)
    extras, spec, marker_text = match.group("extras", "spec", "marker")
    try:
        specifier = parse_specifier(spec or "")  # shared by the lines that spell it alike
        marker = None if marker_text is None else parse_marker(marker_text)
    except (InvalidSpecifier, InvalidMarker):
        return _full_requirement(text)  # raises the parser's own error, or disagrees: its answer
    requirement = Requirement.__new__(Requirement)
    requirement.name = match.group("name")
    requirement.url = None
    requirement.extras = set(extras.split(",")) if extras else set()
    requirement.specifier = specifier
    requirement.marker = marker
    return requirement


def _full_requirement(text: str) -> Requirement:
    """Return packaging's own parse of ``text``, its bounds prepared (:func:`prepare_bounds`).

    :raises InvalidRequirement: as packaging's parser does.
    """
    requirement = Requirement(text)
    prepare_bounds(requirement.specifier)  # a long one, folded once, not per membership test
    return requirement


#: Past this many clauses a set's bounds are folded as a balanced tree (below it the
#: left fold packaging does is as fast, and nothing changes).
_BALANCE_PAST = 16


def prepare_bounds(specifiers: SpecifierSet) -> SpecifierSet:
    """Fold a long specifier set's bounds in O(n log n) and cache them on the set.

    packaging intersects a set's clauses left to right (``intersect_specifier_bounds``),
    each step a merge of the running result with the next clause. A ``!=`` clause adds
    an interval, so n of them cost O(n^2): 8,000 took 50 s to become a range, and as
    long again in each ``contains`` the fast per-clause path cannot answer (wildcards,
    local versions). The same two-pointer merge applied pairwise (a balanced tree) does
    O(n log n) work and keeps the very interval objects the left fold keeps: each merge
    keeps its left operand's bound on a tie, the left operand always holds the earlier
    clauses, and a merge drops only empty intervals, which stay empty. The result goes
    where packaging caches its own fold (``_ranges``), so ``to_range``, ``contains`` and
    ``filter`` use it and build everything else as they always do.

    A short set, one with ``===`` clauses, one already folded, or a packaging whose
    private parts are shaped otherwise is left to packaging. Returns ``specifiers``.
    """
    if len(specifiers) <= _BALANCE_PAST or not _CAN_FOLD:
        return specifiers
    try:
        if specifiers._has_arbitrary or specifiers._ranges is not None:  # noqa: SLF001
            return specifiers
        parts: list[Sequence[Interval]] = [spec._to_intervals() for spec in specifiers]  # noqa: SLF001
    except AttributeError:
        return specifiers
    specifiers._ranges = _index_intervals(balanced_fold(parts, _intersect))  # noqa: SLF001
    return specifiers


def balanced_fold(parts: Sequence[_T], combine: Callable[[_T, _T], _T]) -> _T:
    """Combine ``parts`` (at least one) pairwise, as a balanced tree: O(n log n) merges.

    For an associative ``combine`` the value of a left fold. For interval merges that
    keep their left operand's bound on a tie, the very bounds too: the left operand
    always holds the earlier parts.
    """
    level = list(parts)
    while len(level) > 1:
        folded = [combine(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            folded.append(level[-1])
        level = folded
    return level[0]


def _check_numbers(text: str) -> None:
    """Refuse a requirement or marker text holding a number longer than ``int()`` reads.

    packaging accepts ``==1000...0`` (or a marker comparing such a version) with any
    number of digits and parses the version only when it compares; past the limit
    ``int()`` refuses it then, deep inside a resolution. Checked here, such a line is as
    invalid as any other.

    :raises InvalidRequirement: when a run of digits is too long.
    """
    if has_long_number(text):
        raise InvalidRequirement(
            f"a number in `{text[:40]}...` has over {_LONGEST_NUMBER:,} digits"
        )


def has_long_number(text: str) -> bool:
    """Return whether ``text`` holds a run of digits longer than ``int()`` reads."""
    return (
        _LONG_NUMBER is not None and len(text) > _LONGEST_NUMBER and bool(_LONG_NUMBER.search(text))
    )


@lru_cache(maxsize=16384)
def parse_specifier(text: str) -> SpecifierSet:
    """Parse a specifier set, memoized (one object per text), refusing over-long numbers.

    Used for ``Requires-Python`` and for the specifiers of requirement lines, which
    repeat a third as many texts as they have (``>=1.0``, ``<3,>=2``; airflow: 2,027 in
    5,670 lines): the lines that spell one alike share its set, as the versions that
    repeat a line share its requirement. Nothing changes a parsed set: its one setter
    (``prereleases``) is never used, and what else a set changes in itself is a cache
    of its content (its folded bounds, prepared here once by :func:`prepare_bounds`).

    packaging parses each version of a specifier set only when it first compares, so a
    ``>=3.999...`` with more digits than ``int()`` reads passes here and raised a bare
    ``ValueError`` later, inside the resolver; refused here, it is one more invalid
    specifier, which callers already skip or report.

    :raises InvalidSpecifier: the text does not parse, or holds such a number.
    """
    if has_long_number(text):
        raise InvalidSpecifier(f"a number in `{text[:40]}...` has over {_LONGEST_NUMBER:,} digits")
    return prepare_bounds(SpecifierSet(text))


#: The interpreter's limit on the digits ``int()`` reads from a string (0: none).
_LONGEST_NUMBER = sys.get_int_max_str_digits()
_LONG_NUMBER = re.compile(rf"[0-9]{{{_LONGEST_NUMBER + 1}}}") if _LONGEST_NUMBER else None


# Whether Requirement is still the five-slot class assembled above (packaging >= 22).
_ASSEMBLE = set(getattr(Requirement, "__slots__", ())) == {
    "extras",
    "marker",
    "name",
    "specifier",
    "url",
}
_SPEC = r"(?:~=|==|!=|<=|>=|<|>)[A-Za-z0-9.*+!_-]+"
_SIMPLE_REQUIREMENT = re.compile(
    r"(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"
    r"(?:\[(?P<extras>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
    r"(?:,[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)*)\])?"
    rf"(?P<spec>{_SPEC}(?:,{_SPEC})*)?"
    r"(?:[ \t]*;[ \t]*(?P<marker>[^ \t].*))?"
)


@lru_cache(maxsize=4096)
def parse_marker(text: str) -> Marker:
    """Parse a marker, memoized: markers are immutable, and a few hundred texts recur.

    Most distinct markers of index metadata are one comparison, ``extra == "name"``
    (578 of 971 in a warm airflow compile), which packaging's tokenizer and parser take
    10-20 us each to read. Those are assembled here as packaging assembles them: one
    ``(Variable, Op, Value)`` tuple whose value is the canonical name (packaging
    normalizes extra values the same way). Anything else goes to packaging's parser,
    and so does everything when packaging's marker is shaped otherwise (see
    :data:`_ASSEMBLE_MARKERS`); the tests compare both on real and crafted markers.
    """
    match = _EXTRA_MARKER.fullmatch(text) if _ASSEMBLE_MARKERS else None
    if match is None:
        return Marker(text)
    return _extra_marker(match.group(1))


def _extra_marker(extra: str) -> Marker:
    """Return the marker ``extra == "<extra>"`` as packaging's parser makes it."""
    marker = Marker.__new__(Marker)
    marker._markers = [  # noqa: SLF001 - packaging's own layout, checked at import
        (_Variable("extra"), _Op("=="), _Value(canonicalize_name(extra)))
    ]
    marker._serialized = None  # noqa: SLF001
    return marker


#: ``extra == "name"`` with a plain name, the marker :func:`parse_marker` assembles.
_EXTRA_MARKER = re.compile(r'extra == "([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"')

try:  # packaging's parse tree nodes; another layout parses every marker in full
    from packaging._parser import Op as _Op
    from packaging._parser import Value as _Value
    from packaging._parser import Variable as _Variable

    # Whether a marker is still the two-slot object whose tree is assembled above, and
    # packaging parses such a marker into that very tree.
    _ASSEMBLE_MARKERS = set(getattr(Marker, "__slots__", ())) == {"_markers", "_serialized"}
    if _ASSEMBLE_MARKERS:
        _probe = 'extra == "Probe_Name"'
        _ASSEMBLE_MARKERS = repr(Marker(_probe)._markers) == repr(  # noqa: SLF001
            _extra_marker("Probe_Name")._markers  # noqa: SLF001
        )
except ImportError:  # pragma: no cover - another packaging layout
    _ASSEMBLE_MARKERS = False
