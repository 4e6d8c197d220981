"""The sha256 of a file on disk, and of bytes (names hashed without importing hashlib)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from typing import TYPE_CHECKING

from resolvent.hashes import file_sha256

if TYPE_CHECKING:
    from pathlib import Path


def test_file_sha256(tmp_path: Path) -> None:
    path = tmp_path / "a.whl"
    path.write_bytes(b"wheel bytes")
    assert file_sha256(path) == hashlib.sha256(b"wheel bytes").hexdigest()


def test_sha256_hex_hashes_names_without_importing_hashlib() -> None:
    code = (
        "import sys\n"
        "from resolvent.hashes import sha256_hex\n"
        "digest = sha256_hex(b'name')\n"
        "print(digest, 'hashlib' in sys.modules)\n"
        "sha256_hex(bytes(100_000))\n"
        "print('hashlib' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    first, second = done.stdout.splitlines()
    assert first == f"{hashlib.sha256(b'name').hexdigest()} False"
    assert second == "True"  # large data: OpenSSL's digest, the fast one
