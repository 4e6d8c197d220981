"""Preparing is getting every distribution a plan fetches into the cache as an unpacked wheel.

Downloads are scheduled concurrently on one event loop (httpx, pooled connections); each
body streams in a thread of its own (see ``Preparer._download``) into a buffer in memory
(a wheel within the memory budget: it is then unpacked in place, never written to a file
and read back) or else a private temporary file, and is hashed while it streams; the
digest is checked against
what the lock, ``--hash`` or the index expects before anything is published to the
cache, so a tampered file never reaches it. Unpacking (and building, for sdists) runs in
worker threads while other downloads continue; a big wheel (torch) is unpacked into a
private folder *while* it downloads, and that folder is published only once the file's
digest and the tail read ahead of it are checked (see ``_fetch_unpacking``). A progress
line is drawn only when asked (the CLI asks on a terminal).

Example::

    with Preparer(cache, builder=builder) as preparer:
        ready = preparer.prepare(plan.remote)  # CachedDist for each, same order
"""

# Paths touched in coroutines are single stat/open/unlink calls, not worth a thread:
# ruff: noqa: ASYNC240
from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, Self, TextIO, TypeVar
from urllib.parse import unquote, urlsplit

# Not imported here: ``hashlib``, ``tempfile`` and ``shutil``, imported where a download
# or an unpacking needs them. A warm run does neither, and their imports were ~5 ms of it.
from resolvent import __version__
from resolvent.errors import (
    HashMismatchError,
    HttpStatusError,
    IndexUnreachableError,
    InstallError,
    NetworkError,
    NotCachedError,
    ResolventError,
)
from resolvent.folders import make_private_folder, remove_tree
from resolvent.hashes import index_hashes as supported_index_hashes
from resolvent.hashes import parse_user_hash
from resolvent.installer.cache import CacheBucket
from resolvent.installer.parallel import usable_cpus
from resolvent.installer.plan import CachedDist, Wanted, source_key

if TYPE_CHECKING:
    import asyncio
    import hashlib
    import mmap
    import socket
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
    from concurrent.futures import ThreadPoolExecutor
    from types import TracebackType

    import httpx

    from resolvent.index.http import LoopThread
    from resolvent.installer.cache import Cache, StagedWheel
    from resolvent.installer.download_gate import DownloadGate
    from resolvent.installer.unpack_worker import UnpackWorker

__all__ = [
    "Expected",
    "Preparer",
    "SdistBuilder",
    "check_digests",
    "expected_digests",
    "file_digests",
    "file_url_path",
]

T = TypeVar("T")

_ATTEMPTS = 3
#: Wheels at least this big are unpacked while they download (see ``_fetch_unpacking``).
_EARLY_UNPACK_MIN = 32 << 20
#: The last bytes fetched first, to find a wheel's central directory: at least this,
#: and a share of the file (see ``_first_tail``).
_EOCD_TAIL = 64 << 10
#: The share of a big wheel's size its first tail request asks for (see ``_first_tail``).
_TAIL_GUESS_SHARE = 1 / 64
#: Fetched before the directory besides its own size: the ``.dist-info`` files sit just
#: before it, RECORD (a line per file, about as long as the directory) last of them.
_BEFORE_DIRECTORY = 64 << 10
#: Seconds the other downloads wait at most for the big wheels' tails (``_TailsFirst``).
_TAILS_WAIT = 0.5
#: Threads for unpackings that run while their wheels download (one per big wheel).
_EARLY_STAGERS = 8
# Wheels at least this big (of those unpacked early) are unpacked in a worker process
# each (see ``unpack_worker``). For seed-ml that is torch (190 MB, some 2 s of CPU time):
# five interleaved cold installs, 4.18 s -> 3.84 s median wall (paired: -0.30 s), 32,000
# -> 20,000 voluntary context switches. At 32 MiB (pyarrow and scipy too: a worker's
# imports cost 0.1 s of CPU each) the wall was no better (3.91 s).
_WORKER_MIN = 100 << 20
#: A tail longer than this share of the file is not fetched: little would overlap.
_MAX_TAIL_SHARE = 0.1
#: Downloaded wheels held in memory at once, at most (see ``_MemoryBudget``); never more
#: than an eighth of the machine's memory.
_MEMORY_BUDGET = 512 << 20
# Downloads ask for the file's own bytes, as pip does: its hashes are of those.
_IDENTITY = {"Accept-Encoding": "identity"}
#: Bytes a body's download asks of its socket per read (see ``_widen_body_reads``).
_BODY_READ = 1 << 20


class _DownloadCancelled(Exception):  # noqa: N818 - a signal between threads, not an error
    """The task that waits for a download was cancelled: its thread stops streaming."""


class _Stop:
    """A download thread's stop signal, which also wakes a read blocked on its socket.

    The thread checks the signal between pieces of a body; a read that waits on a
    stalled server would otherwise hold the cancelled task (and Ctrl+C, and the exit of
    the process, which joins the pool's threads) until the read timed out. Setting the
    signal shuts down the socket of the response being read, which ends that read at
    once. The socket is known only while the thread reads that response: afterwards
    the connection may serve another download, which must not be cut.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None

    def set(self) -> None:
        with self._lock:
            self._event.set()
            if self._socket is not None:
                _shut(self._socket)

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        return self._event.wait(seconds)

    @contextmanager
    def reading(self, response: httpx.Response) -> Iterator[None]:
        """Let :meth:`set` cut ``response``'s connection while the block runs."""
        import socket  # noqa: PLC0415 -- loaded by httpx already, but not on a warm run

        stream = response.extensions.get("network_stream")
        found = stream.get_extra_info("socket") if stream is not None else None
        with self._lock:
            if self._event.is_set():
                raise _DownloadCancelled
            self._socket = found if isinstance(found, socket.socket) else None
        try:
            yield
        finally:
            with self._lock:
                self._socket = None


def _shut(sock: socket.socket) -> None:
    """Shut ``sock`` down both ways: a read blocked on it returns (the peer seems gone)."""
    import socket  # noqa: PLC0415 -- see _Stop.reading

    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


#: Algorithm -> accepted hex digests (any one matching is enough).
Expected = dict[str, set[str]]


class _MemoryBudget:
    """How many bytes of downloaded wheels may be held in memory at once, in all.

    A wheel kept in memory is never written to a file and read back (with the file
    created and removed): for a cold ML install (seed-ml, 360 MB of wheels) that was a
    write and a read of every downloaded byte, 0.15-0.2 s of system time on a tmpfs
    cache, and on a disk-backed cache a write the file system must also journal. The
    budget bounds the memory this takes (many wheels wait for their unpacking at once);
    a wheel that does not fit goes to a file, as before, so no stack is too big to
    install.
    """

    def __init__(self, limit: int) -> None:
        self._left = limit
        self._lock = threading.Lock()

    def take(self, size: int) -> mmap.mmap | None:
        """Return a buffer of ``size`` bytes, counted against the budget, or ``None``.

        An anonymous mapping, not a ``bytearray``: ``bytearray(size)`` zeroes its memory
        itself, holding the GIL (torch's 190 MB: a tenth of a second every other thread
        waited for). Its pages are mapped at once (``MAP_POPULATE``, where there is
        one): faulted in one by one as the download writes them, 4 KiB each, they cost
        more system time than writing a file did. Dropping the buffer unmaps it. Called
        off the event loop: mapping torch's size takes some 40 ms.
        """
        return self._counted(size, _private_mapping)

    def take_shared(self, size: int) -> tuple[mmap.mmap, int] | None:
        """Return a buffer like :meth:`take`'s that a worker process can map, and its file.

        See :func:`resolvent.installer.unpack_worker.shared_buffer`; the caller closes the
        descriptor. ``None`` when the budget has no room or the memory cannot be mapped.
        """
        from resolvent.installer.unpack_worker import shared_buffer  # noqa: PLC0415

        return self._counted(size, shared_buffer)

    def _counted(self, size: int, make: Callable[[int], T]) -> T | None:
        """Return ``make(size)``, counted against the budget; ``None``: no room or no memory."""
        with self._lock:
            if size <= 0 or size > self._left:
                return None
            self._left -= size
        try:
            return make(size)
        except (OSError, OverflowError, ValueError):  # no memory to map: use a file
            self.give(size)
            return None

    def give(self, size: int) -> None:
        """Return ``size`` bytes to the budget (a buffer :meth:`take` gave, now dropped)."""
        with self._lock:
            self._left += size


def _private_mapping(size: int) -> mmap.mmap:
    """Return an anonymous private mapping of ``size`` bytes, its pages mapped at once."""
    import mmap  # noqa: PLC0415 -- only downloads need it

    populate = getattr(mmap, "MAP_POPULATE", 0)
    if populate:
        return mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | populate)
    return mmap.mmap(-1, size)


def _default_memory_budget() -> int:
    """Return ``_MEMORY_BUDGET``, capped at an eighth of the physical memory where known."""
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return _MEMORY_BUDGET
    return min(_MEMORY_BUDGET, physical // 8) if physical > 0 else _MEMORY_BUDGET


def file_url_path(url: str) -> str:
    """Return the local path of a ``file:`` URL.

    ``urllib.request.url2pathname`` does this, but importing ``urllib.request`` (it
    loads ``http.client`` and ``ssl``) costs a warm install ~20 ms; on POSIX the
    conversion is only unquoting.
    """
    path = urlsplit(url).path
    if os.name == "nt":  # pragma: no cover -- drive letters and UNC hosts
        from nturl2path import url2pathname  # noqa: PLC0415

        return url2pathname(path)
    return unquote(path)


def expected_digests(
    hashes: Iterable[str], index_hashes: Mapping[str, str] | None = None
) -> tuple[Expected, Expected]:
    """Split ``--hash``/lock digests (``alg:hex``) and the index's into two requirements.

    Both must hold: the file must match one of the user's digests (when any are given)
    and every digest the index states. The algorithms follow :mod:`resolvent.hashes`:
    a user's digest outside its set is bad input (it used to reach ``hashlib.new``, where
    ``shake_128`` crashed and an unknown name became a mismatch against ``?``); an
    index's digest outside its set is ignored, as pip ignores it.

    :raises BadInputError: a user digest is malformed or of an unsupported algorithm.
    """
    user: Expected = {}
    for item in hashes:
        algorithm, _, value = parse_user_hash(item).partition(":")
        user.setdefault(algorithm, set()).add(value)
    index: Expected = {}
    for algorithm, value in supported_index_hashes(index_hashes or {}).items():
        index.setdefault(algorithm, set()).add(value)
    return user, index


def check_digests(
    filename: str, digests: Mapping[str, str], user: Expected, index: Expected
) -> None:
    """Raise :class:`HashMismatchError` unless ``digests`` meet both requirements."""
    for algorithm, values in index.items():
        actual = digests.get(algorithm)
        if actual is not None and actual not in values:
            raise HashMismatchError(
                filename, f"{algorithm}:{actual}", [f"{algorithm}:{v}" for v in sorted(values)]
            )
    if user and not any(digests.get(alg) in values for alg, values in user.items()):
        shown = next(iter(user))
        raise HashMismatchError(
            filename,
            f"{shown}:{digests.get(shown, '?')}",
            sorted(f"{alg}:{v}" for alg, values in user.items() for v in values),
        )


def _hashers(user: Expected, index: Expected) -> dict[str, hashlib._Hash]:
    """Return a hasher for sha256 (the cache's key) and each expected algorithm.

    Every name here comes from :mod:`resolvent.hashes`' fixed sets, so each has a plain
    ``hexdigest()``; one the interpreter lacks (md5 under FIPS) is left out, and its
    digest then goes unchecked, as :func:`check_digests` skips a missing index digest.
    """
    import hashlib  # noqa: PLC0415 -- see the imports

    hashers: dict[str, hashlib._Hash] = {}
    for name in sorted({"sha256", *user, *index}):
        try:
            hashers[name] = hashlib.new(name)
        except ValueError:
            continue
    return hashers


def file_digests(path: Path, user: Expected, index: Expected) -> dict[str, str]:
    """Return the digests of the file at ``path`` that :func:`check_digests` needs."""
    hashers = _hashers(user, index)
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            for hasher in hashers.values():
                hasher.update(chunk)
    return _hexdigests(hashers)


class _TailsFirst:
    """Holds the other downloads until the big wheels' tails are fetched (or a while).

    A big wheel's download and early unpacking (``_fetch_unpacking``) wait for its tail,
    range requests made on the event loop. Started along with a dozen other downloads,
    their threads and the unpackings of the first small wheels, the loop waited its
    turns at the GIL behind them all: on a local mirror of seed-ml, torch's tail took
    0.74-0.86 s to come and its download began 0.7 s after the small ones', though torch
    (the longest download and the longest unpacking) is what a cold install waits for
    last. The small downloads now start once the tails are there, or after
    ``_TAILS_WAIT`` at most (a slow server costs them that much, no more); torch's
    download then starts some 0.2 s into the preparing instead of 0.9-1.0 s. Used on
    the event loop only.
    """

    def __init__(self, count: int) -> None:
        import asyncio  # noqa: PLC0415 -- see Preparer.prepare()

        self._left = count
        self._there = asyncio.Event()
        if count <= 0:
            self._there.set()

    def arrived(self) -> None:
        """Count one big wheel's tail as fetched (or given up)."""
        self._left -= 1
        if self._left <= 0:
            self._there.set()

    async def wait(self) -> None:
        """Return once every tail is fetched, or after ``_TAILS_WAIT`` seconds."""
        import asyncio  # noqa: PLC0415 -- see Preparer.prepare()

        if self._there.is_set():
            return
        with suppress(TimeoutError):
            await asyncio.wait_for(self._there.wait(), _TAILS_WAIT)


#: The big wheels' tails of the ``prepare`` call a task works for (see ``_TailsFirst``).
_TAILS: ContextVar[_TailsFirst | None] = ContextVar("resolvent_prepare_tails", default=None)


class _Progress:
    """One line on a terminal: files done, bytes fetched."""

    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total = total
        self.done = 0
        self.bytes = 0
        self.stream = stream
        self._shown = 0.0
        # Download threads advance it too: the counts and the line are kept whole.
        self._lock = threading.Lock()

    def advance(self, size: int = 0, *, finished: bool = False) -> None:
        with self._lock:
            self.bytes += size
            self.done += finished
            now = time.monotonic()
            if self.stream is None or (not finished and now - self._shown < 0.1):
                return
            self._shown = now
            mib = self.bytes / (1 << 20)
            self.stream.write(f"\rPreparing packages ({self.done}/{self.total}, {mib:.1f} MiB)")
            self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.total:
            self.stream.write("\r\033[K")
            self.stream.flush()


class SdistBuilder(Protocol):
    """Builds an sdist into a wheel in the cache (a ``Builder``, or one made on demand)."""

    def build_sdist(self, sdist: Path, sha256: str) -> Path:
        """Return the wheel built from ``sdist`` (whose sha256 keys the build)."""
        ...


class Preparer:
    """Gets wanted distributions into the cache: download, check, unpack, build.

    :param cache: where unpacked wheels go.
    :param builder: builds sdists (``None``: an sdist is an error).
    :param offline: never use the network (a file not yet cached is an error).
    :param progress: draw a progress line (on ``sys.stderr``).
    :param max_concurrency: downloads in flight at once.
    :param memory_budget: bytes of downloaded wheels that may be held in memory at once
        instead of in files (``None``: the default, at most an eighth of the memory).
    """

    def __init__(
        self,
        cache: Cache,
        *,
        builder: SdistBuilder | None = None,
        offline: bool = False,
        progress: bool = False,
        max_concurrency: int = 16,
        memory_budget: int | None = None,
    ) -> None:
        self.cache = cache
        self.builder = builder
        self.offline = offline
        self.progress = progress
        self.max_concurrency = max_concurrency
        self._memory = _MemoryBudget(
            _default_memory_budget() if memory_budget is None else memory_budget
        )
        self._loop: LoopThread | None = None
        self._client: httpx.AsyncClient | None = None
        self._closed = False  # a download still running then must not open a new client
        # Bodies stream through a synchronous client, each in a thread of its own (see
        # ``_download``); the event loop keeps the scheduling and the range requests.
        self._body_client: httpx.Client | None = None
        self._body_client_lock = threading.Lock()
        self._fetchers: ThreadPoolExecutor | None = None
        # Unpacking and building run here, not in the loop's default executor (a few
        # threads): unpacks wait for extraction slots (``archive._EXTRACT_SLOTS``), and
        # with every default thread waiting, a wheel whose download had just ended (the
        # 180 MB torch, the longest unpack) queued behind them for 0.4 s.
        self._unpacker: ThreadPoolExecutor | None = None
        # Unpackings of wheels still downloading run in threads of their own: they wait
        # for bytes most of the time, and queued behind the other unpacks (all waiting for
        # extraction slots) torch's began only when half its download was done.
        self._stagers: ThreadPoolExecutor | None = None
        # Builds run at most one per CPU, as uv's default: each is a process of its own.
        self._builds = threading.BoundedSemaphore(usable_cpus())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close connections and stop the I/O thread, if they were started."""
        self._closed = True
        if self._loop is not None:
            if self._client is not None:
                self._loop.run(self._client.aclose())
                self._client = None
            self._loop.close()
            self._loop = None
        for pool in (self._fetchers, self._unpacker, self._stagers):
            if pool is not None:
                pool.shutdown(wait=True)
        self._fetchers = self._unpacker = self._stagers = None
        if self._body_client is not None:
            self._body_client.close()
            self._body_client = None

    def prepare(self, items: Sequence[Wanted]) -> list[CachedDist]:
        """Fetch, check and unpack ``items``; return them cached, in the same order.

        :raises HashMismatchError: a file does not match its expected digest.
        :raises NotCachedError: offline, and a file must be downloaded.
        :raises BuildError: an sdist does not build.
        """
        if not items:
            return []
        if self._loop is None:
            # asyncio and the loop thread cost a warm install (nothing to fetch) ~30 ms
            # of imports: only a run that prepares something pays for them.
            from resolvent.index.http import LoopThread  # noqa: PLC0415

            self._loop = LoopThread(name="resolvent-prepare")
        if self._unpacker is None:
            # ``concurrent.futures`` as asyncio: only a run that prepares something.
            from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

            self._unpacker = ThreadPoolExecutor(
                self.max_concurrency, thread_name_prefix="resolvent-unpack"
            )
        progress = _Progress(len(items), sys.stderr if self.progress else None)
        try:
            return self._loop.run(self._prepare_all(items, progress))
        finally:
            progress.close()

    async def _prepare_all(self, items: Sequence[Wanted], progress: _Progress) -> list[CachedDist]:
        import asyncio  # noqa: PLC0415 -- see prepare()

        semaphore = asyncio.Semaphore(self.max_concurrency)
        # Largest first: tasks take the semaphore in the order they are made, and the
        # biggest file (a 180 MB torch among 56 wheels) is both the longest download and
        # the longest unpack. Made in plan order (its name sorts late) it started last and
        # was unpacked alone while the other workers idled.
        order = sorted(range(len(items)), key=lambda index: -_expected_size(items[index]))
        # Each task copies the context as it is made: it sees its own call's tails even
        # if another ``prepare`` (a build's requirements) runs on the loop meanwhile.
        _TAILS.set(_TailsFirst(sum(self._unpacks_early(item) for item in items)))
        tasks: dict[int, asyncio.Task[CachedDist]] = {}
        try:
            async with asyncio.TaskGroup() as group:
                for index in order:
                    tasks[index] = group.create_task(
                        self._prepare_one(items[index], semaphore, progress)
                    )
        except BaseExceptionGroup as group_error:
            raise _first_error(group_error) from None
        return [tasks[index].result() for index in range(len(items))]

    def _unpacks_early(self, item: Wanted) -> bool:
        """Whether ``item`` is a big wheel unpacked while it downloads (``_fetch_unpacking``)."""
        file = item.file
        if file is None or self.offline or urlsplit(file.url).scheme == "file":
            return False
        user, index = expected_digests(item.hashes, file.hashes)
        return (
            _expected_sha256(user, index) is not None
            and file.size is not None
            and file.size >= _EARLY_UNPACK_MIN
            and file.filename.endswith(".whl")
        )

    async def _prepare_one(
        self, item: Wanted, semaphore: asyncio.Semaphore, progress: _Progress
    ) -> CachedDist:
        import asyncio  # noqa: PLC0415 -- see prepare()

        file = item.file
        if file is None:
            if item.tree is None:
                raise InstallError(f"`{item.label}` has no file to install from")
            progress.advance(finished=True)
            return CachedDist(item, item.tree)
        user, index = expected_digests(item.hashes, file.hashes)
        url = file.url
        source = source_key(url)
        if urlsplit(url).scheme == "file":
            path = Path(file_url_path(url))
            if not path.is_file():
                raise InstallError(f"`{path}` does not exist")
            digests = await asyncio.to_thread(file_digests, path, user, index)
            check_digests(file.filename, digests, user, index)
            tree = await self._off_loop(self._unpack, path, file.filename, digests, source)
            progress.advance(path.stat().st_size, finished=True)
            return CachedDist(item, tree)
        if self.offline:
            raise NotCachedError(url)
        expected = _expected_sha256(user, index)
        if expected is not None and file.size is not None and self._unpacks_early(item):
            tree = await self._fetch_unpacking(
                url,
                filename=file.filename,
                size=file.size,
                sha256=expected,
                expected=(user, index),
                semaphore=semaphore,
                progress=progress,
                source=source,
            )
            progress.advance(finished=True)
            return CachedDist(item, tree)
        tails = _TAILS.get()
        if tails is not None:
            await tails.wait()
        folder = self.cache.bucket(CacheBucket.WHEELS)
        buffer: mmap.mmap | None = None
        # A body kept in memory writes no file: a fresh name is enough, made into a file
        # only if the body falls back to one (see ``_download_body``).
        temp = folder / f".tmp-download-{os.urandom(8).hex()}"
        try:
            async with semaphore:
                if file.size is not None and file.filename.endswith(".whl"):
                    buffer = await asyncio.to_thread(self._memory.take, file.size)
                if buffer is None:
                    import tempfile  # noqa: PLC0415 -- see the imports

                    fd, temp_name = tempfile.mkstemp(prefix=".tmp-download-", dir=folder)
                    os.close(fd)
                    temp = Path(temp_name)
                digests, in_memory = await self._download(
                    url, temp, user, index, progress, buffer=buffer
                )
            check_digests(file.filename, digests, user, index)
            data = buffer if in_memory else None
            tree = await self._off_loop(self._unpack, temp, file.filename, digests, source, data)
        finally:
            temp.unlink(missing_ok=True)
            if buffer is not None:
                self._memory.give(len(buffer))
        progress.advance(finished=True)
        return CachedDist(item, tree)

    async def _fetch_unpacking(
        self,
        url: str,
        *,
        filename: str,
        size: int,
        sha256: str,
        expected: tuple[Expected, Expected],
        semaphore: asyncio.Semaphore,
        progress: _Progress,
        source: str,
    ) -> Path:
        """Download a big wheel and unpack it at the same time; return its cache entry.

        The wheel's tail (central directory and ``.dist-info``) comes first, by range
        requests, into its place in the file (a buffer in memory, when the memory budget
        has room for the wheel); the unpacking then reads the file as the
        download fills it (:mod:`resolvent.installer.download_gate`). The result is
        published only after the whole file matched its hash and the tail matched what
        the download wrote over it; otherwise, or when the server ignores ranges, the
        file is unpacked once downloaded, as any other.
        """
        import asyncio  # noqa: PLC0415 -- see prepare()

        from resolvent.installer.download_gate import DownloadGate  # noqa: PLC0415

        user, index = expected
        folder = Path(make_private_folder(self.cache.bucket(CacheBucket.WHEELS), ".tmp-early-"))
        path = folder / filename  # named: the archive checks read the name and version
        gate: DownloadGate | None = None
        staging: asyncio.Future[StagedWheel] | None = None
        tail: tuple[int, bytes] | None = None
        buffer: mmap.mmap | None = None
        worker: UnpackWorker | None = None
        try:
            async with semaphore:
                # The buffer is mapped (and a worker started) while the tail comes
                # (torch's buffer: some 40 ms; a worker's start: some 0.1 s).
                taking = asyncio.ensure_future(asyncio.to_thread(self._take_buffer, size))
                try:
                    tail = await self._tail(url, size)
                finally:
                    tails = _TAILS.get()
                    if tails is not None:
                        tails.arrived()
                    buffer, worker = await taking  # given back below, whatever happens
                if tail is not None:
                    if buffer is None:
                        await asyncio.to_thread(_write_sparse, path, size, *tail)
                    else:
                        buffer[tail[0] : tail[0] + len(tail[1])] = tail[1]
                    if self._stagers is None:
                        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

                        self._stagers = ThreadPoolExecutor(
                            _EARLY_STAGERS, thread_name_prefix="resolvent-early"
                        )
                    if worker is not None:
                        from resolvent.installer.unpack_worker import (  # noqa: PLC0415
                            RelayedGate,
                        )

                        gate = RelayedGate(size, tail[0], worker)
                        try:
                            worker.stage(path, sha256, self.cache, gate)
                        except OSError:  # no private folder: a thread tries (and fails) as before
                            await asyncio.to_thread(worker.close)
                            worker = None
                    if worker is not None:
                        stage = worker.result
                    else:
                        gate = DownloadGate(size, tail[0])
                        view = None if buffer is None else memoryview(buffer)
                        stage = partial(self.cache.stage_wheel, path, sha256, gate=gate, data=view)
                    staging = asyncio.get_running_loop().run_in_executor(self._stagers, stage)
                digests, in_memory = await self._download(
                    url, path, user, index, progress, gate=gate, buffer=buffer
                )
            if gate is not None and gate.written != size:
                gate.stop()  # not the announced file: what waits for its bytes gives up
            check_digests(filename, digests, user, index)
            data = buffer if in_memory else None
            staged = None
            if staging is not None and tail is not None:
                staged, staging = await _settled(staging), None
                if staged is not None and not (
                    _buffer_holds_tail(data, *tail)
                    if data is not None
                    else await asyncio.to_thread(_holds_tail, path, size, *tail)
                ):
                    staged.discard()
                    staged = None
            if staged is not None:
                try:
                    publish = partial(self.cache.publish_staged, source=source)
                    return await self._off_loop(publish, staged, digests["sha256"], filename)
                except ResolventError:
                    pass  # unpacked again below, with the usual errors
            return await self._off_loop(self._unpack, path, filename, digests, source, data)
        finally:
            if gate is not None:
                gate.stop()
            if staging is not None:
                # The unpacking thread reads the file: let it end before the file goes.
                unused = await _settled(staging)
                if unused is not None:
                    unused.discard()
            elif worker is not None:
                await asyncio.to_thread(worker.close)  # never given a wheel: it just ends
            remove_tree(folder)
            if buffer is not None:
                self._memory.give(len(buffer))

    def _take_buffer(self, size: int) -> tuple[mmap.mmap | None, UnpackWorker | None]:
        """Return the buffer for a big wheel (``None``: a file) and its worker, if any.

        A wheel at least ``_WORKER_MIN`` big is unpacked by a worker process where
        :func:`~resolvent.installer.unpack_worker.available`: it gets a shared buffer,
        and the worker is started now, its imports overlapping the tail's fetch. If no
        worker can be started, the shared buffer serves a thread as a private one would.
        """
        if size < _WORKER_MIN:
            return self._memory.take(size), None
        from resolvent.installer import unpack_worker  # noqa: PLC0415 -- big wheels only

        if not unpack_worker.available():
            return self._memory.take(size), None
        shared = self._memory.take_shared(size)
        if shared is None:
            return None, None
        buffer, fd = shared
        try:
            return buffer, unpack_worker.UnpackWorker.start(fd)
        except OSError:
            return buffer, None
        finally:
            os.close(fd)

    async def _tail(self, url: str, size: int) -> tuple[int, bytes] | None:
        """Return ``(offset, bytes)``: a wheel's end from its central directory's ``.dist-info``.

        ``None`` when the server does not answer ranges, the archive is ZIP64 or odd, or
        the tail would be a large share of the file.
        """
        from resolvent.index.metadata import end_record  # noqa: PLC0415 -- big wheels only

        last = _first_tail(size)
        end = await self._get_range(url, size - last, size)
        found = None if end is None else end_record(end)
        if end is None or found is None or found[3]:
            return None
        position, cd_size, cd_offset, _ = found
        if cd_offset + cd_size > size - last + position:
            return None
        start = max(0, cd_offset - cd_size - _BEFORE_DIRECTORY)
        if size - start > _MAX_TAIL_SHARE * size:
            return None
        if start >= size - last:
            return size - last, end
        head = await self._get_range(url, start, size - last)
        return None if head is None else (start, head + end)

    async def _get_range(self, url: str, start: int, end: int) -> bytes | None:
        """Return bytes ``[start, end)`` of ``url``, or ``None`` if the server will not."""
        import httpx  # noqa: PLC0415 -- only downloads need it

        from resolvent.index.http import content_range, range_headers  # noqa: PLC0415

        client = self._http()
        headers = range_headers(f"bytes={start}-{end - 1}")
        try:
            # Streamed: a server that ignores ranges answers 200 with the whole file,
            # which must not be read (torch's 190 MB) only to be thrown away.
            async with client.stream("GET", url, headers=headers) as response:
                if content_range(url, response)[0] != start:
                    return None
                body = await response.aread()
        except (httpx.HTTPError, NetworkError):  # not a 206 of that range
            return None
        return body if len(body) == end - start else None

    async def _off_loop(self, work: Callable[..., T], *args: object) -> T:
        """Run ``work(*args)`` in the unpacking threads; return its result."""
        import asyncio  # noqa: PLC0415 -- see prepare()

        return await asyncio.get_running_loop().run_in_executor(
            self._unpacker, partial(work, *args)
        )

    def _unpack(
        self,
        path: Path,
        filename: str,
        digests: Mapping[str, str],
        source: str,
        data: mmap.mmap | None = None,
    ) -> Path:
        """Unpack (or build) the downloaded file into the cache; return its tree.

        ``data`` is the file's bytes when the download was kept in memory (a wheel):
        ``path`` is then not written, and the archive is read in place.
        """
        if data is not None:
            named = path.with_name(filename)  # the checks read the name and version
            return self.cache.unpack_wheel(
                named, digests["sha256"], source=source, verified=True, data=memoryview(data)
            )
        if path.name == filename:
            return self._unpack_named(path, digests["sha256"], source)
        # The cache reads a wheel's name and version from its file name: give it that.
        import shutil  # noqa: PLC0415 -- see the imports
        import tempfile  # noqa: PLC0415

        with tempfile.TemporaryDirectory(prefix=".tmp-named-", dir=path.parent) as folder:
            named = Path(folder) / filename
            try:
                os.link(path, named)
            except OSError:
                shutil.copyfile(path, named)
            return self._unpack_named(named, digests["sha256"], source)

    def _unpack_named(self, path: Path, sha256: str, source: str) -> Path:
        if path.name.endswith(".whl"):
            return self.cache.unpack_wheel(path, sha256, source=source, verified=True)
        if self.builder is None:
            raise InstallError(f"`{path.name}` is a source distribution and building is disabled")
        with self._builds:
            return self.builder.build_sdist(path, sha256)

    def _http(self) -> httpx.AsyncClient:
        """Return the download client, made on first use (on the loop's thread)."""
        from resolvent.index.http import (  # noqa: PLC0415 -- see prepare()
            start_tls_context,
        )

        if self._client is None:
            start_tls_context()  # built while httpx is imported
        import httpx  # noqa: PLC0415 -- only downloads need it

        if self._client is None:
            if self._closed:  # an interrupted prepare's download, after close(): nothing
                raise RuntimeError("the download client is closed")  # would close it
            self._client = httpx.AsyncClient(**self._client_options())
        return self._client

    def _client_options(self) -> dict[str, Any]:
        """Return the options of both download clients (the async one and the bodies')."""
        import httpx  # noqa: PLC0415 -- only downloads need it

        from resolvent.index.http import shared_tls_context  # noqa: PLC0415 -- see prepare()

        # HTTP/1.1 (httpx's default) on purpose: an HTTP/2 stream's flow-control window
        # (64 KiB in httpcore) caps a download at one window per round trip, several
        # times slower for a large wheel than a connection of its own.
        return {
            "verify": shared_tls_context(),
            "follow_redirects": True,
            "timeout": httpx.Timeout(60.0, connect=10.0),
            "limits": httpx.Limits(max_connections=self.max_concurrency),
            "headers": {"User-Agent": f"resolvent/{__version__}"},
        }

    def _body_http(self) -> httpx.Client:
        """Return the client that streams bodies, made on first use (by any thread)."""
        with self._body_client_lock:
            if self._body_client is None:
                from resolvent.index.http import start_tls_context  # noqa: PLC0415

                start_tls_context()  # built while httpx is imported
                import httpx  # noqa: PLC0415 -- only downloads need it

                _widen_body_reads()
                self._body_client = httpx.Client(**self._client_options())
            return self._body_client

    async def _download(
        self,
        url: str,
        target: Path,
        user: Expected,
        index: Expected,
        progress: _Progress,
        *,
        gate: DownloadGate | None = None,
        buffer: mmap.mmap | None = None,
    ) -> tuple[dict[str, str], bool]:
        """Stream ``url`` into ``target``, hashing it, in a download thread.

        Returns the digests and whether the body went to ``buffer`` instead: it does when
        a buffer is given and the response's length is the buffer's (the size the index
        announced); else the body goes to ``target``, as when no buffer is given.

        The body streams through a synchronous client in a thread of its own, not on the
        event loop: httpx's asynchronous stack (anyio, a cancel scope per read) costs
        about twice the interpreter time per 64 KiB piece, held under the GIL that the
        unpacking threads need (torch's 190 MB: 0.55 s of CPU time against 0.37 s, where
        hashing and writing take 0.2 s). A cancelled wait (another download failed, or
        Ctrl+C) stops the thread at its next piece, or at once when its read waits on a
        quiet server (:class:`_Stop`), and waits for it, so the file is no longer
        written once this returns.
        """
        import asyncio  # noqa: PLC0415 -- see prepare()

        if self._fetchers is None:
            from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

            self._fetchers = ThreadPoolExecutor(
                self.max_concurrency, thread_name_prefix="resolvent-fetch"
            )
        stop = _Stop()
        work = partial(self._download_body, url, target, user, index, progress, gate, stop, buffer)
        future = asyncio.get_running_loop().run_in_executor(self._fetchers, work)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            stop.set()
            await asyncio.wait([future])
            raise

    def _download_body(  # noqa: PLR0917 -- internal, called through partial
        self,
        url: str,
        target: Path,
        user: Expected,
        index: Expected,
        progress: _Progress,
        gate: DownloadGate | None,
        stop: _Stop,
        buffer: mmap.mmap | None = None,
    ) -> tuple[dict[str, str], bool]:
        """Do :meth:`_download`'s work, in a download thread.

        With ``gate``, the file's tail is already at its place (in ``target``, or in
        ``buffer``): it is not truncated, and the gate learns how far the file is written.
        A retry starts the file afresh without the gate (the early unpacking is
        abandoned), as does a body of another length than ``buffer``'s, which goes to
        ``target``.

        :raises _DownloadCancelled: ``stop`` was set (the waiting task was cancelled).
        """
        import httpx  # noqa: PLC0415 -- only downloads need it

        client = self._body_http()
        attempt = 0
        while True:
            attempt += 1
            if attempt > 1 and gate is not None:
                gate.stop()
                gate = None
            hashers = _hashers(user, index)
            fetched = 0
            try:
                # The hashes are of the file itself; a server should not encode it.
                with client.stream("GET", url, headers=_IDENTITY) as response:
                    if response.status_code >= 400:
                        if response.status_code in {429, 500, 502, 503, 504} and (
                            attempt < _ATTEMPTS
                        ):
                            _pause(0.2 * attempt, stop)
                            continue
                        raise HttpStatusError(url, response.status_code)
                    if buffer is not None:
                        if _length(response) == len(buffer):
                            with stop.reading(response):
                                _fill(response, buffer, hashers, progress, gate, stop)
                            return _hexdigests(hashers), True
                        if gate is not None:
                            # Not the file announced: the early unpacking (which reads
                            # the buffer) gives up, and the body goes to the file.
                            gate.stop()
                            gate = None
                    with (
                        stop.reading(response),
                        target.open("wb" if gate is None else "r+b") as stream,
                    ):
                        # The bytes as sent, never decoded: a server that marks a
                        # `.tar.gz` as `Content-Encoding: gzip` would otherwise hand us
                        # the tar inside (pip reads raw bytes for the same reason). In the
                        # pieces the socket gave (up to ``_BODY_READ``): asking for a chunk size
                        # makes httpx copy them into exact chunks, a third of the CPU time
                        # of a local download (192 MB: 0.31 s without, 0.46-0.50 s with).
                        for chunk in response.iter_raw():
                            _raise_if_stopped(stop)
                            for hasher in hashers.values():
                                hasher.update(chunk)
                            stream.write(chunk)
                            fetched += len(chunk)
                            progress.advance(len(chunk))
                            if gate is not None:
                                stream.flush()
                                gate.advance(fetched)
                        if gate is not None:
                            # A body shorter than announced leaves prefetched bytes past
                            # its end: the file must be the body (its hash is checked).
                            stream.truncate(fetched)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as error:
                progress.advance(-fetched)
                if attempt >= _ATTEMPTS:
                    raise IndexUnreachableError(url, str(error) or type(error).__name__) from None
                _pause(0.2 * attempt, stop)
                continue
            except httpx.HTTPError as error:
                raise IndexUnreachableError(url, str(error) or type(error).__name__) from None
            return _hexdigests(hashers), False


def _widen_body_reads() -> None:
    """Make httpcore's synchronous HTTP/1.1 connections read up to ``_BODY_READ`` at once.

    httpcore asks the socket for 64 KiB per read (its ``READ_NUM_BYTES``), and each read
    becomes a piece that passes through h11, httpcore, httpx and the loop of
    ``_download_body``/``_fill`` (hashing, copying, progress, the download gate), with a
    turn at the GIL for the read and for the hash: torch's 190 MB were 2,900 pieces and
    0.27-0.31 s of CPU time on a local mirror, and 184 pieces and 0.18-0.21 s with 1 MiB
    reads (sha256 alone is 0.11 s). A read returns what the socket holds (at most this),
    so a slow server gives small pieces as before. Only the synchronous class is widened:
    in resolvent just the body client (this module's) uses it; the index client is
    asynchronous. The constant is a class attribute that httpcore reads on each read.
    """
    import httpcore  # noqa: PLC0415 -- loaded with httpx; only downloads need it

    connection = httpcore.HTTP11Connection
    if getattr(connection, "READ_NUM_BYTES", _BODY_READ) < _BODY_READ:
        connection.READ_NUM_BYTES = _BODY_READ


def _hexdigests(hashers: Mapping[str, hashlib._Hash]) -> dict[str, str]:
    return {name: hasher.hexdigest() for name, hasher in hashers.items()}


def _length(response: httpx.Response) -> int | None:
    """Return the body's length the response announces (``Content-Length``), if any."""
    try:
        return int(response.headers["content-length"])
    except (KeyError, ValueError):
        return None


def _fill(  # noqa: PLR0917 -- internal, one caller
    response: httpx.Response,
    buffer: mmap.mmap,
    hashers: Mapping[str, hashlib._Hash],
    progress: _Progress,
    gate: DownloadGate | None,
    stop: _Stop,
) -> None:
    """Stream ``response``'s raw body into ``buffer`` (its announced length), hashing it.

    The pieces are copied once, into place: no file is written and read back. The gate,
    if any, learns how far the buffer is filled. On failure the progress this attempt
    made is taken back here.

    :raises httpx.RemoteProtocolError: the body is not as long as announced (h11 checks
        this too; the buffer is never outgrown).
    """
    view = memoryview(buffer)
    size = len(view)
    fetched = 0
    try:
        for chunk in response.iter_raw():  # raw, as the file download (see there)
            _raise_if_stopped(stop)
            end = fetched + len(chunk)
            if end > size:
                _refuse_length()
            for hasher in hashers.values():
                hasher.update(chunk)
            view[fetched:end] = chunk
            progress.advance(len(chunk))
            fetched = end
            if gate is not None:
                gate.advance(fetched)
        if fetched != size:
            _refuse_length()
    except BaseException:
        progress.advance(-fetched)  # the caller's count of this attempt starts at zero
        raise


def _refuse_length() -> NoReturn:
    """Raise ``httpx.RemoteProtocolError``: the body is not of the length announced."""
    import httpx  # noqa: PLC0415 -- loaded by the caller already

    raise httpx.RemoteProtocolError("the body's length is not the one announced")


def _raise_if_stopped(stop: _Stop) -> None:
    """Raise :class:`_DownloadCancelled` if ``stop`` is set (checked once per piece)."""
    if stop.is_set():
        raise _DownloadCancelled


def _pause(seconds: float, stop: _Stop) -> None:
    """Wait ``seconds`` before a retry; raise :class:`_DownloadCancelled` if stopped meanwhile."""
    if stop.wait(seconds):
        raise _DownloadCancelled


async def _settled(staging: asyncio.Future[StagedWheel]) -> StagedWheel | None:
    """Wait for an early unpacking to end; return its tree, or ``None`` if it failed.

    Its failure is no error of the run: the file is then unpacked as any other, which
    reports what is wrong with it.
    """
    import asyncio  # noqa: PLC0415 -- see Preparer.prepare()

    await asyncio.wait([staging])
    if staging.cancelled() or staging.exception() is not None:
        return None
    return staging.result()


def _expected_sha256(user: Expected, index: Expected) -> str | None:
    """Return the one sha256 the file must have, if the index or the user says so."""
    known = index.get("sha256") or user.get("sha256") or set()
    return next(iter(known)) if len(known) == 1 else None


def _write_sparse(path: Path, size: int, offset: int, data: bytes) -> None:
    """Create ``path`` with ``size`` bytes, ``data`` at ``offset`` (the rest a hole)."""
    with path.open("wb") as stream:
        stream.truncate(size)
        stream.seek(offset)
        stream.write(data)


def _buffer_holds_tail(buffer: mmap.mmap, offset: int, data: bytes) -> bool:
    """Return whether the downloaded ``buffer`` has ``data`` at ``offset``, up to its end."""
    return offset + len(data) == len(buffer) and buffer[offset:] == data


def _holds_tail(path: Path, size: int, offset: int, data: bytes) -> bool:
    """Return whether the downloaded file has ``size`` bytes, ``data`` at ``offset``."""
    try:
        with path.open("rb") as stream:
            stream.seek(offset)
            whole = stream.read(len(data)) == data and stream.read(1) == b""
    except OSError:
        return False  # then the file is unpacked as any other, which reports the error
    return whole and offset + len(data) == size


def _first_tail(size: int) -> int:
    """Return how many of a big wheel's last bytes its first tail request asks for.

    The tail a wheel's early unpacking needs is its central directory twice over (the
    directory, then the ``.dist-info`` files and RECORD before it, about as long), about
    1.3 % of the file for seed-ml's big wheels (torch: 2.3 MB of 182 MB). Asking for the
    last 64 KiB only, to find the directory, took a second request for the rest: a round
    trip more before torch's download could start, the longest of a cold install (on a
    local mirror, with a dozen downloads starting, 0.17-0.27 s for the first). A guess of
    ``_TAIL_GUESS_SHARE`` of the file gets the whole tail in one request for those
    wheels; when it falls short, the second request fetches the rest as before. Never
    more than the share ``_tail`` accepts (``_MAX_TAIL_SHARE``), nor than the file.
    """
    guess = max(_EOCD_TAIL, int(size * _TAIL_GUESS_SHARE))
    return min(size, max(_EOCD_TAIL, min(guess, int(size * _MAX_TAIL_SHARE))))


def _expected_size(item: Wanted) -> int:
    """Return the size the index states for ``item``'s file (0: unknown or no file)."""
    return (item.file.size or 0) if item.file is not None else 0


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """Return the error to report from a task group: a user-facing one if there is any."""
    leaves: list[BaseException] = []

    def collect(error: BaseException) -> None:
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                collect(inner)
        else:
            leaves.append(error)

    collect(group)
    for leaf in leaves:
        if isinstance(leaf, ResolventError):
            return leaf
    return leaves[0] if leaves else group
