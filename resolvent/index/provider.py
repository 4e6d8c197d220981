"""The index provider: the solver's :class:`~resolvent.solver.provider.Provider` over real indexes.

It turns project pages into version listings (yanked, ``requires-python``, whether any
file installs on the target, ``--exclude-newer``) and fetches core metadata without
downloading wheels (PEP 658 files, else range requests into the wheel). All network work
runs concurrently on one event loop in a background thread: the solver's calls are
synchronous and block only on what they need, while metadata the solver is likely to ask
for next (the versions it will try, the projects a fetched version requires) is already
being fetched.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Collection
from typing import TYPE_CHECKING, Literal, Self

from packaging.utils import NormalizedName, canonicalize_name

from resolvent.errors import HttpStatusError, IndexDataError, NotCachedError
from resolvent.index.find_links import FindLinks
from resolvent.index.http import HttpClient, LoopThread
from resolvent.index.metadata import CoreMetadata, MetadataFetcher
from resolvent.index.pages import PAGE_ACCEPT, DistFile, parse_page
from resolvent.index.sdist_metadata import pkg_info_from_sdist, static_metadata
from resolvent.solver.provider import Unavailable, VersionInfo
from resolvent.solver.universe import python_allowed

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from pathlib import Path

    from packaging.requirements import Requirement
    from packaging.version import Version

    from resolvent.index.config import IndexConfig
    from resolvent.target import Target

__all__ = ["BinaryPolicy", "IndexProvider"]

#: Seconds that background fetches may take to finish when the provider closes.
_CLOSE_GRACE = 2.0

#: ``True`` means every project; a collection names some projects.
BinaryPolicy = bool | Collection[str]


def _applies(policy: BinaryPolicy, name: NormalizedName) -> bool:
    if isinstance(policy, bool):
        return policy
    return name in policy


class IndexProvider:
    """A provider over package indexes and find-links locations, for one target.

    :param config: index URLs, find-links and the index strategy.
    :param target: the environment whose wheel tags decide what can be installed.
    :param cache_dir: the HTTP cache folder (``None``: no cache).
    :param policy: ``normal``, ``offline`` or ``refresh`` (see :class:`HttpClient`).
    :param exclude_newer: ignore files uploaded after this moment (PEP 700).
    :param no_build: never build sdists (all projects, or the named ones).
    :param no_binary: never use wheels (all projects, or the named ones).

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
    ) -> None:
        self.config = config
        self.target = target
        self.exclude_newer = exclude_newer
        self.no_build = (
            no_build if isinstance(no_build, bool) else {canonicalize_name(n) for n in no_build}
        )
        self.no_binary = (
            no_binary if isinstance(no_binary, bool) else {canonicalize_name(n) for n in no_binary}
        )
        self._markers = target.markers() | {"extra": ""}
        self._loop = LoopThread()
        self._find_links = FindLinks(config.find_links)
        self._client: HttpClient = self._loop.run(
            self._make_client(cache_dir, policy, max_concurrency)
        )
        self._fetcher = MetadataFetcher(self._client)
        # Owned by the loop thread: running or finished tasks.
        self._page_tasks: dict[NormalizedName, asyncio.Task[list[DistFile] | Unavailable]] = {}
        self._meta_tasks: dict[
            tuple[NormalizedName, Version], asyncio.Task[CoreMetadata | Unavailable]
        ] = {}
        # Owned by the calling thread.
        self._files: dict[NormalizedName, dict[Version, list[DistFile]]] = {}
        self.requests = 0

    @staticmethod
    async def _make_client(
        cache_dir: Path | None, policy: Literal["normal", "offline", "refresh"], limit: int
    ) -> HttpClient:
        return HttpClient(cache_dir=cache_dir, policy=policy, max_concurrency=limit)

    # -- the provider protocol ----------------------------------------------------

    def list_versions(self, name: NormalizedName) -> Sequence[VersionInfo] | Unavailable:
        """Return the versions the indexes list for ``name``, judged for the target."""
        files = self._loop.run(self._page_files(name))
        if isinstance(files, Unavailable):
            return files
        by_version: dict[Version, list[DistFile]] = {}
        for file in files:
            if (
                self.exclude_newer is not None
                and file.url.startswith(("http:", "https:"))
                and (file.upload_time is None or file.upload_time > self.exclude_newer)
            ):
                continue
            by_version.setdefault(file.version, []).append(file)
        self._files[name] = by_version
        return [self._info(name, version, group) for version, group in by_version.items()]

    def get_requirements(
        self, name: NormalizedName, version: Version
    ) -> Sequence[Requirement] | Unavailable:
        """Return the ``Requires-Dist`` of one version from its best file's metadata."""
        file = self._metadata_file(name, version)
        if file is None:
            return Unavailable(
                f"no file of `{name}=={version}` can provide metadata for the target"
            )
        meta = self._loop.run(self._metadata(name, version, file))
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

    def prefetch(self, name: NormalizedName, versions: Sequence[Version]) -> None:
        """Start fetching metadata of these versions in the background."""
        for version in versions:
            file = self._metadata_file(name, version)
            if file is not None:
                self._loop.submit(self._start_metadata(name, version, file))

    # -- extras for callers (hashes, installs) -----------------------------------

    def files(self, name: NormalizedName, version: Version) -> list[DistFile]:
        """Return every file of a listed version (after ``--exclude-newer``)."""
        return list(self._files.get(name, {}).get(version, ()))

    def best_file(self, name: NormalizedName, version: Version) -> DistFile | None:
        """Return the file an install would use: the best compatible wheel, else the sdist."""
        return self._metadata_file(name, version)

    def close(self) -> None:
        """Close connections and stop the I/O thread."""
        if not self._loop.loop.is_closed():
            self._loop.run(self._drain())
            self._loop.close()

    async def _drain(self) -> None:
        """Let background fetches finish briefly, cancel the rest, then close connections.

        Cancelling a request in the middle of connecting leaves coroutines of the HTTP
        stack unawaited; giving speculative fetches a short grace avoids that in the
        common case, where they are about to finish anyway.
        """
        pending = [
            t for t in (*self._page_tasks.values(), *self._meta_tasks.values()) if not t.done()
        ]
        if pending:
            _, late = await asyncio.wait(pending, timeout=_CLOSE_GRACE)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._client.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- listing ------------------------------------------------------------------

    def _usable_wheels(self, name: NormalizedName, files: list[DistFile]) -> list[DistFile]:
        if _applies(self.no_binary, name):
            return []
        ranked = []
        for file in files:
            if file.kind != "wheel":
                continue
            ranks = [r for r in (self.target.tag_rank(t) for t in file.tags) if r is not None]
            if ranks:
                ranked.append((min(ranks), file.build, file.filename, file))
        ranked.sort(
            key=lambda item: (
                item[0],
                tuple(-x if isinstance(x, int) else 0 for x in item[1]),
                item[2],
            )
        )
        return [item[3] for item in ranked]

    def _sdists(self, name: NormalizedName, files: list[DistFile]) -> list[DistFile]:
        if _applies(self.no_build, name):
            return []
        return sorted(
            (f for f in files if f.kind == "sdist"),
            key=lambda f: (not f.filename.endswith(".tar.gz"), f.filename),
        )

    def _info(self, name: NormalizedName, version: Version, files: list[DistFile]) -> VersionInfo:
        wheels = self._usable_wheels(name, files)
        sdists = self._sdists(name, files)
        chosen = (wheels or sdists or files)[0]
        unusable = None
        if not wheels and not sdists:
            unusable = self._why_unusable(name, files)
        yanked = all(f.yanked for f in files)
        reason = next((f.yanked_reason for f in files if f.yanked_reason), None) if yanked else None
        return VersionInfo(
            version,
            yanked=yanked,
            yanked_reason=reason,
            requires_python=chosen.requires_python,
            unusable=unusable,
        )

    def _why_unusable(self, name: NormalizedName, files: list[DistFile]) -> str:
        has_wheels = any(f.kind == "wheel" for f in files)
        has_sdist = any(f.kind == "sdist" for f in files)
        if has_sdist and _applies(self.no_build, name):
            if has_wheels and not _applies(self.no_binary, name):
                return "has no wheels for the target platform and building from source is disabled"
            return "has only a source distribution and building from source is disabled"
        if has_wheels and _applies(self.no_binary, name):
            return "has only wheels and `--no-binary` is set"
        return "has no wheels for the target platform or Python, and no source distribution"

    def _metadata_file(self, name: NormalizedName, version: Version) -> DistFile | None:
        files = self._files.get(name, {}).get(version)
        if not files:
            return None
        wheels = self._usable_wheels(name, files)
        if wheels:
            return wheels[0]
        sdists = self._sdists(name, files)
        return sdists[0] if sdists else None

    # -- on the loop thread -------------------------------------------------------

    async def _page_files(self, name: NormalizedName) -> list[DistFile] | Unavailable:
        task = self._page_tasks.get(name)
        if task is None:
            task = asyncio.ensure_future(self._fetch_files(name))
            self._page_tasks[name] = task
        return await asyncio.shield(task)

    def _start_page(self, name: NormalizedName) -> None:
        if name not in self._page_tasks:
            self._page_tasks[name] = asyncio.ensure_future(self._fetch_files(name))
            self._page_tasks[name].add_done_callback(_quiet)

    async def _fetch_files(self, name: NormalizedName) -> list[DistFile] | Unavailable:
        found: list[DistFile] = []
        pages = []
        if self.config.strategy == "first-index":
            for index in self.config.index_urls:
                page = await self._fetch_page(index, name)
                if page:
                    pages = [page]
                    break
        else:
            pages = [
                p
                for p in await asyncio.gather(
                    *(self._fetch_page(i, name) for i in self.config.index_urls)
                )
                if p
            ]
        for page in pages:
            found.extend(page)
        found.extend(await self._find_links.files(self._client, name))
        if not found:
            return Unavailable(f"`{name}` was not found in the package registry")
        return found

    async def _fetch_page(self, index: str, name: NormalizedName) -> list[DistFile] | None:
        url = f"{index.rstrip('/')}/{name}/"
        self.requests += 1
        try:
            response = await self._client.get(url, accept=PAGE_ACCEPT)
        except HttpStatusError as error:
            if error.status in (404, 410):
                return None
            raise
        except NotCachedError:
            return None
        page = parse_page(
            response.content,
            url=response.url,
            content_type=response.headers.get("content-type"),
            name=name,
        )
        return list(page.files)

    async def _start_metadata(self, name: NormalizedName, version: Version, file: DistFile) -> None:
        key = (name, version)
        if key not in self._meta_tasks:
            self._meta_tasks[key] = asyncio.ensure_future(self._fetch_metadata(file))
            self._meta_tasks[key].add_done_callback(_quiet)

    async def _metadata(
        self, name: NormalizedName, version: Version, file: DistFile
    ) -> CoreMetadata | Unavailable:
        await self._start_metadata(name, version, file)
        return await asyncio.shield(self._meta_tasks[(name, version)])

    async def _fetch_metadata(self, file: DistFile) -> CoreMetadata | Unavailable:
        self.requests += 1
        if file.kind == "sdist":
            meta = await self._sdist_metadata(file)
        else:
            meta = await self._fetcher.fetch(file)
        if not isinstance(meta, Unavailable):
            # The solver will want the listings of what this version requires.
            for requirement in meta.requires_dist:
                if requirement.marker is None or requirement.marker.evaluate(self._markers):
                    self._start_page(canonicalize_name(requirement.name))
        return meta

    async def _sdist_metadata(self, file: DistFile) -> CoreMetadata | Unavailable:
        """Read an sdist's static ``PKG-INFO`` (PEP 643); dynamic metadata needs a build."""
        try:
            response = await self._client.get(file.url, immutable=file.sha256 is not None)
        except NotCachedError as error:
            return Unavailable(str(error))
        expected = file.sha256
        if expected is not None and hashlib.sha256(response.content).hexdigest() != expected:
            raise IndexDataError(file.url, "the file's sha256 does not match the index")
        pkg_info = pkg_info_from_sdist(response.content, file.filename)
        meta = static_metadata(pkg_info, file.filename) if pkg_info is not None else None
        if meta is None:
            return Unavailable(
                f"`{file.filename}` has no static metadata (PEP 643), and building "
                "sdists for their metadata is not supported yet"
            )
        if meta.name != file.name or meta.version != file.version:
            return Unavailable(f"`{file.filename}` declares `{meta.name}=={meta.version}`")
        return meta


def _quiet(task: asyncio.Task[object]) -> None:
    """Mark a background task's exception as seen; the awaiting caller re-raises it."""
    if not task.cancelled():
        task.exception()
