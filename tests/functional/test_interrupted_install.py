"""An upgrade interrupted at a precise step leaves the old version whole (issue #4).

- Ctrl+C: the main thread gets a real SIGINT while a link worker is part way through
  moving the old version's files out. It must stop the worker and wait for it before
  rolling back, even though CPython 3.11 reports a thread whose ``join`` was interrupted
  as no longer alive.
- SIGKILL: a child process kills itself at its Nth rename of the upgrade (a hook of the
  test's own, set up before resolvent's CLI runs: nothing in the product). The next run,
  whatever it is asked to do, rolls the killed run back from the journal it left in the
  environment's staging folder, instead of deleting the backups.

In both cases the environment must end up as one of the two whole states, byte for byte.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from resolvent.cli import cli
from resolvent.installer import destination as destination_module
from tests.support.dists import Dist, build_wheel
from tests.support.environment import hermetic_env
from tests.support.kill import run_killed_at
from tests.support.trees import snapshot

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

#: Files per version; the two versions share no file name, so an upgrade moves every
#: old file out (the removals) and every new one in (merged into existing folders).
FILES = 120


def _big(version: str, stem: str) -> Dist:
    files = {f"big/m{i}/{stem}{j}.py": f"V = {version!r}\n" for i in range(4) for j in range(30)}
    files["big/__init__.py"] = f"VERSION = {version!r}\n"
    files["big/m0/__init__.py"] = ""  # in both versions: replaced in place
    return Dist("big", version, files=files, entry_points={"console_scripts": {"big": "big:V"}})


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    build_wheel(folder, _big("1.0", "f"))
    build_wheel(folder, _big("2.0", "g"))
    build_wheel(folder, Dist("other", "1.0"))
    return folder


class Env:
    """A venv with ``big==1.0`` installed, and both versions' wheels in the cache."""

    def __init__(self, tmp_path: Path, wheels: Path) -> None:
        self.root = tmp_path / "venv"
        self.cache = tmp_path / "cache"
        self.wheels = wheels
        self.rv("venv", str(self.root))
        self.pip("install", "big==2.0")  # warm the cache: the upgrade below only links
        self.pip("uninstall", "big")
        self.pip("install", "big==1.0")
        self.old = snapshot(self.root)

    def rv(self, *args: str, code: int | None = 0) -> str:
        """Run resolvent; check its exit code (any, with ``code=None``)."""
        result = CliRunner().invoke(cli, list(args), env=hermetic_env(self.cache))
        assert code is None or result.exit_code == code, (result.output, result.exception)
        assert "Traceback" not in result.output
        return result.output

    def pip(self, verb: str, *args: str, code: int | None = 0) -> str:
        source = ["--no-index", "-f", str(self.wheels)] if verb in {"install", "sync"} else []
        return self.rv("pip", verb, "--python", str(self.root), *source, *args, code=code)

    def staging(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.name.startswith(".resolvent-"))


@pytest.fixture
def env(tmp_path: Path, wheels: Path) -> Env:
    return Env(tmp_path, wheels)


def _patch_replace(monkeypatch: pytest.MonkeyPatch, hook: Callable[[int], None]) -> None:
    """Call ``hook(n)`` before the nth ``os.replace`` a link worker makes."""
    real = os.replace
    count = 0
    lock = threading.Lock()

    def replace(src: str, dst: str) -> None:
        nonlocal count
        if threading.current_thread().name.startswith("resolvent-link-"):
            with lock:
                count += 1
                number = count
            hook(number)
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)


def _link_threads() -> Iterator[threading.Thread]:
    return (t for t in threading.enumerate() if t.name.startswith("resolvent-link-"))


@pytest.fixture
def terminal_sigint() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt, as in a terminal, whatever this run inherited.

    A test run started in the background of a non-interactive shell (`make test &`, a
    CI step) inherits SIGINT ignored, and Python then leaves it ignored: the interrupt a
    test sends would never arrive.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("at", [30, FILES + 40])  # moving old files out; moving new ones in
@pytest.mark.usefixtures("terminal_sigint")
def test_ctrl_c_during_an_upgrade_waits_for_the_worker_then_rolls_back(
    env: Env, monkeypatch: pytest.MonkeyPatch, at: int
) -> None:
    reacted = threading.Event()  # the main thread stopped the journal, or began rolling back
    rollback = destination_module.Journal.rollback
    stop = getattr(destination_module.Journal, "stop", None)

    def rolling_back(self: destination_module.Journal) -> list[str]:
        reacted.set()
        return rollback(self)

    def stopping(self: destination_module.Journal) -> None:
        reacted.set()
        if stop is not None:
            stop(self)

    monkeypatch.setattr(destination_module.Journal, "rollback", rolling_back)
    monkeypatch.setattr(destination_module.Journal, "stop", stopping, raising=False)

    def interrupt(number: int) -> None:
        if number != at:
            return
        # Ctrl+C, delivered to the main thread (blocked in `Thread.join`), as a terminal
        # does; this step then waits until the main thread has reacted to it.
        main = threading.main_thread().ident
        assert main is not None
        signal.pthread_kill(main, signal.SIGINT)
        deadline = time.monotonic() + 20
        while not reacted.is_set() and time.monotonic() < deadline:
            time.sleep(0.001)

    _patch_replace(monkeypatch, interrupt)
    output = env.pip("install", "big==2.0", code=130)
    for thread in list(_link_threads()):  # (before the fix, one still ran here)
        thread.join(20)
    monkeypatch.undo()
    assert output.strip().splitlines()[-1] == "error: interrupted"
    assert snapshot(env.root) == env.old  # big 1.0, whole; nothing of 2.0; no staging
    assert "Audited 1 package" in env.pip("install", "big==1.0")


def _killed_run(env: Env, at: int, *args: str) -> None:
    """Run ``pip install ARGS``, killed at the link workers' ``at``-th rename."""
    command = ["pip", "install", "--python", str(env.root), "--no-index", "-f", str(env.wheels)]
    variables = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "RESOLVENT_"))}
    variables |= {"RESOLVENT_CACHE_DIR": str(env.cache), "PIP_CONFIG_FILE": os.devnull}
    variables.pop("VIRTUAL_ENV", None)
    done = run_killed_at(at, [*command, *args], env=variables, threads="resolvent-link-")
    assert done.returncode == -signal.SIGKILL, done.stderr


@pytest.mark.parametrize(
    ("at", "rerun"),
    [
        (30, ("install", "big==1.0")),  # the old version, "already installed"
        (FILES + 40, ("install", "big==1.0")),
        (FILES + 40, ("install", "other")),  # an unrelated install
        (2 * FILES + 10, ("uninstall", "absent")),  # a command that changes nothing
    ],
)
def test_sigkill_during_an_upgrade_is_rolled_back_by_the_next_run(
    env: Env, at: int, rerun: tuple[str, ...]
) -> None:
    _killed_run(env, at, "big==2.0")
    assert env.staging() != []  # the killed run's backups (and, now, its journal)
    output = env.pip(*rerun)
    verified = env.pip("verify", code=None)
    assert "everything matches" in verified, verified
    if rerun[-1] == "other":
        env.pip("uninstall", "other")
    assert snapshot(env.root) == env.old  # big 1.0, whole again, byte for byte
    assert env.staging() == []
    assert "was interrupted" in output
    assert "rolled back" in output


def test_sigkill_during_an_upgrade_then_the_same_upgrade(env: Env, tmp_path: Path) -> None:
    _killed_run(env, FILES + 40, "big==2.0")
    env.pip("install", "big==2.0")
    assert env.staging() == []
    assert "everything matches" in env.pip("verify")
    code = "import big, big.m1.g3; print(big.VERSION)"
    python = env.root / "bin" / "python"
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "2.0"
    assert not list((env.root / "lib").glob("python*/site-packages/big-1.0.dist-info"))
