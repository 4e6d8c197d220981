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

import contextlib
import os
import stat
import struct
import threading
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, cast

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from resolvent.errors import InvalidWheelError, UnsafeWheelError
from resolvent.installer.download_gate import DownloadGate, GatedReader, MemoryReader
from resolvent.installer.manifest import Manifest, build_manifest
from resolvent.installer.parallel import usable_cpus
from resolvent.installer.record import Hash, copy_with_hash, encode_digest, new_hasher
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
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from packaging.version import Version

    from resolvent.installer.record import RecordEntry
    from resolvent.installer.wheel import EntryPoint, WheelInfo

__all__ = ["WheelArchive", "ZipLimits"]


class _Inflater(Protocol):
    """A raw-deflate decompressor: the part of ``zlib.decompressobj`` extraction uses."""

    @property
    def unconsumed_tail(self) -> bytes: ...

    @property
    def eof(self) -> bool: ...

    def decompress(self, data: bytes | memoryview, max_length: int = 0, /) -> bytes: ...


def _zlib_inflater() -> _Inflater:
    return zlib.decompressobj(-zlib.MAX_WBITS)


def _pick_inflater() -> tuple[Callable[[], _Inflater], tuple[type[Exception], ...]]:
    """Return the fastest raw-deflate decompressor available and the errors it raises.

    Inflating is most of the CPU time of unpacking a wheel (1.3 GB for an ML stack).
    ISA-L (the ``isal`` package) inflates the same streams about twice as fast as zlib,
    releases the GIL as zlib does and takes the same ``max_length`` bound, so the zip
    bomb checks are unchanged; where it has no wheel, the standard ``zlib`` is used.
    """
    try:
        from isal import isal_zlib  # noqa: PLC0415 -- optional accelerator
    except ImportError:  # pragma: no cover -- isal is a dependency where it has wheels
        return _zlib_inflater, (zlib.error,)

    def isal_inflater() -> _Inflater:
        return isal_zlib.decompressobj(-zlib.MAX_WBITS)

    # Its stubs declare ``error`` as an instance; it is the exception class.
    return isal_inflater, (zlib.error, cast("type[Exception]", isal_zlib.error))


_new_inflater, _INFLATE_ERRORS = _pick_inflater()
_READ_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    *_INFLATE_ERRORS,
    EOFError,
    NotImplementedError,
    RuntimeError,
)
_OPEN_ERRORS: tuple[type[Exception], ...] = (*_READ_ERRORS, OSError)
_MAX_LINK = 4096
_MAX_METADATA = 16 << 20
# Members up to this size are read, inflated, checked and written in one piece each;
# bigger ones are streamed in chunks of _STREAM_CHUNK (bounded memory). A chunk is four
# calls that release the GIL (read or slice, inflate, hash, write), and a streaming
# thread waits its turn to take the GIL back after each while the small members' threads
# and the downloads hold it: torch's 430 MB library in 1 MiB chunks was some 1,700 such
# waits, and its stream ran 1.9-2.7 s past the end of its download for 0.9 s of CPU
# time. 4 MiB chunks (a quarter of the waits) cost no more CPU time alone (0.88-0.90 s
# against 0.88-0.95 s; 8 MiB: 1.02-1.04 s, the chunk outgrows the caches), and in
# seven alternated cold installs of seed-ml the preparing took 4.59 s (median) against
# 5.05 s with 1 MiB.
_WHOLE_MEMBER = 32 << 20
_STREAM_CHUNK = 4 << 20
# A local file header: signature, versions, flags, method, time, date, CRC, sizes,
# name length, extra length (APPNOTE 4.3.7).
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"
# A wheel with many members is written by up to this many threads, each with at least
# this many members.
_EXTRACT_THREADS = 4
_MEMBERS_PER_THREAD = 64


# Pieces of small members extracted at once, across every wheel of the process: one per
# CPU. Inflating, hashing and writing release the GIL, but only for a moment per member,
# so more threads than CPUs add no throughput: they contend for the GIL with each other
# and with the thread that streams downloads. A cold install unpacks several wheels at
# once, so a bound per wheel is not enough (see ``Preparer``). A big member's stream
# takes no slot: it is one long task that holds the GIL once per megabyte, and the
# longest single piece of a cold install (torch's 400 MB library), so it must not queue.
_EXTRACT_SLOTS = threading.BoundedSemaphore(usable_cpus())


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


def _pread(fd: int, size: int, offset: int) -> bytes:
    """``os.pread`` where it exists; else seek and read under a lock (Windows)."""
    with _SEEK_LOCK:
        os.lseek(fd, offset, os.SEEK_SET)
        chunks = []
        while size > 0:
            chunk = os.read(fd, size)
            if not chunk:
                break
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)


_SEEK_LOCK = threading.Lock()
# Whether a path joins with "/" (POSIX), as a wheel's member names do.
_SLASH_PATHS = os.sep == "/" and os.altsep is None
_read_at = getattr(os, "pread", _pread)
_O_BINARY = getattr(os, "O_BINARY", 0)


def _read_umask() -> int | None:
    """Return the process umask, read without changing it (Linux); ``None`` if unknown.

    ``os.umask`` can only be read by setting it, which would race with other threads
    creating files; ``/proc/self/status`` states it (Linux 4.7+).
    """
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as stream:  # noqa: PTH123
            for line in stream:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _readable_by_offset(member: zipfile.ZipInfo) -> bool:
    """Whether the member is read by offset here: stored or deflated, not encrypted.

    Anything else (bzip2, lzma, encryption) goes through zipfile, which supports it or
    reports it properly.
    """
    return (
        member.compress_type in {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
        and not member.flag_bits & 0x1
    )


def _member_span(member: zipfile.ZipInfo) -> tuple[int, int]:
    """Return where a member's local header starts and how many bytes reach its data's end.

    The local header's name and extra field are taken at the central directory's
    lengths; a longer local extra field makes the data read wait again, which is harmless.
    """
    header = _LOCAL_HEADER.size + len(member.orig_filename.encode("utf-8", "replace"))
    return member.header_offset, header + len(member.extra) + member.compress_size


def _fits_whole(member: zipfile.ZipInfo) -> bool:
    """Whether the member is small enough to be read, inflated and checked in one piece."""
    return member.file_size <= _WHOLE_MEMBER and member.compress_size <= _WHOLE_MEMBER


class WheelArchive:
    """A wheel file on disk, read as an untrusted zip archive."""

    __slots__ = (
        "_data",
        "_entry_points",
        "_gate",
        "_info",
        "_members",
        "_record",
        "_umask",
        "limits",
        "path",
    )

    def __init__(
        self,
        path: Path,
        *,
        limits: ZipLimits | None = None,
        gate: DownloadGate | None = None,
        data: bytes | bytearray | memoryview | None = None,
    ) -> None:
        """Open the wheel file at ``path`` (nothing is read yet).

        :param gate: the file is still downloading: every read waits for its bytes.
        :param data: the file's bytes, held in memory (``path`` then only names it: the
            checks read the project's name and version from its file name).
        """
        self.path = path
        self.limits = limits or ZipLimits()
        self._gate = gate
        self._data = None if data is None else memoryview(data).cast("B")
        self._info: WheelInfo | None = None
        self._record: dict[str, RecordEntry] = {}
        self._members: list[tuple[str, bool]] = []
        self._entry_points: list[EntryPoint] = []
        self._umask: int | None = None

    def _needs_chmod(self, mode: int) -> bool:
        """Whether a file created with ``mode`` may lack bits of it (the umask masked them).

        With the usual umask (022) the modes extraction uses (644, 755) come out whole,
        and a ``fchmod`` per file (tens of thousands for a big wheel) is saved; an
        unknown umask always asks for it.
        """
        return self._umask is None or bool(mode & self._umask)

    @property
    def label(self) -> str:
        """The wheel's file name, for messages."""
        return self.path.name

    @contextlib.contextmanager
    def _open(self) -> Iterator[zipfile.ZipFile]:
        """Open the archive (through the gate while it downloads); close all on exit."""
        reader: GatedReader | MemoryReader | None = None
        if self._data is not None:
            reader = MemoryReader(self._data, self._gate)
        elif self._gate is not None:
            reader = self._open_gated(self._gate)
        try:
            with self._open_zip(reader) as archive:
                yield archive
        finally:
            if reader is not None:
                reader.close()  # zipfile leaves a file object it was given open

    def _open_gated(self, gate: DownloadGate) -> GatedReader:
        try:
            return GatedReader(self.path, gate)
        except FileNotFoundError:
            raise InvalidWheelError(self.label, "does not exist") from None

    def _open_zip(self, reader: GatedReader | MemoryReader | None) -> zipfile.ZipFile:
        try:
            return zipfile.ZipFile(self.path if reader is None else reader)
        except FileNotFoundError:
            raise InvalidWheelError(self.label, "does not exist") from None
        except _OPEN_ERRORS as error:
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
        links = {m.filename: m for m in members if _is_symlink(m)}
        check_names(self.label, (member.filename for member in members), links)
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
        for name in links:
            target = self._read(archive, name, _MAX_LINK).decode("utf-8", errors="replace")
            problem = check_symlink(name, target, links)
            if problem:
                raise UnsafeWheelError(self.label, problem)
        for member in members if links else ():  # most wheels have no links at all
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
        self._entry_points = []
        if entry_points in files:
            text = self._read(archive, entry_points, _MAX_METADATA)
            self._entry_points = parse_entry_points(
                self.label, text.decode("utf-8", errors="replace")
            )
        self._members = [(name, name in links) for name in files]
        self._info = info
        return info

    def manifest(self) -> Manifest:
        """Return the install manifest of the checked wheel (after :meth:`validate`)."""
        if self._info is None:
            raise InvalidWheelError(self.label, "was not checked yet")
        return build_manifest(self._info, self._members, self._record, self._entry_points)

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

        Each member is touched once: read raw from the archive, inflated, checked
        (size and RECORD hash; the CRC where RECORD states no hash) in memory, and only
        then written, so even the private folder never holds a file that does not match.
        Members zipfile must handle (other compressions, encryption, very large files)
        stream through it instead.
        """
        with self._open() as archive:
            info = self._check(archive)
            self._umask = _read_umask()
            scripts = f"{info.data_dir}/scripts/"
            os.mkdir(target)
            root = os.fspath(target)
            made: set[str] = {""}
            members = archive.infolist()
            whole: list[tuple[zipfile.ZipInfo, str, int]] = []
            big: list[tuple[zipfile.ZipInfo, str, int]] = []
            other: list[tuple[zipfile.ZipInfo, str, int]] = []
            links: list[tuple[zipfile.ZipInfo, str]] = []
            for member in members:  # every folder first: the writers below only write files
                name = member.filename
                if member.is_dir():
                    self._makedirs(root, name.rstrip("/").split("/"), made)
                    continue
                parent = name.rpartition("/")[0]
                if parent not in made:  # most members share their folder with the last one
                    self._makedirs(root, parent.split("/"), made)
                # The names are checked (relative, no ``..``): on POSIX, joining is this.
                path = f"{root}/{name}" if _SLASH_PATHS else os.path.join(root, *name.split("/"))
                if _is_symlink(member):
                    links.append((member, path))
                    continue
                executable = _is_executable(member) or member.filename.startswith(scripts)
                item = (member, path, 0o755 if executable else 0o644)
                if not _readable_by_offset(member):
                    other.append(item)
                else:
                    (whole if _fits_whole(member) else big).append(item)
            self._extract_by_offset(whole, big)
            for member, path, mode in other:
                self._extract_file(archive, member, path, mode)
            for member, path in links:
                name = member.filename
                data = self._read(archive, name, _MAX_LINK)
                entry = self._record.get(name)
                algorithm = entry.hash.name if entry and entry.hash else "sha256"
                self._check_hash(name, Hash.of(data, algorithm), len(data))
                os.symlink(data.decode("utf-8"), path)
        return info

    def _extract_by_offset(
        self,
        whole: list[tuple[zipfile.ZipInfo, str, int]],
        big: list[tuple[zipfile.ZipInfo, str, int]],
    ) -> None:
        """Write ``whole`` and ``big`` items (member, path, mode), in a few threads if many.

        Creating a file is a system call that costs far more than the Python around it
        on many file systems, and it releases the GIL, as inflating and hashing do; so a
        big wheel is written by several threads at once, reading the archive by offset
        (``os.pread``) through one descriptor. A ``big`` member (torch's 400 MB library)
        is streamed in its own task, started first: it is the longest single piece of
        work, and the small members share the other threads meanwhile, in pieces small
        enough that no thread is left with a long tail.
        """
        if not whole and not big:
            return
        # A wheel in memory is read in place (see ``_read_at``): no descriptor.
        fd = -1 if self._data is not None else os.open(self.path, os.O_RDONLY | _O_BINARY)
        try:
            shares = min(_EXTRACT_THREADS, len(whole) // _MEMBERS_PER_THREAD)
            threads = min(_EXTRACT_THREADS, shares + len(big))
            if threads <= 1:
                for member, path, mode in big:
                    self._stream(fd, member, path, mode)
                for run in self._slot_runs(whole):
                    with _EXTRACT_SLOTS:
                        for member, path, mode in run:
                            self._extract_whole(fd, member, path, mode)
                return
            failed = threading.Event()

            def write_whole(share: list[tuple[zipfile.ZipInfo, str, int]]) -> None:
                try:
                    for run in self._slot_runs(share):
                        with _EXTRACT_SLOTS:
                            for member, path, mode in run:
                                if failed.is_set():
                                    return
                                self._extract_whole(fd, member, path, mode)
                except BaseException:
                    failed.set()
                    raise

            def stream(member: zipfile.ZipInfo, path: str, mode: int) -> None:
                if failed.is_set():
                    return
                try:
                    self._stream(fd, member, path, mode)
                except BaseException:
                    failed.set()
                    raise

            pieces = max(1, min(len(whole) // (_MEMBERS_PER_THREAD // 4), threads * 4))
            if self._gate is None:
                # Interleaved pieces: members of one folder, often of one size, spread out.
                runs = [whole[i::pieces] for i in range(pieces)]
            else:
                # Consecutive pieces in file order: the bytes arrive in that order, and an
                # interleaved piece would hold its thread until the download's end.
                ordered = sorted(whole, key=lambda item: item[0].header_offset)
                step = -(-len(ordered) // pieces)
                runs = [ordered[i : i + step] for i in range(0, len(ordered), step)]
            with ThreadPoolExecutor(threads, thread_name_prefix="resolvent-unzip") as pool:
                futures = [pool.submit(stream, *item) for item in big]
                futures += [pool.submit(write_whole, run) for run in runs]
            for future in futures:
                future.result()  # the first error, if any
        finally:
            if fd >= 0:
                os.close(fd)

    def _slot_runs(
        self, items: list[tuple[zipfile.ZipInfo, str, int]]
    ) -> Iterator[list[tuple[zipfile.ZipInfo, str, int]]]:
        """Split items into runs, each extracted under one slot: all at once, or as they arrive.

        While the file downloads, a slot must not be held waiting for bytes (the other
        wheels' unpacks would wait with it): each run is the members already there, and
        the wait for the next one happens between runs, without a slot.
        """
        gate = self._gate
        if gate is None:
            yield items
            return
        start = 0
        while start < len(items):
            gate.wait(*_member_span(items[start][0]))
            end = start + 1
            while end < len(items) and gate.readable(*_member_span(items[end][0])):
                end += 1
            yield items[start:end]
            start = end

    def _read_at(self, fd: int, size: int, offset: int) -> bytes | memoryview:
        """Read ``size`` bytes at ``offset`` once the download (if any) has them.

        A wheel in memory is not copied: its bytes are sliced (``fd`` is then unused).
        """
        if self._gate is not None:
            self._gate.wait(offset, size)
        if self._data is not None:
            return self._data[offset : offset + size]
        return _read_at(fd, size, offset)

    def _needs_crc(self, name: str) -> bool:
        """Whether member ``name`` needs its CRC checked: RECORD states no hash for it.

        A member RECORD hashes is checked against that hash before it is written, which
        catches everything the CRC would (and more): computing both costs a second pass
        over every byte of the wheel.
        """
        entry = self._record.get(name)
        return entry is None or entry.hash is None

    def _inflate(self, fd: int, member: zipfile.ZipInfo, *, crc: bool = True) -> bytes | memoryview:
        """Return the bytes of a member :func:`_fits_whole` accepts, checked (size, CRC).

        ``crc=False`` skips the CRC, for members whose RECORD hash the caller checks.
        """
        name = member.filename
        packed = self._packed(fd, member)
        data: bytes | memoryview
        if member.compress_type == zipfile.ZIP_STORED:
            data = packed  # hashed and written as it is: no copy
        else:
            inflater = _new_inflater()
            limit = member.file_size + 1
            try:
                data = inflater.decompress(packed, limit)
                if len(data) < limit and not inflater.eof:
                    # An inflater may hold output back (ISA-L does): drain it, bounded.
                    parts = [data]
                    got = len(data)
                    while got < limit and not inflater.eof:
                        more = inflater.decompress(inflater.unconsumed_tail, limit - got)
                        if not more:
                            break
                        parts.append(more)
                        got += len(more)
                    data = b"".join(parts)
            except _INFLATE_ERRORS as error:
                raise InvalidWheelError(
                    self.label, f"has a corrupt entry `{name}`: {error}"
                ) from None
        if len(data) > member.file_size:
            raise InvalidWheelError(
                self.label, f"`{name}` inflates past its declared size (a zip bomb?)"
            )
        if len(data) != member.file_size or (crc and zlib.crc32(data) != member.CRC):
            raise InvalidWheelError(self.label, f"has a corrupt entry `{name}`: bad CRC or size")
        return data

    def _packed(self, fd: int, member: zipfile.ZipInfo) -> memoryview:
        """Return a member's stored bytes, read with its local header in one ``pread``.

        The local header's name and extra field usually match the central directory's,
        so their length is known in advance; one read instead of two saves a system
        call (and a turn at the GIL) per member, 26,000 of them for an ML stack. When the
        lengths differ, the data is read again from where the header says it starts.
        """
        name = member.filename
        size = member.compress_size
        encoded = member.orig_filename.encode("utf-8", "replace")  # only a guess: never raises
        guess = _LOCAL_HEADER.size + len(encoded) + len(member.extra)
        chunk = self._read_at(fd, guess + size, member.header_offset)
        start = self._local_data_start(chunk, name)
        if start != guess:
            chunk = self._read_at(fd, size, member.header_offset + start)
            start = 0
        if len(chunk) - start != size:
            raise InvalidWheelError(self.label, f"has a truncated entry `{name}`")
        return memoryview(chunk)[start:]

    def _local_data_start(self, header: bytes | memoryview, name: str) -> int:
        """Return where a member's data starts, relative to its local header (checked)."""
        if len(header) < _LOCAL_HEADER.size:
            raise InvalidWheelError(self.label, f"has a truncated entry `{name}`")
        fields = _LOCAL_HEADER.unpack_from(header)
        if fields[0] != _LOCAL_SIGNATURE:
            raise InvalidWheelError(self.label, f"has a corrupt entry `{name}`: bad local header")
        return int(_LOCAL_HEADER.size + fields[10] + fields[11])

    def _data_offset(self, fd: int, member: zipfile.ZipInfo) -> int:
        """Return where member's data starts, after its local header (checked)."""
        header = self._read_at(fd, _LOCAL_HEADER.size, member.header_offset)
        return member.header_offset + self._local_data_start(header, member.filename)

    def _stream(self, fd: int, member: zipfile.ZipInfo, path: str, mode: int) -> None:
        """Inflate a member too big for memory into ``path`` in chunks, checking it.

        The same checks as :meth:`_extract_whole` (declared size,
        RECORD hash, else CRC) on a bounded buffer: no chunk inflates past
        ``_STREAM_CHUNK``, and the extraction stops as soon as the member passes its
        declared size. The hash is known only at the end, so a mismatching file is
        briefly in the private folder, which the caller then discards.
        """
        name = member.filename
        offset = self._data_offset(fd, member)
        remaining = member.compress_size
        entry = self._record.get(name)
        algorithm = entry.hash.name if entry and entry.hash else "sha256"
        hasher = new_hasher(algorithm)
        check_crc = self._needs_crc(name)
        crc = 0
        size = 0
        inflater = _new_inflater() if member.compress_type == zipfile.ZIP_DEFLATED else None
        pending: bytes | memoryview = b""
        data: bytes | memoryview
        out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            if self._needs_chmod(mode):
                os.fchmod(out, mode)  # O_CREAT's mode is masked by the umask
            while True:
                if not pending and remaining:
                    pending = self._read_at(fd, min(_STREAM_CHUNK, remaining), offset)
                    if not pending:
                        raise InvalidWheelError(self.label, f"has a truncated entry `{name}`")
                    offset += len(pending)
                    remaining -= len(pending)
                if inflater is None:
                    data, pending = pending, b""
                else:
                    # With no input left this drains what the inflater held back
                    # (ISA-L keeps inflated bytes past ``max_length``; zlib does not).
                    try:
                        data = inflater.decompress(pending, _STREAM_CHUNK)
                    except _INFLATE_ERRORS as error:
                        raise InvalidWheelError(
                            self.label, f"has a corrupt entry `{name}`: {error}"
                        ) from None
                    pending = inflater.unconsumed_tail
                if not data and not pending and not remaining:
                    break
                size += len(data)
                if size > member.file_size:
                    raise InvalidWheelError(
                        self.label, f"`{name}` inflates past its declared size (a zip bomb?)"
                    )
                hasher.update(data)
                if check_crc:
                    crc = zlib.crc32(data, crc)
                view = memoryview(data)
                while view:
                    view = view[os.write(out, view) :]
                if inflater is not None and inflater.eof:
                    break
        finally:
            os.close(out)
        if (
            (inflater is not None and not inflater.eof)
            or size != member.file_size
            or (check_crc and crc != member.CRC)
        ):
            raise InvalidWheelError(self.label, f"has a corrupt entry `{name}`: bad CRC or size")
        self._check_hash(name, Hash(algorithm, encode_digest(hasher.digest())), size)

    def _extract_whole(self, fd: int, member: zipfile.ZipInfo, path: str, mode: int) -> None:
        """Inflate a member :func:`_fits_whole` accepts, check it, then write it to ``path``.

        The checks of :meth:`_inflate` (declared size; the CRC where RECORD states no
        hash) and of :meth:`_check_hash` (RECORD's hash, then its size), in that order
        and with the same messages, looking the member's RECORD entry up once: this runs
        for each of a cold install's 26,000 files, under the GIL between the calls that
        release it. A member RECORD states no hash for (RECORD itself) is not hashed.
        """
        name = member.filename
        entry = self._record.get(name)
        expected = None if entry is None else entry.hash
        data = self._inflate(fd, member, crc=expected is None)
        if entry is not None and expected is not None:
            digest = encode_digest(new_hasher(expected.name, data).digest())
            self._check_entry(name, entry, digest, len(data))
        self._write_checked(name, data, path, mode)

    def _write_checked(
        self,
        name: str,  # noqa: ARG002 -- which member: the hook tests wrap to watch the writes
        data: bytes | memoryview,
        path: str,
        mode: int,
    ) -> None:
        """Write member ``name``'s bytes to the new file ``path`` (``O_EXCL``).

        The caller has checked them; ``name`` is here for the tests that wrap this method.
        """
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            if self._needs_chmod(mode):
                os.fchmod(fd, mode)  # O_CREAT's mode is masked by the umask
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    @staticmethod
    def _makedirs(root: str, parts: list[str], made: set[str]) -> None:
        for index in range(1, len(parts) + 1):
            key = "/".join(parts[:index])
            if key not in made:
                path = os.path.join(root, *parts[:index])
                try:
                    os.mkdir(path)  # the folder is new but for odd spellings of one name
                except FileExistsError:
                    if not os.path.isdir(path):
                        raise
                made.add(key)

    def _extract_file(
        self, archive: zipfile.ZipFile, member: zipfile.ZipInfo, path: str, mode: int
    ) -> None:
        name = member.filename
        entry = self._record.get(name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        if self._needs_chmod(mode):
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
        if digest.name != entry.hash.name:
            raise InvalidWheelError(self.label, f"`{name}` does not match its `RECORD` hash")
        self._check_entry(name, entry, digest.value, size)

    def _check_entry(self, name: str, entry: RecordEntry, digest: str, size: int) -> None:
        """Refuse member ``name`` unless its ``digest`` and ``size`` are what ``entry`` says."""
        assert entry.hash is not None
        if digest != entry.hash.value:
            raise InvalidWheelError(self.label, f"`{name}` does not match its `RECORD` hash")
        if entry.size is not None and size != entry.size:
            raise InvalidWheelError(
                self.label, f"`{name}` has {size} bytes but `RECORD` says {entry.size}"
            )
