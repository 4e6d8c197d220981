"""StopSignals: a stop signal is recorded, never raised, never lost; handlers come back."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

from resolvent.cli._signals import StopSignals

if TYPE_CHECKING:
    from types import FrameType


def test_signal_is_recorded_not_raised_and_later_ones_absorbed() -> None:
    before = signal.getsignal(signal.SIGINT)
    with StopSignals() as signals:
        # Sent before wait(): the wakeup socket holds it (no KeyboardInterrupt here).
        signal.raise_signal(signal.SIGINT)
        assert signals.wait() == signal.SIGINT
        signal.raise_signal(signal.SIGINT)  # a second Ctrl+C during shutdown: absorbed
        signal.raise_signal(signal.SIGTERM)
        assert signals.wait() == signal.SIGINT
    assert signal.getsignal(signal.SIGINT) is before
    assert signal.set_wakeup_fd(-1) == -1  # no wakeup fd left behind


def test_overrides_an_inherited_ignored_sigint() -> None:
    # A background job of a non-interactive shell starts with SIGINT ignored.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with StopSignals() as signals:
            # Checked first, so that a regression fails here instead of waiting forever.
            assert callable(signal.getsignal(signal.SIGINT))
            signal.raise_signal(signal.SIGINT)
            assert signals.wait() == signal.SIGINT
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_unblocks_an_inherited_blocked_sigint_and_blocks_it_again() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        with StopSignals():
            assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())
        assert signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def test_other_signals_keep_their_handlers_and_are_skipped() -> None:
    seen: list[int] = []

    def on_usr1(signum: int, frame: FrameType | None) -> None:
        seen.append(signum)

    previous = signal.signal(signal.SIGUSR1, on_usr1)
    try:
        with StopSignals([signal.SIGTERM]) as signals:
            # SIGUSR1 also writes to the wakeup socket; wait() must not return it.
            signal.raise_signal(signal.SIGUSR1)
            signal.raise_signal(signal.SIGTERM)
            assert signals.wait() == signal.SIGTERM
        assert seen == [signal.SIGUSR1]
    finally:
        signal.signal(signal.SIGUSR1, previous)
