"""A wheel archive is a wheel file as an untrusted zip, checked whole before it is unpacked.

A wheel comes from the network, so its zip is hostile until proven otherwise: entry names
can climb out of the destination, links can point anywhere, sizes can lie (zip bombs) and
contents can differ from RECORD. :class:`WheelArchive` checks everything it can from the
central directory and the small metadata files first, then extracts while hashing each
file once, so a mismatch stops the extraction into a private folder that the caller
discards.

Example::

    archive = WheelArchive(Path("demo-1.0-py3-none-any.whl"))
    info = archive.validate()       # raises InvalidWheelError / UnsafeWheelError
    archive.extract(Path("tmp"))    # the same checks, plus every RECORD hash
"""

# Hot paths use str paths and os calls, as DESIGN.md asks:
# ruff: noqa: PTH102, PTH112, PTH118, PTH211
from __future__ import annotations

import os
import stat
import zipfile
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from resolvent.errors import InvalidWheelError, UnsafeWheelError
from resolvent.installer.record import Hash, copy_with_hash
from resolvent.installer.wheel import (
    check_data_dir,
    check_names,
    check_record,
    check_symlink,
    find_dist_info,
    parse_entry_points,
    read_wheel_info,
)

if TYPE_CHECKING:
    from pathlib import Path

    from packaging.version import Version

    from resolvent.installer.record import RecordEntry
    from resolvent.installer.wheel import WheelInfo

__all__ = ["WheelArchive", "ZipLimits"]

_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)
_MAX_LINK = 4096
_MAX_METADATA = 16 << 20


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """Bounds that stop a zip bomb before it fills the disk.

    ``max_total_size`` caps the declared uncompressed size; ``max_ratio`` caps the
    uncompressed/compressed ratio once the total passes ``ratio_threshold`` (small files
    compress well for honest reasons). Extraction also stops any entry that inflates past
    its declared size.
    """

    max_total_size: int = 16 << 30
    max_ratio: float = 250.0
    ratio_threshold: int = 64 << 20
    max_entries: int = 250_000


def _is_symlink(member: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(member.external_attr >> 16)


def _is_executable(member: zipfile.ZipInfo) -> bool:
    return bool((member.external_attr >> 16) & 0o111)


class WheelArchive:
    """A wheel file on disk, read as an untrusted zip archive."""

    __slots__ = ("_info", "_record", "limits", "path")

    def __init__(self, path: Path, *, limits: ZipLimits | None = None) -> None:
        self.path = path
        self.limits = limits or ZipLimits()
        self._info: WheelInfo | None = None
        self._record: dict[str, RecordEntry] = {}

    @property
    def label(self) -> str:
        """The wheel's file name, for messages."""
        return self.path.name

    def _open(self) -> zipfile.ZipFile:
        try:
            return zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise InvalidWheelError(self.label, "does not exist") from None
        except (*_READ_ERRORS, OSError) as error:
            raise InvalidWheelError(
                self.label, f"is not a readable zip archive (truncated or corrupt: {error})"
            ) from None

    def _read(self, archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
        member = archive.getinfo(name)  # KeyError when missing, as read_wheel_info expects
        if member.file_size > limit:
            raise InvalidWheelError(self.label, f"`{name}` is too large ({member.file_size} B)")
        try:
            with archive.open(member) as stream:
                data = stream.read(limit + 1)
        except _READ_ERRORS as error:
            raise InvalidWheelError(self.label, f"has a corrupt entry `{name}`: {error}") from None
        if len(data) > limit:
            raise InvalidWheelError(self.label, f"`{name}` inflates past its declared size")
        return data

    def _expected(self) -> tuple[str, Version]:
        try:
            name, version, _, _ = parse_wheel_filename(self.path.name)
        except InvalidWheelFilename as error:
            raise InvalidWheelError(self.label, f"has an invalid file name: {error}") from None
        return canonicalize_name(name), version

    def _check(self, archive: zipfile.ZipFile) -> WheelInfo:
        expected = self._expected()
        members = archive.infolist()
        limits = self.limits
        if len(members) > limits.max_entries:
            raise InvalidWheelError(self.label, f"has too many entries ({len(members)})")
        check_names(self.label, (member.filename for member in members))
        total = sum(member.file_size for member in members)
        packed = sum(member.compress_size for member in members)
        if total > limits.max_total_size:
            raise InvalidWheelError(
                self.label, f"unpacks to {total} bytes, over the limit of {limits.max_total_size}"
            )
        if total > limits.ratio_threshold and total > limits.max_ratio * max(packed, 1):
            raise InvalidWheelError(
                self.label,
                f"unpacks to {total} bytes from {packed} (a zip bomb?); "
                f"the limit is a ratio of {limits.max_ratio:g}",
            )
        links = {m.filename: m for m in members if _is_symlink(m)}
        for name in links:
            target = self._read(archive, name, _MAX_LINK).decode("utf-8", errors="replace")
            problem = check_symlink(name, target, links)
            if problem:
                raise UnsafeWheelError(self.label, problem)
        for member in members:
            parent = member.filename.rstrip("/").rpartition("/")[0]
            while parent:
                if parent in links:
                    raise UnsafeWheelError(
                        self.label, f"writes `{member.filename}` through the link `{parent}`"
                    )
                parent = parent.rpartition("/")[0]
        files = {m.filename: m.file_size for m in members if not m.is_dir()}
        dist_info = find_dist_info(self.label, (name.split("/")[0] for name in files))
        info = read_wheel_info(
            self.label,
            dist_info,
            lambda name: self._read(archive, name, _MAX_METADATA),
            expected=expected,
        )
        check_data_dir(self.label, info, files)
        try:
            record_text = self._read(archive, f"{dist_info}/RECORD", _MAX_METADATA)
        except KeyError:
            raise InvalidWheelError(self.label, f"has no `{dist_info}/RECORD`") from None
        self._record = check_record(
            self.label, info, record_text.decode("utf-8", errors="replace"), dict(files)
        )
        entry_points = f"{dist_info}/entry_points.txt"
        if entry_points in files:
            text = self._read(archive, entry_points, _MAX_METADATA)
            parse_entry_points(self.label, text.decode("utf-8", errors="replace"))
        self._info = info
        return info

    def validate(self) -> WheelInfo:
        """Check names, sizes, links, layout, metadata and RECORD coverage; hash nothing.

        Raises :class:`UnsafeWheelError` for anything that would write outside the
        destination and :class:`InvalidWheelError` for everything else.
        """
        with self._open() as archive:
            return self._check(archive)

    def extract(self, target: Path) -> WheelInfo:
        """Validate, then unpack into the new folder ``target``, checking every hash.

        On error ``target`` may hold part of the wheel: callers extract into a private
        folder and discard it (the cache does). Scripts in ``.data/scripts`` are made
        executable here, so installs can link them without touching their mode.
        """
        with self._open() as archive:
            info = self._check(archive)
            scripts = f"{info.data_dir}/scripts/"
            os.mkdir(target)
            root = os.fspath(target)
            made: set[str] = {""}
            links = frozenset(m.filename for m in archive.infolist() if _is_symlink(m))
            for member in archive.infolist():
                name = member.filename
                parts = name.rstrip("/").split("/")
                if member.is_dir():
                    self._makedirs(root, parts, made)
                    continue
                self._makedirs(root, parts[:-1], made)
                path = os.path.join(root, *parts)
                if name in links:
                    data = self._read(archive, name, _MAX_LINK)
                    entry = self._record.get(name)
                    algorithm = entry.hash.name if entry and entry.hash else "sha256"
                    self._check_hash(name, Hash.of(data, algorithm), len(data))
                    os.symlink(data.decode("utf-8"), path)
                    continue
                mode = 0o755 if _is_executable(member) or name.startswith(scripts) else 0o644
                self._extract_file(archive, member, path, mode)
        return info

    @staticmethod
    def _makedirs(root: str, parts: list[str], made: set[str]) -> None:
        for index in range(1, len(parts) + 1):
            key = "/".join(parts[:index])
            if key not in made:
                path = os.path.join(root, *parts[:index])
                if not os.path.isdir(path):
                    os.mkdir(path)
                made.add(key)

    def _extract_file(
        self, archive: zipfile.ZipFile, member: zipfile.ZipInfo, path: str, mode: int
    ) -> None:
        name = member.filename
        entry = self._record.get(name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        os.fchmod(fd, mode)  # O_CREAT's mode is masked by the umask
        with os.fdopen(fd, "wb") as target:
            try:
                with archive.open(member) as source:
                    digest, size = copy_with_hash(
                        source,  # type: ignore[arg-type]  # ZipExtFile is a BinaryIO
                        target,
                        entry.hash.name if entry and entry.hash else "sha256",
                        limit=member.file_size,
                    )
            except OverflowError:
                raise InvalidWheelError(
                    self.label, f"`{name}` inflates past its declared size (a zip bomb?)"
                ) from None
            except _READ_ERRORS as error:
                raise InvalidWheelError(
                    self.label, f"has a corrupt entry `{name}`: {error}"
                ) from None
        self._check_hash(name, digest, size)

    def _check_hash(self, name: str, digest: Hash, size: int) -> None:
        entry = self._record.get(name)
        if entry is None or entry.hash is None:
            return
        if digest != entry.hash:
            raise InvalidWheelError(self.label, f"`{name}` does not match its `RECORD` hash")
        if entry.size is not None and size != entry.size:
            raise InvalidWheelError(
                self.label, f"`{name}` has {size} bytes but `RECORD` says {entry.size}"
            )
