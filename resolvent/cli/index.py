"""The ``index`` command group: work with package indexes; ``serve`` shares a folder as one.

``resolvent index serve FOLDER`` makes a wheelhouse usable by any installer
(``--index-url URL``) for as long as it runs. The URL goes to stdout as the first line,
so a script can read it; Ctrl+C stops the server and exits 0.
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
    from resolvent.index.serve import IndexServer  # noqa: PLC0415  (keep --help fast)

    server = IndexServer(folder, host=host, port=port)
    try:
        server.bind()
    except OSError as error:
        raise BadInputError(
            f"cannot listen on `{host}:{port}`: {error.strerror or error}"
        ) from error
    click.echo(server.url)
    click.echo(f"Serving `{folder}`; press Ctrl+C to stop.", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        # Stopping the server is how it is meant to end, not an error.
        click.echo("Stopped.", err=True)
