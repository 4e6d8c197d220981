"""Fewer garbage collections while a search runs.

A search allocates hundreds of thousands of objects that live until it ends (terms,
ranges, incompatibilities, clauses and the memo tables over them). With CPython's default
thresholds the cyclic collector runs every 700 net allocations and, every hundred of
those, walks every tracked object in the process: on the layered benchmark universe
that was half of PubGrub's time, while finding almost nothing to free (the search's data
is acyclic and still in use). :func:`fewer_collections` raises the first threshold for
the duration of a search and restores it afterwards; collection still happens, only
less often. It changes no answer and touches no I/O or clock.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["fewer_collections"]

#: The first-generation threshold during a search (CPython's default is 700).
SEARCH_THRESHOLD = 20_000

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's first threshold while the block runs (reentrant, thread-safe).

    Nested and concurrent searches share one raise: the first to enter saves the
    thresholds, the last to leave restores them. A threshold already above ours is
    left alone.
    """
    global _depth, _saved  # noqa: PLW0603 - one process-wide setting, guarded by the lock
    with _lock:
        if _depth == 0:
            current = gc.get_threshold()
            _saved = (current[0], current[1], current[2])
            if current[0] < SEARCH_THRESHOLD:
                gc.set_threshold(SEARCH_THRESHOLD, current[1], current[2])
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
