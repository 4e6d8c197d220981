"""A project listing: a page's files as compact records, grouped by version, cached parsed.

Parsing a large project page (thousands of files, megabytes of JSON) cost more than any
other step of a warm resolution, and it gave the same answer every time. So two kinds
of side files live next to a page's HTTP cache entry, each tagged with the sha256 of the
body it came from (a changed page has a new digest and is derived afresh, never matched
with old data):

- ``page-v2``: the page's records (:class:`~resolvent.index.pages.FileRecord`), one line
  per version, so that a run decodes only the versions it looks at. Target-independent.
- ``listing-v4-<target>``: what the provider concluded for one target and policy (per
  version: yanked, ``requires-python``, why unusable, which files pass
  ``--exclude-newer``, which file an install would use, and the identity of the file
  whose metadata stands for the version). It spares a warm run the per-file work
  entirely; it is stored in columns, sorted by version, with the per-version file
  details and the unusable versions in a body read only where needed (see
  ``resolvent.index.provider``), so that reading it costs little per version. The
  suffix hashes everything the conclusions depend on; the provider bumps
  :data:`LISTING_KIND` whenever its rules change.

A warm run usually needs nothing but the listing: the records are wanted only for the
files of a version (hashes, installs) or when the metadata is not cached yet. So
:meth:`PageRecords.load` checks only the head of the ``page-v2`` file and reads the rest
(megabytes, for a project with thousands of files) on first use; and where a usable
listing already says that the page has files, not even the head is read.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from resolvent.hashes import sha256_hex
from resolvent.index.filenames import cached_version
from resolvent.index.httpcache import read_bytes
from resolvent.index.pages import FileRecord, page_records
from resolvent.json_text import parse_json

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from packaging.utils import NormalizedName
    from packaging.version import Version

    from resolvent.index.httpcache import CacheEntry, HttpCache

__all__ = [
    "LISTING_KIND",
    "PAGE_KIND",
    "PageRecords",
    "group_by_version",
    "listing_kind",
    "records_from_json",
    "records_to_json",
]

#: The side-file kind of parsed pages; the suffix versions the layout.
PAGE_KIND = "page-v2"
#: The side-file kind prefix of per-target conclusions; bump it when the rules change.
#: v2: rows name the file whose metadata stands for the version. v3: columns, sorted by
#: version, rows for yanked or partly too new versions, and unusable versions apart. v4:
#: a JSON head of what every run reads, then a body of what is read piecemeal (a fixed-size
#: row per usable version: the sha256 of the file whose metadata stands for it and the
#: index of its best file; then the unusable versions, decoded only when read).
LISTING_KIND = "listing-v4"

_FIELDS = len(FileRecord._fields)
_KINDS = frozenset({"wheel", "sdist"})


def listing_kind(parameters: object) -> str:
    """Return the side-file kind of a listing for the given (JSON-able) target parameters."""
    text = json.dumps(parameters, sort_keys=True, separators=(",", ":"))
    return f"{LISTING_KIND}-{sha256_hex(text.encode())[:24]}"


def records_to_json(records: Iterable[FileRecord]) -> list[list[Any]]:
    """Return records as JSON-ready rows (one list per record, fields in order)."""
    return [list(record) for record in records]


def records_from_json(rows: object) -> list[FileRecord] | None:
    """Return the records of :func:`records_to_json` rows, or ``None`` if they are malformed.

    Structure and the fields the provider relies on are checked, so a side file that
    parses as JSON but holds something else counts as missing rather than failing later.

    >>> rows = [["d-1.0.tar.gz", "http://h/d-1.0.tar.gz", {}, None, False, None, None,
    ...          None, None, "sdist", "1.0", "", []]]
    >>> records_from_json(rows)[0].version
    '1.0'
    >>> records_from_json([["short"]]) is None
    True
    """
    if not isinstance(rows, list):
        return None
    records: list[FileRecord] = []
    try:
        for row in rows:
            if (
                not isinstance(row, list)
                or len(row) != _FIELDS
                or not isinstance(row[0], str)
                or not isinstance(row[1], str)
                or not isinstance(row[2], dict)
                or row[9] not in _KINDS
                or not isinstance(row[10], str)
                or not isinstance(row[11], str)
            ):
                return None
            row[12] = tuple(row[12])
            records.append(FileRecord(*row))
    except TypeError:
        return None
    return records


def group_by_version(records: Iterable[FileRecord]) -> dict[Version, list[FileRecord]]:
    """Group records by version (equal versions such as ``1.0`` and ``1.0.0`` together).

    Records whose version text does not parse (only a corrupt side file has them) are
    skipped.
    """
    grouped: dict[Version, list[FileRecord]] = {}
    for record in records:
        try:
            version = cached_version(record.version)
        except ValueError:  # InvalidVersion, or a number longer than int() reads
            continue
        found = grouped.get(version)
        if found is None:
            grouped[version] = [record]
        else:
            found.append(record)
    return grouped


class PageRecords:
    """The records of one cached page, by version, decoded one version at a time.

    Build it with :meth:`load`. Versions keep the page's order of first appearance.
    The side file's lines are read on first use (:meth:`has_files` needs only its
    head). Should a version's line turn out corrupt, the page is parsed again (and the
    side file rewritten), so a damaged cache costs time, never a wrong or failed answer.
    """

    def __init__(
        self,
        cache: HttpCache | None,
        key: str,
        entry: CacheEntry,
        name: NormalizedName,
        lines: dict[str, bytes | list[FileRecord]] | None,
        *,
        has_files: bool | None = False,
    ) -> None:
        self.cache = cache
        self.key = key
        self.entry = entry
        self.name = name
        # None: the side file is read when first needed (checked then, if not probed).
        self._lines = lines
        # None: not probed yet (see load()).
        self._has_files = has_files

    @property
    def digest(self) -> str | None:
        """The sha256 of the page body these records come from (``None``: not cached)."""
        return self.entry.digest

    @classmethod
    def load(
        cls,
        cache: HttpCache | None,
        key: str,
        entry: CacheEntry,
        name: NormalizedName,
        *,
        probe: bool = True,
    ) -> PageRecords:
        """Return the records of a cached page, from its side file or by parsing (then stored).

        ``entry`` may have been loaded without its body; the body is read only when the
        side file is missing, stale or corrupt.

        :param probe: check the side file now (its head and tail). ``False`` puts that
            off until the records or :meth:`has_files` are wanted: a warm run's listing
            usually comes from the per-target side file alone, and the probe was one
            more file to open for every project it lists.
        :raises IndexDataError: the page cannot be parsed (when probed, or on first use).
        """
        if cache is not None and entry.digest is not None:
            if not probe:
                return cls(cache, key, entry, name, None, has_files=None)
            has_files = _probe_side_file(cache, key, entry, name)
            if has_files is not None:
                return cls(cache, key, entry, name, None, has_files=has_files)
        return cls._parse(cache, key, entry, name)

    @classmethod
    def _parse(
        cls, cache: HttpCache | None, key: str, entry: CacheEntry, name: NormalizedName
    ) -> PageRecords:
        if not entry.content and cache is not None:
            full = cache.load(key)
            if full is not None:
                entry = full
        _, records = page_records(
            entry.content, url=entry.url, content_type=entry.headers.get("content-type"), name=name
        )
        grouped = group_by_version(records)
        lines: dict[str, bytes | list[FileRecord]] = {
            str(version): group for version, group in grouped.items()
        }
        if cache is not None:
            try:
                if entry.digest is None:
                    # An entry stored before digests were recorded: record one, so that
                    # the side file written below can be matched on the next run.
                    entry = entry.replace(digest=sha256_hex(entry.content))
                    cache.store(key, entry)
                _write_side_file(cache, key, entry, name, grouped)
            except OSError:
                pass  # a read-only cache still answers; the page is parsed again next time
        return cls(cache, key, entry, name, lines)

    def _loaded(self) -> dict[str, bytes | list[FileRecord]]:
        """Return the lines by version text, reading the side file on first use."""
        lines = self._lines
        if lines is None:
            assert self.cache is not None  # only a probed side file defers its lines
            lines = _read_side_file(self.cache, self.key, self.entry, self.name)
            if lines is None:
                self._repair()  # changed or damaged since the probe
                assert self._lines is not None
                return self._lines
            self._lines = lines
        return lines

    def has_files(self) -> bool:
        """Whether the page lists any file, without reading the side file's lines."""
        if self._lines is None:
            if self._has_files is None:
                assert self.cache is not None  # only a side file's probe is put off
                probed = _probe_side_file(self.cache, self.key, self.entry, self.name)
                if probed is None:
                    self._repair()  # missing or damaged: parsed now, as load() would
                    return bool(self._lines)
                self._has_files = probed
            return self._has_files
        return bool(self._lines)

    def texts(self) -> list[str]:
        """Return the version texts (normalized), in page order."""
        return list(self._loaded())

    def group(self, text: str) -> list[FileRecord]:
        """Return the records of one version (by its normalized text); ``[]`` if unknown."""
        line = self._loaded().get(text)
        if line is None:
            return []
        if isinstance(line, list):
            return line
        try:
            records = records_from_json(parse_json(line))
        except ValueError:
            records = None
        if records is None:
            self._repair()
            return self.group(text)
        self._loaded()[text] = records
        return records

    def groups(self) -> Iterator[tuple[Version, str, list[FileRecord]]]:
        """Yield ``(version, text, records)`` for every version, decoding all of them."""
        for text in list(self._loaded()):
            try:
                version = cached_version(text)
            except ValueError:  # InvalidVersion, or a number longer than int() reads
                self._repair()
                yield from self.groups()
                return
            yield version, text, self.group(text)

    def _repair(self) -> None:
        """Parse the page again, replacing a side file found corrupt."""
        fresh = PageRecords._parse(self.cache, self.key, self.entry, self.name)
        self.entry = fresh.entry
        self._lines = fresh._lines  # noqa: SLF001 - same class


def _header(entry: CacheEntry, name: NormalizedName) -> bytes:
    meta = {
        "digest": entry.digest,
        "name": name,
        "type": entry.headers.get("content-type"),
        "url": entry.url,
    }
    return json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()


def _write_side_file(
    cache: HttpCache,
    key: str,
    entry: CacheEntry,
    name: NormalizedName,
    grouped: dict[Version, list[FileRecord]],
) -> None:
    parts = [_header(entry, name)]
    for version, group in grouped.items():
        rows = json.dumps(records_to_json(group), separators=(",", ":"))
        parts.append(f"{version}\t{rows}".encode())
    cache.write_atomically(cache.derived_path(key, PAGE_KIND), b"\n".join(parts) + b"\n")


def _probe_side_file(
    cache: HttpCache, key: str, entry: CacheEntry, name: NormalizedName
) -> bool | None:
    """Check a side file's head and tail; return whether it lists files, ``None`` if unusable.

    Reads the header line, one byte after it and the last byte: enough to know that the
    file was derived from this body and was written whole, without reading its lines.
    """
    try:
        with open(cache.file(key, PAGE_KIND), "rb") as handle:  # noqa: PTH123 - str path, hot
            header = handle.readline()
            if header != _header(entry, name) + b"\n":
                return None
            if not handle.read(1):
                return False
            handle.seek(-1, os.SEEK_END)
            return True if handle.read(1) == b"\n" else None
    except OSError:
        return None


def _read_side_file(
    cache: HttpCache, key: str, entry: CacheEntry, name: NormalizedName
) -> dict[str, bytes | list[FileRecord]] | None:
    """Return the side file's undecoded lines by version text, if it matches ``entry``."""
    try:
        data = read_bytes(cache.file(key, PAGE_KIND))
    except OSError:
        return None
    header, _, body = data.partition(b"\n")
    if header != _header(entry, name) or not body.endswith(b"\n"):
        return None
    lines: dict[str, bytes | list[FileRecord]] = {}
    for line in body[:-1].split(b"\n"):
        text, tab, rows = line.partition(b"\t")
        if not tab:
            return None
        lines[text.decode("utf-8", "replace")] = rows
    return lines
