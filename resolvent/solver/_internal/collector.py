"""Fewer garbage collections while a search runs.

A search allocates hundreds of thousands of objects that live until it ends (terms,
ranges, incompatibilities, clauses and the memo tables over them). With CPython's default
thresholds the cyclic collector runs every 700 net allocations and, every hundred of
those, walks every tracked object in the process: on the layered benchmark universe
that was half of PubGrub's time, while finding almost nothing to free (the search's data
is acyclic and still in use). :func:`fewer_collections` raises the first threshold for
the duration of a search and restores it afterwards; collection still happens, only
less often. It also freezes (:func:`gc.freeze`) the objects that exist when the search
starts, so that the full collections that still happen walk only what the search
itself allocated, not the universe, the index data and every module loaded before it
(a second search in one process met a full collection that walked 430,000 objects,
about a sixth of its time). It changes no answer and touches no I/O or clock.
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
_froze = False


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's first threshold and freeze the older objects while the block runs.

    Reentrant and thread-safe: nested and concurrent searches share one raise and one
    freeze; the first to enter saves the thresholds and freezes, the last to leave
    restores them and unfreezes (:func:`gc.unfreeze` puts the frozen objects back in
    the oldest generation, where the next full collection sees them again: garbage
    that was frozen is freed then, only later). A threshold already above ours is left
    alone, and so is a freeze the process made itself (a pre-forking server's): when
    objects are already frozen, this neither freezes more nor unfreezes any. In CPython
    freezing and unfreezing are list splices: constant time, whatever the heap's size.
    """
    global _depth, _saved, _froze  # noqa: PLW0603 - one process-wide setting, guarded by the lock
    with _lock:
        if _depth == 0:
            current = gc.get_threshold()
            _saved = (current[0], current[1], current[2])
            if current[0] < SEARCH_THRESHOLD:
                gc.set_threshold(SEARCH_THRESHOLD, current[1], current[2])
            if gc.get_freeze_count() == 0:
                gc.freeze()
                _froze = True
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                if _saved is not None:
                    gc.set_threshold(*_saved)
                    _saved = None
                if _froze:
                    _froze = False
                    gc.unfreeze()
