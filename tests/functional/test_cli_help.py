"""Every subcommand answers ``--help`` (and the CLI loads them lazily)."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from resolvent.cli import COMMANDS, cli


def _paths() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = [()]
    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        assert command is not None
        found.append((name,))
        if isinstance(command, click.Group):
            sub = click.Context(command)
            found.extend((name, inner) for inner in command.list_commands(sub))
    return found


@pytest.mark.parametrize("path", _paths(), ids=lambda p: " ".join(p) or "resolvent")
def test_help(path):
    result = subprocess.run(
        [sys.executable, "-m", "resolvent", *path, "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def _last_line_printed(code: str) -> str:
    """Run ``code`` in a fresh interpreter and return the last line it printed."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout.strip().splitlines()[-1]


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys; from resolvent.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pysat', 'httpx', 'resolvent.solver.sat') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))"
    )
    assert _last_line_printed(code) == "HEAVY="
    assert COMMANDS


def test_version():
    result = subprocess.run(
        [sys.executable, "-m", "resolvent", "--version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "resolvent" in result.stdout


def test_commands_collect_rarely_but_still_collect():
    code = (
        "import gc, sys; from resolvent.cli import GC_THRESHOLDS, main\n"
        "before = gc.get_threshold()\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "tuned = before != gc.get_threshold() == GC_THRESHOLDS\n"
        "print(gc.isenabled(), tuned, gc.get_freeze_count() > 0)"
    )
    assert _last_line_printed(code) == "True True True"
