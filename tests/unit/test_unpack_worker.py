"""Big wheels unpacked in a worker process: same tree, same checks, nothing half left.

The worker (:mod:`resolvent.installer.unpack_worker`) only stages; the preparer checks
the archive's hash and the prefetched tail and publishes. Each way the early unpacking
can go wrong in a thread must end the same way with a worker, and a worker that dies
must cost the early work only.
"""

from __future__ import annotations

import os
import signal
import time
from typing import TYPE_CHECKING

import pytest

from resolvent.errors import HashMismatchError
from resolvent.installer import prepare as prepare_module
from resolvent.installer import unpack_worker
from resolvent.installer.archive import WheelArchive
from resolvent.installer.cache import Cache
from resolvent.installer.unpack_worker import UnpackWorker, WorkerFailed, shared_buffer
from tests.support.dists import build_wheel
from tests.unit.test_early_unpack import (
    BIG,
    _files,
    _leftovers,
    _prepare,
    _RangeHook,
    _tail_start,
)

if TYPE_CHECKING:
    from pathlib import Path

    from resolvent.installer.download_gate import DownloadGate

pytestmark = pytest.mark.skipif(not unpack_worker.available(), reason="no memfd_create")


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[object]]:
    """Send every wheel to a worker; record the workers started and the early publications."""
    monkeypatch.setattr(prepare_module, "_EARLY_UNPACK_MIN", 0)
    monkeypatch.setattr(prepare_module, "_MAX_TAIL_SHARE", 1.0)
    monkeypatch.setattr(prepare_module, "_WORKER_MIN", 0)
    seen: dict[str, list[object]] = {"started": [], "published": []}
    start = UnpackWorker.start.__func__  # type: ignore[attr-defined]
    publish = Cache.publish_staged

    def started(cls: type[UnpackWorker], shared: int) -> UnpackWorker:
        worker: UnpackWorker = start(cls, shared)
        seen["started"].append(worker)
        return worker

    def published(self: Cache, *args: object, **kwargs: object) -> Path:
        seen["published"].append("early")
        return publish(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(UnpackWorker, "start", classmethod(started))
    monkeypatch.setattr(Cache, "publish_staged", published)
    return seen


def _ended(worker: object) -> bool:
    assert isinstance(worker, UnpackWorker)
    return worker._process.returncode is not None  # reaped, not left running


def test_a_big_wheel_is_unpacked_by_a_worker_process(
    tmp_path: Path, workers: dict[str, list[object]]
) -> None:
    hook = _RangeHook()
    tree, wheel = _prepare(tmp_path, hook)
    assert len(workers["started"]) == 1
    assert workers["published"] == ["early"]
    assert all(_ended(worker) for worker in workers["started"])
    WheelArchive(wheel).extract(tmp_path / "whole")
    assert _files(tree) == _files(tmp_path / "whole")
    assert {p.relative_to(tree): p.stat().st_mode for p in tree.rglob("*")} == {
        p.relative_to(tmp_path / "whole"): p.stat().st_mode for p in (tmp_path / "whole").rglob("*")
    }
    assert not _leftovers(tmp_path / "cache")


def test_a_tail_from_another_file_is_never_published_from_a_worker(
    tmp_path: Path, workers: dict[str, list[object]]
) -> None:
    import zipfile  # noqa: PLC0415

    from tests.support.dists import Dist  # noqa: PLC0415

    assert BIG.files is not None
    impostor = Dist(BIG.name, BIG.version, files={**BIG.files, "bigpkg/zlast.py": "B = 2\n"})
    other = build_wheel(tmp_path / "other", impostor).read_bytes()
    with zipfile.ZipFile(tmp_path / "other" / f"{BIG.name}-{BIG.version}-py3-none-any.whl") as z:
        last = z.getinfo("bigpkg/zlast.py").header_offset
    tree, _ = _prepare(tmp_path, _RangeHook(other=other, stall_last=len(other) - last))
    assert len(workers["started"]) == 1
    assert workers["published"] == []
    assert (tree / "bigpkg" / "zlast.py").read_text() == "B = 1\n"
    assert not _leftovers(tmp_path / "cache")


def test_a_wrong_file_unpacked_by_a_worker_is_refused(
    tmp_path: Path, workers: dict[str, list[object]]
) -> None:
    with pytest.raises(HashMismatchError):
        _prepare(tmp_path, _RangeHook(), sha256="0" * 64)
    assert len(workers["started"]) == 1
    assert workers["published"] == []
    archive = tmp_path / "cache" / "archive-v1"
    assert not archive.exists() or not any(archive.iterdir())
    assert not _leftovers(tmp_path / "cache")
    assert all(_ended(worker) for worker in workers["started"])


def test_a_retried_download_stops_the_worker(
    tmp_path: Path, workers: dict[str, list[object]]
) -> None:
    tree, wheel = _prepare(tmp_path, _RangeHook(drop_first_download=True))
    assert workers["published"] == []
    WheelArchive(wheel).extract(tmp_path / "whole")
    assert _files(tree) == _files(tmp_path / "whole")
    assert not _leftovers(tmp_path / "cache")
    assert all(_ended(worker) for worker in workers["started"])


def test_a_worker_killed_half_way_costs_only_the_early_work(
    tmp_path: Path, workers: dict[str, list[object]], monkeypatch: pytest.MonkeyPatch
) -> None:
    stage = UnpackWorker.stage

    def stage_then_die(self: UnpackWorker, *args: object) -> None:
        stage(self, *args)  # type: ignore[arg-type]
        os.kill(self._process.pid, signal.SIGKILL)

    monkeypatch.setattr(UnpackWorker, "stage", stage_then_die)
    tree, wheel = _prepare(tmp_path, _RangeHook())
    assert len(workers["started"]) == 1
    assert workers["published"] == []  # unpacked again from the downloaded file
    WheelArchive(wheel).extract(tmp_path / "whole")
    assert _files(tree) == _files(tmp_path / "whole")
    assert not _leftovers(tmp_path / "cache")  # the dead worker's folder is gone too


# -- the worker on its own ------------------------------------------------------------------


def _half_given(tmp_path: Path) -> tuple[UnpackWorker, DownloadGate, Cache, bytes]:
    """A worker given a wheel whose tail and first half only are in its shared buffer."""
    wheel = build_wheel(tmp_path / "built", BIG)
    data = wheel.read_bytes()
    start = _tail_start(wheel)
    buffer, fd = shared_buffer(len(data))
    try:
        worker = UnpackWorker.start(fd)
    finally:
        os.close(fd)
    buffer[start:] = data[start:]
    half = len(data) // 2
    buffer[:half] = data[:half]
    gate = unpack_worker.RelayedGate(len(data), start, worker)
    cache = Cache(tmp_path / "cache")
    worker.stage(tmp_path / wheel.name, "ab" * 32, cache, gate)
    gate.advance(half)
    return worker, gate, cache, data


def test_a_stopped_gate_stops_the_worker_and_leaves_nothing(tmp_path: Path) -> None:
    worker, gate, cache, _ = _half_given(tmp_path)
    time.sleep(0.3)  # the worker is waiting for the second half
    gate.stop()
    with pytest.raises(WorkerFailed, match="DownloadStopped"):
        worker.result()
    assert _ended(worker)
    assert not _leftovers(cache.root)


def test_the_preparers_end_closing_stops_the_worker_and_leaves_nothing(tmp_path: Path) -> None:
    """As when the preparer is killed: the pipe's end is the worker's stop."""
    worker, _, cache, _ = _half_given(tmp_path)
    worker._stdin.close()  # what the kernel does for a killed parent
    with pytest.raises(WorkerFailed):
        worker.result()
    assert not _leftovers(cache.root)
