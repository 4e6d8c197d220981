"""Running the two compilers, and the index server they both read.

Both run as a user would: ``resolvent pip compile`` (this checkout, through the
interpreter running the tester) and ``uv pip compile`` (the harness's pinned uv), each
with a private cache, the same target (``--python-version 3.11 --python-platform
x86_64-manylinux_2_28``), the universe's resolution and pre-release flags, and the local
index as the only index. Every variable that configures pip, uv or resolvent is removed
from their environment, so a developer's settings cannot change an answer.

The index is ``resolvent index serve`` in its own process: the server the product ships,
kept out of the tester's interpreter so the oracle's searches cannot slow its answers.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from packaging.utils import canonicalize_name

if TYPE_CHECKING:
    from types import TracebackType

    from bench.difftest.universe import RandomUniverse

__all__ = [
    "REPO",
    "TARGET_FLAGS",
    "CompileRun",
    "IndexProcess",
    "UvMissingError",
    "find_uv",
    "run_compile",
]

REPO = Path(__file__).resolve().parents[2]
#: Where ``make bench`` installs its pinned uv (see ``bench/harness/tools.py``).
HARNESS_UV = REPO / "bench" / ".work" / "tools" / "uv" / "bin" / "uv"
TARGET_FLAGS = ("--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_28")
#: A compile of a dozen small wheels takes a second; one that takes minutes is a finding.
TIMEOUT = 180.0

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


class UvMissingError(RuntimeError):
    """No uv to compare with."""


def find_uv(explicit: Path | None = None) -> Path:
    """Return the uv to run: ``explicit``, else the bench harness's pinned one."""
    uv = explicit or HARNESS_UV
    if not uv.is_file():
        raise UvMissingError(
            f"no uv at {uv}: run `make bench` once (it installs the pinned uv), or pass --uv PATH"
        )
    return uv


def tool_env(source: Path | None = None) -> dict[str, str]:
    """Return this process's environment without pip, uv or resolvent configuration.

    ``source``: a folder holding the ``resolvent`` package to run instead of the
    installed one (a snapshot of a commit, while the checkout is being edited).
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "UV_", "RESOLVENT_"))
        and k not in ("VIRTUAL_ENV", "PYTHONPATH")
    }
    env.update(UV_NO_CONFIG="1", PIP_CONFIG_FILE=os.devnull, NO_COLOR="1")
    if source is not None:
        env["PYTHONPATH"] = str(source)
    return env


def parse_pins(text: str) -> dict[str, str]:
    """Return ``{canonical name: version}`` of a compiled requirements file."""
    pins: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        match = _PIN.match(line)
        if match and not line.startswith("#"):
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


@dataclass
class CompileRun:
    """One compiler's run: its exit status (``"timeout"``), output tail and pins."""

    tool: str
    argv: list[str]
    returncode: int | str
    stderr: str
    seconds: float
    #: ``None`` when the compile failed.
    pins: dict[str, str] | None

    @property
    def ok(self) -> bool:
        """Whether it wrote an answer."""
        return self.returncode == 0 and self.pins is not None

    def to_json(self) -> dict[str, Any]:
        """Return the run as JSON data."""
        return {
            "argv": self.argv,
            "returncode": self.returncode,
            "stderr": self.stderr,
            "seconds": round(self.seconds, 2),
            "pins": self.pins,
        }


def compile_argv(
    tool: str, exe: Path | None, universe: RandomUniverse, index_url: str, cache: Path
) -> list[str]:
    """Return the command line of ``tool`` (``resolvent`` or ``uv``) compiling ``in.txt``."""
    head = [sys.executable, "-m", "resolvent"] if tool == "resolvent" else [str(exe)]
    return [
        *head,
        "pip",
        "compile",
        "in.txt",
        "-o",
        f"{tool}.out.txt",
        "--cache-dir",
        str(cache),
        "--index-url",
        index_url,
        *TARGET_FLAGS,
        *universe.flags(),
    ]


def run_compile(
    tool: str,
    exe: Path | None,
    universe: RandomUniverse,
    index_url: str,
    *,
    workdir: Path,
    cache: Path,
    source: Path | None = None,
) -> CompileRun:
    """Compile ``workdir/in.txt`` (written from ``universe.root``) with ``tool``.

    ``source`` replaces the installed resolvent package (see :func:`tool_env`).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "in.txt").write_text("\n".join(universe.root) + "\n", encoding="utf-8")
    out = workdir / f"{tool}.out.txt"
    out.unlink(missing_ok=True)
    argv = compile_argv(tool, exe, universe, index_url, cache)
    start = time.monotonic()
    returncode: int | str
    try:
        done = subprocess.run(
            argv,
            cwd=workdir,
            env=tool_env(source if tool == "resolvent" else None),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        returncode, stderr = done.returncode, done.stderr
    except subprocess.TimeoutExpired as expired:
        returncode, stderr = "timeout", str(expired.stderr or "")
    seconds = time.monotonic() - start
    pins = parse_pins(out.read_text(encoding="utf-8")) if returncode == 0 and out.exists() else None
    return CompileRun(tool, argv, returncode, stderr[-6000:], seconds, pins)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class IndexProcess:
    """``resolvent index serve FOLDER`` in a child process, for a ``with`` block."""

    def __init__(self, folder: Path, log: Path, source: Path | None = None) -> None:
        self.folder = folder
        self.log = log
        self.source = source
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/simple"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        argv = [sys.executable, "-m", "resolvent", "index", "serve", str(self.folder)]
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                [*argv, "--port", str(self.port)],
                stdout=subprocess.DEVNULL,
                stderr=log,
                env=tool_env(self.source),
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the index server exited; see {self.log}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.url + "/", timeout=2),  # noqa: S310 - our http URL
            ):
                return self
            time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError(f"the index server did not answer on {self.url}; see {self.log}")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        self._process = None
