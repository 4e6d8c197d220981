"""The sha256 of a file on disk: what indexes, RECORD files and `--hash` options name."""

# str paths and os calls: these run for every find-links file on every resolution.
# ruff: noqa: PTH100, PTH103, PTH105, PTH108, PTH116, PTH118, PTH123

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["file_sha256", "remembered_file_sha256"]

_HEX = frozenset("0123456789abcdef")
#: A file changed this recently is not remembered: file times are kept at a coarse tick
#: (milliseconds), so a second write within it could leave the identity as it was (the
#: "racy" case git guards against the same way).
_SETTLED_NS = 2_000_000_000


def file_sha256(path: Path | str) -> str:
    """Return the hex sha256 of the file at ``path``, read in blocks (wheels can be GBs)."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _identity(info: os.stat_result) -> tuple[int, ...]:
    # ctime changes with any write or rename onto the path and cannot be set back by a
    # user, so (device, inode, size, mtime, ctime) names one content of one file.
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def remembered_file_sha256(path: Path | str, folder: Path | str | None) -> str:
    """Return :func:`file_sha256` of ``path``, remembered in ``folder`` while it is unchanged.

    A find-links folder is listed on every run, and its wheels (a 180 MB torch) were
    hashed every time, warm runs included, only to name the cache entry already
    unpacked from them. The digest is kept under a key of the file's path and identity
    (device, inode, size, mtime and ctime, which no write leaves as they were), so an
    edited or replaced file is hashed again. Installing from the file still hashes it
    (it is checked as it is unpacked); only recognising it is spared. ``None`` (no
    cache) hashes every time; an unreadable or damaged record is ignored.
    """
    if folder is None:
        return file_sha256(path)
    before = _identity(os.stat(path))
    key = hashlib.sha256(repr((os.path.abspath(path), before)).encode()).hexdigest()
    record = os.path.join(folder, key)
    with contextlib.suppress(OSError, UnicodeDecodeError):
        with open(record, encoding="ascii") as stream:
            known = stream.read()
        if len(known) == 64 and _HEX.issuperset(known):
            return known
    digest = file_sha256(path)
    if _identity(os.stat(path)) != before:  # written to while hashed: remember nothing
        return digest
    if time.time_ns() - max(before[3], before[4]) < _SETTLED_NS:
        return digest
    with contextlib.suppress(OSError):
        os.makedirs(folder, exist_ok=True)
        temp = f"{record}.tmp-{os.getpid()}-{os.urandom(4).hex()}"
        try:
            with open(temp, "x", encoding="ascii") as stream:
                stream.write(digest)
            os.replace(temp, record)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
    return digest
