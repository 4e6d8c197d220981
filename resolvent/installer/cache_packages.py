"""Remove what the cache holds of some projects: ``resolvent cache clean NAME...``.

uv's ``cache clean`` takes project names and removes only their entries, so that one
broken or suspect project is fetched and unpacked anew without losing everything else
(a warm cache of a large environment is minutes of downloads). The cache is keyed by
content, not by name, so each bucket is searched for what names the project:

- ``wheels-v1/<source>/<wheel file>.sha256``: the pointer's wheel file name;
- ``archive-v1/<sha256>/``: the unpacked tree's ``.dist-info`` folder (and the entries
  the removed pointers named);
- ``built-v1/<sha256>.*``: the ``Name`` of the metadata built from an sdist;
- ``http-v1``: each entry's header line, which names its URL (a project page, a wheel,
  an sdist or a metadata file, named by the file's own name) or, for a bundle of a
  project's metadata summaries, the project.

Archive entries are removed under their lock, as :meth:`Cache.prune` removes them; an
entry an install is unpacking at that moment is left for the next clean.
"""

# Walks of the whole cache use str paths and os calls, as DESIGN.md asks:
# ruff: noqa: PTH105, PTH106, PTH108, PTH112, PTH114, PTH118, PTH119, PTH123, PTH208
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from packaging.utils import NormalizedName, canonicalize_name

from resolvent.index.filenames import parse_dist_filename
from resolvent.index.httpcache import HttpCache
from resolvent.index.metadata import MetadataBundle
from resolvent.installer.cache import CacheBucket

if TYPE_CHECKING:
    from collections.abc import Iterable

    from resolvent.installer.cache import Cache

__all__ = ["Removed", "clean_projects"]

_POINTER = ".sha256"
_DIST_INFO = ".dist-info"


@dataclass(slots=True)
class Removed:
    """How many files were removed, and their bytes (each hardlinked file once)."""

    files: int = 0
    bytes: int = 0


def clean_projects(cache: Cache, names: Iterable[str]) -> Removed:
    """Remove every cache entry of the projects ``names``; return what was removed.

    :raises BadInputError: the folder is not a cache (see :meth:`Cache.ensure_is_cache`).
    """
    removed = Removed()
    root = os.fspath(cache.root)
    if not os.path.isdir(root):
        return removed
    cache.ensure_is_cache("clean")
    wanted = {canonicalize_name(name) for name in names}
    seen: set[tuple[int, int]] = set()
    archives = _clean_pointers(os.path.join(root, CacheBucket.WHEELS.value), wanted, removed, seen)
    _clean_archives(cache, archives, wanted, removed, seen)
    _clean_built(os.path.join(root, CacheBucket.BUILT.value), wanted, removed, seen)
    _clean_http(os.path.join(root, CacheBucket.HTTP.value), wanted, removed, seen)
    return removed


def _count_and_unlink(path: str, removed: Removed, seen: set[tuple[int, int]]) -> None:
    try:
        info = os.lstat(path)
        os.unlink(path)
    except FileNotFoundError:
        return
    removed.files += 1
    if (info.st_dev, info.st_ino) not in seen:
        seen.add((info.st_dev, info.st_ino))
        removed.bytes += info.st_size


def _remove_tree_counted(path: str, removed: Removed, seen: set[tuple[int, int]]) -> None:
    """Delete a folder bottom-up, counting its files; links are removed, not followed."""
    for folder, dirs, files in os.walk(path, topdown=False):
        for name in files:
            _count_and_unlink(os.path.join(folder, name), removed, seen)
        for name in dirs:
            child = os.path.join(folder, name)
            if os.path.islink(child):
                _count_and_unlink(child, removed, seen)
            else:
                with contextlib.suppress(OSError):
                    os.rmdir(child)
    with contextlib.suppress(OSError):
        os.rmdir(path)


def _names(filename: str, wanted: set[NormalizedName]) -> bool:
    """Return whether a distribution file (or its ``.metadata`` file) is of a wanted project.

    Asked per wanted project, so that a legacy sdist name with dashes in its version
    (``foo-1.0-beta.tar.gz``) is split at the project's name, as the index reads it.
    """
    filename = filename.removesuffix(".metadata")
    return any(parse_dist_filename(filename, name) is not None for name in wanted)


def _clean_pointers(
    bucket: str, wanted: set[NormalizedName], removed: Removed, seen: set[tuple[int, int]]
) -> set[str]:
    """Remove the wanted projects' wheel pointers; return the archive keys they named."""
    keys: set[str] = set()
    if not os.path.isdir(bucket):
        return keys
    for source in os.scandir(bucket):
        if not source.is_dir(follow_symlinks=False):
            continue
        for entry in os.scandir(source.path):
            name = entry.name
            if not name.endswith(_POINTER) or not _names(name[: -len(_POINTER)], wanted):
                continue
            try:
                with open(entry.path, encoding="ascii") as stream:
                    keys.add(stream.read().strip())
            except (OSError, UnicodeDecodeError):
                pass
            _count_and_unlink(entry.path, removed, seen)
    return keys


def _tree_project(path: str) -> NormalizedName | None:
    """Return the project of an unpacked wheel, from its ``.dist-info`` folder's name."""
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.name.endswith(_DIST_INFO) and "-" in entry.name:
                    return canonicalize_name(entry.name.split("-", 1)[0])
    except OSError:
        pass
    return None


def _clean_archives(
    cache: Cache,
    keys: set[str],
    wanted: set[NormalizedName],
    removed: Removed,
    seen: set[tuple[int, int]],
) -> None:
    bucket = cache.root / CacheBucket.ARCHIVE.value
    if not bucket.is_dir():
        return
    from resolvent.installer.manifest import manifest_path  # noqa: PLC0415

    for entry in os.scandir(bucket):
        if not entry.is_dir(follow_symlinks=False) or entry.name.startswith("."):
            continue
        if entry.name not in keys and _tree_project(entry.path) not in wanted:
            continue
        tree = entry.path

        def remove(tree: str = tree) -> None:
            # Out of sight at once (a rename), then deleted and counted.
            trash = f"{tree}.tmp-clean-{os.urandom(4).hex()}"
            try:
                os.replace(tree, trash)
            except FileNotFoundError:
                return
            _remove_tree_counted(trash, removed, seen)
            _count_and_unlink(
                os.fspath(manifest_path(bucket / os.path.basename(tree))), removed, seen
            )

        cache.try_locked(bucket, entry.name, remove, unlink=True)


def _built_name(path: str) -> NormalizedName | None:
    """Return the ``Name`` of built metadata (the header ends at the first empty line)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            for line in stream:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                if key.strip().lower() == "name" and value.strip():
                    return canonicalize_name(value.strip())
    except OSError:
        pass
    return None


def _clean_built(
    bucket: str, wanted: set[NormalizedName], removed: Removed, seen: set[tuple[int, int]]
) -> None:
    """Remove what was built from the wanted projects' sdists (found by their metadata)."""
    if not os.path.isdir(bucket):
        return
    keys = {
        entry.name[: -len(".metadata")]
        for entry in os.scandir(bucket)
        if entry.name.endswith(".metadata") and _built_name(entry.path) in wanted
    }
    if not keys:
        return
    for entry in os.scandir(bucket):
        if entry.name.split(".", 1)[0] not in keys:
            continue
        if entry.is_dir(follow_symlinks=False):
            _remove_tree_counted(entry.path, removed, seen)
        else:
            _count_and_unlink(entry.path, removed, seen)


def _entry_is_wanted(http: HttpCache, key: str, wanted: set[NormalizedName]) -> bool:
    """Return whether an HTTP cache entry is about a wanted project, from its URL."""
    entry = http.load(key, body=False)
    if entry is None:
        return False
    path = urlsplit(entry.url).path
    if path.endswith("/"):  # a project page: `.../simple/<name>/`
        last = unquote(path.rstrip("/").rsplit("/", 1)[-1])
        return bool(last) and canonicalize_name(last) in wanted
    return _names(unquote(path.rsplit("/", 1)[-1]), wanted)


def _clean_http(
    bucket: str, wanted: set[NormalizedName], removed: Removed, seen: set[tuple[int, int]]
) -> None:
    """Remove the wanted projects' responses and bundles, with the files derived from them."""
    if not os.path.isdir(bucket):
        return
    http = HttpCache(Path(bucket))
    bundles = {MetadataBundle.key(name) for name in wanted}
    for shard in os.scandir(bucket):
        if not shard.is_dir(follow_symlinks=False):
            continue
        names = os.listdir(shard.path)
        keys = {
            name
            for name in names
            if "." not in name and (name in bundles or _entry_is_wanted(http, name, wanted))
        }
        for name in names:
            if name.split(".", 1)[0] in keys:
                _count_and_unlink(os.path.join(shard.path, name), removed, seen)
