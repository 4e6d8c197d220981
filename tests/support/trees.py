"""What a folder holds, for comparing a tree before and after an operation."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["snapshot"]


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Map every path under ``root`` (relative) to its bytes, or None (folders and links)."""
    found: dict[str, bytes | None] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            is_data = path.is_file() and not path.is_symlink()
            found[str(path.relative_to(root))] = path.read_bytes() if is_data else None
    return found
