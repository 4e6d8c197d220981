"""One place where errors become a line on stderr and an exit code.

A user never sees a traceback for a :class:`~resolvent.errors.ResolventError`, nor for
the few standard errors that mean bad input at a boundary; ``--verbose`` shows it. An
:class:`OSError` that no layer turned into a resolvent error (a full disk, a file that
vanished under us) still gets one line naming the path: the code that should have caught
it is missing a case, but the user is better served by the system's reason than by a
traceback.
"""

from __future__ import annotations

import os
import sys

from resolvent import TYPE_CHECKING
from resolvent.errors import ResolventError, os_paths, os_reason

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import NoReturn, TypeVar

    T = TypeVar("T")  # result

__all__ = ["clip_quotes", "echo_out", "fail", "os_error_message", "run", "say"]

#: What ``Path.home()`` and ``Path.expanduser()`` raise without a home folder.
_NO_HOME = "Could not determine home directory."


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``.

    click is imported here, not with the module: a command that runs without click
    (``resolvent venv``, see :mod:`resolvent.cli._fast`) loads it only to fail.
    """
    import click  # noqa: PLC0415

    click.echo(f"error: {clip_quotes(message)}", err=True)
    sys.exit(code)


def say(text: str) -> None:
    """Print ``text`` and a newline on stderr, as ``click.echo(text, err=True)`` does.

    For ASCII text without escape sequences click writes exactly that to
    ``sys.stderr`` and flushes (it strips ANSI codes, and re-encodes on a stream
    misconfigured as ASCII, only when the text has them or is not ASCII); any other
    text goes through click itself.
    """
    if text.isascii() and "\x1b" not in text:
        stream = sys.stderr
        if stream is not None:
            stream.write(text + "\n")
            stream.flush()
        return
    import click  # noqa: PLC0415 -- only for text click would change

    click.echo(text, err=True)


def echo_out(text: str) -> None:
    """Print ``text`` on stdout as it is, as ``click.echo(text, nl=False)`` does.

    For ASCII text without escape sequences click writes exactly that to
    ``sys.stdout`` and flushes (see :func:`say`); any other text
    goes through click itself.
    """
    if text.isascii() and "\x1b" not in text:
        stream = sys.stdout
        if stream is not None:
            if text:
                stream.write(text)
            stream.flush()
        return
    import click  # noqa: PLC0415 -- only for text click would change

    click.echo(text, nl=False)


#: Longest quoted input (between backticks) an error message shows whole.
_LONGEST_QUOTE = 200
#: A quoted input; compiled (by ``re``'s cache) only for a message long enough to clip.
_QUOTE = r"`([^`\n]*)`"


def clip_quotes(message: str) -> str:
    """Shorten the quoted inputs of ``message`` that are too long to read on one line.

    Messages quote what the user gave (a requirement line, a version, a URL) between
    backticks; a 200 KB line made a 200 KB error. The start of the quote says which
    input it was; the rest is left out, and the message says so.

    >>> text = clip_quotes("invalid requirement `" + "a" * 300 + "`: expected end")
    >>> len(text), text[-36:]
    (156, 'a...` (300 characters): expected end')
    >>> clip_quotes("refusing `a` because " + "x" * 250 + " then `b`")[-12:]
    'xxx then `b`'
    """
    if len(message) <= _LONGEST_QUOTE:
        return message
    import re  # noqa: PLC0415 -- long messages only: `resolvent venv` imports no re at all

    def clip(match: re.Match[str]) -> str:
        quoted = match.group(1)
        if len(quoted) <= _LONGEST_QUOTE:
            return match.group()
        return f"`{quoted[: _LONGEST_QUOTE // 2]}...` ({len(quoted)} characters)"

    # Quotes pair up from the left: the text between two quotes is not itself a quote.
    return re.sub(_QUOTE, clip, message)


def _verbose() -> bool:
    # Without click loaded there is no context: a command run without click was not
    # given `--verbose` (see `resolvent.cli._fast`).
    click = sys.modules.get("click")
    if click is None:
        return False
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return isinstance(obj, dict) and bool(obj.get("verbose"))


def _print_traceback() -> None:
    if _verbose():
        import traceback  # noqa: PLC0415 - only --verbose needs it; start-up stays lean

        traceback.print_exc()


def os_error_message(error: OSError) -> str:
    """Return one line for ``error``: the system's reason and the path(s) it concerns."""
    reason = os_reason(error)
    paths = [f"`{path}`" for path in os_paths(error)]
    return f"{reason}: {' -> '.join(paths)}" if paths else reason


def _stdout_closed() -> bool:
    """Whether the standard output's reader has gone (a broken pipe there, not elsewhere).

    The write end of a pipe whose reader closed polls as an error (or a hang-up).
    """
    import select  # noqa: PLC0415 - only after a broken pipe

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        events = poller.poll(0)
    except (OSError, ValueError, AttributeError):  # no poll (Windows), no real stdout
        return False
    # Linux reports a pipe without its reader as an error, the BSDs as a hang-up.
    return any(event & (select.POLLERR | select.POLLHUP) for _, event in events)


def run(action: Callable[[], T]) -> T:
    """Call ``action``; turn a resolvent error into a one-line message and exit code."""
    try:
        return action()
    except ResolventError as error:
        _print_traceback()
        fail(str(error), error.exit_code)
    except BrokenPipeError as error:
        if not _stdout_closed():
            _print_traceback()
            fail(os_error_message(error), 1)
        # The reader went away (`resolvent pip tree | head`): nothing to say to it. The
        # standard output is pointed at the null device so that the interpreter's last
        # flush does not fail again, as Python's documentation advises.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    except OSError as error:
        _print_traceback()
        fail(os_error_message(error), 1)
    except RuntimeError as error:
        if str(error) != _NO_HOME:
            raise
        # pathlib's: a `~` it cannot expand. Paths the user gives are expanded through
        # `resolvent.user_home`, which names them, and `Cache.default` handles a process
        # without a home itself; this is a backstop for any `~` expansion that does not
        # go through `resolvent.user_home`.
        _print_traceback()
        fail(
            "cannot find the home folder (`HOME` is not set and the user is unknown, "
            "or `~user` names no user): give absolute paths, and the cache folder "
            "with `--cache-dir` or `RESOLVENT_CACHE_DIR`"
        )
    except KeyboardInterrupt:
        fail("interrupted", 130)
