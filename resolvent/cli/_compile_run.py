"""What ``resolvent pip compile`` does once its command line is read, by click or without it.

Both readers (the click command of :mod:`resolvent.cli.pip` and the plain parser of
:mod:`resolvent.cli._fast`) call :func:`compile_command`, so the two cannot differ in
what they do or print. Nothing here imports click unless there is an error to print or
text that click's ``echo`` would change (see :func:`~resolvent.cli._errors.say`):
importing click was a tenth of the instructions of a warm one-package compile
(46 of 460 million).
"""

from __future__ import annotations

import sys
import time

from resolvent import TYPE_CHECKING
from resolvent.cli._errors import echo_out, run, say

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["compile_arguments", "compile_command", "without_cache_dir"]


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
        arguments = without_cache_dir(compile_arguments(sys.argv))
        command = "resolvent pip compile " + " ".join(arguments)
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
            echo_out(result.text)
        if not quiet:
            count = len(result.pinned.pins)
            say(f"Resolved {count} package{'s' * (count != 1)} in {elapsed * 1000:.0f}ms")
            if result.resolution.unfinished_check:
                say(f"note: {result.resolution.unfinished_check}")
            for warning in result.warnings:
                say(f"warning: {warning}")

    run(action)


def compile_arguments(argv: list[str]) -> list[str]:
    """Return the arguments after ``pip compile`` in a command line (for the header).

    Options may come before the command (``resolvent -v pip compile in.txt``), so the
    arguments start after the first ``pip`` ``compile`` pair, not at a fixed position.
    """
    for index in range(1, len(argv) - 1):
        if argv[index] == "pip" and argv[index + 1] == "compile":
            return argv[index + 2 :]
    return argv[3:]


def without_cache_dir(args: list[str]) -> list[str]:
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
