"""Counters of work done inside packaging, for tests that must not time anything."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import packaging._ranges

if TYPE_CHECKING:
    import pytest

__all__ = ["SOLVER_MARKERS", "count_calls", "count_merge_steps"]

#: The marker environment of the solver tests' default target (CPython 3.12 on Linux).
SOLVER_MARKERS = {
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_release": "",
    "platform_version": "",
    "implementation_version": "3.12.0",
}


def count_calls(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[int]:
    """Count the calls of ``owner.name`` (a function or a method) for this test.

    Returns a one-item list that the count goes into.
    """
    count = [0]
    real = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return count


def count_merge_steps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the steps of packaging's interval merges (one emptiness test per step).

    Returns a one-item list that the count goes into. Code run in this process is
    counted: n log n steps for n ``!=`` holes, where folding them one by one took
    n^2 / 2 (12 million for 5,000).
    """
    return count_calls(monkeypatch, packaging._ranges, "range_is_empty")
