"""Core metadata is a distribution's ``METADATA`` file, the source of its requirements.

The resolver needs ``Requires-Dist`` and ``Requires-Python`` of many versions it will
never install, so downloading whole wheels would dominate resolution time. This module
gets the metadata as cheaply as the index allows: (a) the PEP 658/714 ``.metadata``
file when the page advertises one (its hash checked), (b) else HTTP range requests into
the wheel's zip central directory (the tail, then the one member), (c) else the whole
file. Results are cached by the file's sha256 (or URL), so each is fetched once ever.
Source distributions need a PEP 517 build and are reported as unavailable here.

Parsed summaries of fetched metadata are cached too and read synchronously
(:func:`cached_metadata`), so warm runs need neither ``asyncio`` (imported inside the
fetcher's methods) nor the ``email`` package (inside :func:`parse_core_metadata`). A
large resolution reads the summaries of thousands of versions of a few projects (every
release of ``botocore``, say), and opening one file per version then costs more than
the rest of the read: :class:`MetadataBundle` keeps a project's summaries in one file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import struct
import time
import zlib
from typing import TYPE_CHECKING, Final, TypeVar

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from resolvent.errors import (
    HttpStatusError,
    IndexDataError,
    NotCachedError,
    RangeNotSupportedError,
)
from resolvent.index.filenames import cached_version
from resolvent.index.httpcache import CacheEntry, HttpCache, read_bytes
from resolvent.index.lenient import lenient_requirement, lenient_specifier
from resolvent.json_text import parse_json
from resolvent.requirement_parsing import parse_requirement, parse_specifier
from resolvent.solver.provider import Unavailable
from resolvent.value_class import Value

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    from packaging.utils import NormalizedName

    from resolvent.index.http import HttpClient
    from resolvent.index.pages import DistFile, FileRecord

__all__ = [
    "CoreMetadata",
    "MetadataBundle",
    "MetadataFetcher",
    "cached_metadata",
    "end_record",
    "file_identity",
    "is_cached",
    "is_summarized",
    "offline_miss",
    "parse_core_metadata",
    "store_summary",
]

_log = logging.getLogger(__name__)

_TAIL_SIZE = 64 * 1024
# Later tails of a project (MetadataFetcher._tail_for): at least this, in these steps.
_MIN_TAIL = 8 * 1024
_TAIL_STEP = 4 * 1024
# Extra bytes fetched after a member's expected end, in case its local extra field is
# longer than the central directory's copy; saves a second request in the common case.
_LOCAL_SLACK = 512
# Bytes fetched before a central directory beyond the tail, besides half its size: room
# for METADATA and the small .dist-info files written after it.
_BEFORE_DIRECTORY = 16 * 1024
_FALLBACK_STATUSES = frozenset({405, 416, 501})

_EOCD = struct.Struct("<4s4H2LH")
_EOCD_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_ZIP64_EOCD_SIGNATURE = b"PK\x06\x06"
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_CENTRAL_SIGNATURE = b"PK\x01\x02"
# The name, extra field and comment lengths of a central directory entry, at offset 28.
_CENTRAL_LENGTHS = struct.Struct("<3H")
_METADATA_SUFFIX = b".dist-info/METADATA"
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_ZIP64_EXTRA_ID = 0x0001
_UTF8_FLAG = 0x800
_STORED, _DEFLATED = 0, 8  # zip compression methods (zipfile.ZIP_STORED, ZIP_DEFLATED)
_METADATA_MEMBER = re.compile(r"([^/]+)\.dist-info/METADATA")
# Cache namespaces: the raw METADATA bytes, and the parsed summary (versioned layout).
_RAW = "core-metadata"
# v2: sdists without static metadata are built now; v1 remembered them as unavailable.
# v3: malformed Requires-Dist lines are repaired (resolvent.index.lenient) or listed as
# invalid; v2 summaries had dropped them, silently and for good.
_SUMMARY = "core-metadata-summary-v3"
# One file per project holding summaries of many files (see MetadataBundle); v2 as v3.
_BUNDLE = "core-metadata-bundle-v2"
# A bundle's header line up to its project's name (see MetadataBundle._header).
_BUNDLE_HEAD = f'{{"kind": {json.dumps(_BUNDLE)}, "name": '


class CoreMetadata(Value):
    """What resolution needs from a ``METADATA`` file.

    ``requires_dist`` keeps markers and extras unevaluated; ``provides_extra`` holds
    normalized extra names. ``invalid_requires_dist`` holds the ``Requires-Dist`` lines
    that no repair made valid (see :mod:`resolvent.index.lenient`), as written: they are
    left out of ``requires_dist``, and kept here (and in the cached summary) so that
    every run that uses this version can say what was left out, not only the run that
    first parsed the file.
    """

    __slots__ = (
        "invalid_requires_dist",
        "name",
        "provides_extra",
        "requires_dist",
        "requires_python",
        "version",
    )

    def __init__(  # noqa: PLR0917 - the fields in order, as the dataclass took them
        self,
        name: NormalizedName,
        version: Version,
        requires_dist: tuple[Requirement, ...],
        requires_python: SpecifierSet | None,
        provides_extra: tuple[NormalizedName, ...],
        invalid_requires_dist: tuple[str, ...] = (),
    ) -> None:
        self.name: Final = name
        self.version: Final = version
        self.requires_dist: Final = requires_dist
        self.requires_python: Final = requires_python
        self.provides_extra: Final = provides_extra
        self.invalid_requires_dist: Final = invalid_requires_dist

    def to_json(self) -> bytes:
        """Return the summary as JSON, which :meth:`from_json` reads far faster than METADATA."""
        summary: dict[str, object] = {
            "name": self.name,
            "version": str(self.version),
            "requires_dist": [str(r) for r in self.requires_dist],
            "requires_python": (
                None if self.requires_python is None else str(self.requires_python)
            ),
            "provides_extra": list(self.provides_extra),
        }
        if self.invalid_requires_dist:  # rare: the usual summary keeps its size
            summary["invalid_requires_dist"] = list(self.invalid_requires_dist)
        return json.dumps(summary, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> CoreMetadata | None:
        """Read :meth:`to_json` output; ``None`` when it is corrupt in any way."""
        try:
            raw = parse_json(data)
            if not isinstance(raw, dict):
                return None
            python = raw["requires_python"]
            invalid = raw.get("invalid_requires_dist", [])
            lists = (raw["requires_dist"], raw["provides_extra"], invalid)
            if not (
                isinstance(raw["name"], str)
                and isinstance(raw["version"], str)
                and (python is None or isinstance(python, str))
                and all(isinstance(v, list) and all(isinstance(t, str) for t in v) for v in lists)
            ):
                return None
            return cls(
                _canonical_names((raw["name"],))[0],
                cached_version(raw["version"]),
                _requirements(tuple(raw["requires_dist"])),
                None if python is None else parse_specifier(python),
                _canonical_names(tuple(raw["provides_extra"])),
                tuple(invalid),
            )
        except (ValueError, KeyError, TypeError, InvalidRequirement, InvalidSpecifier):
            return None


#: ``Requires-Dist`` and ``Provides-Extra`` lists read from summaries, by their texts.
#: The versions of a project repeat the same lists (a third of a warm airflow compile's
#: summaries repeat one already read, and most repeat their extras), so each distinct
#: list is parsed or normalized once, and equal lists come back as one shared tuple.
#: Bounded: cleared when full (``parse_requirement`` keeps its lines in an LRU cache).
_REQUIREMENT_LISTS: dict[tuple[str, ...], tuple[Requirement, ...]] = {}
_NAME_LISTS: dict[tuple[str, ...], tuple[NormalizedName, ...]] = {}
_LISTS_LIMIT = 1 << 14

_T = TypeVar("_T")


def _each_once(
    memo: dict[tuple[str, ...], tuple[_T, ...]], texts: tuple[str, ...], read: Callable[[str], _T]
) -> tuple[_T, ...]:
    """Return ``read`` of each text, memoized in ``memo`` by the whole list.

    :raises Exception: whatever ``read`` raises (nothing is remembered then).
    """
    found = memo.get(texts)
    if found is None:
        found = tuple(map(read, texts))
        if len(memo) >= _LISTS_LIMIT:
            memo.clear()
        memo[texts] = found
    return found


def _requirements(texts: tuple[str, ...]) -> tuple[Requirement, ...]:
    """Return the parsed requirements of these lines (see :data:`_REQUIREMENT_LISTS`)."""
    return _each_once(_REQUIREMENT_LISTS, texts, parse_requirement)


def _canonical_names(names: tuple[str, ...]) -> tuple[NormalizedName, ...]:
    """Return these project or extra names normalized (see :data:`_REQUIREMENT_LISTS`).

    ``canonicalize_name`` is a regular expression substitution per name, and a summary
    names its project and lists its extras (dozens, for some) again for every version.
    """
    return _each_once(_NAME_LISTS, names, canonicalize_name)


def file_identity(file: DistFile | FileRecord) -> str:
    """Return what names a file's content in the cache: its sha256 when known, else its URL."""
    sha256 = file.hashes.get("sha256")
    return f"sha256:{sha256}" if sha256 else file.url


def _checked(meta: CoreMetadata, file: DistFile) -> CoreMetadata | Unavailable:
    if meta.name != file.name or meta.version != file.version:
        return Unavailable(
            f"the metadata of `{file.filename}` describes `{meta.name}` {meta.version}"
        )
    return meta


class NeedsBuild(Unavailable):
    """An sdist whose metadata is dynamic: only its build backend can tell.

    Its content decides that (``PKG-INFO`` is absent, older than 2.2, or names
    ``Requires-Dist`` as dynamic), so the verdict is cached like a summary: a warm run
    then knows, without reading the sdist again, that a build is needed. The build's
    own summary replaces it.
    """

    __slots__ = ()


def cached_metadata(cache: HttpCache, file: DistFile) -> CoreMetadata | Unavailable | None:
    """Return a file's metadata from the cache alone, synchronously; ``None`` when not cached.

    Tries the parsed summary first, then the raw ``METADATA`` (whose summary it then
    stores). Corrupt entries count as missing. Callers skip this under ``refresh``.
    """
    identity = file_identity(file)
    entry = cache.load(HttpCache.key(f"{_SUMMARY}:{identity}"))
    if entry is not None:
        if entry.headers.get("x-needs-build") is not None:
            return NeedsBuild(entry.headers["x-needs-build"])
        if entry.headers.get("x-unavailable") is not None:
            return Unavailable(entry.headers["x-unavailable"])
        meta = CoreMetadata.from_json(entry.content)
        if meta is not None:
            return _checked(meta, file)
    if file.kind != "wheel":
        return None
    entry = cache.load(HttpCache.key(f"{_RAW}:{identity}"))
    if entry is None:
        return None
    try:
        parsed = parse_core_metadata(entry.content, source=file.url)
    except IndexDataError as error:
        return Unavailable(error.problem)
    store_summary(cache, file, parsed)
    return _checked(parsed, file)


def offline_miss(file: DistFile) -> NotCachedError:
    """Return the error of a wheel whose metadata is not cached when ``--offline`` is set.

    One definition for the fetcher and for the provider, which answers such misses in the
    calling thread instead of starting the I/O loop only to be told the same.
    """
    return NotCachedError(file.metadata_url or file.url)


def is_summarized(cache: HttpCache, identity: str) -> bool:
    """Whether the cache holds the summary of the file ``identity`` names, without reading it."""
    return os.path.exists(cache.file(HttpCache.key(f"{_SUMMARY}:{identity}")))  # noqa: PTH110


def is_cached(cache: HttpCache, file: DistFile) -> bool:
    """Whether the cache holds a file's metadata (summary or raw), without reading it."""
    identity = file_identity(file)
    if is_summarized(cache, identity):
        return True
    raw = cache.file(HttpCache.key(f"{_RAW}:{identity}"))
    return file.kind == "wheel" and os.path.exists(raw)  # noqa: PTH110 - str path, hot


def store_summary(cache: HttpCache, file: DistFile, meta: CoreMetadata | Unavailable) -> None:
    """Store the parsed summary of a file's metadata (an immutable entry); errors are ignored.

    An :class:`Unavailable` is stored only for reasons the file's content decides (metadata
    that names another project, say), never for network, offline or build failures. A
    :class:`NeedsBuild` is stored as such, until the build's summary replaces it.
    """
    if isinstance(meta, Unavailable):
        kind = "x-needs-build" if isinstance(meta, NeedsBuild) else "x-unavailable"
        headers = {kind: meta.reason}
        entry = CacheEntry(file.url, 200, headers, b"", time.time(), immutable=True)
    else:
        entry = CacheEntry(file.url, 200, {}, meta.to_json(), time.time(), immutable=True)
    # A read-only cache still answers; the metadata is then parsed again next time.
    with contextlib.suppress(OSError):
        cache.store(HttpCache.key(f"{_SUMMARY}:{file_identity(file)}"), entry)


class MetadataBundle:
    """The metadata summaries of one project's files, in one cache file read once.

    Each line after the header holds a file identity (:func:`file_identity`), a tab and
    the summary's JSON (:meth:`CoreMetadata.to_json`), decoded on first use. A bundle is
    derived data: every entry also exists as the file's own summary, which stays the
    authority, and only metadata that the file's content decides (an immutable fact)
    goes in. So a missing, stale or damaged bundle or line costs a slower read, never a
    wrong answer; and two processes that save at once lose, at worst, entries that a
    later run adds again. Entries are gathered with :meth:`add` and written by
    :meth:`save`, merged with the file as it is then, by atomic replacement.
    """

    def __init__(self, cache: HttpCache, name: NormalizedName) -> None:
        self._cache = cache
        self._name = name
        self._key = self.key(name)
        self._lines: dict[str, bytes] | None = None
        # The file as read, and where its lines begin (at the header's newline), until a
        # lookup cannot be answered by searching it (see _line) or save() merges it.
        self._data: bytes | None = None
        self._start = 0
        self._decoded: dict[str, CoreMetadata | None] = {}
        self._added: dict[str, bytes] = {}

    @staticmethod
    def key(name: NormalizedName) -> str:
        """Return the cache key of project ``name``'s bundle (``cache clean NAME`` uses it)."""
        return HttpCache.key(f"{_BUNDLE}:{name}")

    def _header(self) -> bytes:
        """Return the first line of this project's bundle file.

        What ``json.dumps({"kind": ..., "name": ...}, sort_keys=True)`` writes, put
        together from the two encoded strings: ``dumps`` with options makes an encoder
        each call (9 us, for each of a warm compile's hundreds of bundles).
        """
        return f"{_BUNDLE_HEAD}{json.dumps(self._name)}}}".encode()

    def _read(self) -> dict[str, bytes]:
        """Return the file's lines by identity; ``{}`` when missing or not this bundle."""
        data, start = self._file()
        lines: dict[str, bytes] = {}
        for line in data[start + 1 :].split(b"\n") if data else ():
            identity, tab, summary = line.partition(b"\t")
            if tab:  # a last line cut short (a damaged disk) has no tab or no newline
                lines[identity.decode("utf-8", "replace")] = summary
        return lines

    def _file(self) -> tuple[bytes, int]:
        """Return the file's content and the position of its header's newline.

        ``(b"", 0)`` when it is missing or not this bundle (or has nothing after its
        header line): no lines.
        """
        try:
            data = read_bytes(self._cache.file(self._key))
        except OSError:
            return b"", 0
        start = data.find(b"\n")
        if start < 0 or data[:start] != self._header():
            return b"", 0
        return data, start

    def _line(self, identity: str) -> bytes | None:
        """Return the summary stored under ``identity``, as :meth:`_read`'s dict holds it.

        A warm resolution reads one or two entries of most bundles it opens, and the
        dict of every line (thousands, for a project such as ``botocore``) cost more
        than the rest of reading them: the file is searched instead, from its end, for
        the line that begins with the identity and a tab (the dict keeps a repeated
        identity's last line too). An identity that the bytes cannot spell as the dict
        spells it (one with a replacement character, say) is looked up in the dict.
        """
        if "\n" in identity or "\t" in identity:
            return None  # a line ends at a newline and its identity at a tab: no key has one
        if self._lines is None and "\ufffd" not in identity:
            if self._data is None:
                self._data, self._start = self._file()
            try:
                needle = b"\n" + identity.encode() + b"\t"
            except UnicodeEncodeError:  # a lone surrogate, which no decoded key holds
                return None
            data = self._data
            at = data.rfind(needle, self._start)
            if at < 0:
                return None
            begin = at + len(needle)
            end = data.find(b"\n", begin)
            return data[begin:] if end < 0 else data[begin:end]
        if self._lines is None:
            self._lines = self._read()
            self._data = None
        return self._lines.get(identity)

    def __contains__(self, identity: str) -> bool:
        return self._line(identity) is not None

    def get(self, identity: str) -> CoreMetadata | None:
        """Return the summary of the file ``identity``; ``None`` if absent or unreadable."""
        if identity in self._decoded:
            return self._decoded[identity]
        line = self._line(identity)
        meta = None if line is None else CoreMetadata.from_json(line)
        self._decoded[identity] = meta
        return meta

    def add(self, identity: str, meta: CoreMetadata) -> None:
        """Remember a summary for :meth:`save` (one the bundle already holds is skipped)."""
        if "\t" in identity or "\n" in identity or self.get(identity) == meta:
            return
        self._added[identity] = meta.to_json()
        self._decoded[identity] = meta

    def save(self) -> None:
        """Write the added entries, merged with the file as it is now; errors are ignored."""
        if not self._added:
            return
        merged = self._read()
        merged.update(self._added)
        parts = [self._header()]
        parts.extend(identity.encode() + b"\t" + summary for identity, summary in merged.items())
        # A read-only cache still answers; the summaries are read one by one next time.
        with contextlib.suppress(OSError):
            self._cache.write_atomically(self._cache.path(self._key), b"\n".join(parts) + b"\n")
        self._lines = merged
        self._data = None
        self._added = {}


def parse_core_metadata(data: bytes, *, source: str = "METADATA") -> CoreMetadata:
    r"""Parse a ``METADATA`` (or ``PKG-INFO``) file leniently.

    ``Requires-Dist`` entries and a ``Requires-Python`` that ``packaging`` rejects are
    repaired as uv repairs them (:mod:`resolvent.index.lenient`: ``pytz (>dev)``,
    ``>=1.0.*``, missing commas...), so the dependency stays in the resolution. An entry
    that no repair makes valid is left out and listed in ``invalid_requires_dist``: the
    resolution warns about it whenever it chooses this version (a log line here would be
    said once, on the run that first parses the file, and ignore ``--quiet``). A
    ``Requires-Python`` that stays invalid is ignored, as installers have always done.

    :param data: the file's bytes.
    :param source: where it came from, for messages.
    :raises IndexDataError: ``Name`` or ``Version`` is missing or invalid.

    >>> meta = parse_core_metadata(b"Name: Demo\nVersion: 1.0\nRequires-Dist: idna>=2\n")
    >>> meta.name, str(meta.requires_dist[0])
    ('demo', 'idna>=2')
    """
    from packaging.metadata import parse_email  # noqa: PLC0415 - the email package is costly

    raw, _unparsed = parse_email(data)
    name = raw.get("name")
    version_text = raw.get("version")
    if not name or not version_text:
        raise IndexDataError(source, "the metadata has no `Name` or no `Version`")
    try:
        version = Version(version_text)
    except ValueError:  # InvalidVersion, or a number longer than int() reads
        shown = version_text if len(version_text) <= 40 else f"{version_text[:40]}..."
        raise IndexDataError(source, f"the metadata's version `{shown}` is invalid") from None
    requirements: list[Requirement] = []
    invalid: list[str] = []
    for text in raw.get("requires_dist", []):
        try:
            requirement, repairs = lenient_requirement(text)
        except InvalidRequirement:
            invalid.append(text)
            continue
        if repairs:  # uv repairs these silently too (its log shows them with -v)
            _log.debug("%s %s: Requires-Dist `%s` read as `%s`", name, version, text, requirement)
        requirements.append(requirement)
    requires_python: SpecifierSet | None = None
    if python := raw.get("requires_python"):
        try:
            requires_python, _ = lenient_specifier(python)
        except InvalidSpecifier:
            _log.warning("%s %s: ignoring invalid Requires-Python `%s`", name, version, python)
    extras = tuple(dict.fromkeys(canonicalize_name(e) for e in raw.get("provides_extra", [])))
    return CoreMetadata(
        canonicalize_name(name),
        version,
        tuple(requirements),
        requires_python,
        extras,
        tuple(invalid),
    )


class MetadataFetcher:
    """Fetches the core metadata of index files through an :class:`HttpClient`.

    Must be used on the client's event loop.

    :param client: the HTTP client (its cache and offline policy apply).
    :param tail_size: bytes fetched from a wheel's end to find its central directory, for
        the first wheel of a project; later ones fetch what that wheel needed, with room
        to spare (see :meth:`_tail_for`).

    Example::

        fetcher = MetadataFetcher(client)
        meta = await fetcher.fetch(page.files[0])  # CoreMetadata | Unavailable
    """

    def __init__(self, client: HttpClient, *, tail_size: int = _TAIL_SIZE) -> None:
        self._client = client
        self._tail_size = tail_size
        # Per project: how many bytes from its last wheel's end held METADATA's entry.
        self._needed: dict[str, int] = {}
        # One task per file: a prefetch and a later request for the same file share it.
        self._tasks: dict[str, asyncio.Task[CoreMetadata | Unavailable]] = {}

    def unfinished(self) -> list[asyncio.Task[CoreMetadata | Unavailable]]:
        """Return the downloads still running, for an orderly shutdown.

        A caller that stops waiting for a fetch (cancelled) leaves its shared download
        running; whoever closes the client must wait for or cancel these first.
        """
        return [task for task in self._tasks.values() if not task.done()]

    async def fetch(self, file: DistFile) -> CoreMetadata | Unavailable:
        """Return the metadata of ``file``, or why it cannot be had.

        Expected unavailability (an sdist, an offline cache miss, a wheel without valid
        metadata, metadata naming another project or version) is an :class:`Unavailable`
        value; network failures and hash mismatches raise
        :class:`resolvent.errors.NetworkError` subclasses (and are not remembered, so a
        later call tries again). Concurrent calls for one file share one download.
        """
        import asyncio  # noqa: PLC0415 - see the module's note on lazy imports

        if file.kind != "wheel":
            return Unavailable(
                f"`{file.filename}` is a source distribution; its metadata needs a build"
            )
        identity = f"sha256:{file.sha256}" if file.sha256 else file.url
        task = self._tasks.get(identity)
        if task is None:
            task = asyncio.ensure_future(self._fetch(file))
            self._tasks[identity] = task
        try:
            return await asyncio.shield(task)
        except Exception:
            if self._tasks.get(identity) is task:
                del self._tasks[identity]
            raise

    async def _fetch(self, file: DistFile) -> CoreMetadata | Unavailable:
        import asyncio  # noqa: PLC0415 - see the module's note on lazy imports

        cache = self._client.cache
        if cache is not None and self._client.policy != "refresh":
            found = await asyncio.to_thread(cached_metadata, cache, file)
            if found is not None:
                return found
        try:
            data = await self._download(file)
        except NotCachedError as error:
            return Unavailable(str(error))
        except _NoMetadataError as error:
            return Unavailable(f"`{file.filename}`: {error}")
        # Only the parsed summary is kept, as uv keeps parsed metadata: one file per wheel
        # instead of two. A summary layout that changes gets a new
        # namespace, and its entries are fetched again. (Raw entries that older versions
        # stored are still read, by cached_metadata.)
        try:
            meta: CoreMetadata | Unavailable = parse_core_metadata(data, source=file.url)
        except IndexDataError as error:
            meta = Unavailable(error.problem)  # the file's content decides: kept as well
        if cache is not None:
            await asyncio.to_thread(store_summary, cache, file, meta)
        return meta if isinstance(meta, Unavailable) else _checked(meta, file)

    async def _download(self, file: DistFile) -> bytes:
        # A local (``file:``) wheel is read offline too; the client refuses the rest.
        if self._client.policy == "offline" and file.url.startswith(("http:", "https:")):
            raise offline_miss(file)
        if file.metadata_url is not None and file.core_metadata is not None:
            try:
                response = await self._client.get(file.metadata_url, cache=False)
            except HttpStatusError as error:
                # PEP 658 advertised, but missing: the wheel itself still has it.
                if error.status != 404:
                    raise
            else:
                _check_hashes(file.metadata_url, response.content, file.core_metadata)
                return response.content
        try:
            return await self._from_ranges(file)
        except (RangeNotSupportedError, _ZipLayoutError):
            pass
        except HttpStatusError as error:
            if error.status not in _FALLBACK_STATUSES:
                raise
        return await self._from_whole_file(file)

    async def _from_ranges(self, file: DistFile) -> bytes:
        """Read ``METADATA`` with range requests: the tail, maybe the directory, the member."""
        offset, tail = await self._client.get_tail(file.url, self._tail_for(file.name))
        reader = _SpanReader(self._client, file.url, offset, tail)
        cd_offset, cd_size = await _central_directory_bounds(reader, offset, tail)
        if reader.cached(cd_offset, cd_offset + cd_size) is None:
            # The directory begins before the tail. Wheel writers put the .dist-info
            # files last and RECORD last of all, so METADATA most often sits just before
            # the directory, behind RECORD, whose compressed size is about half the
            # directory's (a line per file against an entry per file): fetching that
            # much more in this request saves the member's own round trip.
            slack = cd_size // 2 + _BEFORE_DIRECTORY
            await reader.prefetch(max(0, cd_offset - slack), cd_offset + cd_size)
        directory = await reader.read(cd_offset, cd_offset + cd_size)
        members = {member.name: member for member in _metadata_members(directory)}
        chosen = members[_choose_metadata(list(members), file)]
        expected_end = (
            chosen.header_offset + _LOCAL.size + chosen.name_length + chosen.extra_length
        ) + chosen.compressed_size
        await reader.prefetch(chosen.header_offset, min(cd_offset, expected_end + _LOCAL_SLACK))
        header = _LOCAL.unpack(
            await reader.read(chosen.header_offset, chosen.header_offset + _LOCAL.size)
        )
        if header[0] != _LOCAL_SIGNATURE:
            raise _ZipLayoutError("bad local header signature")
        start = chosen.header_offset + _LOCAL.size + header[10] + header[11]
        compressed = await reader.read(start, start + chosen.compressed_size)
        self._needed[file.name] = offset + len(tail) - chosen.header_offset
        return _inflate(chosen, compressed)

    def _tail_for(self, project: str) -> int:
        """Return how many bytes to fetch from the end of a wheel of ``project``.

        A project's wheels are laid out alike from release to release: what the last
        one needed (its METADATA's entry to the end, the directory included), half
        again, in whole 4 KiB, at least 8 KiB and at most the first tail. A walk down a
        thousand releases of a small wheel then fetches a sixth of the bytes per
        request, which is fewer HTTP/2 frames to decode; a wheel that turns out to need
        more costs one more request, as a tail too short always did.
        """
        needed = self._needed.get(project)
        if needed is None:
            return self._tail_size
        wanted = -(-(needed + needed // 2) // _TAIL_STEP) * _TAIL_STEP
        return min(self._tail_size, max(_MIN_TAIL, wanted))

    async def _from_whole_file(self, file: DistFile) -> bytes:
        import io  # noqa: PLC0415 - zipfile costs ~10 ms to import; rarely needed
        import zipfile  # noqa: PLC0415

        response = await self._client.get(file.url, cache=False)
        if file.hashes:
            _check_hashes(file.url, response.content, file.hashes)
        try:
            with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
                return archive.read(_choose_metadata(archive.namelist(), file))
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
            raise _NoMetadataError(f"the wheel is not a valid zip archive ({error})") from None


class _ZipLayoutError(Exception):
    """The archive's structure could not be read over ranges; fall back to a download."""


class _NoMetadataError(Exception):
    """The wheel holds no usable ``.dist-info/METADATA``."""


class _Member(Value):
    """One entry of a zip central directory: where a member is and how it is stored."""

    __slots__ = (
        "compressed_size",
        "crc",
        "extra_length",
        "header_offset",
        "method",
        "name",
        "name_length",
        "size",
    )

    def __init__(  # noqa: PLR0917 - the fields in order, as the dataclass took them
        self,
        name: str,
        method: int,
        crc: int,
        compressed_size: int,
        size: int,
        header_offset: int,
        name_length: int,
        extra_length: int,
    ) -> None:
        self.name: Final = name
        self.method: Final = method
        self.crc: Final = crc
        self.compressed_size: Final = compressed_size
        self.size: Final = size
        self.header_offset: Final = header_offset
        self.name_length: Final = name_length
        self.extra_length: Final = extra_length


class _SpanReader:
    """Byte spans of a remote file fetched so far; reads hit them before the network."""

    def __init__(self, client: HttpClient, url: str, offset: int, data: bytes) -> None:
        self._client = client
        self._url = url
        self._spans: list[tuple[int, bytes]] = [(offset, data)]

    def cached(self, start: int, end: int) -> bytes | None:
        for offset, data in self._spans:
            if offset <= start and end <= offset + len(data):
                return data[start - offset : end - offset]
        return None

    async def prefetch(self, start: int, end: int) -> None:
        if end <= start or self.cached(start, end) is not None:
            return
        for index, (offset, data) in enumerate(self._spans):
            if start < offset <= end <= offset + len(data):
                # The span ends inside one already held (the tail): fetch only the head.
                head = await self._client.get_range(self._url, start, offset)
                if len(head) == offset - start:  # a server may answer a shorter range
                    self._spans[index] = (start, head + data)
                else:
                    self._spans.append((start, head))
                return
        self._spans.append((start, await self._client.get_range(self._url, start, end)))

    async def read(self, start: int, end: int) -> bytes:
        if start < 0 or end < start:
            raise _ZipLayoutError(f"bad span {start}-{end}")
        await self.prefetch(start, end)
        data = self.cached(start, end)
        if data is None:
            raise _ZipLayoutError(f"short read at {start}-{end}")
        return data


async def _central_directory_bounds(
    reader: _SpanReader, offset: int, tail: bytes
) -> tuple[int, int]:
    """Find the End Of Central Directory in ``tail``; return the directory's offset and size."""
    found = end_record(tail)
    if found is None:
        raise _ZipLayoutError("no end of central directory record")
    position, cd_size, cd_offset, _ = found
    eocd_at = offset + position
    locator_at = eocd_at - _ZIP64_LOCATOR.size
    if locator_at >= 0:
        locator = _ZIP64_LOCATOR.unpack(await reader.read(locator_at, eocd_at))
        if locator[0] == _ZIP64_LOCATOR_SIGNATURE:
            zip64_at = locator[2]
            zip64 = _ZIP64_EOCD.unpack(await reader.read(zip64_at, zip64_at + _ZIP64_EOCD.size))
            if zip64[0] != _ZIP64_EOCD_SIGNATURE:
                raise _ZipLayoutError("bad zip64 end of central directory")
            cd_size, cd_offset = zip64[8], zip64[9]
    if cd_offset + cd_size > eocd_at:
        raise _ZipLayoutError("central directory overlaps its end record")
    return cd_offset, cd_size


def end_record(tail: bytes) -> tuple[int, int, int, bool] | None:
    """Find a zip's End Of Central Directory record in ``tail`` (the file's last bytes).

    Returns the record's position in ``tail``, the directory's size and offset as the
    plain record states them, and whether a ZIP64 locator precedes it in ``tail`` (then
    the true values are in the ZIP64 record); ``None`` when there is no record.
    """
    position = tail.rfind(_EOCD_SIGNATURE)
    while position >= 0 and position + _EOCD.size > len(tail):
        position = tail.rfind(_EOCD_SIGNATURE, 0, position)
    if position < 0:
        return None
    record = _EOCD.unpack_from(tail, position)
    locator = position - _ZIP64_LOCATOR.size
    zip64 = locator >= 0 and tail.startswith(_ZIP64_LOCATOR_SIGNATURE, locator)
    return position, record[5], record[6], zip64


def _metadata_members(directory: bytes) -> list[_Member]:
    """Return the directory's ``*.dist-info/METADATA`` entries, walking every entry.

    Only those entries become :class:`_Member` values: botocore's wheels list thousands
    of files, and building and decoding each one was a quarter of a cold resolution's
    CPU on its set. The suffix is ASCII, which UTF-8 and cp437 names spell alike, so it
    is matched on the raw bytes before decoding.
    """
    members: list[_Member] = []
    entries = 0
    position = 0
    lengths = _CENTRAL_LENGTHS.unpack_from
    while position + _CENTRAL.size <= len(directory):
        if directory[position : position + 4] != _CENTRAL_SIGNATURE:
            break
        entries += 1
        name_length, extra_length, comment_length = lengths(directory, position + 28)
        name_at = position + _CENTRAL.size
        name_end = name_at + name_length
        if directory.endswith(_METADATA_SUFFIX, name_at, name_end):
            fields = _CENTRAL.unpack_from(directory, position)
            raw_name = directory[name_at:name_end]
            extra = directory[name_end : name_end + extra_length]
            name = raw_name.decode("utf-8" if fields[5] & _UTF8_FLAG else "cp437")
            size, compressed, offset = _zip64_values(fields[11], fields[10], fields[18], extra)
            members.append(
                _Member(
                    name, fields[6], fields[9], compressed, size, offset, name_length, extra_length
                )
            )
        position = name_end + extra_length + comment_length
    if not entries:
        raise _ZipLayoutError("empty or unreadable central directory")
    return members


def _zip64_values(size: int, compressed: int, offset: int, extra: bytes) -> tuple[int, int, int]:
    """Replace 0xFFFFFFFF placeholders with the ZIP64 extra field's 8-byte values, in order."""
    position = 0
    while position + 4 <= len(extra):
        kind, length = struct.unpack_from("<2H", extra, position)
        body = extra[position + 4 : position + 4 + length]
        position += 4 + length
        if kind != _ZIP64_EXTRA_ID:
            continue
        values = [v for (v,) in struct.iter_unpack("<Q", body[: len(body) // 8 * 8])]
        found = iter(values)
        try:
            if size == 0xFFFFFFFF:
                size = next(found)
            if compressed == 0xFFFFFFFF:
                compressed = next(found)
            if offset == 0xFFFFFFFF:
                offset = next(found)
        except StopIteration:
            raise _ZipLayoutError("truncated zip64 extra field") from None
    return size, compressed, offset


def _choose_metadata(names: list[str], file: DistFile) -> str:
    """Pick ``<name>-<version>.dist-info/METADATA`` of the wheel's own project."""
    candidates: list[str] = []
    for member in names:
        match = _METADATA_MEMBER.fullmatch(member)
        if match is None:
            continue
        candidates.append(member)
        project, _, version = match.group(1).rpartition("-")
        try:
            if canonicalize_name(project) == file.name and Version(version) == file.version:
                return member
        except ValueError:  # InvalidVersion, or a number longer than int() reads
            continue
    if len(candidates) == 1:
        return candidates[0]
    raise _NoMetadataError(f"no `.dist-info/METADATA` for {file.name} {file.version}")


def _inflate(member: _Member, data: bytes) -> bytes:
    if member.method == _STORED:
        content = data
    elif member.method == _DEFLATED:
        try:
            inflater = zlib.decompressobj(-15)
            content = inflater.decompress(data) + inflater.flush()
        except zlib.error as error:
            raise _ZipLayoutError(f"bad deflate stream: {error}") from None
    else:
        raise _ZipLayoutError(f"compression method {member.method}")
    if len(content) != member.size or zlib.crc32(content) != member.crc:
        raise _ZipLayoutError("size or CRC mismatch")
    return content


def _check_hashes(url: str, content: bytes, hashes: dict[str, str]) -> None:
    # Only the algorithms of resolvent.hashes: any name hashlib knows is not enough
    # (`shake_128` needs a digest length and crashed here); pages filter the same way,
    # and this guards records cached before they did.
    import hashlib  # noqa: PLC0415 -- only downloaded metadata is checked (not warm runs)

    from resolvent.hashes import index_hashes  # noqa: PLC0415 - tiny; only this check needs it

    for algorithm, expected in index_hashes(hashes).items():
        try:
            actual = hashlib.new(algorithm, content).hexdigest()
        except ValueError:  # an algorithm this interpreter lacks (md5 under FIPS)
            continue
        if actual != expected:
            raise IndexDataError(url, f"{algorithm} is {actual}, but the index says {expected}")
