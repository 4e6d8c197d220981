"""Compiling requirements: inputs in, a certified set of pins out (``pip compile``).

This is the library behind ``resolvent pip compile``: read the inputs, resolve them over
the configured indexes for the target (:mod:`resolvent.project.resolve`), and render the
pins with ``# via`` annotations and, on request, hashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, canonicalize_name

from resolvent.errors import BadInputError
from resolvent.project.compile_output import PinnedSet, render_pins
from resolvent.project.inputs import read_input, read_inputs
from resolvent.project.resolve import open_provider, resolve_requirements
from resolvent.solver.provider import Unavailable
from resolvent.solver.universe import base_name

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from resolvent.project.requirements_txt import RequirementLine
    from resolvent.project.resolve import ResolveSettings
    from resolvent.solver.crosscheck import Resolution
    from resolvent.solver.result import Solution
    from resolvent.solver.universe import Universe

__all__ = ["CompileRequest", "CompileResult", "compile_requirements"]


@dataclass(slots=True)
class CompileRequest:
    """Everything ``pip compile`` takes beyond the shared resolve settings."""

    inputs: Sequence[Path]
    settings: ResolveSettings
    constraints: Sequence[Path] = ()
    overrides: Sequence[Path] = ()
    extras: Sequence[str] = ()
    all_extras: bool = False
    generate_hashes: bool = False
    annotate: bool = True
    header: bool = True
    command: str | None = None


@dataclass(slots=True)
class CompileResult:
    """The pins, their text and the certified resolution behind them."""

    pinned: PinnedSet
    text: str
    resolution: Resolution


def compile_requirements(request: CompileRequest) -> CompileResult:
    """Resolve the request's inputs and render the pinned file.

    :raises BadInputError: unreadable or invalid inputs.
    :raises UnsatisfiableError: no solution exists (the message explains why).
    :raises CrossCheckError: the engines disagree or the checker rejects a solution.
    """
    if not request.inputs:
        raise BadInputError(
            "no requirements given", hint="pass a requirements file, `pyproject.toml` or `-`"
        )
    parsed = read_inputs(request.inputs, request.extras, all_extras=request.all_extras)
    constraints = [line.requirement for line in parsed.constraints]
    for path in request.constraints:
        constraints.extend(line.requirement for line in read_input(path).requirements)
    overrides = [
        line.requirement for path in request.overrides for line in read_input(path).requirements
    ]
    settings = request.settings
    settings.index_url = settings.index_url or parsed.index_url
    if settings.extra_index_urls is None and parsed.extra_index_urls:
        settings.extra_index_urls = parsed.extra_index_urls
    if settings.find_links is None and parsed.find_links:
        settings.find_links = parsed.find_links
    with open_provider(settings) as provider:
        resolved = resolve_requirements(
            provider,
            [line.requirement for line in parsed.requirements],
            settings,
            constraints=constraints,
            overrides=overrides,
            pre=parsed.pre,
        )
        pins = resolved.solution.packages()
        via = _via(resolved.universe, resolved.solution, parsed.requirements)
        hashes: dict[NormalizedName, list[str]] = {}
        if request.generate_hashes:
            for name, version in pins.items():
                files = provider.files(name, version)
                hashes[name] = sorted({f"sha256:{f.sha256}" for f in files if f.sha256})
    pinned = PinnedSet(pins, via, hashes)
    text = render_pins(
        pinned, command=request.command, annotate=request.annotate, header=request.header
    )
    return CompileResult(pinned, text, resolved.resolution)


def _via(
    universe: Universe, solution: Solution, roots: Sequence[RequirementLine]
) -> dict[NormalizedName, list[str]]:
    """Name, for each pinned project, the projects and input files that require it."""
    via: dict[NormalizedName, set[str]] = {}
    for line in roots:
        via.setdefault(canonicalize_name(line.requirement.name), set()).add(f"-r {line.source}")
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
