"""A wheel destination is an install scheme on disk, written to all at once or not at all.

An install places files in five scheme paths (purelib, platlib, scripts, headers, data)
and may remove an older version's files. :class:`SchemeDestination` stages every new file
in a private folder inside the environment (same file system, so moves are renames),
then moves each into place, keeping what it replaces; on any error it puts everything
back, so an environment never holds half a package.

The bulk of a wheel (its root scheme) is staged as one tree of links
(:meth:`SchemeDestination.link_tree`) and moved into place a top-level folder at a
time: a package folder that the environment does not have yet costs one rename, not
one per file. Only where a folder already exists (a namespace package, an upgrade) is
the tree merged into it entry by entry. The ``.dist-info`` folder moves last, and RECORD
after it, so a process killed part way leaves no RECORD that claims a whole install.

Several transactions can also stand or fall together (an install plan: remove some
distributions, link others): given one :class:`Journal` (from :func:`all_or_nothing`),
each destination keeps what its commit replaced in the journal's staging folder and writes
the journal each step before it takes it, and :meth:`Journal.rollback` undoes every one of
them, so an environment keeps what it had even when the plan's last package fails. The
journal is a file in the staging folder too, so a process killed part way (SIGKILL, the
OOM killer, a closed terminal) leaves what the next run needs to undo it:
:func:`recover_staging`, which that run calls once it holds the environment's lock.

Example::

    destination = SchemeDestination(scheme, python="/venv/bin/python")
    destination.begin("purelib")
    destination.link("purelib", "demo/__init__.py", "/cache/archive-v1/ab.../demo/__init__.py")
    destination.commit()
"""

# Hot paths use str paths and os calls, as DESIGN.md asks:
# ruff: noqa: PTH100, PTH102, PTH103, PTH105, PTH106, PTH108, PTH112, PTH114, PTH117, PTH118, PTH120
from __future__ import annotations

import contextlib
import errno
import functools
import itertools
import json
import os
import stat
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from packaging.utils import canonicalize_name

from resolvent.errors import InstallError, ResolventError, os_paths, os_reason
from resolvent.folders import make_private_folder, remove_tree
from resolvent.installer.link import Linker, LinkMode, build_tree
from resolvent.installer.record import RecordEntry, parse_record
from resolvent.installer.speculate import SPECULATIVE_PREFIX, discard_abandoned
from resolvent.json_text import parse_json
from resolvent.value_class import Value

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from resolvent.installer.wheel_info import DataKey

__all__ = [
    "InstalledFiles",
    "Journal",
    "Scheme",
    "SchemeDestination",
    "all_or_nothing",
    "discard_staging",
    "find_installed",
    "installed_files",
    "os_failure",
    "recover_staging",
]

_STAGING_PREFIX = ".resolvent-staging-"
#: What a staging folder is renamed to when a rollback could not put everything back: the
#: backups left in it may be the only copies of what the environment held, so no later
#: run deletes it (the warning or error names it).
_UNRESTORED_PREFIX = ".resolvent-unrestored-"
#: The journal file in a staging folder, and the line it starts with.
_JOURNAL_FILE = "journal"
_JOURNAL_HEADER = b"resolvent-journal 1\n"

# How to undo one step of a commit (the step's path, and the other path involved). A step
# is written to the journal *before* it is taken, so its undo first checks, on disk,
# whether it was taken (and not undone already): undoing is idempotent, and a rollback
# cut short (a second Ctrl+C, a kill) can simply run again, in this run or the next.
_RMDIR = 0  # a folder the commit makes: remove it, if it is there and empty
_RESTORE = 2  # a file (or a whole folder) moved aside to a backup: move it back, if backed up
_UNMOVE = 3  # a staged file or folder moved into place: move it back, if staging lacks it
_MKDIR = 4  # a folder the commit's removals emptied and pruned: make it again, if missing
_ACTIONS = frozenset({_RMDIR, _RESTORE, _UNMOVE, _MKDIR})
# Every step of every transaction takes the next number (``next`` on a count is atomic
# under the GIL): undoing several transactions that ran in parallel then goes in the
# reverse order of the steps themselves, so a folder one transaction made is removed
# only after the files another one put in it. (A step that depends on another one's
# result, such as a file placed in a folder another transaction made, looks for that
# result after the other step's number was taken, so it always has the higher number.)
_STEPS = itertools.count()
_Step = tuple[int, int, str, str]  # (number, action, path, other)
# A rename onto a folder fails with these when the folder appeared meanwhile.
_FOLDER_EXISTS = frozenset({errno.EEXIST, errno.ENOTEMPTY})


class Scheme(Value):
    """The five folders an install writes to, and the environment root they all live in.

    ``root`` bounds every write and every removal (a RECORD that names a path outside it
    is refused).
    """

    __slots__ = ("data", "headers", "platlib", "purelib", "root", "scripts")

    def __init__(  # noqa: PLR0917 -- the five scheme keys and the root, in scheme order
        self, purelib: Path, platlib: Path, scripts: Path, headers: Path, data: Path, root: Path
    ) -> None:
        self.purelib: Final = purelib
        self.platlib: Final = platlib
        self.scripts: Final = scripts
        self.headers: Final = headers
        self.data: Final = data
        self.root: Final = root

    def path(self, key: DataKey) -> Path:
        """Return the folder of scheme key ``key``."""
        return getattr(self, key)  # type: ignore[no-any-return]  # one of five Paths


def _removal_rank(path: str) -> int:
    """Order removals so a killed uninstall still leaves a complete-looking ``.dist-info``.

    Package files go first, then the ``.dist-info`` files, ``METADATA`` and ``RECORD``
    last: until the very end the folder still names the install and lists its files,
    so the next run sees the package, finds it extraneous and removes the rest (files
    already gone are skipped), instead of meeting an incomplete ``.dist-info``.
    """
    folder, _, name = path.rpartition(os.sep)
    if not folder.endswith(".dist-info"):
        return 0
    if name == "RECORD":
        return 3
    return 2 if name == "METADATA" else 1


def _mode(path: str) -> int | None:
    """Return ``path``'s mode, not following a link (``None``: nothing is there)."""
    try:
        return os.lstat(path).st_mode
    except FileNotFoundError:
        return None


def _refuse_folder(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        raise InstallError(f"cannot install a file over the folder `{path}`")


def path_inside(path: str, root: str) -> bool:
    """Return whether ``path`` is ``root`` or lies under it (both normalized, absolute)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def os_failure(error: OSError, verb: str, *, staging: str | None = None) -> InstallError:
    """Return a one-line :class:`InstallError` for ``error``, naming the path it concerns.

    ``verb`` says what was being done (``install to``, ``remove``). A failed rename names
    two paths; the one inside ``staging`` (our private folder) means nothing to a user,
    so the other is shown.
    """
    shown = os_paths(error)
    outside = [p for p in shown if staging is None or not path_inside(p, staging)]
    path = (outside or shown or [""])[0]
    reason = os_reason(error)
    if not path:
        return InstallError(f"cannot {verb} the environment: {reason}")
    return InstallError(f"cannot {verb} `{path}`: {reason}")


def _undo_step(action: int, path: str, other: str) -> None:
    """Undo one journaled step if it was taken; raise :class:`OSError` if that fails."""
    if action == _RESTORE:
        if os.path.lexists(other):
            os.replace(other, path)
    elif action == _UNMOVE:
        if not os.path.lexists(other):
            with contextlib.suppress(FileNotFoundError):  # not there: nothing to take back
                os.replace(path, other)
    elif action == _RMDIR:
        # Best effort: a folder we made that is not empty (something outside the
        # transaction wrote there) is left in place, as is one never made.
        with contextlib.suppress(OSError):
            os.rmdir(path)
    else:
        # A pruned folder may be back already (another transaction's undo made it), or
        # was never removed (it was not empty).
        with contextlib.suppress(FileExistsError):
            os.mkdir(path)


def _undo_all(steps: Iterable[_Step]) -> list[str]:
    """Undo ``steps`` (latest first); return the paths that could not be put back."""
    failed = []
    for _, action, path, other in sorted(steps, reverse=True):
        try:
            _undo_step(action, path, other)
        except OSError:
            failed.append(path)  # best effort: keep restoring the rest
    return failed


class Journal:
    """The undo logs of transactions that succeed or fail together (an install plan).

    Each :class:`SchemeDestination` made with the journal stages its files and keeps
    what its commit moved aside in ``staging`` (a folder inside the environment, shared
    by the transactions: making and removing a folder per install costs milliseconds on
    some file systems) and records each step here *before* taking it. The owner of
    ``staging`` (:func:`all_or_nothing`) then calls :meth:`rollback` if any part failed,
    or :meth:`finish` once every part succeeded, and deletes ``staging``, the backups
    with it. Safe to use from several threads.

    The steps are also appended to a file, ``staging/journal``, one JSON line each, by
    one ``write(2)`` per :meth:`record` call (the first also writes the file's header),
    before the steps it names are taken. So a
    process killed at any moment (SIGKILL, the OOM killer, a closed terminal) leaves
    on disk every step it may have taken and every file it moved aside, and the next
    run, which takes the environment's lock, rolls the unfinished transaction back
    (:func:`recover_staging`) instead of deleting the backups. Removing the file is the
    commit point (:meth:`finish`): the backups are deleted only after it.

    Why this design: uv links in place and keeps no undo at all (a killed uv leaves a
    half-replaced package for a later run to reinstall, if that run happens to touch
    it); pip moves what it uninstalls to a temporary folder and moves it back on an
    exception, but a killed pip leaves it there, with nothing that says where it came
    from. This project promises that an environment keeps what it had on any error, so
    the undo information must outlive the process. The journal is not ``fsync``'d:
    what a killed process wrote is in the kernel's page cache and reaches the disk, and
    the order of a journal line before the rename it announces holds for every process
    that reads the folder after it. A power loss or a kernel crash may lose the last
    lines, as it may lose the renames themselves (ext4 and xfs do not order a file's
    appended data against other files' renames); an ``fsync`` before each step would
    cost as much as the step, and neither pip nor uv syncs anything either.

    :meth:`stop` makes every transaction still committing stop at its next step (with
    an :class:`InstallError`), so a Ctrl+C rolls back in a moment, even in the middle
    of a package of 12,000 files.

    Example::

        with all_or_nothing(scheme.root) as journal:
            ...  # SchemeDestination(scheme, python=python, journal=journal) per package
    """

    __slots__ = ("_broken", "_fd", "_lock", "_steps", "_stopped", "staging")

    def __init__(self, staging: str) -> None:
        self.staging = staging
        self._steps: list[_Step] = []
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._broken = False
        self._stopped = False

    def record(self, steps: Sequence[_Step]) -> None:
        """Keep ``steps`` (numbered, not yet taken), in memory and in the journal file.

        Raises :class:`OSError` if the file cannot be written; then no step may be
        taken, and after a failed write (a full disk) none ever is: a line cut short
        would hide the next one from :func:`recover_staging`.
        """
        if not steps:
            return
        data = "".join(json.dumps(step) + "\n" for step in steps).encode()
        with self._lock:
            if self._broken:
                raise OSError(errno.EIO, "the journal could not be written", self.staging)
            self._steps.extend(steps)  # an untaken step is skipped by its undo
            try:
                fd = self._fd if self._fd is not None else self._open()
                while data:
                    data = data[os.write(fd, data) :]
            except OSError:
                self._broken = True
                raise

    def _open(self) -> int:
        path = os.path.join(self.staging, _JOURNAL_FILE)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags, 0o600)
        self._fd = fd
        if os.fstat(fd).st_size == 0:
            os.write(fd, _JOURNAL_HEADER)
        return fd

    def stop(self) -> None:
        """Make every transaction still committing stop at its next step (Ctrl+C)."""
        self._stopped = True

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopped

    def raise_if_stopped(self) -> None:
        """Raise :class:`InstallError` if :meth:`stop` was called (checked between steps)."""
        if self._stopped:
            raise InstallError("the install was interrupted")

    def remove_tree(self, path: str) -> None:
        """Remove folder ``path`` from the environment, as a step :meth:`rollback` undoes.

        It is one rename into the staging folder, so it is as quick as it is reversible.
        """
        backup = os.path.join(self.staging, f"tree-{os.urandom(6).hex()}")
        try:
            self.record([(next(_STEPS), _RESTORE, path, backup)])
            os.replace(path, backup)
        except FileNotFoundError:
            return
        except OSError as error:
            raise os_failure(error, "remove", staging=self.staging) from None

    def rollback(self) -> list[str]:
        """Undo every transaction recorded so far, latest step first; forget them.

        Returns the paths that could not be restored (empty when the environment is back
        to what it held). Undoing a step never taken, or undone already, does nothing,
        so a rollback that was itself interrupted may simply be called again. The
        journal file goes once the steps are undone: nothing is left to replay.
        """
        with self._lock:
            steps = list(self._steps)
        lost = _undo_all(steps)
        with self._lock:
            del self._steps[: len(steps)]
            self._forget()
        return lost

    def finish(self) -> bool:
        """Keep every change recorded so far: the commit point; forget the steps.

        Removes the journal file, so that deleting the backups next can no longer make
        a killed run's rollback half of one. Returns False if the file could not be
        removed: then the staging folder must stay as it is (the next run rolls back).
        """
        with self._lock:
            self._steps = []
            return self._forget()

    def _forget(self) -> bool:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        try:
            os.unlink(os.path.join(self.staging, _JOURNAL_FILE))
        except FileNotFoundError:
            pass
        except OSError:
            return False
        return True


def _roll_back_fully(journal: Journal) -> list[str]:
    """Roll ``journal`` back to the end, even through more Ctrl+C's.

    A rollback cut short would leave half of the old and half of the new version; it is
    quick, and each of its steps can be taken again, so it starts over until it is done.
    """
    while True:
        try:
            return journal.rollback()
        except KeyboardInterrupt:
            continue


@contextlib.contextmanager
def all_or_nothing(root: Path) -> Iterator[Journal]:
    """Yield the journal of one run's changes to the environment at ``root``; undo on error.

    Its staging folder (one for the whole run) holds every file the run replaces or
    removes, and the journal file, until the run has succeeded, for the rollback; then
    it is deleted. After a crash, the next run's ``environment_lock`` rolls the journal
    back (:func:`recover_staging`). A restore that fails is named in the hint of the
    error raised, and the staging folder is then kept (renamed, so no run deletes it).
    """
    try:
        staging = make_private_folder(root, _STAGING_PREFIX)
    except OSError as error:
        raise os_failure(error, "write to") from None
    journal = Journal(staging)
    try:
        yield journal
    except BaseException as error:
        _undo_or_keep(journal, staging, error)
        raise
    if journal.finish():
        discard_staging(staging)


def _undo_or_keep(journal: Journal, staging: str, error: BaseException) -> bool:
    """Roll ``journal`` back after ``error``; return whether ``staging`` had to be kept.

    The staging folder is deleted when everything was put back. Otherwise it holds the
    only copies of what could not be restored: it is kept (renamed, so that no run
    deletes it) and named in the hint of ``error``.
    """
    lost = _roll_back_fully(journal)
    if not lost:
        discard_staging(staging)
        return False
    kept = _keep_unrestored(staging)
    if isinstance(error, ResolventError) and error.hint is None:
        error.hint = (
            f"{len(lost)} path(s) could not be restored, such as `{lost[0]}` "
            f"(what they held is in `{kept}`); "
            "`resolvent pip verify` shows what the environment holds now"
        )
    return True


def _keep_unrestored(staging: str) -> str:
    """Rename ``staging`` so that no run deletes the backups a rollback could not restore."""
    folder, name = os.path.split(staging)
    kept = os.path.join(folder, _UNRESTORED_PREFIX + name[len(_STAGING_PREFIX) :])
    try:
        os.replace(staging, kept)
    except OSError:
        return staging
    return kept


def discard_staging(staging: str) -> None:
    """Delete a run's staging folder: after a success, only emptied trees are left in it.

    Each tree is one ``rmdir``, where ``shutil.rmtree`` opens, reads and closes it first
    (56 of them took 7.5 ms of a warm install of seed-ml); anything else (the backups a
    rollback or a reinstall leaves) falls back to ``rmtree``. The journal file must be
    gone already (:meth:`Journal.finish`, :meth:`Journal.rollback`). A speculative folder
    (:mod:`~resolvent.installer.speculate`: claimed empty trees, unused built ones) goes
    the same way.
    """
    try:
        with os.scandir(staging) as entries:
            for entry in entries:
                os.rmdir(entry.path)
        os.rmdir(staging)
    except OSError:
        remove_tree(staging)


def recover_staging(root: Path) -> list[str]:
    """Finish what killed runs left in the environment at ``root``; return what to say.

    Only call it holding the environment's lock (``environment_lock`` does), so that no
    live run owns these folders. A staging folder without a journal file belongs to a
    run that committed, or had not changed anything yet: it is deleted. One with a
    journal belongs to a run killed while it changed the environment: its steps are
    undone, latest first (each only if it was taken), so the environment holds again
    what it held before that run, and then the folder is deleted. If something could
    not be put back, the folder is kept under another name, and the message says where.
    A dead run's speculative folder (see :mod:`~resolvent.installer.speculate`) is deleted.
    """
    try:
        with os.scandir(root) as entries:
            found = [
                (entry.name, entry.path) for entry in entries if entry.is_dir(follow_symlinks=False)
            ]
    except OSError:
        return []
    stale = [path for name, path in found if name.startswith(_STAGING_PREFIX)]
    for name, path in found:
        if name.startswith(SPECULATIVE_PREFIX):
            discard_abandoned(path)  # a killed run's trees, never part of the environment
    notes: list[str] = []
    # Several journals (a rare thing: each run recovers the ones before it) are undone
    # latest first, as the steps within one are.
    for staging in sorted(stale, key=_journal_age):
        note = _recover(os.fspath(root), staging)
        if note is not None:
            notes.append(note)
    return notes


def _journal_age(staging: str) -> float:
    try:
        return -os.stat(os.path.join(staging, _JOURNAL_FILE)).st_mtime  # noqa: PTH116
    except OSError:
        return 0.0


def _recover(root: str, staging: str) -> str | None:
    """Roll back the journal in ``staging`` (if any) and delete the folder; say what happened."""
    path = os.path.join(staging, _JOURNAL_FILE)
    try:
        with open(path, "rb") as stream:  # noqa: PTH123 -- a str path
            data = stream.read()
    except FileNotFoundError:
        discard_staging(staging)
        return None
    except OSError as error:
        return (
            f"cannot read the journal of an interrupted run, `{path}` ({os_reason(error)}); "
            "it was left in place"
        )
    steps = _read_journal(data, root, staging)
    if steps is None:
        return f"`{path}` is not a journal this version can read; it was left in place"
    if not steps:  # killed before its first step: nothing changed
        with contextlib.suppress(OSError):
            os.unlink(path)
        discard_staging(staging)
        return None
    lost = _undo_all(steps)
    try:
        os.unlink(path)
    except OSError as error:
        return f"cannot remove `{path}` ({os_reason(error)}); it was left in place"
    if lost:
        kept = _keep_unrestored(staging)
        return (
            f"an interrupted run was rolled back, but {len(lost)} path(s) could not be "
            f"restored, such as `{lost[0]}`; what they held is in `{kept}`"
        )
    discard_staging(staging)
    return "an earlier run was interrupted while it changed the environment; it was rolled back"


def _read_journal(data: bytes, root: str, staging: str) -> list[_Step] | None:
    """Return the steps of a journal file's contents, or None if it is not one.

    A line that does not parse is skipped: the last one may have been cut short by a
    power loss, and its step was then never taken. A step naming a path outside the
    environment (or a backup outside ``staging``) is skipped too: recovery moves files
    only where a run of ours could have.
    """
    if not data.startswith(_JOURNAL_HEADER):
        # A run killed between creating the file and writing its header (two system
        # calls, :meth:`Journal._open`) leaves a prefix of it, often nothing: no step
        # was written, so none was taken, and the run changed nothing.
        return [] if _JOURNAL_HEADER.startswith(data) else None
    steps: list[_Step] = []
    for line in data[len(_JOURNAL_HEADER) :].splitlines():
        try:
            number, action, path, other = parse_json(line)
        except (ValueError, TypeError):  # not JSON, too deep, or not four items
            continue
        if not (
            type(number) is int
            and action in _ACTIONS
            and isinstance(path, str)
            and isinstance(other, str)
            and path_inside(os.path.normpath(path), root)
            and os.path.normpath(path) != root
            and (action in {_RMDIR, _MKDIR} or path_inside(os.path.normpath(other), staging))
        ):
            continue
        steps.append((number, action, path, other))
    return steps


class InstalledFiles(Value):
    """An installed distribution's files by RECORD: where they are, as absolute paths."""

    __slots__ = ("dist_info", "paths")

    def __init__(self, dist_info: Path, paths: tuple[str, ...]) -> None:
        self.dist_info: Final = dist_info
        self.paths: Final = paths


def find_installed(site_packages: Path, name: str) -> Path | None:
    """Return the ``.dist-info`` folder of project ``name`` in ``site_packages``, if any."""
    wanted = canonicalize_name(name)
    try:
        entries = list(os.scandir(site_packages))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:
        raise os_failure(error, "read") from None
    for entry in entries:
        name = entry.name
        if name.endswith(".dist-info") and _dist_info_project(name) == wanted and entry.is_dir():
            return Path(entry.path)
    return None


@functools.cache
def _dist_info_project(folder_name: str) -> str:
    """Return the normalized project name of a ``.dist-info`` folder's name.

    Cached: an install of 56 wheels into one venv looks for each in a site-packages
    that holds the ones before it, 1,600 names to normalize otherwise.
    """
    return canonicalize_name(folder_name[: -len(".dist-info")].rpartition("-")[0])


class _LinkedFolders:
    """Tells whether a path's folder really lies outside an environment, through symlinks.

    RECORD paths are checked as written first; but a folder on the way may be a
    symbolic link (``pkg/data -> /home/me/data``, or a whole ``.dist-info``), and
    removing ``pkg/data/f`` would then delete a file of the link's target. pip resolves
    such links before it removes anything (``is_local``), and so does this. The last
    component is not resolved: removing a link itself only removes the link.
    """

    __slots__ = ("_known", "_roots")

    def __init__(self, *roots: str) -> None:
        # The environment, and its site-packages resolved: a system Python's
        # site-packages may itself be a link elsewhere (Homebrew's), and its own
        # packages live there.
        self._roots = [os.path.realpath(root) for root in roots]
        self._known: dict[str, bool] = {}  # folder -> outside; a package has few folders

    def outside(self, path: str) -> bool:
        """Return whether ``path``'s folder resolves to a place outside every root."""
        folder = os.path.dirname(path)
        found = self._known.get(folder)
        if found is None:
            real = os.path.realpath(folder)
            found = self._known[folder] = not any(path_inside(real, root) for root in self._roots)
        return found


def installed_files(dist_info: Path, root: Path) -> InstalledFiles:
    """Read the RECORD of ``dist_info`` and return the absolute paths it names.

    Also names the bytecode of each listed ``.py`` file. Raises :class:`InstallError`
    when RECORD is missing or names a path outside ``root``, as written or through a
    symbolic link.
    """
    try:
        text = (dist_info / "RECORD").read_text(encoding="utf-8")
        entries = parse_record(text)
    except (OSError, ValueError) as error:
        raise InstallError(f"cannot read the `RECORD` of `{dist_info}`: {error}") from None
    base = os.path.dirname(os.path.abspath(dist_info))
    boundary = os.path.abspath(root)
    linked = _LinkedFolders(boundary, os.path.dirname(os.path.abspath(dist_info)))
    paths: list[str] = []
    for entry in entries:
        if os.path.isabs(entry.path) or "\\" in entry.path:
            path = os.path.normpath(entry.path)
        else:
            path = os.path.normpath(os.path.join(base, entry.path))
        if not path_inside(path, boundary) or path == boundary:
            raise InstallError(
                f"refusing to remove `{entry.path}`: `RECORD` of `{dist_info.name}` "
                f"names a path outside `{root}`"
            )
        if linked.outside(path):
            raise InstallError(
                f"refusing to remove `{entry.path}`: `RECORD` of `{dist_info.name}` "
                f"names a path that a symbolic link leads outside `{root}`"
            )
        paths.append(path)
        if path.endswith(".py"):
            folder, file = os.path.split(path)
            cache = os.path.join(folder, "__pycache__")
            stem = file[:-3] + "."
            try:
                with os.scandir(cache) as found:
                    paths.extend(
                        e.path for e in found if e.name.startswith(stem) and e.name.endswith(".pyc")
                    )
            except (FileNotFoundError, NotADirectoryError):
                pass
    if linked.outside(os.path.join(os.path.abspath(dist_info), "RECORD")):
        raise InstallError(
            f"refusing to remove `{dist_info}`: a symbolic link leads it outside `{root}`"
        )
    try:
        with os.scandir(os.path.abspath(dist_info)) as found:
            paths.extend(e.path for e in found)
    except OSError as error:
        raise os_failure(error, "read") from None
    # RECORD goes last: removals apply in order, so a process killed part way leaves
    # RECORD naming every file that may remain (a rerun can still finish the job).
    record = os.path.join(os.path.abspath(dist_info), "RECORD")
    ordered = [path for path in dict.fromkeys(paths) if path != record]
    ordered.append(record)
    return InstalledFiles(dist_info, tuple(ordered))


class _StagedTree:
    """A staged tree of links, where it goes, and (on demand) the set of its file paths."""

    __slots__ = ("_names", "files", "final", "links", "staged")

    def __init__(self, staged: str, final: str, files: Sequence[str], links: Sequence[str]) -> None:
        self.staged = staged
        self.final = final
        self.files = files
        self.links = links
        self._names: frozenset[str] | None = None

    def holds(self, final: str) -> bool:
        """Whether the tree places a file at ``final`` (another file there is a clash)."""
        root = self.final.rstrip(os.sep) + os.sep
        if not final.startswith(root):
            return False
        if self._names is None:
            self._names = frozenset((*self.files, *self.links))
        return final[len(root) :].replace(os.sep, "/") in self._names


class SchemeDestination:
    """Writes one install at a time into a :class:`Scheme`, as a transaction.

    :meth:`begin` opens a staging folder; :meth:`link`, :meth:`write` and :meth:`remove`
    plan; :meth:`commit` applies the plan or restores the environment; :meth:`abort`
    discards it. ``python`` is the interpreter scripts' shebangs name.

    Without a shared :class:`Journal`, each transaction has a journal of its own in its
    own staging folder, so it is undone the same way: at once on an error, or by the
    next run's :func:`recover_staging` after a crash.
    """

    __slots__ = (
        "_active",
        "_backups",
        "_finals",
        "_journal",
        "_linker",
        "_made",
        "_placements",
        "_prestaged",
        "_removals",
        "_root_key",
        "_stage",
        "_token",
        "_trees",
        "link_mode",
        "python",
        "scheme",
    )

    def __init__(
        self,
        scheme: Scheme,
        *,
        python: str,
        link_mode: LinkMode = LinkMode.HARDLINK,
        journal: Journal | None = None,
        prestaged: Callable[[str, tuple[int, int, int]], str | None] | None = None,
    ) -> None:
        self.scheme = scheme
        # Trees of links built ahead of the run (see `speculate`): given the source and
        # the (folders, files, links) counts, the ready tree or `None`.
        self._prestaged = prestaged
        # With a journal, the transaction stages in the journal's folder, shared with the
        # journal's other transactions: it names its files with its own token.
        self._journal = journal
        self._active: Journal | None = None  # the shared journal, or this transaction's
        self._backups = itertools.count()
        self._token = ""
        self.python = python
        self.link_mode = link_mode
        self._linker = Linker(link_mode)
        self._stage: str | None = None
        self._root_key: DataKey = "purelib"
        self._placements: dict[str, str] = {}
        self._finals: set[str] = set()
        self._removals: list[str] = []
        self._made: set[str] = set()
        self._trees: list[_StagedTree] = []

    def begin(self, root_key: Literal["purelib", "platlib"]) -> None:
        """Open a transaction whose RECORD paths are relative to ``root_key``'s folder."""
        if self._stage is not None:
            raise InstallError("an install into this destination is already in progress")
        if self._journal is not None:
            self._stage = self._journal.staging
            self._active = self._journal
            self._token = os.urandom(6).hex() + "-"
        else:
            try:
                os.makedirs(self.scheme.root, exist_ok=True)
                self._stage = make_private_folder(self.scheme.root, _STAGING_PREFIX)
            except OSError as error:
                raise os_failure(error, "write to") from None
            self._active = Journal(self._stage)
            self._token = ""
        self._backups = itertools.count()
        self._root_key = root_key
        self._linker = Linker(self.link_mode)
        self._placements = {}
        self._finals = set()
        self._removals = []
        self._made = set()
        self._trees = []

    def _final(self, key: DataKey, path: str) -> str:
        return os.path.join(os.fspath(self.scheme.path(key)), *path.split("/"))

    def _staged(self, key: DataKey, path: str) -> str:
        if self._stage is None:
            raise InstallError("no install in progress; call `begin()` first")
        final = self._final(key, path)
        if final in self._finals or any(tree.holds(final) for tree in self._trees):
            raise InstallError(f"two files of the wheel install to `{final}`")
        self._finals.add(final)
        staged = os.path.join(self._stage, f"{self._token}{len(self._placements)}")
        self._placements[staged] = final
        return staged

    def record_path(self, key: DataKey, path: str) -> str:
        """Return how RECORD names file ``path`` of scheme ``key`` (relative, ``/``)."""
        if key == self._root_key or self.scheme.path(key) == self.scheme.path(self._root_key):
            return path  # a checked archive path (no ``..``, no empty part) is already relative
        final = self._final(key, path)
        root = os.fspath(self.scheme.path(self._root_key))
        return os.path.relpath(final, root).replace(os.sep, "/")

    def link_tree(
        self,
        key: DataKey,
        source: str,
        dirs: Sequence[str],
        files: Sequence[str],
        links: Sequence[str] = (),
    ) -> None:
        """Plan files ``files`` and links ``links`` of folder ``source`` at scheme ``key``.

        All paths are relative and ``/``-separated (a checked manifest's); ``dirs`` lists
        every folder they need, each after its parent. Staged as one tree of links.
        """
        if self._stage is None:
            raise InstallError("no install in progress; call `begin()` first")
        tree = os.path.join(self._stage, f"{self._token}t{len(self._trees)}")
        built = None
        if self._prestaged is not None and self._linker.mode is LinkMode.HARDLINK:
            built = self._prestaged(source, (len(dirs), len(files), len(links)))
        if built is not None:
            try:
                os.rename(built, tree)  # noqa: PTH104 -- the same tree, built while resolving
            except OSError:
                built = None
        if built is None:
            os.mkdir(tree)
        self._trees.append(_StagedTree(tree, os.fspath(self.scheme.path(key)), files, links))
        if built is None:
            build_tree(self._linker, tree, source, dirs, files, links)

    def link(self, key: DataKey, path: str, source: str, *, is_symlink: bool = False) -> None:
        """Plan file ``path`` of scheme ``key`` as a link to ``source`` (never modified)."""
        self._linker.link(source, self._staged(key, path), is_symlink=is_symlink)

    def write(
        self, key: DataKey, path: str, data: bytes, *, executable: bool = False
    ) -> RecordEntry:
        """Plan a new file ``path`` of scheme ``key`` holding ``data``; return its entry."""
        self.place(key, path, data, executable=executable)
        return RecordEntry.for_data(self.record_path(key, path), data)

    def place(self, key: DataKey, path: str, data: bytes, *, executable: bool = False) -> None:
        """As :meth:`write`, for a file RECORD lists without a hash: RECORD itself.

        Hashing a RECORD that no line will name took 7% of the instructions of a warm
        install of 56 wheels (their RECORDs are 2.7 MB).
        """
        staged = self._staged(key, path)
        mode = 0o755 if executable else 0o644
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            os.fchmod(fd, mode)
            remaining = memoryview(data)
            while remaining:  # no file object: a warm install writes 140 small files
                remaining = remaining[os.write(fd, remaining) :]
        finally:
            os.close(fd)

    def remove(self, paths: Iterable[str]) -> None:
        """Plan the removal of installed files (absolute paths), e.g. an older version's."""
        self._removals.extend(paths)

    def commit(self) -> LinkMode:
        """Move the plan into place, or restore everything and raise; return the link mode.

        Each step is recorded in the journal before it is taken (see :class:`Journal`).
        With a shared journal, the caller rolls back (this transaction and the others)
        if anything failed; with none, this transaction rolls itself back before raising.
        Failures of the file system raise :class:`InstallError`, with one-line messages.
        """
        stage = self._stage
        journal = self._active
        if stage is None or journal is None:
            raise InstallError("no install in progress; call `begin()` first")
        verb = "remove"
        try:
            journal.raise_if_stopped()
            moves = [
                (path, self._backup_path(stage))
                for path in sorted(self._removals, key=_removal_rank)
                if os.path.lexists(path) and not (os.path.isdir(path) and not os.path.islink(path))
            ]
            # One journal write for every removal, before the first one.
            journal.record([(next(_STEPS), _RESTORE, path, backup) for path, backup in moves])
            for path, backup in moves:
                journal.raise_if_stopped()
                os.replace(path, backup)
            verb = "install to"
            for tree in self._trees:
                self._makedirs(tree.final, journal)
                self._merge(tree.staged, tree.final, stage, journal)
            placements = list(self._placements.items())
            for _, final in placements:
                self._makedirs(os.path.dirname(final), journal)
            # Every placement (a fresh install's INSTALLER, RECORD, scripts) is journaled
            # in one write, as a folder's new children are; a file already there is moved
            # aside first. Steps not taken (an error midway) are undone as nothing.
            steps: list[_Step] = []
            planned: list[tuple[str, str, str | None]] = []
            for staged, final in placements:
                aside: str | None = None
                if _mode(final) is not None:
                    _refuse_folder(final)
                    aside = self._backup_path(stage)
                    steps.append((next(_STEPS), _RESTORE, final, aside))
                steps.append((next(_STEPS), _UNMOVE, final, staged))
                planned.append((staged, final, aside))
            journal.record(steps)
            for staged, final, aside in planned:
                journal.raise_if_stopped()
                if aside is not None:
                    os.replace(final, aside)
                os.replace(staged, final)
            self._prune_folders(self._removals, journal)
        except BaseException as error:
            failure = (
                os_failure(error, verb, staging=stage) if isinstance(error, OSError) else error
            )
            if self._journal is None:  # a transaction of its own undoes itself, as a run does
                _undo_or_keep(journal, stage, failure)
            self._close(keep=True)  # deleted or kept above; a shared one is its owner's
            if failure is not error:
                raise failure from None
            raise
        mode = self._linker.mode
        # A transaction of its own commits here; a shared journal's owner commits later.
        self._close(keep=self._journal is None and not journal.finish())
        return mode

    def abort(self) -> None:
        """Discard the staged plan; the environment was not touched."""
        self._close()

    def _backup_path(self, stage: str) -> str:
        return os.path.join(stage, f"{self._token}b{next(self._backups)}")

    def _merge(self, staged: str, final: str, stage: str, journal: Journal) -> None:
        """Move the children of staged folder ``staged`` into existing folder ``final``.

        The moves of children new to ``final`` (all of them, in a fresh install) are
        journaled in one write before the first is taken: a write per child was most of
        what the journal cost a warm install. A step recorded but not taken is harmless:
        its undo finds the staged child still there and does nothing.
        """
        with os.scandir(staged) as entries:
            children = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
        # ``.dist-info`` last: it says the package is there, so it should be, first.
        children.sort(key=lambda child: (child[0].endswith(".dist-info"), child[0]))
        moves = [
            (os.path.join(staged, name), os.path.join(final, name), is_dir)
            for name, is_dir in children
        ]
        modes = [_mode(target) for _, target, _ in moves]
        journal.record(
            [
                (next(_STEPS), _UNMOVE, target, source)
                for (source, target, _), mode in zip(moves, modes, strict=True)
                if mode is None
            ]
        )
        for (source, target, is_dir), mode in zip(moves, modes, strict=True):
            self._place(source, target, is_dir, mode, stage, journal)

    def _place(  # noqa: PLR0917 -- internal, positional for speed
        self,
        staged: str,
        final: str,
        is_dir: bool,  # noqa: FBT001
        mode: int | None,
        stage: str,
        journal: Journal,
    ) -> None:
        """Move ``staged`` to ``final``, whose mode ``_merge`` read (``None``: absent).

        The move of an absent ``final`` is in the journal already.
        """
        journal.raise_if_stopped()
        if mode is None:
            try:
                os.replace(staged, final)  # a whole new folder: one rename
            except OSError as error:
                if not (is_dir and error.errno in _FOLDER_EXISTS):
                    raise
                # A parallel install (a namespace package) made the folder meanwhile.
                # (The step recorded is not taken: its undo sees ``staged`` still there.)
                self._merge(staged, final, stage, journal)
            return
        if stat.S_ISDIR(mode):
            if is_dir:
                self._merge(staged, final, stage, journal)
                return
            raise InstallError(f"cannot install a file over the folder `{final}`")
        backup = self._backup_path(stage)
        journal.record(
            [(next(_STEPS), _RESTORE, final, backup), (next(_STEPS), _UNMOVE, final, staged)]
        )
        os.replace(final, backup)
        os.replace(staged, final)

    def _makedirs(self, folder: str, journal: Journal) -> None:
        missing: list[str] = []
        while folder not in self._made and not os.path.isdir(folder):
            missing.append(folder)
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        if not missing:
            return
        missing.reverse()
        # A folder another transaction (a parallel install) makes meanwhile is made by
        # neither step; undoing an ``rmdir`` of a folder still in use does nothing.
        journal.record([(next(_STEPS), _RMDIR, path, "") for path in missing])
        for path in missing:
            with contextlib.suppress(FileExistsError):
                os.mkdir(path)
        self._made.update(missing)

    def _prune_folders(self, removed: Iterable[str], journal: Journal) -> None:
        """Remove the folders that ``removed`` left empty (a step each, made again on undo)."""
        keep = {os.fspath(self.scheme.path(key)) for key in ("purelib", "platlib", "scripts")}
        keep.add(os.fspath(self.scheme.root))
        folders = sorted({os.path.dirname(p) for p in removed}, key=len, reverse=True)
        for start in folders:
            folder = start
            while folder not in keep and path_inside(folder, os.fspath(self.scheme.root)):
                if not _is_empty_folder(folder):
                    break
                journal.record([(next(_STEPS), _MKDIR, folder, "")])
                try:
                    os.rmdir(folder)
                except OSError:
                    break
                folder = os.path.dirname(folder)

    def _close(self, *, keep: bool = False) -> None:
        # With a shared journal, the staged files stay until the journal's owner deletes
        # its folder: a rollback needs them. A folder of our own goes, unless ``keep``:
        # its journal file could not be removed, and the next run rolls it back.
        if self._stage is not None and self._journal is None and not keep:
            remove_tree(self._stage)
        self._stage = None
        self._active = None
        self._placements = {}
        self._finals = set()
        self._removals = []
        self._trees = []


def _is_empty_folder(path: str) -> bool:
    """Whether ``path`` is a folder with nothing in it (one ``getdents``, no journal line)."""
    try:
        with os.scandir(path) as entries:
            return next(entries, None) is None
    except OSError:
        return False
