"""What ``resolvent pip install`` (and ``sync``) do once the command line is read.

Both readers of ``pip install`` (the click command of :mod:`resolvent.cli.pip_env` and
the plain parser of :mod:`resolvent.cli._fast`) call :func:`install_command`, so they
cannot differ in what they do or print. Nothing here imports click (see
:func:`~resolvent.cli._errors.say`): a warm install spent 3% of its instructions
importing it.
"""

from __future__ import annotations

import sys

from resolvent import TYPE_CHECKING
from resolvent.cli._errors import run, say

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from resolvent.installer.speculate import Speculation
    from resolvent.installer.venv import Venv
    from resolvent.project.install import InstallReport
    from resolvent.project.resolve import ResolveSettings

__all__ = ["find_target", "install_command", "ms", "plural", "resolve_settings", "run_install"]


def install_command(  # noqa: PLR0917 - one parameter per documented option
    packages: tuple[str, ...],
    requirement_files: tuple[Path, ...],
    editables: tuple[str, ...],
    constraint_files: tuple[Path, ...],
    upgrade_packages: tuple[str, ...],
    override_files: tuple[Path, ...],
    *,
    no_deps: bool,
    upgrade: bool,
    **options: Any,
) -> None:
    """Install packages into an environment (resolve, then link from the cache)."""
    run(
        lambda: run_install(
            options,
            packages=packages,
            requirement_files=requirement_files,
            editables=editables,
            constraint_files=constraint_files,
            no_deps=no_deps,
            upgrade=upgrade,
            upgrade_packages=upgrade_packages,
            override_files=override_files,
        )
    )


def resolve_settings(options: dict[str, Any]) -> ResolveSettings:
    from resolvent.project.resolve import (  # noqa: PLC0415
        ResolveSettings,
        binary_policy,
        parse_exclude_newer,
    )
    from resolvent.target import host_target  # noqa: PLC0415

    return ResolveSettings(
        target=host_target(),  # replaced by the environment's own
        index_url=options["index_url"],
        extra_index_urls=list(options["extra_index_urls"]) or None,
        find_links=list(options["find_links"]) or None,
        no_index=options["no_index"],
        index_strategy=options["index_strategy"],
        exclude_newer=parse_exclude_newer(options["exclude_newer"]),
        offline=options["offline"],
        refresh=options["refresh"],
        cache_dir=options["cache_dir"],
        prerelease="allow" if options.get("pre") else options.get("prerelease"),
        resolution=options.get("resolution") or "highest",
        no_build=(
            True if options.get("no_build_flag") else binary_policy(options.get("only_binary", ()))
        ),
        no_binary=binary_policy(options.get("no_binary", ())),
    )


def find_target(python: str | None, *, system: bool) -> Venv:
    from resolvent.installer.discovery import find_environment  # noqa: PLC0415

    return find_environment(python, system=system)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.2f}s"


def plural(count: int, word: str = "package") -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _render(report: InstallReport, *, quiet: bool, requested_mode: str) -> None:
    for warning in report.warnings:
        say(f"warning: {warning}")
    if quiet:
        return
    if report.note is not None:
        say(report.note)
        return
    timings = report.timings
    say(f"Resolved {plural(report.resolved)} in {ms(timings.get('resolve', 0))}")
    if report.unfinished_check:
        say(f"note: {report.unfinished_check}")
    for warning in report.resolution_warnings:
        say(f"warning: {warning}")
    if report.dry_run:
        _render_dry_run(report)
        return
    if report.prepared:
        say(f"Prepared {plural(report.prepared)} in {ms(timings.get('prepare', 0))}")
    removed = len(report.removed) - sum(
        1 for dist in report.removed if any(i.name == dist.name for i in report.installed)
    )
    if removed:
        say(f"Uninstalled {plural(removed)} in {ms(timings.get('link', 0))}")
    if report.installed:
        say(f"Installed {plural(len(report.installed))} in {ms(timings.get('link', 0))}")
    if not report.installed and not removed:
        say(f"Audited {plural(report.resolved)} in {ms(timings['total'])}")
    if report.link_mode is not None and report.link_mode.value != requested_mode:
        say(f"warning: failed to {requested_mode} files; fell back to {report.link_mode.value}")
    for sign, name, version in report.changes:
        say(f" {sign} {name}=={version}")


def _render_dry_run(report: InstallReport) -> None:
    """Say what the run would have done, in uv's words (``Would install 2 packages``)."""
    if report.prepared:
        say(f"Would download {plural(report.prepared)}")
    removed = sum(1 for sign, *_ in report.changes if sign == "-")
    added = len(report.changes) - removed
    if removed:
        say(f"Would uninstall {plural(removed)}")
    if added:
        say(f"Would install {plural(added)}")
    if not report.changes:
        say("Would make no changes")
    for sign, name, version in report.changes:
        say(f" {sign} {name}=={version}")


def run_install(
    options: dict[str, Any],
    *,
    packages: tuple[str, ...] = (),
    requirement_files: tuple[Path, ...] = (),
    editables: tuple[str, ...] = (),
    constraint_files: tuple[Path, ...] = (),
    exact: bool = False,
    no_deps: bool = False,
    upgrade: bool = False,
    upgrade_packages: tuple[str, ...] = (),
    override_files: tuple[Path, ...] = (),
) -> None:
    from resolvent.installer.discovery import refuse_externally_managed  # noqa: PLC0415

    environment = refuse_externally_managed(
        find_target(options["python"], system=options["system"]),
        break_system_packages=options["break_system_packages"],
    )
    # Forked before the big imports below, so that the helper has their time too.
    speculation = _speculation(
        options,
        environment,
        (
            packages,
            requirement_files,
            editables,
            constraint_files,
            exact,
            no_deps,
            upgrade,
            upgrade_packages,
            override_files,
        ),
    )
    try:
        from resolvent.installer.link import LinkMode  # noqa: PLC0415
        from resolvent.project.install import InstallRequest, install_requirements  # noqa: PLC0415

        quiet = options["quiet"]
        report = install_requirements(
            InstallRequest(
                environment,
                resolve_settings(options),
                packages=packages,
                requirement_files=requirement_files,
                editables=editables,
                constraint_files=constraint_files,
                override_files=override_files,
                exact=exact,
                no_deps=no_deps,
                reinstall=options["reinstall"],
                reinstall_packages=options["reinstall_packages"],
                upgrade=upgrade,
                upgrade_packages=upgrade_packages,
                require_hashes=options["require_hashes"],
                link_mode=LinkMode(options["link_mode"]),
                compile_bytecode=options["compile_bytecode"],
                progress=not quiet and sys.stderr.isatty(),
                dry_run=options["dry_run"],
                allow_empty=options.get("allow_empty_requirements", False),
                speculation=speculation,
            )
        )
    finally:
        if speculation is not None:
            speculation.end()
    _render(report, quiet=quiet, requested_mode=options["link_mode"])


def _speculation(
    options: dict[str, Any], environment: Venv, arguments: tuple[object, ...]
) -> Speculation | None:
    """Start building the trees this command linked last time (see ``speculate``)."""
    if options["dry_run"] or options["link_mode"] != "hardlink":
        return None
    import os  # noqa: PLC0415

    from resolvent.errors import ResolventError  # noqa: PLC0415
    from resolvent.installer.cache import Cache  # noqa: PLC0415
    from resolvent.installer.speculate import Speculation, memo_key  # noqa: PLC0415

    try:
        cache_root = os.fspath(Cache.at(options["cache_dir"]).root)
        root = os.fspath(environment.root)
        # The command, but not where its environment is: the same requirements installed
        # into a new venv elsewhere (a benchmark's, a test runner's) link the same
        # entries; the interpreter's version is in the site-packages path.
        site = os.path.relpath(environment.site_packages, root)
        command = sorted((name, value) for name, value in options.items() if name != "python")
        key = memo_key([command, arguments, os.getcwd(), site])  # noqa: PTH109
    except (ResolventError, OSError, ValueError):  # no cache or working folder: the run says
        return None
    return Speculation.begin(cache_root, key, root)
