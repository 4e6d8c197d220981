"""Extraction by offset: whole members, streamed big members, both inflaters, bombs."""

from __future__ import annotations

import os
import random
import struct
import zipfile
from typing import TYPE_CHECKING

import pytest

from resolvent.errors import InvalidWheelError
from resolvent.installer import archive
from resolvent.installer.archive import WheelArchive
from resolvent.installer.cache import Cache
from tests.support.dists import record_hash

if TYPE_CHECKING:
    from pathlib import Path

INFO = "demo-1.0.dist-info"
METADATA = b"Metadata-Version: 2.3\nName: demo\nVersion: 1.0\n\n"
WHEEL = b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n"


def write_wheel(
    folder: Path, members: dict[str, bytes], *, stored: frozenset[str] = frozenset()
) -> Path:
    """A valid wheel holding ``members`` (deflated, except the ``stored`` ones)."""
    files = {**members, f"{INFO}/METADATA": METADATA, f"{INFO}/WHEEL": WHEEL}
    record = "".join(f"{name},{record_hash(data)},{len(data)}\n" for name, data in files.items())
    files[f"{INFO}/RECORD"] = (record + f"{INFO}/RECORD,,\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(target, "w") as wheel:
        for name, data in files.items():
            item = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            item.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            wheel.writestr(item, data)
    return target


def declare_size(wheel: Path, name: str, size: int) -> None:
    """Make the central directory claim ``size`` uncompressed bytes for member ``name``."""
    data = bytearray(wheel.read_bytes())
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) >= 0:
        (length,) = struct.unpack_from("<H", data, start + 28)
        if data[start + 46 : start + 46 + length] == name.encode():
            struct.pack_into("<L", data, start + 24, size)
            wheel.write_bytes(bytes(data))
            return
        start += 4
    raise AssertionError(f"{name} not in {wheel}")


def sample_members() -> dict[str, bytes]:
    rng = random.Random(4)  # noqa: S311 -- test data, not secrets
    words = [bytes(rng.choices(range(97, 123), k=rng.randint(2, 9))) for _ in range(300)]
    members = {
        f"demo/m{i // 50}/f{i}.py": b" ".join(rng.choices(words, k=rng.randint(0, 400)))
        for i in range(200)  # more than one thread's share
    }
    members["demo/big.bin"] = b"\n".join(rng.choices(words, k=60_000))  # ~360 kB, deflated
    members["demo/raw.bin"] = rng.randbytes(100_000)  # stored below
    members["demo/empty.txt"] = b""
    return members


@pytest.fixture(params=["default", "zlib"])
def inflater(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run with the preferred inflater (ISA-L where installed) and with plain zlib."""
    if request.param == "zlib":
        monkeypatch.setattr(archive, "_new_inflater", archive._zlib_inflater)
    return str(request.param)


@pytest.fixture(params=["whole", "streamed"])
def sizes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Read members whole, or stream every member past 1 kB in chunks of 4 kB."""
    if request.param == "streamed":
        monkeypatch.setattr(archive, "_WHOLE_MEMBER", 1024)
        monkeypatch.setattr(archive, "_STREAM_CHUNK", 4096)
    return str(request.param)


def test_extracts_every_member_exactly(tmp_path: Path, inflater: str, sizes: str) -> None:
    members = sample_members()
    wheel = write_wheel(tmp_path / "wheels", members, stored=frozenset({"demo/raw.bin"}))
    target = tmp_path / "tree"
    WheelArchive(wheel).extract(target)
    for name, data in members.items():
        assert (target / name).read_bytes() == data, name
    assert (target / INFO / "METADATA").read_bytes() == METADATA


@pytest.mark.parametrize("member", ["demo/big.bin", "demo/raw.bin"])
def test_member_inflating_past_its_declared_size_is_refused(
    tmp_path: Path, inflater: str, sizes: str, member: str
) -> None:
    members = sample_members()
    wheel = write_wheel(tmp_path / "wheels", members, stored=frozenset({"demo/raw.bin"}))
    declare_size(wheel, member, 2000)
    # RECORD states the true size, so the lie is caught before anything is inflated.
    with pytest.raises(InvalidWheelError, match="bytes but `RECORD` says"):
        WheelArchive(wheel).extract(tmp_path / "tree")


def test_streamed_bomb_stops_at_the_declared_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "_WHOLE_MEMBER", 1024)
    monkeypatch.setattr(archive, "_STREAM_CHUNK", 4096)
    wheel = write_wheel(tmp_path / "wheels", {"demo/zeros.bin": bytes(1 << 20)})
    # The RECORD size is dropped, so only the zip's (lying) size bounds the member.
    with zipfile.ZipFile(wheel) as source:
        record = source.read(f"{INFO}/RECORD").decode()
    lines = [
        line.rsplit(",", 1)[0] + "," if line.startswith("demo/zeros.bin") else line
        for line in record.splitlines()
    ]
    rebuilt = tmp_path / "rebuilt" / wheel.name
    rebuilt.parent.mkdir()
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(rebuilt, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith("/RECORD"):
                data = ("\n".join(lines) + "\n").encode()
            target.writestr(item, data)
    declare_size(rebuilt, "demo/zeros.bin", 10_000)
    tree = tmp_path / "tree"
    with pytest.raises(InvalidWheelError, match="inflates past its declared size"):
        WheelArchive(rebuilt).extract(tree)
    written = tree / "demo" / "zeros.bin"
    assert not written.exists() or written.stat().st_size <= 10_000 + 4096


def test_corrupt_streamed_member_is_refused_and_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inflater: str
) -> None:
    monkeypatch.setattr(archive, "_WHOLE_MEMBER", 1024)
    monkeypatch.setattr(archive, "_STREAM_CHUNK", 4096)
    members = sample_members()
    wheel = write_wheel(tmp_path / "wheels", members)
    with zipfile.ZipFile(wheel) as source:
        item = source.getinfo("demo/big.bin")
    data = bytearray(wheel.read_bytes())
    middle = item.header_offset + 30 + len(item.filename) + item.compress_size // 2
    data[middle : middle + 64] = bytes(64)
    wheel.write_bytes(bytes(data))
    cache = Cache(tmp_path / "cache")
    with pytest.raises(InvalidWheelError, match=r"corrupt entry|RECORD` hash|bad CRC or size"):
        cache.unpack_wheel(wheel)
    entries = cache.root / "archive-v1"
    assert [p.name for p in entries.iterdir() if not p.name.endswith(".lock")] == []


@pytest.mark.parametrize("extra", [0, 9])
def test_a_member_is_read_where_its_local_header_says(tmp_path: Path, extra: int) -> None:
    # Members are read with their local header in one read, sized by the central
    # directory's name and extra field; where those differ from the local header's, the
    # data is read again from where the local header says it starts.
    wheel = write_wheel(tmp_path / "wheels", {"demo/a.py": b"print(1)\n" * 50})
    with zipfile.ZipFile(wheel) as source:
        member = source.getinfo("demo/a.py")
    raw = wheel.read_bytes()
    names, extras = struct.unpack_from("<HH", raw, member.header_offset + 26)
    start = member.header_offset + 30 + names + extras
    stored = raw[start : start + member.compress_size]
    member.extra = bytes(extra)  # the central directory's view, now unlike the local one
    fd = os.open(wheel, os.O_RDONLY)
    try:
        assert bytes(WheelArchive(wheel)._packed(fd, member)) == stored
    finally:
        os.close(fd)


def test_a_member_cut_short_after_its_local_header_is_refused(tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path / "wheels", {"demo/a.py": b"print(1)\n" * 50})
    with zipfile.ZipFile(wheel) as source:
        member = source.getinfo("demo/a.py")
    cut = tmp_path / "cut.whl"
    cut.write_bytes(wheel.read_bytes()[: member.header_offset + 40])
    fd = os.open(cut, os.O_RDONLY)
    try:
        with pytest.raises(InvalidWheelError, match="truncated entry"):
            WheelArchive(cut)._packed(fd, member)
    finally:
        os.close(fd)


def test_small_members_take_the_process_wide_slots_and_big_streams_do_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wheels unpacked at once share the extraction slots; a big member never queues.

    With one slot, two many-member wheels extracted from two threads (as a cold install
    does) never write small members at the same moment; a big member streams while the
    slot is taken.
    """
    import threading  # noqa: PLC0415 -- only this test runs threads
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    monkeypatch.setattr(archive, "_EXTRACT_SLOTS", threading.BoundedSemaphore(1))
    monkeypatch.setattr(archive, "_WHOLE_MEMBER", 64 << 10)  # big.bin (~360 kB) streams
    inside = 0
    most = 0
    lock = threading.Lock()
    real_write = WheelArchive._write_checked

    def counted(self: WheelArchive, name: str, data: bytes, path: str, mode: int) -> None:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        try:
            real_write(self, name, data, path, mode)
            threading.Event().wait(0.001)  # long enough for another writer to overlap
        finally:
            with lock:
                inside -= 1

    monkeypatch.setattr(WheelArchive, "_write_checked", counted)
    members = sample_members()
    wheels = [write_wheel(tmp_path / f"wheels{i}", members) for i in range(2)]
    streamed = threading.Event()
    real_stream = WheelArchive._stream

    def stream(self: WheelArchive, fd: int, member: zipfile.ZipInfo, path: str, mode: int) -> None:
        # The slot is held by the other wheel's writers (or free): never waited for.
        real_stream(self, fd, member, path, mode)
        streamed.set()

    monkeypatch.setattr(WheelArchive, "_stream", stream)
    held = archive._EXTRACT_SLOTS
    held.acquire()  # every slot taken: only a stream can make progress
    released = False
    try:
        with ThreadPoolExecutor(2) as pool:
            futures = [
                pool.submit(WheelArchive(w).extract, tmp_path / f"tree{i}")
                for i, w in enumerate(wheels)
            ]
            waited = streamed.wait(10)
            held.release()
            released = True
            assert waited, "a big member waited for an extraction slot"
            for future in futures:
                future.result()
    finally:
        if not released:
            held.release()
    assert most == 1
    for i in range(2):
        for name, data in members.items():
            assert (tmp_path / f"tree{i}" / name).read_bytes() == data, name
