"""Preparing starts the biggest files first and returns results in the plan's order."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import Version

from resolvent.index.pages import DistFile
from resolvent.installer.cache import Cache
from resolvent.installer.plan import CachedDist, Wanted
from resolvent.installer.prepare import Preparer

if TYPE_CHECKING:
    import asyncio

    import pytest


def wanted(
    name: str, size: int | None, *, filename: str | None = None, url: str | None = None
) -> Wanted:
    """A wanted distribution of version 1.0 (a wheel unless ``filename`` says otherwise)."""
    filename = filename or f"{name}-1.0-py3-none-any.whl"
    file = DistFile(
        filename=filename,
        url=url or f"http://127.0.0.1:9/files/{filename}",
        hashes={},
        requires_python=None,
        yanked=False,
        yanked_reason=None,
        core_metadata=None,
        upload_time=None,
        size=size,
        kind="sdist" if filename.endswith(".tar.gz") else "wheel",
        name=canonicalize_name(name),
        version=Version("1.0"),
        tags=frozenset(),
        build=(),
    )
    return Wanted(canonicalize_name(name), Version("1.0"), file=file)


def test_biggest_files_start_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []

    async def fake_prepare_one(
        self: Preparer, item: Wanted, semaphore: asyncio.Semaphore, progress: object
    ) -> CachedDist:
        started.append(item.name)  # before any await: the order tasks were made in
        return CachedDist(item, Path(item.name))

    monkeypatch.setattr(Preparer, "_prepare_one", fake_prepare_one)
    items = [
        wanted("anyio", 90_000),
        wanted("nosize", None),
        wanted("torch", 190_000_000),
        wanted("numpy", 16_000_000),
    ]
    with Preparer(Cache(tmp_path / "cache")) as preparer:
        ready = preparer.prepare(items)
    assert started == ["torch", "numpy", "anyio", "nosize"]
    assert [cached.wanted.name for cached in ready] == ["anyio", "nosize", "torch", "numpy"]


def local_wanted(folder: Path, filename: str) -> Wanted:
    """A wanted distribution whose file is on disk (a ``file:`` URL)."""
    path = folder / filename
    path.write_bytes(filename.encode())
    name = filename.split("-", maxsplit=1)[0]
    return wanted(name, path.stat().st_size, filename=filename, url=path.as_uri())


def test_unpacks_do_not_queue_behind_each_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twelve unpacks run at once, more than the event loop's default executor has threads.

    Unpacks wait for extraction slots; in a small shared pool, those waiting would hold
    every thread while a freshly downloaded wheel queued behind them.
    """
    import threading  # noqa: PLC0415 -- only these tests run threads

    count = 12
    barrier = threading.Barrier(count, timeout=10)

    def unpack(self: Preparer, path: Path, sha256: str, source: str) -> Path:
        barrier.wait()  # raises BrokenBarrierError when fewer than ``count`` run at once
        return path

    monkeypatch.setattr(Preparer, "_unpack_named", unpack)
    items = [local_wanted(tmp_path, f"w{i}-1.0-py3-none-any.whl") for i in range(count)]
    with Preparer(Cache(tmp_path / "cache")) as preparer:
        ready = preparer.prepare(items)
    assert [cached.wanted.name for cached in ready] == [f"w{i}" for i in range(count)]


def test_builds_run_one_per_cpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading  # noqa: PLC0415 -- only these tests run threads

    from resolvent.installer import prepare  # noqa: PLC0415

    monkeypatch.setattr(prepare, "usable_cpus", lambda: 1)
    lock = threading.Lock()
    running = 0
    most = 0

    class Builder:
        def build_sdist(self, path: Path, sha256: str) -> Path:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
            threading.Event().wait(0.05)
            with lock:
                running -= 1
            return path

    items = [local_wanted(tmp_path, f"s{i}-1.0.tar.gz") for i in range(4)]
    with Preparer(Cache(tmp_path / "cache"), builder=Builder()) as preparer:
        ready = preparer.prepare(items)
    assert len(ready) == 4
    assert most == 1
