"""The response cache on disk, apart from the HTTP client so that warm runs skip the client.

A warm resolution is answered wholly from this folder, and importing the HTTP stack
(httpx, asyncio, TLS) costs more than the answers themselves; so the cache, its
freshness rules and the derived-data side files live here, importable without any of it.
:mod:`resolvent.index.http` re-exports :class:`CacheEntry` and :class:`HttpCache`.

A key is the sha256 of the URL and the ``Accept`` variant; a file holds one JSON header
line (url, status, kept headers, fetch time, the body's sha256) followed by the raw body.
Side files (``<key>.<kind>``) hold data derived from an entry, such as a parsed project
page; each names the body digest it was derived from, so a changed body never meets a
stale derivation. Most are one JSON document; a side file read piecemeal is a JSON head
line followed by raw bytes (:meth:`HttpCache.load_derived_parts`). Every file appears by
``os.replace`` of a temporary file, so a crash never leaves a half entry.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Final

from resolvent.atomic_write import write_atomically
from resolvent.hashes import sha256_hex
from resolvent.json_text import parse_json
from resolvent.value_class import DataclassLike, Value

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["HEURISTIC_LIFETIME", "CacheEntry", "HttpCache", "read_bytes", "read_head"]

#: Seconds a response with no caching headers stays fresh (RFC 9111 heuristic freshness).
HEURISTIC_LIFETIME = 600.0


class CacheEntry(Value, DataclassLike):
    """One cached response; ``immutable`` entries never need revalidation.

    ``digest`` is the body's sha256 (hex) as stored; ``None`` for entries written before
    digests were recorded, or not yet stored. It is not part of equality: it is derived.

    A :class:`~resolvent.value_class.Value`, not a ``@dataclass``: equal, hashed and shown
    as ``@dataclass(frozen=True, slots=True)`` made it (``headers`` compared but not
    hashed, ``digest`` shown only), without the methods a dataclass compiles from source
    text when its module is imported (every install imports it). ``dataclasses.replace``
    and ``fields`` work on it, through :class:`~resolvent.value_class.DataclassFields`.
    """

    __slots__ = ("content", "digest", "fetched_at", "headers", "immutable", "status", "url")
    unhashed_fields = frozenset({"headers"})
    uncompared_fields = frozenset({"digest"})

    url: Final[str]
    status: Final[int]
    headers: Final[dict[str, str]]
    content: Final[bytes]
    fetched_at: Final[float]
    immutable: Final[bool]
    digest: Final[str | None]

    def __init__(  # noqa: PLR0917 - the fields in order, as the dataclass took them
        self,
        url: str,
        status: int,
        headers: dict[str, str],
        content: bytes,
        fetched_at: float,
        immutable: bool = False,  # noqa: FBT001, FBT002 - positional, as the dataclass took it
        digest: str | None = None,
    ) -> None:
        self.url = url
        self.status = status
        self.headers = headers
        self.content = content
        self.fetched_at = fetched_at
        self.immutable = immutable
        self.digest = digest

    def is_fresh(self, now: float) -> bool:
        """Whether the entry may be used without asking the server (RFC 9111 freshness).

        >>> CacheEntry("u", 200, {"cache-control": "max-age=60"}, b"", 0.0).is_fresh(59.0)
        True
        """
        if self.immutable:
            return True
        directives = _cache_control(self.headers.get("cache-control", ""))
        # no-store is treated as no-cache: this is a private cache, and keeping the body
        # is what lets `--offline` work later.
        if "no-cache" in directives or "no-store" in directives:
            return False
        age = now - self.fetched_at + (_int(self.headers.get("age")) or 0)
        max_age = directives.get("max-age")
        if max_age is not None:
            lifetime = _int(max_age)
            return lifetime is not None and age < lifetime
        if "expires" in self.headers:
            # An Expires that does not parse means "already expired" (RFC 9111 5.3).
            expires = _http_date(self.headers["expires"])
            if expires is None:
                return False
            date = _http_date(self.headers.get("date")) or self.fetched_at
            return age < expires - date
        # No explicit freshness at all: RFC 9111 (4.2.2) lets a cache assign a heuristic
        # lifetime. Indexes state `max-age=600` for project pages; a proxy that strips
        # every caching header (as on some networks) would otherwise turn each warm
        # run into a full re-download, so we grant the same ten minutes.
        return age < HEURISTIC_LIFETIME


class HttpCache:
    """A folder of cached responses, one file per key, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # Reads use str paths: pathlib's parsing showed up in warm runs' profiles.
        self._prefix = os.fspath(root)

    @staticmethod
    def key(url: str, accept: str | None = None) -> str:
        """Return the cache key of a URL fetched with a given ``Accept`` header.

        >>> len(HttpCache.key("http://h/x"))
        64
        """
        return sha256_hex(f"{url}\0{accept or ''}".encode())

    def path(self, key: str) -> Path:
        """Return the file that holds the entry of ``key``."""
        return self.root / key[:2] / key

    def file(self, key: str, kind: str | None = None) -> str:
        """Return :meth:`path` (or :meth:`derived_path` of ``kind``) as a str, cheaply."""
        name = key if kind is None else f"{key}.{kind}"
        return f"{self._prefix}{os.sep}{key[:2]}{os.sep}{name}"

    def load(self, key: str, *, body: bool = True) -> CacheEntry | None:
        """Return the entry of ``key``, or ``None`` when it is missing or unreadable.

        :param body: ``False`` reads only the header line (``content`` is then ``b""``):
            enough to judge freshness and find derived data without reading a large page.
        """
        try:
            if body:
                header, newline, content = read_bytes(self.file(key)).partition(b"\n")
                header += newline
            else:
                header = read_head(self.file(key))
                content = b""
        except OSError:
            return None
        if not header.endswith(b"\n"):
            return None
        try:
            meta = parse_json(header)
            digest = meta.get("digest")
            return CacheEntry(
                url=str(meta["url"]),
                status=int(meta["status"]),
                headers={str(k): str(v) for k, v in meta["headers"].items()},
                content=content,
                fetched_at=float(meta["fetched_at"]),
                immutable=bool(meta.get("immutable", False)),
                digest=digest if isinstance(digest, str) else None,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def store(self, key: str, entry: CacheEntry) -> None:
        """Write ``entry`` under ``key``, replacing any previous entry atomically."""
        digest = entry.digest or sha256_hex(entry.content)
        header = json.dumps(
            {
                "url": entry.url,
                "status": entry.status,
                "headers": entry.headers,
                "fetched_at": entry.fetched_at,
                "immutable": entry.immutable,
                "digest": digest,
            },
            sort_keys=True,
        ).encode()
        self._write(self.path(key), header + b"\n" + entry.content)

    def load_derived(self, key: str, kind: str, digest: str) -> Any:
        """Return the JSON data derived from the body whose sha256 is ``digest``.

        ``None`` when the side file is missing, unreadable, corrupt, or was derived from
        another body (the entry changed since).
        """
        try:
            data = parse_json(read_bytes(self.file(key, kind)))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("digest") != digest:
            return None
        return data.get("data")

    def store_derived(self, key: str, kind: str, digest: str, data: object) -> None:
        """Write JSON ``data`` derived from the body whose sha256 is ``digest``."""
        text = json.dumps({"digest": digest, "data": data}, separators=(",", ":"))
        self._write(self.derived_path(key, kind), text.encode())

    def load_derived_parts(self, key: str, kind: str, digest: str) -> tuple[Any, bytes, int] | None:
        """Return what :meth:`store_derived_parts` wrote: the JSON head, the file, the body's start.

        The body is returned undecoded, as the file's bytes from the given offset on
        (not copied: a listing's body is megabytes, of which a run reads a few rows).
        ``None`` as for :meth:`load_derived`, and for a file without a head line.
        """
        try:
            blob = read_bytes(self.file(key, kind))
            end = blob.find(b"\n")
            if end < 0:
                return None
            data = parse_json(blob[:end])
        except (OSError, ValueError):
            return None
        if type(data) is not dict or data.get("digest") != digest:
            return None
        return data.get("data"), blob, end + 1

    def store_derived_parts(
        self, key: str, kind: str, digest: str, head: object, body: bytes
    ) -> None:
        """Write JSON ``head`` and raw ``body`` derived from the body whose sha256 is ``digest``.

        For side files whose bulk is read piecemeal: the head is one JSON line, decoded
        whole on load, and the body follows it as is, for the reader to slice.
        """
        text = json.dumps({"digest": digest, "data": head}, separators=(",", ":"))
        self._write(self.derived_path(key, kind), b"%s\n%s" % (text.encode(), body))

    def derived_path(self, key: str, kind: str) -> Path:
        """Return the side file of ``kind`` next to the entry of ``key``."""
        return self.path(key).with_name(f"{key}.{kind}")

    def write_atomically(self, target: Path, data: bytes) -> None:
        """Write ``data`` to ``target`` (a file of this cache) by atomic replacement."""
        self._write(target, data)

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, data)


#: How much of a file :func:`read_head` reads at a time: a page entry's header line is a
#: few hundred bytes.
_HEAD_CHUNK = 4096
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)


def read_bytes(path: str) -> bytes:
    """Return the content of the file at ``path``, read with the fewest system calls.

    A warm resolution reads a few thousand small cache files (headers, listings,
    bundles). ``open(path, "rb").read()`` asks the file whether it is a terminal and
    where it stands, and sizes its buffer twice, before the one read that matters; on
    a sandboxed kernel those calls cost more than the read. This opens, sizes the read
    once and reads: a read shorter than asked for (the file's size, plus one byte) is
    the whole file; only a file that grew meanwhile is read on to its end.

    :raises OSError: as ``open`` raises it.
    """
    fd = os.open(path, _READ_FLAGS)
    try:
        wanted = os.fstat(fd).st_size + 1
        first = os.read(fd, wanted)
        if len(first) < wanted:
            return first
        parts = [first]
        while part := os.read(fd, wanted):
            parts.append(part)
        return b"".join(parts)
    finally:
        os.close(fd)


def read_head(path: str) -> bytes:
    """Return the first line of the file at ``path`` with its newline, as ``readline`` would.

    The whole file when it has no newline. Reads only as much as the line needs (see
    :func:`read_bytes` on why not ``open``): a cached page's header, not its body.

    :raises OSError: as ``open`` raises it.
    """
    fd = os.open(path, _READ_FLAGS)
    try:
        parts: list[bytes] = []
        while part := os.read(fd, _HEAD_CHUNK):
            end = part.find(b"\n")
            if end >= 0:
                parts.append(part[: end + 1])
                break
            parts.append(part)
        return b"".join(parts)
    finally:
        os.close(fd)


def _cache_control(value: str) -> dict[str, str | None]:
    directives: dict[str, str | None] = {}
    for part in value.split(","):
        name, sep, argument = part.strip().partition("=")
        if name:
            directives[name.lower()] = argument.strip('"') if sep else None
    return directives


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    import email.utils  # noqa: PLC0415 - costly (sockets, random); few entries need dates
    from datetime import UTC  # noqa: PLC0415 - imported by email.utils anyway

    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
