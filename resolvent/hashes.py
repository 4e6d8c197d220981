"""The sha256 of a file on disk: what indexes, RECORD files and `--hash` options name."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["file_sha256"]


def file_sha256(path: Path | str) -> str:
    """Return the hex sha256 of the file at ``path``, read in blocks (wheels can be GBs)."""
    with open(path, "rb") as stream:  # noqa: PTH123 - str paths on hot paths
        return hashlib.file_digest(stream, "sha256").hexdigest()
