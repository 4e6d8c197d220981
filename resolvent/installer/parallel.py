"""How much work the installer runs at once: sized by the CPUs this process may use."""

from __future__ import annotations

import os

__all__ = ["usable_cpus"]


def usable_cpus() -> int:
    """Return how many CPUs this process may run on (at least 1).

    The affinity mask, not the machine's count: a container or ``taskset`` that grants two
    CPUs of sixty-four gets work sized for two.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity on macOS and Windows
        return max(1, os.cpu_count() or 1)
