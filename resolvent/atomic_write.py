"""Writing a file whole or not at all: a temporary file beside it, then one rename.

Caches are read by concurrent processes and survive crashes, so no reader may ever see
half a file: every cache file is written under a temporary name in the same folder and
then renamed over the target (``os.replace`` is atomic on one file system). A failed
write removes its temporary file.
"""

# Callers pass str paths as often as Path ones (the interpreter records are str paths);
# os functions take both without building Path objects:
# ruff: noqa: PTH100, PTH105, PTH108, PTH120
from __future__ import annotations

import contextlib
import os

__all__ = ["write_atomically"]


def write_atomically(
    target: str | os.PathLike[str],
    data: bytes,
    *,
    prefix: str = ".tmp-",
    scratch: str | os.PathLike[str] | None = None,
) -> None:
    """Write ``data`` to ``target`` by atomic replacement.

    :param prefix: the temporary file's name prefix (``.tmp-`` files are what
        ``cache prune`` removes when their writer is gone).
    :param scratch: a folder on the same file system for the temporary file (default:
        the target's own folder, which must exist).
    """
    import tempfile  # noqa: PLC0415 - costly (random, shutil); warm runs write nothing

    folder = scratch if scratch is not None else os.path.dirname(os.path.abspath(target))
    fd, temp = tempfile.mkstemp(prefix=prefix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
