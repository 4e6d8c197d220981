"""Reading a wheel while it downloads: which bytes of the growing file may be read yet.

A cold install of an ML stack ends with torch: its 190 MB download finishes last, and
only then does its unpacking (two seconds, one 430 MB library) begin, alone, while the
other CPU idles. uv unzips as the bytes arrive. resolvent does too, for big wheels, with
the archive checks unchanged: the central directory and the ``.dist-info`` files sit at
a wheel's end, so they are fetched first with range requests and written at their
offsets into the file the download then fills from the start (or into a buffer in
memory, read through :class:`MemoryReader`). The unpacking reads the file through a
:class:`DownloadGate`, which holds every read until its bytes are there: either already
downloaded or inside that prefetched tail.

Nothing of this is trusted early: the unpacked tree is published to the cache only after
the whole file matched its expected hash *and* the prefetched tail matched the bytes the
download wrote over it (the preparer checks both). A server that answers the range
requests with other bytes than the download costs the early work, never correctness.

Example::

    gate = DownloadGate(size=len_of_file, tail_start=where_the_tail_begins)
    # the download thread, after writing (and flushing) each chunk:
    gate.advance(bytes_written)
    # the unpacking thread, before reading ``length`` bytes at ``offset``:
    gate.wait(offset, length)
"""

from __future__ import annotations

import io
import math
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["DownloadGate", "DownloadStopped", "GatedReader", "MemoryReader"]


class DownloadStopped(Exception):  # noqa: N818 - a signal between threads, not an error
    """The download behind a gate ended without the bytes a reader waits for."""


class DownloadGate:
    """What of a file being downloaded can be read: ``[0, written)`` and the tail.

    :param size: the file's full size (the file already has it: the tail is written).
    :param tail_start: where the prefetched tail begins (``size``: no tail).
    """

    def __init__(self, size: int, tail_start: int) -> None:
        self.size = size
        self.tail_start = tail_start
        self.written = 0
        self.stopped = False
        self._changed = threading.Condition()
        # The lowest end a waiting reader needs: the download wakes readers only when it
        # passes it, not once per 64 KiB chunk (each wake-up is a turn at the GIL).
        self._wake_at = math.inf

    def readable(self, offset: int, length: int) -> bool:
        """Return whether bytes ``[offset, offset + length)`` may be read now."""
        end = min(offset + max(length, 0), self.size)
        return end <= self.written or offset >= self.tail_start or self.written >= self.tail_start

    def wait(self, offset: int, length: int) -> None:
        """Block until ``[offset, offset + length)`` may be read.

        :raises DownloadStopped: the download stopped first (failed, or went on without
            the gate); the reader's work is abandoned.
        """
        if self.stopped:
            raise DownloadStopped
        if self.readable(offset, length):  # the common case, without the lock
            return
        end = min(offset + max(length, 0), self.size)
        with self._changed:
            while not self.readable(offset, length):
                if self.stopped:
                    raise DownloadStopped
                self._wake_at = min(self._wake_at, end)
                self._changed.wait()

    def advance(self, written: int) -> None:
        """Record that the file holds the download's first ``written`` bytes (flushed)."""
        self.written = written
        if written >= self._wake_at or written >= self.tail_start:
            with self._changed:
                self._wake_at = math.inf
                self._changed.notify_all()

    def stop(self) -> None:
        """Abandon the reading: every read waiting or to come raises :class:`DownloadStopped`.

        Even of bytes already there: the download failed or was cancelled, and the
        unpacking that reads through the gate should end at once, not finish for nothing.
        """
        with self._changed:
            self.stopped = True
            self._changed.notify_all()


class GatedReader(io.FileIO):
    """A file opened for reading whose reads wait at a :class:`DownloadGate`.

    For :mod:`zipfile`, which reads the central directory and members through a file
    object (seek, tell, read).
    """

    def __init__(self, path: Path | str, gate: DownloadGate) -> None:
        super().__init__(path, "rb")
        self._gate = gate

    def read(self, size: int | None = -1, /) -> bytes:
        """Read as a file does, once the bytes are there."""
        position = self.tell()
        wanted = self._gate.size - position if size is None or size < 0 else size
        self._gate.wait(position, wanted)
        return super().read(size)

    def readinto(self, buffer: bytearray | memoryview, /) -> int | None:  # type: ignore[override]
        """Read into ``buffer`` as a file does, once the bytes are there."""
        self._gate.wait(self.tell(), memoryview(buffer).nbytes)
        return super().readinto(buffer)


class MemoryReader(io.RawIOBase):
    """A wheel held in memory, read as a file (for :mod:`zipfile`), through a gate if any.

    A downloaded wheel that fits the preparer's memory budget is never written to a
    file: reading it back from one (and creating and removing the file) cost a cold ML
    install a write and a read of every downloaded byte. ``BytesIO`` would copy a
    ``bytearray``; this reads the buffer in place.

    :param data: the file's bytes (while downloading, the buffer the download fills).
    :param gate: the download behind ``data`` is still running: reads wait for their bytes.
    """

    def __init__(self, data: memoryview, gate: DownloadGate | None = None) -> None:
        super().__init__()
        self._data = data
        self._gate = gate
        self._position = 0

    def readable(self) -> bool:
        """Return ``True``: the buffer is there to be read."""
        return True

    def seekable(self) -> bool:
        """Return ``True``: any position may be read."""
        return True

    def tell(self) -> int:
        """Return where the next read starts."""
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        """Move as a file moves (from the start, the current position or the end)."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: len(self._data)}
        if whence not in base:
            raise ValueError(f"invalid whence ({whence})")
        position = base[whence] + offset
        if position < 0:
            raise OSError(f"negative seek position {position}")
        self._position = position
        return position

    def readinto(self, buffer: bytearray | memoryview, /) -> int:  # type: ignore[override]
        """Copy the next bytes into ``buffer``, once they are there; return how many."""
        start = self._position
        end = min(start + memoryview(buffer).nbytes, len(self._data))
        if end <= start:
            return 0
        if self._gate is not None:
            self._gate.wait(start, end - start)
        memoryview(buffer).cast("B")[: end - start] = self._data[start:end]
        self._position = end
        return end - start
