"""The command line ends its process without the interpreter's teardown, losing nothing.

``resolvent.cli._exit`` skips freeing the heap (``os._exit``), so what the ordinary exit
does for us must still happen: buffered output reaches a pipe, exit functions run, a
thread still working is waited for, and a message code is printed as ``SystemExit``
prints it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(body: str) -> subprocess.CompletedProcess[str]:
    program = f"import atexit, sys, threading, time\nfrom resolvent.cli import _exit\n{body}"
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False, timeout=60
    )


@pytest.mark.parametrize(("code", "status"), [(0, 0), (None, 0), (1, 1), (2, 2)])
def test_buffered_output_and_exit_functions_survive_the_fast_exit(
    code: int | None, status: int
) -> None:
    done = _run(
        "atexit.register(lambda: print('exit function ran'))\n"
        "sys.stdout.write('x' * 200_000)\n"
        "sys.stderr.write('to stderr')\n"
        f"_exit({code!r})\n"
    )
    assert done.returncode == status
    assert done.stdout == "x" * 200_000 + "exit function ran\n"
    assert done.stderr == "to stderr"


def test_a_thread_still_running_is_waited_for() -> None:
    done = _run(
        "def late():\n"
        "    time.sleep(0.3)\n"
        "    print('late thread finished', flush=True)\n"
        "threading.Thread(target=late).start()\n"
        "_exit(0)\n"
    )
    assert done.returncode == 0
    assert done.stdout == "late thread finished\n"


def test_a_message_code_is_printed_and_exits_1() -> None:
    done = _run("_exit('error: something went wrong')\n")
    assert done.returncode == 1
    assert done.stderr == "error: something went wrong\n"
