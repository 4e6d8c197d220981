"""A wheelhouse's digests are remembered, and forgotten as soon as a file changes.

Hashing a large local wheel on every warm run cost more than the rest of a resolution;
the remembered digest must never outlive the file content it describes.
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from resolvent import hashes
from resolvent.index import find_links
from resolvent.index.find_links import FindLinks, local_file
from resolvent.index.httpcache import HttpCache
from tests.support.dists import Dist, build_wheel

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _hashes(monkeypatch: pytest.MonkeyPatch, *, delay: float = 0.0) -> list[str]:
    """Record the files the module hashes itself (each hash taking ``delay`` seconds)."""
    hashed: list[str] = []
    real = hashes.file_sha256

    def counting(path: Path | str) -> str:
        hashed.append(str(path))
        if delay:
            time.sleep(delay)  # a large wheel read from disk
        return real(path)

    monkeypatch.setattr(find_links, "file_sha256", counting)
    # The test's files were written just now; treat them as settled.
    monkeypatch.setattr(find_links, "_SETTLED_NS", 0)
    return hashed


def test_a_file_changed_just_now_is_not_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "wheels"
    build_wheel(folder, Dist("demo", "1.0"))
    cache = HttpCache(tmp_path / "cache")
    hashed = _hashes(monkeypatch)
    monkeypatch.setattr(find_links, "_SETTLED_NS", 60_000_000_000)
    name = canonicalize_name("demo")
    FindLinks((str(folder),), cache).local_files(name)
    FindLinks((str(folder),), cache).local_files(name)
    assert len(hashed) == 2  # a second write within the stamp's tick could go unseen


def test_a_warm_run_reads_the_digest_instead_of_hashing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "wheels"
    wheel = build_wheel(folder, Dist("demo", "1.0"))
    cache = HttpCache(tmp_path / "cache")
    hashed = _hashes(monkeypatch)
    name = canonicalize_name("demo")
    first = FindLinks((str(folder),), cache).local_files(name)
    second = FindLinks((str(folder),), cache).local_files(name)
    assert [f.sha256 for f in first] == [f.sha256 for f in second] == [_sha256(wheel)]
    assert hashed == [str(wheel)]  # once, by the first run
    # Without a cache every run hashes.
    FindLinks((str(folder),)).local_files(name)
    assert len(hashed) == 2


def test_a_changed_file_is_hashed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "wheels"
    wheel = build_wheel(folder, Dist("demo", "1.0"))
    cache = HttpCache(tmp_path / "cache")
    hashed = _hashes(monkeypatch)
    before = local_file(wheel, cache)
    assert before is not None
    # Same size, same modification time: only the content (and so the change time) differs.
    stat = wheel.stat()
    data = bytearray(wheel.read_bytes())
    data[-1] ^= 0xFF
    wheel.write_bytes(bytes(data))
    os.utime(wheel, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = local_file(wheel, cache)
    assert after is not None
    assert after.sha256 == _sha256(wheel) != before.sha256
    assert len(hashed) == 2
    # A damaged remembered digest counts as missing.
    for side in (tmp_path / "cache").rglob("*.file-sha256-v1"):
        side.write_bytes(b'{"digest": "')
    again = local_file(wheel, cache)
    assert again is not None
    assert again.sha256 == _sha256(wheel)
    assert len(hashed) == 3


def test_hashing_a_folder_file_leaves_the_event_loop_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop keeps serving other requests while a wheelhouse file is hashed."""
    import asyncio  # noqa: PLC0415 -- only this test runs a loop

    folder = tmp_path / "wheels"
    build_wheel(folder, Dist("big", "1.0"))
    _hashes(monkeypatch, delay=0.3)

    async def run() -> tuple[int, int]:
        ticks = 0
        done = False

        async def tick() -> None:
            nonlocal ticks
            while not done:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.ensure_future(tick())
        files = await FindLinks((str(folder),)).files(None, canonicalize_name("big"))  # type: ignore[arg-type]
        done = True
        await ticker
        return len(files), ticks

    count, ticks = asyncio.run(run())
    assert count == 1
    assert ticks >= 5
