"""Speculative linking: a warm install's trees of links built while the run resolves.

A warm install links every file of its cache entries into the environment (a hardlink
each: 26,000 for seed-ml's 56 wheels, about 100 ms of system calls) only after it has
imported its modules and resolved, one core busy after the other while the second idles.
The same command run again (a CI job, a benchmark, a venv rebuilt from the same
requirements) nearly always links the same entries as the last time. So a run of
``pip install``/``pip sync`` first reads which entries the same command linked last time
(a memo in the cache's ``installs-v1`` bucket) and forks a helper process that builds
their staged trees (the folders and the links, exactly what :func:`build_tree` makes
for the run itself) in a private folder of the environment, while the run imports,
resolves and plans. When the run comes to link an entry, it takes the helper's tree if
the helper built that very entry from the same manifest, by renaming it into its staging
folder; else it links the entry itself, as without speculation. The journal, the
commit and the rollback are the run's as always: a taken tree is a staged tree like
any other.

Who builds a tree is decided by one ``mkdir``: the helper creates ``t<index>`` before it
builds it, and the run creates it to claim an entry for itself (one the helper has not
started, or one the plan no longer wants), so each tree is built once and the helper
skips what the run has claimed. Nothing outside the private folder is written by the
helper; it never installs anything. The folder is deleted when the run ends; the helper
ends with the run (it finds the run's end of a pipe closed, at most one chunk of 512
links later), and a folder whose owner died (a run killed with SIGKILL) is deleted by
the next run that takes the environment's lock (:func:`discard_abandoned`): a live run
holds a shared ``flock`` on its folder.

Only on Linux (that recovery reads ``/proc``), only for hardlinks, and only when the run is
single-threaded when it forks (the command line's case: a process with threads is not
forked). ``RESOLVENT_NO_SPECULATION=1`` turns it off. uv has no such step.
"""

# Hot paths use str paths and os calls, as DESIGN.md asks:
# ruff: noqa: PTH102, PTH103, PTH106, PTH112, PTH118, PTH119, PTH120, PTH123
from __future__ import annotations

import contextlib
import os
import sys
import threading

from resolvent import TYPE_CHECKING
from resolvent.folders import make_private_folder
from resolvent.installer.cache import CacheBucket

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "MEMO_BUCKET",
    "SPECULATIVE_PREFIX",
    "Speculation",
    "discard_abandoned",
    "memo_key",
    "stale_memo",
]

#: The cache bucket of memos: per command, the entries its last successful run linked.
MEMO_BUCKET = "installs-v1"
#: The private folder's name in the environment (never a staging folder's prefix).
SPECULATIVE_PREFIX = ".resolvent-speculative-"
_MEMO_HEADER = "resolvent speculative links 1"
#: A tree's shape as the helper built it and as the run's manifest says: (dirs, files, links).
Shape = tuple[int, int, int]


def memo_key(parts: Iterable[object]) -> str:
    """Return the memo name of a command: a digest of everything that made it.

    Two CRC-32s, not a cryptographic digest: a memo is a hint that decides nothing (a
    tree is taken only when it is the very entry the run links), and ``hashlib`` would
    load OpenSSL before the fork, 2 ms later for the helper.
    """
    import zlib  # noqa: PLC0415 -- one call per run

    text = repr(tuple(parts)).encode("utf-8", "backslashreplace")
    return f"{zlib.crc32(text):08x}{zlib.crc32(text[::-1], len(text)):08x}"


class _Stopped(Exception):  # noqa: N818 -- a signal between the helper's chunks, not an error
    """The run said goodbye (or died): the helper stops building."""


class Speculation:
    """One run's speculation: the memo it read, the helper it forked, the trees it took.

    Made by :meth:`begin`; :meth:`take` is called by the run's link workers (threads);
    :meth:`end` must be called when the run ends, however it ends.
    """

    def __init__(self, cache_root: str, key: str, root: str) -> None:
        self._root = root
        self._archive = os.path.join(cache_root, CacheBucket.ARCHIVE.value)
        self._memo = os.path.join(cache_root, MEMO_BUCKET, key)
        #: The memo's (cache entry, its installed ``.dist-info``), in link order.
        self.entries: list[tuple[str, str]] = []
        self._index: dict[str, int] = {}
        self.folder: str | None = None
        self._pid = 0
        self._control = -1
        self._status = -1
        self._lock = -1
        self._built: dict[int, Shape | None] = {}
        self._unread = b""  # a status line cut by a read
        self._claimed: set[int] = set()  # by `release`: the helper never builds them
        self._helper_ended = False
        self._reading = threading.Lock()
        #: How many trees the run took from the helper (for tests and reports).
        self.taken = 0

    @classmethod
    def begin(cls, cache_root: str, key: str, root: str) -> Speculation:
        """Read the memo of command ``key`` and fork the helper, when there is something to do.

        ``root`` is the environment: the private folder goes there, on the file system
        of the staging folder, so that a tree moves by one rename. Nothing is forked when
        every remembered distribution is installed already (a rerun that changes nothing).
        """
        speculation = cls(cache_root, key, root)
        speculation.entries = speculation._read_memo()
        speculation._index = {tree: index for index, tree in enumerate(speculation.trees)}
        missing = any(not os.path.lexists(dist_info) for _, dist_info in speculation.entries)
        if missing and _may_fork():
            with contextlib.suppress(OSError):
                speculation._fork(root)
        return speculation

    @property
    def trees(self) -> list[str]:
        """The memo's cache entries, in link order (a tree's index names its folder)."""
        return [tree for tree, _ in self.entries]

    def _read_memo(self) -> list[tuple[str, str]]:
        """Return the memo's (cache entry, ``.dist-info`` it was installed as) pairs.

        The memo names each ``.dist-info`` relative to the environment (the same command
        into a new venv elsewhere is the same command); it is returned absolute.
        """
        entries = _memo_entries(self._memo) or []
        # Only entries of this cache's archive bucket, by their plain names: a damaged or
        # planted memo can make the helper link nothing else.
        archive = self._archive
        root = self._root
        return [
            (tree, os.path.join(root, dist_info))
            for tree, dist_info in entries
            if os.path.dirname(tree) == archive and os.path.basename(tree).isalnum()
        ]

    def _fork(self, root: str) -> None:
        import fcntl  # noqa: PLC0415 -- POSIX only

        # What the helper needs, imported before the fork: the run imports these modules
        # anyway (it links with them), so they cost it nothing more, and the helper
        # starts linking at once instead of importing them again beside the run.
        import signal  # noqa: F401, PLC0415 -- the run's subprocess imports it too

        import resolvent.installer.link  # noqa: PLC0415
        import resolvent.installer.manifest  # noqa: F401, PLC0415

        # The run's pid in the name: see `discard_abandoned`.
        folder = make_private_folder(root, f"{SPECULATIVE_PREFIX}{os.getpid()}-")
        opened: list[int] = []
        try:
            lock = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            opened.append(lock)
            fcntl.flock(lock, fcntl.LOCK_SH)  # held by the run and the helper: "in use"
            control_read, control_write = os.pipe()
            opened += (control_read, control_write)
            status_read, status_write = os.pipe()
            opened += (status_read, status_write)
            parent = os.getpid()
            pid = os.fork()
        except OSError:  # no helper after all: nothing may stay behind
            for fd in opened:
                os.close(fd)
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # made just now, still empty
            raise
        if pid == 0:  # the helper: never returns, never runs the parent's code
            try:
                os.close(control_write)
                os.close(status_read)
                _helper(folder, self.entries, control_read, status_write, parent)
            finally:
                os._exit(0)
        os.close(control_read)
        os.close(status_write)
        self.folder = folder
        self._pid = pid
        self._control = control_write
        self._status = status_read
        self._lock = lock

    def release(self, wanted: Iterable[str]) -> None:
        """Claim, so that the helper skips them, the memo's trees the plan does not link."""
        folder = self.folder
        if folder is None:
            return
        keep = set(wanted)
        for index, tree in enumerate(self.trees):
            if tree not in keep:
                with contextlib.suppress(OSError):
                    os.mkdir(os.path.join(folder, f"t{index}"))
                    self._claimed.add(index)

    def take(self, source: str, shape: Shape) -> str | None:
        """Return the helper's tree of cache entry ``source``, or ``None``: link it yourself.

        ``shape`` is the run's manifest's (folders, files, links): the helper's tree is
        taken only if it was built whole from a manifest of that shape (the entry is the
        same, and entries never change). Waits while the helper builds it.
        """
        index = self._index.get(source)
        folder = self.folder
        if index is None or folder is None or index in self._claimed:
            return None
        tree = os.path.join(folder, f"t{index}")
        try:
            os.mkdir(tree)
        except FileExistsError:
            if self._result(index) == shape:
                self.taken += 1
                return tree
            return None
        except OSError:
            return None
        return None  # claimed: the helper had not started it

    def _result(self, index: int) -> Shape | None:
        """Wait for the helper's word on tree ``index``."""
        with self._reading:
            while index not in self._built and not self._helper_ended:
                data = os.read(self._status, 65536)
                if not data:
                    self._helper_ended = True
                    break
                *lines, self._unread = (self._unread + data).split(b"\n")
                for line in (line.decode("ascii") for line in lines):
                    number, _, shape = line.partition(" ")
                    parts = shape.split()
                    self._built[int(number)] = (
                        (int(parts[0]), int(parts[1]), int(parts[2])) if len(parts) == 3 else None
                    )
            return self._built.get(index)

    def end(self) -> None:
        """Stop the helper, wait for it, and delete what the run did not take."""
        if self.folder is None:
            return
        folder, self.folder = self.folder, None
        with contextlib.suppress(OSError):
            os.write(self._control, b"x")  # goodbye: the helper stops at its next chunk
        for fd in (self._control, self._status):
            with contextlib.suppress(OSError):
                os.close(fd)
        while True:
            try:
                os.waitpid(self._pid, 0)
            except ChildProcessError:  # reaped already
                pass
            except KeyboardInterrupt:  # the helper stops within a chunk: wait it out
                continue
            break
        from resolvent.installer.destination import discard_staging  # noqa: PLC0415

        discard_staging(folder)
        with contextlib.suppress(OSError):
            os.close(self._lock)

    def remember(self, entries: Sequence[tuple[str, str]]) -> None:
        """Record what this command linked, for its next run.

        ``entries`` are (cache entry, the ``.dist-info`` folder installed from it), in the
        order the run linked them.
        """
        if list(entries) == self.entries or not entries:
            return
        from resolvent.atomic_write import write_atomically  # noqa: PLC0415

        root = self._root
        lines = [f"{tree}\t{os.path.relpath(dist_info, root)}" for tree, dist_info in entries]
        text = "\n".join([_MEMO_HEADER, *lines]) + "\n"
        with contextlib.suppress(OSError):
            os.makedirs(os.path.dirname(self._memo), exist_ok=True)
            write_atomically(self._memo, text.encode("utf-8"), prefix=".tmp-installs-")


def _memo_entries(path: str) -> list[tuple[str, str]] | None:
    """Return a memo file's (cache entry, relative ``.dist-info``) lines; ``None``: no memo."""
    try:
        with open(path, encoding="utf-8") as stream:
            header, *lines = stream.read().splitlines()
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if header != _MEMO_HEADER:
        return None
    fields = [line.split("\t") for line in lines]
    return [(entry[0], entry[1]) for entry in fields if len(entry) == 2]


def stale_memo(path: str) -> bool:
    """Whether the memo file ``path`` is unreadable or names a cache entry that is gone.

    ``cache prune`` removes such memos: a hint about entries pruned away helps no run.
    """
    entries = _memo_entries(path)
    return entries is None or any(not os.path.isdir(tree) for tree, _ in entries)


def _may_fork() -> bool:
    """Whether forking the helper is safe and useful here (see the module's text)."""
    return (
        sys.platform.startswith("linux")
        and threading.active_count() == 1
        and not os.environ.get("RESOLVENT_NO_SPECULATION")
    )


def _helper(
    folder: str,
    entries: Sequence[tuple[str, str]],
    control: int,
    status: int,
    parent: int,
) -> None:
    """Build the trees of ``entries`` in ``folder``, in order, until told to stop.

    The helper ends when the run says goodbye or dies: the run holds the only writing
    end of ``control``, so a read there returns a byte (goodbye) or, once the run is
    gone, nothing. It reads between chunks of 512 links (a few ms apart) and, when done,
    waits there. No parent-death signal is asked for: ``ctypes`` (to call ``prctl``)
    took 1.7 ms to import, on the critical path of a warm install, for what the next
    read finds out a chunk later.
    """
    import signal  # noqa: PLC0415 -- imported before the fork (see Speculation._fork)

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl+C is the run's to handle
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # a caller reading the run's output must not wait for the helper
        os.dup2(null, fd)
    if os.getppid() != parent:  # the run died already
        return
    os.set_blocking(control, False)

    def pause() -> None:
        try:
            os.read(control, 1)  # a byte (goodbye) or none at all (the run is gone)
        except BlockingIOError:
            return  # nothing said: go on
        raise _Stopped

    from resolvent.installer.link import Linker, LinkMode, build_tree  # noqa: PLC0415
    from resolvent.installer.manifest import load_manifest  # noqa: PLC0415

    try:
        for index, (source, dist_info) in enumerate(entries):
            pause()
            if os.path.lexists(dist_info):
                continue  # installed already: the run will not link it
            manifest = load_manifest(source)
            if manifest is None:
                continue
            tree = os.path.join(folder, f"t{index}")
            try:
                os.mkdir(tree)
            except OSError:
                continue  # the run claimed it
            linker = Linker()
            word = "-"
            with contextlib.suppress(OSError):
                build_tree(
                    linker, tree, source, manifest.dirs, manifest.files, manifest.links, pause=pause
                )
                if linker.mode is LinkMode.HARDLINK:  # hardlinks all through, no copying
                    word = f"{len(manifest.dirs)} {len(manifest.files)} {len(manifest.links)}"
            os.write(status, f"{index} {word}\n".encode("ascii"))
        os.set_blocking(control, True)
        os.read(control, 1)  # wait for the run to say goodbye (or die)
    except _Stopped:
        return


def discard_abandoned(path: str) -> None:
    """Delete the speculative folder ``path`` unless a live run holds it.

    Called by the run that holds the environment's lock, for folders whose run died.
    A folder nobody holds is deleted. One still held is deleted too when the run named
    in it is gone: its helper got SIGKILL when the run died (or, before it asked for
    that signal, checks that its run lives before it writes anything), so it writes no
    more, though it may hold the lock a moment longer while the kernel ends it (a rerun
    started at once, in the same process as the killed run's caller, saw that).
    """
    try:
        import fcntl  # noqa: PLC0415 -- POSIX only
    except ImportError:  # pragma: no cover -- no speculation there
        return
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            if not _run_is_gone(path):
                return  # a live run's
        from resolvent.installer.destination import discard_staging  # noqa: PLC0415 -- its caller

        discard_staging(path)
    finally:
        os.close(fd)


def _run_is_gone(path: str) -> bool:
    """Whether the run whose pid names speculative folder ``path`` has ended (Linux)."""
    pid = os.path.basename(path)[len(SPECULATIVE_PREFIX) :].partition("-")[0]
    if not pid.isdigit():
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stream:
            state = stream.read().rpartition(")")[2].split()[:1]
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return state in (["Z"], ["X"])  # a zombie, or dead
