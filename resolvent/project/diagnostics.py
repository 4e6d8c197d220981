"""Warnings about a resolution that succeeded: what uv warns about, worded as uv words it.

A solution can be valid and still not be what its user meant:

- a **yanked** version was chosen (only an ``==`` pin can choose one, PEP 592): the
  index's maintainers asked people not to use it, and the reason they gave is shown;
- an **extra that the chosen version does not have** was asked for (``black[colourama]``):
  the requirement is met, by the project alone, and a typo goes unnoticed unless said.

Both are warnings, never errors, as in uv (``warning: `name==1.0` is yanked``,
``warning: The package `name==1.0` does not have an extra named `x```).

Where we differ from uv: an extra is taken as existing when the version's metadata
declares it (``Provides-Extra``) *or* when asking for it adds requirements for the
target. Metadata written before ``Provides-Extra`` was required may use an extra in
markers without declaring it; uv warns there, which is a false alarm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from resolvent.solver.provider import Unavailable
from resolvent.solver.universe import base_name

if TYPE_CHECKING:
    from collections.abc import Collection

    from packaging.utils import NormalizedName
    from packaging.version import Version

    from resolvent.solver.result import Solution
    from resolvent.solver.universe import Universe

__all__ = ["ExtrasSource", "resolution_warnings"]


class ExtrasSource(Protocol):
    """Where the extras a version declares are read from (metadata already read)."""

    def provides_extra(self, name: NormalizedName, version: Version) -> Collection[str] | None:
        """Return the declared extras of one version (``None``: not known)."""
        ...


def resolution_warnings(universe: Universe, solution: Solution, extras: ExtrasSource) -> list[str]:
    """Return the warnings for a solution, sorted by project: yanked picks, missing extras."""
    warnings: list[tuple[str, int, str]] = []
    for key, version in solution.selected.items():
        name = base_name(key)
        cut = key.find("[")
        if cut < 0:
            info = universe.info(key, version)
            if info is not None and info.yanked:
                reason = f' (reason: "{info.yanked_reason}")' if info.yanked_reason else ""
                warnings.append((name, 0, f"`{name}=={version}` is yanked{reason}"))
            continue
        extra = key[cut + 1 : -1]
        if not _has_extra(universe, extras, key, version, extra):
            message = f"The package `{name}=={version}` does not have an extra named `{extra}`"
            warnings.append((name, 1, message))
    return [message for *_, message in sorted(warnings)]


def _has_extra(
    universe: Universe, extras: ExtrasSource, key: str, version: Version, extra: str
) -> bool:
    """Whether ``extra`` exists for the chosen version (declared, or used by its markers)."""
    name = base_name(key)
    declared = extras.provides_extra(name, version)
    if declared is None or extra in declared:
        return True  # unknown metadata gives no warning: the warning must be certain
    dependencies = universe.dependencies(key, version)
    if isinstance(dependencies, Unavailable):
        return True
    # Beyond the pin of its own project: another project, or another extra of its own.
    return any(dependency.package != name for dependency in dependencies)
