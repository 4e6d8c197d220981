"""The rattler driver turns wheels into a conda channel and installs from it, with rattler.

It runs as a script under the conda row's own tool environment (py-rattler, packaging
and zstandard installed there, nothing from the harness imported), in two modes:

``channel WHEELS CHANNEL``
    Convert every wheel in ``WHEELS`` that this interpreter can install into a conda
    package (the ``.conda`` format: a zip of ``metadata.json`` and two zstd tarballs,
    ``info-*.tar.zst`` with ``info/index.json``, ``info/paths.json`` and ``info/files``,
    and ``pkg-*.tar.zst`` with the files), then index the channel with
    ``rattler.index.index_fs``. Pure wheels become ``noarch: generic`` packages and
    binary wheels packages of this machine's subdir (``linux-64``); the files land at
    their installed paths (``lib/pythonX.Y/site-packages/...``, ``bin/...``). Console
    scripts are generated with conda's prefix placeholder in the shebang, as conda-build
    writes them. ``Requires-Dist`` becomes ``depends``: markers evaluated for this
    interpreter, extras flattened into the requiring package, PEP 440 specifiers
    rewritten as conda version specs (checked with rattler against the versions in the
    channel; a constraint rattler would read differently is dropped, and said so).
    A local version (``2.13.0+cpu``) becomes the build string, as conda-forge does.

``install --channel URL --prefix PREFIX --cache CACHE SPEC...``
    ``rattler.solve`` the specs against the channel (repodata cached under CACHE) and
    ``rattler.install`` the records into PREFIX with the package cache under CACHE. This
    is the command the harness times.
"""

from __future__ import annotations

import argparse
import asyncio
import email.parser
import hashlib
import importlib
import io
import json
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.tags import sys_tags
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

__all__ = ["conda_spec", "main"]

#: conda-build's prefix placeholder, replaced by the target prefix at link time.
PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"
_ZSTD_LEVEL = 3  # conda defaults to 19; 3 builds fast and reads back as fast


def _rattler() -> Any:
    return importlib.import_module("rattler")


# --------------------------------------------------------------------------- specs


def _bump(version: Version) -> str:
    """Return the upper bound of ``~=version`` (drop the last release part, bump the next)."""
    release = list(version.release[:-1])
    release[-1] += 1
    return ".".join(str(part) for part in release)


def conda_spec(specifier: SpecifierSet) -> str:
    """Rewrite a PEP 440 specifier set as a conda version spec (``""``: any version).

    >>> conda_spec(SpecifierSet(">=1.4,~=1.4.2,!=1.4.5"))
    '!=1.4.5,>=1.4,>=1.4.2,<1.5'
    """
    parts: list[str] = []
    for item in sorted(specifier, key=str):
        operator, version = item.operator, item.version
        if operator == "===":
            continue
        if operator == "~=":
            parsed = Version(version)
            if len(parsed.release) >= 2:
                parts += [f">={parsed.public}", f"<{_bump(parsed)}"]
            continue
        if version.endswith(".*"):
            if operator == "==":
                parts.append(version)
            continue  # "!=X.*" has no conda spelling worth its risk
        public = Version(version).public
        parts.append(f"{operator}{public}")
    return ",".join(parts)


# --------------------------------------------------------------------------- wheels


@dataclass(slots=True)
class _Wheel:
    path: Path
    name: str
    version: Version
    metadata: Any
    pure: bool
    depends: list[str] = field(default_factory=list)


def _metadata(archive: zipfile.ZipFile) -> tuple[str, Any, bool]:
    infos = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/WHEEL")]
    dist_info = infos[0].split("/", 1)[0]
    parser = email.parser.BytesParser()
    metadata = parser.parsebytes(archive.read(f"{dist_info}/METADATA"), headersonly=True)
    wheel = parser.parsebytes(archive.read(f"{dist_info}/WHEEL"), headersonly=True)
    pure = str(wheel.get("Root-Is-Purelib", "false")).strip().lower() == "true"
    return dist_info, metadata, pure


def _requirements(metadata: Any, extras: frozenset[str]) -> list[Requirement]:
    """Return the dependencies of a wheel (with ``extras``) on this interpreter."""
    env = {key: str(value) for key, value in default_environment().items()}
    found: list[Requirement] = []
    for line in metadata.get_all("Requires-Dist") or []:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        marker = requirement.marker
        if marker is None or any(
            marker.evaluate({**env, "extra": extra}) for extra in ("", *extras)
        ):
            requirement.marker = None
            found.append(requirement)
    return found


class _Converter:
    """Converts a folder of wheels into conda packages with consistent dependencies."""

    def __init__(self, wheels: list[_Wheel], channel: Path) -> None:
        self.channel = channel
        self.by_name: dict[str, list[_Wheel]] = {}
        for wheel in wheels:
            self.by_name.setdefault(wheel.name, []).append(wheel)
        self.warnings: list[str] = []
        self.python = f"{sys.version_info[0]}.{sys.version_info[1]}"
        self.subdir = str(_rattler().Platform.current())

    def flat_depends(self, requirement: Requirement, seen: set[tuple[str, str]]) -> list[str]:
        """Conda specs for ``requirement``: the package, and the deps its extras add."""
        name = canonicalize_name(requirement.name)
        specs = [f"{name} {spec}".strip() for spec in [self._checked(name, requirement)]]
        candidates = self.by_name.get(name, [])
        for extra in sorted(requirement.extras):
            if (name, extra) in seen or not candidates:
                continue
            seen.add((name, extra))
            newest = max(candidates, key=lambda w: w.version)
            base = {str(r) for r in _requirements(newest.metadata, frozenset())}
            for dependency in _requirements(newest.metadata, frozenset({extra})):
                if str(dependency) not in base:
                    specs += self.flat_depends(dependency, seen)
        return specs

    def _checked(self, name: str, requirement: Requirement) -> str:
        spec = conda_spec(requirement.specifier)
        if not spec:
            return ""
        rattler = _rattler()
        versions = [w.version for w in self.by_name.get(name, [])]
        wanted = [v for v in versions if requirement.specifier.contains(v, prereleases=True)]
        try:
            parsed = rattler.VersionSpec(spec)
            agree = all(parsed.matches(rattler.Version(v.public)) for v in wanted)
        except Exception as error:  # noqa: BLE001 - any parse failure means "drop it"
            agree = False
            self.warnings.append(f"{name}: cannot express `{requirement.specifier}`: {error}")
        if not agree:
            self.warnings.append(f"{name}: dropped `{requirement.specifier}` (read differently)")
            return ""
        return spec

    def convert(self, wheel: _Wheel) -> Path:
        """Write ``wheel`` as a ``.conda`` package; return its path."""
        zstandard = importlib.import_module("zstandard")
        files = self._files(wheel)
        depends: list[str] = []
        seen: set[tuple[str, str]] = set()
        for requirement in _requirements(wheel.metadata, frozenset()):
            for spec in self.flat_depends(requirement, seen):
                if spec not in depends:
                    depends.append(spec)
        local = wheel.version.local
        build = (local.replace(".", "_") + "_" if local else "") + (
            "0" if wheel.pure else f"py{self.python.replace('.', '')}_0"
        )
        version = wheel.version.public
        subdir = "noarch" if wheel.pure else self.subdir
        index: dict[str, Any] = {
            "name": wheel.name,
            "version": version,
            "build": build,
            "build_number": 0,
            "depends": depends,
            "license": str(wheel.metadata.get("License-Expression") or ""),
            "subdir": subdir,
            "timestamp": int(time.time() * 1000),
        }
        if wheel.pure:
            index["noarch"] = "generic"
        else:
            platform, _, arch = self.subdir.partition("-")
            index["platform"] = platform
            index["arch"] = {"64": "x86_64", "aarch64": "aarch64"}.get(arch, arch)
        paths = []
        for path, (data, placeholder, _) in sorted(files.items()):
            entry: dict[str, Any] = {
                "_path": path,
                "path_type": "hardlink",
                "sha256": hashlib.sha256(data).hexdigest(),
                "size_in_bytes": len(data),
            }
            if placeholder:
                entry["prefix_placeholder"] = PLACEHOLDER
                entry["file_mode"] = "text"
            paths.append(entry)
        info = {
            "info/index.json": json.dumps(index, indent=2).encode(),
            "info/paths.json": json.dumps({"paths": paths, "paths_version": 1}).encode(),
            "info/files": "".join(f"{p}\n" for p in sorted(files)).encode(),
        }
        stem = f"{wheel.name}-{version}-{build}"
        target = self.channel / subdir / f"{stem}.conda"
        target.parent.mkdir(parents=True, exist_ok=True)
        compressor = zstandard.ZstdCompressor(level=_ZSTD_LEVEL)
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr("metadata.json", json.dumps({"conda_pkg_format_version": 2}))
            pkg = {p: (d, mode) for p, (d, _, mode) in files.items()}
            archive.writestr(f"pkg-{stem}.tar.zst", compressor.compress(_tar(pkg)))
            meta = {p: (d, 0o644) for p, d in info.items()}
            archive.writestr(f"info-{stem}.tar.zst", compressor.compress(_tar(meta)))
        return target

    def _files(self, wheel: _Wheel) -> dict[str, tuple[bytes, bool, int]]:
        """Return installed path -> (content, has a prefix placeholder, mode)."""
        site = f"lib/python{self.python}/site-packages"
        files: dict[str, tuple[bytes, bool, int]] = {}
        with zipfile.ZipFile(wheel.path) as archive:
            dist_info, _, _ = _metadata(archive)
            data_dir = dist_info.removesuffix(".dist-info") + ".data"
            for info in archive.infolist():
                if info.is_dir():
                    continue
                content = archive.read(info)
                mode = 0o755 if (info.external_attr >> 16) & 0o111 else 0o644
                first, _, rest = info.filename.partition("/")
                if first == data_dir:
                    kind, _, inner = rest.partition("/")
                    if kind in {"purelib", "platlib"}:
                        files[f"{site}/{inner}"] = (content, False, mode)
                    elif kind == "scripts":
                        files[f"bin/{inner}"] = _script(content)
                    elif kind == "headers":
                        files[f"include/python{self.python}/{wheel.name}/{inner}"] = (
                            content,
                            False,
                            mode,
                        )
                    else:
                        files[inner] = (content, False, mode)
                    continue
                files[f"{site}/{info.filename}"] = (content, False, mode)
            files[f"{site}/{dist_info}/INSTALLER"] = (b"conda\n", False, 0o644)
            entry_points = f"{dist_info}/entry_points.txt"
            if entry_points in archive.namelist():
                text = archive.read(entry_points).decode()
                for name, value in _console_scripts(text):
                    files[f"bin/{name}"] = (_launcher(value), True, 0o755)
        return files


def _script(content: bytes) -> tuple[bytes, bool, int]:
    """Rewrite a wheel's ``scripts`` file: ``#!python`` points at the prefix's Python."""
    if content.startswith((b"#!python", b"#! python")):
        rest = content.split(b"\n", 1)[1] if b"\n" in content else b""
        return f"#!{PLACEHOLDER}/bin/python\n".encode() + rest, True, 0o755
    return content, False, 0o755


def _console_scripts(text: str) -> list[tuple[str, str]]:
    scripts: list[tuple[str, str]] = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif "=" in line and section in {"console_scripts", "gui_scripts"}:
            name, _, value = line.partition("=")
            scripts.append((name.strip(), value.strip()))
    return scripts


def _launcher(value: str) -> bytes:
    module, _, attribute = value.partition(":")
    attribute = attribute.split("[", 1)[0].strip()
    top = attribute.split(".", 1)[0]
    return (
        f"#!{PLACEHOLDER}/bin/python\n"
        "# -*- coding: utf-8 -*-\n"
        "import re\nimport sys\n"
        f"from {module.strip()} import {top}\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        f"    sys.exit({attribute}())\n"
    ).encode()


def _tar(files: dict[str, tuple[bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path, (data, mode) in sorted(files.items()):
            member = tarfile.TarInfo(path)
            member.size = len(data)
            member.mode = mode
            member.mtime = 0
            archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


def build_channel(wheels_dir: Path, channel: Path) -> list[str]:
    """Convert the installable wheels of ``wheels_dir`` into ``channel`` and index it."""
    supported = set(sys_tags())
    wheels: list[_Wheel] = []
    for path in sorted(wheels_dir.glob("*.whl")):
        name, version, _, tags = parse_wheel_filename(path.name)
        if not tags & supported:
            continue
        with zipfile.ZipFile(path) as archive:
            _, metadata, pure = _metadata(archive)
        pure = pure and all(tag.platform == "any" for tag in tags)
        wheels.append(_Wheel(path, name, version, metadata, pure))
    converter = _Converter(wheels, channel)
    (channel / "noarch").mkdir(parents=True, exist_ok=True)
    (channel / converter.subdir).mkdir(parents=True, exist_ok=True)
    for wheel in wheels:
        converter.convert(wheel)
    rattler = _rattler()
    asyncio.run(rattler.index.index_fs(channel, write_zst=False, write_shards=False, force=True))
    return converter.warnings


def conda_specs(lines: list[str]) -> list[str]:
    """Turn the stack's PEP 508 lines into match specs (extras become their deps)."""
    env = {key: str(value) for key, value in default_environment().items()}
    specs: list[str] = []
    for line in lines:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate(env):
            continue
        spec = conda_spec(requirement.specifier)
        specs.append(f"{canonicalize_name(requirement.name)} {spec}".strip())
    return specs


async def _install(channel: str, prefix: Path, cache: Path, lines: list[str]) -> int:
    rattler = _rattler()
    gateway = rattler.Gateway(cache_dir=cache / "repodata")
    records = await rattler.solve(sources=[channel], specs=conda_specs(lines), gateway=gateway)
    await rattler.install(
        records, target_prefix=prefix, cache_dir=cache / "pkgs", show_progress=False
    )
    print(f"installed {len(records)} packages into {prefix}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``channel`` or ``install`` (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="rattler_driver")
    commands = parser.add_subparsers(dest="command", required=True)
    channel = commands.add_parser("channel")
    channel.add_argument("wheels", type=Path)
    channel.add_argument("channel", type=Path)
    install = commands.add_parser("install")
    install.add_argument("--channel", required=True)
    install.add_argument("--prefix", type=Path, required=True)
    install.add_argument("--cache", type=Path, required=True)
    install.add_argument("requirements", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "channel":
        for warning in build_channel(args.wheels, args.channel):
            print(f"warning: {warning}")
        return 0
    return asyncio.run(_install(args.channel, args.prefix, args.cache, args.requirements))


if __name__ == "__main__":
    sys.exit(main())
