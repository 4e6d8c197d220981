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

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

__all__ = ["has_long_number", "parse_marker", "parse_requirement", "parse_specifier"]


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
        return Requirement(text)
    extras, spec, marker_text = match.group("extras", "spec", "marker")
    try:
        specifier = SpecifierSet(spec or "")  # its own: a specifier set has setters
        marker = None if marker_text is None else parse_marker(marker_text)
    except (InvalidSpecifier, InvalidMarker):
        return Requirement(text)  # raises the parser's own error, or disagrees: its answer
    requirement = Requirement.__new__(Requirement)
    requirement.name = match.group("name")
    requirement.url = None
    requirement.extras = set(extras.split(",")) if extras else set()
    requirement.specifier = specifier
    requirement.marker = marker
    return requirement


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


@lru_cache(maxsize=4096)
def parse_specifier(text: str) -> SpecifierSet:
    """Parse a specifier set (a ``Requires-Python``), memoized, refusing over-long numbers.

    packaging parses each version of a specifier set only when it first compares, so a
    ``>=3.999...`` with more digits than ``int()`` reads passes here and raised a bare
    ``ValueError`` later, inside the resolver; refused here, it is one more invalid
    specifier, which callers already skip or report.

    :raises InvalidSpecifier: the text does not parse, or holds such a number.
    """
    if has_long_number(text):
        raise InvalidSpecifier(f"a number in `{text[:40]}...` has over {_LONGEST_NUMBER:,} digits")
    return SpecifierSet(text)


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
    """Parse a marker, memoized: markers are immutable, and a few hundred texts recur."""
    return Marker(text)
