"""Installing requirements is resolve, plan, prepare and link, into one environment at a time.

This is the library behind ``resolvent pip install``, ``pip sync`` and ``pip uninstall``:
read the requirements, resolve them for the environment's own interpreter (preferring
what is already installed, as uv does), compare with the environment
(:mod:`resolvent.installer.plan`), fetch and unpack what the cache lacks
(:mod:`resolvent.installer.prepare`, building sdists and local projects with
:mod:`resolvent.installer.build`), then install each distribution in its own
transaction. The environment is locked for the whole run, so two commands on one venv
take turns, and a run killed at any moment leaves a journal from which the next run
that takes the lock restores what the environment held (see ``environment_lock``).

Example::

    report = install_requirements(InstallRequest(Venv.open(Path(".venv")), settings,
                                                 packages=["demo>=1"]))
    [f"{sign} {name}=={version}" for sign, name, version in report.changes]
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from resolvent.errors import BadInputError, BuildError, InstallError
from resolvent.hashes import sha256_hex
from resolvent.index.filenames import parse_dist_filename
from resolvent.index.metadata import CoreMetadata, parse_core_metadata
from resolvent.index.pages import DistFile
from resolvent.installer.cache import Cache
from resolvent.installer.destination import (
    InstalledFiles,
    SchemeDestination,
    all_or_nothing,
    installed_files,
    recover_staging,
)
from resolvent.installer.install import compile_files, install
from resolvent.installer.link import LinkMode
from resolvent.installer.lock import exclusive_lock
from resolvent.installer.manifest import manifest_path
from resolvent.installer.plan import CachedDist, Plan, Planner, Wanted
from resolvent.installer.prepare import (
    Preparer,
    check_digests,
    expected_digests,
)
from resolvent.installer.site import (
    InstalledDist,
    SitePackages,
    removal_files,
    remove_files,
    removed_before_install,
)
from resolvent.installer.venv import query_interpreter
from resolvent.installer.wheel import UnpackedWheel
from resolvent.markers import requirement_applies
from resolvent.project.direct import (
    DirectOverlay,
    expand_projects,
    forbid_build,
    local_path,
)
from resolvent.project.inputs import read_inputs, read_listed_input
from resolvent.project.requirements_txt import (
    RequirementLine,
    RequirementsFile,
    parse_requirements_text,
)
from resolvent.project.resolve import (
    LazyBuilder,
    add_binary_options,
    open_provider,
    resolve_requirements,
)
from resolvent.target import Target, host_platform
from resolvent.value_class import MutableValue, Value

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from resolvent.installer.build import BuildRequirementsInstaller
    from resolvent.installer.destination import Journal
    from resolvent.installer.install import InstalledDistribution
    from resolvent.installer.speculate import Speculation
    from resolvent.installer.venv import Venv
    from resolvent.project.resolve import ResolveSettings

__all__ = [
    "InstallReport",
    "InstallRequest",
    "build_installer",
    "environment_lock",
    "environment_target",
    "install_requirements",
    "uninstall_packages",
]

_MAX_BUILD_DEPTH = 4
#: Distributions linked at once: their time is system calls, which overlap in the kernel,
#: but a thread per core is enough; more only pass the GIL around (on 2 cores, 4 threads
#: linked seed-ml's 26,000 files slower than 2 in 6 of 8 interleaved runs).
_LINK_THREADS = min(4, max(2, os.cpu_count() or 2))
_build_depth = threading.local()


class InstallRequest(MutableValue):
    """What to install where, and how.

    :param environment: the venv (or interpreter prefix) to install into.
    :param settings: indexes and policies; the target is replaced by the environment's.
    :param packages: requirements given on the command line (specs, paths, URLs).
    :param requirement_files: ``-r`` files (requirements files or ``pyproject.toml``).
    :param editables: ``-e`` project folders.
    :param constraint_files: ``-c`` files.
    :param override_files: ``--override`` files: their requirements replace every
        requirement on the same project, wherever it is made.
    :param exact: make the environment hold exactly the requirements (``pip sync``):
        no dependencies are added and everything else is removed.
    :param no_deps: install the requirements without their dependencies.
    :param reinstall: reinstall every wanted distribution, even when present.
    :param upgrade: do not prefer the installed versions when resolving.
    :param upgrade_packages: do not prefer the installed versions of these projects.
    :param reinstall_packages: reinstall these projects, even when present as wanted.
    :param require_hashes: every requirement must be pinned and carry ``--hash``.
    :param link_mode: how files are placed from the cache.
    :param compile_bytecode: compile the installed ``.py`` files in one batch.
    :param progress: draw progress on stderr.
    :param cache: the cache (default: ``settings.cache_dir`` or the user's).
    :param dry_run: resolve and plan, report what would change, change nothing.
    :param allow_empty: with ``exact``, let inputs that name nothing clear the environment
        (uv's ``--allow-empty-requirements``); otherwise such a sync changes nothing.
    :param speculation: trees of links built while the run resolves, from what the same
        command linked last time (see :mod:`resolvent.installer.speculate`); the run
        records what it linked there. The caller ends it.
    """

    __slots__ = (
        "allow_empty",
        "cache",
        "compile_bytecode",
        "constraint_files",
        "dry_run",
        "editables",
        "environment",
        "exact",
        "link_mode",
        "no_deps",
        "override_files",
        "packages",
        "progress",
        "reinstall",
        "reinstall_packages",
        "require_hashes",
        "requirement_files",
        "settings",
        "speculation",
        "upgrade",
        "upgrade_packages",
    )

    def __init__(  # noqa: PLR0917 -- callers may pass the fields in order
        self,
        environment: Venv,
        settings: ResolveSettings,
        packages: Sequence[str] = (),
        requirement_files: Sequence[Path] = (),
        editables: Sequence[str] = (),
        constraint_files: Sequence[Path] = (),
        override_files: Sequence[Path] = (),
        exact: bool = False,  # noqa: FBT001, FBT002
        no_deps: bool = False,  # noqa: FBT001, FBT002
        reinstall: bool = False,  # noqa: FBT001, FBT002
        upgrade: bool = False,  # noqa: FBT001, FBT002
        upgrade_packages: Sequence[str] = (),
        reinstall_packages: Sequence[str] = (),
        require_hashes: bool = False,  # noqa: FBT001, FBT002
        link_mode: LinkMode = LinkMode.HARDLINK,
        compile_bytecode: bool = False,  # noqa: FBT001, FBT002
        progress: bool = False,  # noqa: FBT001, FBT002
        cache: Cache | None = None,
        dry_run: bool = False,  # noqa: FBT001, FBT002
        allow_empty: bool = False,  # noqa: FBT001, FBT002
        speculation: Speculation | None = None,
    ) -> None:
        self.environment = environment
        self.settings = settings
        self.packages = packages
        self.requirement_files = requirement_files
        self.editables = editables
        self.constraint_files = constraint_files
        self.override_files = override_files
        self.exact = exact
        self.no_deps = no_deps
        self.reinstall = reinstall
        self.upgrade = upgrade
        self.upgrade_packages = upgrade_packages
        self.reinstall_packages = reinstall_packages
        self.require_hashes = require_hashes
        self.link_mode = link_mode
        self.compile_bytecode = compile_bytecode
        self.progress = progress
        self.cache = cache
        self.dry_run = dry_run
        self.allow_empty = allow_empty
        self.speculation = speculation


class InstallReport(MutableValue):
    """What an install did: counts, changes (``+``/``-``, name, version) and timings.

    ``resolution_warnings`` are warnings about the answer itself (yanked versions,
    missing extras), as uv gives them; ``unfinished_check`` is set when the second
    engine's check of the answer ran out of time (see ``Resolution.unfinished_check``);
    in a ``dry_run``, ``changes`` says what would change and ``prepared`` what would be
    downloaded; ``note`` is said instead of the usual summary when nothing was done for
    a reason (uv's words).
    """

    __slots__ = (
        "changes",
        "dry_run",
        "installed",
        "link_mode",
        "note",
        "prepared",
        "removed",
        "resolution_warnings",
        "resolved",
        "timings",
        "unfinished_check",
        "warnings",
    )

    def __init__(  # noqa: PLR0917 -- callers may pass the fields in order
        self,
        resolved: int = 0,
        prepared: int = 0,
        installed: list[InstalledDistribution] | None = None,
        removed: list[InstalledDist] | None = None,
        changes: list[tuple[str, str, str]] | None = None,
        link_mode: LinkMode | None = None,
        timings: dict[str, float] | None = None,
        warnings: list[str] | None = None,
        resolution_warnings: list[str] | None = None,
        unfinished_check: str | None = None,
        dry_run: bool = False,  # noqa: FBT001, FBT002
        note: str | None = None,
    ) -> None:
        self.resolved = resolved
        self.prepared = prepared
        self.installed: list[InstalledDistribution] = [] if installed is None else installed
        self.removed: list[InstalledDist] = [] if removed is None else removed
        self.changes: list[tuple[str, str, str]] = [] if changes is None else changes
        self.link_mode = link_mode
        self.timings: dict[str, float] = {} if timings is None else timings
        self.warnings: list[str] = [] if warnings is None else warnings
        self.resolution_warnings: list[str] = (
            [] if resolution_warnings is None else resolution_warnings
        )
        self.unfinished_check = unfinished_check
        self.dry_run = dry_run
        self.note = note


def environment_target(environment: Venv, cache: Cache | None = None) -> Target:
    """Return the resolution target of ``environment``: its interpreter on this machine.

    With ``cache``, the interpreter's answer is kept there (no subprocess next time).
    """
    info = query_interpreter(
        environment.python, cache_root=cache.root if cache is not None else None
    )
    return Target(Version(info.version_text), host_platform())


@contextlib.contextmanager
def environment_lock(environment: Venv, warnings: list[str]) -> Iterator[None]:
    """Hold the environment's lock: one install or uninstall at a time per environment.

    Once it holds the lock, it finishes what killed runs left: a run killed while it
    changed the environment is rolled back from its journal, so this run starts from a
    whole environment, the one that run started from (see
    :func:`~resolvent.installer.destination.recover_staging`). What it did is added to
    ``warnings``, for the caller to show.
    """
    root = environment.root
    if (root / "pyvenv.cfg").is_file():
        path = root / ".lock"
    else:  # an interpreter outside a venv: rare, so tempfile's import waits until here
        import tempfile  # noqa: PLC0415

        digest = sha256_hex(os.fspath(root).encode())[:16]
        path = Path(tempfile.gettempdir()) / f"resolvent-env-{digest}.lock"
    with exclusive_lock(os.fspath(path)):
        warnings.extend(recover_staging(root))
        yield


# -- reading the inputs -----------------------------------------------------------------


def _read_request(request: InstallRequest, warnings: list[str]) -> RequirementsFile:
    """Read every input of the request; warn of a requirements file that names nothing."""
    merged = RequirementsFile()
    lines = list(request.packages) + [f"-e {e}" for e in request.editables]
    if lines:
        merged.merge(parse_requirements_text("\n".join(lines), "<command line>"))
    merged.merge(read_inputs(request.requirement_files, warnings=warnings))
    for path in request.constraint_files:
        part = read_listed_input(path, "constraints")
        merged.constraints.extend(part.requirements)
        merged.no_binary.extend(part.no_binary)  # uv applies these from `-c` files too
        merged.only_binary.extend(part.only_binary)
    return merged


def _check_hash_mode(lines: Sequence[RequirementLine]) -> None:
    for line in lines:
        requirement = line.requirement
        where = f"`{line.source}` line {line.line}" if line.line else f"`{requirement}`"
        if line.editable:
            raise BadInputError(f"{where}: editable requirements cannot be hash-checked")
        pinned = requirement.url is not None or (
            len(requirement.specifier) == 1
            and next(iter(requirement.specifier)).operator in {"==", "==="}
            and "*" not in str(requirement.specifier)
        )
        if not pinned:
            raise BadInputError(
                f"{where}: `{requirement}` must be pinned with `==` in hash-checking mode"
            )
        if not line.hashes:
            raise BadInputError(
                f"{where}: `{requirement}` has no `--hash` and hashes are required",
                hint="add `--hash=sha256:...` lines (`resolvent pip compile --generate-hashes`)",
            )


# -- direct (URL and path) requirements ---------------------------------------------------


class _Direct(Value):
    """A URL or path requirement, prepared before resolution (its metadata needs it)."""

    __slots__ = ("always_reinstall", "direct_url", "line", "metadata", "tree")

    def __init__(
        self,
        line: RequirementLine,
        tree: Path,
        metadata: CoreMetadata,
        direct_url: dict[str, object],
        always_reinstall: bool,  # noqa: FBT001
    ) -> None:
        self.line: Final = line
        self.tree: Final = tree
        self.metadata: Final = metadata
        self.direct_url: Final = direct_url
        self.always_reinstall: Final = always_reinstall


def _prepare_direct(line: RequirementLine, context: _Context) -> _Direct:
    requirement = line.requirement
    path = local_path(line)
    url = requirement.url or ""
    no_build = context.request.settings.builds_forbidden(requirement.name)
    if no_build and path is not None and path.is_dir():
        raise forbid_build(line, f"the project at `{path}`")
    if no_build and not (path.name if path is not None else url.split("#")[0]).endswith(".whl"):
        raise forbid_build(line, f"`{path.name if path is not None else url}`")
    if path is not None and path.is_dir():
        built = context.builder.build_project(path, editable=line.editable)
        tree = built.tree
        direct_url: dict[str, object] = {"url": path.absolute().as_uri(), "dir_info": {}}
        if line.editable:
            direct_url["dir_info"] = {"editable": True}
        always = True
    else:
        if line.editable:
            raise BadInputError(f"`{requirement}`: only project folders can be editable")
        if path is not None:
            if not path.is_file():
                raise BadInputError(f"`{path}` does not exist")
            file = _local_dist_file(path)
        else:
            file = _remote_dist_file(url)
        (cached,) = context.preparer.prepare([Wanted(file.name, file.version, file=file)])
        tree = cached.tree
        sha256 = file.sha256 if path is not None else None
        user, _ = expected_digests(line.hashes)
        if path is not None and user:
            check_digests(path.name, {"sha256": sha256 or ""}, user, {})
        direct_url = {"url": path.absolute().as_uri() if path is not None else url}
        if sha256 is not None:
            direct_url["archive_info"] = {"hash": f"sha256={sha256}", "hashes": {"sha256": sha256}}
        else:
            direct_url["archive_info"] = {}
        always = False
    source = UnpackedWheel(tree)
    info = source.info
    text = source.read_text(f"{info.dist_info}/METADATA") or ""
    metadata = parse_core_metadata(text.encode(), source=f"{tree}/{info.dist_info}/METADATA")
    if metadata.name != canonicalize_name(requirement.name):
        raise BadInputError(
            f"`{requirement}` names `{requirement.name}`, but the distribution is `{metadata.name}`"
        )
    return _Direct(line, tree, metadata, direct_url, always)


def _url_pinned(
    lines: Sequence[RequirementLine],
    direct: dict[NormalizedName, _Direct],
    context: _Context,
    markers: Mapping[str, str],
) -> list[Requirement]:
    """Return constraints or overrides, those given as ``name @ URL`` pinned to that URL.

    As in uv (and ``pip compile``, see :func:`resolvent.project.compile._url_pinned`):
    the distribution is prepared like a direct requirement and laid over the index, and
    the line becomes ``name==<its version>``; one whose marker does not hold is left out.

    :raises BadInputError: the distribution is missing, or the project is required from
        another URL too.
    """
    pinned: list[Requirement] = []
    for line in lines:
        requirement = line.requirement
        if requirement.url is None and line.path is None:
            pinned.append(requirement)
            continue
        if not requirement_applies(requirement, markers):
            continue
        prepared = _prepare_direct(line, context)
        name = prepared.metadata.name
        previous = direct.get(name)
        if previous is not None and previous.direct_url["url"] != prepared.direct_url["url"]:
            raise BadInputError(
                f"`{name}` is required from two places: `{previous.direct_url['url']}` "
                f"and `{prepared.direct_url['url']}`"
            )
        direct.setdefault(name, prepared)
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        marker = f"; {requirement.marker}" if requirement.marker is not None else ""
        pinned.append(Requirement(f"{name}{extras}=={prepared.metadata.version}{marker}"))
    return pinned


def _local_dist_file(path: Path) -> DistFile:
    from resolvent.index.find_links import local_file  # noqa: PLC0415

    file = local_file(path)
    if file is None:
        raise BadInputError(f"`{path}` is not a wheel or a source distribution")
    return file


def _remote_dist_file(url: str) -> DistFile:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise BadInputError(f"unsupported URL `{url}`")
    filename = parts.path.rsplit("/", 1)[-1]
    parsed = parse_dist_filename(filename)
    if parsed is None:
        raise BadInputError(f"`{url}` does not name a wheel or a source distribution")
    hashes = {}
    algorithm, _, value = parts.fragment.partition("=")
    if algorithm and value:
        hashes[algorithm] = value
    return DistFile(
        filename=filename,
        url=url.split("#", 1)[0],
        hashes=hashes,
        requires_python=None,
        yanked=False,
        yanked_reason=None,
        core_metadata=None,
        upload_time=None,
        size=None,
        kind=parsed.kind,
        name=parsed.name,
        version=parsed.version,
        tags=parsed.tags,
        build=parsed.build,
    )


# -- the flow -----------------------------------------------------------------------------


class _Context(MutableValue):
    __slots__ = ("builder", "cache", "preparer", "request")

    def __init__(
        self, request: InstallRequest, cache: Cache, preparer: Preparer, builder: LazyBuilder
    ) -> None:
        self.request = request
        self.cache = cache
        self.preparer = preparer
        self.builder = builder


def _preferences(
    site: SitePackages,
    roots: Sequence[Requirement],
    direct: Mapping[NormalizedName, object],
    upgrade: Sequence[str] = (),
) -> dict[NormalizedName, Version]:
    """Return the installed versions to try first, as uv keeps them (an order, not a pin).

    A version a root requirement itself rules out is not preferred (nor could it be
    chosen); one that conflicts with something else is passed over by the search, which
    then changes that project alone and keeps every other installed version.
    """
    specs: dict[NormalizedName, list[Requirement]] = {}
    for requirement in roots:
        specs.setdefault(canonicalize_name(requirement.name), []).append(requirement)
    kept: dict[NormalizedName, Version] = {}
    free = {canonicalize_name(name) for name in upgrade}
    for dist in site:
        if dist.name in direct or dist.name in free or dist.direct_url() is not None:
            continue
        if all(
            r.specifier.contains(dist.version, prereleases=True) for r in specs.get(dist.name, ())
        ):
            kept[dist.name] = dist.version
    return kept


def install_requirements(request: InstallRequest) -> InstallReport:
    """Install the request's requirements into its environment; see :class:`InstallRequest`.

    :raises BadInputError: unreadable inputs, or hash-checking mode violations.
    :raises UnsatisfiableError: the requirements have no solution.
    :raises HashMismatchError: a file does not match its expected hash (nothing unpacked).
    :raises InstallError: installing failed; the package being installed was rolled back.
    """
    report = InstallReport()
    started = time.perf_counter()
    parsed = _read_request(request, report.warnings)
    override_lines: list[RequirementLine] = []
    for path in request.override_files:
        part = read_listed_input(path, "overrides")
        override_lines.extend(part.requirements)
        parsed.no_binary.extend(part.no_binary)
        parsed.only_binary.extend(part.only_binary)
    if not parsed.requirements and not parsed.projects:
        if not request.exact and not request.requirement_files:
            raise BadInputError(
                "no requirements given", hint="name packages, or pass `-r requirements.txt`"
            )
        if not request.exact or not request.allow_empty:
            # As uv: empty files install nothing, and sync clears an environment only
            # when told to (a file emptied by mistake must not wipe it).
            if request.exact:
                report.note = (
                    "No requirements found "
                    "(hint: use `--allow-empty-requirements` to clear the environment)"
                )
            report.timings["total"] = time.perf_counter() - started
            return report
    require_hashes = request.require_hashes or parsed.require_hashes
    if require_hashes:
        # A `name @ URL` constraint or override is installed from its URL, as a direct
        # requirement is: it must carry hashes as one does.
        pinned_by_url = [
            line
            for line in (*parsed.constraints, *override_lines)
            if line.requirement.url is not None or line.path is not None
        ]
        _check_hash_mode([*parsed.requirements, *pinned_by_url])
    environment = request.environment
    cache = request.cache or Cache.at(request.settings.cache_dir)
    settings = request.settings.replace(
        target=environment_target(environment, cache),
        build_python=environment.python,
    )
    if settings.index_url is None:  # "" given on the command line stays, and is refused
        settings.index_url = parsed.index_url
    if settings.extra_index_urls is None and parsed.extra_index_urls:
        settings.extra_index_urls = parsed.extra_index_urls
    if settings.find_links is None and parsed.find_links:
        settings.find_links = parsed.find_links
    settings.no_index |= parsed.no_index
    add_binary_options(settings, parsed.no_binary, parsed.only_binary)
    markers = settings.target.markers() | {"extra": ""}
    lines = [
        line
        for line in parsed.requirements
        if line.requirement.marker is None or line.requirement.marker.evaluate(markers)
    ]
    hashes: dict[NormalizedName, frozenset[str]] = {}
    for line in lines:
        if line.hashes:
            name = canonicalize_name(line.requirement.name)
            hashes[name] = hashes.get(name, frozenset()) | frozenset(h.lower() for h in line.hashes)

    with (
        environment_lock(environment, report.warnings),
        Preparer(cache, offline=settings.offline, progress=request.progress) as preparer,
    ):
        # Made on first use: an install of wheels builds nothing.
        builder = LazyBuilder(settings, cache, python=environment.python)
        preparer.builder = builder
        context = _Context(request, cache, preparer, builder)
        site = SitePackages.scan([environment.site_packages, environment.platlib])
        lines.extend(expand_projects(parsed.projects, settings, builder))

        direct: dict[NormalizedName, _Direct] = {}
        roots: list[Requirement] = []
        for line in lines:
            requirement = line.requirement
            if requirement.url is not None or line.path is not None or line.editable:
                prepared = _prepare_direct(line, context)
                direct[prepared.metadata.name] = prepared
                extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
                roots.append(
                    Requirement(f"{prepared.metadata.name}{extras}=={prepared.metadata.version}")
                )
            else:
                roots.append(requirement)
        report.timings["direct"] = time.perf_counter() - started

        # `name @ URL` constraints and overrides pin the project to that distribution,
        # as in uv (see `compile._url_pinned`): prepared like direct requirements.
        constraints = _url_pinned(parsed.constraints, direct, context, markers)
        overrides = _url_pinned(override_lines, direct, context, markers)
        urls = {
            canonicalize_name(line.requirement.name): line.requirement.url
            for line in [*lines, *parsed.constraints, *override_lines]
            if line.requirement.url is not None
        }
        with open_provider(settings, builder=builder) as provider:
            overlay = DirectOverlay(
                provider,
                {name: d.metadata for name, d in direct.items()},
                no_deps=request.no_deps or request.exact,
            )
            resolve_started = time.perf_counter()
            keep = not request.upgrade and not request.exact and len(site)
            resolved = resolve_requirements(
                overlay,  # type: ignore[arg-type]  # the same protocol
                roots,
                settings,
                constraints=constraints,
                overrides=overrides,
                pre=parsed.pre,
                preferences=(
                    _preferences(site, roots, direct, request.upgrade_packages) if keep else None
                ),
                urls=urls,
            )
            report.timings["resolve"] = time.perf_counter() - resolve_started
            report.resolution_warnings = resolved.warnings
            report.unfinished_check = resolved.resolution.unfinished_check
            pins = resolved.solution.packages()
            report.resolved = len(pins)
            requested = {canonicalize_name(r.name) for r in roots}
            wanted: list[Wanted] = []
            for name, version in pins.items():
                item = direct.get(name)
                if item is not None:
                    wanted.append(
                        Wanted(
                            name,
                            version,
                            tree=item.tree,
                            requested=name in requested,  # not a constraint's
                            direct_url=item.direct_url,
                            always_reinstall=item.always_reinstall,
                        )
                    )
                    continue
                file = provider.best_file(name, version)
                if file is None:
                    raise InstallError(f"no installable file for `{name}=={version}`")
                if require_hashes and name not in hashes:
                    raise BadInputError(
                        f"`{name}=={version}` has no `--hash` and hashes are required",
                        hint="list every dependency with its hashes, or pass `--no-deps`",
                    )
                wanted.append(
                    Wanted(
                        name,
                        version,
                        file=file,
                        hashes=hashes.get(name, frozenset()),
                        requested=name in requested,
                    )
                )

        broken = site.broken_names()
        wanted_names = {item.name for item in wanted}
        repair = {name for name in broken if name in wanted_names}
        asked = {canonicalize_name(name) for name in request.reinstall_packages}
        plan = Planner(cache, reinstall=request.reinstall).plan(
            wanted, site, exact=request.exact, force=repair | (asked & wanted_names)
        )
        # Incomplete `.dist-info` folders (a killed run's leftovers): those of wanted
        # projects are replaced by their install; `sync` makes the environment hold
        # exactly its requirements, so it removes the others too (in `_apply`, undone
        # with the rest if the run fails); `install` leaves them alone.
        leftovers: list[Path] = []
        for name, folders in broken.items():
            if name in repair:
                continue
            for folder in folders:
                if request.exact:
                    leftovers.append(folder)
                    done = "would remove" if request.dry_run else "removed"
                    report.warnings.append(f"{done} the incomplete `{folder.name}`")
                else:
                    report.warnings.append(
                        f"`{folder}` is incomplete (no `METADATA` or `RECORD`); it was left alone"
                    )

        if request.dry_run:
            _report_plan(plan, report)
            report.timings["total"] = time.perf_counter() - started
            return report
        prepare_started = time.perf_counter()
        ready = [*plan.cached, *preparer.prepare(plan.remote)]
        report.prepared = len(plan.remote)
        report.timings["prepare"] = time.perf_counter() - prepare_started

        link_started = time.perf_counter()
        replaced = [folder for name in repair for folder in broken[name]] + leftovers
        _apply_repairing(plan, ready=ready, replaced=replaced, context=context, report=report)
        report.timings["link"] = time.perf_counter() - link_started
    report.timings["total"] = time.perf_counter() - started
    return report


def _apply_repairing(
    plan: Plan,
    *,
    ready: Sequence[CachedDist],
    replaced: Sequence[Path],
    context: _Context,
    report: InstallReport,
) -> None:
    """Carry out ``plan`` (see :func:`_apply`), once more after repairing damaged cache entries.

    A failed :func:`_apply` leaves the environment as it was. A cache entry that lost
    files makes every install from it fail the same way, so such entries are unpacked
    anew and the plan tried once more. Only entries unpacked from an index or
    find-links wheel can be unpacked again here; a direct requirement's tree is
    prepared by the next run.
    """
    try:
        _apply(plan, ready=ready, replaced=replaced, context=context, report=report)
    except Exception:
        cache = context.cache
        damaged = [c for c in plan.cached if c.wanted.file is not None and cache.is_damaged(c.tree)]
        if not damaged:
            raise
        for entry in damaged:
            cache.discard(entry.tree)
            report.warnings.append(
                f"the cache entry of `{entry.wanted.name}=={entry.wanted.version}` had "
                "lost files; it was unpacked again"
            )
        repaired = context.preparer.prepare([c.wanted for c in damaged])
        ready = [c for c in ready if c not in damaged] + list(repaired)
        _apply(plan, ready=ready, replaced=replaced, context=context, report=report)


def _sort_changes(report: InstallReport) -> None:
    """Order the ``+``/``-`` lines by project, a removal before its replacement."""
    report.changes.sort(key=lambda change: (change[1], change[0] == "+"))


def _report_plan(plan: Plan, report: InstallReport) -> None:
    """Say what carrying out ``plan`` would change, as the report of a real run says it."""
    report.dry_run = True
    report.prepared = len(plan.remote)
    for dist in (*plan.extraneous, *plan.reinstalls):
        report.changes.append(("-", dist.name, str(dist.version)))
    for wanted in (*(cached.wanted for cached in plan.cached), *plan.remote):
        report.changes.append(("+", wanted.name, str(wanted.version)))
    _sort_changes(report)


def _apply(
    plan: Plan,
    *,
    ready: Sequence[CachedDist],
    replaced: Sequence[Path],
    context: _Context,
    report: InstallReport,
) -> None:
    """Carry out ``plan`` all at once: on any error the environment keeps what it had.

    What can fail before anything changes is checked first (every RECORD of what will be
    removed is read); then removals, the incomplete folders ``replaced`` and the links
    all go through one :class:`Journal`, and if any of them fails, every step already
    taken is undone (removed distributions come back, new ones go) before the error is
    raised. A run killed part way leaves its journal, from which the next run rolls it
    back (see ``environment_lock``).
    """
    request = context.request
    environment = request.environment
    scheme = environment.scheme
    # What a wheel's install does not replace itself (an `.egg-info`, a second copy of a
    # project) is removed first, in the same transaction.
    first = removed_before_install(plan.reinstalls)
    removals = [(dist, removal_files(dist, scheme.root)) for dist in (*plan.extraneous, *first)]
    for dist in plan.reinstalls:
        if dist not in first:
            installed_files(dist.dist_info, scheme.root)  # its install reads it again
    with all_or_nothing(environment.root) as journal:
        outcomes = _apply_steps(ready, removals, replaced, journal, context)
    for dist, _ in removals:
        report.removed.append(dist)
        report.changes.append(("-", dist.name, str(dist.version)))
    reinstalled = {dist.name: dist for dist in plan.reinstalls if dist not in first}
    installed_py: list[str] = []
    for cached, outcome in outcomes:
        wanted = cached.wanted
        report.installed.append(outcome)
        old = reinstalled.get(wanted.name)
        if old is not None:
            report.removed.append(old)
            report.changes.append(("-", old.name, str(old.version)))
        report.changes.append(("+", wanted.name, str(wanted.version)))
        if outcome.link_mode is not request.link_mode or report.link_mode is None:
            report.link_mode = outcome.link_mode
        if request.compile_bytecode:
            dist = InstalledDist(
                canonicalize_name(outcome.name), Version(outcome.version), outcome.dist_info
            )
            installed_py.extend(p for p, _ in dist.record_paths() if p.endswith(".py"))
    if installed_py:
        compile_files(os.fspath(environment.python), installed_py)
    _sort_changes(report)


def _apply_steps(
    ready: Sequence[CachedDist],
    removals: Sequence[tuple[InstalledDist, InstalledFiles]],
    replaced: Sequence[Path],
    journal: Journal,
    context: _Context,
) -> list[tuple[CachedDist, InstalledDistribution]]:
    """Take every step of a plan through ``journal``; raise the first failure.

    The caller rolls the journal back when this raises.
    """
    request = context.request
    environment = request.environment
    for _, files in removals:
        remove_files(files, environment.scheme, journal=journal)
    for folder in replaced:
        journal.remove_tree(os.fspath(folder))

    scheme = environment.scheme  # made once: it joins a dozen paths
    python = os.fspath(environment.python)
    speculation = request.speculation
    if speculation is not None:
        speculation.release(os.fspath(cached.tree) for cached in ready)
    prestaged = None if speculation is None else speculation.take

    def link_one(cached: CachedDist) -> InstalledDistribution:
        wanted = cached.wanted
        destination = SchemeDestination(
            scheme,
            python=python,
            link_mode=request.link_mode,
            journal=journal,
            prestaged=prestaged,
        )
        # The manifest the cache stored when it verified the entry spares re-checking
        # the tree; an entry from before manifests is checked once and gets one.
        source = UnpackedWheel(
            cached.tree, label=wanted.filename, manifest=context.cache.manifest(cached.tree)
        )
        outcome = install(
            source, destination, requested=wanted.requested, direct_url=wanted.direct_url
        )
        if not source.manifest_was_stored:
            with contextlib.suppress(OSError):
                context.cache.store_manifest(cached.tree, source.manifest())
        return outcome

    # One transaction per distribution; they touch disjoint files, and most of their time
    # is system calls (which release the GIL), so a few run at once.
    ordered = sorted(ready, key=lambda c: c.wanted.name)
    results: dict[int, InstalledDistribution] = {}
    failures: list[BaseException] = []
    # Biggest first (by the size of the stored manifest), so the wheel of 12,000 files
    # does not start last and link alone while the other workers idle.
    biggest_first = sorted(ordered, key=_manifest_size, reverse=True)
    pending = iter(biggest_first)
    taking = threading.Lock()

    def work(ended: threading.Event) -> None:
        try:
            while True:
                with taking:
                    # After a failure or a Ctrl+C the run will be rolled back: start
                    # nothing new.
                    cached = None if journal.stopped else next(pending, None)
                if cached is None:
                    return
                try:
                    results[id(cached)] = link_one(cached)
                except BaseException as error:  # noqa: BLE001 -- re-raised by the main thread
                    with taking:
                        failures.append(error)
                        # The run will be rolled back: the other workers need not finish
                        # their packages (their "interrupted" errors come after this one).
                        journal.stop()
        finally:
            ended.set()

    # Plain threads, not concurrent.futures: its import (logging with it) costs a warm
    # install more than this pool's bookkeeping saves.
    events = [threading.Event() for _ in range(min(_LINK_THREADS, len(ordered)))]
    workers = [
        (threading.Thread(target=work, args=(ended,), name=f"resolvent-link-{number}"), ended)
        for number, ended in enumerate(events)
    ]
    try:
        for worker, _ in workers:
            worker.start()
        for worker, _ in workers:
            worker.join()
    except BaseException:  # Ctrl+C while linking: the workers stop before the rollback
        _stop_workers(journal, workers)
        raise
    if failures:
        raise failures[0]
    if speculation is not None:  # a hint for the next run of the command, in link order
        speculation.remember(
            [(os.fspath(c.tree), os.fspath(results[id(c)].dist_info)) for c in biggest_first]
        )
    return [(cached, results[id(cached)]) for cached in ordered]


def _stop_workers(
    journal: Journal, workers: Sequence[tuple[threading.Thread, threading.Event]]
) -> None:
    """Stop the link workers and wait until every one that ran has ended, through any Ctrl+C.

    :meth:`Journal.stop` makes each stop at its next step (its steps are all in the
    journal, which the caller's rollback then undoes) and take no other package. The
    wait does not use ``Thread.join``: on CPython 3.11, a ``join`` that a
    KeyboardInterrupt cut short marks the thread stopped (bpo-45274's handling in
    ``_wait_for_tstate_lock``), so ``is_alive()`` turns False and another ``join``
    returns at once while the thread still runs. The rollback then raced a worker still
    moving files, and the staging folder with the backups was deleted under it. So each
    worker sets an event when it ends, and this polls the events; a short sleep cut by
    a Ctrl+C is simply taken again, and no lock is held across it. A worker that had
    not run yet when the journal was stopped needs no wait: its commit checks the flag
    before its first step.
    """
    while True:
        try:
            journal.stop()
            # ``ident`` is set by a thread before it runs anything.
            pending = [ended for worker, ended in workers if worker.ident is not None]
            while pending:
                time.sleep(0.005)
                pending = [ended for ended in pending if not ended.is_set()]
        except KeyboardInterrupt:
            continue
        return


def _manifest_size(cached: CachedDist) -> int:
    """Return the size of the manifest stored beside ``cached``'s tree (0 if none)."""
    try:
        return os.stat(manifest_path(cached.tree)).st_size  # noqa: PTH116 -- a str path
    except OSError:
        return 0


def build_installer(settings: ResolveSettings, cache: Cache) -> BuildRequirementsInstaller:
    """Return the callback that installs build requirements into a build environment.

    The build environment takes the run's indexes, cache, date limit and binary policy,
    but not its resolution strategy or pre-release mode: those choose the user's
    packages, and `--resolution lowest` applied to `setuptools` picks a release from
    before the interpreter it must run on (uv leaves the build environment at its
    defaults too).
    """

    def install_build_requirements(requirements: Sequence[Requirement], venv: Venv) -> None:
        depth = getattr(_build_depth, "value", 0)
        if depth >= _MAX_BUILD_DEPTH:
            raise BuildError(
                "build requirements nest too deeply (a cycle of source distributions?)"
            )
        _build_depth.value = depth + 1
        try:
            install_requirements(
                InstallRequest(
                    venv,
                    settings.replace(resolution="highest", prerelease=None),
                    packages=[str(r) for r in requirements],
                    cache=cache,
                )
            )
        finally:
            _build_depth.value = depth

    return install_build_requirements


def uninstall_packages(
    environment: Venv,
    names: Sequence[str],
    *,
    dry_run: bool = False,
    warnings: list[str] | None = None,
) -> tuple[list[InstalledDist], list[str]]:
    """Remove the named distributions; return those removed and the names not installed.

    All or nothing: every RECORD is read before anything is removed, and if a removal
    fails, the distributions already removed are put back. With ``dry_run`` the RECORDs
    are read (a removal that would be refused still is) and nothing is removed. What
    the environment's lock found to finish (an interrupted run rolled back) is added to
    ``warnings``.
    """
    missing: list[str] = []
    removals: list[tuple[InstalledDist, InstalledFiles]] = []
    with environment_lock(environment, [] if warnings is None else warnings):
        site = SitePackages.scan([environment.site_packages, environment.platlib])
        scheme = environment.scheme
        for name in dict.fromkeys(canonicalize_name(n) for n in names):
            found = site.all(name)  # a project installed twice goes whole, as in uv
            if not found:
                missing.append(name)
            removals.extend((dist, removal_files(dist, scheme.root)) for dist in found)
        if removals and not dry_run:
            with all_or_nothing(environment.root) as journal:
                for _, files in removals:
                    remove_files(files, scheme, journal=journal)
    return [dist for dist, _ in removals], missing
