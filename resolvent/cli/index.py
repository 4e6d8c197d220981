"""The ``index`` command group: work with package indexes; ``serve`` shares a folder as one.

``resolvent index serve FOLDER`` makes a wheelhouse usable by any installer
(``--index-url URL``) for as long as it runs. The URL goes to stdout as the first line,
so a script can read it; Ctrl+C (SIGINT) or SIGTERM stops the server and exits 0, even
when the process was started with SIGINT ignored (a background job of a script).
"""

from __future__ import annotations

from pathlib import Path

import click

from resolvent.cli._errors import run
from resolvent.errors import BadInputError

__all__ = ["index"]


@click.group()
def index() -> None:
    """Work with package indexes."""


@index.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
def serve(folder: Path, host: str, port: int) -> None:
    """Serve FOLDER's wheels and sdists as a package index until interrupted."""
    run(lambda: _serve(folder, host, port))


def _serve(folder: Path, host: str, port: int) -> None:
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise BadInputError(f"`{folder}` {what}")
    from resolvent.cli._signals import StopSignals  # noqa: PLC0415  (keep --help fast)
    from resolvent.index.serve import IndexServer  # noqa: PLC0415

    server = IndexServer(folder, host=host, port=port)
    # Signals are taken over before the URL is printed: a script may stop the server as
    # soon as it has read the URL, and must then see the same clean stop as later on.
    with StopSignals() as signals:
        try:
            server.bind()
        except OSError as error:
            raise BadInputError(
                f"cannot listen on `{host}:{port}`: {error.strerror or error}"
            ) from error
        click.echo(server.url)
        click.echo(f"Serving `{folder}`; press Ctrl+C to stop.", err=True)
        # Requests are served from a background thread, so the signal never lands in the
        # middle of serving one; the main thread only waits.
        try:
            server.start()
            signals.wait()
        finally:
            server.stop()
    # Ctrl+C and SIGTERM are how a server is meant to end, not errors: exit 0 for both.
    click.echo("Stopped.", err=True)
