"""A wheel source is a validated binary distribution that an install reads its files from.

The binary distribution format fixes the layout (one ``.dist-info`` folder, an optional
``.data`` folder whose subfolders map onto an install scheme) and the rules that make it
safe to unpack (relative paths only, every file hashed in RECORD). Those rules live here,
once, and both the zip archive (:mod:`resolvent.installer.archive`) and the unpacked tree
in the cache (:class:`UnpackedWheel`) apply them before anything is written.

Example::

    source = UnpackedWheel(cache.unpack_wheel(path, sha256))
    source.validate()
    source.info.name, source.info.version  # ('demo', '1.0')
"""

# Hot paths use str paths and os calls, as DESIGN.md asks:
# ruff: noqa: PTH112, PTH115, PTH118, PTH123
from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Protocol

from packaging.utils import canonicalize_name
from packaging.version import Version

from resolvent.errors import InvalidWheelError, UnsafeWheelError
from resolvent.installer.record import ALLOWED_HASHES, RecordEntry, hash_file, parse_record
from resolvent.installer.wheel_info import (
    DATA_KEYS,
    SIGNATURE_FILES,
    EntryPoint,
    WheelInfo,
)

# ``configparser`` and ``unicodedata`` are imported where a wheel is checked (unpacking
# it), not here: a warm install links checked entries and never needs them.

if TYPE_CHECKING:
    import configparser
    from collections.abc import Callable, Container, Iterable, Mapping
    from pathlib import Path

    from resolvent.installer.manifest import Manifest

__all__ = [
    "DATA_KEYS",
    "SIGNATURE_FILES",
    "EntryPoint",
    "UnpackedWheel",
    "WheelInfo",
    "WheelSource",
    "check_data_dir",
    "check_member_path",
    "check_names",
    "check_record",
    "check_symlink",
    "find_dist_info",
    "parse_entry_points",
    "read_wheel_info",
]

_DRIVE = re.compile(r"^[A-Za-z]:")
_IDENTIFIER_PATH = re.compile(r"^[^\W\d]\w*(\.[^\W\d]\w*)*$")
_SCRIPT_NAME = re.compile(r"^[\w.+-]+$")


def check_member_path(name: str) -> str | None:
    """Return why ``name`` (a ``/``-separated archive path) is unsafe, or ``None``.

    Safe means relative, no drive letter, no backslash, no NUL, no ``.`` or ``..``
    component and no empty component (a trailing ``/`` for folders is allowed).
    """
    if not name:
        return "has an empty path"
    if name.startswith("/") or _DRIVE.match(name):
        return f"has an absolute path `{name}`"
    if "\\" in name or "\0" in name:
        return f"has a path with a backslash or NUL `{name}`"
    parts = name[:-1].split("/") if name.endswith("/") else name.split("/")
    for part in parts:
        if part == "..":
            return f"has a path that leaves the destination `{name}`"
        if part in {"", "."}:
            return f"has a non-normalized path `{name}`"
    return None


def check_symlink(name: str, target: str, symlinks: Iterable[str]) -> str | None:
    """Return why the link ``name -> target`` could reach outside its tree, or ``None``.

    ``target`` is resolved component by component from the link's folder; it may not
    climb above the tree's root, be absolute, or pass through another link (a chain
    could climb out in ways a purely lexical check cannot see).
    """
    if not target or target.startswith("/") or _DRIVE.match(target) or "\\" in target:
        return f"has a link `{name}` to an absolute or empty target `{target}`"
    links = set(symlinks)
    current = name.split("/")[:-1]
    for part in target.split("/"):
        if part in {"", "."}:
            continue
        if part == "..":
            if not current:
                return f"has a link `{name}` that points out of the tree (`{target}`)"
            current.pop()
            continue
        current.append(part)
        if "/".join(current) in links:
            return f"has a link `{name}` that points through another link (`{target}`)"
    return None


def check_names(wheel: str, names: Iterable[str], links: Container[str] = ()) -> None:
    """Raise :class:`UnsafeWheelError` on an unsafe path or a duplicate (also by case).

    A file that another entry needs as a folder (``p/x`` and ``p/x/y``) is a duplicate
    too: no tree can hold both, and unpacking would fail halfway with the file system's
    "File exists" instead of naming the wheel's fault. Entries in ``links`` are left to
    the caller's link checks, which say what such an entry under a link would do.
    """
    import unicodedata  # noqa: PLC0415 -- see the imports

    normalize = unicodedata.normalize
    seen: dict[str, str] = {}
    folders: dict[str, str] = {}
    for name in names:
        problem = check_member_path(name)
        if problem:
            raise UnsafeWheelError(wheel, problem)
        key = normalize("NFC", name.rstrip("/")).casefold()
        if key in seen:
            if seen[key].rstrip("/") == name.rstrip("/"):
                raise UnsafeWheelError(wheel, f"has the entry `{name}` twice")
            raise UnsafeWheelError(
                wheel, f"has entries `{seen[key]}` and `{name}` that differ only in case"
            )
        seen[key] = name
        parent = key.rpartition("/")[0]
        while parent and parent not in folders:  # each folder once: linear in all
            folders[parent] = name
            parent = parent.rpartition("/")[0]
    for key, name in seen.items():
        if not name.endswith("/") and key in folders and name not in links:
            raise UnsafeWheelError(
                wheel, f"has a file `{name}` that `{folders[key]}` needs as a folder"
            )


def find_dist_info(wheel: str, top_level: Iterable[str]) -> str:
    """Return the one ``.dist-info`` folder among the top-level names, or raise."""
    found = sorted({name for name in top_level if name.endswith(".dist-info")})
    if len(found) != 1:
        listed = ", ".join(f"`{name}`" for name in found) or "none"
        raise InvalidWheelError(wheel, f"needs exactly one `.dist-info` folder, found {listed}")
    return found[0]


def _split_dist_info(wheel: str, dist_info: str) -> tuple[str, Version]:
    stem = dist_info[: -len(".dist-info")]
    name, sep, version = stem.rpartition("-")
    try:
        parsed = Version(version) if sep and name else None
    except ValueError:  # InvalidVersion, or a number longer than int() reads
        parsed = None
    if parsed is None:
        raise InvalidWheelError(
            wheel, f"has a malformed folder name `{dist_info}`; expected `<name>-<version>`"
        )
    return canonicalize_name(name), parsed


def read_wheel_info(
    wheel: str,
    dist_info: str,
    read: Callable[[str], bytes],
    *,
    expected: tuple[str, Version] | None = None,
) -> WheelInfo:
    """Check ``WHEEL`` and ``METADATA`` in ``dist_info`` and return what they declare.

    ``read`` returns a file's bytes by archive path (``KeyError`` when missing).
    ``expected`` is the (canonical name, version) of the wheel's file name; the folder
    name and ``METADATA`` must agree with it and with each other.
    """
    from email.parser import HeaderParser  # noqa: PLC0415 -- not needed by warm installs

    folder_name, folder_version = _split_dist_info(wheel, dist_info)
    files = {}
    for filename in ("WHEEL", "METADATA"):
        try:
            files[filename] = HeaderParser().parsestr(
                read(f"{dist_info}/{filename}").decode("utf-8", errors="replace")
            )
        except KeyError:
            raise InvalidWheelError(wheel, f"has no `{dist_info}/{filename}`") from None
    wheel_version = files["WHEEL"].get("Wheel-Version", "")
    if wheel_version.partition(".")[0].strip() != "1":
        raise InvalidWheelError(
            wheel, f"has `Wheel-Version: {wheel_version}`; only version 1 is supported"
        )
    name = files["METADATA"].get("Name", "").strip()
    version_text = files["METADATA"].get("Version", "").strip()
    try:
        version = Version(version_text)
    except ValueError:  # InvalidVersion, or a number longer than int() reads
        shown = version_text if len(version_text) <= 40 else f"{version_text[:40]}..."
        raise InvalidWheelError(wheel, f"has an invalid `Version: {shown}` in `METADATA`") from None
    if not name:
        raise InvalidWheelError(wheel, "has no `Name` in `METADATA`")
    declared = (canonicalize_name(name), version)
    if declared != (folder_name, folder_version):
        raise InvalidWheelError(
            wheel, f"`METADATA` names `{name} {version_text}` but the folder is `{dist_info}`"
        )
    if expected is not None and declared != expected:
        raise InvalidWheelError(
            wheel, f"`METADATA` names `{name} {version_text}`, which the file name does not"
        )
    purelib = files["WHEEL"].get("Root-Is-Purelib", "true").strip().lower() == "true"
    return WheelInfo(name, version_text, dist_info, purelib)


def check_record(
    wheel: str,
    info: WheelInfo,
    text: str,
    files: Mapping[str, int | None],
) -> dict[str, RecordEntry]:
    """Check a wheel's RECORD against its ``files`` (path to size, when known).

    Every file but RECORD and its signatures must be listed once with an allowed hash,
    and every listed path must exist; returns the entries by path.
    """
    try:
        entries = parse_record(text)
    except ValueError as error:
        raise InvalidWheelError(wheel, f"has a malformed `RECORD`: {error}") from None
    skip = {f"{info.dist_info}/{name}" for name in SIGNATURE_FILES}
    record: dict[str, RecordEntry] = {}
    for entry in entries:
        problem = check_member_path(entry.path)
        if problem:
            raise UnsafeWheelError(wheel, f"`RECORD` {problem}")
        if entry.path in skip:
            continue
        if entry.path not in files:
            raise InvalidWheelError(wheel, f"`RECORD` lists `{entry.path}`, which is missing")
        if entry.hash is None:
            raise InvalidWheelError(wheel, f"`RECORD` has no hash for `{entry.path}`")
        if entry.hash.name not in ALLOWED_HASHES:
            raise InvalidWheelError(
                wheel, f"`RECORD` uses the weak hash `{entry.hash.name}` for `{entry.path}`"
            )
        size = files[entry.path]
        if entry.size is not None and size is not None and entry.size != size:
            raise InvalidWheelError(
                wheel, f"`{entry.path}` has {size} bytes but `RECORD` says {entry.size}"
            )
        record[entry.path] = entry
    for path in files:
        if path not in record and path not in skip:
            raise InvalidWheelError(wheel, f"`{path}` is not listed in `RECORD`")
    return record


def _config_problem(error: configparser.Error) -> str:
    """Return one line for a ``configparser`` error, naming the first bad line.

    Its own text spans several lines (one per bad line, with the source's ``<string>``
    name), where an error message has one.
    """
    import configparser  # noqa: PLC0415 -- see the imports

    if isinstance(error, configparser.MissingSectionHeaderError):
        return f"line {error.lineno} comes before any section header"
    if isinstance(error, configparser.ParsingError) and error.errors:
        number, line = error.errors[0]
        more = len(error.errors) - 1
        also = f" (and {more} more line{'s' if more > 1 else ''})" if more else ""
        shown = " ".join(str(line).split())  # the line's repr, quoted: `'= \\n'`
        return f"line {number} cannot be parsed: {shown}{also}"
    lines = str(error).splitlines()
    return lines[0] if lines else type(error).__name__


def parse_entry_points(wheel: str, text: str) -> list[EntryPoint]:
    """Parse the script entry points of ``entry_points.txt``; reject unsafe names.

    A script name becomes a file name in the scripts folder and module and attribute
    become Python source, so each must be a plain name: no separators, no code.
    """
    import configparser  # noqa: PLC0415 -- see the imports

    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep case
    try:
        parser.read_string(text)
    except configparser.Error as error:
        problem = _config_problem(error)
        raise InvalidWheelError(wheel, f"has a malformed `entry_points.txt`: {problem}") from None
    found = []
    for section, gui in (("console_scripts", False), ("gui_scripts", True)):
        if not parser.has_section(section):
            continue
        for name, value in parser.items(section):
            if not _SCRIPT_NAME.match(name) or name in {".", ".."}:
                raise UnsafeWheelError(wheel, f"has an entry point with an unsafe name `{name}`")
            target = value.partition("[")[0].strip()
            module, _, attr = (part.strip() for part in target.partition(":"))
            if not _IDENTIFIER_PATH.match(module) or not _IDENTIFIER_PATH.match(attr):
                raise UnsafeWheelError(
                    wheel, f"has an entry point `{name}` with a malformed target `{value}`"
                )
            found.append(EntryPoint(name, module, attr, gui))
    return found


class WheelSource(Protocol):
    """Where an install reads a wheel from: validated, with each file on disk."""

    @property
    def label(self) -> str:
        """A name for messages: the wheel's file name or folder."""

    @property
    def info(self) -> WheelInfo:
        """The wheel's checked metadata."""

    @property
    def root(self) -> Path:
        """The folder the wheel is unpacked in."""

    def validate(self) -> None:
        """Raise :class:`InvalidWheelError` unless the whole wheel is safe to install."""

    def read_text(self, path: str) -> str | None:
        """Return the text of a wheel file by archive path, ``None`` when absent."""

    def files(self) -> list[tuple[str, str, bool]]:
        """Return (archive path, path on disk, is symlink) for each file, RECORD included."""

    def record(self) -> dict[str, RecordEntry]:
        """Return the wheel's RECORD entries by archive path."""

    def manifest(self) -> Manifest:
        """Return what an install links and writes (validates first when needed)."""


class UnpackedWheel:
    """A wheel unpacked into a folder (a cache entry): the source installs link from.

    The cache only publishes trees that passed :class:`~resolvent.installer.archive.
    WheelArchive`'s full check, so :meth:`validate` re-checks layout, paths, links and
    RECORD coverage but re-hashes file contents only when ``verify_hashes`` is set.

    ``manifest`` is the manifest the cache stored with the entry when it verified it:
    given one, an install takes the entry's files from it and skips the walk and the
    checks (it installs only the files the manifest lists). Without one, the tree is
    validated and the manifest computed from it.
    """

    __slots__ = (
        "_files",
        "_info",
        "_manifest",
        "_record",
        "_stored",
        "label",
        "root",
        "verify_hashes",
    )

    def __init__(
        self,
        root: Path,
        *,
        label: str | None = None,
        verify_hashes: bool = False,
        manifest: Manifest | None = None,
    ) -> None:
        self.root = root
        self.label = label or root.name
        self.verify_hashes = verify_hashes
        self._info: WheelInfo | None = None
        self._files: list[tuple[str, str, bool]] | None = None
        self._record: dict[str, RecordEntry] | None = None
        self._manifest = None if verify_hashes else manifest
        self._stored = self._manifest is not None

    @property
    def manifest_was_stored(self) -> bool:
        """Whether the manifest came with the tree (else it is computed: worth storing)."""
        return self._stored

    def manifest(self) -> Manifest:
        """Return the install manifest: the stored one, else one computed after validating."""
        if self._manifest is None:
            from resolvent.installer.manifest import build_manifest  # noqa: PLC0415 -- cycle

            files = self.files()
            info = self.info
            self._manifest = build_manifest(
                info,
                ((name, is_link) for name, _, is_link in files),
                self.record(),
                parse_entry_points(
                    self.label, self.read_text(f"{info.dist_info}/entry_points.txt") or ""
                ),
            )
        return self._manifest

    def _read(self, path: str) -> bytes:
        try:
            with open(os.path.join(self.root, *path.split("/")), "rb") as stream:
                return stream.read()
        except FileNotFoundError:
            raise KeyError(path) from None

    def read_text(self, path: str) -> str | None:
        """Return the text of the file at archive ``path``, or ``None``.

        Undecodable bytes become U+FFFD, as the archive reader does: a ``Summary`` in
        Latin-1 must not fail an install that never reads the summary.
        """
        try:
            return self._read(path).decode("utf-8", errors="replace")
        except KeyError:
            return None

    def _walk(self) -> tuple[list[tuple[str, str, bool]], dict[str, str]]:
        files: list[tuple[str, str, bool]] = []
        links: dict[str, str] = {}
        stack = [("", os.fspath(self.root))]
        while stack:
            prefix, folder = stack.pop()
            with os.scandir(folder) as entries:
                for entry in entries:
                    name = prefix + entry.name
                    if entry.is_symlink():
                        links[name] = os.readlink(entry.path)
                        files.append((name, entry.path, True))
                    elif entry.is_dir():
                        stack.append((name + "/", entry.path))
                    else:
                        files.append((name, entry.path, False))
        files.sort()
        return files, links

    def validate(self) -> None:
        """Check the tree as a wheel; raise :class:`InvalidWheelError` if it is not one."""
        if not os.path.isdir(self.root):
            raise InvalidWheelError(self.label, "is not an unpacked wheel folder")
        files, links = self._walk()
        check_names(self.label, (name for name, _, _ in files))
        for name, target in links.items():
            problem = check_symlink(name, target, links)
            if problem:
                raise UnsafeWheelError(self.label, problem)
        dist_info = find_dist_info(self.label, (name.split("/")[0] for name, _, _ in files))
        info = read_wheel_info(self.label, dist_info, self._read)
        check_data_dir(self.label, info, (name for name, _, _ in files))
        record_text = self.read_text(f"{dist_info}/RECORD")
        if record_text is None:
            raise InvalidWheelError(self.label, f"has no `{dist_info}/RECORD`")
        sizes: dict[str, int | None] = {name: None for name, _, _ in files}
        record = check_record(self.label, info, record_text, sizes)
        parse_entry_points(self.label, self.read_text(f"{dist_info}/entry_points.txt") or "")
        if self.verify_hashes:
            for name, path, is_link in files:
                entry = record.get(name)
                if entry is None or entry.hash is None or is_link:
                    continue
                digest, size = hash_file(path, entry.hash.name)
                if digest != entry.hash or (entry.size is not None and size != entry.size):
                    raise InvalidWheelError(
                        self.label, f"`{name}` does not match its `RECORD` hash"
                    )
        self._info, self._files, self._record = info, files, record

    @property
    def info(self) -> WheelInfo:
        """The checked metadata (validates on first use)."""
        if self._info is None:
            self.validate()
        assert self._info is not None
        return self._info

    def files(self) -> list[tuple[str, str, bool]]:
        """Return (archive path, path on disk, is symlink) for every file."""
        if self._files is None:
            self.validate()
        assert self._files is not None
        return self._files

    def record(self) -> dict[str, RecordEntry]:
        """Return the wheel's RECORD entries by archive path."""
        if self._record is None:
            self.validate()
        assert self._record is not None
        return self._record


def check_data_dir(wheel: str, info: WheelInfo, names: Iterable[str]) -> None:
    """Raise unless every path under the `.data` folder is in one of its five keys."""
    prefix = info.data_dir + "/"
    for name in names:
        if name.startswith(prefix):
            key = name[len(prefix) :].split("/", 1)
            if len(key) < 2 or key[0] not in DATA_KEYS:
                raise InvalidWheelError(
                    wheel, f"has `{name}`; `.data` may only hold {', '.join(sorted(DATA_KEYS))}"
                )
