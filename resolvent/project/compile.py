"""Compiling requirements: inputs in, a certified set of pins out (``pip compile``).

This is the library behind ``resolvent pip compile``: read the inputs, build the
universe over the configured indexes for the target, resolve with the chosen engines
(certified by the checker and the cross-check), and render the pins with ``# via``
annotations and, on request, hashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from packaging.utils import NormalizedName, canonicalize_name

from resolvent.errors import BadInputError, CrossCheckError, SolverError
from resolvent.project.compile_output import PinnedSet, render_pins
from resolvent.project.inputs import read_input, read_inputs
from resolvent.solver.provider import Unavailable
from resolvent.solver.ranges import from_specifier
from resolvent.solver.result import Solution
from resolvent.solver.universe import Options, Universe, base_name

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime
    from pathlib import Path

    from packaging.requirements import Requirement

    from resolvent.index.provider import BinaryPolicy, IndexProvider
    from resolvent.project.requirements_txt import RequirementLine
    from resolvent.solver.crosscheck import EngineChoice, Resolution
    from resolvent.solver.ranges import VersionRange
    from resolvent.solver.universe import PrereleaseMode, ResolutionMode
    from resolvent.target import Target

__all__ = ["CompileRequest", "CompileResult", "UnsatisfiableError", "compile_requirements"]


class UnsatisfiableError(SolverError):
    """The requirements have no solution; the message is the engines' explanation."""

    def __init__(self, explanation: str) -> None:
        indented = "\n".join(f"  {line}" if line else "" for line in explanation.splitlines())
        super().__init__(f"no solution found when resolving dependencies:\n{indented}")
        self.explanation = explanation


@dataclass(slots=True)
class CompileRequest:
    """Everything ``pip compile`` takes; the defaults are uv's."""

    inputs: Sequence[Path]
    target: Target
    constraints: Sequence[Path] = ()
    overrides: Sequence[Path] = ()
    extras: Sequence[str] = ()
    all_extras: bool = False
    index_url: str | None = None
    extra_index_urls: Sequence[str] | None = None
    find_links: Sequence[str] | None = None
    no_index: bool = False
    index_strategy: str | None = None
    resolution: ResolutionMode = "highest"
    prerelease: PrereleaseMode | None = None
    exclude_newer: datetime | None = None
    generate_hashes: bool = False
    annotate: bool = True
    header: bool = True
    solver: EngineChoice = "auto"
    optimal: bool = False
    no_build: BinaryPolicy = False
    no_binary: BinaryPolicy = False
    offline: bool = False
    refresh: bool = False
    cache_dir: Path | None = None
    command: str | None = None
    clock: Callable[[], float] = field(default=lambda: 0.0)


@dataclass(slots=True)
class CompileResult:
    """The pins, their text and the certified resolution behind them."""

    pinned: PinnedSet
    text: str
    resolution: Resolution


def _by_name(lines: Sequence[RequirementLine]) -> dict[NormalizedName, list[Requirement]]:
    grouped: dict[NormalizedName, list[Requirement]] = {}
    for line in lines:
        grouped.setdefault(canonicalize_name(line.requirement.name), []).append(line.requirement)
    return grouped


def _constraint_ranges(
    lines: Sequence[RequirementLine], markers: dict[str, str]
) -> dict[NormalizedName, VersionRange]:
    ranges: dict[NormalizedName, VersionRange] = {}
    env = markers | {"extra": ""}
    for line in lines:
        requirement = line.requirement
        if requirement.marker is not None and not requirement.marker.evaluate(env):
            continue
        name = canonicalize_name(requirement.name)
        rng = from_specifier(str(requirement.specifier))
        current = ranges.get(name)
        ranges[name] = rng if current is None else current.intersection(rng)
    return ranges


def _open_provider(
    request: CompileRequest,
    index_url: str | None,
    extra: Sequence[str] | None,
    find_links: Sequence[str] | None,
) -> IndexProvider:
    from resolvent.index.config import IndexConfig, resolve_index_config  # noqa: PLC0415
    from resolvent.index.provider import IndexProvider  # noqa: PLC0415
    from resolvent.installer.cache import Cache, CacheBucket  # noqa: PLC0415

    if request.no_index:
        config = IndexConfig(index_url="", find_links=tuple(find_links or ()))
    else:
        config = resolve_index_config(
            index_url=index_url,
            extra_index_urls=extra,
            find_links=find_links,
            strategy=request.index_strategy,
        )
    cache = Cache(request.cache_dir) if request.cache_dir else Cache.default()
    policy: Literal["normal", "offline", "refresh"] = (
        "offline" if request.offline else "refresh" if request.refresh else "normal"
    )
    return IndexProvider(
        config,
        request.target,
        cache_dir=cache.bucket(CacheBucket.HTTP),
        policy=policy,
        exclude_newer=request.exclude_newer,
        no_build=request.no_build,
        no_binary=request.no_binary,
    )


def compile_requirements(request: CompileRequest) -> CompileResult:
    """Resolve the request's inputs and render the pinned file.

    :raises BadInputError: unreadable or invalid inputs.
    :raises UnsatisfiableError: no solution exists (the message explains why).
    :raises CrossCheckError: the engines disagree or the checker rejects a solution.
    """
    from resolvent.solver.crosscheck import resolve  # noqa: PLC0415

    if not request.inputs:
        raise BadInputError(
            "no requirements given", hint="pass a requirements file, `pyproject.toml` or `-`"
        )
    parsed = read_inputs(request.inputs, request.extras, all_extras=request.all_extras)
    constraint_lines = list(parsed.constraints)
    for path in request.constraints:
        constraint_lines.extend(read_input(path).requirements)
    override_lines = []
    for path in request.overrides:
        override_lines.extend(read_input(path).requirements)
    requirements = [line.requirement for line in parsed.requirements]
    markers = request.target.markers()
    prerelease: PrereleaseMode = request.prerelease or (
        "allow" if parsed.pre else "if-necessary-or-explicit"
    )
    options = Options(
        prerelease=prerelease,
        resolution=request.resolution,
        constraints=_constraint_ranges(constraint_lines, markers),
        overrides=_by_name(override_lines),
    )
    provider = _open_provider(
        request,
        request.index_url or parsed.index_url,
        request.extra_index_urls
        if request.extra_index_urls is not None
        else (parsed.extra_index_urls or None),
        request.find_links if request.find_links is not None else (parsed.find_links or None),
    )
    with provider:
        universe = Universe(provider, requirements, markers, request.target.python_version, options)
        resolution = resolve(
            universe, solver=request.solver, optimal=request.optimal, clock=request.clock
        )
        if resolution.problems:
            raise CrossCheckError(
                "the resolution could not be certified:\n"
                + "\n".join(f"  {p}" for p in resolution.problems)
            )
        outcome = resolution.outcome
        if not isinstance(outcome, Solution):
            raise UnsatisfiableError(outcome.explanation)
        pins = outcome.packages()
        via = _via(universe, outcome, parsed.requirements)
        hashes: dict[NormalizedName, list[str]] = {}
        if request.generate_hashes:
            for name, version in pins.items():
                hashes[name] = sorted(
                    {f"sha256:{f.sha256}" for f in provider.files(name, version) if f.sha256}
                )
    pinned = PinnedSet(pins, via, hashes)
    text = render_pins(
        pinned, command=request.command, annotate=request.annotate, header=request.header
    )
    return CompileResult(pinned, text, resolution)


def _via(
    universe: Universe, solution: Solution, roots: Sequence[RequirementLine]
) -> dict[NormalizedName, list[str]]:
    """Name, for each pinned project, the projects and input files that require it."""
    via: dict[NormalizedName, set[str]] = {}
    root_names = {canonicalize_name(line.requirement.name): line.source for line in roots}
    for name, source in root_names.items():
        via.setdefault(name, set()).add(f"-r {source}")
    for key, version in solution.selected.items():
        deps = universe.dependencies(key, version)
        if isinstance(deps, Unavailable):
            continue
        parent = base_name(key)
        for dependency in deps:
            child = base_name(dependency.package)
            if child != parent:
                via.setdefault(child, set()).add(parent)
    return {name: sorted(parents) for name, parents in via.items()}
