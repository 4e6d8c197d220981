"""Unpacking a big wheel in a process of its own while it downloads.

A cold install of an ML stack unpacks torch (some two seconds of CPU time: inflating a
430 MB library, hashing every file against RECORD, writing thousands of files) while
the other wheels download and unpack. In threads, all of that shares one GIL: the
Python parts of the downloads, of the small wheels' unpacking and of torch's take turns
on it, tens of thousands of handoffs, and the second core idles much of the time. Here
the big wheel's unpacking runs in a worker process, with a GIL of its own, on the
other core.

How the pieces fit:

* The bytes: the download fills a shared memory file (``memfd_create``) mapped in the
  preparer, as it would fill its anonymous buffer; the worker maps the same file
  read-only, so nothing is copied or written to disk twice.
* How far the download is: the preparer relays its :class:`DownloadGate` to the worker
  (:class:`RelayedGate`): each ``advance`` is an 8-byte record on the worker's standard
  input; ``-1`` (or the pipe's end) stops it. In the worker a thread feeds a plain
  :class:`DownloadGate`, so the unpacking is the one the threads do
  (:meth:`Cache.stage_wheel`), reading through the gate.
* The result: the staged folder and its manifest, pickled on a pipe of its own (the
  worker's own output stays out of it). The worker only *stages*: the preparer checks
  the archive's hash and the prefetched tail and publishes under the entry's lock, as
  for a thread's staging. A worker that fails, or dies, costs the early work only: the
  preparer unpacks the downloaded file itself, with the usual errors.
* Fork safety: the worker is a fresh interpreter (``subprocess``: fork and exec at
  once), never a fork of this multi-threaded process, so it inherits no held lock.
  Started before the wheel's tail is fetched, its imports (some 0.1 s) overlap it.
* Cancellation: the preparer stops the gate (another download failed, Ctrl+C, a
  retry), which ends the worker's reads; the worker removes its private folder and
  exits. If the preparer dies (SIGKILL), the pipe's end does the same. Its private
  folder (a ``.tmp-`` one of the archive bucket, never an entry) is made by the
  preparer, which removes it if the worker dies half-way; if both are killed, it is what
  a killed thread's unpacking leaves, which ``cache prune`` removes.

Linux only (``memfd_create``); elsewhere :func:`available` is false and threads unpack.
"""

from __future__ import annotations

import mmap
import os
import pickle
import shutil
import struct
import subprocess
import sys
import threading
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from resolvent.installer.download_gate import DownloadGate

if TYPE_CHECKING:
    from resolvent.installer.cache import Cache, StagedWheel

__all__ = ["RelayedGate", "UnpackWorker", "available", "shared_buffer"]

_RECORD = struct.Struct("<q")  # one gate message: bytes written, or -1: stop
_LENGTH = struct.Struct("<Q")  # the length of a pickled message


def available() -> bool:
    """Whether big wheels can be unpacked in worker processes here."""
    return hasattr(os, "memfd_create") and bool(sys.executable)


def shared_buffer(size: int) -> tuple[mmap.mmap, int]:
    """Return a writable shared mapping of ``size`` bytes and its file's descriptor.

    The file is anonymous (``memfd_create``): it lives as long as a descriptor or a
    mapping holds it. Its pages are mapped at once where possible (``MAP_POPULATE``), as
    the preparer's private buffers are. The caller closes the descriptor.
    """
    fd = os.memfd_create("resolvent-wheel", os.MFD_CLOEXEC)
    try:
        os.ftruncate(fd, size)
        flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
        return mmap.mmap(fd, size, flags=flags), fd
    except BaseException:
        os.close(fd)
        raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exactly(fd: int, size: int) -> bytes | None:
    """Read ``size`` bytes from ``fd``; ``None`` if it ends first."""
    parts = []
    while size:
        part = os.read(fd, size)
        if not part:
            return None
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


class UnpackWorker:
    """A worker process that stages one wheel, and the preparer's end of its pipes.

    :meth:`start` launches it (it imports the unpacking code meanwhile); :meth:`stage`
    hands it the wheel; :meth:`result` waits for the staged tree.
    """

    def __init__(self, process: subprocess.Popen[bytes], results: int) -> None:
        self._staging: Path | None = None
        self._process = process
        assert process.stdin is not None  # started with a pipe
        self._commands = process.stdin.fileno()
        self._stdin = process.stdin
        self._results = results
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def start(cls, shared: int) -> UnpackWorker:
        """Launch a worker for the wheel that will be in shared file ``shared``.

        The worker runs this very copy of resolvent (not one found on a path) and
        inherits the descriptor ``shared`` (the caller may close its own afterwards).
        """
        root = os.fspath(Path(__file__).resolve().parents[2])
        code = (
            f"import sys; sys.path.insert(0, {root!r}); "
            "from resolvent.installer.unpack_worker import main; main()"
        )
        read_end, write_end = os.pipe()
        try:
            process = subprocess.Popen(  # noqa: S603 -- our own interpreter and code
                [sys.executable, "-c", code, str(write_end), str(shared)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(write_end, shared),
                bufsize=0,
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        return cls(process, read_end)

    def stage(self, wheel_path: Path, sha256: str, cache: Cache, gate: DownloadGate) -> None:
        """Hand the worker the wheel (``gate.size`` bytes in the shared file it inherited).

        The private folder is made here, so that this process can remove it if the
        worker dies half-way (a worker that fails removes it itself).
        """
        self._staging = cache.staging_folder(sha256)
        header = pickle.dumps(
            (
                os.fspath(wheel_path),
                sha256,
                os.fspath(cache.root),
                os.fspath(self._staging),
                gate.size,
                gate.tail_start,
                gate.written,
            )
        )
        self._send(_LENGTH.pack(len(header)) + header)

    def relay(self, written: int) -> None:
        """Tell the worker the file holds ``written`` bytes (``-1``: stop)."""
        self._send(_RECORD.pack(written))

    def _send(self, data: bytes) -> None:
        with self._lock:
            if self._closed:
                return
            try:
                _write_all(self._commands, data)
            except OSError:  # the worker is gone: the preparer learns it from result()
                self._closed = True

    def result(self) -> StagedWheel:
        """Wait for the worker's staged tree; raise :class:`WorkerFailed` if it has none."""
        from resolvent.installer.cache import StagedWheel  # noqa: PLC0415 -- see cache

        try:
            length = _read_exactly(self._results, _LENGTH.size)
            body = None if length is None else _read_exactly(self._results, *_LENGTH.unpack(length))
        finally:
            self.close()
        outcome: tuple[str, Any, Any] = ("died", "no result", None)
        if body is not None:
            outcome = pickle.loads(body)  # noqa: S301 -- from our own worker
        if outcome[0] != "staged" or self._staging is None:
            if self._staging is not None:  # what a dead worker left, never published
                shutil.rmtree(self._staging, ignore_errors=True)
            raise WorkerFailed(str(outcome[1]))
        return StagedWheel(self._staging, outcome[1])

    def close(self) -> None:
        """Stop the worker (if it still runs) and reap it."""
        with self._lock:
            if not self._closed:
                self._closed = True
            with suppress(OSError):
                self._stdin.close()
        if self._results >= 0:
            os.close(self._results)
            self._results = -1
        self._process.wait()


class WorkerFailed(Exception):  # noqa: N818 -- a signal to the preparer, never shown
    """The worker staged nothing: the preparer unpacks the file itself."""


class RelayedGate(DownloadGate):
    """The preparer's gate for a wheel a worker unpacks: relays every change to it."""

    def __init__(self, size: int, tail_start: int, worker: UnpackWorker) -> None:
        super().__init__(size, tail_start)
        self.worker = worker

    def advance(self, written: int) -> None:
        """Record and relay that the file holds its first ``written`` bytes."""
        super().advance(written)
        self.worker.relay(written)

    def stop(self) -> None:
        """Stop this gate and the worker's."""
        super().stop()
        self.worker.relay(-1)


def _follow(gate: DownloadGate, commands: int) -> None:
    """Feed ``gate`` from the preparer's records until the download ends or stops."""
    while True:
        record = _read_exactly(commands, _RECORD.size)
        written = -1 if record is None else _RECORD.unpack(record)[0]
        if written < 0:
            if gate.written < gate.size:
                gate.stop()
            return
        gate.advance(written)


def main() -> None:
    """Stage the wheel described on standard input; report on descriptor ``argv[1]``."""
    results, shared = int(sys.argv[1]), int(sys.argv[2])
    commands = sys.stdin.fileno()
    outcome: tuple[str, Any, Any]
    name = staging = "?"
    try:
        length = _read_exactly(commands, _LENGTH.size)
        if length is None:
            return  # not needed after all
        body = _read_exactly(commands, *_LENGTH.unpack(length))
        if body is None:
            return
        name, sha256, cache_root, staging, size, tail_start, written = pickle.loads(body)  # noqa: S301
        from resolvent.installer.cache import Cache  # noqa: PLC0415 -- after the start

        try:
            data = mmap.mmap(shared, size, prot=mmap.PROT_READ)
        finally:
            os.close(shared)
        gate = DownloadGate(size, tail_start)
        gate.advance(written)
        threading.Thread(target=_follow, args=(gate, commands), daemon=True).start()
        staged = Cache(Path(cache_root)).stage_wheel(
            Path(name), sha256, gate=gate, data=memoryview(data), staging=Path(staging)
        )
        outcome = ("staged", staged.manifest, None)
    except BaseException as error:  # noqa: BLE001 -- reported, the preparer falls back
        outcome = ("failed", f"{type(error).__name__}: {error}", None)
    message = pickle.dumps(outcome)
    try:
        _write_all(results, _LENGTH.pack(len(message)) + message)
    except OSError:  # the preparer is gone: nothing was published, nothing to tell
        if outcome[0] == "staged":
            shutil.rmtree(staging, ignore_errors=True)
    os._exit(0)  # the gate's thread may still wait on the pipe
