"""The independent checker: it decides whether an assignment satisfies every requirement.

It shares no code with either engine's reasoning. It reads the provider's raw
requirement strings again, evaluates markers with ``packaging.markers`` and tests
versions with ``SpecifierSet.contains`` (not the ``VersionRange`` algebra both engines
use), and checks the universe's candidate rules (yanked, ``requires-python``,
pre-release policy, platform) through the same listing the user would see. A bug in the
shared range algebra or in the universe's edge merging therefore shows up here as a
rejected solution instead of a silently wrong lock.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from resolvent.markers import requirement_applies
from resolvent.solver.provider import Unavailable
from resolvent.solver.universe import ROOT, base_name, package_key

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from packaging.requirements import Requirement
    from packaging.version import Version

    from resolvent.solver.universe import Universe

__all__ = ["check_solution"]


def _extra_of(key: str) -> str | None:
    cut = key.find("[")
    return None if cut < 0 else key[cut + 1 : -1]


def check_solution(universe: Universe, selected: Mapping[str, Version]) -> list[str]:
    """Return every problem with ``selected`` as a solution of ``universe`` (empty: valid).

    Checked: each root requirement is met; each chosen version may be chosen (listed,
    not excluded by policy); each requirement of each chosen version (and of each chosen
    extra) is met by a chosen version; an extra's version equals its project's; nothing
    is chosen that no requirement reaches.

    >>> # check_solution(universe, {"a": Version("1.0")}) -> [] when valid
    """
    problems: list[str] = []
    markers = universe.markers
    reached: set[str] = set()
    queue: deque[tuple[str, Iterable[Requirement]]] = deque()
    queue.append((ROOT, universe.requirements))

    def require(parent: str, requirement: Requirement) -> None:
        name = canonicalize_name(requirement.name)
        chosen = selected.get(name)
        keys = [name, *(package_key(name, e) for e in requirement.extras)]
        who = "the root requirements" if parent == ROOT else f"`{parent}`"
        if chosen is None:
            problems.append(f"{who} require `{requirement}` but no version of `{name}` is chosen")
            return
        if not requirement.specifier.contains(chosen, prereleases=True):
            problems.append(f"{who} require `{requirement}` but `{name}=={chosen}` is chosen")
        for key in keys:
            if key not in selected:
                problems.append(f"{who} require `{requirement}` but `{key}` is not chosen")
            elif key not in reached:
                reached.add(key)
                queue.append((key, ()))

    while queue:
        parent, requirements = queue.popleft()
        if parent != ROOT:
            requirements = _requirements_of(universe, parent, selected[parent], problems)
        env = dict(markers)
        extra = _extra_of(parent)
        for requirement in requirements:
            env["extra"] = extra or ""
            if extra is not None and requirement.marker is None:
                continue  # the base project's own requirement, checked there
            if requirement.marker is not None:
                holds = requirement_applies(requirement, env)
                if extra is not None:
                    # An extra adds only the requirements its marker names.
                    env["extra"] = ""
                    holds = holds and not requirement_applies(requirement, env)
                if not holds:
                    continue
            # A project may require itself: its own version must then meet the
            # specifier, and an extra it names is added at that version.
            require(parent, requirement)
        if extra is not None:
            base = base_name(parent)
            if selected.get(base) != selected[parent]:
                problems.append(
                    f"`{parent}=={selected[parent]}` but `{base}=={selected.get(base)}`"
                )
            elif base not in reached:
                reached.add(base)
                queue.append((base, ()))

    for key, version in sorted(selected.items()):
        if key == ROOT:
            continue
        if key not in reached:
            problems.append(f"`{key}=={version}` is chosen but nothing requires it")
        if version not in universe.versions(key):
            why = universe.excluded(key).get(version, "is not listed by the index")
            problems.append(f"`{key}=={version}` cannot be chosen: it {why}")
    return problems


def _requirements_of(
    universe: Universe, key: str, version: Version, problems: list[str]
) -> Iterable[Requirement]:
    found = universe.provider.get_requirements(base_name(key), version)
    if isinstance(found, Unavailable):
        problems.append(
            f"`{key}=={version}` is chosen but its metadata is unavailable: {found.reason}"
        )
        return ()
    overrides = universe.options.overrides
    if not overrides:
        return found
    result: list[Requirement] = []
    replaced: set[str] = set()
    for requirement in found:
        name = canonicalize_name(requirement.name)
        if name not in overrides:
            result.append(requirement)
        elif name not in replaced:
            replaced.add(name)
            result.extend(overrides[name])
    return result
