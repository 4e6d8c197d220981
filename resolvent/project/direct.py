"""Direct requirements: local wheels, sdists and project folders, and URLs, as resolution sees them.

A requirement such as ``./dist/demo-1.0.tar.gz``, ``./some/project`` or
``demo @ file:///.../demo-1.0-py3-none-any.whl`` names one distribution, not a range of
an index's versions. Resolution needs its metadata first: a wheel's ``METADATA``, an
sdist's static ``PKG-INFO`` (PEP 643) or else what its build backend prepares
(:meth:`~resolvent.installer.build.Builder.sdist_metadata`), a project folder's
backend's answer. :class:`DirectOverlay` then lays those versions over the index
provider, so that the solver sees exactly one version of each such project.

``pip compile`` uses :func:`direct_metadata`; ``pip install`` builds or unpacks the
distribution anyway and reads the metadata from the result.

Example::

    found = direct_metadata(line, no_build=False, builder=lazy_builder, fetch=provider.download)
    f"{found.metadata.name} @ {found.url}"
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol
from urllib.parse import unquote, urlsplit

from resolvent.errors import BadInputError, IndexDataError
from resolvent.markers import requirement_applies
from resolvent.project.requirements_txt import check_requirement_url
from resolvent.solver.provider import Unavailable, VersionInfo
from resolvent.value_class import Value

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence

    from packaging.requirements import Requirement
    from packaging.utils import NormalizedName
    from packaging.version import Version

    from resolvent.errors import BuildError
    from resolvent.index.metadata import CoreMetadata
    from resolvent.index.provider import IndexProvider
    from resolvent.installer.build import Builder
    from resolvent.project.requirements_txt import ProjectInput, RequirementLine
    from resolvent.project.resolve import ResolveSettings

__all__ = [
    "DirectMetadata",
    "DirectOverlay",
    "direct_metadata",
    "forbid_build",
    "local_path",
]

_MAX_METADATA = 16 << 20


class _BuilderSource(Protocol):
    def builder(self) -> Builder:
        """Return the builder (created on first use)."""
        ...


class DirectMetadata(Value):
    """A direct requirement's metadata, the URL to pin it by, and its archive's sha256.

    A :class:`~resolvent.value_class.Value`, not a ``@dataclass``: equal, hashed and shown
    by its fields alike, without the methods a dataclass compiles from source text when
    its module is imported (every install imports it).
    """

    __slots__ = ("metadata", "sha256", "url")

    def __init__(self, metadata: CoreMetadata, url: str, sha256: str | None) -> None:
        self.metadata: Final = metadata
        self.url: Final = url
        self.sha256: Final = sha256


def local_path(line: RequirementLine) -> Path | None:
    """Return the local path a requirement names (a path, or a ``file:`` URL), if any.

    :raises BadInputError: the requirement's URL is malformed.
    """
    if line.path is not None:
        return line.path
    check_requirement_url(line)
    url = line.requirement.url or ""
    if urlsplit(url).scheme == "file":
        from resolvent.installer.prepare import file_url_path  # noqa: PLC0415

        return Path(file_url_path(url))
    return None


def forbid_build(line: RequirementLine, what: str) -> BadInputError:
    """Return the error for a direct requirement that must be built under ``--no-build``."""
    return BadInputError(
        f"building source distributions is disabled, but `{line.requirement.name}` "
        f"({what}) must be built",
        hint="give a wheel instead, or allow building it (drop `--no-build`/`--only-binary`)",
    )


def project_requirements(
    project: ProjectInput,
    markers: Mapping[str, str],
    *,
    no_build: bool,
    builder: _BuilderSource | None,
) -> list[RequirementLine]:
    """Return the requirements of a project input from its built metadata, as uv does.

    The backend's ``Requires-Dist`` holds the base requirements and every extra's
    (``; extra == "test"``). The base ones and those of the asked extras whose markers
    hold for the target are returned, their markers settled (they are roots now, with no
    extra to evaluate against); an extra that requires another extra of the project
    itself (``proj[all]`` naming ``proj[test]``) brings that one's in too.

    :param markers: the target environment's marker values.
    :raises BadInputError: building is forbidden, or an asked extra does not exist.
    :raises BuildError: the backend fails.
    """
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    from resolvent.index.metadata import parse_core_metadata  # noqa: PLC0415
    from resolvent.project.requirements_txt import RequirementLine  # noqa: PLC0415
    from resolvent.requirement_parsing import parse_requirement  # noqa: PLC0415

    if no_build or builder is None:
        raise BadInputError(
            f"building is disabled, but the requirements of `{project.source}` are only "
            "known by building its metadata",
            hint="allow building (drop `--no-build`), or compile a requirements file",
        )
    source = f"the metadata of `{project.folder}`"
    try:
        data = builder.builder().project_metadata(project.folder)
        meta = parse_core_metadata(data, source=source)
    except IndexDataError as error:
        raise BadInputError(f"{source} is invalid: {error.problem}") from None
    declared = set(meta.provides_extra)
    asked = (
        sorted(declared) if project.all_extras else [canonicalize_name(e) for e in project.extras]
    )
    for name in asked:
        if name not in declared:
            raise BadInputError(f"`{project.source}` has no optional dependencies named `{name}`")
    pending: list[str] = ["", *asked]
    seen = set(pending)
    kept: dict[str, None] = {}
    while pending:
        extra = pending.pop(0)
        environment = {**markers, "extra": extra}
        for requirement in meta.requires_dist:
            marker = requirement.marker
            if marker is None and extra:
                continue  # a base requirement: taken with extra ""
            if marker is not None and not requirement_applies(requirement, environment):
                continue
            if canonicalize_name(requirement.name) == meta.name:
                for more in sorted(map(canonicalize_name, requirement.extras)):
                    if more not in seen:
                        seen.add(more)
                        pending.append(more)
                continue
            extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
            if requirement.url is not None:
                kept[f"{requirement.name}{extras} @ {requirement.url}"] = None
            else:
                kept[f"{requirement.name}{extras}{requirement.specifier}"] = None
    return [RequirementLine(parse_requirement(text), project.source, 0) for text in kept]


def expand_projects(
    projects: Sequence[ProjectInput], settings: ResolveSettings, builder: _BuilderSource
) -> list[RequirementLine]:
    """Return the requirements of every project input, for the settings' target.

    ``pip compile`` and ``pip install -r`` both read them so (see :func:`project_requirements`).
    """
    markers = settings.target.markers()
    forbidden = settings.no_build is True
    return [
        line
        for project in projects
        for line in project_requirements(project, markers, no_build=forbidden, builder=builder)
    ]


def _wheel_metadata(path: Path) -> bytes:
    # Only direct wheel requirements read this; every install imports this module.
    import zipfile  # noqa: PLC0415

    try:
        with zipfile.ZipFile(path) as archive:
            names = [
                n
                for n in archive.namelist()
                if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
            ]
            if len(names) != 1:
                raise BadInputError(f"`{path.name}` has no single `.dist-info/METADATA`")
            info = archive.getinfo(names[0])
            if info.file_size > _MAX_METADATA:
                raise BadInputError(f"`{path.name}` has an oversized `METADATA`")
            return archive.read(info)
    except (OSError, zipfile.BadZipFile) as error:
        raise BadInputError(f"cannot read the wheel `{path.name}`: {error}") from None


def _download(url: str, folder: Path, fetch: Callable[[str], bytes]) -> Path:
    """Save the file at ``url`` in ``folder`` under its own name, and return its path.

    The name is the URL's last segment, unquoted, so the URL decides it: ``.`` and
    ``..`` are folders, and ``%00`` (a NUL) made ``open`` raise ``ValueError``, a
    traceback; a control character names no distribution anyway. uv refuses such
    URLs before any download, as this does.
    """
    filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if (
        filename in {"", ".", ".."}
        or "/" in filename
        or any(ord(char) < 0x20 or char == "\x7f" for char in filename)
    ):
        raise BadInputError(f"`{url}` does not name a file")
    target = folder / filename
    target.write_bytes(fetch(url.split("#", 1)[0]))
    return target


def direct_metadata(
    line: RequirementLine,
    *,
    no_build: bool,
    builder: _BuilderSource | None,
    fetch: Callable[[str], bytes] | None = None,
) -> DirectMetadata:
    """Return the metadata of the one distribution a direct requirement names.

    :param no_build: building is forbidden for this project (``--no-build``).
    :param fetch: downloads an http(s) URL (the index client's
        :meth:`~resolvent.index.provider.IndexProvider.download`); ``None``: only local
        paths are possible.
    :param builder: builds sdists and projects (``None``: building is impossible).
    :raises BadInputError: the path does not exist or is no distribution, the
        distribution is another project, or it needs a build that is forbidden.
    :raises BuildError: its build backend fails.
    """
    import tempfile  # noqa: PLC0415 -- as the readers below: only direct references use it

    from resolvent.index.metadata import parse_core_metadata  # noqa: PLC0415
    from resolvent.index.sdist_metadata import (  # noqa: PLC0415
        pkg_info_from_sdist,
        static_metadata,
    )

    requirement = line.requirement
    path = local_path(line)
    url = requirement.url or (path.absolute().as_uri() if path is not None else "")
    with tempfile.TemporaryDirectory(prefix="resolvent-direct-") as scratch:
        if path is None:
            if urlsplit(url).scheme not in {"http", "https"} or fetch is None:
                raise BadInputError(f"unsupported URL `{url}` in `{requirement}`")
            path = _download(url, Path(scratch), fetch)
        elif not path.exists():
            raise BadInputError(f"`{path}` does not exist")
        sha256: str | None = None
        if path.is_dir():
            if no_build or builder is None:
                raise forbid_build(line, f"the project at `{path}`")
            data = builder.builder().project_metadata(path)
            source = f"the metadata of `{path}`"
        else:
            sha256 = _checked_sha256(path, line.hashes, url)
            if path.name.endswith(".whl"):
                data = _wheel_metadata(path)
            elif path.name.endswith((".tar.gz", ".zip")):
                pkg_info = pkg_info_from_sdist(path.read_bytes(), path.name)
                static = static_metadata(pkg_info, path.name) if pkg_info is not None else None
                if static is not None:
                    return _checked(line, DirectMetadata(static, url, sha256))
                if no_build or builder is None:
                    raise forbid_build(line, f"`{path.name}`")
                data = builder.builder().sdist_metadata(path, sha256)
            else:
                raise BadInputError(f"`{path}` is not a wheel, a source distribution or a folder")
            source = f"the metadata of `{path.name}`"
    try:
        meta = parse_core_metadata(data, source=source)
    except IndexDataError as error:
        raise BadInputError(f"{source} is invalid: {error.problem}") from None
    return _checked(line, DirectMetadata(meta, url, sha256))


def _checked_sha256(path: Path, hashes: Sequence[str], url: str) -> str:
    """Check the file against ``--hash`` and the URL's ``#<alg>=`` fragment; return its sha256.

    The same rules as installing (:func:`~resolvent.installer.prepare.expected_digests`):
    every algorithm the user may pin is checked, not only sha256, which let a file
    pinned by sha384 or sha512 alone pass unchecked.

    :raises BadInputError: a ``--hash`` value is malformed or of an unsupported algorithm.
    :raises HashMismatchError: the file matches none of the user's digests, or not the URL's.
    """
    from resolvent.installer.prepare import (  # noqa: PLC0415 - heavy; direct files only
        check_digests,
        expected_digests,
        file_digests,
    )

    algorithm, _, value = urlsplit(url).fragment.partition("=")
    user, stated = expected_digests(hashes, {algorithm: value})  # it drops what it can't check
    digests = file_digests(path, user, stated)
    check_digests(path.name, digests, user, stated)
    return digests["sha256"]


def _checked(line: RequirementLine, found: DirectMetadata) -> DirectMetadata:
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    requirement = line.requirement
    if found.metadata.name != canonicalize_name(requirement.name):
        raise BadInputError(
            f"`{requirement}` names `{requirement.name}`, "
            f"but the distribution is `{found.metadata.name}`"
        )
    return found


class DirectOverlay:
    """The index provider, with direct requirements' metadata and ``--no-deps`` laid over it."""

    def __init__(
        self, inner: IndexProvider, direct: Mapping[NormalizedName, CoreMetadata], *, no_deps: bool
    ) -> None:
        self.inner = inner
        self.direct = direct
        self.no_deps = no_deps

    @property
    def build_failures(self) -> dict[tuple[NormalizedName, Version], BuildError]:
        """Return the index provider's failed sdist builds (direct ones raise at once)."""
        return self.inner.build_failures

    @property
    def defer_builds(self) -> bool:
        """Whether the index provider puts sdist metadata builds off (see there)."""
        return self.inner.defer_builds

    @defer_builds.setter
    def defer_builds(self, value: bool) -> None:
        self.inner.defer_builds = value

    @property
    def stop_at(self) -> Callable[[NormalizedName, Version], bool] | None:
        """See :attr:`IndexProvider.stop_at` (direct requirements' builds raise at once)."""
        return self.inner.stop_at

    @stop_at.setter
    def stop_at(self, value: Callable[[NormalizedName, Version], bool] | None) -> None:
        self.inner.stop_at = value

    @property
    def deferred_builds(self) -> Collection[tuple[NormalizedName, Version]]:
        """Return the index provider's put-off sdist metadata builds."""
        return self.inner.deferred_builds

    def build_deferred(self, keys: Collection[tuple[NormalizedName, Version]]) -> bool:
        """See :meth:`IndexProvider.build_deferred`."""
        return self.inner.build_deferred(keys)

    def list_versions(self, name: NormalizedName) -> Sequence[VersionInfo] | Unavailable:
        """Return the direct requirement's one version, else the index's versions."""
        meta = self.direct.get(name)
        if meta is not None:
            return [VersionInfo(meta.version, requires_python=meta.requires_python)]
        return self.inner.list_versions(name)

    def get_requirements(
        self, name: NormalizedName, version: Version
    ) -> Sequence[Requirement] | Unavailable:
        """Return the direct requirement's metadata, else the index's (nothing: no deps)."""
        if self.no_deps:
            return ()
        meta = self.direct.get(name)
        if meta is not None:
            return meta.requires_dist
        return self.inner.get_requirements(name, version)

    def provides_extra(self, name: NormalizedName, version: Version) -> Collection[str] | None:
        """Return the extras the direct requirement's metadata declares, else the index's."""
        meta = self.direct.get(name)
        if meta is not None:
            return meta.provides_extra
        return self.inner.provides_extra(name, version)

    def invalid_requirements(self, name: NormalizedName, version: Version) -> Sequence[str]:
        """Return the direct requirement's invalid ``Requires-Dist`` lines, else the index's."""
        meta = self.direct.get(name)
        if meta is not None:
            return meta.invalid_requires_dist
        return self.inner.invalid_requirements(name, version)

    @property
    def takes_hints(self) -> bool:
        """Return whether the index provider takes hints."""
        return self.inner.takes_hints

    def prefetch(self, name: NormalizedName, versions: Sequence[Version]) -> None:
        """Pass the hint on for index projects."""
        if not self.no_deps and name not in self.direct:
            self.inner.prefetch(name, versions)

    def prefetch_listings(self, names: Sequence[NormalizedName]) -> None:
        """Pass the hint on for index projects."""
        self.inner.prefetch_listings([name for name in names if name not in self.direct])
