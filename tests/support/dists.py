"""Build small, real wheels and sdists from a description, for tests.

Tests never reach the internet: they make the distributions they install or serve. A
wheel built here is a valid binary distribution (``.dist-info`` with ``METADATA``,
``WHEEL``, ``RECORD`` with sha256 hashes, optional ``entry_points.txt`` and ``.data``);
an sdist is a valid ``.tar.gz`` with ``PKG-INFO`` and a ``pyproject.toml``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from tests.support.environment import hermetic_env

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

__all__ = [
    "IN_TREE_BACKEND",
    "BuildLog",
    "Dist",
    "build_sdist",
    "build_wheel",
    "dynamic_pkg_info",
    "metadata_text",
    "project_files",
    "record_hash",
    "write_project",
]


@dataclass(frozen=True)
class Dist:
    """What a distribution declares and contains.

    ``files`` maps paths inside the wheel (``pkg/__init__.py``,
    ``name-1.0.data/scripts/tool``) to contents; by default a package with one
    ``__init__.py`` named after the project is added. ``extras`` maps extra names to
    their requirements (written as ``Requires-Dist: ...; extra == "x"``).
    """

    name: str
    version: str
    requires: Sequence[str] = ()
    extras: Mapping[str, Sequence[str]] = field(default_factory=dict)
    requires_python: str | None = None
    files: Mapping[str, bytes | str] | None = None
    entry_points: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    tag: str = "py3-none-any"

    @property
    def module(self) -> str:
        """The import name of the default package."""
        return canonicalize_name(self.name).replace("-", "_")

    @property
    def dist_info(self) -> str:
        """The ``.dist-info`` folder name."""
        return f"{self.module}-{self.version}.dist-info"

    @property
    def wheel_name(self) -> str:
        """The wheel's file name."""
        return f"{self.module}-{self.version}-{self.tag}.whl"

    @property
    def sdist_name(self) -> str:
        """The sdist's file name."""
        return f"{self.module}-{self.version}.tar.gz"


def record_hash(data: bytes) -> str:
    """Return a RECORD hash field: ``sha256=`` and urlsafe base64 without padding."""
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def metadata_text(dist: Dist) -> str:
    """Return the core metadata (``METADATA``/``PKG-INFO``) of a distribution."""
    lines = ["Metadata-Version: 2.3", f"Name: {dist.name}", f"Version: {dist.version}"]
    if dist.requires_python:
        lines.append(f"Requires-Python: {dist.requires_python}")
    lines.extend(f"Requires-Dist: {req}" for req in dist.requires)
    for extra, reqs in dist.extras.items():
        lines.append(f"Provides-Extra: {extra}")
        for req in reqs:
            joiner = " and " if ";" in req else "; "
            if ";" in req:
                base, marker = req.split(";", 1)
                lines.append(
                    f'Requires-Dist: {base.strip()}; ({marker.strip()}) and extra == "{extra}"'
                )
            else:
                lines.append(f'Requires-Dist: {req}{joiner}extra == "{extra}"')
    return "\n".join(lines) + "\n\n"


def build_wheel(dest: Path, dist: Dist) -> Path:
    """Write ``dist`` as a wheel into folder ``dest`` and return its path."""
    files: dict[str, bytes] = {}
    source = (
        dist.files
        if dist.files is not None
        else {f"{dist.module}/__init__.py": f'__version__ = "{dist.version}"\n'}
    )
    for path, content in source.items():
        files[path] = content.encode() if isinstance(content, str) else content
    info = dist.dist_info
    files[f"{info}/METADATA"] = metadata_text(dist).encode()
    files[f"{info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: resolvent-tests\nRoot-Is-Purelib: true\n"
        f"Tag: {dist.tag}\n\n"
    ).encode()
    if dist.entry_points:
        text = "".join(
            f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items()) + "\n"
            for group, entries in dist.entry_points.items()
        )
        files[f"{info}/entry_points.txt"] = text.encode()
    record = "".join(f"{path},{record_hash(data)},{len(data)}\n" for path, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / dist.wheel_name
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0)), data)
    return target


#: A PEP 517 backend with no dependencies, shipped inside sdists built with
#: ``in_tree_backend=True`` (``backend-path = ["."]``), so builds need no index. It
#: packs the project's module folder and the sdist's ``PKG-INFO`` (``METADATA.in`` when
#: present: a dynamic sdist's real metadata) into a wheel, and builds editable wheels as
#: one ``.pth`` file pointing at the project folder. It has
#: ``prepare_metadata_for_build_wheel`` unless the project holds a ``NO_PREPARE`` file;
#: a ``FAIL`` file makes every hook raise. With ``RV_TEST_BUILD_LOG`` set, each hook
#: appends ``<hook> <project>`` to that file, so tests can count builds.
IN_TREE_BACKEND = r'''
"""A minimal build backend for tests."""
import base64, hashlib, os, zipfile

def _log(hook):
    path = os.environ.get("RV_TEST_BUILD_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{hook} {os.path.basename(os.getcwd())}\n")
    if os.path.exists("FAIL"):
        raise RuntimeError("the test backend was told to fail")

def _meta():
    source = "METADATA.in" if os.path.exists("METADATA.in") else "PKG-INFO"
    with open(source, encoding="utf-8") as f:
        text = f.read()
    head = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
    return text, head["Name"], head["Version"]

def _record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

def _wheel(directory, files):
    text, name, version = _meta()
    stem = name.replace("-", "_").lower()
    info = f"{stem}-{version}.dist-info"
    files[f"{info}/METADATA"] = text.encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: rv-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n"
    )
    if os.path.exists("entry_points.txt"):
        with open("entry_points.txt", "rb") as f:
            files[f"{info}/entry_points.txt"] = f.read()
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\n" for p, d in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    filename = f"{stem}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, filename), "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return filename

def get_requires_for_build_wheel(config_settings=None):
    return []

get_requires_for_build_editable = get_requires_for_build_wheel

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    _log("prepare_metadata_for_build_wheel")
    text, name, version = _meta()
    info = f"{name.replace('-', '_').lower()}-{version}.dist-info"
    os.makedirs(os.path.join(metadata_directory, info))
    with open(os.path.join(metadata_directory, info, "METADATA"), "w", encoding="utf-8") as f:
        f.write(text)
    return info

if os.path.exists("NO_PREPARE"):
    del prepare_metadata_for_build_wheel

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _log("build_wheel")
    _, name, _ = _meta()
    module = name.replace("-", "_").lower()
    files = {}
    for folder, _, names in os.walk(module):
        for item in sorted(names):
            if item.endswith(".pyc"):
                continue
            path = os.path.join(folder, item)
            with open(path, "rb") as f:
                files[path.replace(os.sep, "/")] = f.read()
    return _wheel(wheel_directory, files)

def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    _log("build_editable")
    _, name, _ = _meta()
    module = name.replace("-", "_").lower()
    return _wheel(wheel_directory, {f"__editable__.{module}.pth": (os.getcwd() + "\n").encode()})
'''


class BuildLog:
    """The file the in-tree backend logs its hooks to, and a CLI environment naming it.

    :param folder: where the log is written (``builds.log``).
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / "builds.log"
        self.env = hermetic_env()
        self.env["RV_TEST_BUILD_LOG"] = str(self.path)

    def hooks(self) -> list[str]:
        """Return the ``<hook> <project>`` lines logged so far (none: no build ran)."""
        return self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else []


def dynamic_pkg_info(dist: Dist) -> str:
    """Return a ``PKG-INFO`` that leaves the requirements to the build (PEP 643 ``Dynamic``)."""
    return (
        f"Metadata-Version: 2.2\nName: {dist.name}\nVersion: {dist.version}\n"
        "Dynamic: Requires-Dist\nDynamic: Requires-Python\n\n"
    )


def project_files(
    dist: Dist, *, in_tree_backend: bool = False, dynamic: bool = False
) -> dict[str, bytes]:
    """Return the files of a source tree of ``dist`` (relative paths to contents).

    By default the project builds with flit_core (which the build must install); with
    ``in_tree_backend`` it builds with :data:`IN_TREE_BACKEND`, needing nothing. With
    ``dynamic`` (and the in-tree backend) its ``PKG-INFO`` marks the requirements as
    dynamic and leaves them out: only the backend (``METADATA.in``) knows them.
    """
    deps = ", ".join(f'"{r}"' for r in dist.requires)
    optional = "".join(
        f"{extra} = [{', '.join(repr(r) for r in reqs)}]\n" for extra, reqs in dist.extras.items()
    )
    rp = f'requires-python = "{dist.requires_python}"\n' if dist.requires_python else ""
    system = (
        '[build-system]\nrequires = []\nbuild-backend = "_rv_backend"\nbackend-path = ["."]\n\n'
        if in_tree_backend
        else '[build-system]\nrequires = ["flit_core>=3.2,<4"]\n'
        'build-backend = "flit_core.buildapi"\n\n'
    )
    pyproject = (
        system
        + f'[project]\nname = "{dist.name}"\nversion = "{dist.version}"\ndescription = "test"\n'
        f"{rp}dependencies = [{deps}]\n"
        + (f"\n[project.optional-dependencies]\n{optional}" if optional else "")
    )
    files = {
        "pyproject.toml": pyproject.encode(),
        "PKG-INFO": (dynamic_pkg_info(dist) if dynamic else metadata_text(dist)).encode(),
    }
    if dynamic:
        files["METADATA.in"] = metadata_text(dist).encode()
    sources = (
        dist.files
        if dist.files is not None
        else {
            f"{dist.module}/__init__.py": f'"""Test package."""\n__version__ = "{dist.version}"\n'
        }
    )
    for path, content in sources.items():
        files[path] = content.encode() if isinstance(content, str) else content
    if in_tree_backend:
        files["_rv_backend.py"] = IN_TREE_BACKEND.encode()
        if dist.entry_points:
            files["entry_points.txt"] = "".join(
                f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items()) + "\n"
                for group, entries in dist.entry_points.items()
            ).encode()
    return files


def write_project(
    dest: Path, dist: Dist, *, in_tree_backend: bool = False, dynamic: bool = False
) -> Path:
    """Write a source tree of ``dist`` into folder ``dest`` (see :func:`project_files`)."""
    for path, data in project_files(dist, in_tree_backend=in_tree_backend, dynamic=dynamic).items():
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return dest


def build_sdist(
    dest: Path,
    dist: Dist,
    *,
    in_tree_backend: bool = False,
    dynamic: bool = False,
    replace: Mapping[str, bytes | str] | None = None,
) -> Path:
    """Write ``dist`` as an sdist (setuptools-free ``pyproject.toml`` via flit_core).

    With ``in_tree_backend`` the sdist carries its own build backend
    (:data:`IN_TREE_BACKEND`), so building it needs no build requirements; ``dynamic``
    leaves its requirements to that backend (see :func:`project_files`). ``replace``
    overrides files of the source tree (a broken ``pyproject.toml``, say).
    """
    root = f"{dist.module}-{dist.version}"
    files = project_files(dist, in_tree_backend=in_tree_backend, dynamic=dynamic)
    for path, content in (replace or {}).items():
        files[path] = content.encode() if isinstance(content, str) else content
    members = {f"{root}/{path}": data for path, data in files.items()}
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / dist.sdist_name
    with tarfile.open(target, "w:gz") as archive:
        for path, data in members.items():
            entry = tarfile.TarInfo(path)
            entry.size = len(data)
            entry.mtime = 1577836800
            archive.addfile(entry, io.BytesIO(data))
    return target


def build_failing_sdist(dest: Path, dist: Dist) -> Path:
    """Write ``dist`` as an sdist whose in-tree backend fails when asked for metadata."""
    return build_sdist(dest, dist, in_tree_backend=True, dynamic=True, replace={"FAIL": ""})
