"""A build turns a source distribution or a local project into a wheel through its PEP 517 backend.

Only wheels are installed, so an sdist (or a project folder, or ``-e``) must be built
first. The build runs in an isolated environment: a fresh venv of the target's
interpreter into which resolvent itself resolves and installs ``build-system.requires``
(from its cache, like any install), and the backend's hooks run there through
``pyproject-hooks``. A wheel built from an sdist is cached in ``built-v1/<sdist
sha256>/``, so an sdist is built once per machine; the folder appears whole, by one
atomic rename, under a per-sdist file lock.

Resolution needs the metadata of sdists whose ``PKG-INFO`` is not static (PEP 643):
:meth:`Builder.sdist_metadata` asks the backend's ``prepare_metadata_for_build_wheel``
hook (else builds the wheel and keeps it for the install) and caches the ``METADATA``
as ``built-v1/<sdist sha256>.metadata``, written by atomic rename under the same lock.

Example::

    builder = Builder(cache, python=venv.python, install=install_into)
    tree = builder.build_sdist(Path("demo-1.0.tar.gz"), sha256)  # unpacked wheel in the cache
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from packaging.requirements import InvalidRequirement, Requirement

from resolvent import __version__
from resolvent.atomic_write import write_atomically
from resolvent.errors import BuildError, ResolventError
from resolvent.installer.cache import CacheBucket
from resolvent.installer.plan import built_tree
from resolvent.installer.venv import create_venv
from resolvent.installer.wheel import check_member_path
from resolvent.json_text import parse_json
from resolvent.toml_text import parse_toml

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from resolvent.installer.cache import Cache
    from resolvent.installer.venv import Venv

__all__ = ["BuildRequirementsInstaller", "Builder", "BuiltProject", "read_build_system"]

#: A traceback's last line: ``SomeError: why`` (dotted names and bare names included).
_EXCEPTION_LINE = re.compile(
    r"^([A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b(: .*)?|error\b.*)$", re.IGNORECASE
)

_DEFAULT_REQUIRES = ("setuptools>=40.8.0",)
_DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"
_METADATA_SUFFIX = ".metadata"
#: A metadata build whose backend failed (see ``Builder._record_failure``).
_FAILED_SUFFIX = ".failed"
_T = TypeVar("_T")


class BuildRequirementsInstaller(Protocol):
    """Installs requirements into a build environment (resolvent's own install flow)."""

    def __call__(self, requirements: Sequence[Requirement], venv: Venv) -> None:
        """Resolve ``requirements`` for ``venv``'s interpreter and install them there."""


def read_build_system(project: Path) -> tuple[list[Requirement], str, list[str] | None]:
    """Return ``(requires, build-backend, backend-path)`` of the project at ``project``.

    Without ``pyproject.toml`` or a ``[build-system]`` table, the setuptools legacy
    backend applies, as in pip and uv.

    :raises BuildError: the table is malformed.
    """
    pyproject = project / "pyproject.toml"
    data: dict[str, Any] = {}
    if pyproject.is_file():
        try:
            text = pyproject.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise BuildError(f"cannot read `{pyproject}`: {error}") from None
        try:
            data = parse_toml(text)
        except ValueError as error:  # malformed, a 5,000-digit integer, nested too deeply
            raise BuildError(f"`{pyproject}` is not valid TOML: {error}") from None
    table = data.get("build-system")
    if not isinstance(table, dict):
        return [Requirement(r) for r in _DEFAULT_REQUIRES], _DEFAULT_BACKEND, None
    requires = table.get("requires", [])
    backend = table.get("build-backend", _DEFAULT_BACKEND)
    backend_path = table.get("backend-path")
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise BuildError(f"`{pyproject}`: `build-system.requires` must be a list of strings")
    if not isinstance(backend, str):
        raise BuildError(f"`{pyproject}`: `build-system.build-backend` must be a string")
    if backend_path is not None and (
        not isinstance(backend_path, list) or not all(isinstance(p, str) for p in backend_path)
    ):
        raise BuildError(f"`{pyproject}`: `build-system.backend-path` must be a list of strings")
    for entry in backend_path or ():
        _check_backend_path(project, entry)
    try:
        parsed = [Requirement(r) for r in requires]
    except InvalidRequirement as error:
        raise BuildError(f"`{pyproject}`: invalid build requirement: {error}") from None
    return parsed, backend, backend_path


def _check_backend_path(project: Path, entry: str) -> None:
    """Refuse a ``backend-path`` entry that is absolute or leads out of the source tree.

    PEP 517 requires the entries to be relative paths inside the tree: they are put
    first on the backend's ``sys.path``, so an sdist naming ``/tmp`` or ``../..`` would
    run code from outside what was downloaded and hashed. pyproject-hooks refused
    them only with a ``ValueError`` traceback, after the build environment was made
    (and with a string-prefix test that let ``../proj-x`` pass); uv refuses them up
    front, as here. Links are followed, so a link inside the tree cannot escape it.

    :raises BuildError: the entry is absolute or resolves outside ``project``.
    """
    root = os.path.realpath(project)
    inside = "\0" not in entry and not Path(entry).is_absolute()
    if inside:  # a NUL makes `realpath` raise; such a path cannot be inside anything
        resolved = os.path.realpath(Path(root, entry))
        inside = os.path.commonpath([root, resolved]) == root
    if not inside:
        shown = entry if entry.isprintable() else repr(entry)  # the error is one line
        raise BuildError(
            f"`pyproject.toml`: `build-system.backend-path` entry `{shown}` must be a relative "
            "path within the source tree"
        )


def _extract_sdist(sdist: Path, target: Path) -> Path:
    """Unpack an sdist safely into ``target``; return its project folder."""
    # Only builds unpack sdists; every install imports this module (~6 ms for the two).
    import tarfile  # noqa: PLC0415
    import zipfile  # noqa: PLC0415

    name = sdist.name
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(sdist) as archive:
                for member in archive.namelist():
                    problem = check_member_path(member)
                    if problem:
                        raise BuildError(f"unsafe sdist `{name}`: {problem}")
                archive.extractall(target)  # noqa: S202 -- every member checked above
        else:
            with tarfile.open(sdist) as archive:
                archive.extractall(target, filter="data")
    except (OSError, tarfile.TarError, zipfile.BadZipFile) as error:
        # tarfile explains a file it cannot open with a line per compression it tried;
        # its first line says it all.
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0].rstrip(":")
        if isinstance(error, (tarfile.ReadError, zipfile.BadZipFile)):
            reason = f"not a valid archive ({reason})"
        raise BuildError(f"cannot unpack the sdist `{name}`: {reason}") from None
    children = [child for child in target.iterdir() if child.is_dir()]
    if len(children) == 1 and not (target / "pyproject.toml").exists():
        return children[0]
    return target


def _runner_for(log: list[str]) -> Any:
    def runner(
        cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
    ) -> None:
        env = os.environ.copy()
        env.pop("PYTHONPATH", None)
        if extra_environ:
            env.update(extra_environ)
        completed = subprocess.run(  # noqa: S603 -- the build env's interpreter and hook script
            list(cmd),
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            check=False,
        )
        log.append(completed.stdout)
        if completed.returncode != 0:
            # One line: the backend's last words (its exception, as a rule). The whole
            # output would carry the backend's own traceback into resolvent's error.
            raise BackendFailedError(
                f"the build backend failed (exit {completed.returncode}): "
                f"{_last_line(completed.stdout) if completed.stdout.strip() else 'no output'}"
            )

    return runner


class BackendFailedError(BuildError):
    """The build backend itself failed: the same sdist fails the same way next time."""


class BuiltProject:
    """A wheel built from a local project: the cache tree to link and the wheel's name."""

    __slots__ = ("filename", "tree")

    def __init__(self, tree: Path, filename: str) -> None:
        self.tree = tree
        self.filename = filename


class _BuildEnv:
    """A project's backend, ready in an isolated environment (see :meth:`Builder._env`)."""

    def __init__(self, hooks: Any, install: Callable[[list[str]], None], label: str) -> None:
        self.hooks = hooks
        self.install = install
        self.label = label

    def prepare_metadata(self, out: Path) -> bytes | None:
        """Run ``prepare_metadata_for_build_wheel``; ``None`` when the backend lacks it."""
        from pyproject_hooks import HookMissing  # noqa: PLC0415 -- only builds need it

        self.install(self.hooks.get_requires_for_build_wheel())
        out.mkdir(parents=True, exist_ok=True)
        try:
            name = self.hooks.prepare_metadata_for_build_wheel(
                os.fspath(out), _allow_fallback=False
            )
        except HookMissing:
            return None
        metadata = out / str(name) / "METADATA"
        if not isinstance(name, str) or "/" in name or not metadata.is_file():
            raise BuildError(
                f"the build backend of {self.label} reported `{name}`, not a `.dist-info` folder"
            )
        return metadata.read_bytes()

    def build(self, out: Path, *, editable: bool = False) -> Path:
        """Build a wheel (``editable``: PEP 660) into ``out``; return its path."""
        if editable:
            self.install(self.hooks.get_requires_for_build_editable())
            name = str(self.hooks.build_editable(os.fspath(out)))
        else:
            self.install(self.hooks.get_requires_for_build_wheel())
            name = str(self.hooks.build_wheel(os.fspath(out)))
        wheel = out / name
        if not wheel.is_file() or not name.endswith(".whl"):
            raise BuildError(f"the build backend of {self.label} reported `{name}`, not a wheel")
        return wheel


class Builder:
    """Builds sdists and local projects in isolated environments, caching sdist builds.

    :param cache: the cache whose ``built-v1`` bucket keeps wheels built from sdists.
    :param python: the interpreter to build for (a venv's python is followed to its base).
    :param install: installs build requirements into a build environment.

    Besides wheels, it prepares the core metadata of sdists and projects (PEP 517's
    ``prepare_metadata_for_build_wheel``, else a whole build), which resolution needs
    when an sdist's ``PKG-INFO`` does not state its requirements statically. The
    metadata of an sdist is cached as ``built-v1/<sdist sha256>.metadata``, and a
    failure of its backend as ``.failed`` beside it (until ``retry_failed``).
    """

    def __init__(
        self,
        cache: Cache,
        *,
        python: Path,
        install: BuildRequirementsInstaller,
        retry_failed: bool = False,
    ) -> None:
        self.cache = cache
        self.python = python
        self.install = install
        self.retry_failed = retry_failed

    def build_sdist(self, sdist: Path, sha256: str) -> Path:
        """Return the unpacked wheel built from ``sdist`` (whose hash is ``sha256``).

        A wheel already built from an sdist with that hash is reused.

        :raises BuildError: the sdist cannot be unpacked or its backend fails.
        """
        key = sha256.lower()
        return self._once(
            sdist,
            key,
            lambda: built_tree(self.cache, key),
            lambda env, staging: self._publish_build(env, key, staging),
        )

    def sdist_metadata(self, sdist: Path, sha256: str) -> bytes:
        """Return the core metadata (``METADATA`` bytes) of the wheel ``sdist`` would build.

        Asks the backend's ``prepare_metadata_for_build_wheel`` hook; a backend without
        it builds the wheel, which is then kept in the cache for the install (as pip and
        uv do). The answer is cached by ``sha256``, so an sdist's backend runs once per
        machine; a failed build leaves nothing behind.

        :raises BuildError: the sdist cannot be unpacked or its backend fails.
        """
        key = sha256.lower()

        def make(env: _BuildEnv, staging: Path) -> bytes:
            data = env.prepare_metadata(staging / "metadata")
            if data is None:
                data = _wheel_metadata(self._publish_build(env, key, staging))
            temp = staging / "METADATA"
            temp.write_bytes(data)
            temp.replace(self.cache.bucket(CacheBucket.BUILT) / f"{key}{_METADATA_SUFFIX}")
            return data

        def lookup() -> bytes | None:
            found = self._cached_metadata(key)
            if found is None and not self.retry_failed:
                self._raise_recorded_failure(key)
            return found

        try:
            return self._once(sdist, key, lookup, make)
        except BackendFailedError as error:
            self._record_failure(key, error)
            raise

    def _failure_identity(self) -> list[object]:
        """Return what a recorded failure holds for: this interpreter's file, this resolvent."""
        try:
            info = self.python.stat()
            stamp: list[object] = [info.st_ino, info.st_size, info.st_mtime_ns]
        except OSError:
            stamp = []
        return [os.path.abspath(self.python), *stamp, __version__]  # noqa: PTH100 -- no resolve: the path as given

    def _record_failure(self, key: str, error: BuildError) -> None:
        """Remember that the backend failed to prepare this sdist's metadata, and why.

        Resolution can meet old sdists that no longer build (airflow 1.x on Python
        3.11, when the SAT engine explores); their backend fails the same way on every
        run, each time after unpacking the sdist and making a build environment (a
        second or so each). ``--refresh`` tries them again (:attr:`retry_failed`).
        """
        record = {"identity": self._failure_identity(), "error": error.message}
        bucket = self.cache.bucket(CacheBucket.BUILT)
        with contextlib.suppress(OSError):
            write_atomically(
                bucket / f"{key}{_FAILED_SUFFIX}",
                json.dumps(record).encode(),
                prefix=f".tmp-{key}-",
            )

    def _raise_recorded_failure(self, key: str) -> None:
        """Raise the recorded failure of this sdist's metadata build, if it holds here."""
        path = self.cache.root / CacheBucket.BUILT.value / f"{key}{_FAILED_SUFFIX}"
        try:
            record = parse_json(path.read_text(encoding="utf-8"))
            identity, message = record["identity"], record["error"]
        except (OSError, ValueError, KeyError, TypeError):
            return
        if identity == self._failure_identity() and isinstance(message, str):
            raise BuildError(f"{message} (as on an earlier run; `--refresh` builds it again)")

    def _once(
        self,
        sdist: Path,
        key: str,
        lookup: Callable[[], _T | None],
        make: Callable[[_BuildEnv, Path], _T],
    ) -> _T:
        """Return ``lookup()``, or run ``make`` on the unpacked sdist under its build lock.

        Processes sharing the cache build an sdist once: the second waits on the lock,
        then finds the first one's result. ``make`` works in a staging folder that is
        removed afterwards, whatever happens.
        """
        found = lookup()
        if found is not None:
            return found
        bucket = self.cache.bucket(CacheBucket.BUILT)
        from filelock import FileLock  # noqa: PLC0415 -- only builds lock (not warm runs)

        with FileLock(os.fspath(bucket / f"{key}.lock")):
            found = lookup()
            if found is not None:
                return found
            staging = Path(tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=bucket))
            try:
                source = _extract_sdist(sdist, staging / "src")
                with self._env(source, f"`{sdist.name}`") as env:
                    return make(env, staging)
            finally:
                shutil.rmtree(staging, ignore_errors=True)

    def project_metadata(self, folder: Path) -> bytes:
        """Return the core metadata of the project at ``folder`` (never cached: it may change).

        :raises BuildError: the backend fails.
        """
        with (
            tempfile.TemporaryDirectory(prefix="resolvent-metadata-") as out,
            self._env(folder, f"`{folder}`") as env,
        ):
            data = env.prepare_metadata(Path(out) / "metadata")
            if data is None:
                wheel = env.build(Path(out))
                data = _wheel_metadata(self.cache.unpack_wheel(wheel, source="local"))
            return data

    def _cached_metadata(self, key: str) -> bytes | None:
        path = self.cache.root / CacheBucket.BUILT.value / f"{key}{_METADATA_SUFFIX}"
        try:
            return path.read_bytes()
        except OSError:
            pass
        tree = built_tree(self.cache, key)
        if tree is None:
            return None
        try:
            return _wheel_metadata(tree)
        except BuildError:
            return None

    def _publish_build(self, env: _BuildEnv, key: str, staging: Path) -> Path:
        """Build the wheel, unpack it into the cache and publish ``built-v1/<key>/``."""
        bucket = self.cache.bucket(CacheBucket.BUILT)
        entry = staging / key
        entry.mkdir()
        wheel = env.build(entry)
        tree = self.cache.unpack_wheel(wheel, source="built")
        pointer = entry / f"{wheel.name}.sha256"
        pointer.write_text(tree.name + "\n", encoding="ascii")
        final = bucket / key
        if final.exists():  # a stale entry without a usable pointer
            shutil.rmtree(final)
        entry.replace(final)
        return tree

    def build_project(self, folder: Path, *, editable: bool = False) -> BuiltProject:
        """Build the project at ``folder`` (``editable``: PEP 660) and unpack it in the cache.

        :raises BuildError: the backend fails or has no editable hook.
        """
        with (
            tempfile.TemporaryDirectory(prefix="resolvent-wheel-") as out,
            self._env(folder, f"`{folder}`") as env,
        ):
            wheel = env.build(Path(out), editable=editable)
            tree = self.cache.unpack_wheel(wheel, source="local")
            return BuiltProject(tree, wheel.name)

    @contextlib.contextmanager
    def _env(self, project: Path, label: str) -> Iterator[_BuildEnv]:
        """Yield the project's backend in a fresh build environment (removed afterwards).

        Errors of the backend become :class:`BuildError` naming ``label``.
        """
        import warnings  # noqa: PLC0415 -- only builds need it

        from pyproject_hooks import (  # noqa: PLC0415 -- only builds need it
            BackendUnavailable,
            BuildBackendHookCaller,
            BuildBackendWarning,
            HookMissing,
        )

        # pyproject-hooks re-raises the backend's warnings in this process, where Python
        # prints them: setuptools' deprecation banners, eight lines a build, naming no
        # package. A build that succeeds says nothing (as in uv); one that fails says why.
        warnings.filterwarnings("ignore", category=BuildBackendWarning)
        if not (project / "pyproject.toml").is_file() and not (project / "setup.py").is_file():
            raise BuildError(f"{label} has neither `pyproject.toml` nor `setup.py`")
        try:
            requires, backend, backend_path = read_build_system(project)
        except BuildError as error:  # name what was being built: the folder is scratch
            raise BuildError(f"failed to build {label}: {error.message}") from None
        log: list[str] = []
        with tempfile.TemporaryDirectory(prefix="resolvent-build-env-") as folder:
            venv = create_venv(Path(folder) / "env", python=self.python)
            if requires:
                try:
                    self.install(requires, venv)
                except BuildError:
                    raise
                except ResolventError as error:
                    raise BuildError(
                        f"cannot install the build requirements of {label}: {error}"
                    ) from None

            def install_more(extra: list[str]) -> None:
                if not extra:
                    return
                try:
                    parsed = [Requirement(r) for r in extra]
                except InvalidRequirement as error:
                    raise BuildError(f"the backend asked for {extra!r}: {error}") from None
                self.install(parsed, venv)

            hooks = BuildBackendHookCaller(
                os.fspath(project),
                backend,
                backend_path=backend_path,
                runner=_runner_for(log),
                python_executable=os.fspath(venv.python),
            )
            try:
                yield _BuildEnv(hooks, install_more, label)
            except BackendUnavailable as error:
                raise BuildError(
                    f"cannot import the build backend `{backend}` of {label}: "
                    f"{_last_line(error.traceback)}"
                ) from None
            except HookMissing as error:
                raise BuildError(
                    f"the build backend `{backend}` of {label} has no `{error.hook_name}` hook"
                ) from None
            except BuildError as error:
                if label in error.message:
                    raise
                raise type(error)(f"failed to build {label}: {error.message}") from None


def _wheel_metadata(tree: Path) -> bytes:
    """Return the ``METADATA`` of the unpacked wheel at ``tree``."""
    found = sorted(tree.glob("*.dist-info/METADATA"))
    if len(found) != 1:
        raise BuildError(f"the built wheel at `{tree}` has no single `.dist-info/METADATA`")
    return found[0].read_bytes()


def _last_line(text: str) -> str:
    """Return the line of a backend's output that says why it failed.

    That is the last exception line of its traceback or ``error ...`` line of its own
    (the very last line is often a caret marker such as ``~~~~^`` or a quoted input),
    else the last line with any words in it.
    """
    lines = [line.strip() for line in text.strip().splitlines()]
    for line in reversed(lines):
        if _EXCEPTION_LINE.match(line):
            return line
    for line in reversed(lines):
        if any(char.isalnum() for char in line):
            return line
    return "no detail"
