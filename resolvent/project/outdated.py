"""Which installed packages have newer releases on the index (``pip list --outdated``).

A release counts when an install into this environment could use it: not yanked, a
file for this interpreter and platform, ``requires-python`` admitting the interpreter
(by its lower bound, as resolution reads it), and a final release unless the installed
version is itself a pre-release, as pip and uv report them. Packages installed from a
path or URL (editables included) have no index version to compare with and are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from resolvent.project.install import environment_target
from resolvent.project.resolve import open_cache, open_provider
from resolvent.solver.provider import Unavailable
from resolvent.solver.universe import python_allowed

if TYPE_CHECKING:
    from collections.abc import Iterable

    from packaging.version import Version

    from resolvent.installer.site import InstalledDist
    from resolvent.installer.venv import Venv
    from resolvent.project.resolve import ResolveSettings
    from resolvent.solver.provider import VersionInfo

__all__ = ["Outdated", "outdated_packages"]


@dataclass(frozen=True, slots=True)
class Outdated:
    """An installed package, the newest release it could be upgraded to, and its file type."""

    name: str
    version: Version
    latest: Version
    filetype: str  # "wheel" or "sdist"


def outdated_packages(
    environment: Venv, dists: Iterable[InstalledDist], settings: ResolveSettings
) -> list[Outdated]:
    """Return those of ``dists`` (installed in ``environment``) with a newer usable release."""
    cache = open_cache(settings)
    target = environment_target(environment, cache)
    settings = settings.replace(target=target)
    indexed = [dist for dist in dists if dist.direct_url() is None]
    found: list[Outdated] = []
    with open_provider(settings) as provider:
        provider.prefetch_listings([dist.name for dist in indexed])
        for dist in indexed:
            listing = provider.list_versions(dist.name)
            if isinstance(listing, Unavailable):
                continue
            usable = [
                info.version
                for info in listing
                if _usable(info, target.python_version)
                and (dist.version.is_prerelease or not info.version.is_prerelease)
            ]
            latest = max(usable, default=None)
            if latest is None or latest <= dist.version:
                continue
            file = provider.best_file(dist.name, latest)
            filetype = "wheel" if file is not None and file.kind == "wheel" else "sdist"
            found.append(Outdated(dist.display_name(), dist.version, latest, filetype))
    return found


def _usable(info: VersionInfo, python: Version) -> bool:
    requires = info.requires_python
    return (
        not info.yanked
        and info.unusable is None
        and (requires is None or python_allowed(requires, python))
    )
