"""Fixtures shared by the installer's unit tests: a fresh venv, an empty cache, an upgrade.

Also a way to make :func:`os.replace` fail part way through an install.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from resolvent.installer.cache import Cache
from resolvent.installer.install import install_wheel
from resolvent.installer.venv import Venv, create_venv
from tests.support.dists import Dist, build_wheel


@pytest.fixture
def venv(tmp_path: Path) -> Venv:
    return create_venv(tmp_path / "env", python=Path(sys.executable))


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


@pytest.fixture
def upgrade_wheel(venv: Venv, cache: Cache, tmp_path: Path) -> Path:
    """Demo 2.0's wheel (ten new modules), with demo 1.0 installed in ``venv``.

    The new wheel is already unpacked in ``cache``, so that only the install's own moves
    are counted by a test that patches :func:`os.replace`.
    """
    old = Dist("demo", "1.0", files={"demo/__init__.py": "V = 1\n", "demo/old_only.py": ""})
    new = Dist("demo", "2.0", files={f"demo/m{i}.py": "" for i in range(10)})
    install_wheel(build_wheel(tmp_path / "w", old), venv.destination(), cache=cache)
    new_wheel = build_wheel(tmp_path / "w", new)
    cache.unpack_wheel(new_wheel)
    return new_wheel


#: ``failing_replace(n, error)``: make :func:`os.replace` raise ``error(src, dst)`` on its
#: n-th call; returns the list of every call's destination, filled as they happen.
FailingReplace = Callable[[int, Callable[[str, str], OSError]], list[str]]


@pytest.fixture
def failing_replace(monkeypatch: pytest.MonkeyPatch) -> FailingReplace:
    """Patch :func:`os.replace` (``monkeypatch.undo()`` restores it) to fail on a call."""

    def patch(nth: int, error: Callable[[str, str], OSError]) -> list[str]:
        real_replace = os.replace
        calls: list[str] = []

        def flaky_replace(src: str, dst: str) -> None:
            calls.append(dst)
            if len(calls) == nth:
                raise error(src, dst)
            real_replace(src, dst)

        monkeypatch.setattr(os, "replace", flaky_replace)
        return calls

    return patch
