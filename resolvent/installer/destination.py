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
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from packaging.utils import canonicalize_name

from resolvent.errors import InstallError
from resolvent.installer.link import Linker, LinkMode
from resolvent.installer.record import RecordEntry, parse_record

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from resolvent.installer.wheel import DataKey

__all__ = ["InstalledFiles", "Scheme", "SchemeDestination", "find_installed", "installed_files"]

_STAGING_PREFIX = ".resolvent-staging-"

# How to undo one step of a commit (the step's path, and the other path involved).
_RMDIR = 0  # a folder the commit made: remove it
_UNLINK = 1  # a file placed from nowhere: remove it
_RESTORE = 2  # a file moved aside to a backup: move it back
_UNMOVE = 3  # a staged file or folder moved into place: move it back to staging
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
    except FileNotFoundError:
        return None
    for entry in entries:
        if entry.name.endswith(".dist-info") and entry.is_dir():
            project = entry.name[: -len(".dist-info")].rpartition("-")[0]
            if canonicalize_name(project) == wanted:
                return Path(entry.path)
    return None


def installed_files(dist_info: Path, root: Path) -> InstalledFiles:
    """Read the RECORD of ``dist_info`` and return the absolute paths it names.

    Also names the bytecode of each listed ``.py`` file. Raises :class:`InstallError`
    when RECORD is missing or names a path outside ``root``.
    """
    try:
        text = (dist_info / "RECORD").read_text(encoding="utf-8")
        entries = parse_record(text)
    except (OSError, ValueError) as error:
        raise InstallError(f"cannot read the `RECORD` of `{dist_info}`: {error}") from None
    base = os.path.dirname(os.path.abspath(dist_info))
    boundary = os.path.abspath(root)
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
    with os.scandir(os.path.abspath(dist_info)) as found:
        paths.extend(e.path for e in found)
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
        "_linker",
        "_made",
        "_placements",
        "_removals",
        "_root_key",
        "_shared",
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
        staging: str | None = None,
    ) -> None:
        self.scheme = scheme
        # A staging folder shared by several transactions (one per run, made by the
        # caller inside ``scheme.root``, removed by it): creating and removing a folder
        # per install costs milliseconds on some file systems. Each transaction names
        # its files with its own token; replaced files stay there until the caller's
        # cleanup (or the next run's, after a crash).
        self._shared = staging
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
        os.makedirs(self.scheme.root, exist_ok=True)
        if self._shared is not None:
            self._stage = self._shared
            self._token = os.urandom(6).hex() + "-"
        else:
            self._stage = tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=self.scheme.root)
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
        """Move the plan into place, or restore everything and raise; return the link mode."""
        stage = self._stage
        if stage is None:
            raise InstallError("no install in progress; call `begin()` first")
        if self._token:
            backups = stage
        else:
            backups = os.path.join(stage, "backup")
            os.mkdir(backups)
        undo: list[tuple[int, str, str]] = []  # (action, path, other) in the order applied
        try:
            for path in sorted(self._removals, key=_removal_rank):
                if os.path.lexists(path) and not (os.path.isdir(path) and not os.path.islink(path)):
                    backup = os.path.join(backups, f"{self._token}b{len(undo)}")
                    os.replace(path, backup)
                    undo.append((_RESTORE, path, backup))
            for tree in self._trees:
                self._makedirs(tree.final, undo)
                self._merge(tree.staged, tree.final, backups, undo)
            for staged, final in self._placements.items():
                self._makedirs(os.path.dirname(final), undo)
                if os.path.lexists(final):
                    _refuse_folder(final)
                    backup = os.path.join(backups, f"{self._token}b{len(undo)}")
                    os.replace(final, backup)
                    undo.append((_RESTORE, final, backup))
                os.replace(staged, final)
                undo.append((_UNLINK, final, ""))
        except BaseException:
            self._undo(undo)
            self._close()
            raise
        self._prune_folders(self._removals)
        mode = self._linker.mode
        self._close()
        return mode

    def abort(self) -> None:
        """Discard the staged plan; the environment was not touched."""
        self._close()

    def _merge(
        self, staged: str, final: str, backups: str, undo: list[tuple[int, str, str]]
    ) -> None:
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
        undo: list[tuple[int, str, str]],
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
            undo.append((_UNMOVE, final, staged))
            return
        if stat.S_ISDIR(mode):
            if is_dir:
                self._merge(staged, final, backups, undo)
                return
            raise InstallError(f"cannot install a file over the folder `{final}`")
        backup = os.path.join(backups, f"{self._token}b{len(undo)}")
        os.replace(final, backup)
        undo.append((_RESTORE, final, backup))
        os.replace(staged, final)
        undo.append((_UNMOVE, final, staged))

    def _makedirs(self, folder: str, undo: list[tuple[int, str, str]]) -> None:
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
            undo.append((_RMDIR, path, ""))
        self._made.update(missing)

    def _undo(self, undo: list[tuple[int, str, str]]) -> None:
        for action, path, other in reversed(undo):
            try:
                if action == _RMDIR:
                    os.rmdir(path)
                elif action == _UNLINK:
                    os.unlink(path)
                elif action == _RESTORE:
                    os.replace(other, path)
                else:
                    os.replace(path, other)
            except OSError:
                continue  # best effort: keep restoring the rest

    def _prune_folders(self, removed: Iterable[str]) -> None:
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
                folder = os.path.dirname(folder)

    def _close(self) -> None:
        if self._stage is not None and self._shared is None:
            shutil.rmtree(self._stage, ignore_errors=True)
        elif self._stage is not None:
            for staged in self._placements:  # unplaced after an error; placed ones moved
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(staged)
            for tree in self._trees:  # what was merged leaves empty folders behind
                shutil.rmtree(tree.staged, ignore_errors=True)
        self._stage = None
        self._placements = {}
        self._finals = set()
        self._removals = []
        self._trees = []
