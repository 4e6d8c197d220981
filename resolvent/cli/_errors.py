"""One place where errors become a line on stderr and an exit code.

A user never sees a traceback for a :class:`~resolvent.errors.ResolventError`, nor for
the few standard errors that mean bad input at a boundary; ``--verbose`` shows it.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn, TypeVar

import click

from resolvent.errors import ResolventError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["fail", "run"]

T = TypeVar("T")  # result


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _verbose() -> bool:
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return isinstance(obj, dict) and bool(obj.get("verbose"))


def run(action: Callable[[], T]) -> T:
    """Call ``action``; turn a resolvent error into a one-line message and exit code."""
    try:
        return action()
    except ResolventError as error:
        if _verbose():
            import traceback  # noqa: PLC0415 - only --verbose needs it; start-up stays lean

            traceback.print_exc()
        fail(str(error), error.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", 130)
