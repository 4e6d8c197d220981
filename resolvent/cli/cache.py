"""``resolvent cache dir|clean|prune``: show, empty or tidy the global cache."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from resolvent.cli._errors import run

if TYPE_CHECKING:
    from resolvent.installer.cache import Cache

__all__ = ["cache"]


def _open(cache_dir: Path | None) -> Cache:
    from resolvent.installer.cache import Cache  # noqa: PLC0415

    return Cache.at(cache_dir)


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f}{unit}" if unit != "B" else f"{count}B"
        value /= 1024
    return f"{count}B"  # pragma: no cover - the loop always returns


_CACHE_DIR = click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The cache folder (default: $RESOLVENT_CACHE_DIR, else the XDG cache folder).",
)


@click.group("cache")
def cache() -> None:
    """Manage resolvent's global cache."""


@cache.command("dir")
@_CACHE_DIR
def dir_command(cache_dir: Path | None) -> None:
    """Print the cache folder."""
    run(lambda: click.echo(_open(cache_dir).root))


@cache.command("clean")
@click.argument("packages", nargs=-1)
@_CACHE_DIR
def clean_command(packages: tuple[str, ...], cache_dir: Path | None) -> None:
    """Remove everything in the cache, or only what it holds of PACKAGES."""

    def action() -> None:
        store = _open(cache_dir)
        if not store.root.is_dir():
            click.echo(f"No cache found at: {store.root}", err=True)
            return
        if packages:
            _clean_packages(store, packages)
            return
        store.ensure_is_cache("clean")  # before measuring: a mistyped path may be $HOME
        size = store.size()
        store.clean()
        click.echo(f"Removed {_size(size)} from {store.root}", err=True)

    run(action)


def _clean_packages(store: Cache, packages: tuple[str, ...]) -> None:
    from packaging.utils import InvalidName, canonicalize_name  # noqa: PLC0415

    from resolvent.errors import BadInputError  # noqa: PLC0415
    from resolvent.installer.cache_packages import clean_projects  # noqa: PLC0415

    for name in packages:
        try:
            canonicalize_name(name, validate=True)
        except InvalidName:
            raise BadInputError(f"`{name}` is not a valid project name") from None
    removed = clean_projects(store, packages)
    if removed.files:
        files = f"{removed.files} file{'s' * (removed.files != 1)}"
        click.echo(f"Removed {files} ({_size(removed.bytes)})", err=True)
    else:
        click.echo("No cache entries found", err=True)


@cache.command("prune")
@_CACHE_DIR
def prune_command(cache_dir: Path | None) -> None:
    """Remove unused entries and leftovers of interrupted runs."""

    def action() -> None:
        store = _open(cache_dir)
        if store.root.is_dir():
            store.ensure_is_cache("prune")  # before measuring, as for `clean`
        before = store.size() if store.root.is_dir() else 0
        removed = store.prune()
        after = store.size() if store.root.is_dir() else 0
        click.echo(
            f"Removed {len(removed)} entr{'y' if len(removed) == 1 else 'ies'} "
            f"({_size(max(before - after, 0))})",
            err=True,
        )

    run(action)
