"""``resolvent pip install|uninstall|sync|list|freeze|show|check|verify``: pip's environment verbs.

Each command picks its environment as uv does (``--python``, ``--system``, the active
``VIRTUAL_ENV``, else ``./.venv``), calls one library function and renders the result;
progress and summaries go to stderr, data (``list``, ``freeze``, ``show``) to stdout.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from resolvent.cli._errors import fail, run
from resolvent.cli._install_run import (
    find_target,
    ms,
    plural,
    resolve_settings,
    run_install,
)
from resolvent.cli._install_run import install_command as run_install_command
from resolvent.cli._options import resolution_options, stacked

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from packaging.requirements import Requirement

    from resolvent.installer.site import InstalledDist, SitePackages
    from resolvent.installer.venv import Venv
    from resolvent.project.resolve import ResolveSettings

__all__ = [
    "check_command",
    "freeze_command",
    "install_command",
    "list_command",
    "show_command",
    "sync_command",
    "tree_command",
    "uninstall_command",
    "verify_command",
]

F = Any  # a click callback being decorated


def _target_options(function: F) -> F:
    function = click.option(
        "--system", is_flag=True, help="Use the first `python3` on PATH, even outside a venv."
    )(function)
    return click.option(
        "-p",
        "--python",
        "python",
        default=None,
        help="The environment's interpreter or venv folder, or a version like 3.12.",
    )(function)


_SOURCE_OPTIONS = [
    click.option("-i", "--index-url", default=None, help="The package index (PEP 503/691)."),
    click.option("--extra-index-url", "extra_index_urls", multiple=True, help="More indexes."),
    click.option(
        "-f", "--find-links", "find_links", multiple=True, help="Folders or pages of dists."
    ),
    click.option("--no-index", is_flag=True, help="Ignore indexes; use --find-links only."),
    click.option(
        "--index-strategy",
        type=click.Choice(["first-index", "unsafe-best-match"]),
        default=None,
        help="How several indexes combine (default: first-index, as uv).",
    ),
    click.option("--exclude-newer", default=None, help="Ignore files uploaded after this."),
    click.option("--offline", is_flag=True, help="Use only the cache; never the network."),
    click.option("--refresh", is_flag=True, help="Revalidate every cached index response."),
    click.option("--cache-dir", type=click.Path(path_type=Path), default=None),
]


#: The options that say where packages come from (indexes, links, cache).
_source_options = stacked(*_SOURCE_OPTIONS)


#: What ``install`` and ``sync`` take beyond the environment: sources and how to install.
_index_options = stacked(
    _target_options,
    *_SOURCE_OPTIONS,
    click.option("--no-build", "no_build_flag", is_flag=True, help="Never build sdists."),
    click.option(
        "--only-binary", "only_binary", multiple=True, help="Never build (:all: or names)."
    ),
    click.option(
        "--no-binary", "no_binary", multiple=True, help="Never use wheels (:all: or names)."
    ),
    click.option(
        "--link-mode",
        type=click.Choice(["hardlink", "reflink", "symlink", "copy"]),
        default="hardlink",
        show_default=True,
        help="How files are placed from the cache.",
    ),
    click.option("--compile-bytecode", is_flag=True, help="Compile installed files to bytecode."),
    click.option("--reinstall", is_flag=True, help="Reinstall every package, even if present."),
    click.option(
        "--reinstall-package",
        "reinstall_packages",
        multiple=True,
        help="Reinstall this package, even if present.",
    ),
    click.option(
        "--require-hashes", is_flag=True, help="Require a matching --hash for every package."
    ),
    click.option(
        "--dry-run", is_flag=True, help="Resolve and say what would change; change nothing."
    ),
    click.option("-q", "--quiet", is_flag=True, help="Print only errors."),
)


_break_system_option = click.option(
    "--break-system-packages",
    is_flag=True,
    help="Change an interpreter its distribution manages (PEP 668) all the same.",
)


@click.command("install")
@click.argument("packages", nargs=-1)
@click.option(
    "-r", "--requirement", "requirement_files", multiple=True, type=click.Path(path_type=Path)
)
@click.option("-e", "--editable", "editables", multiple=True, help="A project folder, editable.")
@click.option(
    "-c", "--constraint", "constraint_files", multiple=True, type=click.Path(path_type=Path)
)
@click.option("--no-deps", is_flag=True, help="Install the packages without their dependencies.")
@click.option("-U", "--upgrade", is_flag=True, help="Do not prefer installed versions.")
@click.option(
    "-P",
    "--upgrade-package",
    "upgrade_packages",
    multiple=True,
    help="Do not prefer the installed version of this package.",
)
@click.option("--override", "override_files", multiple=True, type=click.Path(path_type=Path))
@resolution_options
@_index_options
@_break_system_option
def install_command(**params: Any) -> None:
    """Install packages into an environment (resolve, then link from the cache)."""
    # click passes every parameter by name: the shared function names them once.
    run_install_command(**params)


@click.command("sync")
@click.argument("src_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--pre", is_flag=True, help="Allow pre-releases.")
@click.option(
    "--allow-empty-requirements",
    is_flag=True,
    help="Let requirements that name nothing clear the environment.",
)
@_index_options
@_break_system_option
def sync_command(src_files: tuple[Path, ...], **options: Any) -> None:
    """Make an environment hold exactly the packages of requirements files."""
    run(lambda: run_install(options, requirement_files=src_files, exact=True))


@click.command("uninstall")
@click.argument("packages", nargs=-1)
@click.option(
    "-r", "--requirement", "requirement_files", multiple=True, type=click.Path(path_type=Path)
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@_target_options
@_break_system_option
def uninstall_command(
    packages: tuple[str, ...],
    requirement_files: tuple[Path, ...],
    python: str | None,
    *,
    system: bool,
    quiet: bool,
    dry_run: bool,
    break_system_packages: bool,
) -> None:
    """Remove packages from an environment."""

    def action() -> None:
        from resolvent.errors import BadInputError  # noqa: PLC0415
        from resolvent.installer.discovery import refuse_externally_managed  # noqa: PLC0415
        from resolvent.project.inputs import read_listed  # noqa: PLC0415
        from resolvent.project.install import uninstall_packages  # noqa: PLC0415

        names = [_uninstall_name(package) for package in packages]
        for path in requirement_files:
            names.extend(line.requirement.name for line in read_listed(path, "packages"))
        if not names:
            raise BadInputError("no packages given", hint="name packages, or pass `-r FILE`")
        environment = refuse_externally_managed(
            find_target(python, system=system), break_system_packages=break_system_packages
        )
        started = time.perf_counter()
        notes: list[str] = []
        removed, missing = uninstall_packages(environment, names, dry_run=dry_run, warnings=notes)
        for note in notes:
            click.echo(f"warning: {note}", err=True)
        for name in missing:
            click.echo(f"warning: skipping `{name}`: it is not installed", err=True)
        if quiet:
            return
        if dry_run:
            click.echo(f"Would uninstall {plural(len(removed))}", err=True)
            for dist in removed:
                click.echo(f" - {dist.name}=={dist.version}", err=True)
            return
        elapsed = time.perf_counter() - started
        click.echo(f"Uninstalled {plural(len(removed))} in {ms(elapsed)}", err=True)
        for dist in removed:
            click.echo(f" - {dist.name}=={dist.version}", err=True)

    run(action)


def _uninstall_name(package: str) -> str:
    """Return the project a ``pip uninstall`` argument names.

    pip and uv take requirements there (``demo==1.0``, ``demo[extra]``) and remove the
    installed project of that name, whatever its version; a bare name is the usual case.
    """
    from packaging.requirements import InvalidRequirement  # noqa: PLC0415

    from resolvent.errors import BadInputError  # noqa: PLC0415
    from resolvent.requirement_parsing import parse_requirement  # noqa: PLC0415

    try:
        return parse_requirement(package).name
    except InvalidRequirement as error:
        first = str(error).splitlines()[0]
        raise BadInputError(f"invalid package `{package}`: {first}") from None


def _site(python: str | None, *, system: bool) -> tuple[Venv, SitePackages]:
    from resolvent.installer.site import SitePackages  # noqa: PLC0415

    environment = find_target(python, system=system)
    return environment, SitePackages.scan([environment.site_packages, environment.platlib])


def _warn_duplicates(site: SitePackages, names: Iterable[str] | None = None) -> None:
    """Warn of each project (of ``names``, else any) installed more than once.

    Such an environment is broken: which copy Python imports depends on the order
    the file system lists them. ``list``, ``freeze`` and ``show`` print every copy, as
    uv does, and say so on stderr (uv says it with ``--strict``; pip shows one copy and
    says nothing).
    """
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    from resolvent.installer.site import duplicate_message  # noqa: PLC0415

    wanted = None if names is None else {canonicalize_name(name) for name in names}
    for name, dists in site.duplicated().items():
        if wanted is None or name in wanted:
            click.echo(f"warning: {duplicate_message(name, dists)}", err=True)


def _freeze_line(dist: Any) -> str:
    editable = dist.editable_location()
    if editable is not None:
        return f"-e {editable}"
    direct = dist.direct_url()
    name = dist.display_name()
    if direct is not None and isinstance(direct.get("url"), str):
        return f"{name} @ {direct['url']}"
    return f"{name}=={dist.version}"


def _listed(
    dists: Iterable[Any], *, editable: bool, exclude_editable: bool, exclude: tuple[str, ...]
) -> list[Any]:
    """Return the installed distributions ``list`` and ``freeze`` show, as uv filters them."""
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    left_out = {canonicalize_name(name) for name in exclude}
    return [
        dist
        for dist in dists
        if dist.name not in left_out
        and (dist.editable_location() is not None or not editable)
        and (dist.editable_location() is None or not exclude_editable)
    ]


_EDITABLE_OPTIONS = (
    click.option("-e", "--editable", is_flag=True, help="Only the editable packages."),
    click.option("--exclude-editable", is_flag=True, help="Leave out the editable packages."),
    click.option("--exclude", multiple=True, help="Leave out this package."),
)


_editable_options = stacked(*_EDITABLE_OPTIONS)


@click.command("list")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["columns", "freeze", "json"]),
    default="columns",
    show_default=True,
)
@click.option("--outdated", is_flag=True, help="Only packages with a newer release.")
@_editable_options
@_source_options
@_target_options
def list_command(
    output_format: str,
    exclude: tuple[str, ...],
    python: str | None,
    *,
    system: bool,
    editable: bool,
    exclude_editable: bool,
    outdated: bool,
    **options: Any,
) -> None:
    """List the installed packages."""

    def action() -> None:
        environment, site = _site(python, system=system)
        dists = _listed(
            site.all_dists(), editable=editable, exclude_editable=exclude_editable, exclude=exclude
        )
        _warn_duplicates(site, [dist.name for dist in dists])
        if outdated:
            _list_outdated(environment, dists, resolve_settings(options), output_format)
        elif output_format == "json":
            rows = []
            for dist in dists:
                row = {"name": dist.display_name(), "version": str(dist.version)}
                location = dist.editable_location()
                if location is not None:
                    row["editable_project_location"] = location
                rows.append(row)
            click.echo(json.dumps(rows))
        elif output_format == "freeze":
            for dist in dists:
                click.echo(f"{dist.display_name()}=={dist.version}")
        else:
            _print_columns(dists)

    run(action)


def _list_outdated(
    environment: Venv, dists: Sequence[Any], settings: ResolveSettings, output_format: str
) -> None:
    """Print the listed packages that have a newer release, with it (uv's columns)."""
    from resolvent.project.outdated import outdated_packages  # noqa: PLC0415

    found = outdated_packages(environment, dists, settings)
    if output_format == "json":
        rows = [
            {
                "name": o.name,
                "version": str(o.version),
                "latest_version": str(o.latest),
                "latest_filetype": o.filetype,
            }
            for o in found
        ]
        click.echo(json.dumps(rows))
    elif output_format == "freeze":
        for item in found:
            click.echo(f"{item.name}=={item.version}")
    else:
        table = [["Package", "Version", "Latest", "Type"]]
        table += [[o.name, str(o.version), str(o.latest), o.filetype] for o in found]
        _print_table(table)


def _print_columns(dists: Sequence[Any]) -> None:
    """Print the table uv prints: a location column when some package is editable."""
    header = ["Package", "Version"]
    rows = [
        [dist.display_name(), str(dist.version), dist.editable_location() or ""] for dist in dists
    ]
    if any(row[2] for row in rows):
        header.append("Editable project location")
    _print_table([header] + [row[: len(header)] for row in rows])


def _print_table(table: Sequence[Sequence[str]]) -> None:
    """Print rows in aligned columns, a dashed line under the first (the header)."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for number, row in enumerate(table):
        cells = zip(row, widths, strict=True)
        click.echo(" ".join(f"{cell:<{width}}" for cell, width in cells).rstrip())
        if number == 0:
            click.echo(" ".join("-" * width for width in widths))


@click.command("freeze")
@click.option("--exclude-editable", is_flag=True, help="Leave out the editable packages.")
@_target_options
def freeze_command(python: str | None, *, system: bool, exclude_editable: bool) -> None:
    """Print the installed packages as requirements (`name==version`)."""

    def action() -> None:
        _, site = _site(python, system=system)
        dists = _listed(
            site.all_dists(), editable=False, exclude_editable=exclude_editable, exclude=()
        )
        _warn_duplicates(site, [dist.name for dist in dists])
        for dist in dists:
            click.echo(_freeze_line(dist))

    run(action)


@click.command("show")
@click.argument("packages", nargs=-1, required=True)
@click.option("-f", "--files", "show_files", is_flag=True, help="List each package's files.")
@_target_options
def show_command(
    packages: tuple[str, ...], python: str | None, *, system: bool, show_files: bool
) -> None:
    """Show details of installed packages."""

    def action() -> None:
        from packaging.utils import canonicalize_name  # noqa: PLC0415

        environment, site = _site(python, system=system)
        applies = _marker_filter(environment)
        required_by: dict[str, set[str]] = {}
        for other in site:
            for requirement in other.metadata().requires_dist:
                if applies(requirement):
                    required_by.setdefault(canonicalize_name(requirement.name), set()).add(
                        other.display_name()
                    )
        missing = []
        first = True
        _warn_duplicates(site, packages)
        asked = {canonicalize_name(package): package for package in reversed(packages)}
        for package in dict.fromkeys(canonicalize_name(package) for package in packages):
            found = site.all(package)
            if not found:
                missing.append(asked[package])  # as the user spelled it
            for dist in found:  # every copy of a project installed twice, as uv shows them
                if not first:
                    click.echo("---")
                first = False
                _show_one(dist, applies, required_by, show_files=show_files)
        if missing:
            fail(f"package(s) not found: {', '.join(missing)}", 1)

    run(action)


def _marker_filter(environment: Venv) -> Callable[[Requirement], bool]:
    """Return whether a requirement applies in ``environment`` with no extra (pip and uv).

    The environment's markers are only asked for (a subprocess, or the cache) when a
    requirement has a marker; most have none.
    """
    from resolvent.markers import requirement_applies  # noqa: PLC0415

    markers: dict[str, str] = {}

    def applies(requirement: Requirement) -> bool:
        if requirement.marker is None:
            return True
        if not markers:
            from resolvent.project.install import environment_target  # noqa: PLC0415

            markers.update(environment_target(environment).markers(), extra="")
        return requirement_applies(requirement, markers)

    return applies


def _show_one(
    dist: InstalledDist,
    applies: Callable[[Requirement], bool],
    required_by: dict[str, set[str]],
    *,
    show_files: bool,
) -> None:
    """Print what ``show`` says of one installed distribution."""
    meta = dist.metadata()
    requires = sorted({str(r.name) for r in meta.requires_dist if applies(r)}, key=str.lower)
    click.echo(f"Name: {dist.display_name()}")
    click.echo(f"Version: {dist.version}")
    click.echo(f"Location: {dist.location}")
    editable = dist.editable_location()
    if editable is not None:
        click.echo(f"Editable project location: {editable}")
    click.echo(f"Requires: {', '.join(requires)}")
    users = sorted(required_by.get(dist.name, set()) - {dist.display_name()}, key=str.lower)
    click.echo(f"Required-by: {', '.join(users)}")
    click.echo(f"Installer: {dist.installer() or ''}")
    if show_files:
        _show_files(dist)


def _show_files(dist: InstalledDist) -> None:
    """Print the files RECORD (or ``installed-files.txt``) lists, else say on stderr why not.

    An unreadable or malformed RECORD printed an empty list, as if the package had no
    files; ``show`` still answers (exit 0), as pip's does without a file list.
    """
    click.echo("Files:")
    paths, unusable = dist.listed_files()
    if unusable is not None:
        click.echo(f"warning: cannot list the files of `{dist.name}`: {unusable}", err=True)
    for path in paths:
        click.echo(f"  {path}")


@click.command("check")
@_target_options
def check_command(python: str | None, *, system: bool) -> None:
    """Check that every installed package's requirements are installed."""

    def action() -> None:
        from resolvent.installer.site import check_requirements  # noqa: PLC0415
        from resolvent.project.install import environment_target  # noqa: PLC0415

        environment, site = _site(python, system=system)
        problems = check_requirements(site, environment_target(environment).markers())
        for problem in problems:
            click.echo(str(problem))
        if problems:
            sys.exit(1)
        click.echo(f"Checked {plural(len(site))}: no broken requirements found.")

    run(action)


@click.command("tree")
@click.option("-d", "--depth", type=click.IntRange(min=0), default=None, help="Levels to draw.")
@click.option("--prune", multiple=True, help="Leave this package (and its subtree) out.")
@click.option("--package", "packages", multiple=True, help="Draw only this package's tree.")
@click.option("--invert", is_flag=True, help="Draw who requires each package.")
@click.option("--no-dedupe", is_flag=True, help="Draw repeated subtrees in full.")
@click.option("--show-version-specifiers", is_flag=True, help="Show each edge's version specifier.")
@_target_options
def tree_command(
    depth: int | None,
    prune: tuple[str, ...],
    packages: tuple[str, ...],
    python: str | None,
    *,
    system: bool,
    invert: bool,
    no_dedupe: bool,
    show_version_specifiers: bool,
) -> None:
    """Show the installed packages as a dependency tree."""

    def action() -> None:
        from packaging.utils import canonicalize_name  # noqa: PLC0415

        from resolvent.project.install import environment_target  # noqa: PLC0415
        from resolvent.project.tree import TreeOptions, render_tree  # noqa: PLC0415

        environment, site = _site(python, system=system)
        options = TreeOptions(
            depth=depth,
            prune=frozenset(canonicalize_name(name) for name in prune),
            packages=frozenset(canonicalize_name(name) for name in packages),
            invert=invert,
            dedupe=not no_dedupe,
            show_specifiers=show_version_specifiers,
        )
        for line in render_tree(site, environment_target(environment).markers(), options):
            click.echo(line)

    run(action)


@click.command("verify")
@_target_options
def verify_command(python: str | None, *, system: bool) -> None:
    """Check every installed file against its RECORD (modified, missing, unrecorded, bad-record)."""

    def action() -> None:
        import os  # noqa: PLC0415

        from resolvent.installer.site import verify_environment  # noqa: PLC0415

        environment, site = _site(python, system=system)
        report = verify_environment(site, scripts=environment.scripts)
        for problem in report.problems:
            shown = os.path.relpath(problem.path, environment.root)
            owner = f" ({problem.owner})" if problem.owner else ""
            detail = f": {problem.detail}" if problem.detail else ""
            click.echo(f"{problem.kind}: {shown}{owner}{detail}")
        for folder in site.broken:
            click.echo(f"incomplete: {os.path.relpath(folder, environment.root)}")
        summary = f"Verified {plural(report.distributions)} and {plural(report.files, 'file')}"
        if report.ok and not site.broken:
            click.echo(f"{summary}: everything matches its RECORD", err=True)
            return
        count = len(report.problems) + len(site.broken)
        click.echo(f"{summary}: {plural(count, 'problem')}", err=True)
        sys.exit(1)

    run(action)
