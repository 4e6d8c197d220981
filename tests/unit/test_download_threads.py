"""Download bodies stream in threads of their own, off the event loop.

httpx's asynchronous stack costs about twice the interpreter time per piece of a body as
its synchronous one, all of it under the GIL that unpacking needs: the preparer streams
each body through a synchronous client in a download thread. These tests pin that, and
that a cancelled download stops its thread before the waiting task goes on.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from typing import TYPE_CHECKING

import pytest

from resolvent.installer import prepare as prepare_module
from resolvent.installer.cache import Cache
from resolvent.installer.prepare import Preparer, _Progress
from tests.support.index import serve_dists
from tests.support.wanted import served_wheel
from tests.unit.test_early_unpack import BIG

if TYPE_CHECKING:
    from pathlib import Path


def test_bodies_stream_in_download_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    original = prepare_module._hashers

    def spy(*args: object) -> object:
        threads.append(threading.current_thread().name)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(prepare_module, "_hashers", spy)
    with serve_dists(tmp_path / "served", [BIG]) as server:
        wheel = next((tmp_path / "served" / "index").glob("*.whl"))
        with Preparer(Cache(tmp_path / "cache")) as preparer:
            (ready,) = preparer.prepare([served_wheel(server.url, wheel, BIG)])
    assert ready.tree.is_dir()
    assert threads
    assert all(name.startswith("resolvent-fetch") for name in threads), threads


def test_a_cancelled_download_stops_its_thread_first(tmp_path: Path) -> None:
    with serve_dists(tmp_path / "served", [BIG]) as server:
        wheel = next((tmp_path / "served" / "index").glob("*.whl"))
        url = f"{server.url.removesuffix('/simple')}/files/{wheel.name}"
        target = tmp_path / "body"
        entered = threading.Event()
        release = threading.Event()
        progress = _Progress(1, None)
        original = progress.advance

        def slow(size: int = 0, *, finished: bool = False) -> None:
            entered.set()
            release.wait(5)
            original(size, finished=finished)

        progress.advance = slow  # type: ignore[method-assign]

        async def cancel_midway(preparer: Preparer) -> None:
            task = asyncio.ensure_future(preparer._download(url, target, {}, {}, progress))
            await asyncio.to_thread(entered.wait, 5)
            task.cancel()
            await asyncio.sleep(0.05)
            # The task waits for its thread, which is held mid-body: not done yet.
            assert not task.done()
            release.set()
            with pytest.raises(asyncio.CancelledError):
                await task

        with Preparer(Cache(tmp_path / "cache")) as preparer:
            asyncio.run(cancel_midway(preparer))
        size = target.stat().st_size
        # Stopped at the next piece: not the whole body.
        assert size < wheel.stat().st_size
        assert (
            hashlib.sha256(target.read_bytes()).hexdigest()
            != hashlib.sha256(wheel.read_bytes()).hexdigest()
        )


def test_a_cancelled_download_does_not_wait_for_a_stalled_server(tmp_path: Path) -> None:
    """Cancelling cuts the connection of a read that waits on a server gone quiet.

    Between pieces the thread sees the stop at once; a read blocked on a stalled server
    would hold the cancelled task (and Ctrl+C, and the process's exit, which joins the
    download threads) until the server went on or the read timed out, a minute later.
    """
    from tests.support.index import SlowBody  # noqa: PLC0415

    stall = SlowBody(r"\.whl$", delay=60)
    with serve_dists(tmp_path / "served", [BIG], hooks=stall) as server:
        wheel = next((tmp_path / "served" / "index").glob("*.whl"))
        url = f"{server.url.removesuffix('/simple')}/files/{wheel.name}"
        progress = _Progress(1, None)
        started = threading.Event()
        original = progress.advance

        def seen(size: int = 0, *, finished: bool = False) -> None:
            started.set()
            original(size, finished=finished)

        progress.advance = seen  # type: ignore[method-assign]

        async def cancel_during_the_stall(preparer: Preparer) -> None:
            task = asyncio.ensure_future(
                preparer._download(url, tmp_path / "body", {}, {}, progress)
            )
            await asyncio.to_thread(started.wait, 10)
            await asyncio.sleep(0.2)  # the first half is in; the read now waits
            task.cancel()
            # A guard, not a measure: the server stays quiet for 60 s.
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, 30)

        with Preparer(Cache(tmp_path / "cache")) as preparer:
            asyncio.run(cancel_during_the_stall(preparer))
        assert stall.fired == 1
