"""An install plan is the difference between what an environment holds and what it should hold.

Installing starts by comparing the two (uv's ``crates/uv-installer/src/plan.rs``): each
wanted distribution is already installed (nothing to do), unpacked in the cache (link
it), or must be fetched or built first; installed distributions in the way are
*reinstalls*, and with an exact sync the ones nobody wants are *extraneous*. Deciding
all of this before touching anything lets downloads start at once and lets a warm
install skip the network entirely.

Example::

    plan = Planner(cache).plan(wanted, SitePackages.scan([venv.site_packages]))
    plan.remote    # what prepare must download or build
    plan.cached    # what link can install right away
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from resolvent.errors import InstallError
from resolvent.hashes import sha256_hex
from resolvent.installer.cache import CacheBucket
from resolvent.value_class import Value

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence
    from pathlib import Path

    from packaging.utils import NormalizedName
    from packaging.version import Version

    from resolvent.index.pages import DistFile
    from resolvent.installer.cache import Cache
    from resolvent.installer.site import InstalledDist, SitePackages

__all__ = ["CachedDist", "Plan", "Planner", "Wanted", "built_tree", "source_key"]


def source_key(url: str) -> str:
    """Name the place a file came from (its URL's folder) for the cache's wheel pointers."""
    folder = url.rsplit("/", 1)[0]
    return "url-" + sha256_hex(folder.encode())[:16]


class Wanted(Value):
    """A distribution the environment should hold, and where it comes from.

    Exactly one of ``file`` (an index or find-links file) and ``tree`` (already unpacked
    in the cache: a direct URL or a local build) is set. ``hashes`` holds the digests
    (``sha256:<hex>``) a lock or ``--hash`` allows; empty means any file the index vouches
    for. ``direct_url`` is the PEP 610 record of a URL or path install.
    """

    unhashed_fields = frozenset({"direct_url"})  # a mapping: compared, not hashed

    __slots__ = (
        "always_reinstall",
        "direct_url",
        "file",
        "hashes",
        "name",
        "requested",
        "tree",
        "version",
    )

    def __init__(  # noqa: PLR0917 -- callers pass the fields in order
        self,
        name: NormalizedName,
        version: Version,
        file: DistFile | None = None,
        tree: Path | None = None,
        hashes: frozenset[str] = frozenset(),
        requested: bool = False,  # noqa: FBT001, FBT002 -- callers pass it in order
        direct_url: Mapping[str, object] | None = None,
        always_reinstall: bool = False,  # noqa: FBT001, FBT002 -- a local folder may change
    ) -> None:
        self.name: Final = name
        self.version: Final = version
        self.file: Final = file
        self.tree: Final = tree
        self.hashes: Final = hashes
        self.requested: Final = requested
        self.direct_url: Final = direct_url
        self.always_reinstall: Final = always_reinstall

    @property
    def label(self) -> str:
        """``name==version``, for messages."""
        return f"{self.name}=={self.version}"

    @property
    def filename(self) -> str:
        """The file the distribution is installed from (for messages and pointers)."""
        if self.file is not None:
            return self.file.filename
        return self.tree.name if self.tree is not None else self.label


class CachedDist(Value):
    """A wanted distribution whose unpacked wheel is in the cache at ``tree``."""

    __slots__ = ("tree", "wanted")

    def __init__(self, wanted: Wanted, tree: Path) -> None:
        self.wanted: Final = wanted
        self.tree: Final = tree


class Plan(Value):
    """What an install must do, as uv plans it.

    :param cached: wanted distributions ready to link from the cache.
    :param remote: wanted distributions to download (and build, for sdists) first.
    :param reinstalls: installed distributions that a wanted one replaces.
    :param extraneous: installed distributions nobody wants (removed by an exact sync).
    :param satisfied: installed distributions that already are what is wanted.
    """

    __slots__ = ("cached", "extraneous", "reinstalls", "remote", "satisfied")

    def __init__(
        self,
        cached: tuple[CachedDist, ...] = (),
        remote: tuple[Wanted, ...] = (),
        reinstalls: tuple[InstalledDist, ...] = (),
        extraneous: tuple[InstalledDist, ...] = (),
        satisfied: tuple[InstalledDist, ...] = (),
    ) -> None:
        self.cached: Final = cached
        self.remote: Final = remote
        self.reinstalls: Final = reinstalls
        self.extraneous: Final = extraneous
        self.satisfied: Final = satisfied

    @property
    def is_empty(self) -> bool:
        """Whether the environment already matches (nothing to install or remove)."""
        return not (self.cached or self.remote or self.reinstalls or self.extraneous)


def _allowed(wanted: Wanted, sha256: str) -> bool:
    return not wanted.hashes or f"sha256:{sha256}" in wanted.hashes


class Planner:
    """Compares wanted distributions with an environment and the cache.

    :param cache: where unpacked wheels (and built wheels of sdists) are looked up.
    :param reinstall: replace every wanted distribution even when installed.
    """

    __slots__ = ("cache", "reinstall")

    def __init__(self, cache: Cache, *, reinstall: bool = False) -> None:
        self.cache = cache
        self.reinstall = reinstall

    def plan(
        self,
        wanted: Sequence[Wanted],
        site: SitePackages,
        *,
        exact: bool = False,
        force: Collection[str] = (),
    ) -> Plan:
        """Return the plan that turns ``site`` into ``wanted`` (and, if ``exact``, only it).

        ``force`` names projects to reinstall even when installed as wanted (their
        install was interrupted, say).
        """
        cached: list[CachedDist] = []
        remote: list[Wanted] = []
        reinstalls: list[InstalledDist] = []
        satisfied: list[InstalledDist] = []
        names = {item.name for item in wanted}
        for item in wanted:
            installed = site.all(item.name)
            if installed:
                # A project installed twice is replaced whole, as uv does: which copy is
                # the one Python imports is not knowable.
                if (
                    len(installed) == 1
                    and item.name not in force
                    and self._satisfies(installed[0], item)
                ):
                    satisfied.append(installed[0])
                    continue
                reinstalls.extend(installed)
            tree = self.find_in_cache(item)
            if tree is None:
                remote.append(item)
            else:
                cached.append(CachedDist(item, tree))
        extraneous = tuple(d for d in site.all_dists() if d.name not in names) if exact else ()
        return Plan(tuple(cached), tuple(remote), tuple(reinstalls), extraneous, tuple(satisfied))

    def _satisfies(self, installed: InstalledDist, item: Wanted) -> bool:
        if self.reinstall or item.always_reinstall or installed.version != item.version:
            return False
        present = installed.direct_url()
        if item.direct_url is None:
            # From an index: any installation of that version from an index will do.
            return present is None
        return present is not None and dict(item.direct_url) == present

    def find_in_cache(self, item: Wanted) -> Path | None:
        """Return the unpacked tree of ``item`` in the cache, if it is there."""
        if item.tree is not None:
            return item.tree
        file = item.file
        if file is None:
            return None
        if file.kind == "sdist":
            if file.sha256 is None or not _allowed(item, file.sha256):
                return None
            return built_tree(self.cache, file.sha256)
        sha256 = file.sha256
        if sha256 is None and not item.hashes:
            sha256 = self.cache.recall(file.filename, source=source_key(file.url))
        if sha256 is None or not _allowed(item, sha256):
            return None
        return self.cache.unpacked(sha256)


def built_tree(cache: Cache, sdist_sha256: str) -> Path | None:
    """Return the unpacked wheel built from the sdist with this hash, if cached."""
    folder = cache.root / CacheBucket.BUILT.value / sdist_sha256.lower()
    try:
        pointers = sorted(folder.glob("*.whl.sha256"))
    except OSError:
        return None
    for pointer in pointers:
        try:
            key = pointer.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        try:
            tree = cache.unpacked(key)
        except InstallError:  # not a digest: a damaged pointer
            continue
        if tree is not None:
            return tree
    return None
