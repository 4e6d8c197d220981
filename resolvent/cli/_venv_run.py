"""What ``resolvent venv`` does once its command line is read, by click or without it.

Both readers (the click command of :mod:`resolvent.cli.venv` and the plain parser of
:mod:`resolvent.cli._fast`) call :func:`create_venv_command`, so the two cannot differ in
what they do or print. Nothing here imports click unless there is an error to print or
text that click's ``echo`` would change (see :func:`~resolvent.cli._errors.say`), nor
:mod:`pathlib` or :mod:`json` unless something goes wrong or the interpreter must be
asked: the plain reader gives the paths as text, and the cache keeps the interpreter's
answer in a format of its own (see :mod:`resolvent.installer.venv`).
"""

# The paths are text here (see above):
# ruff: noqa: PTH117, PTH118
from __future__ import annotations

import os

from resolvent import TYPE_CHECKING
from resolvent.cli._errors import run, say

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["create_venv_command"]


def create_venv_command(
    path: Path | str,
    python: str | None,
    prompt: str | None,
    cache_dir: Path | str | None,
    *,
    seed: bool,
    clear: bool,
    system_site_packages: bool,
    quiet: bool,
) -> None:
    """Create the virtual environment ``resolvent venv`` was asked for, and say so.

    A path given as text is spelled as ``str(Path(...))`` spells it (click gives a
    ``Path``; the plain reader, :func:`~resolvent.cli._fast.path_text`), so that both
    print the same.
    """

    def tell(text: str) -> None:
        if not quiet:
            say(text)

    def action() -> None:
        from resolvent.installer.discovery import find_python  # noqa: PLC0415
        from resolvent.installer.venv import make_venv, query_interpreter  # noqa: PLC0415
        from resolvent.user_home import default_cache_folder  # noqa: PLC0415

        interpreter = find_python(python)
        # The interpreter's answer is kept in the cache, as installs keep it: asking a
        # Python costs a process start, most of the time a venv takes to make. The
        # cache's folder as `Cache.at` finds it, without the `Cache` (its module imports
        # `pathlib`, `re` and `enum`).
        cache_root = os.fspath(cache_dir) if cache_dir is not None else default_cache_folder()
        info = query_interpreter(interpreter, cache_root=cache_root)
        tell(f"Using Python {info.version_text} interpreter at: {info.base_executable}")
        # Asked once: `create_venv` would ask again (and read the cache again).
        target = make_venv(
            path,
            info,
            seed=seed,
            prompt=prompt,
            clear=clear,
            system_site_packages=system_site_packages,
        )
        tell(f"Creating virtual environment at: {path}")
        if seed:
            tell(" + pip")
        # As `str(Path(target) / scripts / "activate")`: the scripts folder is relative
        # and already normalised by the interpreter's `sysconfig`.
        activate = os.path.join(target, info.scripts, "activate")
        # A text path comes from the plain reader, which runs on POSIX only, where
        # `os.path.isabs` and `Path.is_absolute` agree.
        absolute = os.path.isabs(path) if isinstance(path, str) else path.is_absolute()
        tell(f"Activate with: source {activate if absolute else os.path.relpath(activate)}")

    run(action)
