"""Downloaded wheels within the memory budget are unpacked in place, never written to a file.

A cold install used to write each downloaded wheel to a temporary file and read it back
to unpack it; a wheel that fits the preparer's memory budget now stays in a buffer. The
checks are the same either way (the hash before anything is published, every RECORD
hash, the archive's safety checks), and a wheel that does not fit, or whose body is not
the size the index announced, still goes to a file.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import TYPE_CHECKING, Any

import pytest

from resolvent.errors import HashMismatchError, InvalidWheelError
from resolvent.installer import prepare as prepare_module
from resolvent.installer.archive import WheelArchive
from resolvent.installer.cache import Cache
from resolvent.installer.download_gate import DownloadGate, DownloadStopped, MemoryReader
from resolvent.installer.prepare import Preparer
from tests.support.dists import Dist, build_wheel
from tests.support.index import serve_dists
from tests.support.wanted import served_wheel
from tests.unit.test_early_unpack import BIG, _files, _RangeHook

if TYPE_CHECKING:
    from pathlib import Path

SMALL = Dist("smallpkg", "1.0", files={f"smallpkg/m{i}.py": f"X = {i}\n" * i for i in range(30)})


# -- the reader -----------------------------------------------------------------------------


def test_a_wheel_in_memory_reads_as_its_file(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, SMALL)
    data = wheel.read_bytes()
    reader = MemoryReader(memoryview(data))
    assert reader.seek(-4, io.SEEK_END) == len(data) - 4
    assert reader.read() == data[-4:]
    assert reader.read(3) == b""
    reader.seek(2)
    assert reader.read(5) == data[2:7]
    assert reader.seek(3, io.SEEK_CUR) == 10
    with zipfile.ZipFile(MemoryReader(memoryview(data))) as archive:
        assert archive.namelist() == zipfile.ZipFile(wheel).namelist()


def test_reads_of_a_buffer_still_filling_wait_at_the_gate() -> None:
    buffer = bytearray(10)
    buffer[8:] = b"ij"
    gate = DownloadGate(size=10, tail_start=8)
    reader = MemoryReader(memoryview(buffer), gate)
    reader.seek(8)
    assert reader.read() == b"ij"  # the prefetched tail
    buffer[:5] = b"abcde"
    gate.advance(5)
    reader.seek(0)
    assert reader.read(5) == b"abcde"
    gate.stop()
    with pytest.raises(DownloadStopped):
        reader.read(2)


# -- the archive ----------------------------------------------------------------------------


def test_a_wheel_in_memory_unpacks_as_its_file(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "built", BIG)
    WheelArchive(wheel).extract(tmp_path / "from-file")
    named = tmp_path / "nowhere" / wheel.name  # only names the file: it does not exist
    WheelArchive(named, data=bytearray(wheel.read_bytes())).extract(tmp_path / "from-memory")
    assert _files(tmp_path / "from-memory") == _files(tmp_path / "from-file")


def test_a_tampered_wheel_in_memory_is_refused_as_its_file_is(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "built", SMALL)
    data = bytearray(wheel.read_bytes())
    with zipfile.ZipFile(wheel) as archive:
        member = archive.getinfo("smallpkg/m29.py")
    data[member.header_offset + 30 + len(member.filename) + 3] ^= 0x55  # inside its data
    with pytest.raises(InvalidWheelError):
        WheelArchive(tmp_path / wheel.name, data=data).extract(tmp_path / "out")


# -- the preparer ---------------------------------------------------------------------------


@pytest.fixture
def unpacked_from(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record whether each wheel the cache unpacks came from memory or from a file."""
    seen: list[str] = []
    original = Cache.unpack_wheel

    def spy(self: Cache, *args: Any, **kwargs: Any) -> Path:
        seen.append("memory" if kwargs.get("data") is not None else "file")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Cache, "unpack_wheel", spy)
    return seen


def _prepare_small(
    tmp_path: Path, *, budget: int | None, size_error: int = 0, sha256: str | None = None
) -> tuple[Path, Path, Preparer]:
    with serve_dists(tmp_path / "served", [SMALL]) as server:
        wheel = next((tmp_path / "served" / "index").glob("*.whl"))
        wanted = served_wheel(server.url, wheel, BIG, sha256)
        assert wanted.file is not None
        if size_error:
            assert wanted.file.size is not None
            object.__setattr__(wanted.file, "size", wanted.file.size + size_error)
        cache = Cache(tmp_path / "cache")
        with Preparer(cache, memory_budget=budget) as preparer:
            (ready,) = preparer.prepare([wanted])
    return ready.tree, wheel, preparer


def test_a_small_wheel_is_unpacked_from_memory(tmp_path: Path, unpacked_from: list[str]) -> None:
    tree, wheel, preparer = _prepare_small(tmp_path, budget=None)
    assert unpacked_from == ["memory"]
    WheelArchive(wheel).extract(tmp_path / "whole")
    assert _files(tree) == _files(tmp_path / "whole")
    assert preparer._memory._left == prepare_module._default_memory_budget()  # all given back
    assert not list((tmp_path / "cache").rglob(".tmp-*"))


def test_a_wheel_over_the_budget_goes_to_a_file(tmp_path: Path, unpacked_from: list[str]) -> None:
    tree, wheel, _ = _prepare_small(tmp_path, budget=100)
    assert unpacked_from == ["file"]
    WheelArchive(wheel).extract(tmp_path / "whole")
    assert _files(tree) == _files(tmp_path / "whole")


@pytest.mark.parametrize("error", [1, -1])
def test_a_body_of_another_size_than_announced_goes_to_a_file(
    tmp_path: Path, unpacked_from: list[str], error: int
) -> None:
    tree, wheel, preparer = _prepare_small(tmp_path, budget=None, size_error=error)
    assert unpacked_from == ["file"]
    WheelArchive(wheel).extract(tmp_path / "whole")
    assert _files(tree) == _files(tmp_path / "whole")
    assert preparer._memory._left == prepare_module._default_memory_budget()


def test_a_wrong_wheel_in_memory_is_refused_and_nothing_is_cached(
    tmp_path: Path, unpacked_from: list[str]
) -> None:
    with pytest.raises(HashMismatchError):
        _prepare_small(tmp_path, budget=None, sha256="0" * 64)
    assert unpacked_from == []
    archive = tmp_path / "cache" / "archive-v1"
    assert not archive.exists() or not any(archive.iterdir())
    assert not list((tmp_path / "cache").rglob(".tmp-*"))


@pytest.mark.parametrize("budget", [None, 0], ids=["in-memory", "in-a-file"])
def test_a_big_wheel_is_unpacked_early_in_memory_or_in_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, budget: int | None
) -> None:
    monkeypatch.setattr(prepare_module, "_EARLY_UNPACK_MIN", 0)
    monkeypatch.setattr(prepare_module, "_MAX_TAIL_SHARE", 1.0)
    published: list[bool] = []
    original = Cache.stage_wheel

    def spy(self: Cache, *args: Any, **kwargs: Any) -> Any:
        published.append(kwargs.get("data") is not None)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Cache, "stage_wheel", spy)
    hook = _RangeHook()
    with serve_dists(tmp_path / "served", [BIG], hooks=hook) as server:
        wheel = next((tmp_path / "served" / "index").glob("*.whl"))
        with Preparer(Cache(tmp_path / "cache"), memory_budget=budget) as preparer:
            (ready,) = preparer.prepare([served_wheel(server.url, wheel, BIG)])
    assert published == [budget is None]
    assert hook.downloads == 1
    WheelArchive(wheel).extract(tmp_path / "whole")
    assert _files(ready.tree) == _files(tmp_path / "whole")
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == ready.tree.name
    assert not list((tmp_path / "cache").rglob(".tmp-*"))


def test_a_dropped_download_in_memory_is_retried(tmp_path: Path, unpacked_from: list[str]) -> None:
    hook = _RangeHook(drop_first_download=True)
    with serve_dists(tmp_path / "served", [SMALL], hooks=hook) as server:
        wheel = next((tmp_path / "served" / "index").glob("*.whl"))
        with Preparer(Cache(tmp_path / "cache")) as preparer:
            (ready,) = preparer.prepare([served_wheel(server.url, wheel, BIG)])
    assert hook.downloads == 2
    assert unpacked_from == ["memory"]
    WheelArchive(wheel).extract(tmp_path / "whole")
    assert _files(ready.tree) == _files(tmp_path / "whole")
