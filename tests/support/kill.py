"""Run resolvent's command line in a child process that SIGKILLs itself at a known step.

A kill after a delay lands wherever the process happens to be; a test that must land in
the few milliseconds in which an upgrade moves files instead counts the child's calls to
:func:`os.replace` (every step an install takes in the environment is one) and kills the
process at the Nth. The hook is installed by the child's own start-up code, before
resolvent is imported: the product has no test hook.

Example::

    done = run_killed_at(40, ["pip", "install", ...], env=variables)
    done.returncode == -signal.SIGKILL  # or 0, if the run took fewer than 40 steps
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["run_killed_at"]

ROOT = Path(__file__).resolve().parents[2]

_CHILD = """
import os, signal, sys, threading
at, prefix = int(sys.argv[1]), sys.argv[2]
real = os.replace
count = 0
lock = threading.Lock()
def replace(src, dst):
    global count
    if threading.current_thread().name.startswith(prefix):
        with lock:
            count += 1
            if count == at:
                os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst)
os.replace = replace
from resolvent.cli import run
sys.argv[:3] = ["resolvent"]
run()
"""


def run_killed_at(
    at: int,
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    threads: str = "",
) -> subprocess.CompletedProcess[str]:
    """Run ``resolvent ARGS``, killed (SIGKILL) just before its ``at``-th ``os.replace``.

    Only calls made in threads whose name starts with ``threads`` count (every thread by
    default; ``"resolvent-link-"`` counts the link workers' alone).
    """
    variables = dict(env)
    variables["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-c", _CHILD, str(at), threads, *args]
    return subprocess.run(command, env=variables, capture_output=True, text=True, check=False)
