"""``resolvent pip ...``: the pip-compatible surface (``compile`` and friends).

A plain ``pip compile`` command line is usually read without click (see
:mod:`resolvent.cli._fast`, which must know every option of :func:`compile_command`);
this click command reads the rest, answers ``--help`` and words the errors. Both run
:func:`resolvent.cli._compile_run.compile_command`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from resolvent.cli._compile_run import compile_command as run_compile_command
from resolvent.cli._lazy import LazyGroup
from resolvent.cli._options import resolution_options

__all__ = ["PIP_COMMANDS", "compile_command", "pip"]


#: The pip-compatible subcommands, each imported only when used.
PIP_COMMANDS: dict[str, str] = {
    "check": "resolvent.cli.pip_env:check_command",
    "compile": "resolvent.cli.pip:compile_command",
    "freeze": "resolvent.cli.pip_env:freeze_command",
    "install": "resolvent.cli.pip_env:install_command",
    "list": "resolvent.cli.pip_env:list_command",
    "show": "resolvent.cli.pip_env:show_command",
    "sync": "resolvent.cli.pip_env:sync_command",
    "tree": "resolvent.cli.pip_env:tree_command",
    "uninstall": "resolvent.cli.pip_env:uninstall_command",
    "verify": "resolvent.cli.pip_env:verify_command",
}


@click.group(cls=LazyGroup, lazy_commands=PIP_COMMANDS)
def pip() -> None:
    """Pip-compatible commands: compile, install, sync, uninstall, list, check, verify."""


@click.command("compile")
@click.argument("src_files", nargs=-1, type=click.Path(path_type=Path))
@click.option("-o", "--output-file", type=click.Path(path_type=Path), help="Write the pins here.")
@click.option("-c", "--constraint", "constraints", multiple=True, type=click.Path(path_type=Path))
@click.option("--override", "overrides", multiple=True, type=click.Path(path_type=Path))
@click.option("--extra", "extras", multiple=True, help="Include an optional-dependency group.")
@click.option("--all-extras", is_flag=True, help="Include every optional-dependency group.")
@click.option("-i", "--index-url", default=None, help="The package index (PEP 503/691).")
@click.option("--extra-index-url", "extra_index_urls", multiple=True, help="More indexes.")
@click.option("-f", "--find-links", "find_links", multiple=True, help="Folders or pages of dists.")
@click.option("--no-index", is_flag=True, help="Ignore indexes; use --find-links only.")
@click.option(
    "--index-strategy",
    type=click.Choice(["first-index", "unsafe-best-match"]),
    default=None,
    help="How several indexes combine (default: first-index, as uv).",
)
@resolution_options
@click.option(
    "-U", "--upgrade", is_flag=True, help="Do not prefer the pins of the existing output file."
)
@click.option(
    "-P",
    "--upgrade-package",
    "upgrade_packages",
    multiple=True,
    help="Do not prefer the existing pin of this package.",
)
@click.option("--exclude-newer", default=None, help="Ignore files uploaded after this date.")
@click.option("--generate-hashes", is_flag=True, help="Add --hash lines for every file.")
@click.option("--no-annotate", is_flag=True, help="Leave out the `# via` comments.")
@click.option(
    "--annotation-style",
    type=click.Choice(["split", "line"]),
    default="split",
    show_default=True,
    help="`# via` on lines of their own, or after the pin.",
)
@click.option("--no-header", is_flag=True, help="Leave out the header comment.")
@click.option(
    "--custom-compile-command",
    envvar="RESOLVENT_CUSTOM_COMPILE_COMMAND",
    default=None,
    help="The command the header names (default: this one).",
)
@click.option(
    "--no-emit-package",
    "no_emit_packages",
    multiple=True,
    help="Leave this package's pin out of the output (its dependencies stay).",
)
@click.option("--no-deps", is_flag=True, help="Pin the inputs alone, not their dependencies.")
@click.option("--emit-index-url", is_flag=True, help="Write the index URLs into the output.")
@click.option("--emit-find-links", is_flag=True, help="Write the find-links into the output.")
@click.option(
    "--solver",
    type=click.Choice(["auto", "pubgrub", "sat", "both"]),
    default="auto",
    show_default=True,
)
@click.option("--optimal", is_flag=True, help="SAT engine: solve the MaxSAT objective.")
@click.option("--python-version", default=None, help="Resolve for this Python (e.g. 3.11).")
@click.option("--python-platform", default=None, help="Resolve for this platform (uv's names).")
@click.option("--no-build", "no_build_flag", is_flag=True, help="Never build sdists.")
@click.option("--no-binary", "no_binary", multiple=True, help="Never use wheels (:all: or names).")
@click.option("--only-binary", "only_binary", multiple=True, help="Never build (:all: or names).")
@click.option("--offline", is_flag=True, help="Use only the cache.")
@click.option("--refresh", is_flag=True, help="Ignore cached responses.")
@click.option("--cache-dir", type=click.Path(path_type=Path), default=None)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but the pins (or errors).")
def compile_command(**params: Any) -> None:
    """Resolve requirements into pinned `name==version` lines with `# via` annotations."""
    # click passes every parameter by name: the shared function names them once.
    run_compile_command(**params)
