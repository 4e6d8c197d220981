"""A manifest is what an install needs to know about an unpacked wheel, computed once.

Installing from the cache used to re-walk each unpacked tree, re-check every name,
re-parse RECORD and re-serialize it, file by file in Python, on every install: most of a
warm install's time. All of that is a pure function of the archive, which the cache
verified in full (paths, links, sizes, every RECORD hash) when it unpacked it. So the
cache stores the result next to the entry, written before the entry is published: the
folders and files to link (the root scheme's, ready for one tree link), the ``.data``
files that need per-file placing, the entry points, and the RECORD rows of the linked
files already serialized. A warm install reads one small JSON file and makes system
calls; it installs exactly the files the manifest lists, so a file planted in a cache
entry after it was verified is never installed.

A manifest that is missing (an entry written by an older resolvent), unreadable or of
another layout version is ignored, and the install validates the tree instead.

Example::

    manifest = build_manifest(info, [("demo/__init__.py", False)], record, entry_points)
    manifest.files  # ('demo/__init__.py',)
"""

# Hot paths use str paths and os calls, as DESIGN.md asks:
# ruff: noqa: PTH123
from __future__ import annotations

import json
import os
import re

from resolvent import TYPE_CHECKING
from resolvent.atomic_write import write_atomically
from resolvent.installer.wheel_info import DATA_KEYS, SIGNATURE_FILES, EntryPoint, WheelInfo
from resolvent.json_text import parse_json
from resolvent.value_class import Value

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any, Final

    from resolvent.installer.record import RecordEntry

__all__ = [
    "OWN_FILES",
    "Manifest",
    "build_manifest",
    "load_manifest",
    "manifest_path",
    "store_manifest",
]

#: ``.dist-info`` files an install writes itself, so never links from the wheel.
OWN_FILES = ("INSTALLER", "REQUESTED", "direct_url.json", *SIGNATURE_FILES)

#: 2: the RECORD rows after the JSON line (1: inside it; such manifests are not read).
_LAYOUT = 2
_SUFFIX = ".manifest"


#: An empty, ``.`` or ``..`` component, in paths framed by ``/`` (see :func:`_unsafe_paths`).
_BAD_COMPONENT = re.compile(r"/\.{0,2}/")


def _unsafe_paths(text: str) -> bool:
    """Whether any of the newline-separated ``text`` paths is unsafe.

    Unsafe: absolute, with a backslash or NUL, or with an empty, ``.`` or ``..``
    component. With the paths framed by ``/`` on both ends and newlines as ``/`` too,
    each of those is a substring (``//``, ``/./``, ``/../``), which one search of a
    pattern starting with a literal ``/`` finds at C speed over all paths at once:
    2.3 ms for the 26,000 paths of a warm install of 56 wheels, against 4.3 ms for
    three substring scans (each stops at every ``/``) and ~70 ms for a pattern that
    matches components between newlines, which the engine cannot skip ahead to.
    """
    if "\\" in text or "\x00" in text:
        return True
    return _BAD_COMPONENT.search("/" + text.replace("\n", "/") + "/") is not None


class Manifest(Value):
    """An unpacked wheel as an install sees it (all paths ``/``-separated, relative).

    :param dirs: the root scheme's folders, each after its parent.
    :param files: the root scheme's regular files, RECORD and :data:`OWN_FILES` aside.
    :param links: the root scheme's symbolic links (recreated, never followed).
    :param data: ``.data`` files as (archive path, is a link, RECORD hash or ``""``,
        size or -1), placed one by one (their RECORD paths depend on the scheme).
    :param record: the serialized RECORD rows of ``files`` and ``links``.
    :param entry_points: the console and GUI scripts to write.
    """

    __slots__ = ("data", "dirs", "entry_points", "files", "info", "links", "record")

    def __init__(  # noqa: PLR0917 -- callers pass the fields in order
        self,
        info: WheelInfo,
        dirs: tuple[str, ...],
        files: tuple[str, ...],
        links: tuple[str, ...],
        data: tuple[tuple[str, bool, str, int], ...],
        record: str,
        entry_points: tuple[EntryPoint, ...],
    ) -> None:
        self.info: Final = info
        self.dirs: Final = dirs
        self.files: Final = files
        self.links: Final = links
        self.data: Final = data
        self.record: Final = record
        self.entry_points: Final = entry_points

    def to_bytes(self) -> bytes:
        """Serialize (the cache stores these bytes): a JSON line, then the RECORD rows as is.

        The RECORD rows (two thirds of torch's 2 MB manifest) are not a JSON string: parsing them
        as one (escapes, then encoding them again to write RECORD) cost more than reading
        them, and the speculative helper, which reads manifests before its first link,
        needs only the JSON line. Compact JSON holds no raw newline, so the first one
        ends it.
        """
        info = self.info
        payload = {
            "layout": _LAYOUT,
            "info": [info.name, info.version, info.dist_info, info.root_is_purelib],
            "dirs": self.dirs,
            "files": self.files,
            "links": self.links,
            "data": self.data,
            "entry_points": [[e.name, e.module, e.attr, e.gui] for e in self.entry_points],
        }
        head = json.dumps(payload, separators=(",", ":")).encode("ascii")
        return head + b"\n" + self.record.encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest | None:
        """Parse :meth:`to_bytes`'s bytes; ``None`` when they are not a manifest of this layout."""
        head, newline, record = data.partition(b"\n")
        try:
            payload: Any = parse_json(head)
            if not newline or payload.get("layout") != _LAYOUT:
                return None
            name, version, dist_info, purelib = payload["info"]
            manifest = cls(
                WheelInfo(str(name), str(version), str(dist_info), bool(purelib)),
                tuple(payload["dirs"]),
                tuple(payload["files"]),
                tuple(payload["links"]),
                tuple(
                    (str(path), bool(link), str(digest), int(size))
                    for path, link, digest, size in payload["data"]
                ),
                record.decode("utf-8"),
                tuple(
                    EntryPoint(str(n), str(m), str(a), bool(g))
                    for n, m, a, g in payload["entry_points"]
                ),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        return manifest if manifest.is_safe() else None

    def is_safe(self) -> bool:
        """Whether the paths are relative, normalized and in the wheel's layout.

        Every ``.data`` file must go to one of the five scheme keys. A manifest that
        fails this (damaged or tampered with) is not used.
        """
        dist_info = self.info.dist_info
        if "/" in dist_info or not dist_info.endswith(".dist-info"):
            return False
        prefix = self.info.data_dir + "/"
        for path, *_ in self.data:
            key, _, rest = path[len(prefix) :].partition("/")
            if not path.startswith(prefix) or key not in DATA_KEYS or not rest:
                return False
        paths = (dist_info, *self.dirs, *self.files, *self.links, *(i[0] for i in self.data))
        return not _unsafe_paths("\n".join(paths))


def build_manifest(
    info: WheelInfo,
    names: Iterable[tuple[str, bool]],
    record: Mapping[str, RecordEntry],
    entry_points: Iterable[EntryPoint],
) -> Manifest:
    """Return the manifest of a checked wheel from its files as (archive path, is a link).

    ``record`` holds the wheel's checked RECORD entries by path; ``names`` need not be
    sorted, and folder entries must not be in it.
    """
    # Only unpacking builds manifests; reading one needs no RECORD code (see wheel_info).
    from resolvent.installer.record import RecordEntry, serialize_record  # noqa: PLC0415

    skip = {f"{info.dist_info}/{name}" for name in OWN_FILES}
    data_prefix = info.data_dir + "/"
    files: list[str] = []
    links: list[str] = []
    data: list[tuple[str, bool, str, int]] = []
    dirs: set[str] = set()
    for name, is_link in sorted(names):
        if name in skip:
            continue
        if name.startswith(data_prefix):
            entry = record.get(name)
            digest = str(entry.hash) if entry and entry.hash else ""
            size = entry.size if entry and entry.size is not None else -1
            data.append((name, is_link, digest, size))
            continue
        (links if is_link else files).append(name)
        folder = name.rpartition("/")[0]
        while folder and folder not in dirs:
            dirs.add(folder)
            folder = folder.rpartition("/")[0]
    rows = []
    for name in sorted([*files, *links]):
        entry = record.get(name)
        rows.append(RecordEntry(name, entry.hash, entry.size) if entry else RecordEntry(name))
    return Manifest(
        info,
        tuple(sorted(dirs)),  # a parent sorts before its children
        tuple(files),
        tuple(links),
        tuple(data),
        serialize_record(rows).decode("utf-8"),
        tuple(entry_points),
    )


def manifest_path(tree: str | os.PathLike[str]) -> str:
    """Return where the manifest of the unpacked tree ``tree`` is kept: beside it."""
    return os.fspath(tree).rstrip("/\\") + _SUFFIX


def load_manifest(tree: str | os.PathLike[str]) -> Manifest | None:
    """Return the stored manifest of ``tree``, or ``None`` (absent, damaged, old layout)."""
    try:
        with open(manifest_path(tree), "rb") as stream:
            data = stream.read()
    except OSError:
        return None
    return Manifest.from_bytes(data)


def store_manifest(
    tree: str | os.PathLike[str], manifest: Manifest, *, scratch: str | None = None
) -> None:
    """Write the manifest of ``tree`` atomically (temporary file, then ``os.replace``).

    The cache calls this before it publishes the tree, so an entry written by this
    version always has its manifest; a manifest whose tree never appears is removed by
    :meth:`~resolvent.installer.cache.Cache.prune`. ``scratch`` is a private folder on
    the same file system for the temporary file (default: beside the target).
    """
    write_atomically(
        manifest_path(tree),
        manifest.to_bytes(),
        prefix=".tmp-manifest-",
        scratch=scratch,
    )
