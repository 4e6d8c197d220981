"""A distribution filename is the name, version and (for wheels) tags a file's name declares.

Indexes list files by name, and everything the resolver needs before it fetches any
metadata (the version, whether a wheel suits the target) is encoded in that name. Parsing
is lenient in the way pip is: a name that does not parse yields ``None`` so the file is
skipped, never an exception.

A name is also text an index controls, so parsing one must stay cheap whatever it says.
A wheel name's compressed tag sets (``cp310.cp311-abi3-linux_x86_64.manylinux_2_17``)
expand to the product of their parts: three fields of 300 parts, a 4.5 KB name, made 27
million tags and exhausted memory. A name whose tag fields go far beyond any real wheel
(:data:`MAX_TAG_PARTS`, :data:`MAX_TAGS`, :data:`MAX_TAG_TEXT`) is therefore not a
distribution, and is skipped like any other name that does not parse. uv expands
nothing and passes over such a wheel as incompatible with every target: the file is
ignored either way.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Final, Literal

from packaging.tags import parse_tag
from packaging.utils import (
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from resolvent.value_class import Value

if TYPE_CHECKING:
    from packaging.tags import Tag
    from packaging.utils import BuildTag, NormalizedName

__all__ = [
    "MAX_TAGS",
    "MAX_TAG_PARTS",
    "MAX_TAG_TEXT",
    "DistFilename",
    "DistKind",
    "cached_tags",
    "cached_version",
    "parse_dist_filename",
]

DistKind = Literal["wheel", "sdist"]

_SDIST_SUFFIXES = (".tar.gz", ".zip")

#: Most parts one tag field (``cp36.cp37.cp38``) may list. The widest real wheels list
#: about a dozen interpreters (every CPython 3 release, plus PyPy) or half a dozen
#: platforms (manylinux and musllinux aliases, the macOS universal2 trio).
MAX_TAG_PARTS = 64
#: Most tags the three fields may expand to, the product of their part counts. Real
#: wheels stay under a hundred; a thousand costs about 2 ms and a few hundred KB.
MAX_TAGS = 1024
#: Longest ``python-abi-platform`` text. The longest real ones have under 200
#: characters (a whole wheel file name has at most 255, what file systems can store).
MAX_TAG_TEXT = 1024
#: Tag sets up to this size are memoized: every real wheel's, never a large one, so the
#: memo's 8,192 entries cannot grow to millions of tags.
_MEMOIZED_TAGS = 64
_TAG_MEMO_SIZE = 8192
#: The memoized tag sets by text: a plain dict, not ``lru_cache``, which would keep
#: every text it is asked about, a large set's or a refused (and maybe huge) one too.
_tag_memo: dict[str, frozenset[Tag]] = {}


class DistFilename(Value):
    """What a wheel or sdist file name says about its content.

    ``tags`` is empty and ``build`` is ``()`` for an sdist.
    """

    __slots__ = ("build", "kind", "name", "tags", "version")

    def __init__(
        self,
        kind: DistKind,
        name: NormalizedName,
        version: Version,
        tags: frozenset[Tag] = frozenset(),
        build: BuildTag = (),
    ) -> None:
        self.kind: Final = kind
        self.name: Final = name
        self.version: Final = version
        self.tags: Final = tags
        self.build: Final = build


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
            if tag_count("-".join(filename[:-4].split("-")[-3:])) is None:
                return None  # not a real wheel's tags, and expanding them could exhaust memory
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


def tag_count(text: str) -> int | None:
    """Return how many tags ``python-abi-platform`` text expands to, at most.

    ``None`` when the text is beyond the limits above, or has not three fields: it is
    not a real wheel's, and expanding it could take all of memory.

    >>> tag_count("cp311.cp312-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64")
    4
    >>> tag_count(".".join(["p"] * 300) + "-none-any") is None
    True
    """
    if len(text) > MAX_TAG_TEXT:
        return None
    fields = text.split("-")
    if len(fields) != 3:  # python, abi and platform
        return None
    count = 1
    for part in fields:
        parts = part.count(".") + 1
        if parts > MAX_TAG_PARTS:
            return None
        count *= parts
    return count if count <= MAX_TAGS else None


def cached_tags(text: str) -> frozenset[Tag]:
    """Return ``parse_tag(text)``, memoized: a few dozen tag sets recur across a page.

    Text beyond the limits gives no tags at all, a wheel no target can use: only a
    record written before :func:`parse_dist_filename` refused such names (an old cache)
    can carry one, and it must not expand to millions of tags. The limits are checked
    only on a memo miss, since a memoized text passed them already: a page's wheels
    mostly hit, and checking every name again cost a third of parsing one.
    """
    tags = _tag_memo.get(text)
    if tags is not None:
        return tags
    count = tag_count(text)
    if count is None:
        return frozenset()
    tags = parse_tag(text)
    if count <= _MEMOIZED_TAGS:
        if len(_tag_memo) >= _TAG_MEMO_SIZE:
            # Emptied rather than trimmed: one atomic step for threads, and the few
            # dozen tag sets a resolution uses are back after one miss each.
            _tag_memo.clear()
        _tag_memo[text] = tags
    return tags


def _fast_wheel(filename: str) -> tuple[NormalizedName, Version, BuildTag, frozenset[Tag]] | None:
    """Parse the common shape of wheel names with memoized versions and tag sets.

    A project page lists hundreds of wheels that share a few dozen tag sets and one
    version per release; parsing each from scratch dominated reading a large page.
    Anything unusual (build tags, odd characters, tags beyond the limits) returns
    ``None`` and takes packaging's full parser, which stays the authority; the slow path
    also checks the limits, so a refused name is refused there.
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
    if not tags:  # beyond the limits: the slow path refuses the name
        return None
    return name, version, (), tags


def _parse_legacy_sdist(filename: str, wanted: NormalizedName) -> DistFilename | None:
    """Split ``name-version`` at the first dash after which the prefix names ``wanted``.

    The prefix is found with one match of :func:`_legacy_prefix`, then checked once with
    ``canonicalize_name``. Normalizing the prefix at every dash instead was quadratic:
    an index's 300 KB ``a-a-a-...`` file name took 40 s of CPU.
    """
    suffix = next(s for s in _SDIST_SUFFIXES if filename.endswith(s))
    stem = filename[: -len(suffix)]
    match = _legacy_prefix(wanted).match(stem)
    if match is None:
        return None
    index = match.end() - 1  # the dash
    if canonicalize_name(stem[:index]) != wanted:
        return None
    try:
        version = Version(stem[index + 1 :])
    except ValueError:  # InvalidVersion, or a number longer than int() reads
        return None
    return DistFilename("sdist", wanted, version)


@lru_cache(maxsize=256)
def _legacy_prefix(wanted: NormalizedName) -> re.Pattern[str]:
    r"""Return a pattern for the shortest ``name-`` whose name normalizes to ``wanted``.

    A normalized name has a ``-`` where the original has any run of ``-``, ``_`` and
    ``.``, and is lowercase; the pattern matches in linear time, since each lazy run is
    followed by a character that cannot be in the run.

    >>> _legacy_prefix(canonicalize_name("Foo.Bar")).match("foo__bar-1.0-beta").group()
    'foo__bar-'
    """
    body = "".join("[-_.]+?" if char == "-" else re.escape(char) for char in wanted)
    return re.compile(f"{body}-", re.IGNORECASE)
