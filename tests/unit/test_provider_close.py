"""Closing an index provider ends every fetch it started, and leaves no connection open.

A version's metadata, once fetched, starts the pages of what it requires. When that
happened while the provider closed, the new pages were not waited for: the client
closed under them, and each then made a new connection pool that nothing closed. Its
keep-alive connections outlived the event loop, and the garbage collector found them
much later (``ResourceWarning: unclosed transport``, in whichever test collected them).
"""

from __future__ import annotations

import gc
import time
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import Version

from resolvent.index.config import IndexConfig
from resolvent.index.http import LoopThread
from resolvent.index.provider import IndexProvider
from resolvent.target import host_target
from tests.support.dists import Dist
from tests.support.index import HookChain, SlowBody, serve_dists

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    import pytest

_DEPENDENCIES = [f"dep{i}" for i in range(4)]


@contextmanager
def _unclosed() -> Iterator[list[str]]:
    """Collect garbage at the end of the block; list the resources it found unclosed."""
    found: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield found
        gc.collect()
    found.extend(str(w.message) for w in caught if issubclass(w.category, ResourceWarning))


def _wait_for(condition: Callable[[], bool], limit: float = 10.0) -> None:
    """Wait until ``condition()`` holds, or ``limit`` seconds at most (never an error)."""
    deadline = time.monotonic() + limit
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def _running_pages(provider: IndexProvider) -> list[str]:
    return sorted(name for name, task in provider._page_tasks.items() if not task.done())


def _failed_pages(provider: IndexProvider) -> list[str]:
    return sorted(
        f"{name}: {task.exception()!r}"
        for name, task in provider._page_tasks.items()
        if not task.cancelled() and task.exception() is not None
    )


def _close_while_metadata_arrives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[str], list[str]]:
    """Close a provider as a prefetched version's metadata arrives and starts pages.

    Returns the pages still running when the provider came to stop its loop, and those
    that failed (a page cut short by the grace's end is cancelled, which is no failure).
    """
    top = canonicalize_name("top")
    dists = [Dist("top", "1.0", requires=_DEPENDENCIES), *(Dist(n, "1.0") for n in _DEPENDENCIES)]
    # The metadata comes once the provider is closing; the pages it starts come slowly.
    slow_metadata = SlowBody(r"/top-1\.0-[^/]*\.metadata$", delay=0.5)
    slow_pages = SlowBody(r"/simple/dep\d/$", delay=0.3, times=len(_DEPENDENCIES))
    with serve_dists(tmp_path / "srv", dists, hooks=HookChain(slow_metadata, slow_pages)) as server:
        config = IndexConfig(server.url + "/")
        provider = IndexProvider(config, host_target(), cache_dir=tmp_path / "http")
        close_loop = LoopThread.close
        running: list[str] = []

        def late_close(loop: LoopThread) -> None:
            running.extend(_running_pages(provider))
            # The calling thread is late to stop the loop, as on a busy machine: what
            # still ran has ended (fetched or failed) by then.
            _wait_for(lambda: not _running_pages(provider))
            close_loop(loop)

        monkeypatch.setattr(LoopThread, "close", late_close)
        try:
            with provider:
                assert provider.list_versions(top)
                provider.prefetch(top, [Version("1.0")])
        finally:
            monkeypatch.undo()
        assert slow_metadata.fired == 1
    return running, _failed_pages(provider)


def test_closing_ends_the_fetches_started_while_it_drains_and_their_connections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _unclosed() as found:
        running, failed = _close_while_metadata_arrives(tmp_path, monkeypatch)
    assert running == []
    assert failed == []
    assert found == []


def test_a_closed_preparer_opens_no_new_download_client(tmp_path: Path) -> None:
    """A download left running by an interrupted prepare must not open a pool after close."""
    import pytest  # noqa: PLC0415

    from resolvent.installer.cache import Cache  # noqa: PLC0415
    from resolvent.installer.prepare import Preparer  # noqa: PLC0415

    preparer = Preparer(Cache(tmp_path / "cache"))
    preparer.close()
    with pytest.raises(RuntimeError, match="closed"):
        preparer._http()  # what a leftover download would call
