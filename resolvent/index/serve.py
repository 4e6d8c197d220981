"""A local package index: one folder of wheels and sdists served over HTTP on 127.0.0.1.

The server speaks the same protocol as a real index, so every client path resolvent has
(HTML and JSON pages, PEP 658 metadata files, range requests into wheels, HTTP caching)
can be exercised against it without the internet, and a frozen wheelhouse can be shared
with ``resolvent index serve FOLDER``. It implements:

- ``/simple/`` and ``/simple/<name>/`` as PEP 503 HTML and PEP 691 JSON, picked by the
  ``Accept`` header (q-values honoured; HTML when the client states no preference), with
  PEP 592 yanks, PEP 700 upload times and versions, and PEP 658/714 metadata hashes;
- ``/files/<filename>`` and ``/files/<wheel>.metadata`` with ``Range`` (206/416),
  ``ETag``/``Last-Modified`` revalidation (304) and the caching headers of a real index.

Only the standard library's ``http.server`` is used for the serving itself; ``packaging``
(already a dependency) parses file names. Fault injection for tests goes through one hook
point, :class:`ServerHooks`, so the product holds no test-only code paths.

Example::

    with IndexServer(Path("wheelhouse")) as server:
        print(server.url)  # http://127.0.0.1:PORT/simple
"""

from __future__ import annotations

import contextlib
import email.parser
import email.utils
import hashlib
import html
import io
import json
import logging
import os
import socket
import tarfile
import threading
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal, Protocol
from urllib.parse import quote, unquote, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from resolvent.index.sdist_metadata import pkg_info_from_sdist

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from types import TracebackType
    from typing import Self

__all__ = [
    "HTML_CONTENT_TYPES",
    "JSON_CONTENT_TYPE",
    "IndexRequestHandler",
    "IndexServer",
    "ServerHooks",
    "negotiate_content_type",
]

_log = logging.getLogger(__name__)

#: The PEP 691 JSON serialization of the simple API.
JSON_CONTENT_TYPE = "application/vnd.pypi.simple.v1+json"
#: The HTML serializations: PEP 691's versioned name and the PEP 503 original.
HTML_CONTENT_TYPES = ("application/vnd.pypi.simple.v1+html", "text/html")

_API_VERSION = "1.1"  # PEP 700 (upload-time, versions, size) is API 1.1
_PAGE_CACHE_CONTROL = "max-age=600, public"
# Files never change under their name on a real index, so clients may keep them forever.
_FILE_CACHE_CONTROL = "max-age=365000000, immutable, public"
_CHUNK = 64 * 1024
# A folder whose mtime is this recent may still change within the same timestamp tick
# (the "racy git" problem), so its listing is not trusted until the tick has passed.
_RACY_NS = 2_000_000_000
_SDIST_SUFFIXES = (".tar.gz", ".zip")
_ALLOWED_METHODS = "GET, HEAD"
_MAX_DISCARD = 1 << 20  # request bodies (of refused methods) read and dropped
# How long stop() waits for handler threads once their connections are shut down (they
# notice at once unless a hook is stalling); what is left is a daemon thread, and never
# a process that cannot exit.
_STOP_GRACE = 1.0

Kind = Literal["wheel", "sdist"]


class ServerHooks(Protocol):
    """The one place where a caller (in practice, a test) can take over a response.

    ``intercept`` runs before the server answers each request. It returns ``True`` when it
    has answered (or deliberately not answered, e.g. dropped the connection) by itself, and
    ``False`` to let the server answer normally; it may also wrap ``handler.wfile`` to
    slow down or alter the body the server then writes.
    """

    def intercept(self, handler: IndexRequestHandler, path: str) -> bool:
        """Answer the request for ``path`` (decoded, no query) itself, or return ``False``."""
        ...


# --------------------------------------------------------------------------- the folder


@dataclass(frozen=True, slots=True)
class _Facts:
    """What is read from inside a file: expensive, so cached by (path, mtime, size)."""

    sha256: str
    metadata: bytes | None  # a wheel's METADATA, served as ``<file>.metadata`` (PEP 658)
    requires_python: str | None


@dataclass(frozen=True, slots=True)
class _File:
    """One distribution file as the index shows it."""

    filename: str
    path: Path
    project: str  # normalized name
    version: Version
    kind: Kind
    size: int
    mtime_ns: int
    facts: _Facts
    yanked: str | None  # None: not yanked; "": yanked without a reason
    upload_time: str

    @property
    def metadata_sha256(self) -> str | None:
        """The sha256 of the PEP 658 metadata file, if there is one."""
        if self.facts.metadata is None:
            return None
        return hashlib.sha256(self.facts.metadata).hexdigest()


def _parse_name(filename: str) -> tuple[str, Version, Kind] | None:
    """Return (normalized project, version, kind) of a distribution file name.

    None for a file that is no distribution. Raises ``ValueError`` for a distribution
    whose name is malformed.
    """
    if filename.endswith(".whl"):
        name, version, _, _ = parse_wheel_filename(filename)
        return name, version, "wheel"
    if filename.endswith(_SDIST_SUFFIXES):
        name, version = parse_sdist_filename(filename)
        return name, version, "sdist"
    return None


def _requires_python(metadata: bytes) -> str | None:
    """Read ``Requires-Python`` from core metadata (an RFC 822 style header block)."""
    message = email.parser.BytesHeaderParser().parsebytes(metadata)
    value = message.get("Requires-Python")
    return str(value).strip() or None if value is not None else None


def _wheel_metadata(path: Path, project: str, version: Version) -> bytes | None:
    """Return the ``METADATA`` of the wheel's own top-level ``.dist-info`` folder."""
    with zipfile.ZipFile(path) as archive:
        candidates = [
            name
            for name in archive.namelist()
            if name.count("/") == 1 and name.endswith(".dist-info/METADATA")
        ]
        for name in candidates:
            stem = name.split("/", 1)[0].removesuffix(".dist-info")
            dist_name, _, dist_version = stem.rpartition("-")
            try:
                if canonicalize_name(dist_name) == project and Version(dist_version) == version:
                    return archive.read(name)
            except ValueError:
                continue
        # A wheel whose folder name disagrees with its file name is still one .dist-info.
        return archive.read(candidates[0]) if len(candidates) == 1 else None


def _sdist_pkg_info(path: Path) -> bytes | None:
    """Return the top-level ``PKG-INFO`` of an sdist, to learn its Requires-Python."""
    return pkg_info_from_sdist(path.read_bytes(), path.name)


def _read_facts(path: Path, project: str, version: Version, kind: Kind) -> _Facts:
    """Hash the file and read its core metadata; a corrupt archive gets no metadata."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    metadata: bytes | None = None
    requires_python: str | None = None
    try:
        inner = (
            _wheel_metadata(path, project, version) if kind == "wheel" else _sdist_pkg_info(path)
        )
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as error:
        _log.warning("cannot read metadata of `%s`: %s", path.name, error)
        inner = None
    if inner is not None:
        requires_python = _requires_python(inner)
        if kind == "wheel":
            metadata = inner
    return _Facts(digest.hexdigest(), metadata, requires_python)


def _iso_utc(moment: datetime) -> str:
    """Format a time as PEP 700 asks: ``yyyy-mm-ddThh:mm:ss.ffffffZ`` in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _read_sidecar(path: Path) -> str | None:
    """Return the stripped text of a sidecar file, or None when there is none."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        _log.warning("ignoring sidecar `%s`: %s", path.name, error)
        return None


class _Catalog:
    """The folder's distribution files, re-read only when the folder changes.

    A change is noticed through the folder's mtime, one ``stat`` per request, so tests can
    drop files in while the server runs. Each file's hash and metadata are cached by
    (path, mtime, size): a re-scan re-reads only what changed. Sidecar files
    (``<file>.yanked``, ``<file>.upload-time``) are read on each scan; creating or
    deleting one changes the folder's mtime, editing one in place does not.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._stamp: int | None = None
        self._racy = True
        self._files: dict[str, _File] = {}
        self._projects: dict[str, list[_File]] = {}
        self._facts: dict[tuple[str, int, int], _Facts] = {}
        self._warned: set[str] = set()

    def projects(self) -> dict[str, list[_File]]:
        """Return normalized project name -> files (sorted by version, then name)."""
        self._refresh()
        return self._projects

    def file(self, filename: str) -> _File | None:
        """Return the listed file called ``filename``, up to date with the disk."""
        self._refresh()
        entry = self._files.get(filename)
        if entry is None:
            return None
        try:
            stat = entry.path.stat()
        except FileNotFoundError:
            return None
        if (stat.st_mtime_ns, stat.st_size) != (entry.mtime_ns, entry.size):
            # Rewritten in place (no folder mtime change): scan again rather than serve
            # bytes under a stale hash.
            with self._lock:
                self._scan()
            return self._files.get(filename)
        return entry

    def _refresh(self) -> None:
        with self._lock:
            try:
                stamp = self.folder.stat().st_mtime_ns
            except FileNotFoundError:
                stamp = -1
            if stamp == self._stamp and not self._racy:
                return
            self._scan()
            self._stamp = stamp
            self._racy = time.time_ns() - stamp < _RACY_NS

    def _scan(self) -> None:
        files: dict[str, _File] = {}
        seen: set[tuple[str, int, int]] = set()
        try:
            entries = sorted(os.scandir(self.folder), key=lambda e: e.name)
        except FileNotFoundError:
            entries = []
        for entry in entries:
            try:
                parsed = _parse_name(entry.name)
            except (InvalidWheelFilename, InvalidSdistFilename) as error:
                # Said once per name: the folder is re-scanned often.
                if entry.name not in self._warned:
                    self._warned.add(entry.name)
                    _log.warning("skipping `%s`: %s", entry.name, error)
                continue
            if parsed is None or not entry.is_file():
                continue
            try:
                record = self._describe(Path(entry.path), *parsed, seen=seen)
            except OSError as error:  # vanished or unreadable between listing and reading
                _log.warning("skipping `%s`: %s", entry.name, error)
                continue
            files[entry.name] = record
        # Forget the facts of files that are gone, so the cache cannot grow without bound.
        self._facts = {key: value for key, value in self._facts.items() if key in seen}
        projects: dict[str, list[_File]] = {}
        for record in files.values():
            projects.setdefault(record.project, []).append(record)
        for records in projects.values():
            records.sort(key=lambda r: (r.version, r.filename))
        self._files = files
        self._projects = dict(sorted(projects.items()))

    def _describe(
        self,
        path: Path,
        project: str,
        version: Version,
        kind: Kind,
        *,
        seen: set[tuple[str, int, int]],
    ) -> _File:
        before = path.stat()
        key = (str(path), before.st_mtime_ns, before.st_size)
        facts = self._facts.get(key)
        if facts is None:
            facts = _read_facts(path, project, version, kind)
            after = path.stat()
            # Cache only what was read from a file that stood still while it was read.
            if (after.st_mtime_ns, after.st_size) == key[1:]:
                self._facts[key] = facts
        seen.add(key)
        yanked = _read_sidecar(path.with_name(path.name + ".yanked"))
        return _File(
            filename=path.name,
            path=path,
            project=project,
            version=version,
            kind=kind,
            size=before.st_size,
            mtime_ns=before.st_mtime_ns,
            facts=facts,
            yanked=yanked,
            upload_time=self._upload_time(path, before.st_mtime_ns),
        )

    @staticmethod
    def _upload_time(path: Path, mtime_ns: int) -> str:
        text = _read_sidecar(path.with_name(path.name + ".upload-time"))
        if text:
            try:
                return _iso_utc(datetime.fromisoformat(text))
            except ValueError:
                _log.warning("ignoring `%s.upload-time`: not ISO 8601: %r", path.name, text)
        return _iso_utc(datetime.fromtimestamp(mtime_ns / 1e9, tz=UTC))


# --------------------------------------------------------------------------- the pages


def _file_url(filename: str) -> str:
    """Return the URL of a file relative to a project page (``/simple/<name>/``)."""
    return "../../files/" + quote(filename)


def _html_root(projects: Iterable[str]) -> str:
    links = "".join(f'    <a href="{quote(name)}/">{html.escape(name)}</a>\n' for name in projects)
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{_API_VERSION}">\n'
        "    <title>Simple index</title>\n  </head>\n  <body>\n"
        f"{links}  </body>\n</html>\n"
    )


def _html_project(project: str, files: Iterable[_File]) -> str:
    lines = []
    for record in files:
        attributes = [
            f'href="{html.escape(_file_url(record.filename))}#sha256={record.facts.sha256}"'
        ]
        if record.facts.requires_python is not None:
            attributes.append(f'data-requires-python="{html.escape(record.facts.requires_python)}"')
        if record.yanked is not None:
            attributes.append(f'data-yanked="{html.escape(record.yanked)}"')
        if (digest := record.metadata_sha256) is not None:
            attributes.append(f'data-core-metadata="sha256={digest}"')
            attributes.append(f'data-dist-info-metadata="sha256={digest}"')
        lines.append(f"    <a {' '.join(attributes)}>{html.escape(record.filename)}</a><br/>\n")
    title = html.escape(f"Links for {project}")
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{_API_VERSION}">\n'
        f"    <title>{title}</title>\n  </head>\n  <body>\n    <h1>{title}</h1>\n"
        f"{''.join(lines)}  </body>\n</html>\n"
    )


def _json_root(projects: Iterable[str]) -> str:
    body = {"meta": {"api-version": _API_VERSION}, "projects": [{"name": n} for n in projects]}
    return json.dumps(body, indent=1, sort_keys=True) + "\n"


def _json_project(project: str, files: list[_File]) -> str:
    entries: list[dict[str, object]] = []
    for record in files:
        entry: dict[str, object] = {
            "filename": record.filename,
            "url": _file_url(record.filename),
            "hashes": {"sha256": record.facts.sha256},
            "size": record.size,
            "upload-time": record.upload_time,
            "yanked": (record.yanked or True) if record.yanked is not None else False,
        }
        if record.facts.requires_python is not None:
            entry["requires-python"] = record.facts.requires_python
        if (digest := record.metadata_sha256) is not None:
            # PEP 714 renamed the key; old clients still read the PEP 658 one.
            entry["core-metadata"] = {"sha256": digest}
            entry["dist-info-metadata"] = {"sha256": digest}
        entries.append(entry)
    versions = sorted({record.version for record in files})
    body = {
        "meta": {"api-version": _API_VERSION},
        "name": project,
        "versions": [str(v) for v in versions],
        "files": entries,
    }
    return json.dumps(body, indent=1, sort_keys=True) + "\n"


def negotiate_content_type(accept: str | None) -> str:
    """Pick the page serialization for an ``Accept`` header (PEP 691).

    Each offered type gets the q-value of the most specific media range that matches it
    (RFC 9110); the best q wins. On a tie, a type the client named beats a wildcard match
    and JSON beats HTML, while a bare wildcard or no header at all gets ``text/html``, so
    browsers and old clients see the PEP 503 page. When nothing is acceptable the server
    still answers HTML (PEP 691 allows this instead of 406).

    >>> negotiate_content_type("application/vnd.pypi.simple.v1+json, text/html;q=0.1")
    'application/vnd.pypi.simple.v1+json'
    """
    offered = [JSON_CONTENT_TYPE, *HTML_CONTENT_TYPES]
    if not accept:
        return "text/html"
    ranges: list[tuple[str, float]] = []
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        media = media.lower().replace("simple.latest+", "simple.v1+")
        if not media:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        ranges.append((media, quality))
    best: tuple[float, int, int] | None = None
    chosen = "text/html"
    # Preference among exact matches: JSON, versioned HTML, then text/html.
    for preference, content_type in enumerate(reversed(offered)):
        matches = [
            (_specificity(media, content_type), quality)
            for media, quality in ranges
            if _specificity(media, content_type) >= 0
        ]
        if not matches:
            continue
        specificity, quality = max(matches)
        if quality <= 0:
            continue
        # A wildcard match falls back on the default (text/html has the highest rank).
        rank = preference if specificity == 2 else len(offered) - preference
        score = (quality, specificity, rank)
        if best is None or score > best:
            best = score
            chosen = content_type
    return chosen


def _specificity(media_range: str, content_type: str) -> int:
    """2 for an exact match, 1 for ``type/*``, 0 for ``*/*``, -1 for no match."""
    if media_range == content_type:
        return 2
    if media_range == "*/*":
        return 0
    major, _, minor = media_range.partition("/")
    if minor == "*" and content_type.startswith(major + "/"):
        return 1
    return -1


# --------------------------------------------------------------------------- HTTP


def _etag_matches(header: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` value matches ``etag`` (weak comparison, RFC 9110)."""
    wanted = etag.removeprefix("W/")
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == wanted:
            return True
    return False


def _parse_range(header: str, size: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """Return the inclusive byte range a ``Range`` header asks of ``size`` bytes.

    None means "serve the whole file": a malformed header or several ranges (both may
    be ignored under RFC 9110, and no installer asks for multipart responses).
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if not first:  # suffix: the last N bytes
            length = int(last)
            if length < 0:
                return None
            if length == 0 or size == 0:
                return "unsatisfiable"
            return max(size - length, 0), size - 1
        start = int(first)
        end = int(last) if last else None
    except ValueError:
        return None
    if start < 0 or (end is not None and end < start):
        return None
    if start >= size:
        return "unsatisfiable"
    return start, size - 1 if end is None else min(end, size - 1)


class IndexRequestHandler(BaseHTTPRequestHandler):
    """Answers one connection's requests from the server's :class:`_Catalog`."""

    server: _HTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, as clients expect of an index
    server_version = "resolvent-index"

    # An idle keep-alive connection is closed after this many seconds.
    timeout = 60
    # Headers and body go out in separate writes; with Nagle's algorithm on, the body of
    # every keep-alive response waits for the client's delayed ACK (about 40 ms a request).
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        """Name the server without the Python version the base class appends."""
        return self.server_version

    @property
    def folder(self) -> Path:
        """The folder this server serves (for hooks that need the real files)."""
        return self.server.catalog.folder

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Send access lines to logging, not stderr (the base class prints them)."""
        _log.info("%s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        """Serve a page or a file."""
        self._dispatch(head=False)

    def do_HEAD(self) -> None:
        """Serve a page's or file's headers only."""
        self._dispatch(head=True)

    def _not_allowed(self) -> None:
        path = unquote(urlsplit(self.path).path)
        hooks = self.server.hooks
        if hooks is not None and hooks.intercept(self, path):
            return
        self._discard_body()
        self._send_simple(HTTPStatus.METHOD_NOT_ALLOWED, {"Allow": _ALLOWED_METHODS}, head=False)

    def _discard_body(self) -> None:
        """Read and drop a request body, so the connection stays usable.

        Closing a socket with unread input makes the kernel send a reset, which can
        destroy the response before the client reads it; a body too large or of unknown
        length is not read, and the connection is closed after the response instead.
        """
        length = self.headers.get("Content-Length", "")
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if length.isdigit() and int(length) <= _MAX_DISCARD and not chunked:
            self.rfile.read(int(length))
        elif length or chunked:
            self.close_connection = True

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = _not_allowed  # noqa: N815

    def _dispatch(self, *, head: bool) -> None:
        split = urlsplit(self.path)
        path = unquote(split.path)
        hooks = self.server.hooks
        if hooks is not None and hooks.intercept(self, path):
            return
        parts = path.split("/")
        # Only these exact shapes exist; anything else (``..``, ``//``, backslashes,
        # absolute paths in a segment) is simply not found.
        if parts[:2] == ["", "simple"]:
            self._simple(parts[2:], split.query, head=head)
        elif len(parts) == 3 and parts[1] == "files":
            self._file(parts[2], head=head)
        elif path == "/":
            self._redirect("/simple/", "", head=head)
        else:
            self._send_simple(HTTPStatus.NOT_FOUND, {}, head=head)

    def _simple(self, rest: list[str], query: str, *, head: bool) -> None:
        if rest in ([], [""]):
            if not rest:
                self._redirect("/simple/", query, head=head)
                return
            names = list(self.server.catalog.projects())
            self._page(_html_root(names), _json_root(names), head=head)
            return
        name = rest[0]
        if not _is_safe_segment(name) or len(rest) > 2 or (len(rest) == 2 and rest[1]):
            self._send_simple(HTTPStatus.NOT_FOUND, {}, head=head)
            return
        normalized = canonicalize_name(name)
        if name != normalized or len(rest) == 1:
            self._redirect(f"/simple/{quote(normalized)}/", query, head=head)
            return
        files = self.server.catalog.projects().get(normalized)
        if files is None:
            self._send_simple(HTTPStatus.NOT_FOUND, {}, head=head)
            return
        self._page(_html_project(normalized, files), _json_project(normalized, files), head=head)

    def _page(self, html_body: str, json_body: str, *, head: bool) -> None:
        content_type = negotiate_content_type(self.headers.get("Accept"))
        body = (json_body if content_type == JSON_CONTENT_TYPE else html_body).encode()
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        headers = {
            "Cache-Control": _PAGE_CACHE_CONTROL,
            "ETag": etag,
            "Vary": "Accept",
        }
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None and _etag_matches(if_none_match, etag):
            self._send_simple(HTTPStatus.NOT_MODIFIED, headers, head=True)
            return
        if content_type == "text/html":
            content_type += "; charset=utf-8"
        headers["Content-Type"] = content_type
        self._send(HTTPStatus.OK, headers, body, head=head)

    def _file(self, filename: str, *, head: bool) -> None:
        if not _is_safe_segment(filename):
            self._send_simple(HTTPStatus.NOT_FOUND, {}, head=head)
            return
        catalog = self.server.catalog
        if filename.endswith(".metadata"):
            record = catalog.file(filename.removesuffix(".metadata"))
            metadata = record.facts.metadata if record is not None else None
            if record is None or metadata is None:
                self._send_simple(HTTPStatus.NOT_FOUND, {}, head=head)
                return
            digest = hashlib.sha256(metadata).hexdigest()
            self._entity(
                f'"{digest[:32]}"',
                record.mtime_ns,
                len(metadata),
                lambda: io.BytesIO(metadata),
                head=head,
            )
            return
        record = catalog.file(filename)
        if record is None:
            self._send_simple(HTTPStatus.NOT_FOUND, {}, head=head)
            return
        path = record.path
        self._entity(
            f'"{record.facts.sha256[:32]}"',
            record.mtime_ns,
            record.size,
            lambda: path.open("rb"),
            head=head,
        )

    def _entity(
        self, etag: str, mtime_ns: int, size: int, opener: Callable[[], BinaryIO], *, head: bool
    ) -> None:
        """Send file bytes with validators, conditional requests and byte ranges."""
        last_modified = email.utils.formatdate(mtime_ns / 1e9, usegmt=True)
        headers = {
            "Accept-Ranges": "bytes",
            "Cache-Control": _FILE_CACHE_CONTROL,
            "ETag": etag,
            "Last-Modified": last_modified,
        }
        if self._not_modified(etag, mtime_ns):
            self._send_simple(HTTPStatus.NOT_MODIFIED, headers, head=True)
            return
        headers["Content-Type"] = "application/octet-stream"
        start, end = 0, size - 1
        status = HTTPStatus.OK
        range_header = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        if range_header is not None and (
            if_range is None or if_range.strip() in (etag, last_modified)
        ):
            wanted = _parse_range(range_header, size)
            if wanted == "unsatisfiable":
                headers["Content-Range"] = f"bytes */{size}"
                self._send_simple(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, headers, head=head)
                return
            if wanted is not None:
                start, end = wanted
                status = HTTPStatus.PARTIAL_CONTENT
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = end - start + 1
        headers["Content-Length"] = str(length)
        self._start_response(status, headers)
        if head or length <= 0:
            return
        with opener() as stream:
            stream.seek(start)
            remaining = length
            while remaining > 0:
                chunk = stream.read(min(_CHUNK, remaining))
                if not chunk:  # the file shrank under us; the client sees a short body
                    self.close_connection = True
                    return
                self.wfile.write(chunk)
                remaining -= len(chunk)

    def _not_modified(self, etag: str, mtime_ns: int) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return _etag_matches(if_none_match, etag)
        since = self.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            moment = email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(mtime_ns // 1_000_000_000) <= int(moment.timestamp())

    def _redirect(self, location: str, query: str, *, head: bool) -> None:
        target = f"{location}?{query}" if query else location
        self._send_simple(HTTPStatus.MOVED_PERMANENTLY, {"Location": target}, head=head)

    def _send_simple(self, status: HTTPStatus, headers: dict[str, str], *, head: bool) -> None:
        """Send a status with a short text body (none for 304)."""
        if status == HTTPStatus.NOT_MODIFIED:
            self._start_response(status, headers)
            return
        body = f"{status.value} {status.phrase}\n".encode()
        self._send(
            status, {**headers, "Content-Type": "text/plain; charset=utf-8"}, body, head=head
        )

    def _send(
        self, status: HTTPStatus, headers: dict[str, str], body: bytes, *, head: bool
    ) -> None:
        self._start_response(status, {**headers, "Content-Length": str(len(body))})
        if not head:
            self.wfile.write(body)

    def _start_response(self, status: HTTPStatus, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()


def _is_safe_segment(segment: str) -> bool:
    """Whether one URL path segment can name a project or a file (no path tricks).

    Files are only ever looked up by exact name in the scanned listing, so this is a
    second fence: no empty name, no ``.``/``..`` or hidden name, no separator or NUL.
    """
    return bool(segment) and not segment.startswith(".") and not any(c in segment for c in "/\\\0")


class _HTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its catalog and can close open connections.

    Clients keep connections alive, and a handler thread blocks reading the next request
    on each; :meth:`close_connections` unblocks them so :meth:`IndexServer.stop` leaves
    nothing behind.
    """

    daemon_threads = True
    # A client decides how long its connection stays open, so server_close() must not
    # join handler threads; close_connections() waits for them, for a bounded time.
    block_on_close = False
    allow_reuse_address = False  # two servers must never share a port
    # The default backlog (5) drops connection attempts when an installer opens many
    # connections at once, and each dropped attempt costs the client a 1 s retry.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        catalog: _Catalog,
        hooks: ServerHooks | None,
        family: socket.AddressFamily,
    ) -> None:
        self.address_family = family
        self.catalog = catalog
        self.hooks = hooks
        self._open: set[socket.socket] = set()
        self._handlers: set[threading.Thread] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, IndexRequestHandler)

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        if isinstance(request, socket.socket):
            with self._open_lock:
                self._open.add(request)
        super().process_request(request, client_address)

    def process_request_thread(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        """Handle one connection, known to :meth:`close_connections` while it runs."""
        thread = threading.current_thread()
        with self._open_lock:
            self._handlers.add(thread)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._handlers.discard(thread)

    def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
        if isinstance(request, socket.socket):
            with self._open_lock:
                self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self, grace: float = 0.0) -> None:
        """Shut down every open client connection; wait up to ``grace`` s for handlers.

        The shutdown wakes a handler blocked reading its connection, so it exits; the
        wait lets it do so before the caller goes on (e.g. to interpreter exit, where a
        daemon thread still writing a log line can abort the process).
        """
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + grace
        with self._open_lock:
            handlers = list(self._handlers)
        for thread in handlers:
            thread.join(max(deadline - time.monotonic(), 0.0))

    def handle_error(self, request: object, client_address: object) -> None:  # noqa: ARG002
        """Log a failed request; a client that hung up is routine, not a traceback."""
        _log.debug("request from %s failed", client_address, exc_info=True)


class IndexServer:
    """Serve ``folder`` as a package index on ``host:port`` (port 0: any free port).

    ``start()`` serves from a background thread, ``stop()`` ends that; the CLI waits for
    a signal in between (see :mod:`resolvent.cli._signals` for why it does not serve on
    the main thread). ``hooks`` is consulted before each response.

    Example::

        server = IndexServer(Path("wheelhouse")).start()
        try:
            ...  # point a client at server.url
        finally:
            server.stop()
    """

    def __init__(
        self,
        folder: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        hooks: ServerHooks | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.host = host
        self.port = port
        self.hooks = hooks
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def bind(self) -> Self:
        """Open the listening socket (once), so :attr:`url` is known before serving."""
        if self._httpd is None:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            self._httpd = _HTTPServer(
                (self.host, self.port), _Catalog(self.folder), self.hooks, family
            )
            self.port = int(self._httpd.server_address[1])
        return self

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._httpd is None:
            raise RuntimeError("the index server is not bound; call start() or bind()")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The simple index URL, e.g. ``http://127.0.0.1:PORT/simple``."""
        return f"{self.base_url}/simple"

    def start(self) -> Self:
        """Bind and serve from a daemon thread; return self."""
        self.bind()
        httpd = self._httpd
        assert httpd is not None
        if self._thread is None:
            self._thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"resolvent-index-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and every client connection (idempotent).

        Bounded: the serving loop notices within its poll interval, and handler threads
        are waited for at most :data:`_STOP_GRACE` seconds.
        """
        if self._httpd is None:
            return
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._close()

    def _close(self) -> None:
        if self._httpd is not None:
            self._httpd.server_close()
            self._httpd.close_connections(_STOP_GRACE)
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
