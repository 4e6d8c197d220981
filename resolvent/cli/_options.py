"""Options several commands share, defined once so their names and help cannot drift."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["resolution_options", "stacked"]

F = Any  # a click callback being decorated


def stacked(*options: Callable[[F], F]) -> Callable[[F], F]:
    """Return one decorator that applies ``options`` in the order given (top first)."""

    def decorate(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


#: How versions are chosen: ``pip compile`` and ``pip install`` take the same three.
resolution_options = stacked(
    click.option(
        "--resolution",
        type=click.Choice(["highest", "lowest", "lowest-direct"]),
        default="highest",
        show_default=True,
    ),
    click.option(
        "--prerelease",
        type=click.Choice(
            ["disallow", "allow", "if-necessary", "explicit", "if-necessary-or-explicit"]
        ),
        default=None,
        help="Pre-release policy (default: if-necessary-or-explicit).",
    ),
    click.option("--pre", is_flag=True, help="Same as --prerelease allow."),
)
