"""Private folders made and whole trees removed without importing tempfile or shutil.

Every install makes one folder (its staging folder, inside the environment) and
``resolvent venv`` one more; importing :mod:`tempfile` for that (with :mod:`random`,
:mod:`shutil`, :mod:`bz2`, :mod:`lzma`, :mod:`weakref`) cost a warm install ~3 ms and
``resolvent venv`` an eighth of its instructions. :mod:`shutil` is imported only when a
tree is removed, which a successful warm run does not do.
"""

# ruff: noqa: PTH102, PTH118 -- str paths, as the callers hold
from __future__ import annotations

import errno
import os

from resolvent import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["make_private_folder", "remove_tree"]


def make_private_folder(parent: Path | str, prefix: str) -> str:
    """Make a new folder ``parent/prefix<random>``, private (0o700), and return its path.

    The name has 48 random bits; a name taken already is skipped, as ``mkdtemp`` skips
    it. Other errors (a missing or read-only ``parent``) are raised.
    """
    base = os.fspath(parent)
    for _ in range(100):
        folder = os.path.join(base, f"{prefix}{os.urandom(6).hex()}")
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(errno.EEXIST, "no unused temporary name", base)


def remove_tree(path: Path | str) -> None:
    """Delete ``path`` and everything in it, ignoring errors (``shutil`` imported on use)."""
    import shutil  # noqa: PLC0415 -- see the module

    shutil.rmtree(path, ignore_errors=True)
