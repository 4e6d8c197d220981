"""Cold downloads: bodies in pieces as big as the socket holds; big wheels' tails first.

A body downloads in pieces as big as its socket holds (up to 1 MiB), not 64 KiB.

httpcore reads 64 KiB per call by default, and every piece costs a pass through h11,
httpcore, httpx and the preparer's loop (hashing, copying, the download gate), with
turns at the GIL that the unpacking threads need. The preparer widens the reads of its
synchronous body client; these tests pin that a body then arrives in bigger pieces and
is still whole and checked.

A big wheel, unpacked while it downloads, first needs its tail (two range requests on
the event loop): the other downloads wait for it, a while at most (see
``prepare._TailsFirst``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import time
from typing import TYPE_CHECKING, Any

import httpcore
import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from resolvent.installer import prepare as prepare_module
from resolvent.installer.cache import Cache
from resolvent.installer.plan import Wanted
from resolvent.installer.prepare import Preparer, _Progress
from tests.support.dists import Dist
from tests.support.index import serve_dists
from tests.support.wanted import served_wheel

if TYPE_CHECKING:
    from pathlib import Path

# A wheel of a few MiB that does not compress: a body of many 64 KiB pieces.
_BLOB = os.urandom(6 << 20)
_BULKY = Dist("bulkypkg", "1.0", files={"bulkypkg/blob.bin": _BLOB})


@pytest.fixture(params=["after", "early"])
def unpacking(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Unpack once downloaded, or while downloading (``_fetch_unpacking``, gated reads)."""
    if request.param == "early":
        monkeypatch.setattr(prepare_module, "_EARLY_UNPACK_MIN", 0)
        monkeypatch.setattr(prepare_module, "_MAX_TAIL_SHARE", 1.0)
    return str(request.param)


def _pieces_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, memory: int) -> list[int]:
    """Prepare ``_BULKY`` from a local server; return the sizes of its body's pieces."""
    pieces: list[int] = []
    original = _Progress.advance

    def spy(self: _Progress, size: int = 0, *, finished: bool = False) -> None:
        if size > 0:
            if not pieces:
                time.sleep(0.05)  # let the socket fill: the next read finds more there
            pieces.append(size)
        original(self, size, finished=finished)

    monkeypatch.setattr(_Progress, "advance", spy)
    with serve_dists(tmp_path / "served", [_BULKY]) as server:
        wheel = next((tmp_path / "served" / "index").glob("*.whl"))
        with Preparer(Cache(tmp_path / "cache"), memory_budget=memory) as preparer:
            (ready,) = preparer.prepare([served_wheel(server.url, wheel, _BULKY)])
        blob = (ready.tree / "bulkypkg" / "blob.bin").read_bytes()
    assert blob == _BLOB
    assert sum(pieces) == wheel.stat().st_size  # the tail's range requests are not counted
    return pieces


@pytest.mark.usefixtures("unpacking")
def test_a_body_in_memory_comes_in_pieces_over_64_kib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pieces = _pieces_of(tmp_path, monkeypatch, memory=64 << 20)
    assert max(pieces) > 64 << 10, pieces
    assert max(pieces) <= prepare_module._BODY_READ


@pytest.mark.usefixtures("unpacking")
def test_a_body_into_a_file_comes_in_pieces_over_64_kib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pieces = _pieces_of(tmp_path, monkeypatch, memory=0)  # no budget: the body goes to a file
    assert max(pieces) > 64 << 10, pieces


def test_widening_never_narrows_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(httpcore.HTTP11Connection, "READ_NUM_BYTES", 4 << 20)
    prepare_module._widen_body_reads()
    assert httpcore.HTTP11Connection.READ_NUM_BYTES == 4 << 20
    monkeypatch.setattr(httpcore.HTTP11Connection, "READ_NUM_BYTES", 64 << 10)
    prepare_module._widen_body_reads()
    assert httpcore.HTTP11Connection.READ_NUM_BYTES == prepare_module._BODY_READ


def test_the_digest_is_of_the_whole_body(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    digests: list[dict[str, str]] = []
    original = prepare_module._hexdigests

    def spy(hashers: dict[str, hashlib._Hash]) -> dict[str, str]:
        digests.append(original(hashers))
        return digests[-1]

    monkeypatch.setattr(prepare_module, "_hexdigests", spy)
    _pieces_of(tmp_path, monkeypatch, memory=64 << 20)
    wheel = next((tmp_path / "served" / "index").glob("*.whl"))
    assert digests
    assert digests[-1]["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()


# -- the big wheels' tails come first -------------------------------------------------------

_SMALL = Dist("smallpkg", "1.0", files={"smallpkg/__init__.py": "A = 1\n"})


def _wanted_of(server_url: str, wheel: Path, dist: Dist) -> Wanted:
    wanted = served_wheel(server_url, wheel, _BULKY)
    name = canonicalize_name(dist.name)
    assert wanted.file is not None
    file = dataclasses.replace(wanted.file, name=name)
    return Wanted(name, Version(dist.version), file=file)


def _events_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, tail_delay: float) -> list[str]:
    """Prepare a big wheel (unpacked early) and a small one; return what happened when."""
    monkeypatch.setattr(prepare_module, "_EARLY_UNPACK_MIN", 1 << 20)
    monkeypatch.setattr(prepare_module, "_MAX_TAIL_SHARE", 1.0)
    events: list[str] = []
    tail = Preparer._tail
    download = Preparer._download

    async def slow_tail(self: Preparer, url: str, size: int) -> tuple[int, bytes] | None:
        await asyncio.sleep(tail_delay)  # a slow server, or a loop busy elsewhere
        found = await tail(self, url, size)
        events.append("tail")
        return found

    async def watched_download(
        self: Preparer, url: str, *args: Any, **kwargs: Any
    ) -> tuple[dict[str, str], bool]:
        events.append("download " + url.rpartition("/")[2].partition("-")[0])
        return await download(self, url, *args, **kwargs)

    monkeypatch.setattr(Preparer, "_tail", slow_tail)
    monkeypatch.setattr(Preparer, "_download", watched_download)
    with serve_dists(tmp_path / "served", [_BULKY, _SMALL]) as server:
        wheels = {w.name.partition("-")[0]: w for w in (tmp_path / "served" / "index").glob("*")}
        items = [
            _wanted_of(server.url, wheels["smallpkg"], _SMALL),
            _wanted_of(server.url, wheels["bulkypkg"], _BULKY),
        ]
        with Preparer(Cache(tmp_path / "cache")) as preparer:
            ready = preparer.prepare(items)
    assert [(cached.tree / "smallpkg").is_dir() for cached in ready] == [True, False]
    assert (ready[1].tree / "bulkypkg" / "blob.bin").read_bytes() == _BLOB
    return events


def test_small_downloads_wait_for_the_big_wheels_tails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _events_of(tmp_path, monkeypatch, tail_delay=0.2)
    assert events.index("tail") < events.index("download smallpkg"), events


def test_small_downloads_wait_for_tails_a_while_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prepare_module, "_TAILS_WAIT", 0.05)
    events = _events_of(tmp_path, monkeypatch, tail_delay=1.0)
    assert events.index("download smallpkg") < events.index("tail"), events


def test_a_failed_tail_releases_the_small_downloads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prepare_module, "_TAILS_WAIT", 30.0)  # the test would hang

    async def no_ranges(self: Preparer, url: str, start: int, end: int) -> bytes | None:
        return None  # a server that does not answer ranges: the wheel unpacks afterwards

    monkeypatch.setattr(Preparer, "_get_range", no_ranges)
    started = time.monotonic()
    events = _events_of(tmp_path, monkeypatch, tail_delay=0.0)
    assert time.monotonic() - started < 15
    assert "download smallpkg" in events


# -- a big wheel's tail in one request ------------------------------------------------------


def _many_files(name: str, blob: int, files: int) -> Dist:
    """A wheel of ``files`` small modules (a long central directory) and a random blob."""
    modules = {f"{name}/module_with_a_longish_name_{i:05}.py": f"V = {i}\n" for i in range(files)}
    return Dist(name, "1.0", files={**modules, f"{name}/blob.bin": os.urandom(blob)})


def _ranges_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dist: Dist) -> list[int]:
    """Prepare ``dist`` (unpacked while it downloads); return the sizes of its range requests."""
    monkeypatch.setattr(prepare_module, "_EARLY_UNPACK_MIN", 1 << 20)
    monkeypatch.setattr(prepare_module, "_MAX_TAIL_SHARE", 1.0)
    ranges: list[int] = []
    tails: list[tuple[int, bytes] | None] = []
    get_range = Preparer._get_range
    tail = Preparer._tail

    async def counted(self: Preparer, url: str, start: int, end: int) -> bytes | None:
        ranges.append(end - start)
        return await get_range(self, url, start, end)

    async def kept(self: Preparer, url: str, size: int) -> tuple[int, bytes] | None:
        tails.append(await tail(self, url, size))
        return tails[-1]

    monkeypatch.setattr(Preparer, "_get_range", counted)
    monkeypatch.setattr(Preparer, "_tail", kept)
    with serve_dists(tmp_path / "served", [dist]) as server:
        wheel = next((tmp_path / "served" / "index").glob("*.whl"))
        with Preparer(Cache(tmp_path / "cache")) as preparer:
            (ready,) = preparer.prepare([_wanted_of(server.url, wheel, dist)])
        whole = wheel.read_bytes()
    for name, content in (dist.files or {}).items():
        data = content if isinstance(content, bytes) else content.encode()
        assert (ready.tree / name).read_bytes() == data
    (found,) = tails
    assert found is not None  # the wheel was unpacked while it downloaded
    offset, data = found
    assert whole[offset:] == data
    return ranges


def test_a_big_wheels_tail_comes_in_one_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A directory of ~100 KB: the tail needed is over 64 KiB, within 1/64 of the file.
    ranges = _ranges_for(tmp_path, monkeypatch, _many_files("onetail", 24 << 20, 1000))
    assert len(ranges) == 1, ranges


def test_a_tail_longer_than_guessed_takes_a_second_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ranges = _ranges_for(tmp_path, monkeypatch, _many_files("twotails", 2 << 20, 2000))
    assert len(ranges) == 2, ranges


@pytest.mark.parametrize(
    ("size", "share", "expected"),
    [
        (100, 0.1, 100),  # never more than the file
        (1 << 20, 0.1, 64 << 10),  # at least the 64 KiB that find the directory
        (64 << 20, 0.1, 1 << 20),  # a 64th of the file
        (64 << 20, 0.01, 671088),  # never more than the share a tail may take
        (32 << 20, 0.001, 64 << 10),  # but always the 64 KiB
    ],
)
def test_the_first_tail_request_is_bounded(
    monkeypatch: pytest.MonkeyPatch, size: int, share: float, expected: int
) -> None:
    monkeypatch.setattr(prepare_module, "_MAX_TAIL_SHARE", share)
    assert prepare_module._first_tail(size) == expected
