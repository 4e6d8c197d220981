"""Evaluated dependency edges kept from one resolution to the next, one file per target.

Turning a version's metadata into the engines' edges (reading the metadata summary,
evaluating every marker for the target, making a range of every specifier) was about a
sixth of a warm compile of a large set, repeated identically by every run. This keeps
the outcome, as plain text, in the cache's ``http`` bucket (``edges-v1/``): one file
per *context* (the target's marker environment and Python, the ``packaging`` and
resolvent versions, this format's version and the provider options that change which
metadata is read), holding per project, per (package key, version, metadata identity),
the edges' package keys and the specifier text of each requirement line. The universe
rebuilds the ranges from that text through the same memo as a computed edge, so the
engines see the same objects either way.

An entry is trusted for its key only: the identity is the sha256 of the file whose
metadata the edges came from, so changed metadata misses. The file is written
atomically at the end of a run that added entries, bounded by size (the projects used
last are kept), and read with an unpickler that builds nothing but built-in values; a
file that is unreadable, truncated, of another format or context is ignored and
replaced. Nothing reads it under ``--refresh``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import sys
import zlib
from typing import TYPE_CHECKING

from resolvent.atomic_write import write_atomically
from resolvent.index.httpcache import read_bytes
from resolvent.solver.universe import base_name

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from packaging.utils import NormalizedName
    from packaging.version import Version

__all__ = ["FOLDER", "FORMAT", "EdgeTable", "code_identity"]

#: The folder of edge files inside the HTTP bucket (older code ignores it).
FOLDER = "edges-v1"
#: The layout of a file and of its entries; bump it whenever either, or the way the
#: universe turns requirements into edges, changes.
FORMAT = 1
#: What a file starts with, before the CRC-32 of the rest and the pickle.
_MAGIC = b"resolvent-edges\n"
#: Beyond this many bytes of pickled projects, the least recently used are dropped.
LIMIT_BYTES = 8 << 20

#: The modules whose code decides what a version's edges are (which file's metadata
#: stands for it, how its summary is read, how markers are evaluated for the target, how
#: a specifier becomes a range) and this module's own layout.
_EDGE_CODE = (
    "resolvent.index.edge_cache",
    "resolvent.index.metadata",
    "resolvent.index.provider",
    "resolvent.markers",
    "resolvent.requirement_parsing",
    "resolvent.solver.ranges",
    "resolvent.solver.universe",
)

#: ``(package key, version text, metadata identity)``.
EntryKey = tuple[str, str, str]


def code_identity() -> str | None:
    """Return a digest of the source of the modules that decide edges (``None``: unknown).

    Part of every file's context, so that edges made by other code, a fix to marker
    evaluation say, are never read: the package's version number does not change between
    such commits, and a :data:`FORMAT` bump is easy to forget. ``None`` (a module without a
    readable source file) means no stored edges at all.
    """
    digest = hashlib.sha256()
    for name in _EDGE_CODE:
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if path is None:
            return None
        try:
            digest.update(read_bytes(path))
        except OSError:
            return None
    return digest.hexdigest()


class _PlainUnpickler(pickle.Unpickler):
    """An unpickler that refuses every global: only built-in values come out."""

    def find_class(self, module: str, name: str) -> object:
        raise pickle.UnpicklingError(f"`{module}.{name}` is not allowed in an edge file")


def _plain_loads(data: bytes) -> object:
    return _PlainUnpickler(io.BytesIO(data)).load()


class EdgeTable:
    """The stored edges of one context, loaded on open and saved by :meth:`save`.

    :param folder: where the context's file lives (created on save).
    :param context: the full context text; the file name is its digest, and the file
        repeats it, so that a file of another context (or a digest collision) misses.
    :param identity: gives a listed version's ``(version text, metadata identity)``,
        ``None`` when its metadata has no content identity (no sha256): never stored.
    """

    def __init__(
        self,
        folder: Path,
        context: str,
        identity: Callable[[NormalizedName, Version], tuple[str, str] | None],
    ) -> None:
        self.context = context
        self.path = folder / f"{hashlib.sha256(context.encode()).hexdigest()[:32]}.edges"
        self._identity = identity
        # Projects as stored (pickled), and those read or changed this run, decoded.
        self._stored: dict[str, bytes] = self._read()
        self._projects: dict[str, dict[EntryKey, object]] = {}
        self._changed: set[str] = set()

    def _read(self) -> dict[str, bytes]:
        """Return the file's projects; empty when it is missing, damaged or foreign."""
        try:
            data = read_bytes(os.fspath(self.path))
        except OSError:
            return {}
        head = len(_MAGIC)
        if not data.startswith(_MAGIC) or len(data) < head + 4:
            return {}
        payload = memoryview(data)[head + 4 :]
        if zlib.crc32(payload) != int.from_bytes(data[head : head + 4], "little"):
            return {}
        try:
            found = _plain_loads(bytes(payload))
        except Exception:  # noqa: BLE001 - any damage means "no entries", never a traceback
            return {}
        if (
            type(found) is not tuple
            or len(found) != 3
            or found[0] != FORMAT
            or found[1] != self.context
            or type(found[2]) is not dict
        ):
            return {}
        return {
            name: blob
            for name, blob in found[2].items()
            if type(name) is str and type(blob) is bytes
        }

    def key(self, name: NormalizedName, version: Version, package: str) -> EntryKey | None:
        """Return the key of ``package == version`` (``None``: it cannot be kept)."""
        found = self._identity(name, version)
        if found is None:
            return None
        return (package, found[0], found[1])

    def get(self, key: EntryKey) -> object:
        """Return the stored edges of ``key`` as plain values (``None``: none stored).

        The caller checks their shape: a damaged entry must make a miss, not an error.
        """
        return self._project(key[0]).get(key)

    def put(self, key: EntryKey, edges: object) -> None:
        """Keep ``edges`` (plain values) for ``key``, to be saved at the end of the run."""
        project = self._project(key[0])
        if project.get(key) != edges:
            project[key] = edges
            self._changed.add(base_name(key[0]))

    def _project(self, package: str) -> dict[EntryKey, object]:
        name = base_name(package)
        found = self._projects.get(name)
        if found is None:
            found = {}
            blob = self._stored.get(name)
            if blob is not None:
                with contextlib.suppress(Exception):  # damaged: no entries, rewritten
                    loaded = _plain_loads(blob)
                    if type(loaded) is dict:
                        found = loaded
            self._projects[name] = found
        return found

    def save(self) -> None:
        """Write the file if this run added entries: the projects used first, then the rest.

        Bounded by :data:`LIMIT_BYTES`; the least recently used projects go first.
        Failing to write loses nothing but time, so errors are swallowed.
        """
        if not self._changed:
            return
        kept: dict[str, bytes] = {}
        size = 0
        used = [
            (name, pickle.dumps(entries, protocol=5) if name in self._changed else None)
            for name, entries in self._projects.items()
            if entries
        ]
        for name, made in (*used, *self._stored.items()):
            blob = self._stored.get(name) if made is None else made
            if blob is None or name in kept:
                continue
            size += len(blob)
            if size > LIMIT_BYTES:
                break
            kept[name] = blob
        payload = pickle.dumps((FORMAT, self.context, kept), protocol=5)
        data = b"%s%s%s" % (_MAGIC, zlib.crc32(payload).to_bytes(4, "little"), payload)
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, data)
        self._stored = kept
        self._changed.clear()
