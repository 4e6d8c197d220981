"""A distribution filename is the name, version and (for wheels) tags a file's name declares.

Indexes list files by name, and everything the resolver needs before it fetches any
metadata (the version, whether a wheel suits the target) is encoded in that name. Parsing
is lenient in the way pip is: a name that does not parse yields ``None`` so the file is
skipped, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from packaging.tags import parse_tag
from packaging.utils import (
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

if TYPE_CHECKING:
    from packaging.tags import Tag
    from packaging.utils import BuildTag, NormalizedName

__all__ = [
    "DistFilename",
    "DistKind",
    "cached_tags",
    "cached_version",
    "parse_dist_filename",
]

DistKind = Literal["wheel", "sdist"]

_SDIST_SUFFIXES = (".tar.gz", ".zip")


@dataclass(frozen=True, slots=True)
class DistFilename:
    """What a wheel or sdist file name says about its content.

    ``tags`` is empty and ``build`` is ``()`` for an sdist.
    """

    kind: DistKind
    name: NormalizedName
    version: Version
    tags: frozenset[Tag] = frozenset()
    build: BuildTag = ()


def parse_dist_filename(filename: str, project: str | None = None) -> DistFilename | None:
    """Parse a wheel or sdist file name, or return ``None`` when it is neither.

    :param filename: the file's base name, e.g. ``demo-1.0-py3-none-any.whl``.
    :param project: the project the file is listed under; when given, a file of another
        project yields ``None``, and legacy sdist names with dashes in the version
        (``foo-1.0-beta.tar.gz``) are split at the project name, as pip does.

    >>> parse_dist_filename("demo-1.0.tar.gz").version
    <Version('1.0')>
    """
    wanted = _canonical(project) if project is not None else None
    if filename.endswith(".whl"):
        fast = _fast_wheel(filename)
        if fast is not None:
            name, version, build, tags = fast
        else:
            try:
                name, version, build, tags = parse_wheel_filename(filename)
            except ValueError:  # InvalidWheelFilename, InvalidVersion, a 5,000-digit number
                return None
        if wanted is not None and name != wanted:
            return None
        return DistFilename("wheel", name, version, tags, build)
    if not filename.endswith(_SDIST_SUFFIXES):
        return None
    try:
        name, version = parse_sdist_filename(filename)
    except ValueError:  # InvalidSdistFilename, InvalidVersion, a 5,000-digit number
        if wanted is None:
            return None
        return _parse_legacy_sdist(filename, wanted)
    if wanted is not None and name != wanted:
        return _parse_legacy_sdist(filename, wanted)
    return DistFilename("sdist", name, version)


@lru_cache(maxsize=4096)
def _canonical(name: str) -> NormalizedName:
    """Return ``canonicalize_name(name)``, memoized: a page names its project in every file."""
    return canonicalize_name(name)


@lru_cache(maxsize=4096)
def _wheel_project(part: str) -> NormalizedName | None:
    """Return the normalized project of a wheel name's first field, ``None`` if unusual.

    Memoized: every wheel on a page repeats it. Only plain names (letters, digits and
    underscores) take the fast path; anything else goes to packaging's parser.
    """
    if not part or not part.replace("_", "").isalnum():
        return None
    return canonicalize_name(part)


@lru_cache(maxsize=65536)
def cached_version(text: str) -> Version:
    """Return ``Version(text)``, memoized: pages repeat each version once per file."""
    return Version(text)


@lru_cache(maxsize=8192)
def cached_tags(text: str) -> frozenset[Tag]:
    """Return ``parse_tag(text)``, memoized: a few dozen tag sets recur across a page."""
    return parse_tag(text)


def _fast_wheel(filename: str) -> tuple[NormalizedName, Version, BuildTag, frozenset[Tag]] | None:
    """Parse the common shape of wheel names with memoized versions and tag sets.

    A project page lists hundreds of wheels that share a few dozen tag sets and one
    version per release; parsing each from scratch dominated reading a large page.
    Anything unusual (build tags, odd characters) returns ``None`` and takes packaging's
    full parser, which stays the authority.
    """
    parts = filename[:-4].split("-")
    if len(parts) != 5:
        return None
    name = _wheel_project(parts[0])
    if name is None:
        return None
    try:
        version = cached_version(parts[1])
        tags = cached_tags(f"{parts[2]}-{parts[3]}-{parts[4]}")
    except ValueError:  # InvalidVersion is one
        return None
    return name, version, (), tags


def _parse_legacy_sdist(filename: str, wanted: NormalizedName) -> DistFilename | None:
    """Split ``name-version`` at the dash after which the prefix names ``wanted``."""
    suffix = next(s for s in _SDIST_SUFFIXES if filename.endswith(s))
    stem = filename[: -len(suffix)]
    for index, char in enumerate(stem):
        if char != "-" or canonicalize_name(stem[:index]) != wanted:
            continue
        try:
            version = Version(stem[index + 1 :])
        except ValueError:  # InvalidVersion, or a number longer than int() reads
            return None
        return DistFilename("sdist", wanted, version)
    return None
