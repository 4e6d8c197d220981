"""What ``resolvent venv`` does once its command line is read, by click or without it.

Both readers (the click command of :mod:`resolvent.cli.venv` and the plain parser of
:mod:`resolvent.cli._fast`) call :func:`create_venv_command`, so the two cannot differ in
what they do or print. Nothing here imports click unless there is an error to print or
text that click's ``echo`` would change (see :func:`~resolvent.cli._errors.say`).
"""

from __future__ import annotations

import os

from resolvent import TYPE_CHECKING
from resolvent.cli._errors import run, say

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["create_venv_command"]


def create_venv_command(
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
    """Create the virtual environment ``resolvent venv`` was asked for, and say so."""

    def tell(text: str) -> None:
        if not quiet:
            say(text)

    def action() -> None:
        from resolvent.installer.cache import Cache  # noqa: PLC0415
        from resolvent.installer.discovery import find_python  # noqa: PLC0415
        from resolvent.installer.venv import create_venv, query_interpreter  # noqa: PLC0415

        interpreter = find_python(python)
        # The interpreter's answer is kept in the cache, as installs keep it: asking a
        # Python costs a process start, most of the time a venv takes to make.
        cache_root = Cache.at(cache_dir).root
        info = query_interpreter(interpreter, cache_root=cache_root)
        tell(f"Using Python {info.version_text} interpreter at: {info.base_executable}")
        created = create_venv(
            path,
            python=interpreter,
            seed=seed,
            prompt=prompt,
            clear=clear,
            system_site_packages=system_site_packages,
            cache_root=cache_root,
        )
        tell(f"Creating virtual environment at: {path}")
        if seed:
            tell(" + pip")
        activate = created.scripts / "activate"
        shown = activate if path.is_absolute() else os.path.relpath(activate)
        tell(f"Activate with: source {shown}")

    run(action)
