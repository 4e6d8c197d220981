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
each destination keeps what its commit replaced in the journal's staging folder and hands
the journal its undo log, and :meth:`Journal.rollback` undoes every one of them, so an
environment keeps what it had even when the plan's last package fails.

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
import itertools
import os
import shutil
import stat
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from packaging.utils import canonicalize_name

from resolvent.errors import InstallError, ResolventError, os_paths, os_reason
from resolvent.installer.link import Linker, LinkMode
from resolvent.installer.record import RecordEntry, parse_record

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from resolvent.installer.wheel import DataKey

__all__ = [
    "InstalledFiles",
    "Journal",
    "Scheme",
    "SchemeDestination",
    "all_or_nothing",
    "find_installed",
    "installed_files",
    "os_failure",
]

_STAGING_PREFIX = ".resolvent-staging-"

# How to undo one step of a commit (the step's path, and the other path involved).
_RMDIR = 0  # a folder the commit made: remove it
_UNLINK = 1  # a file placed from nowhere: remove it
_RESTORE = 2  # a file (or a whole folder) moved aside to a backup: move it back
_UNMOVE = 3  # a staged file or folder moved into place: move it back to staging
_MKDIR = 4  # a folder the commit's removals emptied and pruned: make it again
# Every step of every transaction takes the next number (``next`` on a count is atomic
# under the GIL): undoing several transactions that ran in parallel then goes in the
# reverse order of the steps themselves, so a folder one transaction made is removed
# only after the files another one put in it.
_STEPS = itertools.count()
_Step = tuple[int, int, str, str]  # (number, action, path, other)
# A rename onto a folder fails with these when the folder appeared meanwhile.
_FOLDER_EXISTS = frozenset({errno.EEXIST, errno.ENOTEMPTY})


@dataclass(frozen=True, slots=True)
class Scheme:
    """The five folders an install writes to, and the environment root they all live in.

    ``root`` bounds every write and every removal (a RECORD that names a path outside it
    is refused).
    """

    purelib: Path
    platlib: Path
    scripts: Path
    headers: Path
    data: Path
    root: Path

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


def _refuse_folder(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        raise InstallError(f"cannot install a file over the folder `{path}`")


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def os_failure(error: OSError, verb: str, *, staging: str | None = None) -> InstallError:
    """Return a one-line :class:`InstallError` for ``error``, naming the path it concerns.

    ``verb`` says what was being done (``install to``, ``remove``). A failed rename names
    two paths; the one inside ``staging`` (our private folder) means nothing to a user,
    so the other is shown.
    """
    shown = os_paths(error)
    outside = [p for p in shown if staging is None or not _inside(p, staging)]
    path = (outside or shown or [""])[0]
    reason = os_reason(error)
    if not path:
        return InstallError(f"cannot {verb} the environment: {reason}")
    return InstallError(f"cannot {verb} `{path}`: {reason}")


def _undo_step(action: int, path: str, other: str) -> None:
    if action == _RMDIR:
        os.rmdir(path)
    elif action == _UNLINK:
        os.unlink(path)
    elif action == _RESTORE:
        os.replace(other, path)
    elif action == _UNMOVE:
        os.replace(path, other)
    else:
        os.mkdir(path)


def _undo_all(steps: Iterable[_Step]) -> list[str]:
    """Undo ``steps`` (latest first); return the paths that could not be put back."""
    failed = []
    for _, action, path, other in sorted(steps, reverse=True):
        try:
            _undo_step(action, path, other)
        except OSError as error:
            # Best effort: keep restoring the rest. A folder we made that is not empty
            # (something outside the transaction wrote there) is left in place; a pruned
            # folder may be back already (another transaction's undo made it).
            if action == _RMDIR or (action == _MKDIR and isinstance(error, FileExistsError)):
                continue
            failed.append(path)
    return failed


class Journal:
    """The undo logs of transactions that succeed or fail together (an install plan).

    Each :class:`SchemeDestination` made with the journal stages its files and keeps
    what its commit moved aside in ``staging`` (a folder inside the environment, shared
    by the transactions: making and removing a folder per install costs milliseconds on
    some file systems) and, committed or failed, adds its undo log here instead of
    undoing itself. The owner of ``staging`` (:func:`all_or_nothing`) then calls
    :meth:`rollback` if any part failed, and deletes ``staging``, the backups with it.
    Safe to use from several threads.

    Example::

        with all_or_nothing(scheme.root) as journal:
            ...  # SchemeDestination(scheme, python=python, journal=journal) per package
    """

    __slots__ = ("_lock", "_steps", "staging")

    def __init__(self, staging: str) -> None:
        self.staging = staging
        self._steps: list[_Step] = []
        self._lock = threading.Lock()

    def add(self, steps: Iterable[_Step]) -> None:
        """Keep the undo log of one transaction (its steps, numbered as applied)."""
        with self._lock:
            self._steps.extend(steps)

    def remove_tree(self, path: str) -> None:
        """Remove folder ``path`` from the environment, as a step :meth:`rollback` undoes.

        It is one rename into the staging folder, so it is as quick as it is reversible.
        """
        backup = os.path.join(self.staging, f"tree-{os.urandom(6).hex()}")
        try:
            os.replace(path, backup)
        except FileNotFoundError:
            return
        except OSError as error:
            raise os_failure(error, "remove", staging=self.staging) from None
        self.add([(next(_STEPS), _RESTORE, path, backup)])

    def rollback(self) -> list[str]:
        """Undo every transaction added so far, latest step first; forget them.

        Returns the paths that could not be restored (empty when the environment is back
        to what it held).
        """
        with self._lock:
            steps, self._steps = self._steps, []
        return _undo_all(steps)


@contextlib.contextmanager
def all_or_nothing(root: Path) -> Iterator[Journal]:
    """Yield the journal of one run's changes to the environment at ``root``; undo on error.

    Its staging folder (one for the whole run) holds every file the run replaces or
    removes until the run has succeeded, for the rollback; then it is deleted. After a
    crash, the next run's ``environment_lock`` deletes it. A restore that fails is
    named in the hint of the error raised.
    """
    try:
        staging = tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=root)
    except OSError as error:
        raise os_failure(error, "write to") from None
    journal = Journal(staging)
    try:
        yield journal
    except BaseException as error:
        lost = journal.rollback()
        if lost and isinstance(error, ResolventError) and error.hint is None:
            error.hint = (
                f"{len(lost)} path(s) could not be restored, such as `{lost[0]}`; "
                "`resolvent pip verify` shows what the environment holds now"
            )
        raise
    finally:
        _discard_staging(staging)


def _discard_staging(staging: str) -> None:
    """Delete a run's staging folder: after a success, only emptied trees are left in it.

    Each tree is one ``rmdir``, where ``shutil.rmtree`` opens, reads and closes it first
    (56 of them took 7.5 ms of a warm install of seed-ml); anything else (the backups a
    rollback or a reinstall leaves) falls back to ``rmtree``.
    """
    try:
        with os.scandir(staging) as entries:
            for entry in entries:
                os.rmdir(entry.path)
        os.rmdir(staging)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)


@dataclass(frozen=True, slots=True)
class InstalledFiles:
    """An installed distribution's files by RECORD: where they are, as absolute paths."""

    dist_info: Path
    paths: tuple[str, ...]


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
        if entry.name.endswith(".dist-info") and entry.is_dir():
            project = entry.name[: -len(".dist-info")].rpartition("-")[0]
            if canonicalize_name(project) == wanted:
                return Path(entry.path)
    return None


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
            found = self._known[folder] = not any(_inside(real, root) for root in self._roots)
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
        if not _inside(path, boundary) or path == boundary:
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
    """

    __slots__ = (
        "_finals",
        "_journal",
        "_linker",
        "_made",
        "_placements",
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
    ) -> None:
        self.scheme = scheme
        # With a journal, the transaction stages in the journal's folder, shared with the
        # journal's other transactions: it names its files with its own token.
        self._journal = journal
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
            self._token = os.urandom(6).hex() + "-"
        else:
            try:
                os.makedirs(self.scheme.root, exist_ok=True)
                self._stage = tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=self.scheme.root)
            except OSError as error:
                raise os_failure(error, "write to") from None
            self._token = ""
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
        os.mkdir(tree)
        self._trees.append(_StagedTree(tree, os.fspath(self.scheme.path(key)), files, links))
        mkdir = os.mkdir
        prefix = tree + "/"
        for folder in dirs:
            mkdir(prefix + folder)
        self._linker.link_files(source, tree, files)
        for name in links:
            self._linker.link(os.path.join(source, name), os.path.join(tree, name), is_symlink=True)

    def link(self, key: DataKey, path: str, source: str, *, is_symlink: bool = False) -> None:
        """Plan file ``path`` of scheme ``key`` as a link to ``source`` (never modified)."""
        self._linker.link(source, self._staged(key, path), is_symlink=is_symlink)

    def write(
        self, key: DataKey, path: str, data: bytes, *, executable: bool = False
    ) -> RecordEntry:
        """Plan a new file ``path`` of scheme ``key`` holding ``data``; return its entry."""
        staged = self._staged(key, path)
        mode = 0o755 if executable else 0o644
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        return RecordEntry.for_data(self.record_path(key, path), data)

    def remove(self, paths: Iterable[str]) -> None:
        """Plan the removal of installed files (absolute paths), e.g. an older version's."""
        self._removals.extend(paths)

    def commit(self) -> LinkMode:
        """Move the plan into place, or restore everything and raise; return the link mode.

        With a journal, the undo log goes to the journal instead, committed or not: the
        caller rolls back (this transaction and the others) if anything failed.
        Failures of the file system raise :class:`InstallError`, with one-line messages.
        """
        stage = self._stage
        if stage is None:
            raise InstallError("no install in progress; call `begin()` first")
        undo: list[_Step] = []  # (step, action, path, other) as applied
        verb = "remove"
        try:
            if self._journal is not None:
                backups = stage
            else:
                backups = os.path.join(stage, "backup")
                os.mkdir(backups)
            for path in sorted(self._removals, key=_removal_rank):
                if os.path.lexists(path) and not (os.path.isdir(path) and not os.path.islink(path)):
                    backup = os.path.join(backups, f"{self._token}b{len(undo)}")
                    os.replace(path, backup)
                    undo.append((next(_STEPS), _RESTORE, path, backup))
            verb = "install to"
            for tree in self._trees:
                self._makedirs(tree.final, undo)
                self._merge(tree.staged, tree.final, backups, undo)
            for staged, final in self._placements.items():
                self._makedirs(os.path.dirname(final), undo)
                if os.path.lexists(final):
                    _refuse_folder(final)
                    backup = os.path.join(backups, f"{self._token}b{len(undo)}")
                    os.replace(final, backup)
                    undo.append((next(_STEPS), _RESTORE, final, backup))
                os.replace(staged, final)
                undo.append((next(_STEPS), _UNLINK, final, ""))
            self._prune_folders(self._removals, undo)
        except BaseException as error:
            if self._journal is not None:
                self._journal.add(undo)
            else:
                _undo_all(undo)
            self._close()
            if isinstance(error, OSError):
                raise os_failure(error, verb, staging=stage) from None
            raise
        if self._journal is not None:
            self._journal.add(undo)
        mode = self._linker.mode
        self._close()
        return mode

    def abort(self) -> None:
        """Discard the staged plan; the environment was not touched."""
        self._close()

    def _merge(self, staged: str, final: str, backups: str, undo: list[_Step]) -> None:
        """Move the children of staged folder ``staged`` into existing folder ``final``."""
        with os.scandir(staged) as entries:
            children = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
        # ``.dist-info`` last: it says the package is there, so it should be, first.
        children.sort(key=lambda child: (child[0].endswith(".dist-info"), child[0]))
        for name, is_dir in children:
            self._place(
                os.path.join(staged, name), os.path.join(final, name), is_dir, backups, undo
            )

    def _place(
        self,
        staged: str,
        final: str,
        is_dir: bool,  # noqa: FBT001 -- internal, positional for speed
        backups: str,
        undo: list[_Step],
    ) -> None:
        try:
            mode: int | None = os.lstat(final).st_mode
        except FileNotFoundError:
            mode = None
        if mode is None:
            try:
                os.replace(staged, final)  # a whole new folder: one rename
            except OSError as error:
                if not (is_dir and error.errno in _FOLDER_EXISTS):
                    raise
                # A parallel install (a namespace package) made the folder meanwhile.
                self._merge(staged, final, backups, undo)
                return
            undo.append((next(_STEPS), _UNMOVE, final, staged))
            return
        if stat.S_ISDIR(mode):
            if is_dir:
                self._merge(staged, final, backups, undo)
                return
            raise InstallError(f"cannot install a file over the folder `{final}`")
        backup = os.path.join(backups, f"{self._token}b{len(undo)}")
        os.replace(final, backup)
        undo.append((next(_STEPS), _RESTORE, final, backup))
        os.replace(staged, final)
        undo.append((next(_STEPS), _UNMOVE, final, staged))

    def _makedirs(self, folder: str, undo: list[_Step]) -> None:
        missing: list[str] = []
        while folder not in self._made and not os.path.isdir(folder):
            missing.append(folder)
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        for path in reversed(missing):
            try:
                os.mkdir(path)
            except FileExistsError:  # another transaction (a parallel install) made it
                continue
            undo.append((next(_STEPS), _RMDIR, path, ""))
        self._made.update(missing)

    def _prune_folders(self, removed: Iterable[str], undo: list[_Step]) -> None:
        """Remove the folders that ``removed`` left empty (a step each, made again on undo)."""
        keep = {os.fspath(self.scheme.path(key)) for key in ("purelib", "platlib", "scripts")}
        keep.add(os.fspath(self.scheme.root))
        folders = sorted({os.path.dirname(p) for p in removed}, key=len, reverse=True)
        for start in folders:
            folder = start
            while folder not in keep and _inside(folder, os.fspath(self.scheme.root)):
                try:
                    os.rmdir(folder)
                except OSError:
                    break
                undo.append((next(_STEPS), _MKDIR, folder, ""))
                folder = os.path.dirname(folder)

    def _close(self) -> None:
        # With a journal, the staged files stay until the journal's owner deletes its
        # folder: a rollback needs them.
        if self._stage is not None and self._journal is None:
            shutil.rmtree(self._stage, ignore_errors=True)
        self._stage = None
        self._placements = {}
        self._finals = set()
        self._removals = []
        self._trees = []
