"""The index provider: the solver's :class:`~resolvent.solver.provider.Provider` over real indexes.

It turns project pages into version listings (yanked, ``requires-python``, whether any
file installs on the target, ``--exclude-newer``) and fetches core metadata without
downloading wheels (PEP 658 files, else range requests into the wheel). An sdist's
metadata is its ``PKG-INFO`` when PEP 643 makes it static; otherwise the provider's
:class:`MetadataBuilder` runs the sdist's build backend (PEP 517), synchronously in the
calling thread and only when the solver asks for that version's requirements (never to
prefetch), and the answer is cached by the sdist's sha256 like any other metadata.

Two paths answer the solver's synchronous calls. What the cache can answer (a fresh
page, metadata fetched before) is answered right here, in the calling thread, from
compact side files (:mod:`resolvent.index.listing`, metadata summaries): a warm run
never starts the event loop, never imports the HTTP stack, and never waits on another
thread. Its common case reads, per project, the page's cache header, the per-target
listing (which names each version's metadata file) and one bundle of metadata
summaries (:class:`~resolvent.index.metadata.MetadataBundle`); the page's file records
are decoded only when something needs the files themselves.

Everything else goes to one event loop in a background thread, created on first need,
where network work runs concurrently: the caller blocks only on what it needs, while
metadata the solver is likely to ask for next (the versions it hints at, the projects a
fetched version requires) is already being fetched.

``asyncio`` (with ``ssl`` and ``socket``) is imported inside the loop-side methods, not at
the top: a warm run never runs them, and the import alone would cost it ~40 ms.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self, overload

from packaging.utils import NormalizedName, canonicalize_name

from resolvent.errors import BuildError, HttpStatusError, IndexDataError, NotCachedError
from resolvent.hashes import sha256_hex
from resolvent.index.filenames import cached_tags, cached_version
from resolvent.index.find_links import FindLinks
from resolvent.index.httpcache import CacheEntry, HttpCache
from resolvent.index.listing import PageRecords, group_by_version, listing_kind
from resolvent.index.metadata import (
    MetadataBundle,
    NeedsBuild,
    cached_metadata,
    file_identity,
    is_cached,
    is_summarized,
    offline_miss,
    store_summary,
)
from resolvent.index.pages import (
    PAGE_ACCEPT,
    FileRecord,
    epoch_microseconds,
    parse_requires_python,
)
from resolvent.json_text import parse_json
from resolvent.markers import requirement_applies
from resolvent.solver.provider import Unavailable, VersionInfo, unusable_reason
from resolvent.solver.universe import Listing, python_allowed

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable, Iterable
    from datetime import datetime

    from packaging.markers import Marker
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    from resolvent.index.config import IndexConfig
    from resolvent.index.edge_cache import EdgeTable
    from resolvent.index.http import HttpClient, LoopThread
    from resolvent.index.metadata import CoreMetadata, MetadataFetcher
    from resolvent.index.pages import DistFile
    from resolvent.target import Target

__all__ = ["BinaryPolicy", "IndexProvider", "MetadataBuilder"]

#: Seconds that background fetches may take to finish when the provider closes.
_CLOSE_GRACE = 2.0

#: ``True`` means every project; a collection names some projects.
BinaryPolicy = bool | Collection[str]

_UNRANKED = -1
#: A project's files as the loop found them: one page whole (its per-target listing can
#: be used), or the records of several sources, or why there are none.
_Listed = PageRecords | list[FileRecord] | Unavailable
_TEXT_OR_NONE = (str, type(None))
_TEXTS = frozenset({str})
_INTS = frozenset({int})
_TEXTS_OR_NONE = frozenset(_TEXT_OR_NONE)


class MetadataBuilder(Protocol):
    """Prepares the core metadata of an sdist through its build backend (PEP 517)."""

    def sdist_metadata(self, sdist: Path, sha256: str) -> bytes:
        """Return the ``METADATA`` bytes of the wheel ``sdist`` builds (cached by ``sha256``).

        :raises BuildError: the backend fails.
        """
        ...


def _applies(policy: BinaryPolicy, name: NormalizedName) -> bool:
    if isinstance(policy, bool):
        return policy
    return name in policy


def _build_key(build: tuple[()] | tuple[int, str]) -> tuple[int, ...]:
    return tuple(-x if isinstance(x, int) else 0 for x in build)


def _sdist_key(record: FileRecord) -> tuple[bool, str]:
    return (not record.filename.endswith(".tar.gz"), record.filename)


_Judged = tuple["Version", str, VersionInfo, list[int] | None, "_VersionFiles | None"]

#: One unusable version as its side file says: its text, yanked, the yanked reason, its
#: ``requires-python``, why it is unusable, and its admitted files (``[]``: none, as for a
#: version whose every file came after ``--exclude-newer``; ``None``: all).
_UnusableRow = tuple[str, bool, str | None, "SpecifierSet | None", str, list[int] | None]

#: A listing's body holds one fixed-size row per usable version, found by position: the
#: sha256 of the file whose metadata stands for the version (its identity, see
#: :func:`~resolvent.index.metadata.file_identity`), then the index of its best file,
#: little-endian (``_NO_BEST``: none). An identity that is no sha256 (a URL, or none) is
#: kept in the head instead, with zeros in the row.
_DIGEST = 32
_ROW = _DIGEST + 4
_NO_BEST = 0xFFFFFFFF
_NO_DIGEST = bytes(_DIGEST)
_SHA256_IDENTITY = re.compile(r"sha256:[0-9a-f]{64}")


def _runs(values: list[int]) -> list[int]:
    """Return ``values`` run-length encoded, as ``[value, count, value, count, ...]``.

    A listing is sorted by version, and neighbouring versions mostly share their
    ``requires-python`` (and unusable ones their reason): a few runs per project.

    >>> _runs([0, 0, 0, 1, 1, 0])
    [0, 3, 1, 2, 0, 1]
    """
    runs: list[int] = []
    for value in values:
        if runs and runs[-2] == value:
            runs[-1] += 1
        else:
            runs += [value, 1]
    return runs


def _expand(runs: object, table: list[Any], count: int) -> list[Any] | None:
    """Return the ``count`` entries of ``table`` that :func:`_runs` of their indices names.

    ``None`` if ``runs`` is malformed or names another number of entries. Entries are
    shared, not copied: the universe judges ``requires-python`` once per distinct object.

    >>> _expand([1, 2, 0, 1], ["a", "b"], 3)
    ['b', 'b', 'a']
    >>> _expand([1, -2, 0, 5], ["a", "b"], 3) is None
    True
    """
    if type(runs) is not list or len(runs) % 2 or not set(map(type, runs)) <= _INTS:
        return None
    indices = runs[0::2]
    lengths = runs[1::2]
    if sum(lengths) != count or (
        runs and (min(indices) < 0 or max(indices) >= len(table) or min(lengths) < 1)
    ):
        return None
    entries: list[Any] = []
    for index, length in zip(indices, lengths, strict=True):
        entries += [table[index]] * length
    return entries


def _listing_parts(judged: list[_Judged]) -> tuple[dict[str, Any], bytes] | None:
    """Return a judged listing as its side file's head and body (see ``_listing_from_parts``).

    ``None`` when the listing cannot be stored so (a version text with a space, which
    only a corrupt ``page-v2`` file gives; an absurd number of files).

    The head (JSON, decoded whole on every read) holds what the universe reads of every
    version: the usable versions' texts (one string, split when read: a warm run lists
    tens of thousands), their ``requires-python`` (indices into the distinct texts,
    run-length encoded), a row ``[position, yanked, reason, admitted files]`` for those
    that are yanked or have files after ``--exclude-newer``, and the identities that are
    no sha256. The body holds the rest, read only where it is needed: a fixed-size row
    per usable version (see ``_ROW``), of which a run reads the few whose metadata the
    search asks for; then the unusable versions, as JSON in columns (texts, distinct
    reasons and ``requires-python`` by runs, sparse yanked and admitted files), decoded
    only if an explanation or a lookup reads them (see :class:`_Unusable`).
    """
    table: dict[str | None, int] = {}
    reasons: dict[str, int] = {}
    texts: list[str] = []
    pythons: list[int] = []
    body = bytearray()
    sources: list[list[Any]] = []
    special: list[list[Any]] = []
    gone_texts: list[str] = []
    gone_pythons: list[int] = []
    gone_why: list[int] = []
    gone_yanked: list[list[Any]] = []
    gone_admitted: list[list[Any]] = []
    for _, text, info, some, files in judged:
        if " " in text:
            return None
        python = None if info.requires_python is None else str(info.requires_python)
        index = table.setdefault(python, len(table))
        if info.unusable is not None:
            position = len(gone_texts)
            if info.yanked or info.yanked_reason is not None:
                gone_yanked.append([position, info.yanked, info.yanked_reason])
            if some != []:
                gone_admitted.append([position, some])
            gone_texts.append(text)
            gone_pythons.append(index)
            gone_why.append(reasons.setdefault(info.unusable, len(reasons)))
            continue
        position = len(texts)
        if info.yanked or info.yanked_reason is not None or some is not None:
            special.append([position, info.yanked, info.yanked_reason, some])
        source = None if files is None else files.source
        best = None if files is None else files.best
        if source is not None and _SHA256_IDENTITY.fullmatch(source):
            body += bytes.fromhex(source[7:])
        else:
            body += _NO_DIGEST
            sources.append([position, source])
        if best is not None and not 0 <= best < _NO_BEST:
            return None
        body += (_NO_BEST if best is None else best).to_bytes(4, "little")
        texts.append(text)
        pythons.append(index)
    tail = b""
    if gone_texts:
        gone = {
            "texts": " ".join(gone_texts),
            "pythons": _runs(gone_pythons),
            "why": list(reasons),
            "whys": _runs(gone_why),
            "yanked": gone_yanked,
            "admitted": gone_admitted,
        }
        tail = json.dumps(gone, separators=(",", ":")).encode()
    head = {
        "count": len(texts),
        "texts": " ".join(texts),
        "python": list(table),
        "pythons": _runs(pythons),
        "special": special,
        "sources": sources,
        "unusable": len(gone_texts),
        "tail": len(tail),
    }
    return head, bytes(body + tail)


class _VersionFiles:
    """The files of one listed version: decoded on first use when they come from a page.

    ``some`` lists the indices of the page's records that ``--exclude-newer`` admits
    (``None``: all of them); ``best`` indexes the admitted records' best file (the one
    an install would use); ``source`` is the identity of the file whose metadata stands
    for the version (see :meth:`IndexProvider._metadata_source`), ``None`` if none can.
    """

    __slots__ = ("_records", "best", "page", "some", "source", "text")

    def __init__(  # noqa: PLR0917 - one per slot, built in three hot loops
        self,
        page: PageRecords | None,
        text: str,
        some: list[int] | None,
        records: list[FileRecord] | None,
        best: int | None,
        source: str | None,
    ) -> None:
        self.page = page
        self.text = text
        self.some = some
        self._records = records
        self.best = best
        self.source = source

    def records(self) -> list[FileRecord]:
        """Return the admitted records of the version."""
        if self._records is None:
            assert self.page is not None
            group = self.page.group(self.text)
            some = self.some
            self._records = group if some is None else [group[i] for i in some if i < len(group)]
        return self._records


class _Unusable(Sequence[VersionInfo]):
    """The unusable versions of a listing read from its side file, decoded when first read.

    No resolution chooses them and only an explanation reads them (``--exclude-newer``
    leaves thousands of recent releases in a warm cache's listings): their part of the
    side file is neither decoded nor checked until then. Should it turn out damaged,
    ``rejudge`` answers instead, from the page itself (and repairs the side file), so a
    damaged cache costs time, never a wrong or failed answer.
    """

    __slots__ = ("_count", "_infos", "_rejudge", "_rows", "_specs", "_text")

    def __init__(
        self,
        count: int,
        text: bytes,
        specs: list[SpecifierSet | None],
        rejudge: Callable[[], list[_UnusableRow]],
    ) -> None:
        self._count = count
        self._text = text
        self._specs = specs
        self._rejudge = rejudge
        self._rows: list[_UnusableRow] | None = None
        self._infos: list[VersionInfo] | None = None

    def rows(self) -> list[_UnusableRow]:
        """Return the versions' rows, decoded (or judged again) on first use."""
        rows = self._rows
        if rows is None:
            rows = _unusable_rows(self._text, self._specs, self._count)
            if rows is None:
                rows = self._rejudge()
            self._rows = rows
            self._text = b""
        return rows

    def _made(self) -> list[VersionInfo]:
        infos = self._infos
        if infos is None:
            infos = self._infos = [
                VersionInfo(cached_version(text), yanked, reason, python, why)
                for text, yanked, reason, python, why, _ in self.rows()
            ]
        return infos

    def __len__(self) -> int:
        rows = self._rows
        return self._count if rows is None else len(rows)

    @overload
    def __getitem__(self, index: int) -> VersionInfo: ...

    @overload
    def __getitem__(self, index: slice) -> list[VersionInfo]: ...

    def __getitem__(self, index: int | slice) -> VersionInfo | list[VersionInfo]:
        return self._made()[index]

    def __iter__(self) -> Iterator[VersionInfo]:
        return iter(self._made())

    def with_files(self) -> Iterator[Version]:
        """Yield the versions that have files (not all after ``--exclude-newer``)."""
        return (
            info.version
            for info, row in zip(self._made(), self.rows(), strict=True)
            if row[5] != []
        )

    def files(self, page: PageRecords, version: Version) -> _VersionFiles | None:
        """Return the files of one of these versions (``None``: not one of them, or none)."""
        for info, row in zip(self._made(), self.rows(), strict=True):
            if info.version == version:
                some = row[5]
                return None if some == [] else _VersionFiles(page, row[0], some, None, None, None)
        return None


def _unusable_rows(
    text: bytes, specs: list[SpecifierSet | None], count: int
) -> list[_UnusableRow] | None:
    """Decode the unusable versions written by :func:`_listing_parts`; ``None`` if malformed."""
    if not count:
        return [] if not text else None
    try:
        data = parse_json(text)
        if type(data) is not dict:
            return None
        joined = data["texts"]
        table = data["why"]
        yanked_rows = data["yanked"]
        admitted_rows = data["admitted"]
        if (
            type(joined) is not str
            or type(table) is not list
            or type(yanked_rows) is not list
            or type(admitted_rows) is not list
            or not set(map(type, table)) <= _TEXTS
        ):
            return None
        texts = joined.split(" ")
        pythons = _expand(data["pythons"], specs, count)
        whys = _expand(data["whys"], table, count)
        if len(texts) != count or pythons is None or whys is None:
            return None
        for text_ in texts:
            cached_version(text_)  # raises for anything but a version's text
        yanked = [False] * count
        reasons: list[str | None] = [None] * count
        for position, flag, reason in yanked_rows:
            if (
                type(position) is not int
                or not 0 <= position < count
                or type(flag) is not bool
                or type(reason) not in _TEXT_OR_NONE
            ):
                return None
            yanked[position] = flag
            reasons[position] = reason
        admitted: list[list[int] | None] = [[] for _ in range(count)]
        for position, files in admitted_rows:
            if type(position) is not int or not 0 <= position < count or not _admitted_files(files):
                return None
            admitted[position] = files
    except (KeyError, TypeError, ValueError):  # InvalidVersion is a ValueError
        return None
    return list(zip(texts, yanked, reasons, pythons, whys, admitted, strict=True))


class _ListedFiles(Mapping["Version", _VersionFiles]):
    """The :class:`_VersionFiles` of a listing read from its side file, made when asked.

    The side file holds them in fixed-size rows by the listing's positions (see
    ``_ROW``); a warm run asks for the files of a few versions per project (the metadata
    of those the search tries), out of thousands listed, so each is built on its first
    lookup from its row alone.
    """

    __slots__ = (
        "_body",
        "_listing",
        "_made",
        "_page",
        "_some",
        "_sources",
        "_start",
        "_texts",
        "_unusable",
    )

    def __init__(  # noqa: PLR0917 - the parts of one side file
        self,
        page: PageRecords,
        listing: Listing,
        texts: list[str],
        body: bytes,
        start: int,
        sources: dict[int, str | None],
        some: dict[int, list[int]],
        unusable: _Unusable,
    ) -> None:
        self._page = page
        self._listing = listing
        self._texts = texts
        self._body = body
        self._start = start
        self._sources = sources
        self._some = some
        self._unusable = unusable
        self._made: dict[int, _VersionFiles] = {}

    def __getitem__(self, version: Version) -> _VersionFiles:
        position = self._listing.position(version)
        if position is None:
            # An unusable version has files too (not for this target, or too new).
            found = self._unusable.files(self._page, version) if self._unusable else None
            if found is None:
                raise KeyError(version)
            return found
        found = self._made.get(position)
        if found is None:
            some = self._some.get(position)
            if some == []:  # every file came after --exclude-newer: none to use
                raise KeyError(version)
            start = self._start + _ROW * position
            row = self._body[start : start + _ROW]
            best = int.from_bytes(row[_DIGEST:], "little")
            sources = self._sources
            found = _VersionFiles(
                self._page,
                self._texts[position],
                some,
                None,
                None if best == _NO_BEST else best,
                sources[position] if position in sources else f"sha256:{row[:_DIGEST].hex()}",
            )
            self._made[position] = found
        return found

    def __iter__(self) -> Iterator[Version]:
        versions = self._listing.versions
        yield from (v for i, v in enumerate(versions) if self._some.get(i) != [])
        yield from self._unusable.with_files()

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _listing_from_parts(
    page: PageRecords,
    found: tuple[Any, bytes, int] | None,
    rejudge: Callable[[], list[_UnusableRow]],
) -> tuple[Listing, _ListedFiles] | None:
    """Rebuild the listing stored by :meth:`IndexProvider._store_listing`, with its files.

    ``found`` is the side file as :meth:`HttpCache.load_derived_parts` reads it; the
    answer is ``None`` if it is missing or malformed, or lists no version (a page without
    files).

    A warm run does this for every project it meets (tens of thousands of versions),
    so only the head is decoded, its columns checked at once where they are columns (the
    ``requires-python`` table, by the set of its element types: JSON gives no
    subclasses) and its few rows one by one, and the per-version objects are made by
    ``map``: versions are parsed (memoized by text), ``requires-python`` values parsed
    once per distinct text. The body is only measured: a version's files are made from
    its row when it is looked up, and the unusable versions are decoded when read (see
    :class:`_Unusable`), through ``rejudge`` should they be damaged.
    """
    if found is None:
        return None
    data, blob, start = found
    if type(data) is not dict:
        return None
    try:
        count = data["count"]
        joined = data["texts"]
        table = data["python"]
        rows = data["special"]
        source_rows = data["sources"]
        gone = data["unusable"]
        tail = data["tail"]
        if (
            type(count) is not int
            or type(joined) is not str
            or type(table) is not list
            or type(rows) is not list
            or type(source_rows) is not list
            or type(gone) is not int
            or type(tail) is not int
            or count < 0
            or gone < 0
            or not (count or gone)
            or (gone == 0) != (tail == 0)
            or len(blob) != start + _ROW * count + tail
            or not set(map(type, table)) <= _TEXTS_OR_NONE
        ):
            return None
        texts = joined.split(" ") if joined else []
        if len(texts) != count:
            return None
        # Anything but a version's text raises here.
        versions = list(map(cached_version, texts))
        specs = list(map(parse_requires_python, table))
        requires_python = _expand(data["pythons"], specs, count)
        if requires_python is None:
            return None
        special: dict[int, VersionInfo] = {}
        some: dict[int, list[int]] = {}
        for position, yanked, reason, admitted in rows:
            if (
                type(position) is not int
                or not 0 <= position < count
                or type(yanked) is not bool
                or type(reason) not in _TEXT_OR_NONE
                or not _admitted_files(admitted)
            ):
                return None
            if yanked or reason is not None:
                special[position] = VersionInfo(
                    versions[position], yanked, reason, requires_python[position]
                )
            if admitted is not None:
                some[position] = admitted
        sources: dict[int, str | None] = {}
        for position, identity in source_rows:
            if type(position) is not int or not 0 <= position < count:
                return None
            if type(identity) not in _TEXT_OR_NONE:
                return None
            sources[position] = identity
        rest = start + _ROW * count
        unusable = _Unusable(gone, blob[rest:], specs, rejudge)
        # Sorted when written (see _judge_page); a side file is trusted for its order
        # as it is for what it says of each version, being tied to the page's digest.
        listing = Listing(
            versions, requires_python, special, unusable=unusable, texts=texts, ascending=True
        )
    except (KeyError, TypeError, ValueError):  # InvalidVersion is a ValueError
        return None
    return listing, _ListedFiles(page, listing, texts, blob, start, sources, some, unusable)


def _admitted_files(admitted: object) -> bool:
    """Whether a side file's list of admitted files has the right shape (``None``: all)."""
    return admitted is None or (type(admitted) is list and set(map(type, admitted)) <= _INTS)


class IndexProvider:
    """A provider over package indexes and find-links locations, for one target.

    :param config: index URLs, find-links and the index strategy.
    :param target: the environment whose wheel tags decide what can be installed.
    :param cache_dir: the HTTP cache folder (``None``: no cache).
    :param policy: ``normal``, ``offline`` or ``refresh`` (see :class:`HttpClient`).
    :param exclude_newer: ignore files uploaded after this moment (PEP 700).
    :param no_build: never build sdists (all projects, or the named ones).
    :param no_binary: never use wheels (all projects, or the named ones).
    :param builder: prepares the metadata of sdists whose metadata is not static
        (``None``: such versions are unavailable).

    Example::

        with IndexProvider(config, target, cache_dir=cache) as provider:
            universe = Universe(provider, requirements, target.markers(), ...)
    """

    def __init__(
        self,
        config: IndexConfig,
        target: Target,
        *,
        cache_dir: Path | None = None,
        policy: Literal["normal", "offline", "refresh"] = "normal",
        exclude_newer: datetime | None = None,
        no_build: BinaryPolicy = False,
        no_binary: BinaryPolicy = False,
        max_concurrency: int = 32,
        builder: MetadataBuilder | None = None,
    ) -> None:
        self.config = config
        self.builder = builder
        self.target = target
        self.exclude_newer = exclude_newer
        self.no_build = (
            no_build if isinstance(no_build, bool) else {canonicalize_name(n) for n in no_build}
        )
        self.no_binary = (
            no_binary if isinstance(no_binary, bool) else {canonicalize_name(n) for n in no_binary}
        )
        self.policy: Literal["normal", "offline", "refresh"] = policy
        self._limit = None
        if exclude_newer is not None:
            # Compared with records' upload times, in microseconds since the epoch.
            self._limit = epoch_microseconds(exclude_newer)
        self._markers = target.markers() | {"extra": ""}
        self._cache_dir = cache_dir
        self._cache = HttpCache(cache_dir) if cache_dir is not None else None
        self._max_concurrency = max_concurrency
        # Remembered digests of local files, unless every cached answer is to be ignored.
        self._find_links = FindLinks(
            config.find_links, self._cache if policy != "refresh" else None
        )
        # The I/O side, created on first need (see _io()).
        self._loop: LoopThread | None = None
        self._client: HttpClient | None = None
        self._fetcher: MetadataFetcher | None = None
        # Owned by the loop thread: running or finished tasks.
        self._page_tasks: dict[NormalizedName, asyncio.Task[_Listed]] = {}
        self._meta_tasks: dict[
            tuple[NormalizedName, Version], asyncio.Task[CoreMetadata | Unavailable]
        ] = {}
        # Written by the loop thread when a task succeeds, read by the calling thread
        # (single dict operations are atomic): answers that need no second round trip.
        self._page_done: dict[NormalizedName, _Listed] = {}
        self._meta_done: dict[tuple[NormalizedName, Version], CoreMetadata | Unavailable] = {}
        # Owned by the calling thread.
        self._files: dict[NormalizedName, Mapping[Version, _VersionFiles]] = {}
        self._best: dict[tuple[NormalizedName, Version], DistFile | None] = {}
        self._listing_params: list[object] | None = None
        self._listing_kinds: dict[tuple[bool, bool], str] = {}
        self._meta: dict[tuple[NormalizedName, Version], CoreMetadata | Unavailable] = {}
        # Versions whose sdist failed to build its metadata, with the error: the engines
        # see them as unavailable, and the caller decides afterwards whether the answer
        # needed them (see ``resolvent.project.resolve``).
        self.build_failures: dict[tuple[NormalizedName, Version], BuildError] = {}
        #: Says whether a failed build must stop the resolution at once (it is bound to
        #: fail: the caller's answer could only settle below it); ``None``: never.
        self.stop_at: Callable[[NormalizedName, Version], bool] | None = None
        # While set, an sdist whose metadata only a build can give is unavailable instead
        # of built, and waits in ``_deferred`` (kept out of ``_meta``) for a later ask.
        self.defer_builds = False
        self._deferred: dict[tuple[NormalizedName, Version], NeedsBuild] = {}
        self._build_anyway: set[tuple[NormalizedName, Version]] = set()
        self._asked_pages: set[NormalizedName] = set()
        self._asked_meta: set[tuple[NormalizedName, Version]] = set()
        self._probed: set[NormalizedName] = set()
        # Page cache headers that _probe_pages found fresh, by cache key.
        self._page_headers: dict[str, CacheEntry] = {}
        # Per-target listings read ahead by _cached_records, by page key (see _side_listing).
        self._side_listings: dict[str, tuple[PageRecords, tuple[Listing, _ListedFiles]]] = {}
        self._bundles: dict[NormalizedName, MetadataBundle] = {}
        # Marker verdicts by marker identity (parsed markers are shared objects; the
        # marker is kept in the value so that its id cannot be reused).
        self._marker_verdicts: dict[int, tuple[Marker, bool]] = {}
        self._tag_ranks: dict[str, int] = {}
        # Stored edges by context text (see edge_table), saved on close.
        self._edge_tables: dict[str, EdgeTable] = {}
        self.requests = 0

    # -- the provider protocol ----------------------------------------------------

    def list_versions(self, name: NormalizedName) -> Sequence[VersionInfo] | Unavailable:
        """Return the versions the indexes list for ``name``, judged for the target."""
        source = self._records(name)
        if isinstance(source, Unavailable):
            return source
        if isinstance(source, PageRecords):
            return self._page_listing(name, source)
        files: dict[Version, _VersionFiles] = {}
        infos: list[VersionInfo] = []
        for version, group in group_by_version(source).items():
            kept = [r for r in group if self._admitted(r)]
            if not kept:  # listed as unusable, as in _page_listing
                infos.append(VersionInfo(version, unusable=self._too_new))
                continue
            info, best = self._judge(name, version, kept)
            identity = self._source_identity(name, kept, best)
            files[version] = _VersionFiles(None, "", None, kept, best, identity)
            infos.append(info)
        self._files[name] = files
        return infos

    @functools.cached_property
    def _too_new(self) -> str:
        """Why a version whose every file came after ``--exclude-newer`` is not used."""
        moment = self.exclude_newer
        when = "" if moment is None else f" ({moment.isoformat().replace('+00:00', 'Z')})"
        return f"was uploaded after the `--exclude-newer` limit{when}"

    def _admitted(self, record: FileRecord) -> bool:
        """Whether ``--exclude-newer`` lets the file in (local files always pass).

        As in uv, a file uploaded at the limit itself is excluded: the limit is the
        first moment that no longer counts.
        """
        limit = self._limit
        return (
            limit is None
            or not record.url.startswith(("http:", "https:"))
            or (record.upload_time is not None and record.upload_time < limit)
        )

    def _page_listing(self, name: NormalizedName, page: PageRecords) -> Listing | Unavailable:
        """Judge one cached page's versions, through its per-target side file if present.

        The listing comes sorted oldest first, and says so (``Listing.ascending``), as
        its side file is stored: the universe then orders it without comparing versions.
        """
        found = self._side_listing(name, page)
        if found is not None:
            self._files[name] = found[1]
            return found[0]
        if not page.has_files():  # not expected: pages come here with files
            return self._not_found(name)
        judged = self._judge_page(name, page)
        self._files[name] = {v: files for v, _, _, _, files in judged if files is not None}
        usable = [entry for entry in judged if entry[2].unusable is None]
        listing = Listing(
            [version for version, _, _, _, _ in usable],
            [info.requires_python for _, _, info, _, _ in usable],
            {
                position: info
                for position, (_, _, info, _, _) in enumerate(usable)
                if info.yanked or info.yanked_reason is not None
            },
            unusable=[info for _, _, info, _, _ in judged if info.unusable is not None],
            texts=[text for _, text, _, _, _ in usable],
            ascending=True,
        )
        self._store_listing(name, page, judged)
        return listing

    def _judge_page(self, name: NormalizedName, page: PageRecords) -> list[_Judged]:
        """Judge every version of a page from its records, sorted oldest first."""
        judged: list[_Judged] = []
        for version, text, group in page.groups():
            admitted = [i for i, r in enumerate(group) if self._admitted(r)]
            if not admitted:
                # Kept, as unusable, so that an explanation can say why (uv's hint).
                judged.append(
                    (version, text, VersionInfo(version, unusable=self._too_new), [], None)
                )
                continue
            kept = group if len(admitted) == len(group) else [group[i] for i in admitted]
            info, best = self._judge(name, version, kept)
            some = None if kept is group else admitted
            source = self._source_identity(name, kept, best)
            files = _VersionFiles(page, text, some, kept, best, source)
            judged.append((version, text, info, some, files))
        judged.sort(key=itemgetter(0))
        return judged

    def _store_listing(
        self, name: NormalizedName, page: PageRecords, judged: list[_Judged]
    ) -> None:
        """Write a judged page's per-target side file, for the next run to read."""
        cache, digest = page.cache, page.digest
        if cache is None or digest is None:
            return
        parts = _listing_parts(judged)
        if parts is None:
            return
        # A read-only cache still answers; the page is judged again next time.
        with contextlib.suppress(OSError):
            cache.store_derived_parts(page.key, self._listing_kind(name), digest, *parts)

    def _rejudged_unusable(self, name: NormalizedName, page: PageRecords) -> list[_UnusableRow]:
        """Return a page's unusable versions judged afresh, repairing its side file.

        For a side file whose unusable part turned out damaged when first read (it is
        not checked before: see :class:`_Unusable`).
        """
        judged = self._judge_page(name, page)
        self._store_listing(name, page, judged)
        return [
            (text, info.yanked, info.yanked_reason, info.requires_python, info.unusable, some)
            for _, text, info, some, _ in judged
            if info.unusable is not None
        ]

    def _side_listing(
        self, name: NormalizedName, page: PageRecords, *, keep: bool = False
    ) -> tuple[Listing, _ListedFiles] | None:
        """Return a page's listing from its per-target side file; ``None`` if unusable.

        An empty listing counts as unusable too: it stands for a page without files,
        which the caller finds out by the page itself. ``keep`` holds the answer for the
        next call about the same page, which takes it (:meth:`_cached_records` asks
        first, to know that the page has files, and :meth:`_page_listing` uses it).
        """
        kept = self._side_listings.pop(page.key, None)
        if kept is not None and kept[0] is page:
            return kept[1]
        cache, digest = page.cache, page.digest
        if cache is None or digest is None:
            return None
        parts = cache.load_derived_parts(page.key, self._listing_kind(name), digest)
        found = _listing_from_parts(
            page, parts, functools.partial(self._rejudged_unusable, name, page)
        )
        if found is not None and keep:
            self._side_listings[page.key] = (page, found)
        return found

    def _listing_kind(self, name: NormalizedName) -> str:
        """Name the per-target side file: a hash of all that the listing depends on."""
        if self._listing_params is None:
            tags = "\n".join(str(tag) for tag in self.target.tags)
            # "<": files strictly before the limit (side files once admitted "<="); "+":
            # the versions after it are listed as unusable (they were once left out).
            self._listing_params = [sha256_hex(tags.encode()), "<+", self._limit]
        flags = (_applies(self.no_binary, name), _applies(self.no_build, name))
        kind = self._listing_kinds.get(flags)
        if kind is None:
            kind = self._listing_kinds[flags] = listing_kind([*self._listing_params, *flags])
        return kind

    @property
    def deferred_builds(self) -> Collection[tuple[NormalizedName, Version]]:
        """Return the versions whose metadata build was put off (see ``defer_builds``)."""
        return self._deferred.keys() - self._build_anyway

    def build_deferred(self, keys: Collection[tuple[NormalizedName, Version]]) -> bool:
        """Build these put-off versions' metadata when next asked, deferring or not.

        Returns whether any of them is new (false: all were already exempt, or none given).
        """
        new = set(keys) - self._build_anyway
        self._build_anyway |= new
        return bool(new)

    def get_requirements(
        self, name: NormalizedName, version: Version
    ) -> Sequence[Requirement] | Unavailable:
        """Return the ``Requires-Dist`` of one version from its best file's metadata."""
        meta = self._meta.get((name, version)) or self._bundled(name, version)
        if meta is None:
            file = self._metadata_source(name, version)
            if file is None:
                return Unavailable(
                    f"no file of `{name}=={version}` can provide metadata for the target"
                )
            meta = self._metadata_of(name, version, file)
        if isinstance(meta, Unavailable):
            return meta
        if meta.requires_python is not None and not python_allowed(
            meta.requires_python, self.target.python_version
        ):
            # The page did not say so, but the metadata does.
            return Unavailable(
                f"requires Python {meta.requires_python}, "
                f"but the target Python is {self.target.python_version}"
            )
        return meta.requires_dist

    def provides_extra(self, name: NormalizedName, version: Version) -> Collection[str] | None:
        """Return the extras one version's metadata declares (``None``: not read here).

        Only metadata already read answers: resolution read it for every version it
        chose, and a diagnostic must not start a fetch.
        """
        meta = self._meta.get((name, version))
        if meta is None or isinstance(meta, Unavailable):
            return None
        return meta.provides_extra

    def invalid_requirements(self, name: NormalizedName, version: Version) -> Sequence[str]:
        """Return the ``Requires-Dist`` lines of one version that were left out as invalid.

        Read from the metadata already read (as :meth:`provides_extra`), which carries
        them from the cache too, so that every run choosing the version warns.
        """
        meta = self._meta.get((name, version))
        if meta is None or isinstance(meta, Unavailable):
            return ()
        return meta.invalid_requires_dist

    @property
    def takes_hints(self) -> bool:
        """Return whether hints can start fetches: not offline (the cache answers then)."""
        return self.policy != "offline"

    def prefetch(self, name: NormalizedName, versions: Sequence[Version]) -> None:
        """Start fetching metadata of these versions in the background.

        Versions whose metadata is cached are skipped (they are read on demand, cheaply),
        and so is everything when offline; the rest go to the loop in one hand-over.
        A hint of several versions is a batch, mostly speculative: as in uv's batch
        prefetcher, its sdist-only versions are skipped, because reading an sdist's
        metadata means downloading all of it (pyspark's are 300-450 MB) and, for most,
        a build after that.
        """
        if self.policy == "offline":
            return
        batch = len(versions) > 1
        wanted: list[tuple[NormalizedName, Version, DistFile]] = []
        for version in versions:
            key = (name, version)
            if key in self._meta or key in self._asked_meta:
                continue
            if self.policy == "normal" and self._summarized(name, version):
                continue
            file = self._metadata_source(name, version)
            if file is None or (batch and file.kind != "wheel"):
                continue
            if self.policy == "normal" and self._cache is not None and is_cached(self._cache, file):
                continue
            self._asked_meta.add(key)
            wanted.append((name, version, file))
        if wanted:
            self._io().submit(self._start_metadata_batch(wanted))

    def edge_table(self, markers: Mapping[str, str], python_version: Version) -> EdgeTable | None:
        """Return the evaluated edges kept by earlier runs for this target (see edge_cache).

        ``None`` without a cache, and under ``--refresh``, which must ignore everything
        cached. The context holds all that, besides a version's metadata, decides its
        edges: the marker environment and Python they were evaluated for, the versions
        and the source digest of the code that evaluated them
        (:func:`~resolvent.index.edge_cache.code_identity`), and the options that choose
        which file's metadata stands for a version.
        """
        if self._cache is None or self.policy == "refresh":
            return None
        import packaging  # noqa: PLC0415

        from resolvent import __version__  # noqa: PLC0415
        from resolvent.index.edge_cache import (  # noqa: PLC0415
            FOLDER,
            FORMAT,
            EdgeTable,
            code_identity,
        )

        code = code_identity()
        if code is None:
            return None

        def policy(value: BinaryPolicy) -> object:
            return value if isinstance(value, bool) else sorted(value)

        context = json.dumps(
            [
                FORMAT,
                __version__,
                code,
                packaging.__version__,
                sorted(markers.items()),
                str(python_version),
                policy(self.no_build),
                policy(self.no_binary),
            ],
            separators=(",", ":"),
        )
        table = self._edge_tables.get(context)
        if table is None:
            folder = self._cache.root / FOLDER
            table = self._edge_tables[context] = EdgeTable(folder, context, self._edge_identity)
        return table

    def _edge_identity(self, name: NormalizedName, version: Version) -> tuple[str, str] | None:
        """Return a listed version's text and metadata identity, for stored edges.

        Only a sha256 identifies metadata by content (a URL's file may change); a version
        the listing does not hold has none.
        """
        found = self._files.get(name, {}).get(version)
        if found is None:
            return None
        source = found.source
        if source is None or not _SHA256_IDENTITY.fullmatch(source):
            return None
        return found.text, source

    # -- extras for callers (hashes, installs) -----------------------------------

    def files(self, name: NormalizedName, version: Version) -> list[DistFile]:
        """Return every file of a listed version (after ``--exclude-newer``)."""
        found = self._files.get(name, {}).get(version)
        return [record.dist(name) for record in found.records()] if found is not None else []

    def sha256_of(self, file: DistFile) -> str:
        """Return the file's sha256: the index's, else computed from a download.

        Find-links pages and some indexes list files without hashes; ``--generate-hashes``
        then needs the digest of the file itself, as uv computes it.
        """
        if file.sha256:
            return file.sha256
        return sha256_hex(self.download(file.url, immutable=True))

    def download(self, url: str, *, immutable: bool = False) -> bytes:
        """Return the body at ``url`` through the index client: its retries, cache and policy.

        :param immutable: the URL names one file for good (an index's file): cache it
            without revalidation. A direct URL from the user may change; it is cached as
            its server's headers say.
        """
        return self._io().run(self._download(url, immutable=immutable))

    async def _download(self, url: str, *, immutable: bool) -> bytes:
        assert self._client is not None
        return (await self._client.get(url, immutable=immutable)).content

    def best_file(self, name: NormalizedName, version: Version) -> DistFile | None:
        """Return the file an install would use: the best compatible wheel, else the sdist."""
        return self._metadata_file(name, version)

    def close(self) -> None:
        """Close connections, stop the I/O thread (if one was started), save bundles and edges."""
        try:
            loop = self._loop
            if loop is not None and not loop.loop.is_closed():
                loop.run(self._drain())
                loop.close()
        finally:
            for bundle in self._bundles.values():
                bundle.save()
            for table in self._edge_tables.values():
                table.save()

    async def _drain(self) -> None:
        """Let background fetches finish briefly, cancel the rest, then close connections.

        Cancelling a request in the middle of connecting leaves coroutines of the HTTP
        stack unawaited; giving speculative fetches a short grace avoids that in the
        common case, where they are about to finish anyway.
        """
        import asyncio  # noqa: PLC0415 - see the module's note on lazy imports

        # A fetch that ends during the grace may start others (a version's metadata
        # starts the pages of what it requires), and downloads shared through the
        # fetcher outlive a cancelled caller: the client closes only once none is left.
        # Closed under a fetch that was still to send its request, the client made a
        # new connection pool for it, which nothing closed: its connections stayed
        # open after the loop (a ResourceWarning when collected).
        deadline = asyncio.get_running_loop().time() + _CLOSE_GRACE
        while pending := self._unfinished():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining > 0:
                await asyncio.wait(pending, timeout=remaining)
                continue
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    def _unfinished(self) -> list[asyncio.Task[Any]]:
        """Return the fetches still running on the loop: pages, metadata and downloads."""
        tasks: list[asyncio.Task[Any]] = [
            t for t in (*self._page_tasks.values(), *self._meta_tasks.values()) if not t.done()
        ]
        if self._fetcher is not None:
            tasks.extend(self._fetcher.unfinished())
        return tasks

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- listing ------------------------------------------------------------------

    def _tag_rank(self, tags: str) -> int:
        """Return the best rank of a wheel's tag set for the target (``-1``: unusable)."""
        rank = self._tag_ranks.get(tags)
        if rank is None:
            ranks = [r for r in map(self.target.tag_rank, cached_tags(tags)) if r is not None]
            rank = min(ranks) if ranks else _UNRANKED
            self._tag_ranks[tags] = rank
        return rank

    def _best_wheel(self, name: NormalizedName, records: list[FileRecord]) -> FileRecord | None:
        """Return the wheel an install would pick: best tag rank, then build, then name."""
        if _applies(self.no_binary, name):
            return None
        best: tuple[int, tuple[int, ...], str] | None = None
        chosen = None
        for record in records:
            if record.kind != "wheel":
                continue
            rank = self._tag_rank(record.tags)
            if rank == _UNRANKED:
                continue
            key = (rank, _build_key(record.build), record.filename)
            if best is None or key < best:
                best, chosen = key, record
        return chosen

    def _best_sdist(self, name: NormalizedName, records: list[FileRecord]) -> FileRecord | None:
        if _applies(self.no_build, name):
            return None
        sdists = [r for r in records if r.kind == "sdist"]
        return min(sdists, key=_sdist_key) if sdists else None

    def _judge(
        self, name: NormalizedName, version: Version, files: list[FileRecord]
    ) -> tuple[VersionInfo, int | None]:
        """Return what the listing says of a version, and which file gives its metadata."""
        chosen = self._best_wheel(name, files) or self._best_sdist(name, files)
        unusable = None
        best = None
        if chosen is None:
            unusable = self._why_unusable(name, files)
            chosen = files[0]
        else:
            best = next(i for i, f in enumerate(files) if f is chosen)
        yanked = all(f.yanked for f in files)
        reason = next((f.yanked_reason for f in files if f.yanked_reason), None) if yanked else None
        info = VersionInfo(
            version,
            yanked=yanked,
            yanked_reason=reason,
            requires_python=parse_requires_python(chosen.requires_python),
            unusable=unusable,
        )
        return info, best

    def _why_unusable(self, name: NormalizedName, files: list[FileRecord]) -> str:
        return unusable_reason(
            wheels=any(f.kind == "wheel" for f in files),
            sdist=any(f.kind == "sdist" for f in files),
            no_build=_applies(self.no_build, name),
            no_binary=_applies(self.no_binary, name),
        )

    def _metadata_file(self, name: NormalizedName, version: Version) -> DistFile | None:
        key = (name, version)
        if key in self._best:
            return self._best[key]
        found = self._files.get(name, {}).get(version)
        chosen = None
        if found is not None and found.best is not None:
            records = found.records()
            if found.best < len(records):  # only a corrupt side file says otherwise
                chosen = records[found.best].dist(name)
        self._best[key] = chosen
        return chosen

    def _metadata_source(self, name: NormalizedName, version: Version) -> DistFile | None:
        """Return the file whose metadata stands for the version.

        That is the file an install would use, except that an sdist gives way to a wheel
        of the same version built for another platform or Python, as in uv: the files of
        one version are taken to share their metadata, and reading a wheel's costs a
        range request where the sdist's may need a build (which may not even run on the
        target). The wheel closest to the target wins, as uv ranks them: an interpreter
        and ABI pair the target accepts, then a known interpreter, then a known platform;
        the index's order breaks ties.
        """
        found = self._files.get(name, {}).get(version)
        if found is None or found.best is None:
            return None
        record = self._source_record(name, found.records(), found.best)
        return None if record is None else record.dist(name)

    def _source_record(
        self, name: NormalizedName, records: list[FileRecord], best: int | None
    ) -> FileRecord | None:
        """Return the record :meth:`_metadata_source` describes, from a version's records."""
        if best is None or best >= len(records):  # only a corrupt side file says otherwise
            return None
        file = records[best]
        if file.kind != "sdist" or _applies(self.no_binary, name):
            return file
        pairs, interpreters, platforms = self._target_tag_parts
        key_of_best: tuple[bool, bool, bool] | None = None
        chosen = None
        for record in records:
            if record.kind != "wheel":
                continue
            tags = cached_tags(record.tags)
            key = (
                any((t.interpreter, t.abi) in pairs for t in tags),
                any(t.interpreter in interpreters for t in tags),
                any(t.platform in platforms for t in tags),
            )
            if key_of_best is None or key > key_of_best:
                key_of_best, chosen = key, record
        return file if chosen is None else chosen

    def _source_identity(
        self, name: NormalizedName, records: list[FileRecord], best: int | None
    ) -> str | None:
        record = self._source_record(name, records, best)
        return None if record is None else file_identity(record)

    @functools.cached_property
    def _target_tag_parts(
        self,
    ) -> tuple[frozenset[tuple[str, str]], frozenset[str], frozenset[str]]:
        """The target's (interpreter, ABI) pairs, interpreters and platforms.

        Made once: a cold listing asks for every version that has only an sdist as its
        best file, and the target has hundreds of tags (rebuilding the sets each time
        took 1.7 s of a cold compile of trio's documentation set under cProfile).
        """
        tags = self.target.tags
        return (
            frozenset((t.interpreter, t.abi) for t in tags),
            frozenset(t.interpreter for t in tags),
            frozenset(t.platform for t in tags),
        )

    # -- the calling thread's side: the cache, else the loop -----------------------

    def _records(self, name: NormalizedName) -> PageRecords | list[FileRecord] | Unavailable:
        """Return the records of every source for ``name``; from the cache when it can.

        One cached page and nothing else comes back whole (:class:`PageRecords`), so
        that its per-target listing can be used.
        """
        done = self._page_done.get(name)
        if done is not None:
            return done
        if name not in self._asked_pages:
            found = self._cached_records(name)
            if found is not None:
                return found
            self._asked_pages.add(name)
        return self._io().run(self._page_files(name))

    def _page_key(self, index: str, name: NormalizedName) -> tuple[str, str]:
        url = f"{index.rstrip('/')}/{name}/"
        return url, HttpCache.key(url, PAGE_ACCEPT)

    def _cached_records(
        self, name: NormalizedName
    ) -> PageRecords | list[FileRecord] | Unavailable | None:
        """Answer a listing from the cache alone, as the loop would; ``None`` if it cannot.

        Mirrors :meth:`_fetch_files`: a page is usable when fresh (or, offline, when
        cached at all); an offline miss means "not on this index". ``file:`` indexes,
        remote find-links, stale or missing pages go to the loop.
        """
        cache = self._cache
        if cache is None or self.policy == "refresh" or not self._find_links.local:
            return None
        offline = self.policy == "offline"
        pages: list[PageRecords] = []
        local = self._find_links.local_files(name)
        # Whether the first page with files is used whole: then a usable per-target
        # listing of a page says that it has files, and its side file's probe is spared.
        whole = not local and (
            self.config.strategy == "first-index" or len(self.config.index_urls) == 1
        )
        for index in self.config.index_urls:
            url, key = self._page_key(index, name)
            if not url.startswith(("http:", "https:")):
                return None
            entry = self._page_headers.pop(key, None) or cache.load(key, body=False)
            if entry is None:
                if offline:
                    continue
                return None
            if not offline and not entry.is_fresh(time.time()):
                return None
            page = PageRecords.load(cache, key, entry, name, probe=not whole)
            if whole and self._side_listing(name, page, keep=True) is not None:
                return page
            if page.has_files():
                pages.append(page)
                if self.config.strategy == "first-index":
                    break
        if len(pages) == 1 and not local:
            return pages[0]
        found = [record for page in pages for _, _, group in page.groups() for record in group]
        found.extend(FileRecord.of(f) for f in local)
        if not found:
            return self._not_found(name)
        return found

    def _not_found(self, name: NormalizedName) -> Unavailable:
        """Say that no index lists ``name``; offline, that the cache does not (as uv says)."""
        if self.policy == "offline":
            return Unavailable(f"`{name}` was not found in the cache (the network is off)")
        return Unavailable(f"`{name}` was not found in the package registry")

    def _bundle(self, name: NormalizedName) -> MetadataBundle | None:
        """Return the project's metadata bundle (``None``: no cache, or ``--refresh``)."""
        cache = self._cache
        if cache is None or self.policy == "refresh":
            return None
        bundle = self._bundles.get(name)
        if bundle is None:
            bundle = self._bundles[name] = MetadataBundle(cache, name)
        return bundle

    def _bundled(self, name: NormalizedName, version: Version) -> CoreMetadata | None:
        """Answer from the project's bundle by the listed metadata file; ``None`` if it cannot.

        Only a summary that names this very project and version answers here; anything
        else (absent, damaged, another version) takes the full path, which says why.
        """
        found = self._files.get(name, {}).get(version)
        if found is None or found.source is None:
            return None
        bundle = self._bundle(name)
        if bundle is None:
            return None
        meta = bundle.get(found.source)
        if meta is None or meta.name != name or meta.version != version:
            return None
        self._meta[(name, version)] = meta
        self._probe_pages(meta.requires_dist)
        return meta

    def _summarized(self, name: NormalizedName, version: Version) -> bool:
        """Whether the listed metadata file's summary is cached (bundled or on its own).

        Answered from the listing's identity, without the page's records: a prefetch
        hint for a version never loaded would otherwise decode them to learn the same.
        """
        found = self._files.get(name, {}).get(version)
        if found is None or found.source is None:
            return False
        bundle = self._bundle(name)
        if bundle is not None and found.source in bundle:
            return True
        return self._cache is not None and is_summarized(self._cache, found.source)

    def _metadata_of(
        self, name: NormalizedName, version: Version, file: DistFile
    ) -> CoreMetadata | Unavailable:
        key = (name, version)
        meta = self._meta.get(key) or self._meta_done.get(key) or self._deferred.get(key)
        if meta is None and key not in self._asked_meta:
            cache = self._cache
            if cache is not None and self.policy != "refresh":
                meta = cached_metadata(cache, file)
                if meta is not None and not isinstance(meta, Unavailable):
                    self._probe_pages(meta.requires_dist)
            if meta is None and self.policy == "offline":
                meta = self._offline_miss(file)
        if meta is None:
            self._asked_meta.add(key)
            meta = self._io().run(self._metadata(name, version, file))
        if isinstance(meta, NeedsBuild):
            if self.defer_builds and self.builder is not None and key not in self._build_anyway:
                self._deferred[key] = meta
                return Unavailable("its metadata needs a build of its sdist (not run yet)")
            self._deferred.pop(key, None)
            meta = self._built_metadata(key, file, meta)
        self._meta[key] = meta
        # The summary cache holds a wheel's metadata, and an sdist's when its hash is
        # known: the bundle takes what the cache holds, no more.
        if not isinstance(meta, Unavailable) and (file.kind == "wheel" or file.sha256):
            bundle = self._bundle(name)
            if bundle is not None:
                bundle.add(file_identity(file), meta)
        return meta

    def _offline_miss(self, file: DistFile) -> Unavailable | None:
        """Return the loop's answer for metadata the cache lacks, offline (``None``: ask it).

        A local (``file:``) wheel or sdist is read, even offline, as uv reads a
        ``--find-links`` folder. A remote wheel's answer is
        :func:`~resolvent.index.metadata.offline_miss` (the fetcher's own); a remote sdist's
        is the miss of its download (:meth:`_sdist_content`) when the HTTP cache holds no
        copy of it. Answering here spares a run the start of the loop only to hear the same.
        """
        if not file.url.startswith(("http:", "https:")):
            return None
        if file.kind == "wheel":
            return Unavailable(str(offline_miss(file)))
        cache = self._cache
        if cache is not None and os.path.exists(cache.file(HttpCache.key(file.url))):  # noqa: PTH110
            return None
        return Unavailable(str(NotCachedError(file.url)))

    def _built_metadata(
        self, key: tuple[NormalizedName, Version], file: DistFile, needs: NeedsBuild
    ) -> CoreMetadata | Unavailable:
        """Ask the builder for a dynamic sdist's metadata, here in the calling thread.

        The summary is cached like fetched metadata (by the sdist's sha256), so a warm
        run reads it without starting a build. A failed build makes the version
        unavailable and is kept in :attr:`build_failures`: whether it stops the
        resolution depends on the answer, which only the caller has.
        """
        if self.builder is None:
            return Unavailable(needs.reason)
        from resolvent.index.metadata import parse_core_metadata  # noqa: PLC0415

        content = self._io().run(self._sdist_content(file))
        if isinstance(content, Unavailable):
            return content
        # _sdist_content checked the content against the index's sha256 when there is one.
        sha256 = file.sha256 or sha256_hex(content)
        import tempfile  # noqa: PLC0415 -- sdists only: a warm run reads no sdist

        with tempfile.TemporaryDirectory(prefix="resolvent-sdist-") as folder:
            sdist = Path(folder) / file.filename
            sdist.write_bytes(content)
            del content
            try:
                data = self.builder.sdist_metadata(sdist, sha256)
            except BuildError as error:
                # Not cached: a later run (with a fixed build environment) tries again.
                self.build_failures[key] = error
                if self.stop_at is not None and self.stop_at(*key):
                    raise
                return Unavailable(str(error))
        result: CoreMetadata | Unavailable
        try:
            meta = parse_core_metadata(data, source=f"the built metadata of `{file.filename}`")
        except IndexDataError as error:
            result = Unavailable(error.problem)
        else:
            if meta.name != file.name or meta.version != file.version:
                result = Unavailable(f"`{file.filename}` builds `{meta.name}=={meta.version}`")
            else:
                result = meta
                self._probe_pages(meta.requires_dist)
        if self._cache is not None and file.sha256 is not None:
            store_summary(self._cache, file, result)
        return result

    def _probe_pages(self, requirements: Iterable[Requirement]) -> None:
        """Start fetching the pages of what a version requires, if the cache cannot answer.

        The loop does this for metadata it fetched; for metadata read from the cache it
        happens here, so that stale pages are revalidated concurrently, not one by one.
        """
        if self.policy != "normal" or self._cache is None:
            return
        names: list[NormalizedName] = []
        verdicts = self._marker_verdicts
        for requirement in requirements:
            marker = requirement.marker
            if marker is not None:
                verdict = verdicts.get(id(marker))
                if verdict is None:
                    verdict = (marker, requirement_applies(requirement, self._markers))
                    verdicts[id(marker)] = verdict
                if not verdict[1]:
                    continue
            names.append(canonicalize_name(requirement.name))
        self._probe_names(names)

    def prefetch_listings(self, names: Sequence[NormalizedName]) -> None:
        """Start fetching these projects' pages, those the cache cannot answer, together.

        The engines list a version's dependencies one after the other, each waiting for
        its page; started here, the pages of a cold run's top-level requirements arrive
        in about one round trip instead of one each.
        """
        if self.policy != "offline":
            self._probe_names(names)

    def _probe_names(self, names: Iterable[NormalizedName]) -> None:
        cache = self._cache if self.policy == "normal" else None
        stale: list[NormalizedName] = []
        for name in names:
            if name in self._probed or name in self._files or name in self._asked_pages:
                continue
            self._probed.add(name)
            index = self.config.index_urls[0] if self.config.index_urls else None
            if index is None or not index.startswith(("http:", "https:")):
                continue
            if cache is not None:
                key = self._page_key(index, name)[1]
                entry = cache.load(key, body=False)
                if entry is not None and entry.is_fresh(time.time()):
                    self._page_headers[key] = entry  # read again soon by _cached_records
                    continue
            self._asked_pages.add(name)
            stale.append(name)
        if stale:
            self._io().submit(self._start_pages(stale))

    def _io(self) -> LoopThread:
        """Return the I/O loop, starting it (thread, HTTP client) on first need."""
        if self._loop is None:
            from resolvent.index.http import LoopThread  # noqa: PLC0415 - only when needed

            loop = LoopThread()
            self._client = loop.run(self._make_client())
            self._loop = loop
        return self._loop

    async def _make_client(self) -> HttpClient:
        from resolvent.index.http import HttpClient  # noqa: PLC0415 - see _io()
        from resolvent.index.metadata import MetadataFetcher  # noqa: PLC0415

        client = HttpClient(
            cache_dir=self._cache_dir, policy=self.policy, max_concurrency=self._max_concurrency
        )
        self._fetcher = MetadataFetcher(client)
        return client

    # -- on the loop thread -------------------------------------------------------

    async def _page_files(self, name: NormalizedName) -> _Listed:
        import asyncio  # noqa: PLC0415 - see the module's note on lazy imports

        task = self._page_tasks.get(name)
        if task is None:
            task = asyncio.ensure_future(self._fetch_files(name))
            self._page_tasks[name] = task
        return await asyncio.shield(task)

    def _start_page(self, name: NormalizedName) -> None:
        import asyncio  # noqa: PLC0415 - see the module's note on lazy imports

        if name not in self._page_tasks:
            self._page_tasks[name] = asyncio.ensure_future(self._fetch_files(name))
            self._page_tasks[name].add_done_callback(_quiet)

    async def _start_pages(self, names: list[NormalizedName]) -> None:
        for name in names:
            self._start_page(name)

    async def _fetch_files(self, name: NormalizedName) -> _Listed:
        """Fetch (or revalidate) a project's pages, as :meth:`_cached_records` reads them.

        One page and nothing else comes back whole, as from the cache: a revalidated
        page that did not change then uses its per-target listing.
        """
        import asyncio  # noqa: PLC0415 - see the module's note on lazy imports

        assert self._client is not None
        pages: list[PageRecords] = []
        if self.config.strategy == "first-index":
            for index in self.config.index_urls:
                page = await self._fetch_page(index, name)
                if page is not None:
                    pages = [page]
                    break
        else:
            found_pages = await asyncio.gather(
                *(self._fetch_page(i, name) for i in self.config.index_urls)
            )
            pages = [p for p in found_pages if p is not None]
        local = await self._find_links.files(self._client, name)
        result: _Listed
        if len(pages) == 1 and not local:
            result = pages[0]
        else:
            found = [record for page in pages for _, _, group in page.groups() for record in group]
            found.extend(FileRecord.of(f) for f in local)
            result = found
            if not found:
                result = self._not_found(name)
        self._page_done[name] = result
        return result

    async def _fetch_page(self, index: str, name: NormalizedName) -> PageRecords | None:
        """Return the page of ``name`` on ``index``; ``None`` if it is absent or empty."""
        import asyncio  # noqa: PLC0415 - see the module's note on lazy imports

        assert self._client is not None
        url, key = self._page_key(index, name)
        self.requests += 1
        try:
            response = await self._client.get(url, accept=PAGE_ACCEPT)
        except HttpStatusError as error:
            if error.status in (404, 410):
                return None
            raise
        except NotCachedError:
            return None
        # The response as a cache entry, so that parsed records are shared through the
        # cache's side file (keyed by the body's digest) with later runs.
        entry = CacheEntry(
            response.url,
            response.status,
            response.headers,
            response.content,
            0.0,
            digest=response.digest,
        )
        cache = self._cache if response.digest is not None else None
        page = await asyncio.to_thread(PageRecords.load, cache, key, entry, name)
        return page if page.has_files() else None

    async def _start_metadata(self, name: NormalizedName, version: Version, file: DistFile) -> None:
        import asyncio  # noqa: PLC0415 - see the module's note on lazy imports

        key = (name, version)
        if key not in self._meta_tasks:
            self._meta_tasks[key] = asyncio.ensure_future(self._fetch_metadata(key, file))
            self._meta_tasks[key].add_done_callback(_quiet)

    async def _start_metadata_batch(
        self, wanted: list[tuple[NormalizedName, Version, DistFile]]
    ) -> None:
        for name, version, file in wanted:
            await self._start_metadata(name, version, file)

    async def _metadata(
        self, name: NormalizedName, version: Version, file: DistFile
    ) -> CoreMetadata | Unavailable:
        import asyncio  # noqa: PLC0415 - see the module's note on lazy imports

        await self._start_metadata(name, version, file)
        return await asyncio.shield(self._meta_tasks[(name, version)])

    async def _fetch_metadata(
        self, key: tuple[NormalizedName, Version], file: DistFile
    ) -> CoreMetadata | Unavailable:
        assert self._fetcher is not None
        self.requests += 1
        if file.kind == "sdist":
            meta = await self._sdist_metadata(file)
        else:
            meta = await self._fetcher.fetch(file)
        if not isinstance(meta, Unavailable):
            # The solver will want the listings of what this version requires.
            for requirement in meta.requires_dist:
                if requirement_applies(requirement, self._markers):
                    self._start_page(canonicalize_name(requirement.name))
        self._meta_done[key] = meta
        return meta

    async def _sdist_metadata(self, file: DistFile) -> CoreMetadata | Unavailable:
        """Read an sdist's static ``PKG-INFO`` (PEP 643); dynamic metadata needs a build."""
        import asyncio  # noqa: PLC0415 - see the module's note on lazy imports

        from resolvent.index.sdist_metadata import (  # noqa: PLC0415 - tarfile, rarely needed
            pkg_info_from_sdist,
            static_metadata,
        )

        assert self._client is not None
        cache = self._client.cache
        if cache is not None and self.policy != "refresh":
            found = await asyncio.to_thread(cached_metadata, cache, file)
            if found is not None:
                return found
        content = await self._sdist_content(file)
        if isinstance(content, Unavailable):
            return content
        expected = file.sha256
        pkg_info = pkg_info_from_sdist(content, file.filename)
        meta = static_metadata(pkg_info, file.filename) if pkg_info is not None else None
        result: CoreMetadata | Unavailable
        if meta is None:
            # The calling thread builds it when the solver asks (never a prefetch).
            result = NeedsBuild(
                f"`{file.filename}` has no static metadata (PEP 643) and no builder "
                "was given to prepare it"
            )
        elif meta.name != file.name or meta.version != file.version:
            result = Unavailable(f"`{file.filename}` declares `{meta.name}=={meta.version}`")
        else:
            result = meta
        if cache is not None and expected is not None:
            # Decided by the file's content alone: worth remembering, even when negative.
            await asyncio.to_thread(store_summary, cache, file, result)
        return result

    async def _sdist_content(self, file: DistFile) -> bytes | Unavailable:
        """Download an sdist (through the HTTP cache) and check it against the index's hash."""
        assert self._client is not None
        try:
            response = await self._client.get(file.url, immutable=file.sha256 is not None)
        except NotCachedError as error:
            return Unavailable(str(error))
        expected = file.sha256
        if expected is not None and sha256_hex(response.content) != expected:
            raise IndexDataError(file.url, "the file's sha256 does not match the index")
        return response.content


def _quiet(task: asyncio.Task[object]) -> None:
    """Mark a background task's exception as seen; the awaiting caller re-raises it."""
    if not task.cancelled():
        task.exception()
