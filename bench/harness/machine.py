"""A machine description is what a benchmark record says about the computer it ran on.

Timings mean little without the machine: the record names the CPU model, the number of
cores, the memory, the file system type of the work folder (links and copies cost very
different amounts on overlayfs, ext4, tmpfs or a network disk) and the Python version
that every tool's environment is built for. Everything is read from ``/proc`` and the
standard library, so it works without extra dependencies; a field that cannot be read
is ``None``.

Example::

    >>> describe(Path("bench/.work"))["cores"]  # doctest: +SKIP
    2
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any

__all__ = ["base_python", "cpu_model", "describe", "file_system", "memory_bytes"]


def cpu_model() -> str | None:
    """Return the CPU model name (``/proc/cpuinfo`` on Linux, else :mod:`platform`)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in {"model name", "Model", "Hardware"} and value.strip():
            return value.strip()
    return platform.processor() or None


def memory_bytes() -> int | None:
    """Return the total memory in bytes (``MemTotal`` from ``/proc/meminfo``)."""
    try:
        text = Path("/proc/meminfo").read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            kib = line.split()[1]
            return int(kib) * 1024
    return None


def file_system(path: Path) -> str | None:
    """Return the type of the file system holding ``path`` (the longest mount prefix)."""
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    target = os.path.realpath(path)
    best: tuple[int, str] | None = None
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        mount_point = fields[1].replace("\\040", " ")
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and (best is None or len(mount_point) > best[0]):
            best = (len(mount_point), fields[2])
    return best[1] if best else None


def base_python() -> Path:
    """Return the interpreter every tool builds environments for: the base of this one.

    The harness runs inside the project's virtual environment; the tools' environments
    are made from the interpreter that environment was made from.
    """
    base = getattr(sys, "_base_executable", None) or sys.executable
    return Path(base)


def describe(work: Path) -> dict[str, Any]:
    """Return the machine description stored in a record's ``machine`` field."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_bytes": memory_bytes(),
        "file_system": file_system(work),
        "os": f"{platform.system()} {platform.release()}",
        "arch": platform.machine(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
    }
