"""The cache is one folder of versioned buckets shared by every resolvent process of a user.

Installs are fast because each wheel is unpacked once, into ``archive-v1/<sha256>/``,
and linked from there into every environment that needs it. Many processes use the cache
at once, so every entry appears by one atomic ``os.replace`` of a finished folder, made
under a per-entry file lock: a reader sees a whole entry or none, and a crash leaves only
a ``.tmp-`` folder that :meth:`Cache.prune` removes.

Buckets (each name carries its layout version, so a new layout never reads an old one):

- ``archive-v1/<sha256>/``: unpacked wheels, keyed by the archive's sha256;
- ``wheels-v1/<source>/<wheel file name>.sha256``: which archive a wheel file unpacked
  to (the references :meth:`Cache.prune` keeps); the index client may keep wheels there;
- ``built-v1/``: wheels built from sdists;
- ``http-v1/``: index pages and metadata with their HTTP validators (index client).

Example::

    cache = Cache.default()
    tree = cache.unpack_wheel(Path("demo-1.0-py3-none-any.whl"))
"""

# Hot paths use str paths and os calls, as DESIGN.md asks:
# ruff: noqa: PTH105, PTH108, PTH112, PTH114, PTH119, PTH120
from __future__ import annotations

import contextlib
import enum
import functools
import os
import re
from pathlib import Path

from resolvent import TYPE_CHECKING
from resolvent.atomic_write import write_atomically
from resolvent.errors import BadInputError, InstallError, InvalidWheelError, os_paths, os_reason

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from resolvent.installer.archive import ZipLimits
    from resolvent.installer.download_gate import DownloadGate
    from resolvent.installer.manifest import Manifest

__all__ = ["Cache", "CacheBucket", "StagedWheel"]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SOURCE = re.compile(r"^[\w.+-]+$")
_TMP = ".tmp-"
_LOCK = ".lock"
_POINTER = ".sha256"
# The suffix of an entry's manifest (``resolvent.installer.manifest.manifest_path``):
# spelled out so that resolving, which only reads the HTTP cache, imports none of the
# installer's modules (about 45 ms of imports, ``zipfile`` and the manifest included).
_MANIFEST = ".manifest"
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This is a cache of resolvent.\n"
# What makes a folder a cache (https://bford.info/cachedir/): a CACHEDIR.TAG that starts so.
_TAG_SIGNATURE = _TAG.split("\n", 1)[0].encode()


class CacheBucket(enum.Enum):
    """A top-level cache folder; the value is its name, layout version included."""

    WHEELS = "wheels-v1"
    ARCHIVE = "archive-v1"
    BUILT = "built-v1"
    HTTP = "http-v1"


def _nothing() -> None:
    return None


def _outgrown_buckets(root: Path) -> list[Path]:
    """Return the top-level folders of an older layout of a bucket in use.

    A bucket's name ends with its layout's version (``interpreter-v1`` became
    ``interpreter-v2``); nothing reads an older one again, so ``cache prune`` removes
    it, as ``uv cache prune`` removes its outdated buckets. Folders of names this
    version does not use are left alone.
    """
    from resolvent.installer.speculate import MEMO_BUCKET  # noqa: PLC0415 -- prune only
    from resolvent.installer.venv import INTERPRETER_BUCKET  # noqa: PLC0415

    current: dict[str, int] = {}
    for name in (*(bucket.value for bucket in CacheBucket), MEMO_BUCKET, INTERPRETER_BUCKET):
        stem, _, version = name.rpartition("-v")
        current[stem] = int(version)
    found = []
    for entry in os.scandir(root):
        stem, sep, version = entry.name.rpartition("-v")
        if (
            sep
            and version.isdigit()
            and int(version) < current.get(stem, 0)
            and entry.is_dir(follow_symlinks=False)
        ):
            found.append(Path(entry.path))
    return sorted(found)


def _unlink_if_orphan(path: str, suffix: str) -> None:
    """Remove the manifest ``path`` unless its entry appeared meanwhile (we hold the lock)."""
    if not os.path.isdir(path[: -len(suffix)]):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _cache_failure(root: Path, error: OSError, verb: str) -> BadInputError:
    """Return the one-line error for a cache folder the file system refuses.

    The folder comes from ``--cache-dir``, ``$RESOLVENT_CACHE_DIR`` or the user's home:
    like a venv path, it is input, and the fix is another path (or its permissions).
    """
    reason = os_reason(error)
    if isinstance(error, (FileExistsError, NotADirectoryError)):
        reason = "a file is in the way"
    where = next(iter(os_paths(error)), None)
    detail = f" (`{where}`)" if where is not None and where != os.fspath(root) else ""
    return BadInputError(f"cannot {verb} the cache folder `{root}`: {reason}{detail}")


def _remove_tree(path: str) -> None:
    """Make ``path`` disappear at once (rename), then delete it at leisure.

    A file or a symbolic link in the place of a folder is unlinked (``rmtree`` refuses
    a link, and would leave it renamed but not removed; a link's target is not ours).
    """
    trash = f"{os.path.dirname(path)}/{_TMP}trash-{os.urandom(6).hex()}"
    try:
        os.replace(path, trash)
    except FileNotFoundError:
        return
    if os.path.islink(trash) or not os.path.isdir(trash):
        with contextlib.suppress(OSError):
            os.unlink(trash)
        return
    import shutil  # noqa: PLC0415 -- writers only: a warm run removes nothing

    shutil.rmtree(trash, ignore_errors=True)


def _tag_last(path: str) -> bool:
    return os.path.basename(path) == "CACHEDIR.TAG"


class Cache:
    """The resolvent cache rooted at ``root`` (created on first write)."""

    __slots__ = ("root",)

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"Cache({str(self.root)!r})"

    @classmethod
    def at(cls, folder: Path | None) -> Cache:
        """Return the cache in ``folder`` (a ``--cache-dir``), else :meth:`default`."""
        return cls(folder) if folder is not None else cls.default()

    @classmethod
    def default(cls) -> Cache:
        """Return the user's cache: ``$RESOLVENT_CACHE_DIR``, else the XDG cache folder.

        The XDG folder is ``$XDG_CACHE_HOME/resolvent`` when that variable holds an
        absolute path, else ``~/.cache/resolvent`` (``%LOCALAPPDATA%`` on Windows): see
        :func:`~resolvent.user_home.default_cache_folder`.
        """
        from resolvent.user_home import default_cache_folder  # noqa: PLC0415

        return cls(Path(default_cache_folder()))

    def bucket(self, bucket: CacheBucket) -> Path:
        """Return the folder of ``bucket``, creating the cache and bucket when missing.

        Raises :class:`BadInputError` when the folder cannot be made (a file in the way,
        no permission).
        """
        path = self.root / bucket.value
        if not path.is_dir():
            try:
                self._initialize()
                path.mkdir(exist_ok=True)
            except OSError as error:
                raise _cache_failure(self.root, error, "create") from None
        return path

    def _initialize(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for name, text in (("CACHEDIR.TAG", _TAG), (".gitignore", "*\n")):
            target = self.root / name
            if not target.exists():
                # Whole or not at all: a half-written tag would make ``clean`` refuse.
                write_atomically(target, text.encode("ascii"), prefix=_TMP)

    def is_tagged(self) -> bool:
        """Whether the folder holds a ``CACHEDIR.TAG``: resolvent (or another tool) made it."""
        try:
            with open(self.root / "CACHEDIR.TAG", "rb") as stream:  # noqa: PTH123
                return stream.read(len(_TAG_SIGNATURE)) == _TAG_SIGNATURE
        except OSError:
            return False

    def ensure_is_cache(self, verb: str) -> None:
        """Raise :class:`BadInputError` unless the folder is empty or a tagged cache.

        ``clean`` and ``prune`` delete what they find, and a mistyped ``--cache-dir``
        (a project folder, ``$HOME``) must not cost a user their files. Every cache
        resolvent makes is tagged from its first write; uv considered the same test
        for ``uv cache clean`` (its issue 16260). ``verb`` names the action refused.
        """
        try:
            with os.scandir(self.root) as entries:
                empty = next(entries, None) is None
        except OSError as error:
            raise _cache_failure(self.root, error, verb) from None
        if not empty and not self.is_tagged():
            raise BadInputError(
                f"refusing to {verb} `{self.root}`: it is not a resolvent cache "
                "(no `CACHEDIR.TAG`)",
                hint="check `--cache-dir` and `$RESOLVENT_CACHE_DIR`",
            )

    @staticmethod
    def _key(sha256: str) -> str:
        key = sha256.lower()
        if not _SHA256.match(key):
            raise InstallError(f"`{sha256}` is not a sha256 hex digest")
        return key

    def unpacked(self, sha256: str) -> Path | None:
        """Return the unpacked tree of the wheel whose archive hashes to ``sha256``."""
        path = self.root / CacheBucket.ARCHIVE.value / self._key(sha256)
        return path if path.is_dir() else None

    def manifest(self, tree: Path) -> Manifest | None:
        """Return the install manifest stored beside the unpacked tree ``tree``, if any."""
        from resolvent.installer.manifest import load_manifest  # noqa: PLC0415 - see _MANIFEST

        return load_manifest(tree)

    def is_damaged(self, tree: Path) -> bool:
        """Whether files that ``tree``'s manifest lists are missing from the entry.

        Entries never change once published, so a missing file means something outside
        resolvent removed it (a cleaner of old files, a disk error). Checked only after
        an install from the entry failed: a stat per file is too dear for every run.
        An entry without its manifest counts as damaged then: every entry is published
        with one, and a cleaner of old files removes the manifest as readily as any
        other file (unpacking an entry again costs less than an install that keeps
        failing until ``cache clean``).
        """
        manifest = self.manifest(tree)
        if manifest is None:
            return True
        base = os.fspath(tree) + "/"
        lexists = os.path.lexists
        paths = (*manifest.dirs, *manifest.files, *manifest.links, *(d[0] for d in manifest.data))
        return not all(lexists(base + path) for path in paths)

    def discard(self, tree: Path) -> None:
        """Remove a damaged entry of the archive bucket (at once) and its manifest.

        The next :meth:`unpack_wheel` of the same archive unpacks it anew.
        """
        if tree.parent != self.root / CacheBucket.ARCHIVE.value:
            return
        from filelock import FileLock  # noqa: PLC0415 -- see unpack_wheel

        from resolvent.installer.manifest import manifest_path  # noqa: PLC0415

        with FileLock(os.fspath(tree.parent / f"{tree.name}{_LOCK}")):
            _remove_tree(os.fspath(tree))
            with contextlib.suppress(FileNotFoundError):
                os.unlink(manifest_path(tree))

    def store_manifest(self, tree: Path, manifest: Manifest) -> None:
        """Store ``manifest`` for ``tree`` (an entry of this cache written before manifests).

        Entries are immutable once published and the manifest is a function of the
        entry, so concurrent writers write the same bytes; the write is atomic.
        """
        if tree.parent == self.root / CacheBucket.ARCHIVE.value:
            from resolvent.installer.manifest import store_manifest  # noqa: PLC0415

            store_manifest(tree, manifest)

    def unpack_wheel(
        self,
        wheel_path: Path,
        sha256: str | None = None,
        *,
        source: str = "local",
        limits: ZipLimits | None = None,
        verified: bool = False,
        data: bytes | bytearray | memoryview | None = None,
    ) -> Path:
        """Return the unpacked tree of ``wheel_path``, unpacking it first if needed.

        ``sha256`` is the archive's expected digest (from a lock or an index); the file
        must match it. ``verified`` says the caller hashed this very file already (while
        downloading it) and ``sha256`` is that digest, so it is not read twice. ``data``
        is the file's bytes, held in memory (a download within the preparer's memory
        budget): ``wheel_path`` then only names the file, which need not exist.

        The wheel is fully checked (paths, links, sizes, RECORD hashes) while it is
        extracted into a private ``.tmp-`` folder, which is renamed into
        place only when whole; concurrent callers wait on the entry's lock and get the
        same folder. The wheel is remembered under ``wheels-v1/<source>/``.

        Example::

            cache.unpack_wheel(Path("demo-1.0-py3-none-any.whl"), sha256="ab12...")
        """
        present = data is not None or wheel_path.is_file()
        if verified and sha256 is not None and present:
            actual: str | None = self._key(sha256)
        elif data is not None:
            import hashlib  # noqa: PLC0415 -- only for bytes nobody hashed yet

            actual = hashlib.sha256(data).hexdigest()
        else:
            from resolvent.hashes import file_sha256  # noqa: PLC0415 -- only unpacking hashes

            actual = file_sha256(wheel_path) if present else None
        if actual is None:
            raise InvalidWheelError(wheel_path.name, "does not exist")
        if sha256 is not None and self._key(sha256) != actual:
            raise InvalidWheelError(
                wheel_path.name, f"has sha256 `{actual}`, but `{sha256.lower()}` was expected"
            )
        bucket = self.bucket(CacheBucket.ARCHIVE)
        entry = bucket / actual
        if not entry.is_dir():
            from filelock import FileLock  # noqa: PLC0415 -- only writers lock (not warm runs)

            with FileLock(os.fspath(bucket / f"{actual}{_LOCK}")):
                if not entry.is_dir():
                    self._unpack(wheel_path, entry, limits, data)
        self.remember(wheel_path.name, actual, source=source)
        return entry

    def _unpack(
        self,
        wheel_path: Path,
        entry: Path,
        limits: ZipLimits | None,
        data: bytes | bytearray | memoryview | None = None,
    ) -> None:
        staged = self.stage_wheel(wheel_path, entry.name, limits=limits, data=data)
        try:
            _publish(staged, entry)
        finally:
            staged.discard()

    def stage_wheel(
        self,
        wheel_path: Path,
        sha256: str,
        *,
        limits: ZipLimits | None = None,
        gate: DownloadGate | None = None,
        data: bytes | bytearray | memoryview | None = None,
        staging: Path | None = None,
    ) -> StagedWheel:
        """Unpack and check ``wheel_path`` into a private folder of the cache, unpublished.

        ``sha256`` is the archive's expected digest: the folder is named after it, as
        ``cache prune`` expects of a writer's leftovers. With ``gate``, the file is still
        downloading and every read waits for its bytes (see
        :mod:`resolvent.installer.download_gate`). With ``data``, the file's bytes are in
        memory (``wheel_path`` only names it). The caller publishes the result with
        :meth:`publish_staged` once the archive's hash is known and checked, or discards
        it. On error nothing is left behind. ``staging`` is the private folder to use,
        made empty by the caller (:meth:`staging_folder`): a worker process unpacks into
        the folder its parent made, which the parent removes if the worker dies.
        """
        import shutil  # noqa: PLC0415 -- see _remove_tree

        from resolvent.installer.archive import WheelArchive  # noqa: PLC0415 - see _MANIFEST

        if staging is None:
            staging = self.staging_folder(sha256)
        try:
            archive = WheelArchive(wheel_path, limits=limits, gate=gate, data=data)
            archive.extract(staging / "tree")
            return StagedWheel(staging, archive.manifest())
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def staging_folder(self, sha256: str) -> Path:
        """Make and return a new private folder to stage archive ``sha256`` in."""
        import tempfile  # noqa: PLC0415 -- only unpacking stages

        bucket = self.bucket(CacheBucket.ARCHIVE)
        return Path(tempfile.mkdtemp(prefix=f"{_TMP}{self._key(sha256)}-", dir=bucket))

    def publish_staged(
        self, staged: StagedWheel, sha256: str, filename: str, *, source: str = "local"
    ) -> Path:
        """Publish a staged tree as the entry of archive ``sha256`` (checked by the caller).

        An entry already there (another process unpacked the same archive) is kept and
        the staged tree discarded. Returns the entry, remembered for ``filename``.
        """
        from filelock import FileLock  # noqa: PLC0415 -- only writers lock (not warm runs)

        key = self._key(sha256)
        bucket = self.bucket(CacheBucket.ARCHIVE)
        entry = bucket / key
        try:
            if not entry.is_dir():
                with FileLock(os.fspath(bucket / f"{key}{_LOCK}")):
                    if not entry.is_dir():
                        _publish(staged, entry)
        finally:
            staged.discard()
        self.remember(filename, key, source=source)
        return entry

    def remember(self, filename: str, sha256: str, *, source: str = "local") -> Path:
        """Record that wheel file ``filename`` from ``source`` unpacks to ``sha256``."""
        if not _SOURCE.match(source) or not _SOURCE.match(filename):
            raise InstallError(f"cannot remember `{source}/{filename}` in the cache")
        folder = self.bucket(CacheBucket.WHEELS) / source
        folder.mkdir(exist_ok=True)
        pointer = folder / f"{filename}{_POINTER}"
        key = self._key(sha256)
        try:
            if pointer.read_text(encoding="ascii").strip() == key:
                return pointer
        except (OSError, UnicodeDecodeError):
            pass
        # Whole or not at all: a concurrent install may be recalling the pointer.
        write_atomically(pointer, f"{key}\n".encode("ascii"), prefix=_TMP)
        return pointer

    def recall(self, filename: str, *, source: str = "local") -> str | None:
        """Return the sha256 that wheel ``filename`` from ``source`` was remembered with."""
        pointer = self.root / CacheBucket.WHEELS.value / source / f"{filename}{_POINTER}"
        try:
            key = pointer.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return key if _SHA256.match(key) else None

    def _pointers(self) -> list[tuple[Path, str]]:
        found = []
        for bucket in (CacheBucket.WHEELS, CacheBucket.BUILT):
            root = self.root / bucket.value
            if not root.is_dir():
                continue
            for pointer in root.rglob(f"*{_POINTER}"):
                try:
                    found.append((pointer, pointer.read_text(encoding="ascii").strip()))
                except (OSError, UnicodeDecodeError):
                    continue
        return found

    def prune(self, keep: Iterable[str] = ()) -> list[Path]:
        """Remove leftovers and unreferenced entries; return what was removed.

        Removes ``.tmp-`` folders and files of writers that are gone, unpacked wheels
        that no ``wheels-v1``/``built-v1`` pointer (nor ``keep``) names, dangling
        pointers, lock files of absent entries, and the buckets of older layouts. Each
        archive entry is removed under its lock, and a temporary folder only when its
        entry's lock is free. Like ``uv cache prune``, it is meant for when no install is
        running.
        """
        removed: list[Path] = []
        if not self.root.is_dir():
            return removed
        self.ensure_is_cache("prune")
        try:
            self._prune(keep, removed)
        except OSError as error:
            raise _cache_failure(self.root, error, "prune") from None
        return removed

    def _prune(self, keep: Iterable[str], removed: list[Path]) -> None:
        pointers = self._pointers()
        referenced = {key for _, key in pointers} | {k.lower() for k in keep}
        archive = self.root / CacheBucket.ARCHIVE.value
        entries = list(os.scandir(archive)) if archive.is_dir() else []
        for item in entries:
            name = item.name
            remove = functools.partial(_remove_tree, item.path)
            if name.startswith(_TMP):
                owner = name[len(_TMP) :].split("-", 1)[0]
                if not _SHA256.match(owner):  # an abandoned trash folder
                    remove()
                    removed.append(Path(item.path))
                elif self.try_locked(archive, owner, remove):
                    removed.append(Path(item.path))
            elif _SHA256.match(name) and name not in referenced:
                if self.try_locked(archive, name, remove):
                    removed.append(Path(item.path))
                    manifest = f"{item.path}{_MANIFEST}"
                    if os.path.lexists(manifest):
                        os.unlink(manifest)
                        removed.append(Path(manifest))
            elif name.endswith(_MANIFEST):
                key = name[: -len(_MANIFEST)]
                if (
                    os.path.lexists(item.path)  # not removed with its entry just now
                    and not os.path.isdir(archive / key)
                    and self.try_locked(
                        archive, key, functools.partial(_unlink_if_orphan, item.path, _MANIFEST)
                    )
                ):
                    removed.append(Path(item.path))
            elif (
                name.endswith(_LOCK)
                and not os.path.isdir(archive / name[: -len(_LOCK)])
                # The lock is removed while held; a racing writer that opens the removed
                # file still publishes by atomic rename, so correctness does not need it.
                and self.try_locked(archive, name[: -len(_LOCK)], _nothing, unlink=True)
            ):
                removed.append(Path(item.path))
        for pointer, key in pointers:
            if not (archive / key).is_dir():
                pointer.unlink(missing_ok=True)
                removed.append(pointer)
        from resolvent.installer.speculate import MEMO_BUCKET, stale_memo  # noqa: PLC0415

        memos = self.root / MEMO_BUCKET
        for memo in sorted(memos.iterdir()) if memos.is_dir() else ():
            if not memo.name.startswith(_TMP) and stale_memo(os.fspath(memo)):
                memo.unlink(missing_ok=True)  # it names entries that are gone
                removed.append(memo)
        for bucket in _outgrown_buckets(self.root):
            _remove_tree(os.fspath(bucket))
            removed.append(bucket)
        for path in sorted(self.root.rglob(f"{_TMP}*"), key=lambda p: len(p.parts)):
            if path.parent == archive or not os.path.lexists(path):
                continue
            if path.is_dir() and not path.is_symlink():  # a download or build's leftovers
                _remove_tree(os.fspath(path))
            else:
                path.unlink(missing_ok=True)
            removed.append(path)

    @staticmethod
    def try_locked(
        folder: Path, key: str, action: Callable[[], None], *, unlink: bool = False
    ) -> bool:
        """Run ``action`` under entry ``key``'s lock if it is free; return whether it ran.

        An entry whose lock is held is being written or read by an install: it is left
        for a later prune or clean. ``unlink`` removes the lock file while holding it.
        """
        from filelock import FileLock, Timeout  # noqa: PLC0415 -- see unpack_wheel

        lock_path = folder / f"{key}{_LOCK}"
        lock = FileLock(os.fspath(lock_path), timeout=0)
        try:
            with lock:
                action()
                if unlink:
                    lock_path.unlink(missing_ok=True)
        except Timeout:
            return False
        return True

    def clean(self) -> None:
        """Remove the whole cache (each bucket disappears at once, then is deleted).

        Raises :class:`BadInputError` for a folder with contents but no ``CACHEDIR.TAG``
        (not a cache: nothing is removed), or when the file system refuses.
        """
        if not self.root.is_dir():
            return
        self.ensure_is_cache("clean")
        try:
            with os.scandir(self.root) as children:
                # The tag goes last: a clean that fails part way leaves a folder that is
                # still recognisably a cache, so it can be cleaned again.
                paths = sorted((child.path for child in children), key=_tag_last)
            for path in paths:
                if os.path.isdir(path) and not os.path.islink(path):
                    _remove_tree(path)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
        except OSError as error:
            raise _cache_failure(self.root, error, "clean") from None

    def size(self) -> int:
        """Return the bytes the cache uses (each hardlinked file counted once).

        Files that vanish or cannot be read while it counts (another process, a special
        file system) are not counted.
        """
        seen: set[tuple[int, int]] = set()
        total = 0
        stack = [os.fspath(self.root)]
        while stack:
            try:
                entries = list(os.scandir(stack.pop()))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                        continue
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if (info.st_dev, info.st_ino) not in seen:
                    seen.add((info.st_dev, info.st_ino))
                    total += info.st_size
        return total


class StagedWheel:
    """A wheel unpacked and checked in a private folder of the cache, not yet an entry."""

    def __init__(self, folder: Path, manifest: Manifest) -> None:
        self.folder = folder
        self.tree = folder / "tree"
        self.manifest = manifest

    def discard(self) -> None:
        """Remove what is left of the private folder (all of it, unless published)."""
        import shutil  # noqa: PLC0415 -- see _remove_tree

        shutil.rmtree(self.folder, ignore_errors=True)


def _publish(staged: StagedWheel, entry: Path) -> None:
    """Move a staged tree to ``entry`` (under the entry's lock), its manifest first."""
    from resolvent.installer.manifest import store_manifest  # noqa: PLC0415 - see _MANIFEST

    if os.path.lexists(entry) and (os.path.islink(entry) or not os.path.isdir(entry)):
        # Not an entry (a stray file or link): ``unpacked`` never returned it, and it
        # would make every publication fail with "not a directory".
        _remove_tree(os.fspath(entry))
    # The manifest goes first: a published entry always has its own.
    store_manifest(entry, staged.manifest, scratch=os.fspath(staged.folder))
    try:
        os.replace(staged.tree, entry)
    except OSError:
        # Another writer (one that ignored the lock) finished first: keep theirs.
        if not entry.is_dir():
            raise
