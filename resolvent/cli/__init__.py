"""The command line: a thin click layer whose subcommands load only when used.

``resolvent --help`` must stay fast, so each subcommand lives in its own module and is
imported on first use (the pattern of pip's ``commands/__init__.py``). Every command
reports failures through :func:`resolvent.cli._errors.run`, which turns the project's
error hierarchy into one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys

from resolvent import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, NoReturn

__all__ = ["COMMANDS", "cli", "main", "run"]

#: Collector thresholds for a command's run: the first generation is collected after
#: 500,000 net allocations instead of 700. A warm airflow compile allocates about 220,000
#: tracked objects, nearly all alive until the end; at 200,000 (mypy's figure) its one
#: collection walked them for nothing: 0.94 against 1.00 s of CPU, same peak memory
#: (104 MB; eight interleaved pairs).
GC_THRESHOLDS = (500_000, 30, 30)


def __getattr__(name: str) -> Any:
    """Give ``cli`` (the click group) and ``COMMANDS`` on first use (see :mod:`._group`).

    The package itself does not import click, so that :func:`run` can start a command
    that needs none (see :mod:`resolvent.cli._fast`).
    """
    if name in {"cli", "COMMANDS"}:
        from resolvent.cli import _group  # noqa: PLC0415

        return getattr(_group, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: Sequence[str] | None = None) -> Any:
    """Run the command line in this process; it ends by raising :class:`SystemExit`.

    A command imports a few hundred thousand objects that live until it exits (modules,
    classes, functions), and its own data is mostly acyclic; with the default thresholds
    the cyclic collector scans all of it again and again, 5-7% of a warm resolution's
    CPU time. So what is imported so far is frozen out of collection, and collections
    become rare; they still happen, so a long-running command (``index serve``) does not
    accumulate cyclic garbage.
    """
    from resolvent.cli._group import cli  # noqa: PLC0415 -- see __getattr__

    _tune_collector()
    return cli.main(args=list(argv) if argv is not None else None, prog_name="resolvent")


def _tune_collector() -> None:
    """Freeze what is imported so far out of collection; make collections rare."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run() -> NoReturn:
    """Run the command line as the program (``resolvent``, ``rv``, ``python -m resolvent``).

    As :func:`main`, then the process ends without tearing its heap down (:func:`_exit`).
    A command line that :mod:`resolvent.cli._fast` can run without click (a plain
    ``resolvent venv``, ``pip install``, ``pip compile`` or ``solve``) is run so; any other goes
    through click.
    """
    try:
        from resolvent.cli._fast import fast_command  # noqa: PLC0415

        command = fast_command(sys.argv[1:], os.environ)
        if command is not None:
            _tune_collector()
            try:
                command()
            except (EOFError, KeyboardInterrupt):
                # What click's main does with one outside the command's own handling.
                if sys.stderr is not None:  # click skips a closed stream too
                    sys.stderr.write("\nAborted!\n")
                sys.exit(1)
        else:
            main()
    except SystemExit as done:
        _exit(done.code)
    _exit(0)


def _exit(code: str | int | None) -> NoReturn:
    """End the process with ``code`` as :class:`SystemExit` would, skipping the teardown.

    The interpreter's finalization frees every object one by one: 30 ms of a 0.23 s
    warm trio compile, up to 0.5 s of airflow's. Nothing of ours needs it (files are
    written by atomic rename before a command returns), so, as mypy does, the process
    ends with ``os._exit`` once the streams are flushed and the exit functions have run
    (temporary folders, logging). Where another thread still runs, a stream cannot be
    flushed, or the code is a message, the ordinary exit decides, as it would have.
    """
    threading = sys.modules.get("threading")
    if not isinstance(code, str) and (threading is None or threading.active_count() == 1):
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            sys.exit(code)
        import atexit  # noqa: PLC0415 - only here

        atexit._run_exitfuncs()  # noqa: SLF001 - the exit functions os._exit would skip
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code or 0)
    sys.exit(code)
