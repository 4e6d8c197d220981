"""A build turns a source distribution or a local project into a wheel through its PEP 517 backend.

Only wheels are installed, so an sdist (or a project folder, or ``-e``) must be built
first. The build runs in an isolated environment: a fresh venv of the target's
interpreter into which resolvent itself resolves and installs ``build-system.requires``
(from its cache, like any install), and the backend's hooks run there through
``pyproject-hooks``. A wheel built from an sdist is cached in ``built-v1/<sdist
sha256>/``, so an sdist is built once per machine; the folder appears whole, by one
atomic rename, under a per-sdist file lock.

Example::

    builder = Builder(cache, python=venv.python, install=install_into)
    tree = builder.build_sdist(Path("demo-1.0.tar.gz"), sha256)  # unpacked wheel in the cache
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from packaging.requirements import InvalidRequirement, Requirement

from resolvent.errors import BuildError
from resolvent.installer.cache import CacheBucket
from resolvent.installer.plan import built_tree
from resolvent.installer.venv import create_venv
from resolvent.installer.wheel import check_member_path

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from resolvent.installer.cache import Cache
    from resolvent.installer.venv import Venv

__all__ = ["BuildRequirementsInstaller", "Builder", "BuiltProject", "read_build_system"]

_DEFAULT_REQUIRES = ("setuptools>=40.8.0",)
_DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"
_OUTPUT_LINES = 12


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
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise BuildError(f"cannot read `{pyproject}`: {error}") from None
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
    try:
        parsed = [Requirement(r) for r in requires]
    except InvalidRequirement as error:
        raise BuildError(f"`{pyproject}`: invalid build requirement: {error}") from None
    return parsed, backend, backend_path


def _extract_sdist(sdist: Path, target: Path) -> Path:
    """Unpack an sdist safely into ``target``; return its project folder."""
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
        raise BuildError(f"cannot unpack the sdist `{name}`: {error}") from None
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
            tail = completed.stdout.strip().splitlines()[-_OUTPUT_LINES:]
            detail = "\n".join(f"  {line}" for line in tail) or "  (no output)"
            raise BuildError(f"the build backend failed (exit {completed.returncode}):\n{detail}")

    return runner


class BuiltProject:
    """A wheel built from a local project: the cache tree to link and the wheel's name."""

    __slots__ = ("filename", "tree")

    def __init__(self, tree: Path, filename: str) -> None:
        self.tree = tree
        self.filename = filename


class Builder:
    """Builds sdists and local projects in isolated environments, caching sdist builds.

    :param cache: the cache whose ``built-v1`` bucket keeps wheels built from sdists.
    :param python: the interpreter to build for (a venv's python is followed to its base).
    :param install: installs build requirements into a build environment.
    """

    def __init__(self, cache: Cache, *, python: Path, install: BuildRequirementsInstaller) -> None:
        self.cache = cache
        self.python = python
        self.install = install

    def build_sdist(self, sdist: Path, sha256: str) -> Path:
        """Return the unpacked wheel built from ``sdist`` (whose hash is ``sha256``).

        A wheel already built from an sdist with that hash is reused.

        :raises BuildError: the sdist cannot be unpacked or its backend fails.
        """
        key = sha256.lower()
        found = built_tree(self.cache, key)
        if found is not None:
            return found
        bucket = self.cache.bucket(CacheBucket.BUILT)
        from filelock import FileLock  # noqa: PLC0415 -- only builds lock (not warm runs)

        with FileLock(os.fspath(bucket / f"{key}.lock")):
            found = built_tree(self.cache, key)
            if found is not None:
                return found
            staging = Path(tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=bucket))
            try:
                source = _extract_sdist(sdist, staging / "src")
                entry = staging / key
                entry.mkdir()
                wheel = self._build(source, entry, editable=False)
                tree = self.cache.unpack_wheel(wheel, source="built")
                pointer = entry / f"{wheel.name}.sha256"
                pointer.write_text(tree.name + "\n", encoding="ascii")
                final = bucket / key
                if final.exists():  # a stale entry without a usable pointer
                    shutil.rmtree(final)
                entry.replace(final)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            return tree

    def build_project(self, folder: Path, *, editable: bool = False) -> BuiltProject:
        """Build the project at ``folder`` (``editable``: PEP 660) and unpack it in the cache.

        :raises BuildError: the backend fails or has no editable hook.
        """
        with tempfile.TemporaryDirectory(prefix="resolvent-wheel-") as out:
            wheel = self._build(folder, Path(out), editable=editable)
            tree = self.cache.unpack_wheel(wheel, source="local")
            return BuiltProject(tree, wheel.name)

    def _build(self, project: Path, out: Path, *, editable: bool) -> Path:
        from pyproject_hooks import (  # noqa: PLC0415 -- only builds need it
            BackendUnavailable,
            BuildBackendHookCaller,
            HookMissing,
        )

        if not (project / "pyproject.toml").is_file() and not (project / "setup.py").is_file():
            raise BuildError(f"`{project}` has neither `pyproject.toml` nor `setup.py`")
        requires, backend, backend_path = read_build_system(project)
        log: list[str] = []
        with tempfile.TemporaryDirectory(prefix="resolvent-build-env-") as folder:
            venv = create_venv(Path(folder) / "env", python=self.python)
            if requires:
                self.install(requires, venv)
            hooks = BuildBackendHookCaller(
                os.fspath(project),
                backend,
                backend_path=backend_path,
                runner=_runner_for(log),
                python_executable=os.fspath(venv.python),
            )
            kind = "editable" if editable else "wheel"
            try:
                if editable:
                    extra = hooks.get_requires_for_build_editable()
                else:
                    extra = hooks.get_requires_for_build_wheel()
                if extra:
                    try:
                        self.install([Requirement(r) for r in extra], venv)
                    except InvalidRequirement as error:
                        raise BuildError(f"the backend asked for {extra!r}: {error}") from None
                if editable:
                    name = hooks.build_editable(os.fspath(out))
                else:
                    name = hooks.build_wheel(os.fspath(out))
            except BackendUnavailable as error:
                raise BuildError(
                    f"cannot import the build backend `{backend}` of `{project}`: "
                    f"{_last_line(error.traceback)}"
                ) from None
            except HookMissing:
                raise BuildError(
                    f"the build backend `{backend}` of `{project}` cannot build {kind}s"
                ) from None
        wheel = out / name
        if not wheel.is_file() or not name.endswith(".whl"):
            raise BuildError(f"the build backend of `{project}` reported `{name}`, not a wheel")
        return wheel


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else "no detail"
