"""``resolvent pip ...``: the pip-compatible surface (``compile`` and friends)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from resolvent.cli._errors import run
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
def compile_command(  # noqa: PLR0917 - one parameter per documented option
    src_files: tuple[Path, ...],
    output_file: Path | None,
    constraints: tuple[Path, ...],
    overrides: tuple[Path, ...],
    extras: tuple[str, ...],
    index_url: str | None,
    extra_index_urls: tuple[str, ...],
    find_links: tuple[str, ...],
    index_strategy: str | None,
    resolution: str,
    prerelease: str | None,
    exclude_newer: str | None,
    solver: str,
    python_version: str | None,
    python_platform: str | None,
    no_binary: tuple[str, ...],
    only_binary: tuple[str, ...],
    cache_dir: Path | None,
    upgrade_packages: tuple[str, ...],
    annotation_style: str,
    custom_compile_command: str | None,
    no_emit_packages: tuple[str, ...],
    *,
    no_deps: bool,
    emit_index_url: bool,
    emit_find_links: bool,
    upgrade: bool,
    all_extras: bool,
    no_index: bool,
    pre: bool,
    generate_hashes: bool,
    no_annotate: bool,
    no_header: bool,
    optimal: bool,
    no_build_flag: bool,
    offline: bool,
    refresh: bool,
    quiet: bool,
) -> None:
    """Resolve requirements into pinned `name==version` lines with `# via` annotations."""

    def action() -> None:
        from resolvent.project.compile import CompileRequest, compile_requirements  # noqa: PLC0415
        from resolvent.project.compile_output import write_output  # noqa: PLC0415
        from resolvent.project.resolve import (  # noqa: PLC0415
            ResolveSettings,
            binary_policy,
            parse_exclude_newer,
        )
        from resolvent.target import (  # noqa: PLC0415
            Target,
            host_target,
            parse_platform,
            parse_python_version,
        )

        host = host_target()
        target = Target(
            parse_python_version(python_version) if python_version else host.python_version,
            parse_platform(python_platform) if python_platform else host.platform,
        )
        command = "resolvent pip compile " + " ".join(_without_cache_dir(sys.argv[3:]))
        start = time.perf_counter()
        no_build = True if no_build_flag else binary_policy(only_binary)
        settings = ResolveSettings(
            target=target,
            index_url=index_url,
            extra_index_urls=list(extra_index_urls) or None,
            find_links=list(find_links) or None,
            no_index=no_index,
            index_strategy=index_strategy,
            resolution=resolution,  # type: ignore[arg-type]
            prerelease="allow" if pre else prerelease,  # type: ignore[arg-type]
            exclude_newer=parse_exclude_newer(exclude_newer),
            solver=solver,  # type: ignore[arg-type]
            optimal=optimal,
            no_build=no_build,
            no_binary=binary_policy(no_binary),
            offline=offline,
            refresh=refresh,
            cache_dir=cache_dir,
            clock=time.perf_counter,
        )
        result = compile_requirements(
            CompileRequest(
                inputs=list(src_files),
                output_file=output_file,
                upgrade=upgrade,
                upgrade_packages=upgrade_packages,
                settings=settings,
                constraints=constraints,
                overrides=overrides,
                extras=extras,
                all_extras=all_extras,
                generate_hashes=generate_hashes,
                annotate=not no_annotate,
                annotation_style=annotation_style,  # type: ignore[arg-type]
                header=not no_header,
                command=custom_compile_command or command.strip(),
                no_emit=no_emit_packages,
                no_deps=no_deps,
                emit_index_url=emit_index_url,
                emit_find_links=emit_find_links,
            )
        )
        elapsed = time.perf_counter() - start
        if output_file is not None:
            write_output(output_file, result.text)
        else:
            click.echo(result.text, nl=False)
        if not quiet:
            count = len(result.pinned.pins)
            click.echo(
                f"Resolved {count} package{'s' * (count != 1)} in {elapsed * 1000:.0f}ms", err=True
            )
            if result.resolution.unfinished_check:
                click.echo(f"note: {result.resolution.unfinished_check}", err=True)
            for warning in result.warnings:
                click.echo(f"warning: {warning}", err=True)

    run(action)


def _without_cache_dir(args: list[str]) -> list[str]:
    """Return the command-line arguments without ``--cache-dir`` and its value.

    The cache directory is a property of the machine, not of the resolution: the
    header of a lock file written on two machines should read the same (uv omits it too).
    User names and passwords in URLs are left out as well.
    """
    from resolvent.index.config import without_credentials  # noqa: PLC0415

    args = [without_credentials(arg) for arg in args]
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--cache-dir":
            skip = True
        elif not arg.startswith("--cache-dir="):
            kept.append(arg)
    return kept
