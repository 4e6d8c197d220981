"""Site packages are the installed distributions of an environment, as pip and uv find them.

Every command that looks at an environment (install plans, ``list``, ``freeze``,
``show``, ``check``, ``verify``, ``uninstall``) needs the same facts about what is
installed: names, versions, RECORD, ``INSTALLER``, ``REQUESTED`` and ``direct_url.json``
(PEP 610). :class:`SitePackages` reads them once, cheaply (names and versions come from
folder names; everything else is read on demand), and sets aside *broken* ``.dist-info``
folders (no ``METADATA`` or no ``RECORD``: what a killed install leaves) so callers can
repair them.

Besides ``.dist-info`` folders, an environment can hold what older tools left, and pip
and uv see all of it (uv's ``InstalledDist`` kinds, pip's ``importlib`` backend):

- an ``.egg-info`` **folder** (``name-1.0-py3.11.egg-info/PKG-INFO``): ``setup.py
  install``, distribution packages, old pip;
- an ``.egg-info`` **file**, a lone ``PKG-INFO`` (``distutils``): it lists no files, so
  it can be listed but not uninstalled, as pip and uv refuse to;
- a **legacy editable**: ``name.egg-link`` names a project folder holding
  ``name.egg-info``, and a line of ``easy-install.pth`` puts it on ``sys.path``
  (``setup.py develop``, ``pip install -e`` before PEP 660).

Their name and version come from the file name when it gives them (uv's rule), else
from ``PKG-INFO``; their requirements from ``PKG-INFO``, else from ``requires.txt``, as
pip reads them (uv leaves ``requires.txt`` unread, and so misses those requirements).
Two distributions of one project (a broken environment) are both kept: the first, by
folder and then by name, answers :meth:`SitePackages.get`; :meth:`SitePackages.all`
returns every one, so that commands can report, replace or remove them all, as uv does.

Example::

    site = SitePackages.scan([venv.site_packages])
    site.get("demo").version  # <Version('1.0')>
    verify_environment(site, scripts=venv.scripts).ok  # True
"""

# Hot paths use str paths and os calls, as DESIGN.md asks:
# ruff: noqa: PTH100, PTH110, PTH112, PTH113, PTH114, PTH115, PTH116, PTH117, PTH118, PTH119, PTH120, PTH123
from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from resolvent.errors import InstallError, os_reason
from resolvent.index.lenient import lenient_requirement, lenient_specifier
from resolvent.installer.destination import InstalledFiles, path_inside
from resolvent.installer.record import Hash, RecordEntry, hash_stream, parse_record
from resolvent.json_text import parse_json
from resolvent.markers import requirement_applies
from resolvent.value_class import MutableValue, Value

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    from resolvent.installer.destination import Journal, Scheme

__all__ = [
    "CheckProblem",
    "DistKind",
    "DistMetadata",
    "InstalledDist",
    "LegacyEditableFiles",
    "Problem",
    "SitePackages",
    "VerifyReport",
    "check_requirements",
    "duplicate_message",
    "removal_files",
    "remove_files",
    "removed_before_install",
    "verify_environment",
]

_DIST_INFO = ".dist-info"
_EGG_INFO = ".egg-info"
_EGG_LINK = ".egg-link"
# Files a venv's scripts folder holds that no distribution records.
_VENV_SCRIPT_PREFIXES = ("python", "pypy", "graalpy", "activate", "Activate", "deactivate")
#: The longest requirement text a ``check`` line quotes (metadata is not the user's input).
_SHOWN = 200

#: How a distribution was installed: what its metadata is and how it can be removed.
DistKind = Literal["dist-info", "egg-info", "egg-info-file", "legacy-editable"]


class DistMetadata(Value):
    """What ``show`` and ``check`` need from an installed ``METADATA`` (or ``PKG-INFO``).

    Parsed here rather than with the index's metadata reader, which would load the
    HTTP stack into commands that never touch the network. ``invalid`` holds the
    requirement lines that even the lenient parser (:mod:`resolvent.index.lenient`, the
    repairs uv applies to installed metadata too) could not read, each with the reason.
    """

    __slots__ = ("invalid", "name", "requires_dist", "requires_python")

    def __init__(
        self,
        name: str,
        requires_dist: tuple[Requirement, ...],
        requires_python: str | None,
        invalid: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.name: Final = name
        self.requires_dist: Final = requires_dist
        self.requires_python: Final = requires_python
        self.invalid: Final = invalid


def _parse_metadata(data: bytes, fallback: str, requires_txt: str | None = None) -> DistMetadata:
    """Parse a ``METADATA``/``PKG-INFO`` header; ``requires_txt`` when it lists no requirement.

    ``requires_txt`` is an egg-info folder's ``requires.txt``: setuptools wrote the
    requirements there, and into ``PKG-INFO`` only in its recent versions, so pip reads
    it when ``PKG-INFO`` has no ``Requires-Dist`` (``_add_egg_info_requires``).
    """
    from email.parser import BytesHeaderParser  # noqa: PLC0415 -- only when metadata is read

    message = BytesHeaderParser().parsebytes(data)
    texts = [str(text).strip() for text in message.get_all("Requires-Dist") or []]
    if not texts and requires_txt is not None:
        texts = _requires_txt_lines(requires_txt)
    requirements = []
    invalid = []
    for text in texts:
        try:
            requirements.append(lenient_requirement(text)[0])
        except InvalidRequirement as error:
            invalid.append((text, str(error).splitlines()[0]))
    python = message.get("Requires-Python")
    return DistMetadata(
        str(message.get("Name") or fallback),
        tuple(requirements),
        str(python).strip() if python else None,
        tuple(invalid),
    )


def _requires_txt_lines(text: str) -> list[str]:
    """Return the requirements of an egg-info ``requires.txt`` as ``Requires-Dist`` lines.

    Its sections are ``[extra]``, ``[:marker]`` or ``[extra:marker]``; each line under
    one gets the section's marker, as pip converts them (``_iter_egg_info_dependencies``).
    """
    lines = []
    extra = marker = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            extra, _, marker = line.strip("[]").partition(":")
            extra = canonicalize_name(extra.strip()) if extra.strip() else ""
            marker = marker.strip()
            continue
        if extra and marker:
            lines.append(f'{line} ; ({marker}) and extra == "{extra}"')
        elif extra:
            lines.append(f'{line} ; extra == "{extra}"')
        elif marker:
            lines.append(f"{line} ; {marker}")
        else:
            lines.append(line)
    return lines


class InstalledDist(Value):
    """One installed distribution, read lazily.

    ``dist_info`` is where its metadata is: the ``.dist-info`` folder, the
    ``.egg-info`` folder or file, or (``legacy-editable``) the ``.egg-info`` folder in
    the project, whose ``.egg-link`` in site-packages is ``link``.
    """

    __slots__ = ("dist_info", "kind", "link", "name", "version")

    def __init__(
        self,
        name: NormalizedName,
        version: Version,
        dist_info: Path,
        kind: DistKind = "dist-info",
        link: Path | None = None,
    ) -> None:
        self.name: Final = name
        self.version: Final = version
        self.dist_info: Final = dist_info
        self.kind: Final = kind
        self.link: Final = link

    @property
    def location(self) -> Path:
        """The folder holding the metadata: site-packages, or a legacy editable's project."""
        return self.dist_info.parent

    @property
    def site_folder(self) -> Path:
        """The site-packages folder the distribution was found in."""
        return self.link.parent if self.link is not None else self.dist_info.parent

    def _text(self, filename: str) -> str | None:
        if self.kind == "egg-info-file":
            return None  # a lone PKG-INFO: there is no folder to hold other files
        try:
            with open(os.path.join(self.dist_info, filename), encoding="utf-8") as stream:
                return stream.read()
        except (OSError, UnicodeDecodeError):
            return None

    def _metadata_path(self) -> str:
        if self.kind == "dist-info":
            return os.path.join(self.dist_info, "METADATA")
        if self.kind == "egg-info-file":
            return os.fspath(self.dist_info)
        return os.path.join(self.dist_info, "PKG-INFO")

    def metadata(self) -> DistMetadata:
        """Parse ``METADATA`` or ``PKG-INFO`` (name, ``Requires-Dist``, ``Requires-Python``)."""
        try:
            with open(self._metadata_path(), "rb") as stream:
                data = stream.read()
        except OSError:
            return DistMetadata(self.name, (), None)
        requires_txt = None
        if self.kind in {"egg-info", "legacy-editable"}:
            requires_txt = self._text("requires.txt")
        return _parse_metadata(data, self.name, requires_txt)

    def display_name(self) -> str:
        """Return the name as its metadata spells it (``Foo_Bar``), else the normalized name."""
        try:
            with open(self._metadata_path(), encoding="utf-8", errors="replace") as stream:
                text = stream.read()
        except OSError:
            return self.name
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
        return self.kind == "dist-info" and os.path.exists(
            os.path.join(self.dist_info, "REQUESTED")
        )

    def direct_url(self) -> dict[str, object] | None:
        """Return the PEP 610 ``direct_url.json`` of a URL or path install, if any.

        A legacy editable has none, but is one: it answers what PEP 610 would have
        recorded (its project folder, editable), so that it is frozen as ``-e``, shown
        with its project location and treated as an editable install everywhere.
        """
        if self.kind == "legacy-editable":
            return {"url": self.location.as_uri(), "dir_info": {"editable": True}}
        if self.kind != "dist-info":
            return None
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
        if self.kind == "legacy-editable":
            return os.fspath(self.location)
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
        a package with no files. Only a ``.dist-info`` has a RECORD.
        """
        if self.kind != "dist-info":
            return [], "absent"
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

    def listed_files(self) -> tuple[list[str], str | None]:
        """Return the files the installation lists, relative to :attr:`location` (``show -f``).

        A ``.dist-info`` lists them in RECORD, an ``.egg-info`` folder in
        ``installed-files.txt`` (relative to itself; given here relative to the location,
        as pip shows them). The reason, when there is no usable list, completes
        "cannot list the files of `name`: ...".
        """
        if self.kind == "dist-info":
            entries, unusable = self.read_record()
            if unusable is not None:
                return [], f"its `RECORD` is {unusable}"
            return [entry.path for entry in entries], None
        listed = self.installed_files_txt()
        if listed is None:
            return [], "it has no `RECORD` or `installed-files.txt`"
        base = os.fspath(self.location)
        return [os.path.relpath(path, base).replace(os.sep, "/") for path in listed], None

    def installed_files_txt(self) -> list[str] | None:
        """Return the absolute, normalized paths ``installed-files.txt`` lists (egg-info)."""
        if self.kind != "egg-info":
            return None
        text = self._text("installed-files.txt")
        if text is None:
            return None
        folder = os.fspath(self.dist_info)
        return [
            os.path.normpath(os.path.join(folder, line.strip()))
            for line in text.splitlines()
            if line.strip()
        ]

    def egg_files(self) -> tuple[list[str], str | None]:
        """Return the files an uninstall of an ``.egg-info`` folder removes, as pip and uv do.

        ``installed-files.txt`` lists them when setuptools recorded the install (pip
        reads it first); else each name of ``top_level.txt`` not in
        ``namespace_packages.txt`` is a package folder or a module (``name.py``,
        ``.pyc``, ``.pyo``) beside the ``.egg-info``, as uv and pip remove them. Names
        that are not one plain file name (empty, ``..``, with a separator) are skipped,
        as uv skips them: a crafted ``top_level.txt`` must not reach outside
        site-packages. The egg-info folder's own files come last. Returns the reason
        (completing "cannot uninstall `x`: ...") when there is no list to go by.
        """
        folder = os.fspath(self.dist_info)
        paths = self.installed_files_txt()
        if paths is None:
            top_level = self._text("top_level.txt")
            if top_level is None:
                return (
                    [],
                    f"`top_level.txt` file not found at `{os.path.join(folder, 'top_level.txt')}`",
                )
            namespaces = set((self._text("namespace_packages.txt") or "").split())
            base = os.fspath(self.location)
            paths = []
            for name in dict.fromkeys(line.strip() for line in top_level.splitlines()):
                if not name or name in {".", ".."} or "/" in name or "\\" in name:
                    continue
                if name in namespaces:
                    continue
                path = os.path.join(base, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    paths.extend(_walk(path))
                else:
                    # A link (to a folder too) goes itself, not what it points at.
                    paths.extend(
                        path + suffix
                        for suffix in ("", ".py", ".pyc", ".pyo")
                        if os.path.islink(path + suffix) or os.path.isfile(path + suffix)
                    )
        paths = [*paths, *_bytecode_of(paths)]
        own = sorted(_walk(folder), key=lambda path: os.path.basename(path) == "PKG-INFO")
        return list(dict.fromkeys([p for p in paths if not path_inside(p, folder)] + own)), None


def _bytecode_of(paths: Iterable[str]) -> list[str]:
    """Return the ``__pycache__`` files compiled from the ``.py`` files among ``paths``."""
    found: list[str] = []
    for path in paths:
        if not path.endswith(".py"):
            continue
        folder, file = os.path.split(path)
        stem = file[:-3] + "."
        try:
            with os.scandir(os.path.join(folder, "__pycache__")) as entries:
                found.extend(
                    e.path for e in entries if e.name.startswith(stem) and e.name.endswith(".pyc")
                )
        except OSError:
            continue
    return found


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


def _pkg_info(path: str) -> tuple[str, str] | None:
    """Return the ``Name`` and ``Version`` of a ``PKG-INFO`` file (``None``: unreadable)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            text = stream.read(1 << 16)  # the header comes first, and is short
    except OSError:
        return None
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in {"name", "version"} and key not in found and value.strip():
            found[key] = value.strip()
    if "name" not in found or "version" not in found:
        return None
    return found["name"], found["version"]


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except ValueError:  # InvalidVersion, or a number longer than int() reads
        return None


def _egg_info(path: str, is_dir: bool) -> InstalledDist | None:  # noqa: FBT001 -- private
    """Read an ``.egg-info`` folder or file: ``name[-version[-pyX.Y[-platform]]].egg-info``.

    As uv reads it: the name is the file name's, the version the file name's when it
    has one, else ``PKG-INFO``'s. One that gives neither is not a distribution (uv skips
    it too).
    """
    stem = os.path.basename(path)[: -len(_EGG_INFO)]
    project, _, rest = stem.partition("-")
    if not project:
        return None
    version = _version(rest.partition("-")[0]) if rest else None
    metadata = os.path.join(path, "PKG-INFO") if is_dir else path
    if version is None:
        declared = _pkg_info(metadata)
        version = _version(declared[1]) if declared is not None else None
        if version is None:
            return None
    kind: DistKind = "egg-info" if is_dir else "egg-info-file"
    return InstalledDist(canonicalize_name(project), version, Path(path), kind)


def _egg_link(path: str, folder: str) -> InstalledDist | None:
    """Read a legacy editable's ``name.egg-link``: its first line is the project folder.

    The project's ``name.egg-info`` (``-`` written ``_``, as setuptools names it) gives
    the name and version, as uv reads them; a link to nothing is not a distribution.
    """
    target = _egg_link_target(path)
    if target is None:
        return None
    project = os.path.normpath(os.path.join(folder, target))
    stem = os.path.basename(path)[: -len(_EGG_LINK)]
    egg_info = os.path.join(project, stem.replace("-", "_") + _EGG_INFO)
    declared = _pkg_info(os.path.join(egg_info, "PKG-INFO"))
    version = _version(declared[1]) if declared is not None else None
    if declared is None or version is None:
        return None
    return InstalledDist(
        canonicalize_name(declared[0]), version, Path(egg_info), "legacy-editable", Path(path)
    )


class SitePackages(MutableValue):
    """The distributions installed in some site-packages folders, by normalized name.

    ``broken`` lists ``.dist-info`` folders without ``METADATA`` or ``RECORD`` (a killed
    install's remains, or a foreign tool's); ``duplicates`` lists the distributions of
    a project that already had one (the first one found is in ``distributions``).
    """

    __slots__ = ("broken", "distributions", "duplicates", "folders")

    def __init__(
        self,
        distributions: dict[NormalizedName, InstalledDist] | None = None,
        broken: list[Path] | None = None,
        duplicates: list[InstalledDist] | None = None,
        folders: tuple[Path, ...] = (),
    ) -> None:
        self.distributions = {} if distributions is None else distributions
        self.broken = [] if broken is None else broken
        self.duplicates = [] if duplicates is None else duplicates
        self.folders = folders

    @classmethod
    def scan(cls, folders: Iterable[Path]) -> SitePackages:
        """Read the distributions of ``folders``, in order (a folder met twice is read once).

        A folder is the same as another when it is the same on disk: a venv's ``lib64``
        is often a link to its ``lib``, and reading both would make every package a
        duplicate of itself.
        """
        unique: list[Path] = []
        seen: set[tuple[int, int]] = set()
        for folder in dict.fromkeys(Path(os.path.abspath(f)) for f in folders):
            try:
                info = os.stat(folder)
            except OSError:
                unique.append(folder)
                continue
            if (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                unique.append(folder)
        site = cls(folders=tuple(unique))
        for folder in unique:
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                name = entry.name
                if name.endswith(_DIST_INFO):
                    if not entry.is_dir():
                        continue
                    parsed = _split(name)
                    complete = os.path.isfile(
                        os.path.join(entry.path, "METADATA")
                    ) and os.path.isfile(os.path.join(entry.path, "RECORD"))
                    if parsed is None or not complete:
                        site.broken.append(Path(entry.path))
                        continue
                    site._add(InstalledDist(parsed[0], parsed[1], Path(entry.path)))
                elif name.endswith(_EGG_INFO):
                    egg = _egg_info(entry.path, entry.is_dir())
                    if egg is not None:
                        site._add(egg)
                elif name.endswith(_EGG_LINK) and entry.is_file():
                    editable = _egg_link(entry.path, os.fspath(folder))
                    if editable is not None:
                        site._add(editable)
        return site

    def _add(self, dist: InstalledDist) -> None:
        if dist.name in self.distributions:
            self.duplicates.append(dist)
        else:
            self.distributions[dist.name] = dist

    def get(self, name: str) -> InstalledDist | None:
        """Return the installed distribution of project ``name`` (the first found), if any."""
        return self.distributions.get(canonicalize_name(name))

    def all(self, name: str) -> list[InstalledDist]:
        """Return every installed distribution of project ``name``, the first found first."""
        wanted = canonicalize_name(name)
        first = self.distributions.get(wanted)
        if first is None:
            return []
        return [first, *(dist for dist in self.duplicates if dist.name == wanted)]

    def all_dists(self) -> list[InstalledDist]:
        """Return every installed distribution, duplicates too, by name, version and path."""
        everything = [*self.distributions.values(), *self.duplicates]
        return sorted(everything, key=lambda d: (d.name, d.version, os.fspath(d.dist_info)))

    def duplicated(self) -> dict[NormalizedName, list[InstalledDist]]:
        """Return the projects installed more than once, each with all its distributions."""
        names = dict.fromkeys(sorted(dist.name for dist in self.duplicates))
        return {name: self.all(name) for name in names}

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


def duplicate_message(name: str, dists: Sequence[InstalledDist]) -> str:
    """Say that project ``name`` is installed more than once, and where (one line)."""
    where = ", ".join(f"`{os.fspath(dist.link or dist.dist_info)}`" for dist in dists)
    return f"`{name}` has multiple installed distributions: {where}"


# -- removing -----------------------------------------------------------------------------


class LegacyEditableFiles(InstalledFiles):
    """A legacy editable's removal: its ``.egg-link``, and its line of ``easy-install.pth``."""

    __slots__ = ("entry", "pth")

    def __init__(
        self, dist_info: Path, paths: tuple[str, ...], pth: str = "", entry: str = ""
    ) -> None:
        super().__init__(dist_info, paths)
        self.pth: Final = pth
        self.entry: Final = entry


def removal_files(dist: InstalledDist, root: Path) -> InstalledFiles:
    """Return what uninstalling ``dist`` removes, checked; raise if it cannot be removed.

    A ``.dist-info`` goes by its RECORD; an ``.egg-info`` folder by its
    ``installed-files.txt`` or ``top_level.txt`` (see :meth:`InstalledDist.egg_files`);
    a legacy editable by its ``.egg-link`` and its ``easy-install.pth`` line (its
    project is the user's, and stays). Nothing outside ``root`` is removed, as written
    or through a symbolic link.

    :raises InstallError: an ``.egg-info`` file (``distutils`` lists no files; pip and
        uv refuse too), an ``.egg-info`` folder with no file list, or a path outside
        ``root``.
    """
    from resolvent.installer.destination import installed_files  # noqa: PLC0415

    if dist.kind == "dist-info":
        return installed_files(dist.dist_info, root)
    label = f"`{dist.name}=={dist.version}`"
    if dist.kind == "egg-info-file":
        raise InstallError(
            f"cannot uninstall {label}: distutils-installed distributions do not include "
            "the metadata required to uninstall safely"
        )
    if dist.kind == "legacy-editable":
        assert dist.link is not None
        link = os.fspath(dist.link)
        _check_inside([link], root, dist)
        pth = os.path.join(os.path.dirname(link), "easy-install.pth")
        target = os.path.normcase(_egg_link_target(link) or "")
        return LegacyEditableFiles(dist.dist_info, (link,), pth=pth, entry=target)
    paths, reason = dist.egg_files()
    if reason is not None:
        raise InstallError(f"cannot uninstall {label}: {reason}")
    _check_inside(paths, root, dist)
    return InstalledFiles(dist.dist_info, tuple(paths))


def _egg_link_target(link: str) -> str | None:
    """Return the first line of an ``.egg-link`` file: its project folder (``None``: none)."""
    try:
        with open(link, encoding="utf-8", errors="replace") as stream:
            text = stream.read(1 << 16)
    except OSError:
        return None
    return next((line.strip() for line in text.splitlines() if line.strip()), None)


def _check_inside(paths: Iterable[str], root: Path, dist: InstalledDist) -> None:
    """Refuse to remove a path outside ``root``, as written or through a linked folder."""
    boundary = os.path.abspath(root)
    real_roots = {os.path.realpath(boundary), os.path.realpath(dist.site_folder)}
    known: dict[str, bool] = {}
    for path in paths:
        folder = os.path.dirname(path)
        inside = known.get(folder)
        if inside is None:
            real = os.path.realpath(folder)
            inside = known[folder] = any(path_inside(real, r) for r in real_roots)
        if not path_inside(path, boundary) or path == boundary or not inside:
            raise InstallError(
                f"refusing to remove `{path}`: `{dist.name}=={dist.version}` names a path "
                f"outside `{root}`"
            )


def removed_before_install(reinstalls: Sequence[InstalledDist]) -> list[InstalledDist]:
    """Return those of an install's ``reinstalls`` that installing a wheel does not replace.

    Installing a wheel replaces the ``.dist-info`` of its project that it finds; an
    ``.egg-info`` or a legacy editable it does not see, and of two installed
    distributions of one project it would replace one and leave the other (uv replaces
    them all). Those must be removed first, in the same transaction.
    """
    counts: dict[NormalizedName, int] = {}
    for dist in reinstalls:
        counts[dist.name] = counts.get(dist.name, 0) + 1
    return [dist for dist in reinstalls if dist.kind != "dist-info" or counts[dist.name] > 1]


def remove_files(files: InstalledFiles, scheme: Scheme, *, journal: Journal | None = None) -> None:
    """Remove what :func:`removal_files` returned, as one transaction of ``journal``.

    A legacy editable's ``easy-install.pth`` loses the line naming its project, in the
    same transaction (so a failed run puts it back): read now, when the removals of the
    same run that came before are done, so that two editables' lines both go.
    """
    from resolvent.installer.install import remove_installed  # noqa: PLC0415

    if not isinstance(files, LegacyEditableFiles):
        remove_installed(files, scheme, journal=journal)
        return
    from resolvent.installer.destination import SchemeDestination, os_failure  # noqa: PLC0415

    destination = SchemeDestination(scheme, python=sys.executable, journal=journal)
    destination.begin("purelib")
    try:
        destination.remove(files.paths)
        rewritten = _without_pth_line(files.pth, files.entry)
        folder = os.path.dirname(files.pth)
        key: Literal["purelib", "platlib"] | None = next(
            (
                k
                for k in ("purelib", "platlib")
                if os.path.realpath(scheme.path(k)) == os.path.realpath(folder)
            ),
            None,
        )
        if rewritten is not None and key is not None:
            destination.write(key, os.path.basename(files.pth), rewritten)
    except OSError as error:  # staging the new `easy-install.pth`
        destination.abort()
        raise os_failure(error, "remove") from None
    except BaseException:
        destination.abort()
        raise
    destination.commit()


def _without_pth_line(pth: str, entry: str) -> bytes | None:
    """Return ``pth``'s text without the first line that is ``entry`` (``None``: no change)."""
    if not entry:
        return None
    try:
        with open(pth, "rb") as stream:
            data = stream.read()
    except OSError:
        return None
    lines = data.decode("utf-8", errors="surrogateescape").splitlines(keepends=True)
    for number, line in enumerate(lines):
        if os.path.normcase(line.strip()) == entry:
            del lines[number]
            return "".join(lines).encode("utf-8", errors="surrogateescape")
    return None


# -- checking -----------------------------------------------------------------------------

CheckKind = Literal["requirement", "python", "invalid", "duplicate"]


class CheckProblem(Value):
    """A problem ``check`` reports about an installed distribution, worded as pip words it.

    ``requirement``: an unmet requirement (``installed`` is the version present, or
    ``None`` when the project is missing); ``python``: a ``Requires-Python`` the
    environment's interpreter (``installed``) does not meet; ``invalid``: a requirement
    line nothing can parse (``installed`` is why); ``duplicate``: the project is
    installed more than once (``requirement`` lists where).
    """

    __slots__ = ("dist", "installed", "kind", "requirement", "version")

    def __init__(
        self,
        dist: str,
        version: str,
        requirement: str,
        installed: str | None,  # the version present, or None when the project is missing
        kind: CheckKind = "requirement",
    ) -> None:
        self.dist: Final = dist
        self.version: Final = version
        self.requirement: Final = requirement
        self.installed: Final = installed
        self.kind: Final = kind

    def __str__(self) -> str:
        if self.kind == "duplicate":
            return f"{self.dist} has multiple installed distributions: {self.requirement}"
        if self.kind == "python":
            return (
                f"{self.dist} {self.version} requires Python {self.requirement}, "
                f"but you have Python {self.installed}."
            )
        if self.kind == "invalid":
            return (
                f"{self.dist} {self.version} has a requirement that cannot be parsed, "
                f"`{self.requirement}`: {self.installed}"
            )
        name = Requirement(self.requirement).name
        if self.installed is None:
            return f"{self.dist} {self.version} requires {name}, which is not installed."
        return (
            f"{self.dist} {self.version} has requirement {self.requirement}, "
            f"but you have {canonicalize_name(name)} {self.installed}."
        )


def check_requirements(site: SitePackages, markers: Mapping[str, str]) -> list[CheckProblem]:
    """Return every problem of the installed distributions (``pip check``, ``uv pip check``).

    ``markers`` is the environment's marker environment; a requirement whose marker is
    false there, or that only an extra nobody asked for needs, is skipped. As uv does,
    a project installed more than once is reported as such (its requirements are not
    checked, nor requirements on it: which one Python imports is anyone's guess), and
    a ``Requires-Python`` the interpreter does not meet is reported too.
    """
    problems: list[CheckProblem] = []
    base = dict(markers) | {"extra": ""}
    duplicated = site.duplicated()
    python = markers.get("python_full_version")
    for dist in site:
        if dist.name in duplicated:
            where = ", ".join(f"`{d.link or d.dist_info}`" for d in duplicated[dist.name])
            problems.append(CheckProblem(dist.name, "", where, None, "duplicate"))
            continue
        meta = dist.metadata()
        version = str(dist.version)
        if meta.requires_python and python:
            try:
                specifier = lenient_specifier(meta.requires_python)[0]
            except InvalidSpecifier:
                specifier = None
            if specifier is not None and not specifier.contains(python, prereleases=True):
                shown = str(meta.requires_python)
                problems.append(CheckProblem(dist.name, version, shown, python, "python"))
        for text, reason in meta.invalid:
            shown = " ".join(text.split())
            if len(shown) > _SHOWN:
                shown = f"{shown[:_SHOWN]}..."
            problems.append(CheckProblem(dist.name, version, shown, reason, "invalid"))
        for requirement in meta.requires_dist:
            if not requirement_applies(requirement, base):
                continue
            if canonicalize_name(requirement.name) in duplicated:
                continue
            present = site.get(requirement.name)
            shown = str(requirement).split(";")[0].strip()
            if present is None:
                problems.append(CheckProblem(dist.name, version, shown, None))
            elif not requirement.specifier.contains(present.version, prereleases=True):
                problems.append(CheckProblem(dist.name, version, shown, str(present.version)))
    return problems


ProblemKind = Literal["modified", "missing", "unrecorded", "bad-record"]


class Problem(Value):
    """One file that does not match what the environment's RECORDs say.

    ``bad-record`` is a RECORD that cannot be read or parsed: its path, and the reason
    in ``detail``. ``detail`` also says why a file is ``modified`` when its hash is not
    the whole story (not a regular file, a link elsewhere, unreadable).
    """

    __slots__ = ("detail", "kind", "owner", "path")

    def __init__(
        self,
        kind: ProblemKind,
        path: str,
        owner: str | None = None,  # ``name version`` of the distribution that records it
        detail: str | None = None,
    ) -> None:
        self.kind: Final = kind
        self.path: Final = path
        self.owner: Final = owner
        self.detail: Final = detail


class VerifyReport(Value):
    """The result of checking an environment's files against its RECORDs."""

    __slots__ = ("distributions", "files", "problems")

    def __init__(self, distributions: int, files: int, problems: tuple[Problem, ...]) -> None:
        self.distributions: Final = distributions
        self.files: Final = files
        self.problems: Final = problems

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


def _own_legacy_files(
    dist: InstalledDist, owner: str, recorded: set[str], problems: list[Problem]
) -> int:
    """Mark the files of a distribution without RECORD as owned; return how many it lists.

    There are no hashes to check: an ``.egg-info`` file or folder owns itself, and the
    files an uninstall would remove (its ``installed-files.txt``, which names files
    that must exist, else what its ``top_level.txt`` names); a legacy editable owns its
    ``.egg-link`` and the shared ``easy-install.pth``. They are not "unrecorded".
    """
    if dist.kind == "egg-info-file":
        recorded.add(os.path.normpath(dist.dist_info))
        return 1
    if dist.kind == "legacy-editable":
        assert dist.link is not None
        recorded.add(os.path.normpath(dist.link))
        recorded.add(os.path.join(os.path.normpath(dist.link.parent), "easy-install.pth"))
        return 1
    listed = dist.installed_files_txt()
    problems.extend(
        Problem("missing", path, owner) for path in listed or () if not os.path.lexists(path)
    )
    paths, _ = dist.egg_files()
    recorded.update(paths)
    recorded.update(_walk(os.fspath(dist.dist_info)))  # listed or not, its own folder
    recorded.update(_bytecode_of(listed or ()))
    return len(paths)


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
        if dist.kind != "dist-info":
            files += _own_legacy_files(dist, owner, recorded, problems)
            continue
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
