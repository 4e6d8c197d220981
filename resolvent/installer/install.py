"""Installing is moving a validated wheel's files into a scheme and recording what was placed.

:func:`install` only orchestrates, as pypa/installer's core does: the source (an
unpacked wheel) knows the archive, the destination knows the disk. The wheel is checked
whole before the destination is touched, then every file is planned (linked from the
cache, or written new when it must change: rewritten ``#!python`` scripts, launchers,
``INSTALLER``, ``RECORD``), and the destination applies the plan at once.

Example::

    source = UnpackedWheel(cache.unpack_wheel(wheel, sha256))
    install(source, venv.destination(), requested=True)
    uninstall(venv.site_packages, "demo")
"""

# Hot paths use str paths and os calls, as DESIGN.md asks:
# ruff: noqa: PTH100, PTH113, PTH118, PTH120
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from resolvent.errors import InstallError
from resolvent.installer.destination import (
    Scheme,
    SchemeDestination,
    find_installed,
    installed_files,
    os_failure,
)
from resolvent.installer.record import Hash, RecordEntry, serialize_record
from resolvent.installer.scripts import launcher_text, rewrite_shebang
from resolvent.installer.wheel import UnpackedWheel
from resolvent.value_class import Value

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from resolvent.installer.archive import ZipLimits
    from resolvent.installer.cache import Cache
    from resolvent.installer.destination import InstalledFiles, Journal
    from resolvent.installer.link import LinkMode
    from resolvent.installer.wheel import WheelSource
    from resolvent.installer.wheel_info import DataKey

__all__ = [
    "InstalledDistribution",
    "compile_files",
    "install",
    "install_wheel",
    "remove_installed",
    "uninstall",
]


class InstalledDistribution(Value):
    """What an install placed: the project, its ``.dist-info`` and the link mode used."""

    __slots__ = ("dist_info", "files", "link_mode", "name", "version")

    def __init__(
        self, name: str, version: str, dist_info: Path, link_mode: LinkMode, files: int
    ) -> None:
        self.name: Final = name
        self.version: Final = version
        self.dist_info: Final = dist_info
        self.link_mode: Final = link_mode
        self.files: Final = files


def install(
    source: WheelSource,
    destination: SchemeDestination,
    *,
    requested: bool = False,
    direct_url: Mapping[str, object] | None = None,
    installer: str = "resolvent",
    compile_bytecode: bool = False,
) -> InstalledDistribution:
    """Install ``source`` into ``destination``; on error the environment is unchanged.

    An installed version of the same project is replaced in the same transaction. (With
    a destination made with a :class:`~resolvent.installer.destination.Journal`, "on
    error" means once the caller rolled the journal back.) Failures of the file system
    raise :class:`InstallError`, as every other failure does.

    :param requested: write ``REQUESTED`` (the user asked for this project by name).
    :param direct_url: the PEP 610 ``direct_url.json`` contents, when installed from a URL.
    :param installer: the ``INSTALLER`` contents.
    :param compile_bytecode: compile the new ``.py`` files with the destination's
        interpreter, in one batch, after the install.

    Example::

        install(UnpackedWheel(entry), venv.destination(), requested=True)
    """
    manifest = source.manifest()  # validates the tree unless the cache vouched for it
    info = manifest.info
    root_key: Literal["purelib", "platlib"] = "purelib" if info.root_is_purelib else "platlib"
    scheme = destination.scheme
    previous = find_installed(scheme.purelib, info.name)
    if previous is None and scheme.platlib != scheme.purelib:  # one scan where they are one
        previous = find_installed(scheme.platlib, info.name)
    old_files = installed_files(previous, scheme.root).paths if previous else ()
    source_root = os.fspath(source.root)
    root_folder = os.fspath(scheme.path(root_key))

    destination.begin(root_key)
    try:
        destination.remove(old_files)
        # The bulk of the wheel: one tree of links, with RECORD rows computed once.
        destination.link_tree(root_key, source_root, manifest.dirs, manifest.files, manifest.links)
        python_files = (
            [
                os.path.join(root_folder, *name.split("/"))
                for name in manifest.files
                if name.endswith(".py")
            ]
            if compile_bytecode
            else []
        )
        entries: list[RecordEntry] = []
        data_prefix = info.data_dir + "/"
        for name, is_link, digest, size in manifest.data:
            path = os.path.join(source_root, *name.split("/"))
            data_key, _, target = name[len(data_prefix) :].partition("/")
            key: DataKey = data_key  # type: ignore[assignment]  # checked when unpacked
            if key == "headers":
                target = f"{info.name}/{target}"
            elif key == "scripts" and not is_link:
                with open(path, "rb") as stream:  # noqa: PTH123
                    rewritten = rewrite_shebang(stream.read(), destination.python)
                if rewritten is not None:
                    entries.append(destination.write(key, target, rewritten, executable=True))
                    continue
            destination.link(key, target, path, is_symlink=is_link)
            entries.append(
                RecordEntry(
                    destination.record_path(key, target),
                    Hash.parse(digest) if digest else None,
                    size if size >= 0 else None,
                )
            )
            if key in {"purelib", "platlib"} and target.endswith(".py") and compile_bytecode:
                python_files.append(os.path.join(scheme.path(key), *target.split("/")))
        for entry_point in manifest.entry_points:
            text = launcher_text(destination.python, entry_point.module, entry_point.attr)
            entries.append(
                destination.write("scripts", entry_point.name, text.encode(), executable=True)
            )
        own: list[tuple[str, bytes]] = [("INSTALLER", f"{installer}\n".encode())]
        if requested:
            own.append(("REQUESTED", b""))
        if direct_url is not None:
            own.append(("direct_url.json", json.dumps(dict(direct_url), sort_keys=True).encode()))
        entries.extend(
            destination.write(root_key, f"{info.dist_info}/{filename}", data)
            for filename, data in own
        )
        record_name = f"{info.dist_info}/RECORD"
        entries.append(RecordEntry(destination.record_path(root_key, record_name)))
        # RECORD is placed last: until it is there, the install is not an install.
        destination.place(
            root_key, record_name, manifest.record.encode("utf-8") + serialize_record(entries)
        )
        mode = destination.commit()
    except OSError as error:  # staging, or reading the cache (commit raises its own)
        destination.abort()
        raise os_failure(error, "install") from None
    except BaseException:
        destination.abort()
        raise
    if compile_bytecode:
        compile_files(destination.python, python_files)
    return InstalledDistribution(
        info.name,
        info.version,
        scheme.path(root_key) / info.dist_info,
        mode,
        len(manifest.files) + len(manifest.links) + len(entries),
    )


def install_wheel(
    wheel: Path,
    destination: SchemeDestination,
    *,
    cache: Cache | None = None,
    sha256: str | None = None,
    limits: ZipLimits | None = None,
    requested: bool = False,
    direct_url: Mapping[str, object] | None = None,
    compile_bytecode: bool = False,
) -> InstalledDistribution:
    """Install a wheel file: unpack it (into ``cache`` when given) then :func:`install`.

    Without a cache the wheel is unpacked into a temporary folder and linked from there
    (the links outlive the folder; across devices the files are copied).
    """
    if cache is not None:
        tree = cache.unpack_wheel(wheel, sha256, limits=limits)
        return install(
            UnpackedWheel(tree, label=wheel.name, manifest=cache.manifest(tree)),
            destination,
            requested=requested,
            direct_url=direct_url,
            compile_bytecode=compile_bytecode,
        )
    # Only unpacking needs the archive reader (a warm install links from the cache).
    import tempfile  # noqa: PLC0415 -- as the archive reader

    from resolvent.installer.archive import WheelArchive  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="resolvent-wheel-") as folder:
        tree = Path(folder) / "wheel"
        archive = WheelArchive(wheel, limits=limits)
        archive.extract(tree)
        return install(
            UnpackedWheel(tree, label=wheel.name, manifest=archive.manifest()),
            destination,
            requested=requested,
            direct_url=direct_url,
            compile_bytecode=compile_bytecode,
        )


def uninstall(site_packages: Path, name: str, *, root: Path | None = None) -> list[str]:
    """Remove project ``name`` from ``site_packages`` by its RECORD; return removed paths.

    ``root`` bounds removals (default: the environment holding ``site_packages``, found
    by its ``pyvenv.cfg``, else its ``prefix``); a RECORD naming a path outside it is
    refused before anything is removed.

    Example::

        uninstall(venv.site_packages, "demo")  # ['/venv/lib/.../demo/__init__.py', ...]
    """
    dist_info = find_installed(site_packages, name)
    if dist_info is None:
        raise InstallError(f"`{name}` is not installed in `{site_packages}`")
    boundary = root or _environment_root(site_packages)
    files = installed_files(dist_info, boundary)
    scheme = Scheme(site_packages, site_packages, site_packages, site_packages, boundary, boundary)
    remove_installed(files, scheme)
    return list(files.paths)


def remove_installed(
    files: InstalledFiles, scheme: Scheme, *, journal: Journal | None = None
) -> None:
    """Remove the files of an installed distribution (from :func:`installed_files`) at once.

    Reading RECORD (``installed_files``) is kept apart from removing, so a caller that
    removes several distributions can read every RECORD before it removes anything.
    With ``journal``, the removal is one of the journal's transactions (see
    :class:`~resolvent.installer.destination.Journal`).
    """
    destination = SchemeDestination(scheme, python=sys.executable, journal=journal)
    destination.begin("purelib")
    destination.remove(files.paths)
    destination.commit()


def _environment_root(site_packages: Path) -> Path:
    folder = os.path.abspath(site_packages)
    while True:
        if os.path.isfile(os.path.join(folder, "pyvenv.cfg")):
            return Path(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            # lib/pythonX.Y/site-packages -> the prefix three levels up.
            return Path(os.path.abspath(site_packages)).parent.parent.parent
        folder = parent


def compile_files(python: str, files: Sequence[str]) -> bool:
    """Compile ``files`` to bytecode with ``python`` in one ``compileall`` run.

    Returns whether every file compiled; a file that does not (Python 2 syntax in an old
    wheel) is left without bytecode, as pip and uv do.
    """
    if not files:
        return True
    import subprocess  # noqa: PLC0415 -- only compiling runs a program (a warm install does not)

    completed = subprocess.run(  # noqa: S603 -- our own interpreter, fixed arguments
        [python, "-m", "compileall", "-q", "-q", "-j", "0", "-i", "-"],
        input="\n".join(files),
        text=True,
        capture_output=True,
        check=False,
    )
    return completed.returncode == 0
