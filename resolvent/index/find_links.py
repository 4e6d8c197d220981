"""Find-links: distributions found in a local folder or on a flat HTML page of links.

pip's ``--find-links`` names places that are not indexes: a folder of wheels and sdists
(a wheelhouse) or a page whose anchors point at distribution files. Their files join the
candidates of every project whose name they carry.

A folder's file is described with its sha256, which names its metadata in the cache;
hashing a large wheel (a CPU build of torch is 200 MB) took longer than the rest of a
warm resolution, on every run. So the digest is remembered in the HTTP cache, tied to
the file's path and ``stat`` (size, modification and change times, inode): a file
written since, even in place, has another stamp and is hashed again.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from resolvent.errors import BadInputError
from resolvent.hashes import file_sha256
from resolvent.index.config import check_url
from resolvent.index.filenames import parse_dist_filename
from resolvent.index.httpcache import HttpCache
from resolvent.index.pages import DistFile, parse_flat_page

if TYPE_CHECKING:
    import os

    from packaging.utils import NormalizedName

    from resolvent.index.http import HttpClient

__all__ = ["FindLinks", "local_file"]

#: The side-file kind of a local file's sha256 (layout version in the name).
_SHA256_KIND = "file-sha256-v1"
#: How old (ns) a file's last change must be before its digest is remembered.
_SETTLED_NS = 2_000_000_000


def local_file(path: Path, cache: HttpCache | None = None) -> DistFile | None:
    """Describe a distribution file on disk as an index would, or ``None`` if it is not one.

    :param cache: where the file's sha256 is remembered (``None``: always hash it).
    """
    parsed = parse_dist_filename(path.name)
    if parsed is None or not path.is_file():
        return None
    from datetime import UTC, datetime  # noqa: PLC0415 - a warm install describes no files

    stat = path.stat()
    url = path.absolute().as_uri()
    return DistFile(
        filename=path.name,
        url=url,
        hashes={"sha256": _sha256(path, url, stat, cache)},
        requires_python=None,
        yanked=False,
        yanked_reason=None,
        core_metadata=None,
        upload_time=datetime.fromtimestamp(stat.st_mtime, UTC),
        size=stat.st_size,
        kind=parsed.kind,
        name=parsed.name,
        version=parsed.version,
        tags=parsed.tags,
        build=parsed.build,
    )


def _sha256(path: Path, url: str, stat: os.stat_result, cache: HttpCache | None) -> str:
    """Return the file's sha256, from the cache while the file's stamp is unchanged."""
    if cache is None or time.time_ns() - max(stat.st_mtime_ns, stat.st_ctime_ns) < _SETTLED_NS:
        # A file written just now is not remembered: file times are kept at a coarse
        # tick, so a second write within it could leave the stamp as it was (the "racy"
        # case git guards against the same way).
        return file_sha256(path)
    key = HttpCache.key(url, _SHA256_KIND)
    stamp = f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}"
    known = cache.load_derived(key, _SHA256_KIND, stamp)
    if isinstance(known, str) and len(known) == 64:
        return known
    digest = file_sha256(path)
    # A read-only cache still answers; the file is hashed again next time.
    with contextlib.suppress(OSError):
        cache.store_derived(key, _SHA256_KIND, stamp, digest)
    return digest


class FindLinks:
    """The files of every find-links location, read once and grouped by project.

    Folders are listed synchronously (so a warm resolution needs no event loop), and a
    file is hashed only when its project is asked for: a wheelhouse may hold huge wheels
    of projects the resolution never touches. Pages of links need the HTTP client.
    """

    def __init__(self, locations: tuple[str, ...], cache: HttpCache | None = None) -> None:
        """Check every location at once, before any resolution work.

        :raises BadInputError: a URL is malformed, or a local location is missing or not
            a folder. pip only warns about a missing folder and goes on, which ends in a
            puzzling "no matching distribution"; uv fails with "Failed to read
            `--find-links` directory", and so does resolvent: a location the user names
            but that cannot be read is a mistake worth stopping for.
        """
        for location in locations:
            if _is_remote(location):
                check_url(location, "find-links URL")
            else:
                _check_folder(location)
        self.locations = locations
        self._cache = cache
        # Per location, in order: the folder's files by project, or a page's files.
        self._found: list[dict[NormalizedName, list[Path] | list[DistFile]]] | None = None
        self._local: list[dict[NormalizedName, list[Path] | list[DistFile]]] | None = None
        self._files: dict[NormalizedName, list[DistFile]] = {}

    @property
    def local(self) -> bool:
        """Whether every location is a folder (none needs the HTTP client)."""
        return not any(_is_remote(location) for location in self.locations)

    def local_files(self, name: NormalizedName) -> list[DistFile]:
        """Return the files of ``name``; only when :attr:`local` is true."""
        if self._found is None:
            self._found = [_scan_folder(location) for location in self.locations]
        return self._files_of(name, self._found)

    async def files(self, client: HttpClient, name: NormalizedName) -> list[DistFile]:
        """Return the files of ``name`` across all locations."""
        if self._found is None:
            found: list[dict[NormalizedName, list[Path] | list[DistFile]]] = []
            for location in self.locations:
                if _is_remote(location):
                    response = await client.get(location, accept="text/html")
                    text = response.content.decode("utf-8", "replace")
                    found.append(dict(parse_flat_page(text, url=response.url)))
                else:
                    found.append(_scan_folder(location))
            self._found = found
        files = self._files.get(name)
        if files is not None:
            return files
        if not any(isinstance(item, Path) for found in self._found for item in found.get(name, ())):
            # No folder lists the name (most lookups: find-links usually adds a few
            # projects to an index), or only pages do: nothing to hash, so no thread.
            return self._files_of(name, self._found)
        import asyncio  # noqa: PLC0415 - only resolutions with a loop come here

        # Describing a folder's file hashes it (unless the cache remembers it): 0.1 s for
        # a 200 MB wheel in memory, far more from disk. In a thread, so that the loop
        # goes on fetching everything else meanwhile.
        return await asyncio.to_thread(self._files_of, name, self._found)

    def _files_of(
        self,
        name: NormalizedName,
        found: list[dict[NormalizedName, list[Path] | list[DistFile]]],
    ) -> list[DistFile]:
        files = self._files.get(name)
        if files is None:
            files = []
            for location in found:
                for item in location.get(name, ()):
                    file = local_file(item, self._cache) if isinstance(item, Path) else item
                    if file is not None:
                        files.append(file)
            self._files[name] = files
        return files


def _is_remote(location: str) -> bool:
    # Only the scheme, read without urlsplit: that raises on a malformed host, which is
    # for check_url to report.
    scheme, sep, _ = location.partition("://")
    return bool(sep) and scheme.lower() in {"http", "https"}


def _folder(location: str) -> Path:
    """Return the folder a local location (a path or a ``file:`` URL) names."""
    if location[:5].lower() == "file:":
        check_url(location, "find-links URL")
        from urllib.request import url2pathname  # noqa: PLC0415 - pulls in http.client

        return Path(url2pathname(urlsplit(location).path))
    return Path(location)


def _check_folder(location: str) -> None:
    folder = _folder(location)
    if not folder.exists():
        raise BadInputError(f"the `--find-links` folder `{location}` does not exist")
    if not folder.is_dir():
        raise BadInputError(
            f"the `--find-links` location `{location}` is not a folder",
            hint="find-links takes folders of distributions and http(s) URLs of pages of links",
        )


def _scan_folder(location: str) -> dict[NormalizedName, list[Path] | list[DistFile]]:
    """Group a folder's distribution files by project, by name alone (nothing is read)."""
    folder = _folder(location)
    if not folder.is_dir():
        return {}
    grouped: dict[NormalizedName, list[Path]] = {}
    for entry in sorted(folder.iterdir()):
        parsed = parse_dist_filename(entry.name)
        if parsed is not None:
            grouped.setdefault(parsed.name, []).append(entry)
    return dict(grouped)
