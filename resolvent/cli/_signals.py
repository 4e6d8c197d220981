"""Waiting for a stop signal (Ctrl+C, ``kill``) as an event, not as an exception.

A long-running command such as ``resolvent index serve`` must stop when asked, however
it was started. Python's own SIGINT handling fails that in two ways:

- A process started in the background by a non-interactive shell (``cmd &`` in a
  script, a CI step, ``make`` run from one) inherits SIGINT *ignored*, and Python then
  installs no handler at all: SIGINT does nothing and the command runs forever. A
  signal mask is inherited too, so a parent that blocked SIGINT has the same effect.
- SIGINT becomes a ``KeyboardInterrupt`` raised wherever the main thread happens to be
  (printing the URL, starting a thread, holding a lock), so what a stop looks like
  depends on timing.

:class:`StopSignals` installs its own handlers, whatever the inherited disposition, and
unblocks the signals. The handlers only record a signal, through
:func:`signal.set_wakeup_fd` and a socket pair (the self-pipe trick: no lock and no
exception in the handler, and a signal that arrives before :meth:`StopSignals.wait` is
not lost). The main thread then waits on that socket.
"""

from __future__ import annotations

import signal
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from types import FrameType, TracebackType
    from typing import Any, Self, TypeAlias

    # What signal.signal() takes and returns (None: a handler not set from Python).
    _Handler: TypeAlias = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

__all__ = ["StopSignals"]


def _record(signum: int, frame: FrameType | None) -> None:
    """Do nothing: the C-level handler has already written the signal to the wakeup fd.

    A Python handler is still needed, as an ignored or default signal never reaches it.
    """


class StopSignals:
    """While entered, the given signals are recorded instead of acting; :meth:`wait` returns one.

    Further signals after the first are absorbed too, so a second Ctrl+C cannot break
    the shutdown that follows; the previous handlers come back on exit. Use it from the
    main thread (the only one Python lets set signal handlers).

    Example::

        with StopSignals() as signals:
            server.start()
            try:
                signals.wait()
            finally:
                server.stop()
    """

    def __init__(self, signals: Iterable[int] = (signal.SIGINT, signal.SIGTERM)) -> None:
        self.signals = frozenset(signals)
        self._previous: dict[int, _Handler] = {}
        self._previous_fd: int | None = None  # None: our wakeup fd is not set
        self._previous_mask: set[int | signal.Signals] | None = None
        self._reader: socket.socket | None = None
        self._writer: socket.socket | None = None

    def __enter__(self) -> Self:
        self._reader, self._writer = socket.socketpair()
        self._writer.settimeout(0.0)  # non-blocking, as set_wakeup_fd requires
        try:
            self._previous_fd = signal.set_wakeup_fd(
                self._writer.fileno(), warn_on_full_buffer=False
            )
            for signum in sorted(self.signals):
                self._previous[signum] = signal.signal(signum, _record)
            if hasattr(signal, "pthread_sigmask"):  # POSIX; threads started later inherit it
                self._previous_mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, self.signals)
        except BaseException:
            self._restore()
            raise
        return self

    def wait(self) -> int:
        """Block until one of the signals has arrived (perhaps already); return its number."""
        assert self._reader is not None, "StopSignals.wait() outside its `with` block"
        while True:
            received = self._reader.recv(1)
            if not received:  # cannot happen while the writer is open; never spin on it
                raise RuntimeError("the signal wakeup socket was closed")
            # Other signals with Python handlers write their numbers here too; skip them.
            if received[0] in self.signals:
                return received[0]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._restore()

    def _restore(self) -> None:
        if self._previous_mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, self._previous_mask)
            self._previous_mask = None
        for signum, handler in self._previous.items():
            if handler is not None:  # a handler set outside Python cannot be put back
                signal.signal(signum, handler)
        self._previous.clear()
        if self._previous_fd is not None:
            signal.set_wakeup_fd(self._previous_fd)
            self._previous_fd = None
        if self._writer is not None:
            self._writer.close()
        if self._reader is not None:
            self._reader.close()
        self._reader = self._writer = None
