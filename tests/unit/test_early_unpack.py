"""Big wheels are unpacked while they download, and nothing unchecked reaches the cache.

The gate (:mod:`resolvent.installer.download_gate`) holds each read of the growing file
until its bytes are there; the preparer publishes the early tree only once the whole
file matched its hash and the prefetched tail matched the download. Every way that can
go wrong (no ranges, a tail that is not the file's, a wrong file, a dropped download)
must end in the right tree or the usual error, with no private folder left behind.
"""

from __future__ import annotations

import os
import threading
import time
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from resolvent.errors import HashMismatchError
from resolvent.installer import prepare as prepare_module
from resolvent.installer.archive import WheelArchive
from resolvent.installer.cache import Cache
from resolvent.installer.download_gate import DownloadGate, DownloadStopped, GatedReader
from resolvent.installer.prepare import Preparer
from tests.support.dists import Dist, build_wheel
from tests.support.index import _BodyFilter, serve_dists
from tests.support.wanted import served_wheel

if TYPE_CHECKING:
    import io
    from pathlib import Path

    from resolvent.index.serve import IndexRequestHandler

BIG = Dist(
    "bigpkg",
    "1.0",
    files={
        **{f"bigpkg/mod{i:03}.py": f"VALUE = {i}\n" * (40 + i) for i in range(120)},
        "bigpkg/blob.bin": os.urandom(1 << 20),
        "bigpkg/zlast.py": "B = 1\n",  # written last: inside the prefetched tail
    },
)


# -- the gate -------------------------------------------------------------------------------


def test_the_gate_admits_the_downloaded_head_and_the_prefetched_tail() -> None:
    gate = DownloadGate(size=1000, tail_start=900)
    assert gate.readable(950, 50)  # inside the tail
    assert not gate.readable(0, 1)
    gate.advance(100)
    assert gate.readable(0, 100)
    assert not gate.readable(50, 100)
    assert not gate.readable(850, 100)  # straddles the gap below the tail
    gate.advance(900)
    assert gate.readable(0, 1000)


def test_a_reader_waits_for_its_bytes_and_a_stop_releases_it() -> None:
    gate = DownloadGate(size=100, tail_start=100)
    woke: list[float] = []
    stopped: list[bool] = []

    def reader() -> None:
        gate.wait(40, 20)
        woke.append(time.monotonic())
        try:
            gate.wait(80, 20)
        except DownloadStopped:
            stopped.append(True)

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.05)
    assert not woke  # 60 bytes are needed, none are there
    gate.advance(30)
    time.sleep(0.05)
    assert not woke
    gate.advance(60)
    time.sleep(0.05)
    assert woke
    gate.stop()
    thread.join(5)
    assert stopped == [True]
    with pytest.raises(DownloadStopped):
        gate.wait(0, 1)  # stopped: even bytes already there are not read any more


def test_the_gated_reader_reads_only_what_is_there(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"abcdefghij")
    gate = DownloadGate(size=10, tail_start=8)
    gate.advance(5)
    with GatedReader(path, gate) as reader:
        assert reader.read(5) == b"abcde"
        reader.seek(8)
        assert reader.read() == b"ij"
        reader.seek(4)
        gate.stop()
        with pytest.raises(DownloadStopped):
            reader.read(2)


# -- unpacking a growing file ---------------------------------------------------------------


def _tail_start(wheel: Path) -> int:
    """Where the ``.dist-info`` members and the central directory begin."""
    with zipfile.ZipFile(wheel) as archive:
        return min(i.header_offset for i in archive.infolist() if ".dist-info/" in i.filename)


def _grow(source: bytes, target: Path, gate: DownloadGate, *, piece: int = 8192) -> None:
    """Write ``source`` into ``target`` piece by piece, as a slow download would."""
    with target.open("r+b") as stream:
        for start in range(0, len(source), piece):
            stream.write(source[start : start + piece])
            stream.flush()
            gate.advance(min(start + piece, len(source)))
            time.sleep(0.002)


def _sparse_copy(wheel: Path, target: Path, tail_start: int) -> bytes:
    data = wheel.read_bytes()
    with target.open("wb") as stream:
        stream.truncate(len(data))
        stream.seek(tail_start)
        stream.write(data[tail_start:])
    return data


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _growing(tmp_path: Path) -> tuple[Path, Path, DownloadGate, threading.Thread]:
    """Return a built wheel, its sparse copy, the gate and the thread writing it in."""
    wheel = build_wheel(tmp_path / "built", BIG)
    growing = tmp_path / "growing" / wheel.name
    growing.parent.mkdir()
    start = _tail_start(wheel)
    data = _sparse_copy(wheel, growing, start)
    gate = DownloadGate(len(data), start)
    return wheel, growing, gate, threading.Thread(target=_grow, args=(data, growing, gate))


def test_a_growing_wheel_unpacks_through_the_gate_as_the_whole_file_does(
    tmp_path: Path,
) -> None:
    wheel, growing, gate, writer = _growing(tmp_path)
    writer.start()
    try:
        WheelArchive(growing, gate=gate).extract(tmp_path / "early")
    finally:
        writer.join()
    WheelArchive(wheel).extract(tmp_path / "whole")
    assert _files(tmp_path / "early") == _files(tmp_path / "whole")


def test_without_the_gate_the_same_growing_file_does_not_unpack(tmp_path: Path) -> None:
    """The control: the test above would fail if reads did not wait."""
    _, growing, _, writer = _growing(tmp_path)
    writer.start()
    try:
        with pytest.raises(Exception):  # noqa: B017, PT011 -- any failure: zeros were read
            WheelArchive(growing).extract(tmp_path / "early")
    finally:
        writer.join()


# -- the preparer ---------------------------------------------------------------------------


@dataclass
class _RangeHook:
    """Answer range requests from ``other`` (another file), or ignore ranges altogether."""

    other: bytes | None = None
    ignore_ranges: bool = False
    drop_first_download: bool = False
    stall_last: int = 0  # the download stops short of its last bytes for a while
    ranges: int = 0
    downloads: int = 0
    sent: int = 0

    def intercept(self, handler: IndexRequestHandler, path: str) -> bool:
        if not path.endswith(".whl") or handler.command != "GET":
            return False
        if "Range" not in handler.headers:
            self.downloads += 1
            if self.drop_first_download and self.downloads == 1:
                handler.close_connection = True
                handler.connection.shutdown(2)
                return True
            if self.stall_last:
                handler.wfile = _BodyFilter(handler.wfile, self._stall)
            return False
        self.ranges += 1
        if self.ignore_ranges:
            del handler.headers["Range"]
            return False
        if self.other is None:
            return False
        first, _, last = handler.headers["Range"].removeprefix("bytes=").partition("-")
        start, end = int(first), int(last) + 1
        body = self.other[start:end]
        handler.send_response(206)
        handler.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(self.other)}")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        return True

    def _stall(self, out: io.BufferedIOBase, piece: bytes) -> None:
        """Write the body's pieces as they come, pausing once ``stall_last`` before its end."""
        assert self.other is not None  # the body is as long as the impostor
        cut = len(self.other) - self.stall_last - self.sent
        self.sent += len(piece)
        if not 0 <= cut < len(piece):
            out.write(piece)
            return
        out.write(piece[:cut])
        out.flush()
        time.sleep(1.0)
        out.write(piece[cut:])


@pytest.fixture
def early(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every wheel big enough, and record which way each was published."""
    monkeypatch.setattr(prepare_module, "_EARLY_UNPACK_MIN", 0)
    monkeypatch.setattr(prepare_module, "_MAX_TAIL_SHARE", 1.0)
    published: list[str] = []
    original = Cache.publish_staged

    def spy(self: Cache, *args: object, **kwargs: object) -> Path:
        published.append("early")
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Cache, "publish_staged", spy)
    return published


def _prepare(tmp_path: Path, hook: _RangeHook, sha256: str | None = None) -> tuple[Path, Path]:
    """Prepare BIG from a served index; return the cache entry and the built wheel."""
    with serve_dists(tmp_path / "served", [BIG], hooks=hook) as server:
        wheel = next((tmp_path / "served" / "index").glob("*.whl"))
        cache = Cache(tmp_path / "cache")
        with Preparer(cache) as preparer:
            (ready,) = preparer.prepare([served_wheel(server.url, wheel, BIG, sha256)])
    return ready.tree, wheel


def _leftovers(cache_root: Path) -> list[Path]:
    return list(cache_root.rglob(".tmp-*"))


def test_a_big_wheel_is_published_from_the_early_unpacking(
    tmp_path: Path, early: list[str]
) -> None:
    hook = _RangeHook()
    tree, wheel = _prepare(tmp_path, hook)
    assert early == ["early"]
    assert hook.ranges >= 1
    assert hook.downloads == 1
    WheelArchive(wheel).extract(tmp_path / "whole")
    assert _files(tree) == _files(tmp_path / "whole")
    assert not _leftovers(tmp_path / "cache")


def test_a_server_that_ignores_ranges_gets_the_usual_unpacking(
    tmp_path: Path, early: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx  # noqa: PLC0415

    read: list[int] = []  # statuses of responses read whole (the download streams)
    original = httpx.Response.aread

    async def spy(self: httpx.Response) -> bytes:
        read.append(self.status_code)
        return await original(self)

    monkeypatch.setattr(httpx.Response, "aread", spy)
    hook = _RangeHook(ignore_ranges=True)
    tree, wheel = _prepare(tmp_path, hook)
    assert hook.ranges >= 1
    assert 200 not in read  # the whole file answering a range request is not read
    assert early == []
    WheelArchive(wheel).extract(tmp_path / "whole")
    assert _files(tree) == _files(tmp_path / "whole")
    assert not _leftovers(tmp_path / "cache")


def test_a_tail_from_another_file_is_never_published(tmp_path: Path, early: list[str]) -> None:
    """Ranges answered from a wheel of the same layout but another last file: not published.

    The early unpacking succeeds (the impostor's tail is consistent in itself), and the
    download's hash matches the index; only the comparison of the tail with the bytes
    the download wrote over it stops the impostor's file from reaching the cache.
    """
    assert BIG.files is not None
    impostor = Dist(BIG.name, BIG.version, files={**BIG.files, "bigpkg/zlast.py": "B = 2\n"})
    built = build_wheel(tmp_path / "other", impostor)
    other = built.read_bytes()
    with zipfile.ZipFile(built) as archive:
        last = archive.getinfo("bigpkg/zlast.py").header_offset
    # The download pauses where the last file begins, so that the early unpacking
    # finishes with the impostor's bytes before the real ones are written over them.
    hook = _RangeHook(other=other, stall_last=len(other) - last)
    tree, wheel = _prepare(tmp_path, hook)
    assert len(other) == wheel.stat().st_size
    assert hook.ranges >= 1
    assert early == []
    assert (tree / "bigpkg" / "zlast.py").read_text() == "B = 1\n"
    WheelArchive(wheel).extract(tmp_path / "whole")
    assert _files(tree) == _files(tmp_path / "whole")
    assert not _leftovers(tmp_path / "cache")


def test_a_wrong_file_is_refused_and_nothing_is_cached(tmp_path: Path, early: list[str]) -> None:
    with pytest.raises(HashMismatchError):
        _prepare(tmp_path, _RangeHook(), sha256="0" * 64)
    assert early == []
    archive = tmp_path / "cache" / "archive-v1"
    assert not archive.exists() or not any(archive.iterdir())
    assert not _leftovers(tmp_path / "cache")


def test_a_dropped_download_is_retried_without_the_early_unpacking(
    tmp_path: Path, early: list[str]
) -> None:
    hook = _RangeHook(drop_first_download=True)
    tree, wheel = _prepare(tmp_path, hook)
    assert hook.downloads == 2
    assert early == []
    WheelArchive(wheel).extract(tmp_path / "whole")
    assert _files(tree) == _files(tmp_path / "whole")
    assert not _leftovers(tmp_path / "cache")
