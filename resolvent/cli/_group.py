"""The click group of the command line, ``resolvent``, with its subcommands loaded lazily.

Kept apart from :mod:`resolvent.cli` so that importing the package (the program's entry
point) does not import click: a command that :mod:`resolvent.cli._fast` runs without it
(``resolvent venv``) starts in a fraction of the time.
"""

from __future__ import annotations

import click

from resolvent import __version__
from resolvent.cli._lazy import LazyGroup

__all__ = ["COMMANDS", "cli"]

#: Subcommand name -> "module:attribute" of its click command.
COMMANDS: dict[str, str] = {
    "cache": "resolvent.cli.cache:cache",
    "index": "resolvent.cli.index:index",
    "pip": "resolvent.cli.pip:pip",
    "solve": "resolvent.cli.solve:solve",
    "venv": "resolvent.cli.venv:venv",
}


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="resolvent")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and debug output.")
@click.pass_context
def cli(ctx: click.Context, *, verbose: bool) -> None:
    """Resolve, lock and install Python packages, with a formal resolver."""
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
