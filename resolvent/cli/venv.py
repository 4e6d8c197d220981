"""``resolvent venv``: create a virtual environment directly, in milliseconds.

The command line is usually read without click (see :mod:`resolvent.cli._fast`, which
must know every option below); this click command reads the rest, answers ``--help``
and words the errors. Both run :func:`~resolvent.cli._venv_run.create_venv_command`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from resolvent.cli._venv_run import create_venv_command

__all__ = ["venv"]


@click.command("venv")
@click.argument("path", required=False, default=".venv", type=click.Path(path_type=Path))
@click.option(
    "-p",
    "--python",
    "python",
    default=None,
    help="Interpreter: a path, a venv, a name on PATH or a version like 3.12.",
)
@click.option("--seed", is_flag=True, help="Install pip into the environment.")
@click.option("--prompt", default=None, help="The prompt `activate` shows ('.': folder name).")
@click.option("--clear", is_flag=True, help="Replace an existing virtual environment.")
@click.option(
    "--system-site-packages", is_flag=True, help="Let the venv see the base interpreter's packages."
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The cache (it keeps the interpreter's answers): default $RESOLVENT_CACHE_DIR.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def venv(**params: Any) -> None:
    """Create a virtual environment at PATH (default: .venv)."""
    # click passes every parameter by name: the shared function names them once.
    create_venv_command(**params)
