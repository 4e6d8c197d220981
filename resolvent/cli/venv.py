"""``resolvent venv``: create a virtual environment directly, in milliseconds."""

from __future__ import annotations

import os
from pathlib import Path

import click

from resolvent.cli._errors import run

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
def venv(
    path: Path,
    python: str | None,
    prompt: str | None,
    cache_dir: Path | None,
    *,
    seed: bool,
    clear: bool,
    system_site_packages: bool,
    quiet: bool,
) -> None:
    """Create a virtual environment at PATH (default: .venv)."""

    def say(text: str) -> None:
        if not quiet:
            click.echo(text, err=True)

    def action() -> None:
        from resolvent.installer.cache import Cache  # noqa: PLC0415
        from resolvent.installer.discovery import find_python  # noqa: PLC0415
        from resolvent.installer.venv import create_venv, query_interpreter  # noqa: PLC0415

        interpreter = find_python(python)
        # The interpreter's answer is kept in the cache, as installs keep it: asking a
        # Python costs a process start, most of the time a venv takes to make.
        cache_root = Cache.at(cache_dir).root
        info = query_interpreter(interpreter, cache_root=cache_root)
        say(f"Using Python {info.version_text} interpreter at: {info.base_executable}")
        created = create_venv(
            path,
            python=interpreter,
            seed=seed,
            prompt=prompt,
            clear=clear,
            system_site_packages=system_site_packages,
            cache_root=cache_root,
        )
        say(f"Creating virtual environment at: {path}")
        if seed:
            say(" + pip")
        activate = created.scripts / "activate"
        shown = activate if path.is_absolute() else os.path.relpath(activate)
        say(f"Activate with: source {shown}")

    run(action)
