"""An in-memory provider: a dictionary of projects, versions and requirement strings.

Used by scenario files (through :mod:`resolvent.solver.scenario`), by the property tests'
random universes and by the synthetic benchmark universes. It is a real provider, not a
fake: the engines cannot tell it from an index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from resolvent.solver.provider import Unavailable, VersionInfo

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = ["InMemoryProvider", "Release"]


@dataclass(frozen=True, slots=True)
class Release:
    """One version of a project: its listing entry and its requirements."""

    info: VersionInfo
    requires: tuple[Requirement, ...] = field(default=())


class InMemoryProvider:
    """A provider over releases held in memory.

    Example::

        provider = InMemoryProvider.from_simple({"a": {"1.0": ["b>=2"]}, "b": {"2.0": []}})
    """

    #: Hints would start nothing: everything is in memory (a test's provider that
    #: records them says otherwise).
    takes_hints: bool = False

    def __init__(self, releases: Mapping[str, Iterable[Release]]) -> None:
        self._releases: dict[NormalizedName, dict[Version, Release]] = {}
        for name, items in releases.items():
            table = self._releases.setdefault(canonicalize_name(name), {})
            for release in items:
                table[release.info.version] = release
        self.requests: int = 0

    @classmethod
    def from_simple(cls, table: Mapping[str, Mapping[str, Sequence[str]]]) -> Self:
        """Build a provider from ``{name: {version: [requirement, ...]}}``."""
        return cls(
            {
                name: [
                    Release(VersionInfo(Version(v)), tuple(Requirement(r) for r in reqs))
                    for v, reqs in versions.items()
                ]
                for name, versions in table.items()
            }
        )

    def list_versions(self, name: NormalizedName) -> Sequence[VersionInfo] | Unavailable:
        """Return the listing of a project, or why there is none."""
        table = self._releases.get(name)
        if table is None:
            return Unavailable(f"`{name}` was not found in the package registry")
        return [release.info for release in table.values()]

    def get_requirements(
        self, name: NormalizedName, version: Version
    ) -> Sequence[Requirement] | Unavailable:
        """Return the requirements of one version."""
        self.requests += 1
        release = self._releases.get(name, {}).get(version)
        if release is None:
            return Unavailable(f"no metadata for `{name}=={version}`")
        return release.requires

    def prefetch(self, name: NormalizedName, versions: Sequence[Version]) -> None:
        """Do nothing: everything is already in memory."""

    def prefetch_listings(self, names: Sequence[NormalizedName]) -> None:
        """Do nothing: everything is already in memory."""
