"""Warnings about a resolution that succeeded: what uv warns about, worded as uv words it.

A solution can be valid and still not be what its user meant:

- a **yanked** version was chosen (only an ``==`` pin can choose one, PEP 592): the
  index's maintainers asked people not to use it, and the reason they gave is shown;
- an **extra that the chosen version does not have** was asked for (``black[colourama]``):
  the requirement is met, by the project alone, and a typo goes unnoticed unless said;
- a chosen version's metadata has a ``Requires-Dist`` line that even the lenient parser
  (:mod:`resolvent.index.lenient`) could not read: it was left out, so the answer may
  lack a dependency, and the user must know. It is said on every run that chooses the
  version (the list travels with the cached metadata), only for chosen versions (a
  version passed over cannot miss anything in the answer), and ``--quiet`` hides it as
  it hides the others.

All three are warnings, never errors, as in uv (``warning: `name==1.0` is yanked``,
``warning: The package `name==1.0` does not have an extra named `x```).

Where we differ from uv: an extra is taken as existing when the version's metadata
declares it (``Provides-Extra``) *or* when asking for it adds requirements for the
target. Metadata written before ``Provides-Extra`` was required may use an extra in
markers without declaring it; uv warns there, which is a false alarm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from packaging.requirements import InvalidRequirement

from resolvent.requirement_parsing import parse_requirement
from resolvent.solver.provider import Unavailable
from resolvent.solver.universe import base_name

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from packaging.utils import NormalizedName
    from packaging.version import Version

    from resolvent.solver.result import Solution
    from resolvent.solver.universe import Universe

__all__ = ["MetadataSource", "resolution_warnings"]

#: The longest requirement text a warning quotes (metadata is not the user's input).
_SHOWN = 200


class MetadataSource(Protocol):
    """Where the metadata of chosen versions is read from (metadata already read)."""

    def provides_extra(self, name: NormalizedName, version: Version) -> Collection[str] | None:
        """Return the declared extras of one version (``None``: not known)."""
        ...

    def invalid_requirements(self, name: NormalizedName, version: Version) -> Sequence[str]:
        """Return the ``Requires-Dist`` lines of one version that were left out as invalid."""
        ...


def resolution_warnings(
    universe: Universe, solution: Solution, metadata: MetadataSource
) -> list[str]:
    """Return the warnings for a solution, sorted by project.

    Per project: a yanked pick, then missing extras, then invalid requirements.
    """
    warnings: list[tuple[str, int, str]] = []
    for key, version in solution.selected.items():
        name = base_name(key)
        cut = key.find("[")
        if cut < 0:
            info = universe.info(key, version)
            if info is not None and info.yanked:
                reason = f' (reason: "{info.yanked_reason}")' if info.yanked_reason else ""
                warnings.append((name, 0, f"`{name}=={version}` is yanked{reason}"))
            warnings.extend(
                (name, 2, _invalid(name, version, text))
                for text in metadata.invalid_requirements(name, version)
            )
            continue
        extra = key[cut + 1 : -1]
        if not _has_extra(universe, metadata, key, version, extra):
            message = f"The package `{name}=={version}` does not have an extra named `{extra}`"
            warnings.append((name, 1, message))
    return [message for *_, message in sorted(warnings)]


def _invalid(name: str, version: Version, text: str) -> str:
    """Say that a chosen version's requirement ``text`` was left out, and why (one line)."""
    try:
        parse_requirement(text)
    except InvalidRequirement as error:
        reason = f": {str(error).splitlines()[0]}"  # packaging adds the line and a caret
    else:
        reason = ""  # not expected: the line was invalid when the metadata was read
    shown = " ".join(text.split())
    if len(shown) > _SHOWN:
        shown = f"{shown[:_SHOWN]}..."
    return (
        f"`{name}=={version}` declares a requirement that cannot be parsed, "
        f"`{shown}`, which was ignored{reason}"
    )


def _has_extra(
    universe: Universe, metadata: MetadataSource, key: str, version: Version, extra: str
) -> bool:
    """Whether ``extra`` exists for the chosen version (declared, or used by its markers)."""
    name = base_name(key)
    declared = metadata.provides_extra(name, version)
    if declared is None or extra in declared:
        return True  # unknown metadata gives no warning: the warning must be certain
    dependencies = universe.dependencies(key, version)
    if isinstance(dependencies, Unavailable):
        return True
    # Beyond the pin of its own project: another project, or another extra of its own.
    return any(dependency.package != name for dependency in dependencies)
