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


def wanted(name: str, size: int | None) -> Wanted:
    filename = f"{name}-1.0-py3-none-any.whl"
    file = DistFile(
        filename=filename,
        url=f"http://127.0.0.1:9/files/{filename}",
        hashes={},
        requires_python=None,
        yanked=False,
        yanked_reason=None,
        core_metadata=None,
        upload_time=None,
        size=size,
        kind="wheel",
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
