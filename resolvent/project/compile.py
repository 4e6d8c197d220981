"""Compiling requirements: inputs in, a certified set of pins out (``pip compile``).

This is the library behind ``resolvent pip compile``: read the inputs, resolve them over
the configured indexes for the target (:mod:`resolvent.project.resolve`), and render the
pins with ``# via`` annotations and, on request, hashes.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Final

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from resolvent.errors import BadInputError
from resolvent.markers import requirement_applies
from resolvent.project.compile_output import AnnotationStyle, PinnedSet, render_pins
from resolvent.project.inputs import read_inputs, read_listed_input
from resolvent.project.resolve import (
    LazyBuilder,
    add_binary_options,
    open_cache,
    open_provider,
    resolve_requirements,
)
from resolvent.solver.provider import Unavailable
from resolvent.solver.universe import base_name
from resolvent.value_class import MutableValue, Value

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from resolvent.index.config import IndexConfig
    from resolvent.index.metadata import CoreMetadata
    from resolvent.index.provider import IndexProvider
    from resolvent.project.requirements_txt import RequirementLine
    from resolvent.project.resolve import ResolveSettings
    from resolvent.solver.crosscheck import Resolution
    from resolvent.solver.result import Solution
    from resolvent.solver.universe import Universe

__all__ = ["CompileRequest", "CompileResult", "compile_requirements"]


class CompileRequest(MutableValue):
    """Everything ``pip compile`` takes beyond the shared resolve settings.

    A :class:`~resolvent.value_class.MutableValue` (it was ``@dataclass(slots=True)``,
    whose generated methods cost every compile a few million instructions at import);
    the fields and their defaults are the parameters of ``__init__``:

    - ``annotation_style``: ``split`` (``# via`` on lines of their own, uv's default)
      or ``line``.
    - ``no_emit``: projects resolved as usual but left out of the output
      (``--no-emit-package``).
    - ``no_deps``: pin the inputs alone; the dependencies of what they name are not read.
    - ``emit_index_url``, ``emit_find_links``: write the indexes (``--index-url``,
      ``--extra-index-url``) and the find-links used into the output, so that
      installing it reads the same sources.
    - ``output_file``: an existing output file whose pins are tried first (unless
      ``upgrade``), so that compiling again changes only what must change, as uv and
      pip-tools do.
    - ``upgrade_packages``: projects whose existing pins are not preferred
      (``--upgrade-package``).
    """

    __slots__ = (
        "all_extras",
        "annotate",
        "annotation_style",
        "command",
        "constraints",
        "emit_find_links",
        "emit_index_url",
        "extras",
        "generate_hashes",
        "header",
        "inputs",
        "no_deps",
        "no_emit",
        "output_file",
        "overrides",
        "settings",
        "upgrade",
        "upgrade_packages",
    )

    def __init__(  # noqa: PLR0917 - the dataclass's signature, kept
        self,
        inputs: Sequence[Path],
        settings: ResolveSettings,
        constraints: Sequence[Path] = (),
        overrides: Sequence[Path] = (),
        extras: Sequence[str] = (),
        all_extras: bool = False,  # noqa: FBT001, FBT002 - the dataclass's signature
        generate_hashes: bool = False,  # noqa: FBT001, FBT002
        annotate: bool = True,  # noqa: FBT001, FBT002
        annotation_style: AnnotationStyle = "split",
        header: bool = True,  # noqa: FBT001, FBT002
        command: str | None = None,
        no_emit: Sequence[str] = (),
        no_deps: bool = False,  # noqa: FBT001, FBT002
        emit_index_url: bool = False,  # noqa: FBT001, FBT002
        emit_find_links: bool = False,  # noqa: FBT001, FBT002
        output_file: Path | None = None,
        upgrade: bool = False,  # noqa: FBT001, FBT002
        upgrade_packages: Sequence[str] = (),
    ) -> None:
        self.inputs = inputs
        self.settings = settings
        self.constraints = constraints
        self.overrides = overrides
        self.extras = extras
        self.all_extras = all_extras
        self.generate_hashes = generate_hashes
        self.annotate = annotate
        self.annotation_style = annotation_style
        self.header = header
        self.command = command
        self.no_emit = no_emit
        self.no_deps = no_deps
        self.emit_index_url = emit_index_url
        self.emit_find_links = emit_find_links
        self.output_file = output_file
        self.upgrade = upgrade
        self.upgrade_packages = upgrade_packages


class CompileResult(MutableValue):
    """The pins, their text and the certified resolution behind them.

    ``warnings`` are about the answer (yanked versions, missing extras), as uv gives
    them; a new empty list when left out. A :class:`~resolvent.value_class.Value`, not
    a ``@dataclass`` (see :class:`~resolvent.project.compile_output.PinnedSet`).
    """

    __slots__ = ("pinned", "resolution", "text", "warnings")

    def __init__(
        self,
        pinned: PinnedSet,
        text: str,
        resolution: Resolution,
        warnings: list[str] | None = None,
    ) -> None:
        self.pinned = pinned
        self.text = text
        self.resolution = resolution
        self.warnings: list[str] = [] if warnings is None else warnings


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
    input_warnings: list[str] = []
    parsed = read_inputs(
        request.inputs, request.extras, all_extras=request.all_extras, warnings=input_warnings
    )
    constraint_lines = list(parsed.constraints)
    override_lines: list[RequirementLine] = []
    for paths, what, into in (
        (request.constraints, "constraints", constraint_lines),
        (request.overrides, "overrides", override_lines),
    ):
        for path in paths:
            part = read_listed_input(path, what)
            into.extend(part.requirements)
            parsed.no_binary.extend(part.no_binary)
            parsed.only_binary.extend(part.only_binary)
    settings = request.settings
    add_binary_options(settings, parsed.no_binary, parsed.only_binary)
    if settings.index_url is None:  # "" given on the command line stays, and is refused
        settings.index_url = parsed.index_url
    if settings.extra_index_urls is None and parsed.extra_index_urls:
        settings.extra_index_urls = parsed.extra_index_urls
    if settings.find_links is None and parsed.find_links:
        settings.find_links = parsed.find_links
    builder = LazyBuilder(settings, open_cache(settings))
    if parsed.projects:
        from resolvent.project.direct import expand_projects  # noqa: PLC0415

        parsed.requirements.extend(expand_projects(parsed.projects, settings, builder))
    with open_provider(settings, builder=builder) as provider:
        roots, direct = _direct_requirements(parsed.requirements, settings, builder, provider)
        constraints = _url_pinned(constraint_lines, direct, settings, builder, provider)
        overrides = _url_pinned(override_lines, direct, settings, builder, provider)
        source: IndexProvider = provider
        if direct or request.no_deps:
            from resolvent.project.direct import DirectOverlay  # noqa: PLC0415

            overlay = DirectOverlay(
                provider, {name: d.metadata for name, d in direct.items()}, no_deps=request.no_deps
            )
            source = overlay  # type: ignore[assignment]  # the same provider protocol
        resolved = resolve_requirements(
            source,
            roots,
            settings,
            constraints=constraints,
            overrides=overrides,
            pre=parsed.pre,
            preferences=_existing_pins(request),
            urls=_named_urls([*parsed.requirements, *constraint_lines, *override_lines]),
        )
        pins = resolved.solution.packages()
        via = _via(resolved.universe, resolved.solution, parsed.requirements, constraint_lines)
        hashes: dict[NormalizedName, list[str]] = {}
        if request.generate_hashes:
            for name, version in pins.items():
                if name in direct:
                    digest = direct[name].sha256
                    hashes[name] = [f"sha256:{digest}"] if digest else []
                    continue
                files = provider.files(name, version)
                hashes[name] = sorted({f"sha256:{provider.sha256_of(f)}" for f in files})
        sources = _emitted_sources(provider.config, request)
    lines = {
        name: f"-e {item.url}" if item.editable else f"{name} @ {item.url}"
        for name, item in direct.items()
    }
    pinned = PinnedSet(pins, via, hashes, lines)
    text = render_pins(
        pinned,
        command=request.command,
        annotate=request.annotate,
        header=request.header,
        style=request.annotation_style,
        omit={canonicalize_name(name) for name in request.no_emit},
        sources=sources,
    )
    return CompileResult(pinned, text, resolved.resolution, input_warnings + resolved.warnings)


def _emitted_sources(config: IndexConfig, request: CompileRequest) -> list[str]:
    """Return the ``--index-url``/``--find-links`` lines the output should carry.

    User names and passwords in a URL are left out: the output is meant to be shared.
    """
    from resolvent.index.config import without_credentials  # noqa: PLC0415

    lines: list[str] = []
    if request.emit_index_url:
        if config.index_url:
            lines.append(f"--index-url {without_credentials(config.index_url)}")
        extra = config.all_extra_index_urls
        lines.extend(f"--extra-index-url {without_credentials(u)}" for u in extra)
    if request.emit_find_links:
        lines.extend(f"--find-links {without_credentials(u)}" for u in config.find_links)
    return lines


class _Direct(Value):
    """A direct input (a path or URL) pinned to its metadata, and how it is written out."""

    __slots__ = ("editable", "metadata", "sha256", "url")

    def __init__(
        self,
        metadata: CoreMetadata,
        url: str,
        sha256: str | None,
        editable: bool,  # noqa: FBT001 - positional, as the dataclass took it
    ) -> None:
        self.metadata: Final = metadata
        self.url: Final = url
        self.sha256: Final = sha256
        self.editable: Final = editable


def _direct_requirements(
    lines: Sequence[RequirementLine],
    settings: ResolveSettings,
    builder: LazyBuilder,
    provider: IndexProvider,
) -> tuple[list[Requirement], dict[NormalizedName, _Direct]]:
    """Return the root requirements, direct ones (paths, URLs) pinned to their metadata.

    :raises BadInputError: a path is missing or no distribution, or needs a forbidden build.
    :raises BuildError: a build backend fails.
    """
    roots: list[Requirement] = []
    direct: dict[NormalizedName, _Direct] = {}
    for line in lines:
        requirement = line.requirement
        if requirement.url is None and line.path is None and not line.editable:
            roots.append(requirement)
            continue
        roots.append(_add_direct(line, direct, settings, builder, provider))
    return roots, direct


def _add_direct(
    line: RequirementLine,
    direct: dict[NormalizedName, _Direct],
    settings: ResolveSettings,
    builder: LazyBuilder,
    provider: IndexProvider,
) -> Requirement:
    """Read a direct requirement's metadata into ``direct``; return it as an exact pin.

    The pin keeps the line's extras and marker; :class:`DirectOverlay` makes the one
    version it names the only one the engines see.

    :raises BadInputError: see :func:`_direct_requirements`, or the project is required
        from two different places.
    """
    from resolvent.project.direct import direct_metadata  # noqa: PLC0415

    requirement = line.requirement
    no_build = settings.builds_forbidden(requirement.name)
    found = direct_metadata(line, no_build=no_build, builder=builder, fetch=provider.download)
    meta = found.metadata
    url = str(line.path) if line.editable and line.path is not None else found.url
    previous = direct.get(meta.name)
    if previous is not None and previous.url != url:
        raise BadInputError(
            f"`{meta.name}` is required from two places: `{previous.url}` and `{url}`"
        )
    direct[meta.name] = _Direct(meta, url, found.sha256, line.editable)
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    marker = f"; {requirement.marker}" if requirement.marker is not None else ""
    return Requirement(f"{meta.name}{extras}=={meta.version}{marker}")


def _url_pinned(
    lines: Sequence[RequirementLine],
    direct: dict[NormalizedName, _Direct],
    settings: ResolveSettings,
    builder: LazyBuilder,
    provider: IndexProvider,
) -> list[Requirement]:
    """Return constraints or overrides, those given as ``name @ URL`` pinned to that URL.

    uv reads ``beta @ URL`` in a constraints or overrides file as "``beta``, if it is
    installed at all, comes from this URL". Such a line has no specifier, so it used to
    constrain nothing while the output credited it. Its distribution's metadata is read
    now (a missing file is an error, as in uv), laid over the index like a direct
    requirement's, and the line becomes ``beta==<its version>``: the engines see that
    one version, and the output pins the URL if ``beta`` is in the answer. A line whose
    marker does not hold for the target says nothing and is left out unread.
    """
    markers = settings.target.markers() | {"extra": ""}
    pinned: list[Requirement] = []
    for line in lines:
        requirement = line.requirement
        if requirement.url is None and line.path is None:
            pinned.append(requirement)
        elif requirement_applies(requirement, markers):
            pinned.append(_add_direct(line, direct, settings, builder, provider))
    return pinned


def _named_urls(lines: Sequence[RequirementLine]) -> dict[NormalizedName, str]:
    """Return the URL each project is named by in the user's own inputs, if any.

    A dependency given as ``name @ URL`` in an index package's metadata is only allowed
    at a URL the user named, as in uv (see :attr:`Options.urls`).
    """
    return {
        canonicalize_name(line.requirement.name): line.requirement.url
        for line in lines
        if line.requirement.url is not None
    }


def _existing_pins(request: CompileRequest) -> dict[NormalizedName, Version]:
    """Return the ``name==version`` pins of the existing output file, to try first.

    Nothing with ``--upgrade``; nothing for ``--upgrade-package`` names. An output file
    that cannot be read as requirements only loses its preferences: it is about to be
    written anew.
    """
    path = request.output_file
    if request.upgrade or path is None or not path.is_file():
        return {}
    from resolvent.project.requirements_txt import parse_requirements_file  # noqa: PLC0415

    try:
        lines = parse_requirements_file(path).requirements
    except BadInputError:
        return {}
    upgraded = {canonicalize_name(name) for name in request.upgrade_packages}
    pins: dict[NormalizedName, Version] = {}
    for line in lines:
        requirement = line.requirement
        specs = list(requirement.specifier)
        name = canonicalize_name(requirement.name)
        if requirement.url or len(specs) != 1 or name in upgraded:
            continue
        (spec,) = specs
        if spec.operator == "==" and not spec.version.endswith(".*"):
            with contextlib.suppress(InvalidVersion):
                pins[name] = Version(spec.version)
    return pins


def _via(
    universe: Universe,
    solution: Solution,
    roots: Sequence[RequirementLine],
    constraints: Sequence[RequirementLine] = (),
) -> dict[NormalizedName, list[str]]:
    """Name, for each pinned project, the projects and input files that require it.

    A constraint file is named (``-c FILE``) for the pinned projects it constrains, as uv
    names it: it shaped their versions.
    """
    via: dict[NormalizedName, set[str]] = {}
    for line in roots:
        if not universe.applies(line.requirement):
            continue
        via.setdefault(canonicalize_name(line.requirement.name), set()).add(f"-r {line.source}")
    pinned = {base_name(key) for key in solution.selected}
    for line in constraints:
        name = canonicalize_name(line.requirement.name)
        if name in pinned and universe.applies(line.requirement):
            via.setdefault(name, set()).add(f"-c {line.source}")
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
