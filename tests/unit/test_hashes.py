"""The sha256 of a file on disk."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from resolvent.hashes import file_sha256

if TYPE_CHECKING:
    from pathlib import Path


def test_file_sha256(tmp_path: Path) -> None:
    path = tmp_path / "a.whl"
    path.write_bytes(b"wheel bytes")
    assert file_sha256(path) == hashlib.sha256(b"wheel bytes").hexdigest()
