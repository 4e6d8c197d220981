"""An exclusive lock on a file, held by one process at a time, freed when it dies.

Every install takes its environment's lock, warm ones too, and importing the
``filelock`` package costs more (tens of milliseconds) than a warm install's whole
linking step. On POSIX the lock is what ``filelock`` itself uses there, ``flock(2)`` on
an open descriptor, so the two interoperate and the kernel frees it when the process
ends, even by SIGKILL. Elsewhere ``filelock`` does the work.

Example::

    with exclusive_lock("/venv/.lock"):
        ...  # no other resolvent process changes this environment meanwhile
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["exclusive_lock"]


@contextlib.contextmanager
def exclusive_lock(path: str) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (created if missing); wait for it."""
    if sys.platform == "win32":  # pragma: no cover -- no flock(2)
        from filelock import FileLock  # noqa: PLC0415 -- only where it is needed

        with FileLock(path):
            yield
        return
    import fcntl  # noqa: PLC0415 -- POSIX only

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # blocks in the kernel; Ctrl-C still interrupts
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
