"""A command is one whole tool invocation the harness runs in a subprocess, and times.

Every measurement is a sequence of commands (``python -m venv`` then ``pip install``,
say) run one after another with the wall clock taken around all of them. Each tool runs
with a clean environment: variables that configure package tools (``PIP_*``, ``UV_*``,
``POETRY_*``, ``PDM_*``, ``RESOLVENT_*``, ``CONDA_*``, ``VIRTUAL_ENV``...) are removed, so
a developer's configuration cannot change what is measured, and the tool adapter adds
back only what it means to set (its cache folder, above all). Certificate settings stay:
they say how to reach the network, not what to install.

Example::

    >>> run_commands([Command(("true",))], env=clean_env(), log=Path("l"))  # doctest: +SKIP
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

__all__ = ["Command", "CommandFailedError", "clean_env", "run_commands", "run_quiet"]

_TOOL_PREFIXES = ("PIP_", "UV_", "POETRY_", "PDM_", "RESOLVENT_", "CONDA_", "MAMBA_", "PIXI_")
#: ``PYTHONDONTWRITEBYTECODE`` too: set in some shells and CI images, it makes every
#: Python-written tool recompile its own modules on each run, which a user's machine
#: does not do.
_TOOL_VARIABLES = {
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONUSERBASE",
    "PYTHONDONTWRITEBYTECODE",
}
#: How to reach the network is kept; what to install is not.
_KEEP = {"PIP_CERT", "PIP_CLIENT_CERT", "PIP_DEFAULT_TIMEOUT", "PIP_PROXY", "PIP_TRUSTED_HOST"}


@dataclass(frozen=True, slots=True)
class Command:
    """One subprocess: its arguments, working folder and extra environment variables."""

    argv: tuple[str, ...]
    cwd: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)


class CommandFailedError(RuntimeError):
    """A command exited non-zero; the tail of its output says why."""

    def __init__(self, argv: Sequence[str], returncode: int, output: str) -> None:
        super().__init__(argv, returncode, output)
        self.argv = tuple(argv)
        self.returncode = returncode
        self.output = output

    def __str__(self) -> str:
        tail = "\n".join(self.output.strip().splitlines()[-15:])
        return f"`{' '.join(self.argv)}` exited with {self.returncode}:\n{tail}"


def clean_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return ``base`` (default: this process's environment) without tool configuration."""
    source = os.environ if base is None else base
    return {
        key: value
        for key, value in source.items()
        if key in _KEEP or (not key.startswith(_TOOL_PREFIXES) and key not in _TOOL_VARIABLES)
    }


def run_commands(
    commands: Sequence[Command], *, env: Mapping[str, str], log: Path, timeout: float = 3600
) -> float:
    """Run ``commands`` in order and return the wall time of all of them, in seconds.

    Output (stdout and stderr) goes to ``log``. Raises :class:`CommandFailedError` at the
    first command that fails; nothing after it runs.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    elapsed = 0.0
    with log.open("w", encoding="utf-8") as stream:
        for command in commands:
            stream.write(f"$ {' '.join(command.argv)}\n")
            stream.flush()
            start = time.perf_counter()
            try:
                completed = subprocess.run(
                    command.argv,
                    cwd=command.cwd,
                    env={**env, **command.env},
                    stdin=subprocess.DEVNULL,
                    stdout=stream,
                    stderr=subprocess.STDOUT,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise CommandFailedError(
                    command.argv, -1, f"timed out after {timeout:.0f} s"
                ) from None
            elapsed += time.perf_counter() - start
            if completed.returncode != 0:
                stream.flush()
                raise CommandFailedError(
                    command.argv,
                    completed.returncode,
                    log.read_text(encoding="utf-8", errors="replace"),
                )
    return elapsed


def run_quiet(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 1800,
) -> str:
    """Run a setup command (not timed) and return its stdout; raise on failure."""
    completed = subprocess.run(
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise CommandFailedError(argv, completed.returncode, completed.stdout + completed.stderr)
    return completed.stdout
