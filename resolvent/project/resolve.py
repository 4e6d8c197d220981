"""Resolving requirements against indexes: the step ``pip compile`` and ``pip install`` share.

:class:`ResolveSettings` gathers what every resolving command takes (target, indexes,
policies, engines); :func:`open_provider` builds the index provider for it and
:func:`resolve_requirements` returns a certified solution or raises a user-facing error.

The provider gets a builder for the sdists whose metadata is dynamic (PEP 517, see
:mod:`resolvent.installer.build`), unless ``--no-build`` forbids building altogether;
it is created on first use, so a resolve that builds nothing imports none of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from packaging.utils import NormalizedName, canonicalize_name

from resolvent.errors import BadInputError, CrossCheckError, SolverError
from resolvent.markers import requirement_applies
from resolvent.solver.ranges import from_specifier, intersect_all
from resolvent.solver.result import Solution
from resolvent.solver.universe import Options, Universe
from resolvent.value_class import DataclassLike, MutableValue

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from datetime import datetime
    from pathlib import Path

    from packaging.requirements import Requirement
    from packaging.version import Version

    from resolvent.index.provider import BinaryPolicy, IndexProvider, MetadataBuilder
    from resolvent.installer.build import Builder, BuiltProject
    from resolvent.installer.cache import Cache
    from resolvent.solver.crosscheck import EngineChoice, Resolution
    from resolvent.solver.ranges import VersionRange
    from resolvent.solver.result import Outcome
    from resolvent.solver.universe import PrereleaseMode, ResolutionMode
    from resolvent.target import Target

__all__ = [
    "LazyBuilder",
    "ResolveSettings",
    "Resolved",
    "UnsatisfiableError",
    "add_binary_options",
    "binary_policy",
    "open_cache",
    "open_provider",
    "parse_exclude_newer",
    "resolve_requirements",
]


class UnsatisfiableError(SolverError):
    """The requirements have no solution; the message is the engines' explanation."""

    def __init__(self, explanation: str) -> None:
        indented = "\n".join(f"  {line}" if line else "" for line in explanation.splitlines())
        super().__init__(f"no solution found when resolving dependencies:\n{indented}")
        self.explanation = explanation


def _no_clock() -> float:
    return 0.0


class ResolveSettings(MutableValue, DataclassLike):
    """Where to look and how to choose; the defaults are uv's.

    ``build_python`` is the interpreter that builds sdists for their metadata (default:
    resolvent's own).

    A :class:`~resolvent.value_class.MutableValue`, not a ``@dataclass``: equal and shown
    by its fields, unhashable, as ``@dataclass(slots=True)`` made it, without the
    methods a dataclass compiles from source text when its module is imported (every
    install imports it); ``dataclasses.replace`` and ``fields`` work on it, through
    :class:`~resolvent.value_class.DataclassFields`.
    """

    __slots__ = (
        "build_python",
        "cache_dir",
        "clock",
        "exclude_newer",
        "extra_index_urls",
        "find_links",
        "index_strategy",
        "index_url",
        "no_binary",
        "no_build",
        "no_index",
        "offline",
        "optimal",
        "prerelease",
        "refresh",
        "resolution",
        "solver",
        "target",
    )

    target: Target
    index_url: str | None
    extra_index_urls: Sequence[str] | None
    find_links: Sequence[str] | None
    no_index: bool
    index_strategy: str | None
    resolution: ResolutionMode
    prerelease: PrereleaseMode | None
    exclude_newer: datetime | None
    solver: EngineChoice
    optimal: bool
    no_build: BinaryPolicy
    no_binary: BinaryPolicy
    offline: bool
    refresh: bool
    cache_dir: Path | None
    clock: Callable[[], float]
    build_python: Path | None

    def __init__(  # noqa: PLR0917 - the fields in order, as the dataclass took them
        self,
        target: Target,
        index_url: str | None = None,
        extra_index_urls: Sequence[str] | None = None,
        find_links: Sequence[str] | None = None,
        no_index: bool = False,  # noqa: FBT001, FBT002 - positional, as the dataclass took it
        index_strategy: str | None = None,
        resolution: ResolutionMode = "highest",
        prerelease: PrereleaseMode | None = None,
        exclude_newer: datetime | None = None,
        solver: EngineChoice = "auto",
        optimal: bool = False,  # noqa: FBT001, FBT002 - positional, as the dataclass took it
        no_build: BinaryPolicy = False,  # noqa: FBT002 - positional, as the dataclass took it
        no_binary: BinaryPolicy = False,  # noqa: FBT002 - positional, as the dataclass took it
        offline: bool = False,  # noqa: FBT001, FBT002 - positional, as the dataclass took it
        refresh: bool = False,  # noqa: FBT001, FBT002 - positional, as the dataclass took it
        cache_dir: Path | None = None,
        clock: Callable[[], float] = _no_clock,
        build_python: Path | None = None,
    ) -> None:
        self.target = target
        self.index_url = index_url
        self.extra_index_urls = extra_index_urls
        self.find_links = find_links
        self.no_index = no_index
        self.index_strategy = index_strategy
        self.resolution = resolution
        self.prerelease = prerelease
        self.exclude_newer = exclude_newer
        self.solver = solver
        self.optimal = optimal
        self.no_build = no_build
        self.no_binary = no_binary
        self.offline = offline
        self.refresh = refresh
        self.cache_dir = cache_dir
        self.clock = clock
        self.build_python = build_python

    def builds_forbidden(self, name: str) -> bool:
        """Whether ``--no-build`` (or ``--only-binary``) forbids building project ``name``.

        The policy's names are canonical already (:func:`binary_policy` reads them so).
        """
        policy = self.no_build
        if isinstance(policy, bool):
            return policy
        return canonicalize_name(name) in policy


class Resolved(MutableValue):
    """A certified solution with the universe it solves (for ``# via`` and installs).

    ``warnings`` say what uv would warn about the answer: yanked versions chosen, extras
    that do not exist (a new empty list when left out).
    """

    __slots__ = ("resolution", "solution", "universe", "warnings")

    def __init__(
        self,
        universe: Universe,
        solution: Solution,
        resolution: Resolution,
        warnings: list[str] | None = None,
    ) -> None:
        self.universe = universe
        self.solution = solution
        self.resolution = resolution
        self.warnings: list[str] = [] if warnings is None else warnings


def add_binary_options(
    settings: ResolveSettings, no_binary: Sequence[str], only_binary: Sequence[str]
) -> None:
    """Add an input file's ``--no-binary``/``--only-binary`` values to the settings.

    pip and uv apply these options from requirements files together with the command
    line's: a file that says ``--no-binary :all:`` is meant to be built from source, and
    pinning wheels instead (as when they were read and dropped) is a wrong answer with
    no error. The two sources are joined: what either forbids is forbidden.
    """
    settings.no_binary = binary_policy(no_binary, policy=settings.no_binary)
    settings.no_build = binary_policy(only_binary, policy=settings.no_build)


def parse_exclude_newer(text: str | None) -> datetime | None:
    """Read ``--exclude-newer``: an RFC 3339 timestamp, or a date that counts whole.

    Like uv, a bare date admits the files uploaded during that day: the limit is the
    midnight that ends it. uv takes that midnight in the local time zone; we take it in
    UTC so that the same command resolves identically on every machine (the point of
    the flag).
    """
    if text is None:  # the usual case: no datetime imported
        return None
    from datetime import UTC, datetime, timedelta  # noqa: PLC0415 -- option text only

    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.fromisoformat(value).replace(tzinfo=UTC) + timedelta(days=1)
        parsed = datetime.fromisoformat(value)
    except (ValueError, OverflowError):  # OverflowError: the day after 9999-12-31
        raise BadInputError(
            f"invalid `--exclude-newer` value `{text}`",
            hint="use a date like `2026-01-01` or a timestamp like `2026-01-01T12:00:00Z`",
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def binary_policy(values: Iterable[str], *, policy: BinaryPolicy = False) -> BinaryPolicy:
    """Read ``--no-binary``/``--only-binary`` values in order, joined with ``policy``.

    The one reader of these values, for the command line and for requirements files
    alike, so that both take the same spellings: comma lists (spaces allowed),
    ``:all:``, and ``:none:``, which clears what the values said before it, as in pip
    (not ``policy``: a file's ``:none:`` does not undo the command line). Names come
    out canonical, as the provider and :meth:`ResolveSettings.builds_forbidden` compare
    them; read as typed, ``--no-binary Foo_Bar`` would never name ``foo-bar``.
    ``policy`` is this function's own result (or a bool), so its names are canonical.
    """
    every = False
    names: set[str] = set()
    for value in values:
        for part in value.split(","):
            item = part.strip()
            if item == ":all:":
                every = True
            elif item == ":none:":
                every, names = False, set()
            elif item:
                names.add(canonicalize_name(item))
    if policy is True or every:
        return True
    if not names:
        return policy
    return frozenset(names) | frozenset(policy or ())


def open_cache(settings: ResolveSettings) -> Cache:
    """Return the cache the settings name (``--cache-dir``, else the user's)."""
    from resolvent.installer.cache import Cache  # noqa: PLC0415

    return Cache.at(settings.cache_dir)


class LazyBuilder:
    """A :class:`Builder` made when first needed, for metadata, sdists and local projects.

    Most resolutions and installs build nothing (every version has a wheel); they then
    never import the build machinery, a few dozen milliseconds of a warm install.

    :param python: the interpreter builds run for (default: ``settings.build_python``,
        else this one).
    """

    def __init__(self, settings: ResolveSettings, cache: Cache, python: Path | None = None) -> None:
        self.settings = settings
        self.cache = cache
        self.python = python
        self._builder: Builder | None = None

    def builder(self) -> Builder:
        """Return the builder, creating it on first use."""
        if self._builder is None:
            import sys  # noqa: PLC0415
            from pathlib import Path  # noqa: PLC0415

            from resolvent.installer.build import Builder  # noqa: PLC0415 - only builds need it
            from resolvent.project.install import build_installer  # noqa: PLC0415 - a cycle

            python = self.python or self.settings.build_python or Path(sys.executable)
            self._builder = Builder(
                self.cache,
                python=python,
                install=build_installer(self.settings, self.cache),
                retry_failed=self.settings.refresh,
            )
        return self._builder

    def sdist_metadata(self, sdist: Path, sha256: str) -> bytes:
        """See :meth:`resolvent.installer.build.Builder.sdist_metadata`."""
        return self.builder().sdist_metadata(sdist, sha256)

    def build_sdist(self, sdist: Path, sha256: str) -> Path:
        """See :meth:`resolvent.installer.build.Builder.build_sdist`."""
        return self.builder().build_sdist(sdist, sha256)

    def build_project(self, folder: Path, *, editable: bool = False) -> BuiltProject:
        """See :meth:`resolvent.installer.build.Builder.build_project`."""
        return self.builder().build_project(folder, editable=editable)


def open_provider(
    settings: ResolveSettings, *, builder: MetadataBuilder | None = None
) -> IndexProvider:
    """Build the index provider the settings describe (close it when done).

    :param builder: prepares dynamic sdists' metadata (default: a builder for
        ``settings.build_python`` over the settings' cache); never used with
        ``--no-build``.
    """
    from resolvent.index.config import IndexConfig, resolve_index_config  # noqa: PLC0415
    from resolvent.index.provider import IndexProvider  # noqa: PLC0415
    from resolvent.installer.cache import CacheBucket  # noqa: PLC0415

    cache = open_cache(settings)
    http_cache = cache.bucket(CacheBucket.HTTP)
    if settings.no_index:
        config = IndexConfig(index_url="", find_links=tuple(settings.find_links or ()))
    else:
        config = resolve_index_config(
            index_url=settings.index_url,
            extra_index_urls=settings.extra_index_urls,
            find_links=settings.find_links,
            strategy=settings.index_strategy,
            # pip's configuration, remembered while its files are unchanged (~100 ms).
            cache_dir=None if settings.refresh else http_cache,
        )
    policy: Literal["normal", "offline", "refresh"] = (
        "offline" if settings.offline else "refresh" if settings.refresh else "normal"
    )
    if settings.no_build is True:
        builder = None
    elif builder is None:
        builder = LazyBuilder(settings, cache)
    return IndexProvider(
        config,
        settings.target,
        cache_dir=http_cache,
        policy=policy,
        exclude_newer=settings.exclude_newer,
        no_build=settings.no_build,
        no_binary=settings.no_binary,
        builder=builder,
    )


def _constraint_ranges(
    constraints: Sequence[Requirement], markers: dict[str, str]
) -> dict[NormalizedName, VersionRange]:
    ranges: dict[NormalizedName, list[VersionRange]] = {}
    env = markers | {"extra": ""}
    for requirement in constraints:
        if not requirement_applies(requirement, env):
            continue
        name = canonicalize_name(requirement.name)
        ranges.setdefault(name, []).append(from_specifier(str(requirement.specifier)))
    # Folded as a balanced tree: 5,000 `!=` lines on one project cost O(n^2) left to right.
    return {name: intersect_all(found) for name, found in ranges.items()}


def _by_name(requirements: Sequence[Requirement]) -> dict[NormalizedName, list[Requirement]]:
    grouped: dict[NormalizedName, list[Requirement]] = {}
    for requirement in requirements:
        grouped.setdefault(canonicalize_name(requirement.name), []).append(requirement)
    return grouped


def _passed_over(
    universe: Universe, outcome: Outcome, skipped: Iterable[tuple[NormalizedName, Version]]
) -> list[tuple[NormalizedName, Version]]:
    """Return the skipped versions the answer should have had, in the order given.

    Those are the ones better (in preference order) than the version the answer chose
    for their project, or every skipped version the engines asked for when there is no
    answer.
    """
    chosen = outcome.packages() if isinstance(outcome, Solution) else None
    passed: list[tuple[NormalizedName, Version]] = []
    for name, version in skipped:
        if not universe.asked(name, version):
            continue
        if chosen is None:
            passed.append((name, version))
            continue
        picked = chosen.get(name)
        if picked is None or picked == version:
            continue
        order = universe.versions(name)
        if version in order and picked in order and order.index(version) < order.index(picked):
            passed.append((name, version))
    return passed


def _bound_to_fail(universe: Universe) -> Callable[[NormalizedName, Version], bool]:
    """Return the test of a failed build that :func:`_check_builds` would raise anyway.

    A failed build of the best version of a project the user requires directly can only
    end in that error: every answer chooses the project at a worse version, or there is
    no answer. Stopping at once saves the search (and the builds) that would follow:
    a Django set resolved lowest-direct once made 237 failing builds before saying so.
    """

    def bound(name: NormalizedName, version: Version) -> bool:
        return universe.is_direct(name) and universe.versions(name)[:1] == (version,)

    return bound


def _check_builds(provider: IndexProvider, universe: Universe, outcome: Outcome) -> None:
    """Stop with a build failure the answer walked past, as uv and pip stop at any.

    An sdist whose metadata build fails is unavailable to the engines, which go on. uv
    (and pip since 21.3) stop at the first failed build instead, so that a broken
    build is never silently answered with an older release. That is kept where it
    matters: the resolution fails with the build error when the answer settled on a
    version worse (in preference order) than one that failed to build, or when there
    is no answer. A failure met only while exploring (an answer that prefers what it
    chose to what failed) does not stop it.

    :raises BuildError: the answer depends on versions below a failed build, or none exists.
    """
    failures = provider.build_failures
    passed = _passed_over(universe, outcome, list(failures))
    if passed:
        raise failures[passed[0]]


def resolve_requirements(
    provider: IndexProvider,
    requirements: Sequence[Requirement],
    settings: ResolveSettings,
    *,
    constraints: Sequence[Requirement] = (),
    overrides: Sequence[Requirement] = (),
    pre: bool = False,
    preferences: Mapping[NormalizedName, Version] | None = None,
    urls: Mapping[NormalizedName, str] | None = None,
) -> Resolved:
    """Resolve ``requirements`` for the settings' target and certify the answer.

    :param pre: the inputs asked for pre-releases (``--pre`` in a requirements file).
    :param preferences: versions to try first (an existing output file's pins).
    :param urls: the URLs the user's own inputs name projects by (see :attr:`Options.urls`).
    :raises UnsatisfiableError: no solution exists (the message explains why).
    :raises CrossCheckError: the engines disagree or the checker rejects a solution.
    """
    from resolvent.solver.crosscheck import resolve  # noqa: PLC0415

    markers = settings.target.markers()
    prerelease: PrereleaseMode = settings.prerelease or (
        "allow" if pre else "if-necessary-or-explicit"
    )
    options = Options(
        prerelease=prerelease,
        resolution=settings.resolution,
        constraints=_constraint_ranges(constraints, markers),
        overrides=_by_name(overrides),
        preferences=preferences or {},
        urls=urls or {},
    )

    def new_universe() -> Universe:
        return Universe(provider, requirements, markers, settings.target.python_version, options)

    # In ``auto`` mode the SAT engine explores (see ``Universe.exploring``): the sdist
    # builds its search would start are put off, and those versions are unavailable to
    # it. When its answer passed over some of them (versions better than the ones it
    # chose for their projects), those builds are made and the resolution runs again.
    while True:
        final = new_universe()
        provider.stop_at = _bound_to_fail(final)
        resolution = resolve(
            final, solver=settings.solver, optimal=settings.optimal, clock=settings.clock
        )
        if resolution.outcome.engine != "sat":
            break  # PubGrub answered: it builds what its newest-first search meets
        passed = _passed_over(final, resolution.outcome, provider.deferred_builds)
        if not provider.build_deferred(passed):
            break
    _check_builds(provider, final, resolution.outcome)
    if resolution.problems:
        raise CrossCheckError(
            "the resolution could not be certified:\n"
            + "\n".join(f"  {p}" for p in resolution.problems)
        )
    outcome = resolution.outcome
    if not isinstance(outcome, Solution):
        raise UnsatisfiableError(outcome.explanation)
    from resolvent.project.diagnostics import resolution_warnings  # noqa: PLC0415

    return Resolved(final, outcome, resolution, resolution_warnings(final, outcome, provider))
