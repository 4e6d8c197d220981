"""A target environment: the interpreter version and platform a resolution is for.

Markers (``sys_platform``, ``python_version``, ...) and the wheel tags a target accepts
are derived from here, so ``--python-version 3.11 --python-platform aarch64-apple-darwin``
resolves on any machine exactly as it would on that one. Platform names follow uv's
spelling (``x86_64-manylinux_2_28``, ``aarch64-apple-darwin``, ``x86_64-pc-windows-msvc``,
and the short ``linux``, ``macos``, ``windows``). This module is pure except
:func:`host_platform`, which reads the running machine.
"""

from __future__ import annotations

import platform as _platform
import re
import sys
from functools import cached_property
from typing import Final, Literal

from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms
from packaging.version import Version

from resolvent.errors import BadInputError
from resolvent.value_class import DataclassLike, Value

__all__ = [
    "Platform",
    "Target",
    "host_platform",
    "host_target",
    "parse_platform",
    "parse_python_version",
]

OperatingSystem = Literal["linux", "macos", "windows"]

_DEFAULT_GLIBC = (2, 28)
_DEFAULT_MUSL = (1, 2)
_DEFAULT_MACOS = (13, 0)
_ALIASES = {
    "linux": "x86_64-unknown-linux-gnu",
    "macos": "aarch64-apple-darwin",
    "windows": "x86_64-pc-windows-msvc",
}
_LEGACY_MANYLINUX = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}
_WINDOWS_PLATFORM = {"x86_64": "win_amd64", "i686": "win32", "aarch64": "win_arm64"}
_WINDOWS_MACHINE = {"x86_64": "AMD64", "i686": "x86", "aarch64": "ARM64"}


class Platform(Value):
    """An operating system, CPU architecture and C library (or macOS) version.

    >>> parse_platform("x86_64-manylinux2014").libc_version
    (2, 17)
    """

    __slots__ = ("arch", "libc", "libc_version", "macos_version", "os")

    def __init__(
        self,
        os: OperatingSystem,
        arch: str,
        libc: Literal["gnu", "musl"] | None = None,
        libc_version: tuple[int, int] = (0, 0),
        macos_version: tuple[int, int] = (0, 0),
    ) -> None:
        self.os: Final = os
        self.arch: Final = arch
        self.libc: Final = libc
        self.libc_version: Final = libc_version
        self.macos_version: Final = macos_version

    def platform_tags(self) -> list[str]:
        """Return the wheel platform tags this platform accepts, most specific first."""
        if self.os == "windows":
            return [_WINDOWS_PLATFORM.get(self.arch, f"win_{self.arch}")]
        if self.os == "macos":
            arch = "arm64" if self.arch == "aarch64" else self.arch
            return list(mac_platforms(self.macos_version, arch))
        if self.libc == "musl":
            major, minor = self.libc_version
            found = [f"musllinux_{major}_{m}_{self.arch}" for m in range(minor, -1, -1)]
            return [*found, f"linux_{self.arch}"]
        major, minor = self.libc_version
        floor = 17 if self.arch not in ("x86_64", "i686") else 5
        found = []
        for m in range(minor, floor - 1, -1):
            found.append(f"manylinux_{major}_{m}_{self.arch}")
            for legacy, (lmaj, lmin) in _LEGACY_MANYLINUX.items():
                if (lmaj, lmin) == (major, m):
                    found.append(f"{legacy}_{self.arch}")
        return [*found, f"linux_{self.arch}"]

    def markers(self) -> dict[str, str]:
        """Return the platform part of a PEP 508 marker environment."""
        if self.os == "windows":
            return {
                "sys_platform": "win32",
                "platform_system": "Windows",
                "os_name": "nt",
                "platform_machine": _WINDOWS_MACHINE.get(self.arch, self.arch),
            }
        if self.os == "macos":
            return {
                "sys_platform": "darwin",
                "platform_system": "Darwin",
                "os_name": "posix",
                "platform_machine": "arm64" if self.arch == "aarch64" else self.arch,
            }
        return {
            "sys_platform": "linux",
            "platform_system": "Linux",
            "os_name": "posix",
            "platform_machine": self.arch,
        }


#: The most digits a platform or Python version part may have. Tags are generated for
#: every glibc, musl, macOS or Python minor version up to the target's, so an unbounded
#: number (`manylinux_2_900000000`) would generate them for minutes.
_PART_DIGITS = 3
_MAX_PART = 10**_PART_DIGITS - 1
_PART = rf"\d{{1,{_PART_DIGITS}}}"
# Patterns compiled on first use (``re`` keeps them): only ``--python-platform`` is parsed,
# and every install imports this module.
_LINUX = (
    r"^(?P<arch>[a-z0-9_]+)-(?:"
    rf"(?P<many>manylinux_(?P<gmaj>{_PART})_(?P<gmin>{_PART}))"
    r"|(?P<legacy>manylinux(?:2014|2010|1))"
    rf"|(?P<musl>musllinux_(?P<mmaj>{_PART})_(?P<mmin>{_PART}))"
    r"|unknown-linux-(?P<libc>gnu|musl))$"
)
_MACOS = rf"^(?P<arch>[a-z0-9_]+)-apple-darwin(?P<ver>{_PART}(?:\.{_PART})?)?$"
_WINDOWS = r"^(?P<arch>[a-z0-9_]+)-pc-windows-msvc$"
_ARCH = {"amd64": "x86_64", "arm64": "aarch64", "x86": "i686"}


def parse_platform(text: str) -> Platform:
    """Parse a platform in uv's spelling.

    :raises BadInputError: for a name that is not one of the accepted forms.

    >>> parse_platform("macos").os
    'macos'
    """
    spelled = _ALIASES.get(text.strip().lower(), text.strip().lower())
    if match := re.match(_LINUX, spelled):
        arch = _ARCH.get(match["arch"], match["arch"])
        if match["many"]:
            return Platform("linux", arch, "gnu", (int(match["gmaj"]), int(match["gmin"])))
        if match["legacy"]:
            return Platform("linux", arch, "gnu", _LEGACY_MANYLINUX[match["legacy"]])
        if match["musl"]:
            return Platform("linux", arch, "musl", (int(match["mmaj"]), int(match["mmin"])))
        if match["libc"] == "musl":
            return Platform("linux", arch, "musl", _DEFAULT_MUSL)
        return Platform("linux", arch, "gnu", _DEFAULT_GLIBC)
    if match := re.match(_MACOS, spelled):
        version = _DEFAULT_MACOS
        if match["ver"]:
            parts = [int(p) for p in match["ver"].split(".")]
            version = (parts[0], parts[1] if len(parts) > 1 else 0)
        return Platform("macos", _ARCH.get(match["arch"], match["arch"]), macos_version=version)
    if match := re.match(_WINDOWS, spelled):
        return Platform("windows", _ARCH.get(match["arch"], match["arch"]))
    raise BadInputError(
        f"unknown Python platform `{text}`",
        hint="use a name like `x86_64-manylinux_2_28`, `aarch64-apple-darwin`, "
        "`x86_64-pc-windows-msvc`, `linux`, `macos` or `windows`",
    )


def parse_python_version(text: str) -> Version:
    """Parse a target Python version such as ``3.12`` or ``3.9.21``.

    :raises BadInputError: when it is not a version of the form ``X.Y`` or ``X.Y.Z``.
    """
    try:
        version = Version(text.strip())
    except ValueError:  # InvalidVersion, or a number longer than int() reads (4,300 digits)
        version = None
    # Compatible tags are generated for every minor version up to the target's: a
    # bound keeps `3.900000000` from generating (and holding) hundreds of millions.
    if (
        version is None
        or len(version.release) not in (2, 3)
        or not 2 <= version.release[0] <= _MAX_PART
        or max(version.release[1:]) > _MAX_PART
    ):
        raise BadInputError(
            f"invalid Python version `{text}`", hint="write it as `3.12` or `3.12.1`"
        )
    return version


class Target(Value, DataclassLike):
    """What a resolution is for: a CPython version and a platform.

    >>> t = Target(Version("3.12"), parse_platform("x86_64-manylinux_2_28"))
    >>> t.markers()["python_full_version"]
    '3.12.0'

    A :class:`~resolvent.value_class.Value`, not a ``@dataclass``: equal, hashed and
    shown by its two fields as ``@dataclass(frozen=True)`` made it, without the methods
    a dataclass compiles from source text when its module is imported (every install
    imports it); ``dataclasses.replace`` and ``fields`` work on it, through
    :class:`~resolvent.value_class.DataclassFields`. The tag ranks, a cache, are no
    field (they were one left out of equality and ``repr``).
    """

    python_version: Final[Version]
    platform: Final[Platform]

    def __init__(self, python_version: Version, platform: Platform) -> None:
        self.python_version = python_version
        self.platform = platform
        self._tag_rank: dict[Tag, int] = {}

    @property
    def python_full_version(self) -> str:
        """Return ``X.Y.Z`` (``3.12`` reads as ``3.12.0``, as markers require)."""
        release = (*self.python_version.release, 0, 0)[:3]
        return ".".join(str(p) for p in release)

    def markers(self) -> dict[str, str]:
        """Return the full PEP 508 marker environment of the target."""
        major, minor = self.python_version.release[:2]
        full = self.python_full_version
        return {
            **self.platform.markers(),
            "python_version": f"{major}.{minor}",
            "python_full_version": full,
            "implementation_name": "cpython",
            "implementation_version": full,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_version": "",
        }

    @cached_property
    def tags(self) -> tuple[Tag, ...]:
        """Return the wheel tags the target accepts, most preferred first."""
        version = tuple(self.python_version.release[:2])
        platforms = self.platform.platform_tags()
        interpreter = f"cp{version[0]}{version[1]}"
        found = [
            *cpython_tags(version, None, platforms),
            *compatible_tags(version, interpreter, platforms),
        ]
        return tuple(dict.fromkeys(found))

    def tag_rank(self, tag: Tag) -> int | None:
        """Return the preference rank of a tag (0 best), or None if not accepted."""
        if not self._tag_rank:
            self._tag_rank.update((t, i) for i, t in enumerate(self.tags))
        return self._tag_rank.get(tag)

    def accepts(self, wheel_tags: frozenset[Tag]) -> bool:
        """Return whether a wheel with these tags installs on the target."""
        return any(self.tag_rank(tag) is not None for tag in wheel_tags)


def host_platform() -> Platform:
    """Return the platform of the running machine (reads ``platform`` and ``libc``)."""
    arch = _ARCH.get(_platform.machine().lower(), _platform.machine().lower())
    if sys.platform == "darwin":
        release = _platform.mac_ver()[0] or "13.0"
        parts = [int(p) for p in release.split(".")[:2]]
        return Platform("macos", arch, macos_version=(parts[0], parts[1] if len(parts) > 1 else 0))
    if sys.platform == "win32":
        return Platform("windows", arch)
    libc, version = _platform.libc_ver()
    if libc == "glibc" and version:
        major, minor = (int(p) for p in version.split(".")[:2])
        return Platform("linux", arch, "gnu", (major, minor))
    return Platform("linux", arch, "musl", _DEFAULT_MUSL)


def host_target() -> Target:
    """Return the target of the running interpreter on the running machine."""
    info = sys.version_info
    return Target(Version(f"{info.major}.{info.minor}.{info.micro}"), host_platform())
