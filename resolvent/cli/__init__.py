"""The command line: a thin click layer whose subcommands load only when used.

``resolvent --help`` must stay fast, so each subcommand lives in its own module and is
imported on first use (the pattern of pip's ``commands/__init__.py``). Every command
reports failures through :func:`resolvent.cli._errors.run`, which turns the project's
error hierarchy into one line on stderr and a non-zero exit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from resolvent import __version__
from resolvent.cli._lazy import LazyGroup

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["COMMANDS", "main"]

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


def main(argv: Sequence[str] | None = None) -> Any:
    """Run the command line (the ``resolvent`` and ``rv`` console scripts)."""
    return cli.main(args=list(argv) if argv is not None else None, prog_name="resolvent")
