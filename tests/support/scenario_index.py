"""Turn a resolver scenario into real distributions in a folder an index can serve.

Every version becomes the wheels its ``wheel_tags`` name (one wheel per tag set,
``py3-none-any`` by default) and an sdist unless ``sdist = false``; yanked versions get
the ``.yanked`` sidecar the index server reads. Requirements, extras and
``requires-python`` go into the metadata exactly as the scenario states them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.support.dists import Dist, build_sdist, build_wheel
from tests.support.index import yank

if TYPE_CHECKING:
    from pathlib import Path

    from resolvent.solver.scenario import Scenario

__all__ = ["materialize"]


def materialize(scenario: Scenario, folder: Path, *, raw_tags: dict[str, list[str]]) -> None:
    """Write every distribution of ``scenario`` into ``folder``.

    ``raw_tags`` maps ``name==version`` to the scenario's tag strings (the parsed
    scenario keeps them as tag sets, but a wheel file name needs the compressed text).
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name, versions in scenario.packages.items():
        for item in versions:
            base = Dist(
                name=name,
                version=str(item.version),
                requires=[str(r) for r in item.requires],
                extras={extra: [str(r) for r in reqs] for extra, reqs in item.extras.items()},
                requires_python=str(item.requires_python) if item.requires_python else None,
            )
            files: list[Path] = []
            if item.wheel:
                tags = raw_tags.get(f"{name}=={item.version}", ["py3-none-any"])
                files.extend(build_wheel(folder, _with_tag(base, tag)) for tag in tags)
            if item.sdist:
                files.append(build_sdist(folder, base))
            if item.yanked:
                for file in files:
                    yank(file)


def _with_tag(dist: Dist, tag: str) -> Dist:
    return Dist(
        name=dist.name,
        version=dist.version,
        requires=dist.requires,
        extras=dist.extras,
        requires_python=dist.requires_python,
        tag=tag,
    )
