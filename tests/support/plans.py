"""An environment set up for rollback tests: two installed projects and a stray folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

from resolvent.installer.install import install_wheel
from tests.support.dists import Dist, build_wheel

if TYPE_CHECKING:
    from pathlib import Path

    from resolvent.installer.cache import Cache
    from resolvent.installer.venv import Venv

__all__ = ["install_old_and_up"]


def install_old_and_up(venv: Venv, cache: Cache, wheels: Path) -> Path:
    """Install ``old 1.0`` (nested folders) and ``up 1.0``, add a stray dist-info; return it.

    The plans of the rollback tests then remove ``old``, the stray folder, upgrade ``up``
    (pruning its ``gone/`` folder) and add packages sharing a namespace folder.
    """
    old = Dist("old", "1.0", files={"old/__init__.py": "", "old/deep/mod.py": ""})
    up1 = Dist("up", "1.0", files={"up/__init__.py": "V = 1\n", "up/gone/__init__.py": ""})
    install_wheel(build_wheel(wheels, old), venv.destination(), cache=cache)
    install_wheel(build_wheel(wheels, up1), venv.destination(), cache=cache)
    leftover = venv.site_packages / "zleft-1.0.dist-info"
    leftover.mkdir()
    (leftover / "METADATA").write_text("Name: zleft\n")
    return leftover
