"""Site packages are the installed distributions of an environment, each a ``.dist-info`` folder.

Every command that looks at an environment (install plans, ``list``, ``freeze``,
``show``, ``check``, ``verify``) needs the same facts about what is installed: names,
versions, RECORD, ``INSTALLER``, ``REQUESTED`` and ``direct_url.json`` (PEP 610).
:class:`SitePackages` reads them once, cheaply (names and versions come from folder
names; everything else is read on demand), and sets aside *broken* folders (no
``METADATA`` or no ``RECORD``: what a killed install leaves) so callers can repair them.

Example::

    site = SitePackages.scan([venv.site_packages])
    site.get("demo").version  # <Version('1.0')>
    verify_environment(site, scripts=venv.scripts).ok  # True
"""

# Hot paths use str paths and os calls, as DESIGN.md asks:
# ruff: noqa: PTH100, PTH110, PTH113, PTH115, PTH117, PTH118, PTH119, PTH120, PTH123
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from resolvent.errors import os_reason
from resolvent.installer.record import Hash, RecordEntry, hash_stream, parse_record
from resolvent.json_text import parse_json
from resolvent.markers import requirement_applies

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

__all__ = [
    "CheckProblem",
    "DistMetadata",
    "InstalledDist",
    "Problem",
    "SitePackages",
    "VerifyReport",
    "check_requirements",
    "verify_environment",
]

_DIST_INFO = ".dist-info"
# Files a venv's scripts folder holds that no distribution records.
_VENV_SCRIPT_PREFIXES = ("python", "pypy", "graalpy", "activate", "Activate", "deactivate")


@dataclass(frozen=True, slots=True)
class DistMetadata:
    """What ``show`` and ``check`` need from an installed ``METADATA``.

    Parsed here rather than with the index's metadata reader, which would load the
    HTTP stack into commands that never touch the network.
    """

    name: str
    requires_dist: tuple[Requirement, ...]
    requires_python: str | None


def _parse_metadata(data: bytes, fallback: str) -> DistMetadata:
    from email.parser import BytesHeaderParser  # noqa: PLC0415 -- only when metadata is read

    message = BytesHeaderParser().parsebytes(data)
    requirements = []
    for text in message.get_all("Requires-Dist") or []:
        try:
            requirements.append(Requirement(str(text)))
        except InvalidRequirement:
            continue  # installers have always tolerated these
    python = message.get("Requires-Python")
    return DistMetadata(
        str(message.get("Name") or fallback), tuple(requirements), str(python) if python else None
    )


@dataclass(frozen=True, slots=True)
class InstalledDist:
    """One installed distribution: its ``.dist-info`` folder, read lazily."""

    name: NormalizedName
    version: Version
    dist_info: Path

    @property
    def location(self) -> Path:
        """The site-packages folder holding the distribution."""
        return self.dist_info.parent

    def _text(self, filename: str) -> str | None:
        try:
            with open(os.path.join(self.dist_info, filename), encoding="utf-8") as stream:
                return stream.read()
        except (OSError, UnicodeDecodeError):
            return None

    def metadata(self) -> DistMetadata:
        """Parse ``METADATA`` (name, ``Requires-Dist``, ``Requires-Python``)."""
        try:
            with open(os.path.join(self.dist_info, "METADATA"), "rb") as stream:
                return _parse_metadata(stream.read(), self.name)
        except OSError:
            return DistMetadata(self.name, (), None)

    def display_name(self) -> str:
        """Return the name as ``METADATA`` spells it (``Foo_Bar``), else the normalized name."""
        text = self._text("METADATA") or ""
        for line in text.splitlines():
            if not line.strip():
                break
            key, _, value = line.partition(":")
            if key.strip().lower() == "name" and value.strip():
                return value.strip()
        return self.name

    def installer(self) -> str | None:
        """Return the contents of ``INSTALLER`` (``resolvent``, ``pip``, ``uv``...), if any."""
        text = self._text("INSTALLER")
        return text.strip() if text is not None else None

    def requested(self) -> bool:
        """Whether ``REQUESTED`` exists: a user asked for this project by name."""
        return os.path.exists(os.path.join(self.dist_info, "REQUESTED"))

    def direct_url(self) -> dict[str, object] | None:
        """Return the PEP 610 ``direct_url.json`` of a URL or path install, if any."""
        text = self._text("direct_url.json")
        if text is None:
            return None
        try:
            data = parse_json(text)
        except ValueError:  # malformed, or nested too deeply: as if absent
            return None
        return data if isinstance(data, dict) else None

    def editable_location(self) -> str | None:
        """Return the project folder of an editable install (PEP 610 ``dir_info.editable``)."""
        data = self.direct_url()
        if data is None:
            return None
        info = data.get("dir_info")
        url = data.get("url")
        if isinstance(info, dict) and info.get("editable") and isinstance(url, str):
            from urllib.parse import urlsplit  # noqa: PLC0415 -- rare path
            from urllib.request import url2pathname  # noqa: PLC0415

            try:
                return url2pathname(urlsplit(url).path)
            except ValueError:  # `file://[::1/x`: another tool's damaged file, not ours
                return None
        return None

    def read_record(self) -> tuple[list[RecordEntry], str | None]:
        """Return the installed RECORD's entries, and why it cannot be used, if it cannot.

        The reason (``unreadable: Permission denied``, ``malformed: line 7 has 4
        fields, not 3``) completes "the RECORD is ..."; it is for
        ``verify`` and ``show -f`` to name: without it, an unreadable RECORD looked like
        a package with no files.
        """
        try:
            with open(os.path.join(self.dist_info, "RECORD"), encoding="utf-8") as stream:
                text = stream.read()
        except OSError as error:
            return [], f"unreadable: {os_reason(error)}"
        except UnicodeDecodeError:
            return [], "not UTF-8 text"
        try:
            return parse_record(text), None
        except ValueError as error:
            return [], f"malformed: {error}"

    def record(self) -> list[RecordEntry]:
        """Return the installed RECORD (``[]`` when missing or malformed)."""
        return self.read_record()[0]

    def record_paths(self) -> list[tuple[str, RecordEntry]]:
        """Each RECORD entry with its absolute, normalized path."""
        return _absolute_paths(os.fspath(self.location), self.record())


def _absolute_paths(base: str, entries: Iterable[RecordEntry]) -> list[tuple[str, RecordEntry]]:
    """Return each entry with its absolute, normalized path (relative ones are under ``base``)."""
    found = []
    for entry in entries:
        path = entry.path
        absolute = path if os.path.isabs(path) else os.path.join(base, *path.split("/"))
        found.append((os.path.normpath(absolute), entry))
    return found


def _split(folder_name: str) -> tuple[NormalizedName, Version] | None:
    stem = folder_name[: -len(_DIST_INFO)]
    name, sep, version = stem.rpartition("-")
    if not sep or not name:
        return None
    try:
        return canonicalize_name(name), Version(version)
    except ValueError:  # InvalidVersion, or a number longer than int() reads
        return None


@dataclass(slots=True)
class SitePackages:
    """The distributions installed in some site-packages folders, by normalized name.

    ``broken`` lists ``.dist-info`` folders without ``METADATA`` or ``RECORD`` (a killed
    install's remains, or a foreign tool's); ``duplicates`` lists valid folders of a
    project that already had one.
    """

    distributions: dict[NormalizedName, InstalledDist] = field(default_factory=dict)
    broken: list[Path] = field(default_factory=list)
    duplicates: list[InstalledDist] = field(default_factory=list)
    folders: tuple[Path, ...] = ()

    @classmethod
    def scan(cls, folders: Iterable[Path]) -> SitePackages:
        """Read the ``.dist-info`` folders of ``folders`` (duplicates are read once)."""
        unique = tuple(dict.fromkeys(Path(os.path.abspath(f)) for f in folders))
        site = cls(folders=unique)
        for folder in unique:
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                if not entry.name.endswith(_DIST_INFO) or not entry.is_dir():
                    continue
                parsed = _split(entry.name)
                complete = os.path.isfile(os.path.join(entry.path, "METADATA")) and os.path.isfile(
                    os.path.join(entry.path, "RECORD")
                )
                if parsed is None or not complete:
                    site.broken.append(Path(entry.path))
                    continue
                dist = InstalledDist(parsed[0], parsed[1], Path(entry.path))
                if dist.name in site.distributions:
                    site.duplicates.append(dist)
                else:
                    site.distributions[dist.name] = dist
        return site

    def get(self, name: str) -> InstalledDist | None:
        """Return the installed distribution of project ``name``, if any."""
        return self.distributions.get(canonicalize_name(name))

    def __iter__(self) -> Iterator[InstalledDist]:
        return iter(sorted(self.distributions.values(), key=lambda d: d.name))

    def __len__(self) -> int:
        return len(self.distributions)

    def broken_names(self) -> dict[NormalizedName, list[Path]]:
        """Return the broken folders, by the project their name gives (when it gives one)."""
        found: dict[NormalizedName, list[Path]] = {}
        for folder in self.broken:
            stem = folder.name[: -len(_DIST_INFO)]
            found.setdefault(canonicalize_name(stem.rpartition("-")[0] or stem), []).append(folder)
        return found


@dataclass(frozen=True, slots=True)
class CheckProblem:
    """An installed distribution's requirement that the environment does not meet."""

    dist: str
    version: str
    requirement: str
    installed: str | None  # the version present, or None when the project is missing

    def __str__(self) -> str:
        if self.installed is None:
            name = Requirement(self.requirement).name
            return f"{self.dist} {self.version} requires {name}, which is not installed."
        return (
            f"{self.dist} {self.version} has requirement {self.requirement}, "
            f"but you have {self.installed}."
        )


def check_requirements(site: SitePackages, markers: Mapping[str, str]) -> list[CheckProblem]:
    """Return every unmet requirement of every installed distribution (``pip check``).

    ``markers`` is the environment's marker environment; a requirement whose marker is
    false there, or that only an extra nobody asked for needs, is skipped.
    """
    problems: list[CheckProblem] = []
    base = dict(markers) | {"extra": ""}
    for dist in site:
        meta = dist.metadata()
        for requirement in meta.requires_dist:
            if not requirement_applies(requirement, base):
                continue
            present = site.get(requirement.name)
            shown = str(requirement).split(";")[0].strip()
            if present is None:
                problems.append(CheckProblem(dist.name, str(dist.version), shown, None))
            elif not requirement.specifier.contains(present.version, prereleases=True):
                problems.append(
                    CheckProblem(dist.name, str(dist.version), shown, str(present.version))
                )
    return problems


ProblemKind = Literal["modified", "missing", "unrecorded", "bad-record"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One file that does not match what the environment's RECORDs say.

    ``bad-record`` is a RECORD that cannot be read or parsed: its path, and the reason
    in ``detail``. ``detail`` also says why a file is ``modified`` when its hash is not
    the whole story (not a regular file, a link elsewhere, unreadable).
    """

    kind: ProblemKind
    path: str
    owner: str | None = None  # ``name version`` of the distribution that records it
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The result of checking an environment's files against its RECORDs."""

    distributions: int
    files: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """Whether every recorded file matches and nothing is unrecorded."""
        return not self.problems


def _pyc_source(path: str) -> str | None:
    """Return the ``.py`` a ``__pycache__/x.cpython-311.pyc`` file was compiled from."""
    folder, name = os.path.split(path)
    if os.path.basename(folder) != "__pycache__" or not name.endswith(".pyc"):
        return None
    return os.path.join(os.path.dirname(folder), name.split(".", 1)[0] + ".py")


def _walk(root: str) -> Iterator[str]:
    stack = [root]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            else:
                yield entry.path


#: Open a recorded file without waiting: a FIFO that RECORD names opens at once, and
#: is then refused as not a regular file instead of blocking ``verify`` for ever.
_NONBLOCKING = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def _file_problem(path: str, entry: RecordEntry, owner: str) -> Problem | None:
    """Return how the file at ``path`` differs from its RECORD ``entry`` (``None``: it does not).

    Only regular files are read: a RECORD row can name anything (``/dev/zero``, a FIFO,
    ``../../dev/zero``), and hashing a device or waiting on a FIFO hung ``verify``. A
    symbolic link is checked too (see :func:`_link_problem`); skipping links let any
    file replaced by a link pass, and an environment installed with ``--link-mode
    symlink`` was never checked at all.
    """
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return Problem("missing", path, owner)
    except OSError as error:
        return Problem("modified", path, owner, f"unreadable: {os_reason(error)}")
    if entry.hash is None:
        return None  # nothing to compare: RECORD's own row, or a tool that hashed nothing
    if stat.S_ISLNK(mode):
        return _link_problem(path, entry, owner)
    if not stat.S_ISREG(mode):
        return Problem("modified", path, owner, "not a regular file")
    return _content_problem(path, entry, owner, follow=False)


def _link_problem(path: str, entry: RecordEntry, owner: str) -> Problem | None:
    """Check a recorded path that is a symbolic link.

    A wheel's own link is recorded with the hash of its target's text (as unpacking
    checks it); a link that ``--link-mode symlink`` made points at a cached copy of the
    file, whose contents must match. Any other link is a change.
    """
    assert entry.hash is not None
    try:
        target = os.readlink(path)
        text = os.fsencode(target)
        if Hash.of(text, entry.hash.name) == entry.hash and entry.size in {None, len(text)}:
            return None
    except (OSError, ValueError) as error:  # ValueError: a hash hashlib does not know
        reason = os_reason(error) if isinstance(error, OSError) else str(error)
        return Problem("modified", path, owner, f"unreadable: {reason}")
    found = _content_problem(path, entry, owner, follow=True)
    if found is None:
        return None
    return Problem("modified", path, owner, f"a symbolic link to `{target}`")


def _content_problem(path: str, entry: RecordEntry, owner: str, *, follow: bool) -> Problem | None:
    """Hash the regular file at ``path`` (through a link when ``follow``) against ``entry``."""
    assert entry.hash is not None
    flags = _NONBLOCKING if follow else _NONBLOCKING | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags)
        with os.fdopen(descriptor, "rb") as stream:
            # Checked on the open file: what was a regular file may not be one now.
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                return Problem("modified", path, owner, "not a regular file")
            digest, size = hash_stream(stream, entry.hash.name)
    except OSError as error:
        return Problem("modified", path, owner, f"unreadable: {os_reason(error)}")
    except ValueError as error:  # a hash hashlib does not know
        return Problem("modified", path, owner, str(error))
    if digest != entry.hash or (entry.size is not None and size != entry.size):
        return Problem("modified", path, owner)
    return None


def verify_environment(site: SitePackages, *, scripts: Path | None = None) -> VerifyReport:
    """Check every recorded file against its RECORD hash; find files nobody recorded.

    Reports *modified* files (hash or size differs), *missing* files and *unrecorded*
    files: in the site-packages folders (and ``scripts``, whose interpreter links and
    activation scripts are the venv's own), any file no RECORD lists, except bytecode of
    a recorded source and the parts of broken ``.dist-info`` folders, which are
    reported as unrecorded themselves.

    Example::

        report = verify_environment(SitePackages.scan([venv.site_packages]), scripts=venv.scripts)
        [f"{p.kind}: {p.path}" for p in report.problems]
    """
    problems: list[Problem] = []
    recorded: set[str] = set()
    files = 0
    dists: Sequence[InstalledDist] = [*site, *site.duplicates]
    for dist in dists:
        owner = f"{dist.name} {dist.version}"
        entries, unusable = dist.read_record()
        if unusable is not None:
            record = os.path.join(os.fspath(dist.dist_info), "RECORD")
            recorded.add(record)
            problems.append(Problem("bad-record", record, owner, unusable))
        for path, entry in _absolute_paths(os.fspath(dist.location), entries):
            recorded.add(path)
            files += 1
            problem = _file_problem(path, entry, owner)
            if problem is not None:
                problems.append(problem)
    roots = [os.fspath(folder) for folder in site.folders]
    candidates = [path for root in roots for path in _walk(root)]
    if scripts is not None:
        candidates.extend(
            path
            for path in _walk(os.path.abspath(scripts))
            if not os.path.basename(path).startswith(_VENV_SCRIPT_PREFIXES)
        )
    for path in sorted(set(candidates)):
        if path in recorded:
            continue
        source = _pyc_source(path)
        if source is not None and source in recorded:
            continue
        problems.append(Problem("unrecorded", path))
    return VerifyReport(len(dists), files, tuple(problems))
