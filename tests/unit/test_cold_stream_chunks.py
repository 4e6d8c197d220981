"""A member too big for memory streams in chunks of 4 MiB: few turns at the GIL, same bytes.

Each chunk of a streamed member (torch's 430 MB library) is a read, an inflation, a hash
and a write, each releasing the GIL; the streaming thread then waits for its turn behind
the threads that extract small members. These tests pin the chunk size (a 12 MiB member
is hashed in three pieces, not twelve) and that streaming writes the same bytes and checks
them as before, whatever the chunk size.
"""

from __future__ import annotations

import hashlib
import random
import zipfile
from typing import TYPE_CHECKING

import pytest

from resolvent.errors import InvalidWheelError
from resolvent.installer import archive
from resolvent.installer.archive import WheelArchive
from resolvent.installer.record import new_hasher
from tests.unit.test_archive_extract import write_wheel

if TYPE_CHECKING:
    from pathlib import Path


def _big_member() -> bytes:
    """12 MiB that compress somewhat (random words), so inflating takes several calls.

    A block of about 1 MiB repeated: deflate's 32 KiB window does not see the repeats.
    """
    rng = random.Random(7)  # noqa: S311 -- test data, not secrets
    words = [rng.randbytes(rng.randint(2, 9)) for _ in range(512)]
    block = b"".join(rng.choices(words, k=200_000))
    return (block * (1 + (12 << 20) // len(block)))[: 12 << 20]


BIG = _big_member()


@pytest.mark.parametrize("stored", [False, True])
def test_a_big_member_is_hashed_in_4_mib_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, stored: bool
) -> None:
    pieces: list[int] = []
    original = new_hasher

    class Counting:
        def __init__(self, inner: hashlib._Hash) -> None:
            self._inner = inner

        def update(self, data: bytes | memoryview) -> None:
            pieces.append(len(data))
            self._inner.update(data)

        def digest(self) -> bytes:
            return self._inner.digest()

    def counting(name: str, data: bytes | memoryview = b"") -> object:
        hasher = original(name, data)
        return Counting(hasher) if not data else hasher

    monkeypatch.setattr(archive, "new_hasher", counting)
    wheel = write_wheel(
        tmp_path / "wheels",
        {"demo/big.bin": BIG, "demo/small.py": b"A = 1\n"},
        stored=frozenset({"demo/big.bin"}) if stored else frozenset(),
    )
    monkeypatch.setattr(archive, "_WHOLE_MEMBER", 1 << 20)  # big.bin streams
    WheelArchive(wheel).extract(tmp_path / "tree")
    assert (tmp_path / "tree" / "demo" / "big.bin").read_bytes() == BIG
    assert sum(pieces) == len(BIG)
    assert len(pieces) <= 4, pieces  # 1 MiB chunks: 12 pieces


@pytest.mark.parametrize("chunk", [4096, 1 << 20, 4 << 20, 16 << 20])
def test_streaming_writes_the_same_bytes_whatever_the_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    wheel = write_wheel(tmp_path / "wheels", {"demo/big.bin": BIG})
    monkeypatch.setattr(archive, "_WHOLE_MEMBER", 1 << 20)
    monkeypatch.setattr(archive, "_STREAM_CHUNK", chunk)
    with zipfile.ZipFile(wheel) as source:
        member = source.getinfo("demo/big.bin")
    assert member.file_size > archive._WHOLE_MEMBER  # streamed, not extracted whole
    WheelArchive(wheel).extract(tmp_path / "tree")
    written = (tmp_path / "tree" / "demo" / "big.bin").read_bytes()
    assert hashlib.sha256(written).digest() == hashlib.sha256(BIG).digest()
    assert (tmp_path / "tree" / "demo" / "big.bin").stat().st_mode & 0o777 == 0o644


def test_a_streamed_member_that_differs_from_record_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = write_wheel(tmp_path / "wheels", {"demo/big.bin": BIG})
    tampered = tmp_path / "tampered" / wheel.name
    tampered.parent.mkdir()
    changed = bytearray(BIG)
    changed[9 << 20] ^= 1  # in the third 4 MiB chunk
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(tampered, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, bytes(changed) if item.filename == "demo/big.bin" else data)
    monkeypatch.setattr(archive, "_WHOLE_MEMBER", 1 << 20)
    with pytest.raises(InvalidWheelError, match="does not match its `RECORD` hash"):
        WheelArchive(tampered).extract(tmp_path / "tree")
